#!/usr/bin/env bash
# The floor for any sequential API round trip on this machine: one byte echoed between two
# processes over 127.0.0.1 with TCP_NODELAY, 20,000 times. Prints microseconds per round trip.
set -euo pipefail
port=${1:-47001}
python3 - "$port" <<'PY' &
import socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(1)
c, _ = srv.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while (d := c.recv(100)):
    c.sendall(d)
PY
sleep 0.5
python3 - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
t = time.perf_counter()
for _ in range(20000):
    s.sendall(b"x"); s.recv(100)
print(f"loopback round trip: {(time.perf_counter() - t) / 20000 * 1e6:.0f} us")
PY
wait
