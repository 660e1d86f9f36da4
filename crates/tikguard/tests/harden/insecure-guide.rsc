# 2025-06-02 10:00:00 by RouterOS 7.16.2
# The insecure router the hardening guides start from: the CRM's accept for 8728,8729 from
# anyone, api-ssl without a certificate, a CRM group with policy and sensitive, a final drop.
/interface list
add name=WAN
add name=LAN
/interface list member
add interface=ether1 list=WAN
add interface=bridge list=LAN
/ip address
add address=203.0.113.2/30 interface=ether1
add address=192.168.88.1/24 interface=bridge
/ipv6 address
add address=fd00:88::1/64 interface=bridge
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input comment="CRM API" dst-port=8728,8729 protocol=tcp
add action=accept chain=input in-interface-list=LAN
add action=drop chain=input
/ip route
add gateway=203.0.113.1
/ip service
set api-ssl certificate=none
/system identity
set name=edge-01
/user group
add name=crm policy=read,write,api,policy,sensitive,test
