# 2025-06-02 10:00:00 by RouterOS 7.16.2
# Connection tracking turned off: every `connection-state=` matcher is inert.
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip address
add address=203.0.113.2/30 interface=ether1
add address=192.168.88.1/24 interface=ether2
/ip firewall connection tracking
set enabled=no
/ip firewall filter
add action=accept chain=input protocol=icmp
add action=accept chain=input in-interface=ether2
add action=drop chain=input in-interface=ether1
/ip route
add gateway=203.0.113.1
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
set api-ssl certificate=none
/system identity
set name=edge-03
