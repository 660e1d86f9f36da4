#!/usr/bin/env bash
# UDP ingest on loopback: lines/s `tikguard watch` reads from a router, unpaced and at fixed
# rates, alone and while a host that is no router floods the port.
# usage: bench/watch-ingest.sh [LINES]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
cargo build --release -q -p tikguard --bin tikguard --example watch_ingest
for rate in 100000 200000 0; do
  for flood in no flood; do
    target/release/examples/watch_ingest target/release/tikguard bench/out/watch-ingest "$n" "$rate" "$flood"
  done
done
