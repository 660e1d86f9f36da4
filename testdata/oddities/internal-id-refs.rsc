# 2022-09-01 10:00:00 by RouterOS 7.5
/ppp profile
set *0 only-one=yes
set *FFFFFFFE local-address=192.168.89.1 remote-address=vpn
/ip pool
add name=vpn ranges=192.168.89.2-192.168.89.255
