"""A billing system's day, with librouteros (PyPI), through `tikguard proxy record --permissive`
over plaintext: provision a PPPoE secret, change its plan, suspend and resume it, read what
billing reads (including /user, which a narrower policy will refuse), and remove it.

usage: record_crm.py HOST PORT USER PASSWORD
Prints `ok` when every command was answered; exits non-zero at the first that was not.
"""
import sys

from librouteros import connect
from librouteros.login import plain
from librouteros.query import Key

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)


api = connect(host, user, password, port=port, login_method=plain)
secrets = api.path("ppp", "secret")
list(secrets)
new_id = secrets.add(name="rec-sub-1", password="hunter2-secret", profile="plan-50M",
                     service="pppoe", comment="ucrm_rec1")
secrets.update(**{".id": new_id, "profile": "suspended"})
name = Key("name")
found = list(secrets.select(name).where(name == "rec-sub-1"))
check(len(found) == 1, f"select by name: {found}")
lists = api.path("ip", "firewall", "address-list")
entry = lists.add(list="suspended", address="100.64.7.8", comment="ucrm_rec1")
lists.remove(entry)
list(api.path("ppp", "active"))
users = list(api.path("user"))
check(len(users) >= 1, "permissive recording forwards /user print")
secrets.remove(new_id)
api.close()
print("ok")
