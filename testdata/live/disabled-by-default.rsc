# 2025-01-01 00:00:00 by RouterOS 7.18
# Interfaces RouterOS creates disabled, written without `disabled=`: a PPPoE client (the WAN
# would be the one with a default route, were it enabled) and an access point on an open
# profile (an open Wi-Fi reaching the services, were it enabled). Read live, the emulator
# must print them disabled, as RouterOS does.
/interface pppoe-client
add add-default-route=yes interface=ether1 name=pppoe-out1 user=isp-user
/interface wireless
set [ find default-name=wlan1 ] mode=ap-bridge ssid=guest
/interface wireless security-profiles
set [ find default=yes ] supplicant-identity=MikroTik
/interface bridge
add name=bridge1
/interface bridge port
add bridge=bridge1 interface=ether2
add bridge=bridge1 interface=wlan1
/ip address
add address=192.168.88.1/24 interface=bridge1
