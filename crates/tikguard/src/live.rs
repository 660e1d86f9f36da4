//! A live router as the same model an export gives: print the menus the audit and the planner
//! read, write them as an export (`set` for RouterOS' built-in items, `add` for the rest), and
//! parse that. One analysis, two sources.
//!
//! Also turns the lines of a generated script into API sentences for a live router, resolving
//! the selectors scripts use (`[find comment=...]`, `[:pick [find] 0]`, a name) to internal ids.

use std::fmt::Write as _;

use routeros_api::Client;
use routeros_config::escape::{quote, unescape};
use routeros_config::{parse, Config, StatementKind};

/// Menus read from a live router: (API path, built-in item names that exist before config).
pub const MENUS: &[(&str, &[&str])] = &[
    ("/interface", &[]),
    ("/interface/list", &["all", "none", "dynamic", "static"]),
    ("/interface/list/member", &[]),
    ("/ip/address", &[]),
    ("/ip/route", &[]),
    ("/ip/dhcp-client", &[]),
    ("/interface/pppoe-client", &[]),
    (
        "/ip/service",
        &[
            "telnet",
            "ftp",
            "www",
            "ssh",
            "www-ssl",
            "api",
            "winbox",
            "api-ssl",
            "reverse-proxy",
        ],
    ),
    ("/ip/firewall/filter", &[]),
    ("/ipv6/firewall/filter", &[]),
    ("/ip/firewall/address-list", &[]),
    ("/ipv6/firewall/address-list", &[]),
    ("/user/group", &["read", "write", "full"]),
    ("/user", &["admin"]),
    ("/certificate", &[]),
    ("/system/logging", &[]),
    (
        "/system/logging/action",
        &["memory", "disk", "echo", "remote"],
    ),
    ("/ip/ssh", &[]),
    ("/ip/dns", &[]),
    ("/ip/socks", &[]),
    ("/ip/proxy", &[]),
    ("/tool/mac-server", &[]),
    ("/tool/mac-server/mac-winbox", &[]),
    ("/ip/neighbor/discovery-settings", &[]),
    ("/tool/bandwidth-server", &[]),
    ("/tool/romon", &[]),
    ("/user/settings", &[]),
    ("/system/identity", &[]),
];

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
    for (path, builtins) in MENUS {
        let items = match client.call(&[format!("{path}/print")]).await {
            Ok(items) => items,
            // A menu this router does not have (a package, an older version).
            Err(routeros_api::Error::Trap { .. }) => continue,
            Err(e) => return Err(format!("{path}/print: {e}")),
        };
        let menu = path.replace('/', " ");
        let _ = writeln!(text, "/{}", menu.trim());
        for item in items {
            if item.get("dynamic").is_some_and(|d| &d[..] == b"true") {
                continue;
            }
            let props: Vec<String> = item
                .attrs
                .iter()
                .filter(|(k, _)| {
                    !k.starts_with(b".") && !SKIP.contains(&&*String::from_utf8_lossy(k))
                })
                .map(|(k, v)| format!("{}={}", String::from_utf8_lossy(k), export_value(v)))
                .collect();
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
            } else {
                let _ = writeln!(text, "add {}", props.join(" "));
            }
        }
    }
    let bytes = text.into_bytes();
    let (config, _) = Config::load(bytes.clone());
    Ok((bytes, config))
}

/// Splits the inside of `[find a=b c="d e"]` into (key, value) conditions; `None` for anything
/// else.
fn find_conditions(expr: &str) -> Option<Vec<(String, Vec<u8>)>> {
    let inner = expr.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
    let rest = inner.strip_prefix("find")?.trim();
    let rest = rest.strip_prefix("where").unwrap_or(rest).trim();
    let mut out = Vec::new();
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let eq = rest[i..].find('=')? + i;
        let key = rest[i..eq].to_string();
        let mut j = eq + 1;
        let value = if bytes.get(j) == Some(&b'"') {
            let start = j + 1;
            j = start;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let v = unescape(&bytes[start..j.min(bytes.len())]);
            j += 1;
            v
        } else {
            let start = j;
            while j < bytes.len() && bytes[j] != b' ' {
                j += 1;
            }
            bytes[start..j].to_vec()
        };
        if key != "and" {
            out.push((key, value));
        }
        i = j;
    }
    Some(out)
}

/// The internal ids a selector picks on the router.
async fn resolve(client: &Client, api_menu: &str, selector: &str) -> Result<Vec<String>, String> {
    let s = selector.trim();
    let pick = s
        .strip_prefix("[:pick ")
        .and_then(|r| r.strip_suffix(']'))
        .map(str::trim);
    let (find, nth) = match pick {
        Some(p) => {
            let close = p
                .rfind(']')
                .ok_or_else(|| format!("cannot resolve `{s}`"))?;
            let n: usize = p[close + 1..]
                .trim()
                .parse()
                .map_err(|_| format!("cannot resolve `{s}`"))?;
            (p[..=close].to_string(), Some(n))
        }
        None => (s.to_string(), None),
    };
    let mut words = vec![format!("{api_menu}/print"), "=.proplist=.id".to_string()];
    if let Some(conds) = find_conditions(&find) {
        for (k, v) in conds {
            words.push(format!("?{k}={}", String::from_utf8_lossy(&v)));
        }
    } else {
        // A name.
        words.push(format!("?name={s}"));
    }
    let items = client
        .call(&words)
        .await
        .map_err(|e| format!("{api_menu}: {e}"))?;
    let ids: Vec<String> = items
        .iter()
        .filter_map(|i| {
            i.get(".id")
                .map(|b| String::from_utf8_lossy(b).into_owned())
        })
        .collect();
    Ok(match nth {
        Some(n) => ids.into_iter().nth(n).into_iter().collect(),
        None => ids,
    })
}

/// One script line as API words, with its selectors resolved on the router.
pub async fn to_api(client: &Client, line: &str) -> Result<Vec<Vec<Vec<u8>>>, String> {
    let parsed = parse(line.as_bytes().to_vec());
    let mut out = Vec::new();
    for st in parsed.statements {
        let StatementKind::Command(cmd) = st.kind else {
            return Err(format!("not a command: {line}"));
        };
        let api_menu = cmd.menu.replace(' ', "/");
        let mut words = vec![format!("{api_menu}/{}", cmd.verb).into_bytes()];
        let selector = cmd.positional(0).map(|v| v.to_lossy());
        if let Some(sel) = selector {
            let ids = if &*cmd.verb == "sign" {
                vec![sel.clone()]
            } else {
                resolve(client, &api_menu, &sel).await?
            };
            if ids.is_empty() {
                return Err(format!("`{sel}` matches nothing in {}", cmd.menu));
            }
            let key = if &*cmd.verb == "sign" {
                "numbers"
            } else {
                ".id"
            };
            words.push(format!("={key}={}", ids.join(",")).into_bytes());
        }
        for a in &cmd.args {
            let Some(k) = &a.key else { continue };
            let k = String::from_utf8_lossy(k).into_owned();
            let v = if k == "place-before" {
                let ids = resolve(client, &api_menu, &a.value.to_lossy()).await?;
                match ids.first() {
                    Some(id) => id.clone().into_bytes(),
                    // Nothing to place before: append.
                    None => continue,
                }
            } else {
                a.value.as_bytes().to_vec()
            };
            words.push([format!("={k}=").into_bytes(), v].concat());
        }
        out.push(words);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_conditions_read_quoted_and_bare_values() {
        let c = find_conditions("[find comment=\"billing API\" chain=input]").unwrap();
        assert_eq!(
            c,
            vec![
                ("comment".into(), b"billing API".to_vec()),
                ("chain".into(), b"input".to_vec())
            ]
        );
        assert_eq!(find_conditions("[find]").unwrap(), vec![]);
        assert!(find_conditions("ether1").is_none());
    }
}
