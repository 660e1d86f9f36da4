#!/usr/bin/env bash
# Size and time of each report format for an export whose input chain first drops an address
# list of M scattered entries (`gen-export.py N --blocklist M`): every reachable set is then
# "everything except the list", millions of prefixes when written out. Prints a Markdown table
# for BENCHMARKS.md.
#
# usage: bench/report-sizes.sh [BINARY] [M] [N]
#   BINARY  the tikguard to run (default: target/release/tikguard, built here)
#   M       blocklist entries (default 200000); N filter rules (default 100)
# Needs: python3, GNU time (/usr/bin/time). Writes its inputs and outputs under bench/out and
# removes the reports it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
m="${2:-200000}"
n="${3:-100}"
out=bench/out
mkdir -p "$out"
if [ -z "$bin" ]; then
  cargo build --release --locked -q -p tikguard
  bin=target/release/tikguard
fi
input="$out/blocklist-$m.rsc"
python3 bench/gen-export.py "$n" --blocklist "$m" > "$input"
echo "input: $input ($(( $(stat -c %s "$input") / 1024 )) KiB), $bin"
echo
echo "| format | report size | elapsed | user CPU | peak RSS |"
echo "|---|---|---|---|---|"
for format in text json sarif html; do
  report="$out/report.$format"
  # The exit status is 1 when findings are at or above --fail-on: expected here.
  /usr/bin/time -f "%e %U %M" -o "$out/time.txt" \
    "$bin" audit --format "$format" -o "$report" "$input" || true
  # GNU time puts "Command exited with non-zero status 1" first when the audit exits 1.
  read -r elapsed user rss < <(tail -n 1 "$out/time.txt")
  size=$(stat -c %s "$report")
  printf '| %s | %s | %s s | %s s | %s MB |\n' "$format" \
    "$(numfmt --to=iec --suffix=B "$size")" "$elapsed" "$user" "$(( rss / 1024 ))"
  rm -f "$report"
done
rm -f "$out/time.txt"
