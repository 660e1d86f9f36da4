//! A live router as the same model an export gives: print the menus the audit and the planner
//! read ([`crate::menus::READ`]), write them as an export (`set` for RouterOS' built-in items,
//! `add` for the rest, `remove` for a default item the router no longer has), and parse that.
//! One analysis, two sources.
//!
//! Also turns the lines of a generated script into API sentences for a live router, resolving
//! the selectors scripts use (`[find comment=...]`, `[:pick [find] 0]`, a name) to internal ids.

use std::fmt::Write as _;

use routeros_api::Client;
use routeros_config::escape::quote;
use routeros_config::Config;

use crate::ros::script::{name_bytes, Cond, Stmt, Target, Val};

/// Menus read with only the properties the audit needs: `/ppp/secret` holds subscribers'
/// passwords, which never leave the router. `.id` is asked for too: RouterOS leaves out every
/// property a `.proplist` does not name, `.id` included (MikroTik's API manual, `.proplist`),
/// and an item without one is written as the menu's settings, every secret folding into one.
/// `/user` is read by name too: RouterOS prints no password there (the emulator as RouterOS),
/// and a reader that names what it reads never asks for one should a version print it.
const PROPLISTS: &[(&str, &str)] = &[
    (
        "/ppp/secret",
        ".id,name,service,profile,remote-address,disabled",
    ),
    ("/user", ".id,name,group,address,disabled,comment"),
];

/// Secrets RouterOS prints to a reader with the `sensitive` policy and leaves out for one
/// without (MikroTik's User manual: `sensitive` "allows to see sensitive information"; the
/// emulator as RouterOS, `is_secret_in`): RoMON's `secrets` (a settings record always shows its
/// values, empty included) and the SNMP community's `name` (the community itself). A reply
/// without them was read by a reader who cannot see them, so `live` writes [`HIDDEN`] there
/// and the rules say they cannot tell, instead of reading the absence as "no secret" or as
/// the default community.
const HIDDEN_WITHOUT_SENSITIVE: &[(&str, &str)] =
    &[("/tool/romon", "secrets"), ("/snmp/community", "name")];

/// Tunnels whose `ipsec-secret` decides whether they encrypt (TG220): a list menu, so an item
/// without one may have none, or may have one this reader cannot see. Which of the two is told
/// by whether the reader sees secrets at all: RoMON's settings record, whose `secrets` a
/// reader with `sensitive` always gets (empty included), is read first for that.
const TUNNEL_SECRETS: &[&str] = &[
    "/interface/gre",
    "/interface/gre6",
    "/interface/eoip",
    "/interface/eoipv6",
    "/interface/ipip",
    "/interface/ipipv6",
];

/// Whether the logged-in reader is shown secrets (it has the `sensitive` policy): the RoMON
/// settings record carries `secrets` then, and leaves it out otherwise
/// ([`HIDDEN_WITHOUT_SENSITIVE`]). A router that cannot say is taken as hiding them.
async fn sees_secrets(client: &Client) -> bool {
    client
        .call(&["/tool/romon/print"])
        .await
        .ok()
        .and_then(|r| r.first().map(|i| i.get("secrets").is_some()))
        .unwrap_or(false)
}

/// The value `live` gives a secret the router did not show ([`HIDDEN_WITHOUT_SENSITIVE`]).
/// Spaces and angle brackets make it a value no export writes unquoted and no rule takes for
/// a real name; rules compare against it with [`is_hidden`].
pub const HIDDEN: &str = "<hidden: read without the sensitive policy>";

/// Whether a value is a secret the live reader could not see.
pub fn is_hidden(v: &[u8]) -> bool {
    v == HIDDEN.as_bytes()
}

/// Address lists whose dynamic entries are read too: the lists harden writes for the sources
/// that must keep access ([`crate::harden::block`]). An entry RouterOS holds as dynamic (one
/// written with `timeout=`, or added by `add-src-to-address-list`: MikroTik's Address-lists
/// manual, "two new dynamic entries appeared in the address list (marked with a status of
/// 'D')"; held in RAM, gone once its timeout passes or at a reboot) still takes the list and
/// address: RouterOS keeps one entry per list and address and refuses a second with "failure:
/// already have such entry" (the emulator as RouterOS, `emu::rules`). Left out of the read, the
/// plan would add the lasting entry and the run would stop there, half applied; read, with
/// `dynamic=yes` and its `timeout`, the plan refuses before any change
/// ([`crate::harden::foreign::not_lasting`]). Other lists' dynamic entries (a block list filled
/// at run time, thousands of entries) stay out, as every other dynamic item does.
pub const DYNAMIC_KEPT_LISTS: &[&str] = crate::ros::TRUSTED_LISTS;

/// Whether a dynamic item of `path` (an API menu path) is read: an entry of the lists in
/// [`DYNAMIC_KEPT_LISTS`].
fn dynamic_kept(path: &str, item: &routeros_api::Reply) -> bool {
    matches!(
        path,
        "/ip/firewall/address-list" | "/ipv6/firewall/address-list"
    ) && item
        .get("list")
        .is_some_and(|l| DYNAMIC_KEPT_LISTS.iter().any(|k| k.as_bytes() == &l[..]))
}

const SKIP: &[&str] = &[
    "dynamic",
    "invalid",
    "running",
    "default",
    "builtin",
    "bytes",
    "packets",
    "actual-interface",
    "last-logged-in",
];

fn export_value(v: &[u8]) -> String {
    let v = match v {
        b"true" => &b"yes"[..],
        b"false" => &b"no"[..],
        other => other,
    };
    if !v.is_empty()
        && v.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.:,/*!@+".contains(c))
    {
        String::from_utf8_lossy(v).into_owned()
    } else {
        quote(v)
    }
}

/// Reads the router into an export text and the model built from it.
pub async fn fetch(client: &Client) -> Result<(Vec<u8>, Config), String> {
    let mut text = String::new();
    let version = client
        .call(&["/system/resource/print"])
        .await
        .ok()
        .and_then(|r| r.first().and_then(|r| r.get("version").cloned()))
        .map(|v| {
            String::from_utf8_lossy(&v)
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string()
        });
    if let Some(v) = &version {
        let _ = writeln!(text, "# live by RouterOS {v}");
    }
    // What the model holds before any configuration (`admin`, the groups, the services): one
    // the router no longer has was removed, and is removed from the model too.
    let sees_secrets = sees_secrets(client).await;
    let defaults =
        Config::with_defaults(version.as_deref().and_then(routeros_config::Version::parse));
    for (menu, builtins) in crate::menus::READ {
        let path = menu.replace(' ', "/");
        let mut words = vec![format!("{path}/print")];
        if let Some((_, props)) = PROPLISTS.iter().find(|(p, _)| *p == path) {
            words.push(format!("=.proplist={props}"));
        }
        let items = match client.call(&words).await {
            Ok(items) => items,
            // A menu this router does not have (a package, an older version).
            Err(routeros_api::Error::Trap { .. }) => continue,
            Err(e) => return Err(format!("{path}/print: {e}")),
        };
        let _ = writeln!(text, "{menu}");
        for gone in defaults.items(menu).iter().filter_map(|d| d.get("name")) {
            if !items
                .iter()
                .any(|i| i.get("name").is_some_and(|n| &n[..] == gone))
            {
                let _ = writeln!(text, "remove [ find name={} ]", export_value(gone));
            }
        }
        for item in items {
            let dynamic = item.get("dynamic").is_some_and(|d| &d[..] == b"true");
            if dynamic && !dynamic_kept(&path, &item) {
                continue;
            }
            let mut props: Vec<String> = item
                .attrs
                .iter()
                .filter(|(k, _)| {
                    !k.starts_with(b".") && !SKIP.contains(&&*String::from_utf8_lossy(k))
                })
                .map(|(k, v)| format!("{}={}", String::from_utf8_lossy(k), export_value(v)))
                .collect();
            if dynamic {
                props.push("dynamic=yes".into());
            }
            for (_, key) in HIDDEN_WITHOUT_SENSITIVE.iter().filter(|(m, _)| *m == path) {
                if item.get(key).is_none() {
                    props.push(format!("{key}={}", export_value(HIDDEN.as_bytes())));
                }
            }
            if !sees_secrets
                && TUNNEL_SECRETS.contains(&path.as_str())
                && item.get("ipsec-secret").is_none()
            {
                props.push(format!("ipsec-secret={}", export_value(HIDDEN.as_bytes())));
            }
            let name = item
                .get("name")
                .map(|n| String::from_utf8_lossy(n).into_owned());
            let is_settings = item.get(".id").is_none();
            if is_settings {
                let _ = writeln!(text, "set {}", props.join(" "));
            } else if name.as_deref().is_some_and(|n| builtins.contains(&n)) {
                let _ = writeln!(
                    text,
                    "set [ find name={} ] {}",
                    export_value(name.unwrap_or_default().as_bytes()),
                    props.join(" ")
                );
            } else if item.get("default").is_some_and(|d| &d[..] == b"true") {
                // A built-in item RouterOS flags `default` (the wireless security profile
                // `default`, `/ipv6 nd`'s `interface=all`): the export's own spelling, so the
                // model holds it as the built-in it is, not as one more item.
                let _ = writeln!(text, "set [ find default=yes ] {}", props.join(" "));
            } else {
                let _ = writeln!(text, "add {}", props.join(" "));
            }
        }
    }
    let bytes = text.into_bytes();
    let (config, _) = Config::load(bytes.clone());
    Ok((bytes, config))
}

/// Whether an item's value satisfies a `find` condition, comparing booleans as RouterOS does
/// (`yes`/`true`, `no`/`false`).
fn cond_holds(item: &routeros_api::Reply, c: &Cond) -> bool {
    let norm = |v: &[u8]| -> Vec<u8> {
        match v {
            b"yes" | b"true" => b"true".to_vec(),
            b"no" | b"false" => b"false".to_vec(),
            o => o.to_vec(),
        }
    };
    // A flag a reply leaves out is off (`dynamic` on a static item).
    let have = item.get(&c.key).map(|b| norm(b)).or_else(|| {
        c.value
            .as_deref()
            .filter(|v| norm(v.as_bytes()) == b"false")
            .map(|_| b"false".to_vec())
    });
    // A value read from an export holds bytes that are not UTF-8 as private-use characters
    // (`harden::script::name_text`): compared as the bytes the router holds.
    let hit = match &c.value {
        Some(v) => have.as_deref() == Some(&norm(&name_bytes(v))[..]),
        None => have.as_deref() == Some(b"true"),
    };
    hit != c.negated
}

/// The internal ids of the items matching every condition, in the router's order.
async fn resolve(client: &Client, api_menu: &str, conds: &[Cond]) -> Result<Vec<String>, String> {
    let mut keys: Vec<&str> = vec![".id"];
    keys.extend(conds.iter().map(|c| c.key.as_str()));
    let words = vec![
        format!("{api_menu}/print"),
        format!("=.proplist={}", keys.join(",")),
    ];
    let items = client
        .call(&words)
        .await
        .map_err(|e| format!("{api_menu}: {e}"))?;
    Ok(items
        .iter()
        .filter(|i| conds.iter().all(|c| cond_holds(i, c)))
        .filter_map(|i| {
            i.get(".id")
                .map(|b| String::from_utf8_lossy(b).into_owned())
        })
        .collect())
}

/// One planned command as API words, with its `find`s resolved on the router; no words when
/// it acts on every item of an empty set ([`Target::Every`]).
pub async fn stmt_to_api(client: &Client, stmt: &Stmt) -> Result<Vec<Vec<u8>>, String> {
    let api_menu = stmt.menu.replace(' ', "/");
    let mut words = vec![format!("{api_menu}/{}", stmt.verb).into_bytes()];
    match &stmt.target {
        Target::None => {}
        // `/certificate sign` names its certificate with `number` (singular), per RouterOS'
        // own command tree (`certificate.sign.number`, 7.9-7.24); `numbers` is refused as an
        // unknown parameter.
        Target::Name(n) if stmt.verb == "sign" => {
            words.push([b"=number=".to_vec(), name_bytes(n)].concat())
        }
        target => {
            let conds = match target {
                Target::Name(n) => vec![Cond::eq("name", n)],
                Target::Find(c) | Target::Every(c) => c.clone(),
                Target::None => unreachable!(),
            };
            let ids = resolve(client, &api_menu, &conds).await?;
            if ids.is_empty() && matches!(target, Target::Every(_)) {
                // Every item of none: nothing to send.
                return Ok(Vec::new());
            }
            if ids.is_empty() && stmt.verb != "remove" {
                return Err(format!("{}: nothing matches {}", stmt.menu, stmt.render()));
            }
            words.push(format!("=.id={}", ids.join(",")).into_bytes());
        }
    }
    for (k, v) in &stmt.args {
        let v = match v {
            // The API takes a list as its elements joined with commas (`,S` for `"",S`).
            Val::List(l) => name_bytes(&l.join(",")),
            Val::Text(t) => name_bytes(t),
            Val::Pick(conds) => match resolve(client, &api_menu, conds).await?.first() {
                Some(id) => id.clone().into_bytes(),
                // Nothing to place before: append.
                None => continue,
            },
        };
        words.push([format!("={k}=").into_bytes(), v].concat());
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    /// Passwords are never asked for: the menus holding them are read by property list, and no
    /// list names a password.
    #[test]
    fn users_and_ppp_secrets_are_read_by_name_without_passwords() {
        for menu in ["/user", "/ppp/secret"] {
            let (_, props) = super::PROPLISTS
                .iter()
                .find(|(m, _)| *m == menu)
                .unwrap_or_else(|| panic!("{menu} read without a property list"));
            assert!(!props.contains("password"), "{menu}: {props}");
            assert!(props.split(',').any(|p| p == ".id"), "{menu}: {props}");
        }
    }
}
