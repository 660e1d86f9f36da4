# 2025-01-10 12:00:00 by RouterOS 7.18.2
# The firewall keeps the WAN away, but winbox itself takes any source: the second line of
# defence is missing.
/interface list add name=WAN
/interface list member add interface=ether1 list=WAN
/ip firewall filter add action=drop chain=input in-interface-list=WAN
/ip service set winbox address=""
