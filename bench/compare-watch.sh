#!/usr/bin/env bash
# The same log file, on one core, in one run: `tikguard watch replay`, `fail2ban-regex`
# (Debian's fail2ban) and a CrowdSec replay (`crowdsec -dsn file://... -type routeros`, Debian's
# crowdsec, with the RouterOS parser and scenario in bench/crowdsec/: the packaged hub has no
# MikroTik parser).
#
# fail2ban's own `routeros-auth` filter is used when FAIL2BAN_FILTER names it (Debian 12's
# fail2ban 1.0.2 does not ship it); otherwise an equivalent one-line failregex, said in the
# output. CrowdSec's binaries come from CROWDSEC_BIN_DIR (default /usr/bin; .ci/run extracts
# the package under ~/.cache/tikguard-ci/crowdsec); its own configuration, database and Local
# API live in bench/out/crowdsec. CrowdSec is timed twice: on the log, and on an empty file
# (its start and stop), and both are printed.
#
# usage: bench/compare-watch.sh [LINES]     (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
mkdir -p bench/out
cargo build --release -q -p tikguard
python3 bench/gen-syslog.py "$n" > bench/out/watch.log
: > bench/out/empty.log
printf '[watch]\nfailures = 5\nwindow = "1m"\n' > bench/out/watch.toml
now() { date +%s.%N; }

t0=$(now)
taskset -c 0 target/release/tikguard watch replay --config bench/out/watch.toml bench/out/watch.log --stats > bench/out/watch.alerts
t1=$(now)
watch_blocks=$(grep -c '"type":"block"' bench/out/watch.alerts || true)

filter="${FAIL2BAN_FILTER:-system,error,critical login failure for user .*? from <ADDR> via \\S+\$}"
[ -n "${FAIL2BAN_FILTER:-}" ] || echo "fail2ban-regex with an equivalent inline failregex (set FAIL2BAN_FILTER for routeros-auth.conf)"
t2=$(now)
taskset -c 0 fail2ban-regex bench/out/watch.log "$filter" > bench/out/fail2ban.out
t3=$(now)
grep -E '^(Failregex|Lines):' bench/out/fail2ban.out

# CrowdSec, as a log processor with its own Local API in the same process.
bin="${CROWDSEC_BIN_DIR:-/usr/bin}"
root="$(cd "$bin/../.." && pwd)"; root="${root%/}"
cs="$PWD/bench/out/crowdsec"
crowdsec_run() { # FILE -> seconds
  rm -rf "$cs/data" && mkdir -p "$cs/data"
  "$bin/cscli" -c "$cs/config.yaml" machines add bench --auto --force -f "$cs/local_api_credentials.yaml" >/dev/null 2>&1
  local a b
  a=$(now)
  taskset -c 0 "$bin/crowdsec" -c "$cs/config.yaml" -dsn "file://$PWD/$1" -type routeros > "$cs/run.log" 2>&1
  b=$(now)
  python3 -c "print($b - $a)"
}
if [ -x "$bin/crowdsec" ]; then
  rm -rf "$cs" && mkdir -p "$cs/parsers/s00-raw" "$cs/parsers/s02-enrich"
  cp -r bench/crowdsec/parsers/s01-parse "$cs/parsers/"
  cp -r bench/crowdsec/scenarios "$cs/"
  # Stage 0 and 2 from the packaged hub: the raw line as `message`, and its timestamp.
  cp "$root/usr/share/crowdsec/hub/parsers/s00-raw/crowdsecurity/syslog-logs.yaml" "$cs/parsers/s00-raw/"
  cp "$root/usr/share/crowdsec/hub/parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml" "$cs/parsers/s02-enrich/"
  cp -r "$root/etc/crowdsec/patterns" "$cs/"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$cs/config.yaml" <<EOF
common:
  daemonize: false
  log_media: stdout
  log_level: warning
  working_dir: .
config_paths:
  config_dir: $cs/
  data_dir: $cs/data/
  simulation_path: $cs/simulation.yaml
  hub_dir: $root/usr/share/crowdsec/hub/
  index_path: $root/usr/share/crowdsec/hub/.index.json
crowdsec_service:
  acquisition_path: $cs/acquis.yaml
  parser_routines: 1
  buckets_routines: 1
  output_routines: 1
db_config:
  type: sqlite
  db_path: $cs/data/crowdsec.db
  use_wal: true
api:
  client:
    credentials_path: $cs/local_api_credentials.yaml
  server:
    listen_uri: 127.0.0.1:$port
    profiles_path: $cs/profiles.yaml
prometheus:
  enabled: false
EOF
  printf 'name: default_ip_remediation\nfilters:\n - Alert.Remediation == true && Alert.GetScope() == "Ip"\ndecisions:\n - type: ban\n   duration: 4h\non_success: break\n' > "$cs/profiles.yaml"
  echo "simulation: off" > "$cs/simulation.yaml"
  : > "$cs/acquis.yaml"
  cs_empty=$(crowdsec_run bench/out/empty.log)
  cs_full=$(crowdsec_run bench/out/watch.log)
  cs_alerts=$(python3 -c "import sqlite3; print(sqlite3.connect('$cs/data/crowdsec.db').execute('select count(*) from alerts').fetchone()[0])")
else
  echo "no crowdsec in $bin: CrowdSec not run"
  cs_empty=0 cs_full=0 cs_alerts=-
fi

python3 - "$n" "$t0" "$t1" "$t2" "$t3" "$cs_full" "$cs_empty" "$watch_blocks" "$cs_alerts" <<'PY'
import sys
n = int(sys.argv[1])
t0, t1, t2, t3, cs_full, cs_empty = map(float, sys.argv[2:8])
blocks, alerts = sys.argv[8], sys.argv[9]
a, b = t1 - t0, t3 - t2
print(f"watch replay: {blocks} blocks; crowdsec: {alerts} alerts")
print("| input | tikguard watch replay | fail2ban-regex | crowdsec replay (start+stop alone) | vs fail2ban | vs crowdsec |")
print("|---|---|---|---|---|---|")
cs = f"{cs_full:.2f} s ({cs_empty:.2f} s)" if cs_full else "not run"
vs_cs = f"{cs_full / a:.0f}x ({(cs_full - cs_empty) / a:.0f}x without start+stop)" if cs_full else "-"
print(f"| {n} lines, one core | {a:.2f} s ({n/a:,.0f} lines/s) | {b:.2f} s ({n/b:,.0f} lines/s) | {cs} | {b/a:.0f}x | {vs_cs} |")
PY
