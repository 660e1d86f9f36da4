# 2025-01-10 12:00:00 by RouterOS 7.18.2
/interface list add name=WAN
/interface list member add interface=ether1 list=WAN
/ip address add address=192.168.88.1/24 interface=ether2
/ip dhcp-client add interface=ether1
/ip firewall filter add action=accept chain=input connection-state=established,related
/ip firewall filter add action=drop chain=input in-interface-list=WAN
/ip firewall nat add action=masquerade chain=srcnat out-interface-list=WAN
/ip firewall nat add action=dst-nat chain=dstnat dst-port=9999 in-interface-list=WAN protocol=tcp to-addresses=192.168.88.10 to-ports=8291
