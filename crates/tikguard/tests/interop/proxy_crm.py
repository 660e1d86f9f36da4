"""PPPoE provisioning as a billing system does it, with librouteros and RouterOS-api (PyPI),
through `tikguard proxy` over TLS (verified against the listener's certificate).

usage: proxy_crm.py HOST PORT USER PASSWORD CAFILE DIRECT-PORT ROUTER-PASSWORD-FILE
DIRECT-PORT is the emulator's api-ssl, to compare replies with going direct (same CAFILE
verifies it). Prints `ok` when every check passed; exits non-zero at the first that did not.
"""
import ssl
import sys

import routeros_api
from librouteros import connect
from librouteros.exceptions import TrapError
from librouteros.login import plain
from routeros_api.exceptions import RouterOsApiCommunicationError

host, port, user, password, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
direct_port, router_pwfile = int(sys.argv[6]), sys.argv[7]
router_password = open(router_pwfile).read().strip()


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)


def ctx():
    c = ssl.create_default_context(cafile=cafile)
    return c


def lr(p, u, pw):
    c = ctx()
    return connect(host, u, pw, port=p, login_method=plain,
                   ssl_wrapper=lambda s: c.wrap_socket(s, server_hostname=host))


# --- librouteros ---------------------------------------------------------------------------
api = lr(port, user, password)
direct = lr(direct_port, "admin", router_password)
secrets = api.path("ppp", "secret")
via = sorted((s["name"], s[".id"]) for s in secrets)
straight = sorted((s["name"], s[".id"]) for s in direct.path("ppp", "secret"))
check(via == straight, f"print through the proxy differs from direct: {via} vs {straight}")
check(all("password" not in s for s in secrets), "passwords are hidden from the CRM")

new_id = secrets.add(name="lr-sub-1", password="x1", profile="plan-50M", service="pppoe",
                     comment="ucrm_lr1")
check(isinstance(new_id, str) and new_id.startswith("*"), f"add returns *ID, got {new_id!r}")
secrets.update(**{".id": new_id, "profile": "suspended"})
secrets.update(**{".id": new_id, "disabled": "yes"})
mine = [s for s in direct.path("ppp", "secret") if s[".id"] == new_id]
check(len(mine) == 1 and mine[0]["profile"] == "suspended" and mine[0]["disabled"] is True,
      f"the router saw the changes: {mine}")
list(api.path("ppp", "active"))

# Suspension list: add and remove.
al = api.path("ip", "firewall", "address-list")
aid = al.add(list="suspended", address="100.64.7.7", comment="ucrm_lr1")
al.remove(aid)

# Denied: the library raises its trap error and the session goes on.
try:
    al.add(list="mgmt", address="203.0.113.66")
    check(False, "a CRM added itself to the management allow-list")
except TrapError as e:
    check("not allowed by policy" in str(e), f"denial says why: {e}")
try:
    list(api("/system/script/add", name="x", source="/system reboot"))
    check(False, "a script was added")
except TrapError as e:
    check("not allowed by policy" in str(e), f"script denial says why: {e}")
check(len(list(secrets)) == len(straight) + 1, "the session works after denials")
secrets.remove(new_id)
api.close()

# --- RouterOS-api --------------------------------------------------------------------------
pool = routeros_api.RouterOsApiPool(host, user, password, port=port, plaintext_login=True,
                                    use_ssl=True, ssl_context=ctx())
ra = pool.get_api()
res = ra.get_resource("/ppp/secret")
res.add(name="ra-sub-1", password="x2", profile="plan-100M", service="pppoe", comment="ucrm_ra1")
item = res.get(name="ra-sub-1")
check(len(item) == 1 and "password" not in item[0], f"get by name: {item}")
rid = item[0]["id"]
res.set(id=rid, disabled="yes")
try:
    ra.get_resource("/user").get()
    check(False, "/user print went through")
except RouterOsApiCommunicationError as e:
    m = e.original_message
    m = m.decode() if isinstance(m, bytes) else str(m)
    check("not allowed by policy" in m, f"/user denial: {m}")
res.remove(id=rid)
check(not res.get(name="ra-sub-1"), "removed")
pool.disconnect()

# The router's password is nobody's business but the proxy's.
try:
    connect(host, "admin", router_password, port=port, login_method=plain,
            ssl_wrapper=lambda s: ctx().wrap_socket(s, server_hostname=host))
    check(False, "the router's credential logged in to the proxy")
except TrapError as e:
    check("invalid user name or password" in str(e), f"{e}")
print("ok")
