"""Runs a command and reports its wall time and the peak of the summed RSS of its process tree
(every child counts: Ansible's forks are separate processes), sampled every 20 ms from /proc.

usage: tree-rss.py LABEL -- COMMAND...
prints: LABEL wall_s=... peak_rss_mib=... rc=...
"""
import os
import subprocess
import sys
import time

label = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]


def tree(root):
    kids = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(pid))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


start = time.perf_counter()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak = 0
while p.poll() is None:
    peak = max(peak, sum(rss_kib(q) for q in tree(p.pid)))
    time.sleep(0.02)
wall = time.perf_counter() - start
print(f"{label} wall_s={wall:.2f} peak_rss_mib={peak / 1024:.0f} rc={p.returncode}")
