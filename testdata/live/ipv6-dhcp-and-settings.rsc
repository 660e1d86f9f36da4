# 2025-01-01 00:00:00 by RouterOS 7.18
# A WAN that takes its IPv6 prefix by DHCPv6 and no router advertisements: global all the
# same. Read live, this needs /ipv6/dhcp-client and /ipv6/settings.
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ipv6 settings
set accept-router-advertisements=no
/ipv6 dhcp-client
add interface=ether1 pool-name=wan6 request=prefix
/ip firewall filter
add action=drop chain=input in-interface-list=WAN
