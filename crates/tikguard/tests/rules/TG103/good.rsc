# 2025-01-10 12:00:00 by RouterOS 7.18.2
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
set www-ssl disabled=yes
set api disabled=yes
set api-ssl address=198.51.100.20/32
set ssh address=10.0.0.0/8
set winbox address=10.0.0.0/8
