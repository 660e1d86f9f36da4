#!/usr/bin/env bash
# The same log file, on one core, in one run: `tikguard watch replay` and `fail2ban-regex`
# (Debian's fail2ban). fail2ban's own `routeros-auth` filter is used when FAIL2BAN_FILTER names
# it (Debian 12's fail2ban 1.0.2 does not ship it); otherwise an equivalent one-line failregex,
# said in the output. CrowdSec's replay is not run yet.
#
# usage: bench/compare-watch.sh [LINES]     (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
mkdir -p bench/out
cargo build --release -q -p tikguard
python3 bench/gen-syslog.py "$n" > bench/out/watch.log
printf '[watch]\nfailures = 5\nwindow = "1m"\n' > bench/out/watch.toml
t0=$(date +%s.%N)
taskset -c 0 target/release/tikguard watch replay --config bench/out/watch.toml bench/out/watch.log --stats >/dev/null
t1=$(date +%s.%N)
filter="${FAIL2BAN_FILTER:-system,error,critical login failure for user .*? from <ADDR> via \\S+\$}"
[ -n "${FAIL2BAN_FILTER:-}" ] || echo "fail2ban-regex with an equivalent inline failregex (set FAIL2BAN_FILTER for routeros-auth.conf)"
taskset -c 0 fail2ban-regex bench/out/watch.log "$filter" | grep -E '^(Failregex|Lines):'
t2=$(date +%s.%N)
python3 - "$n" "$t0" "$t1" "$t2" <<'PY'
import sys
n, t0, t1, t2 = int(sys.argv[1]), *map(float, sys.argv[2:])
a, b = t1 - t0, t2 - t1
print(f"| {n} lines, one core | tikguard watch replay {a:.2f} s ({n/a:,.0f} lines/s) | fail2ban-regex {b:.2f} s ({n/b:,.0f} lines/s) | {b/a:.0f}x |")
PY
