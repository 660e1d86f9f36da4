# 2025-01-10 12:00:00 by RouterOS 7.18.2
/interface list add name=WAN
/interface list member add interface=ether1 list=WAN
/ip upnp set enabled=yes
/ip upnp interfaces
add interface=ether1 type=external
add interface=bridge type=internal
