# 2025-01-10 12:00:00 by RouterOS 7.18.2
/system script add name=backup source=":local p [/file get pw contents]; /tool fetch url=ftp://192.0.2.5/b user=backup password=\$p upload=yes"
