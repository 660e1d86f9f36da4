# 2025-01-01 00:00:00 by RouterOS 7.18
# PPPoE subscribers whose addresses come only from their secrets (`remote-address=`): the
# subscriber zone reaches the API from exactly those. Read live, /ppp/secret is read without
# passwords, and each secret must stay an item of its own.
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/interface pppoe-server server
add disabled=no interface=ether2 service-name=access
/ppp secret
add name=sub1 password=REDACTED remote-address=100.64.1.2 service=pppoe
add name=sub2 password=REDACTED remote-address=100.64.1.3 service=pppoe
add name=sub3 password=REDACTED remote-address=100.64.1.9 service=pppoe
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=drop chain=input in-interface-list=WAN
