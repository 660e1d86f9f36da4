# jan/02/2023 10:00:00 by RouterOS 7.7
global ConfigVer 3
:global Deployment "isp"
/ip service
set [ find where comment="managed" ] disabled=yes
set api disabled=yes
