#!/usr/bin/env bash
# The proxy's cost: the same workloads direct to `tikguard emu` (api-ssl) and through
# `tikguard proxy` in front of it, in one run; prints the Markdown rows for BENCHMARKS.md.
#
# usage: bench/compare-proxy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out/proxy
cargo build --release -q -p tikguard --bin tikguard --example proxy_load
echo "| workload | direct | through the proxy | cost |"
echo "|---|---|---|---|"
target/release/examples/proxy_load target/release/tikguard bench/out/proxy
