# 2025-01-10 12:00:00 by RouterOS 7.18.2
/tool romon set enabled=yes secrets=correct-horse-battery
