# 2023-05-01 12:00:00 by RouterOS 7.9.2
:if ([/interface bridge find name=bridge-portal] = "") do={
  /interface bridge add name=bridge-portal
}
/interface/bridge/port/set [ find interface=wlan1 ] bridge=bridge-portal
/ip/service/set telnet disabled=yes
