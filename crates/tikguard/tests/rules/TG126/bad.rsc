# 2025-01-10 12:00:00 by RouterOS 7.18.2
/system script add name=update-list policy=read,write,policy source="/tool fetch url=\"http://lists.example/l.rsc\"\r\n/import l.rsc"
