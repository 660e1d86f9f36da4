# 2025-01-10 12:00:00 by RouterOS 7.18.2
/user group add name=billing policy=local,read,write,policy,test,api,sensitive
/user add name=crm group=billing
/user remove admin
