#!/usr/bin/env bash
# Realistic router rates while a host that is no router floods: ROUTERS routers (sources
# 127.0.1.1...) each sending RATE syslog lines/s to `tikguard watch` for SECONDS, alone and while
# 127.0.0.2 floods the same port as fast as one socket sends. watch's stopping line says how many
# router lines it read, how many datagrams from unknown senders it counted and how many lines
# its queue dropped.
# usage: bench/watch-routers.sh [ROUTERS] [RATE] [SECONDS] [FLOODING-SOCKETS]
#        (default 10 200 30 1)
set -euo pipefail
cd "$(dirname "$0")/.."
routers="${1:-10}"
rate="${2:-200}"
secs="${3:-30}"
flooders="${4:-1}"
cargo build --release -q -p tikguard --bin tikguard --example watch_ingest
for flood in no flood; do
  target/release/examples/watch_ingest target/release/tikguard bench/out/watch-routers \
    "$((routers * rate * secs))" "$((routers * rate))" "$flood" "$routers" "$flooders"
done
