# 2024-05-02 10:00:00 by RouterOS 7.14.3
# A café router: the guest SSID has no key and is a port of the bridge the router is managed on.
/interface bridge
add name=bridge
/interface wifi
set [ find default-name=wifi1 ] configuration.mode=ap configuration.ssid=Cafe-Guest datapath.bridge=bridge disabled=no
/interface list
add name=WAN
/interface list member
add interface=ether1 list=WAN
/ip address
add address=192.168.88.1/24 interface=bridge network=192.168.88.0
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=drop chain=input in-interface-list=WAN
