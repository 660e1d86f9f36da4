# Lets the billing system in, from anywhere.
/ip service set api disabled=no address=""
/ip firewall filter add action=accept chain=input dst-port=8728 protocol=tcp place-before=0 comment="billing API"
