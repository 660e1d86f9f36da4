"""Drives tikguard's emulator with librouteros, a RouterOS API client nobody here wrote.

usage: librouteros_client.py HOST PORT USER PASSWORD-FILE [CAFILE]
With CAFILE the connection is TLS (api-ssl) verified against it. Exits non-zero with a message on
the first behaviour that differs from what RouterOS does.
"""
import socket
import ssl
import sys

from librouteros import connect
from librouteros.exceptions import TrapError
from librouteros.login import plain, token
from librouteros.query import Key

host, port, user, pwfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
password = open(pwfile).read().strip()
kw = {"port": port, "login_method": plain}
if len(sys.argv) > 5:
    ctx = ssl.create_default_context(cafile=sys.argv[5])
    kw["ssl_wrapper"] = lambda s: ctx.wrap_socket(s, server_hostname=host)


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)


# A wrong password is a trap with RouterOS' message.
try:
    connect(host, user, "definitely-wrong", **kw)
    check(False, "login with a wrong password succeeded")
except TrapError as e:
    check("invalid user name or password" in str(e), f"wrong-password trap says {e}")

api = connect(host, user, password, **kw)
addresses = api.path("ip", "address")
before = list(addresses)
check(len(before) >= 1, "print returns the export's addresses")
check(all(".id" in a for a in before), "every item has .id")

new_id = addresses.add(address="198.51.100.1/24", interface="ether9", comment="librouteros")
check(isinstance(new_id, str) and new_id.startswith("*"), f"add returns *ID, got {new_id!r}")
found = [a for a in addresses if a.get(".id") == new_id]
check(len(found) == 1 and found[0]["address"] == "198.51.100.1/24", "the added item prints back")
check(found[0].get("disabled") is False, "booleans come back as false (librouteros parses them)")

# Queries go through librouteros' own builder (`?` words and `?#` operators).
q = list(addresses.select(Key("address"), Key("comment")).where(Key("comment") == "librouteros"))
check(len(q) == 1 and q[0]["address"] == "198.51.100.1/24", f"select/where gave {q}")

addresses.update(**{".id": new_id, "interface": "ether10"})
check([a for a in addresses if a[".id"] == new_id][0]["interface"] == "ether10", "update changes the item")

addresses.remove(new_id)
check(len(list(addresses)) == len(before), "remove deletes the item")

try:
    list(api("/no/such/thing/print"))
    check(False, "an unknown command did not trap")
except TrapError as e:
    check("no such command prefix" in str(e), f"unknown command trap says {e}")

try:
    addresses.remove("*999")
    check(False, "removing a missing item did not trap")
except TrapError as e:
    check("no such item" in str(e), f"missing item trap says {e}")

# Billing code filters with `disabled == False`, which librouteros sends as `?disabled=no`.
secrets = api.path("ppp", "secret")
active = list(secrets.select(Key("name")).where(Key("disabled") == False))  # noqa: E712
check([s["name"] for s in active] == ["cust1"], f"?disabled=no gave {active}")

try:
    secrets.add(name="cust1", password="again")
    check(False, "a duplicate secret was accepted")
except TrapError as e:
    check("secret with the same name already exists" in str(e), f"duplicate trap says {e}")

try:
    secrets.add(name="cust9", bogusattr="1")
    check(False, "an unknown parameter was accepted")
except TrapError as e:
    check("unknown parameter" in str(e), f"unknown parameter trap says {e}")

api.close()
print("ok")
