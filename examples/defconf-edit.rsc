# Run after first boot, on the default configuration.
/interface bridge port add bridge=bridge interface=ether5 comment="office switch"
/ip firewall address-list add address=198.51.100.0/24 list=mgmt
/ip firewall filter add action=accept chain=input dst-port=8291 protocol=tcp src-address-list=mgmt place-before=[find comment="defconf: drop all not coming from LAN"]
/ip dns set servers=1.1.1.1,9.9.9.9
/system identity set name=office-gw
