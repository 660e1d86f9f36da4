# 2025-06-02 10:00:00 by RouterOS 7.16.2
# Services limited to allow-lists the operator built over years, and a firewall accept for a
# NOC range: everything on them reaches winbox, ssh and the API today.
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip address
add address=203.0.113.2/30 interface=ether1
add address=192.168.88.1/24 interface=ether2
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input dst-port=8291,22 protocol=tcp src-address=100.64.10.0/24 comment=NOC
add action=accept chain=input in-interface=ether2
add action=drop chain=input
/ip route
add gateway=203.0.113.1
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
set winbox address=10.1.0.0/24,10.2.0.0/24,10.3.0.0/24,10.4.0.0/24,10.5.0.0/24,10.6.0.0/24,10.7.0.0/24,10.8.0.0/24,192.168.88.0/24,172.16.1.0/24,172.16.2.0/24,172.16.3.0/24,172.16.4.0/24,100.64.10.0/24,198.51.100.0/28
set ssh address=192.168.88.0/24,100.64.10.0/24
set api address=192.168.88.0/24,198.51.100.0/28
set api-ssl certificate=none
/system identity
set name=edge-04
