"""Drives tikguard's emulator with RouterOS-api (PyPI `RouterOS-api`), the client many billing
systems use, as a CRM would: print with `?disabled=no`, add a subscriber, suspend by switching
profile, and get RouterOS' traps for duplicates, unknown parameters and missing profiles.

usage: routeros_api_client.py HOST PORT USER PASSWORD-FILE [CAFILE]
With CAFILE the connection is TLS (api-ssl) verified against it. Exits non-zero with a message on
the first behaviour that differs from what RouterOS does.
"""
import ssl
import sys

import routeros_api
from routeros_api.exceptions import RouterOsApiCommunicationError

host, port, user, pwfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
password = open(pwfile).read().strip()
ctx = None
if len(sys.argv) > 5:
    ctx = ssl.create_default_context(cafile=sys.argv[5])


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)


def trap_message(fn):
    try:
        fn()
    except RouterOsApiCommunicationError as e:
        m = e.original_message
        return m.decode() if isinstance(m, bytes) else str(m)
    check(False, "expected a trap")


try:
    routeros_api.RouterOsApiPool(host, user, "wrong", port=port, plaintext_login=True,
                                 ssl_context=ctx).get_api()
    check(False, "login with a wrong password succeeded")
except RouterOsApiCommunicationError as e:
    check("invalid user name or password" in str(e), f"wrong-password trap says {e}")

pool = routeros_api.RouterOsApiPool(host, user, password, port=port, plaintext_login=True,
                                    ssl_context=ctx)
api = pool.get_api()
secrets = api.get_resource("/ppp/secret")

active = secrets.get(disabled="no")
check([s["name"] for s in active] == ["cust1"], f"?disabled=no gave {active}")

secrets.add(name="cust3", password="p3", profile="plan-10M", service="pppoe")
check(len(secrets.get(name="cust3")) == 1, "the added secret prints back")

m = trap_message(lambda: secrets.add(name="cust3", password="again"))
check(m == "failure: secret with the same name already exists", f"duplicate: {m}")

m = trap_message(lambda: secrets.add(name="cust4", bogusattr="1"))
check(m == "unknown parameter", f"unknown parameter: {m}")

sid = secrets.get(name="cust3")[0]["id"]
m = trap_message(lambda: secrets.set(id=sid, profile="no-such-profile"))
check(m == "input does not match any value of profile", f"missing profile: {m}")
secrets.set(id=sid, profile="default")
check(secrets.get(name="cust3")[0]["profile"] == "default", "suspension by profile applies")

secrets.remove(id=sid)
check(secrets.get(name="cust3") == [], "remove deletes the secret")

pool.disconnect()
print("ok")
