# 2025-01-10 12:00:00 by RouterOS 7.16.2
/ip ssh set allow-none-crypto=yes strong-crypto=yes
