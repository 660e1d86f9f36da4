# 2025-01-10 12:00:00 by RouterOS 7.18.2
/ip service set www address=10.0.0.0/8
