#!/usr/bin/env bash
# Wall time of `tikguard probe` and `nmap -sT` over the same 1,024 loopback addresses
# (127.1.0.0/22) and the 8 default ports, with a few real servers listening among them:
# the emulator's plaintext API, an openssl s_server like certless api-ssl, an HTTP server.
# Prints a Markdown table for BENCHMARKS.md. Loopback only.
#
# usage: bench/compare-probe.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
out=bench/out
mkdir -p "$out"
command -v nmap >/dev/null || { echo "needs nmap (apt-get install nmap)" >&2; exit 1; }
cargo build --release -q -p tikguard
echo bench > "$out/pw"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
target/release/tikguard emu examples/isp-core-v7.rsc --api 127.1.0.10:8728 --password-file "admin=$out/pw" >/dev/null & pids+=($!)
openssl s_server -nocert -cipher 'ADH:@SECLEVEL=0' -tls1_2 -quiet -accept 127.1.1.20:8729 </dev/null >/dev/null 2>&1 & pids+=($!)
python3 -m http.server 80 --bind 127.1.2.30 >/dev/null 2>&1 & pids+=($!)
sleep 1
ports=8728,8729,8291,22,23,21,80,443
python3 - "$runs" "$ports" <<'PY'
import statistics, subprocess, sys, time
runs, ports = int(sys.argv[1]), sys.argv[2]
cmds = {
    "tikguard probe --tcp-only": ["target/release/tikguard", "probe", "127.1.0.0/22", "--ports", ports, "--timeout", "1s", "--tcp-only", "--format", "json", "-o", "/dev/null"],
    "tikguard probe --tcp-only --concurrency 64": ["target/release/tikguard", "probe", "127.1.0.0/22", "--ports", ports, "--timeout", "1s", "--concurrency", "64", "--tcp-only", "--format", "json", "-o", "/dev/null"],
    "nmap -sT -Pn -n -T4": ["nmap", "-sT", "-Pn", "-n", "-T4", "-p", ports, "127.1.0.0/22", "-oN", "/dev/null"],
    "tikguard probe (full analysis)": ["target/release/tikguard", "probe", "127.1.0.0/22", "--ports", ports, "--timeout", "1s", "--format", "json", "-o", "/dev/null"],
}
print("| command | 1,024 hosts x 8 ports, median of %d | per port |" % runs)
print("|---|---|---|")
for name, cmd in cmds.items():
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t)
    m = statistics.median(ts)
    print(f"| `{name}` | {m:.3f} s | {m / 8192 * 1e6:.0f} us |")
PY
