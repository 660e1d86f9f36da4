#!/usr/bin/env bash
# Detection to block on loopback: UDP syslog line to `tikguard watch` until the address-list
# entry exists on `tikguard emu`. usage: bench/watch-latency.sh [N]   (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p tikguard --bin tikguard --example watch_latency
target/release/examples/watch_latency target/release/tikguard bench/out/watch-latency "${1:-1000}"
