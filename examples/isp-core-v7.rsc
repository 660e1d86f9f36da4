# 2025-03-18 02:40:11 by RouterOS 7.12.1
# software id = Q4TT-9MZA
#
# model = CCR2004-1G-12S+2XS
# serial number = HEY08K3PQ1D
#
# ISP core router as many are run: PPPoE subscribers, simple queues driven by the
# billing/CRM system over the API, the API open in clear text, an admin-group CRM login.
/interface bridge
add name=loopback0
/interface vlan
add interface=sfp-sfpplus1 name=vlan100-uplink vlan-id=100
add interface=sfp-sfpplus2 name=vlan200-access vlan-id=200
add interface=sfp-sfpplus2 name=vlan300-mgmt vlan-id=300
/interface list
add name=WAN
add name=ACCESS
/ip pool
add name=pppoe-pool ranges=100.64.0.10-100.64.63.250
/ppp profile
add change-tcp-mss=yes dns-server=1.1.1.1,9.9.9.9 local-address=100.64.0.1 name=plan-50M only-one=yes rate-limit=50M/50M remote-address=pppoe-pool
add change-tcp-mss=yes dns-server=1.1.1.1,9.9.9.9 local-address=100.64.0.1 name=plan-100M only-one=yes rate-limit=100M/100M remote-address=pppoe-pool
add local-address=100.64.0.1 name=suspended rate-limit=256k/256k remote-address=pppoe-pool
/interface pppoe-server server
add authentication=pap,chap,mschap2 default-profile=plan-50M disabled=no interface=vlan200-access one-session-per-host=yes service-name=isp
/interface list member
add interface=vlan100-uplink list=WAN
add interface=vlan200-access list=ACCESS
/ip address
add address=203.0.113.2/30 interface=vlan100-uplink network=203.0.113.0
add address=10.255.0.1/24 interface=vlan300-mgmt network=10.255.0.0
add address=100.64.0.1/18 interface=loopback0 network=100.64.0.0
/ip dns
set allow-remote-requests=yes servers=1.1.1.1,9.9.9.9
/ip firewall address-list
add address=10.255.0.0/24 list=mgmt
add address=198.51.100.20 comment="billing server" list=crm
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input protocol=icmp
add action=accept chain=input comment="billing API" dst-port=8728 protocol=tcp
add action=accept chain=input src-address-list=mgmt
add action=accept chain=input dst-port=8291 protocol=tcp
add action=drop chain=input in-interface-list=WAN
add action=drop chain=forward connection-state=invalid
/ip firewall nat
add action=masquerade chain=srcnat out-interface-list=WAN src-address=100.64.0.0/18
/ip route
add distance=1 gateway=203.0.113.1
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www address=10.255.0.0/24
/ppp secret
add name=cust-0001 password=REDACTED profile=plan-50M service=pppoe
add name=cust-0002 password=REDACTED profile=plan-100M service=pppoe
add comment="overdue invoice" name=cust-0003 password=REDACTED profile=suspended service=pppoe
/queue simple
add max-limit=50M/50M name=cust-0001 target=100.64.0.11/32
add max-limit=100M/100M name=cust-0002 target=100.64.0.12/32
/snmp
set enabled=yes
/system identity
set name=core-01
/system logging
add action=memory topics=critical
/system ntp client
set enabled=yes
/system ntp client servers
add address=pool.ntp.org
/user group
add name=billing policy=local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,rest-api
/user
add group=billing name=crm password=crm
