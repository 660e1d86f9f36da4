/user group
add name=fonts policy=ftp,read,write,test
/system script
add name=fonts policy=\
    ftp,read,write,test source=":local fontName \"arial\";\r\
    \n:put \$fontName\r\
    \n"
