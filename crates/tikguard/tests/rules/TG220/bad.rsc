# 2024-01-01 00:00:00 by RouterOS 7.16
/interface gre
add name=gre-noc remote-address=198.51.100.9
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip address
add address=10.255.0.1/30 interface=gre-noc
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input in-interface=gre-noc
add action=drop chain=input
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
