#!/usr/bin/env bash
# Instructions the proxy executes per pipelined command, counted by valgrind's callgrind: a
# figure that does not move with the machine's load, unlike the timings of compare-proxy.sh.
# The proxy runs under callgrind; the load (N commands from 10 clients) and the emulator do not.
# Prints the total and the per-command figure; the profile is left in bench/out/callgrind.
#
# usage: bench/callgrind-proxy.sh [N]      (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"
out="$PWD/bench/out/callgrind"
rm -rf "$out" && mkdir -p "$out"
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release -q -p tikguard --bin tikguard --example proxy_load
# A stand-in for the binary: `proxy run` under callgrind, everything else as is.
cat > "$out/tikguard" <<SH
#!/bin/sh
if [ "\$1" = proxy ]; then
  exec valgrind --tool=callgrind --callgrind-out-file=$out/callgrind.out.%p $PWD/target/release/tikguard "\$@"
fi
exec $PWD/target/release/tikguard "\$@"
SH
chmod +x "$out/tikguard"
# Logins and setup are counted too: a run with few commands gives the fixed part.
for count in 1000 "$n"; do
  rm -f "$out"/callgrind.out.*
  PROXY_LOAD_PROFILE=3600 PROXY_LOAD_COMMANDS="$count" \
    target/release/examples/proxy_load "$out/tikguard" bench/out/proxy-cg /dev/shm/pl-cg >/dev/null
  f=$(ls "$out"/callgrind.out.* | head -1)
  total=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
  echo "$count $total" >> "$out/totals"
  cp "$f" "$out/last.out"
done
python3 - "$out/totals" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
(n1, t1), (n2, t2) = rows[-2], rows[-1]
per = (t2 - t1) / (n2 - n1)
print(f"proxy: {t1:,} instructions for {n1} commands, {t2:,} for {n2}: {per:,.0f} instructions per pipelined command")
PY
