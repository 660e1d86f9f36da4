#!/usr/bin/env bash
# Renders the HTML audit report of the shipped examples, takes screenshots of it in headless
# Chromium at a desktop and a phone width, and checks the severity filter by clicking it (a
# filtered-out severity must disappear, the others stay). Needs: chromium (Debian package
# `chromium`), node and npm (installs playwright-core, which drives that Chromium, into
# bench/out/node).
#
# usage: scripts/html-screenshot.sh [OUT-DIR]    (default: bench/out)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench/out}"
mkdir -p "$out"
html="$(mktemp --suffix=.html)"
trap 'rm -f "$html"' EXIT
cargo run -q --release -p tikguard -- audit --format html -o "$html" \
  examples/isp-core-v7.rsc examples/home-v7.rsc || true
if [ ! -d bench/out/node/node_modules/playwright-core ]; then
  npm install --prefix bench/out/node --no-audit --no-fund --silent playwright-core@1.49.1
fi
NODE_PATH="$PWD/bench/out/node/node_modules" node scripts/html-screenshot.cjs "$html" "$out"
