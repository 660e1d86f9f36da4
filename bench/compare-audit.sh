#!/usr/bin/env bash
# Times `tikguard audit` against the peer tool mikrotik-rsc-auditor (PyPI, `mikrotik-audit FILE`)
# on the same inputs in one run, and prints a Markdown table for BENCHMARKS.md.
#
# usage: bench/compare-audit.sh [RUNS]      (RUNS: repetitions for inputs under 10 s, default 5)
# Needs: cargo, python3 (with venv). Installs the peer into bench/out/venv.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
out=bench/out
mkdir -p "$out"
shared="${TIKGUARD_SHARED:-$(cd .. && pwd)/shared}"

cargo build --release -q -p tikguard
if [ ! -x "$out/venv/bin/mikrotik-audit" ]; then
  python3 -m venv "$out/venv"
  "$out/venv/bin/pip" install -q "mikrotik-rsc-auditor==0.2.0"
fi
python3 bench/gen-export.py 5000 > "$out/gen-5000.rsc"
python3 bench/gen-export.py 50000 > "$out/gen-50000.rsc"

inputs=(
  "examples/isp-core-v7.rsc"
  "$shared/corpus/Defm__mikrobackups__rawconf_anna_latest.rsc"
  "$out/gen-5000.rsc"
  "$out/gen-50000.rsc"
)

python3 - "$runs" "${inputs[@]}" <<'PY'
import os, statistics, subprocess, sys, time
runs = int(sys.argv[1])
files = sys.argv[2:]
tools = {
    "tikguard": ["target/release/tikguard", "audit", "--format", "json"],
    "mikrotik-audit": ["bench/out/venv/bin/mikrotik-audit", "--format", "json"],
}
def once(cmd, f):
    t = time.perf_counter()
    p = subprocess.run(cmd + [f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, p.returncode
print("| input | size | tikguard | mikrotik-audit | ratio |")
print("|---|---|---|---|---|")
for f in files:
    res = {}
    for name, cmd in tools.items():
        first, rc = once(cmd, f)
        times = [first]
        if first < 10:
            times += [once(cmd, f)[0] for _ in range(runs - 1)]
        res[name] = statistics.median(times)
    size = os.path.getsize(f)
    ratio = res["mikrotik-audit"] / res["tikguard"]
    print(f"| `{os.path.basename(f)}` | {size/1024:.0f} KiB | {res['tikguard']*1000:.0f} ms | "
          f"{res['mikrotik-audit']*1000:.0f} ms | {ratio:.0f}x |", flush=True)
PY
