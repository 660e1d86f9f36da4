/ip service
set telnet disabled=yes

/tool 
mac-server set allowed-interface-list=none
mac-server mac-winbox set allowed-interface-list=none
