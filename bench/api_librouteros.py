"""The same round trips as routeros-api's bench_client, with librouteros (no pipelining there).

usage: api_librouteros.py HOST PORT USER PASSWORD-FILE
"""
import sys
import time

from librouteros import connect
from librouteros.login import plain

host, port, user, pwfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
api = connect(host, user, open(pwfile).read().strip(), port=port, login_method=plain)

t = time.perf_counter()
for _ in range(10_000):
    r = list(api("/ip/address/print"))
    assert len(r) == 1
print(f"sequential-10k {time.perf_counter() - t:.3f}")

t = time.perf_counter()
r = list(api("/ip/firewall/address-list/print"))
assert len(r) == 100_000, len(r)
print(f"print-100k {time.perf_counter() - t:.3f}")
