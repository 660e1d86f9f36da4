# Branch router provisioning.
:local lan "192.168.10.1/24"
:local site "branch-7"
/interface bridge add name=br-lan
/interface bridge port add bridge=br-lan interface=ether2
/ip address add address=$lan interface=br-lan
/system identity set name=$site
/user group add name=noc policy=read,write,test,winbox,ssh,!ftp,!policy,!sensitive
/user add name=noc group=noc password=changeme
