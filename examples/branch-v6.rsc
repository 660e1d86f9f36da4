# jan/12/2023 09:31:55 by RouterOS 6.49.2
# software id = 3KD7-0W1P
#
# model = RB4011iGS+
# serial number = D4480B2A1F30
/interface bridge
add name=bridge-lan
/interface ethernet
set [ find default-name=ether1 ] comment="ISP uplink" name=ether1-wan
/interface list
add name=WAN
add name=LAN
/interface wireless security-profiles
set [ find default=yes ] supplicant-identity=MikroTik
/ip pool
add name=dhcp-lan ranges=192.168.10.100-192.168.10.200
/ip dhcp-server
add address-pool=dhcp-lan disabled=no interface=bridge-lan name=dhcp-lan
/ppp profile
set *0 only-one=yes
/interface bridge port
add bridge=bridge-lan interface=ether2
add bridge=bridge-lan interface=ether3
add bridge=bridge-lan interface=ether4
/interface list member
add interface=ether1-wan list=WAN
add interface=bridge-lan list=LAN
/ip address
add address=192.168.10.1/24 interface=bridge-lan network=192.168.10.0
/ip dhcp-client
add disabled=no interface=ether1-wan
/ip dhcp-server network
add address=192.168.10.0/24 dns-server=192.168.10.1 gateway=192.168.10.1
/ip dns
set allow-remote-requests=yes
/ip firewall address-list
add address=192.168.10.0/24 list=trusted
add address=192.0.2.50 comment="head office" list=trusted
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmp
add action=add-src-to-address-list address-list=winbox-stage1 address-list-timeout=1m chain=input connection-state=new dst-port=8291 protocol=tcp src-address-list=!trusted
add action=accept chain=input src-address-list=trusted
add action=drop chain=input in-interface-list=WAN log=yes log-prefix=drop-wan
add action=fasttrack-connection chain=forward connection-state=established,related
add action=accept chain=forward connection-state=established,related
add action=drop chain=forward connection-state=invalid
add action=drop chain=forward connection-nat-state=!dstnat connection-state=new in-interface-list=WAN
/ip firewall nat
add action=masquerade chain=srcnat out-interface-list=WAN
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
set ssh address=192.168.10.0/24
set api disabled=yes
set winbox address=192.168.10.0/24,192.0.2.50/32
/system clock
set time-zone-name=Europe/Berlin
/system identity
set name=branch-berlin
/tool mac-server
set allowed-interface-list=LAN
/tool mac-server mac-winbox
set allowed-interface-list=LAN
