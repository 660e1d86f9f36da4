# Configuración básica, comentario con acentos
/ip firewall filter
add action=drop chain=input comment="Bloqueo acceso público" in-interface=ether1
