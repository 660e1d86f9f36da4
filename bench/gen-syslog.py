#!/usr/bin/env python3
"""Writes N syslog lines as RouterOS sends them (BSD framing): 60% login failures from random
addresses, 20% logins, 20% other lines, and now and then (0.2% of lines) a burst of 6 failures
from one attacker within a second, which every tool must detect. 1,000 lines a second of log
time. usage: gen-syslog.py N > FILE"""
import random
import sys

n = int(sys.argv[1])
random.seed(7)
vias = ["winbox", "api", "ssh", "web", "telnet"]
out = sys.stdout
attacker = 0
i = 0
while i < n:
    r = random.random()
    if r < 0.002 and i + 6 <= n:
        attacker += 1
        a = f"203.0.{attacker // 250 % 250}.{attacker % 250 + 1}"
        t = f"Nov 30 12:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}"
        for _ in range(6):
            out.write(f"<26>{t} core-01 system,error,critical login failure for user admin from {a} via api\n")
            i += 1
        continue
    i += 1
    ip = f"198.51.{random.randint(0, 255)}.{random.randint(1, 254)}"
    t = f"Nov 30 12:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}"
    if r < 0.6:
        out.write(f"<26>{t} core-01 system,error,critical login failure for user admin from {ip} via {random.choice(vias)}\n")
    elif r < 0.8:
        out.write(f"<30>{t} core-01 system,info,account user noc logged in from 10.0.0.{i % 250 + 1} via winbox\n")
    else:
        out.write(f"<30>{t} core-01 firewall,info input: in:ether1 out:(none), src-mac 00:21:29:6d:82:07, proto UDP, 10.1.101.1:520->10.1.101.255:520, len 452\n")
