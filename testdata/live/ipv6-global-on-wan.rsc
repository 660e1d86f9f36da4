# 2025-01-01 00:00:00 by RouterOS 7.18
# A global IPv6 address on the WAN and no IPv6 filter: every service is reachable from the
# IPv6 internet. Read live, this needs /ipv6/address.
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip address
add address=192.0.2.2/30 interface=ether1
/ipv6 address
add address=2001:db8:1::2/64 advertise=no interface=ether1
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=drop chain=input in-interface-list=WAN
