#!/usr/bin/env bash
# The fleet, measured in one run:
#  1. `/ip/service` read from 200 emulated routers (plaintext api, one emulator process serving
#     them all on consecutive ports) by `tikguard fleet exec /ip/service/print` (default
#     concurrency 64) and by Ansible's community.routeros.api_info at forks=50 (PyPI `ansible`,
#     which bundles community.routeros, with librouteros), wall time and peak RSS of each whole
#     process tree (bench/tree-rss.py);
#  2. `tikguard fleet audit` of 1,000 emulated routers over api-ssl (trust on first use).
# Installs what it needs: a venv under ~/.cache/tikguard-bench with ansible and librouteros.
#
# usage: bench/compare-fleet.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(mktemp -d /tmp/tikguard-fleet-bench.XXXXXX)
venv=$HOME/.cache/tikguard-bench/ansible-venv
trap 'kill ${emu200:-} ${emu1000:-} 2>/dev/null; rm -rf "$out"' EXIT
cargo build --release -q -p tikguard
tg=$root/target/release/tikguard
if [ ! -x "$venv/bin/ansible-playbook" ] || ! "$venv/bin/python" -c "import librouteros" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q ansible librouteros
fi
echo bench-pass > "$out/pw"
export ROS_PASS=bench-pass

# 1. 200 routers, plaintext api on 127.0.0.1:21001..21200.
mkdir "$out/r200"
for i in $(seq -w 1 200); do cp examples/isp-core-v7.rsc "$out/r200/r$i.rsc"; done
"$tg" emu --dir "$out/r200" --first-port 127.0.0.1:21001 --password-file "admin=$out/pw" > "$out/emu200" &
emu200=$!
for _ in $(seq 100); do [ "$(wc -l < "$out/emu200")" -ge 200 ] && break; sleep 0.1; done
echo "name,address,port" > "$out/inv200.csv"
{
  echo "[routers]"
  awk '{split($2, a, ":"); printf "%s ansible_host=127.0.0.1 api_port=%s\n", $1, a[2]}' "$out/emu200"
  echo "[routers:vars]"
  echo "ansible_connection=local"
  echo "ansible_python_interpreter=$venv/bin/python"
} > "$out/hosts.ini"
awk '{split($2, a, ":"); printf "%s,127.0.0.1,%s\n", $1, a[2]}' "$out/emu200" >> "$out/inv200.csv"
cat > "$out/play.yml" <<'YML'
- hosts: routers
  gather_facts: false
  tasks:
    - community.routeros.api_info:
        hostname: "{{ ansible_host }}"
        port: "{{ api_port }}"
        username: admin
        password: "{{ lookup('env', 'ROS_PASS') }}"
        path: ip service
YML
python3 bench/tree-rss.py "tikguard fleet exec" -- "$tg" fleet exec /ip/service/print -i "$out/inv200.csv" \
  --plain --password-env ROS_PASS -o "$out/exec-out"
python3 "$root/bench/tree-rss.py" "ansible api_info forks=50" -- env ANSIBLE_HOST_KEY_CHECKING=False \
  "$venv/bin/ansible-playbook" -f 50 -i "$out/hosts.ini" "$out/play.yml"
python3 - "$out/exec-out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("tikguard routers read:", s["by_status"])
PY
ANSIBLE_HOST_KEY_CHECKING=False "$venv/bin/ansible-playbook" -f 50 -i "$out/hosts.ini" "$out/play.yml" | tail -3
kill $emu200

# 2. 1,000 routers, api-ssl on 127.0.0.1:22001..23000, audited live.
mkdir "$out/r1000"
for i in $(seq -w 1 1000); do cp examples/isp-core-v7.rsc "$out/r1000/r$i.rsc"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$out/key.pem" -out "$out/cert.pem" 2>/dev/null
"$tg" emu --dir "$out/r1000" --first-port 127.0.0.1:22001 --tls-cert "$out/cert.pem" --tls-key "$out/key.pem" \
  --password-file "admin=$out/pw" > "$out/emu1000" &
emu1000=$!
for _ in $(seq 300); do [ "$(wc -l < "$out/emu1000")" -ge 1000 ] && break; sleep 0.1; done
echo "name,address,port" > "$out/inv1000.csv"
awk '{split($2, a, ":"); printf "%s,127.0.0.1,%s\n", $1, a[2]}' "$out/emu1000" >> "$out/inv1000.csv"
python3 bench/tree-rss.py "tikguard fleet audit 1000" -- "$tg" fleet audit -i "$out/inv1000.csv" \
  --known-routers "$out/known" --password-env ROS_PASS -o "$out/audit-out"
python3 - "$out/audit-out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("tikguard routers audited:", s["by_status"], "findings:", s["counts"])
PY
