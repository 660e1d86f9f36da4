# 2025-01-01 00:00:00 by RouterOS 7.18
# Menus a rule reads beyond the firewall and the services: a script and a scheduler entry with
# a password in their text, SNMP with a community for everyone, UPnP on the WAN, and an
# address list a raw rule fills (so the filter's drop of it is not a drop of nothing).
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip firewall raw
add action=add-src-to-address-list address-list=scanners address-list-timeout=1d chain=prerouting dst-port=23 in-interface-list=WAN protocol=tcp
/ip firewall filter
add action=drop chain=input src-address-list=scanners
add action=accept chain=input connection-state=established,related
add action=accept chain=input dst-port=161 protocol=udp
add action=drop chain=input in-interface-list=WAN
/ipv6 firewall filter
add action=drop chain=input in-interface-list=WAN
/snmp
set enabled=yes
/snmp community
add addresses=0.0.0.0/0 name=monitor
/ip upnp
set enabled=yes
/ip upnp interfaces
add interface=ether1 type=external
/system script
add name=backup source="/tool fetch url=\"ftp://192.0.2.10/b\" user=backup password=hunter2 upload=yes"
/system scheduler
add interval=1d name=nightly on-event="/tool fetch url=\"ftp://192.0.2.10/n\" user=n password=letmein2 upload=yes"
