#!/usr/bin/env python3
"""Writes a RouterOS 7 export with N filter rules in the input chain (and custom chains it jumps
to), shaped like a large ISP edge router's: per-customer accepts by source and port, address
lists, jump chains with returns, logging drops, and a final drop. Deterministic for a given N.

With `--blocklist M`, the input chain first drops the sources of an address list `blocklist` of M
scattered public entries (nine in ten single addresses, the rest /24s, as in published drop
lists), and the chain ends without the final drop, leaning on the list as routers that use one
do: the reachable sets are then "everything except the list", millions of prefixes written out.

usage: gen-export.py N [--blocklist M] > export.rsc
"""
import random
import sys

args = sys.argv[1:]
blocklist = 0
if "--blocklist" in args:
    i = args.index("--blocklist")
    blocklist = int(args[i + 1])
    del args[i : i + 2]
n = int(args[0])
rnd = random.Random(n)
out = sys.stdout.write
out("# 2025-06-01 00:00:00 by RouterOS 7.16.2\n# software id = BENC-H000\n#\n")
out("/interface list\nadd name=WAN\nadd name=LAN\n")
out("/interface list member\nadd interface=sfp-sfpplus1 list=WAN\nadd interface=bridge list=LAN\n")
out("/ip firewall address-list\n")
for i in range(max(50, n // 20)):
    out(f"add address=10.{(i >> 8) & 255}.{i & 255}.0/24 list=customers-{i % 10}\n")
for i in range(20):
    out(f"add address=192.0.2.{i} list=mgmt\n")
if blocklist:
    brnd = random.Random(blocklist)
    seen = set()
    while len(seen) < blocklist:
        a = brnd.randrange(1, 223)
        if a in (10, 100, 127, 172, 192):
            continue
        if brnd.random() < 0.1:
            entry = f"{a}.{brnd.randrange(256)}.{brnd.randrange(256)}.0/24"
        else:
            entry = f"{a}.{brnd.randrange(256)}.{brnd.randrange(256)}.{brnd.randrange(1, 255)}"
        if entry not in seen:
            seen.add(entry)
            out(f"add address={entry} list=blocklist\n")
out("/ip firewall filter\n")
if blocklist:
    out("add action=drop chain=input src-address-list=blocklist\n")
out("add action=accept chain=input connection-state=established,related,untracked\n")
out("add action=drop chain=input connection-state=invalid\n")
ports = [22, 53, 123, 161, 179, 443, 1701, 8291, 8728, 8729, 5678, 500, 4500]
written = 2
chain = 0
while written < n - 1:
    kind = rnd.random()
    if kind < 0.55:
        a, b, c = rnd.randrange(1, 223), rnd.randrange(256), rnd.randrange(256)
        p = rnd.choice(ports)
        proto = "udp" if p in (53, 123, 161, 500, 4500, 5678, 1701) else "tcp"
        out(f"add action=accept chain=input dst-port={p} protocol={proto} src-address={a}.{b}.{c}.{rnd.randrange(1, 255)} comment=\"customer {written}\"\n")
        written += 1
    elif kind < 0.70:
        out(f"add action=accept chain=input src-address-list=customers-{rnd.randrange(10)} protocol=tcp dst-port={rnd.choice(ports)}\n")
        written += 1
    elif kind < 0.80:
        p = rnd.choice(ports)
        out(f"add action=drop chain=input protocol=tcp dst-port={p} src-address-list=!mgmt log=yes log-prefix=drop-{p}\n")
        written += 1
    elif kind < 0.90 and written < n - 6:
        name = f"c{chain}"
        chain += 1
        out(f"add action=jump chain=input jump-target={name} in-interface-list=WAN protocol=tcp dst-port={rnd.choice(ports)}\n")
        out(f"add action=return chain={name} src-address-list=mgmt\n")
        out(f"add action=accept chain={name} src-address={rnd.randrange(1, 223)}.{rnd.randrange(256)}.0.0/16\n")
        out(f"add action=drop chain={name}\n")
        written += 4
    else:
        out(f"add action=add-src-to-address-list address-list=scan address-list-timeout=1h chain=input protocol=tcp dst-port={rnd.randrange(1, 65535)}\n")
        written += 1
if not blocklist:
    out("add action=drop chain=input in-interface-list=!LAN\n")
out("/ip service\nset telnet disabled=yes\nset ftp disabled=yes\nset www disabled=yes\n")
