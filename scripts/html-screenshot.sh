#!/usr/bin/env bash
# Renders the HTML audit report of the shipped examples and takes a screenshot of it in headless
# Chromium, to check how it looks. Needs: chromium (Debian package `chromium`).
#
# usage: scripts/html-screenshot.sh [OUT.png]    (default: bench/out/report.png)
set -euo pipefail
cd "$(dirname "$0")/.."
png="${1:-bench/out/report.png}"
mkdir -p "$(dirname "$png")"
html="$(mktemp --suffix=.html)"
profile="$(mktemp -d)"
trap 'rm -rf "$html" "$profile"' EXIT
cargo run -q --release -p tikguard -- audit --format html -o "$html" \
  examples/isp-core-v7.rsc examples/home-v7.rsc || true
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1280,2000 --hide-scrollbars \
  --screenshot="$png" "file://$html" 2>/dev/null
echo "$png"
