# 2025-01-10 12:00:00 by RouterOS 7.18.2
/system script add name=update-cert policy=read,write source="/tool fetch url=\"http://pki.example/c.pem\"\r\n/certificate import file-name=c.pem"
/system script add name=read-only policy=read,test source="/tool fetch url=\"http://lists.example/l.rsc\"\r\n/import l.rsc"
