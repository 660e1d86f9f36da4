# 2025-01-10 12:00:00 by RouterOS 7.18.2
/interface ovpn-client
add connect-to=203.0.113.1 name=to-office user=r1 cipher=aes256-gcm disabled=no
add connect-to=203.0.113.2 name=spare user=r1 cipher=null
/interface ovpn-server server
add name=ovpn-server1 cipher=aes256-gcm disabled=no
add name=old cipher=null disabled=yes
