# 2025-01-10 12:00:00 by RouterOS 7.18.2
/interface list add name=WAN
/interface list add name=LAN
/interface list member add interface=ether1 list=WAN
/interface list member add interface=bridge list=LAN
/ip firewall filter
add action=drop chain=input src-address-list=api-blacklist
add action=add-src-to-address-list address-list=api-blacklist address-list-timeout=1d chain=input connection-state=new dst-port=8729 protocol=tcp src-address-list=api-stage1
add action=add-src-to-address-list address-list=api-stage1 address-list-timeout=1m chain=input connection-state=new dst-port=8729 protocol=tcp
add action=accept chain=input dst-port=8729 protocol=tcp
add action=drop chain=input in-interface-list=WAN
/ipv6 firewall filter add action=drop chain=input in-interface-list=!LAN
