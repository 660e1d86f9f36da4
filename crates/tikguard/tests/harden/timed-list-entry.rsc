# 2025-06-02 10:00:00 by RouterOS 7.16.2
# The NOC accept reads list noc: a lasting entry, and a contractor's entry with a one-day timeout
# (MikroTik's Address-lists manual: removed from the list once its timeout passes).
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip address
add address=203.0.113.2/30 interface=ether1
add address=192.168.88.1/24 interface=ether2
/ip firewall address-list
add address=100.64.10.0/24 list=noc
add address=198.18.0.7 list=noc timeout=1d comment="contractor, one day"
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input dst-port=8291,22 protocol=tcp src-address-list=noc comment=NOC
add action=accept chain=input in-interface=ether2
add action=drop chain=input
/ip route
add gateway=203.0.113.1
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
set api-ssl certificate=none
/system identity
set name=edge-05
