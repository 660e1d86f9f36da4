//! What a RouterOS router has before any export line runs, and which an export therefore omits.
//!
//! An export lists only differences from defaults, so a service missing from `/ip service` is
//! *enabled (except `www-ssl`, disabled), on its default port, reachable from everyone*
//! (`address=""`). The model must start
//! from this table or every audit would read "not mentioned" as "off". Sources: MikroTik's manual
//! pages for IP Services and User (policies of the built-in groups), and `/user group print` on
//! RouterOS 6 and 7; see `ROUTEROS.md` in the project's shared notes.

use crate::model::Config;

/// Name, port, and whether the service takes a TLS certificate, in RouterOS' print order.
pub const SERVICES: &[(&str, u16, bool)] = &[
    ("telnet", 23, false),
    ("ftp", 21, false),
    ("www", 80, false),
    ("ssh", 22, false),
    ("www-ssl", 443, true),
    ("api", 8728, false),
    ("winbox", 8291, false),
    ("api-ssl", 8729, true),
];

/// The one service RouterOS ships disabled, in v6 and v7: `www-ssl`. Sources: MikroTik's IP
/// Services manual, whose `/ip service print` shows `XI www-ssl 443 none`; and real exports,
/// which show only differences from defaults: they write `set www-ssl disabled=no` to turn it on
/// (corpus: alwaldend router1, FoxDenHome router, mm1rza MNET-CHR) and never `set www-ssl
/// disabled=yes` except in verbose exports, while `set api-ssl disabled=yes` is common.
pub const DISABLED_BY_DEFAULT: &str = "www-ssl";

/// Every policy a group can grant, as of RouterOS 7.
pub const POLICIES: &[&str] = &[
    "local",
    "telnet",
    "ssh",
    "ftp",
    "reboot",
    "read",
    "write",
    "policy",
    "test",
    "winbox",
    "password",
    "web",
    "sniff",
    "sensitive",
    "api",
    "romon",
    "rest-api",
];

/// The built-in groups' policies on RouterOS 7 (`rest-api` exists from 7.1).
const GROUPS_V7: &[(&str, &str)] = &[
    ("read", "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!write,!policy"),
    ("write", "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!policy"),
    ("full", "local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,rest-api"),
];

/// RouterOS 6 had `dude` and `tikapp` and no `rest-api`.
const GROUPS_V6: &[(&str, &str)] = &[
    ("read", "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,tikapp,!ftp,!write,!policy,!dude"),
    ("write", "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,tikapp,!ftp,!policy,!dude"),
    ("full", "local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,dude,tikapp"),
];

pub(crate) fn install(c: &mut Config) {
    let v6 = c.version.as_ref().is_some_and(|v| v.major < 7);
    for &(name, port, tls) in SERVICES {
        let port = port.to_string();
        let mut props: Vec<(&str, &str)> = vec![
            ("name", name),
            ("port", &port),
            ("address", ""),
            (
                "disabled",
                if name == DISABLED_BY_DEFAULT {
                    "yes"
                } else {
                    "no"
                },
            ),
        ];
        if tls {
            props.push(("certificate", "none"));
            props.push(("tls-version", "any"));
        }
        c.add_default("/ip service", &props);
    }
    for &(name, policy) in if v6 { GROUPS_V6 } else { GROUPS_V7 } {
        c.add_default("/user group", &[("name", name), ("policy", policy)]);
    }
    c.add_default(
        "/user",
        &[("name", "admin"), ("group", "full"), ("address", "")],
    );
}
