# Настройки (Windows-1251)
/system script
add name=pppoe source=":log info \"Привет\""
/ip service
set telnet disabled=yes
