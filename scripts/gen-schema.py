#!/usr/bin/env python3
"""Writes crates/tikguard/src/schema.txt, the compact command tree `harden` checks its
scripts and `emu` checks API arguments against, from RouterOS' own trees in shared/routeros-schema/<version>.json (7.9-7.24).

Format: a header `versions v1 v2 ...`, then one line per command:
`/menu path<TAB>cmd<TAB>cmd-mask<TAB>arg=mask,arg=mask,...` where a mask is a hex bitmask of the
header's versions (bit i = version i has it).

usage: scripts/gen-schema.py [SHARED_DIR]
"""
import glob
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared")
files = glob.glob(os.path.join(shared, "routeros-schema", "*.json"))
key = lambda f: tuple(int(x) for x in os.path.basename(f)[:-5].split("."))
files.sort(key=key)
versions = [os.path.basename(f)[:-5] for f in files]
cmds = {}
for bit, f in enumerate(files):
    tree = json.load(open(f))

    def walk(node, path):
        for k, v in node.items():
            if k.startswith("_") or not isinstance(v, dict):
                continue
            t = v.get("_type")
            if t in ("dir", "path"):
                walk(v, path + [k])
            elif t == "cmd":
                entry = cmds.setdefault(("/" + " ".join(path), k), [0, {}])
                entry[0] |= 1 << bit
                for a, av in v.items():
                    if isinstance(av, dict) and av.get("_type") == "arg":
                        entry[1][a] = entry[1].get(a, 0) | (1 << bit)

    walk(tree, [])
out = os.path.join(here, "..", "crates", "tikguard", "src", "schema.txt")
with open(out, "w") as o:
    o.write("versions " + " ".join(versions) + "\n")
    for (path, cmd), (mask, args) in sorted(cmds.items()):
        o.write(f"{path}\t{cmd}\t{mask:x}\t" + ",".join(f"{a}={m:x}" for a, m in sorted(args.items())) + "\n")
print(out, len(cmds), "commands")
