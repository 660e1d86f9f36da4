# 2025-06-02 10:00:00 by RouterOS 7.16.2
# WebFig (www) is opened to an intranet range by a firewall accept, FTP is reached through a
# port forward that redirects to the router, and the bandwidth-test server has its own accept:
# the operator uses all three today.
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip address
add address=203.0.113.2/30 interface=ether1
add address=192.168.88.1/24 interface=ether2
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input comment="intranet WebFig" dst-port=80 protocol=tcp src-address=10.20.0.0/16
add action=accept chain=input comment="btest for the NOC" dst-port=2000 protocol=tcp src-address=100.64.10.0/24
add action=accept chain=input in-interface=ether2
add action=drop chain=input
/ip firewall nat
add action=redirect chain=dstnat comment="ftp drop box" dst-port=2121 in-interface=ether1 protocol=tcp to-ports=21
/ip route
add gateway=203.0.113.1
/ip service
set telnet disabled=yes
set api-ssl certificate=none
/system identity
set name=edge-06
