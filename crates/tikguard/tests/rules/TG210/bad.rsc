# 2025-01-10 12:00:00 by RouterOS 7.18.2
/interface list add name=WAN
/interface list add name=LAN
/interface list member add interface=ether1 list=WAN
/interface list member add interface=bridge list=LAN
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=jump chain=input jump-target=mgmt in-interface-list=WAN
add action=accept chain=mgmt protocol=tcp dst-port=22 src-address=192.0.2.10
add action=jump chain=mgmt jump-target=input protocol=tcp
add action=drop chain=input in-interface-list=!LAN
