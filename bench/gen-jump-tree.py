#!/usr/bin/env python3
"""Writes a RouterOS 7 export whose `input` chain enters a tree of custom chains N levels deep,
each level jumping twice to the next (once with a `limit` the analysis cannot decide, then for
every source), so a connection has 2^N paths through the firewall while there are only about 3N
rules.

usage: gen-jump-tree.py N > export.rsc
"""
import sys

n = int(sys.argv[1])
out = sys.stdout.write
out("# 2025-06-01 00:00:00 by RouterOS 7.16.2\n")
out("/interface list\nadd name=WAN\nadd name=LAN\n")
out("/interface list member\nadd interface=ether1 list=WAN\nadd interface=bridge list=LAN\n")
out("/ip firewall filter\n")
out("add action=accept chain=input connection-state=established,related\n")
out("add action=jump chain=input jump-target=level0 in-interface-list=WAN\n")
for i in range(n):
    nxt = f"level{i + 1}"
    out(f"add action=jump chain=level{i} jump-target={nxt} limit=10,5:packet\n")
    out(f"add action=jump chain=level{i} jump-target={nxt}\n")
    out(f"add action=accept chain=level{i} protocol=tcp dst-port=22 src-address=192.0.2.{i % 250}\n")
out(f"add action=drop chain=level{n} src-address=10.0.0.0/8\n")
out(f"add action=return chain=level{n}\n")
out("add action=drop chain=input in-interface-list=!LAN\n")
