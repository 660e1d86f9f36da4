#!/usr/bin/env bash
# Takes screenshots of a fleet page (`summary.html` of a `tikguard fleet audit` output folder)
# in headless Chromium at a desktop and a phone width, and checks its sorting (by name both
# ways, by critical count as numbers) and filtering (by text, by state) by clicking and typing;
# fails if the page asks the network for anything. Needs: chromium (Debian package
# `chromium`), node and npm (installs playwright-core, which drives that Chromium, into
# bench/out/node).
#
# usage: scripts/fleet-page-screenshot.sh SUMMARY.html [OUT-DIR]    (default: bench/out)
set -euo pipefail
cd "$(dirname "$0")/.."
page="${1:?usage: scripts/fleet-page-screenshot.sh SUMMARY.html [OUT-DIR]}"
out="${2:-bench/out}"
mkdir -p "$out"
if [ ! -d bench/out/node/node_modules/playwright-core ]; then
  npm install --prefix bench/out/node --no-audit --no-fund --silent playwright-core@1.49.1
fi
NODE_PATH="$PWD/bench/out/node/node_modules" node scripts/fleet-page-screenshot.cjs "$page" "$out"
