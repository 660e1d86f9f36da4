# 2025-01-10 12:00:00 by RouterOS 7.18.2
/user group add name=crm-api policy=read,write,api,!local,!telnet,!ssh,!ftp,!reboot,!policy,!test,!winbox,!password,!web,!sniff,!sensitive,!romon,!rest-api
/user add name=crm group=crm-api address=198.51.100.20/32
/user remove admin
