# 2025-06-02 10:00:00 by RouterOS 7.16.2
# An access point: one bridge carries the uplink (its default route) and the administrators;
# management accepted from anyone, then everything else on the bridge dropped.
/interface bridge
add name=bridge
/interface bridge port
add bridge=bridge interface=ether1
add bridge=bridge interface=ether2
add bridge=bridge interface=wlan1
/ip address
add address=10.0.0.2/24 interface=bridge
/ip route
add gateway=10.0.0.1
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input protocol=icmp
add action=accept chain=input dst-port=22,8291,8728 protocol=tcp comment="management"
add action=drop chain=input in-interface=bridge
/system identity
set name=ap-01
