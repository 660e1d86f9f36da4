# 2025-01-10 12:00:00 by RouterOS 7.18.2
/system script add name=backup source="/tool fetch url=ftp://192.0.2.5/b user=backup password=hunter2 upload=yes"
/system script add name=vpn source=":local pw \"hunter2\"\r\n/interface ovpn-client set [find] password=\$pw"
