# 2025-01-10 12:00:00 by RouterOS 7.18.2
/interface list add name=WAN
/interface list add name=LAN
/interface list member add interface=ether1 list=WAN
/interface list member add interface=bridge list=LAN
/ip firewall filter add action=drop chain=input in-interface-list=WAN
# The WAN has a global IPv6 address (DHCPv6 from the ISP): reachable over IPv6 from anywhere.
/ipv6 dhcp-client add interface=ether1 request=address,prefix pool-name=isp
