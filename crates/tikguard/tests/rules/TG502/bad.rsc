# 2025-01-10 12:00:00 by RouterOS 7.18.2
/system logging action add name=siem remote=192.0.2.10 target=remote
/system logging add action=siem topics=info
