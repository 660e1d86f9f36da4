# 2025-05-01 10:00:00 by RouterOS 7.16.2
# software id = ABCD-1234
#
# model = RB5009UG+S+
# serial number = HFB09QW1X2Z
/ip firewall address-list
add address=198.51.100.0/24 list=mgmt
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input comment=mgmt src-address-list=mgmt
add action=drop chain=input in-interface-list=WAN
