# 2024-05-02 10:00:00 by RouterOS 7.14.3
# The same router with a key on the SSID.
/interface bridge
add name=bridge
/interface wifi security
add authentication-types=wpa2-psk,wpa3-psk name=guest-sec passphrase=REDACTED
/interface wifi
set [ find default-name=wifi1 ] configuration.mode=ap configuration.ssid=Cafe-Guest datapath.bridge=bridge disabled=no security=guest-sec
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip address
add address=192.168.88.1/24 interface=bridge network=192.168.88.0
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=drop chain=input in-interface-list=WAN
