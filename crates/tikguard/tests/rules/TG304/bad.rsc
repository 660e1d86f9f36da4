# 2025-01-10 12:00:00 by RouterOS 7.18.2
/user group add name=crm policy=read,write,api,winbox,ssh
/user add name=crm group=crm
