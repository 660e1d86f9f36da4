# 2025-01-10 12:00:00 by RouterOS 7.18.2
# The WAN is dropped first, so today the accept opens the API only to the inside; it opens it to
# the world the day the drop moves or the WAN list changes.
/interface list add name=WAN
/interface list add name=LAN
/interface list member add interface=ether1 list=WAN
/interface list member add interface=bridge list=LAN
/ip firewall filter add action=drop chain=input in-interface-list=WAN
/ip firewall filter add action=accept chain=input dst-port=8728 protocol=tcp comment="billing API"
