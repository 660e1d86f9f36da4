#!/usr/bin/env bash
# Round trips of tikguard's API client and of librouteros (PyPI) against the same emulator in one
# run: 10,000 sequential prints of one item, one print of 100,000 items, and (tikguard only)
# 50,000 pipelined tagged commands. Prints a Markdown table for BENCHMARKS.md.
#
# usage: bench/compare-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
cargo build --release -q -p tikguard
cargo build --release -q -p routeros-api --example bench_client
if [ ! -x "$out/venv/bin/python" ] || ! "$out/venv/bin/python" -c "import librouteros" 2>/dev/null; then
  python3 -m venv "$out/venv"
  "$out/venv/bin/pip" install -q "librouteros==4.2.2"
fi
python3 - > "$out/api-100k.rsc" <<'PY'
print("# 2025-01-01 00:00:00 by RouterOS 7.16")
print("/ip address\nadd address=192.168.88.1/24 interface=bridge")
print("/ip firewall address-list")
for i in range(100_000):
    print(f"add address=10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} list=customers")
PY
echo bench-pass > "$out/pw"
target/release/tikguard emu "$out/api-100k.rsc" --api 127.0.0.1:0 --password-file "admin=$out/pw" > "$out/emu.addr" &
emu=$!
trap 'kill $emu 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q '^api ' "$out/emu.addr" 2>/dev/null && break; sleep 0.2; done
addr=$(awk '/^api /{print $2}' "$out/emu.addr")
port=${addr##*:}
ours=$(target/release/examples/bench_client "$addr" admin "$out/pw")
theirs=$("$out/venv/bin/python" bench/api_librouteros.py 127.0.0.1 "$port" admin "$out/pw")
python3 - "$ours" "$theirs" <<'PY'
import sys
ours = dict(l.split() for l in sys.argv[1].splitlines())
theirs = dict(l.split() for l in sys.argv[2].splitlines())
print("| workload | tikguard client | librouteros | ratio |")
print("|---|---|---|---|")
for k, label in [("sequential-10k", "10,000 sequential prints of one item"), ("print-100k", "one print of 100,000 items")]:
    o, t = float(ours[k]), float(theirs[k])
    print(f"| {label} | {o*1000:.0f} ms | {t*1000:.0f} ms | {t/o:.1f}x |")
p = float(ours["pipelined-50k"])
print(f"| 50,000 pipelined tagged commands | {p*1000:.0f} ms ({50000/p:,.0f} commands/s) | n/a | |")
PY
