#!/usr/bin/env bash
# UDP ingest on loopback: lines/s `tikguard watch` reads while one sender floods it, unpaced and
# at fixed rates. usage: bench/watch-ingest.sh [LINES]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
cargo build --release -q -p tikguard --bin tikguard --example watch_ingest
for rate in 100000 200000 400000 0; do
  target/release/examples/watch_ingest target/release/tikguard bench/out/watch-ingest "$n" "$rate"
done
