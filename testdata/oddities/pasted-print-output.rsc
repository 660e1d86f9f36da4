# sep/16/2021 13:26:19 by RouterOS 6.48.4
# software id = ABCD-EFGH
#
            script: #| Welcome to RouterOS!
                    #|    1) Set a strong router password in the System > Users menu
/ip service
set telnet disabled=yes
