//! What only a running router can tell, read over the API for `audit --live`: users and their
//! last login, SSH keys, certificates with their dates, update status, RouterBOARD firmware,
//! active sessions, and who failed to log in (`/log`). The live-only rules (TG7xx) judge these;
//! an export has none of them.
//!
//! Menus and fields, as MikroTik's CLI reference and manuals name them (checked against the
//! command trees in `routeros-schema` 7.9-7.24, which hold the menus but not read-only fields):
//! - `/user` `name,group,address,disabled,last-logged-in` (CLI reference `user`:
//!   `last-logged-in` is a read-only `date`; RouterOS 6 has no such field, so a user without it
//!   is "not known", never "never logged in");
//! - `/user/ssh-keys` `user,key-type,bits,info` in 7 (`key-type` rsa, ed25519, ed25519-sk);
//!   for RouterOS 6, whose fields no manual page lists, `key-owner` is read too (approximated);
//! - `/certificate` `name,common-name,invalid-before,invalid-after,key-type,key-size,
//!   fingerprint` and the flags `private-key` (K), `authority` (A), `expired` (E), `trusted` (T)
//!   (Certificates manual);
//! - `/system/package/update` `channel,installed-version,latest-version,status`; the router
//!   learns `latest-version` only by `check-for-updates`, which contacts "the MikroTik download
//!   server" (CLI reference `system/package/update`): done only when asked (`--check-updates`),
//!   then `status` is polled until it no longer says it is checking (its texts are not in the
//!   manual: approximated, at most 30 s);
//! - `/system/routerboard` `routerboard,current-firmware,upgrade-firmware` (absent on CHR and
//!   x86: a trap, read as "no RouterBOARD");
//! - `/user/active` `name,when,address,via,group` (CLI reference `user/active`);
//! - `/log` `time,topics,message`, read as a stream; lines past [`LOG_LINES_MAX`] are read and
//!   dropped, and the report says so;
//! - `/system/clock` `date,time`: "now" for the router's own dates.
//!
//! Passwords are never asked for: every read names its properties ([`READS`]), and none of
//! them is `password` (a test pins it).

use std::collections::{BTreeMap, BTreeSet};

use routeros_api::Client;

/// One item as the router printed it: property -> value (bytes not UTF-8 shown lossily).
pub type Row = BTreeMap<String, String>;

/// (API path, `.proplist`) of every menu read here.
pub const READS: &[(&str, &str)] = &[
    ("/user", "name,group,address,disabled,last-logged-in,comment"),
    ("/user/ssh-keys", "user,key-type,bits,info,key-owner"),
    (
        "/certificate",
        "name,common-name,invalid-before,invalid-after,key-type,key-size,fingerprint,private-key,authority,expired,trusted",
    ),
    (
        "/system/package/update",
        "channel,installed-version,latest-version,status",
    ),
    (
        "/system/routerboard",
        "routerboard,current-firmware,upgrade-firmware",
    ),
    ("/user/active", "name,when,address,via,group"),
    ("/system/clock", "date,time"),
    ("/log", "time,topics,message"),
    ("/ip/firewall/address-list", "list,address,disabled"),
    ("/ipv6/firewall/address-list", "list,address,disabled"),
];

/// Log lines read at most: a router logging to disk can hold far more than the default 1000
/// memory lines; past this the rest is not read and the report says so.
pub const LOG_LINES_MAX: usize = 50_000;
/// Distinct sources of login failures kept; the others are counted, not listed.
pub const SOURCES_MAX: usize = 4_096;
/// The window of the log judged: the last 24 hours on the router's clock.
pub const WINDOW_MS: i64 = 24 * 3_600_000;

/// Failed logins from one source.
#[derive(Clone, Debug, Default)]
pub struct Knock {
    pub count: u64,
    pub services: BTreeSet<String>,
    /// Up to 5 of the user names tried.
    pub users: BTreeSet<String>,
    /// The address lists (`/ip firewall address-list`, dynamic entries included) that hold it.
    pub lists: BTreeSet<String>,
}

/// Login failures in the log.
#[derive(Clone, Debug, Default)]
pub struct Knocks {
    pub lines_read: usize,
    /// The log held more than [`LOG_LINES_MAX`] lines.
    pub capped: bool,
    /// Sources (an address, or a MAC for MAC-Winbox/MAC-Telnet) and their failures.
    pub by_source: BTreeMap<String, Knock>,
    /// Sources beyond [`SOURCES_MAX`].
    pub sources_dropped: u64,
    /// The log could not be read (no `read` policy on it, an error).
    pub unreadable: Option<String>,
}

/// Everything read.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The router's clock (ms, its own wall time), when it could be read.
    pub now_ms: Option<i64>,
    pub users: Option<Vec<Row>>,
    pub ssh_keys: Option<Vec<Row>>,
    pub certificates: Option<Vec<Row>>,
    pub update: Option<Row>,
    pub routerboard: Option<Row>,
    pub active: Option<Vec<Row>>,
    pub knocks: Knocks,
    /// `--check-updates` was given, and what came of it.
    pub update_check: Option<Result<(), String>>,
    /// Menus that could not be read, with why (no `read` policy, a dropped connection): the
    /// rules on them judge nothing, and `audit --live` says so. `/system/routerboard` is not
    /// among them: CHR and x86 have none.
    pub unread: Vec<(String, String)>,
}

fn row(r: &routeros_api::Reply) -> Row {
    r.attrs
        .iter()
        .filter(|(k, _)| &k[..] != b"password")
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

fn words(path: &str) -> Vec<String> {
    let props = READS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, l)| *l)
        .unwrap_or("");
    vec![format!("{path}/print"), format!("=.proplist={props}")]
}

async fn rows(client: &Client, path: &str, unread: &mut Vec<(String, String)>) -> Option<Vec<Row>> {
    match client.call(&words(path)).await {
        Ok(rs) => Some(rs.iter().map(row).collect()),
        Err(e) => {
            if path != "/system/routerboard" {
                unread.push((path.to_string(), e.to_string()));
            }
            None
        }
    }
}

/// Reads the router; `check_updates` makes it ask MikroTik for the latest version first.
pub async fn read(client: &Client, check_updates: bool) -> Facts {
    let mut f = Facts::default();
    let mut unread = Vec::new();
    if let Some(c) = rows(client, "/system/clock", &mut unread)
        .await
        .and_then(|r| r.into_iter().next())
    {
        if let (Some(d), Some(t)) = (c.get("date"), c.get("time")) {
            f.now_ms = crate::watch::clock::router_clock_ms(d, t);
        }
    }
    f.users = rows(client, "/user", &mut unread).await;
    f.ssh_keys = rows(client, "/user/ssh-keys", &mut unread).await;
    f.certificates = rows(client, "/certificate", &mut unread).await;
    if check_updates {
        f.update_check = Some(check_for_updates(client).await);
    }
    f.update = rows(client, "/system/package/update", &mut unread)
        .await
        .and_then(|r| r.into_iter().next());
    f.routerboard = rows(client, "/system/routerboard", &mut unread)
        .await
        .and_then(|r| r.into_iter().next())
        .filter(|r| {
            r.get("routerboard")
                .is_none_or(|v| v == "true" || v == "yes")
        });
    f.active = rows(client, "/user/active", &mut unread).await;
    f.knocks = read_log(client, f.now_ms).await;
    if let Some(e) = &f.knocks.unreadable {
        unread.push(("/log".into(), e.clone()));
    }
    if !f.knocks.by_source.is_empty() {
        for path in ["/ip/firewall/address-list", "/ipv6/firewall/address-list"] {
            mark_listed(client, path, &mut f.knocks).await;
        }
    }
    f.unread = unread;
    f
}

/// Streams an address-list table (a block list can hold 200,000 entries: never held whole)
/// and notes, for each knocking source, the lists whose entries hold it.
async fn mark_listed(client: &Client, path: &str, k: &mut Knocks) {
    // Sorted by (family, number): each entry's range finds its sources by binary search, so a
    // 200,000-entry list against 4,096 sources stays O(entries x log sources).
    let mut sources: Vec<((bool, u128), String)> = k
        .by_source
        .keys()
        .filter_map(|s| {
            let ip: std::net::IpAddr = s.parse().ok()?;
            Some((
                match ip {
                    std::net::IpAddr::V4(a) => (false, u32::from(a) as u128),
                    std::net::IpAddr::V6(a) => (true, u128::from(a)),
                },
                s.clone(),
            ))
        })
        .collect();
    sources.sort();
    let Ok(mut s) = client.stream(&words(path)).await else {
        return;
    };
    while let Some(Ok(r)) = s.next().await {
        if r.get("disabled").is_some_and(|d| &d[..] == b"true") {
            continue;
        }
        let (Some(list), Some(addr)) = (r.get("list"), r.get("address")) else {
            continue;
        };
        let Some(m) = routeros_config::value::parse_addr(addr) else {
            continue;
        };
        let first = sources.partition_point(|(key, _)| *key < (m.range.v6, m.range.start));
        for (key, name) in &sources[first..] {
            if *key > (m.range.v6, m.range.end) {
                break;
            }
            if let Some(e) = k.by_source.get_mut(name) {
                if e.lists.len() < 16 {
                    e.lists.insert(String::from_utf8_lossy(list).into_owned());
                }
            }
        }
    }
}

/// `check-for-updates`, then `status` polled until it is no longer in progress (at most 30 s).
async fn check_for_updates(client: &Client) -> Result<(), String> {
    client
        .call(&["/system/package/update/check-for-updates"])
        .await
        .map_err(|e| format!("check-for-updates: {e}"))?;
    for _ in 0..30 {
        let now = rows(client, "/system/package/update", &mut Vec::new())
            .await
            .and_then(|r| r.into_iter().next())
            .unwrap_or_default();
        let st = now
            .get("status")
            .cloned()
            .unwrap_or_default()
            .to_lowercase();
        let learnt = now.get("latest-version").is_some_and(|v| !v.is_empty());
        let busy =
            st.contains("finding out") || st.contains("checking") || (st.is_empty() && !learnt);
        if !busy {
            return if st.starts_with("error") {
                Err(now.get("status").cloned().unwrap_or_default())
            } else {
                Ok(())
            };
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    Err("check-for-updates: no answer within 30 s".into())
}

/// Streams `/log`, keeping only a count per source of the login failures of the last
/// [`WINDOW_MS`] (the whole log when the clock is unknown): memory is bounded by
/// [`SOURCES_MAX`], time by [`LOG_LINES_MAX`].
async fn read_log(client: &Client, now: Option<i64>) -> Knocks {
    let mut k = Knocks::default();
    let mut s = match client.stream(&words("/log")).await {
        Ok(s) => s,
        Err(e) => {
            k.unreadable = Some(e.to_string());
            return k;
        }
    };
    while let Some(r) = s.next().await {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                k.unreadable = Some(e.to_string());
                break;
            }
        };
        if k.lines_read == LOG_LINES_MAX {
            // The rest is read and dropped, not cancelled: a plain `print` ends by itself
            // (`/log print` shows the memory buffer, `memory-lines` long), and a `/cancel` sent
            // while its replies fill the stream's queue would wait behind them.
            k.capped = true;
            continue;
        }
        k.lines_read += 1;
        let text = |n: &str| r.get(n).map(|v| String::from_utf8_lossy(v).into_owned());
        let (Some(topics), Some(message)) = (text("topics"), text("message")) else {
            continue;
        };
        count(&mut k, now, text("time").as_deref(), &topics, &message);
    }
    k
}

/// Counts one log line if it is a login failure within the window (the parser `watch` uses).
pub fn count(k: &mut Knocks, now: Option<i64>, time: Option<&str>, topics: &str, message: &str) {
    use crate::watch::event::{parse_message, topics_fit, Kind, Source};
    let Some(ev) = parse_message(message) else {
        return;
    };
    if ev.kind != Kind::LoginFailure || !topics_fit(Kind::LoginFailure, topics) {
        return;
    }
    if let (Some(now), Some(t)) = (now, time) {
        match crate::watch::clock::log_entry_ms(t, now) {
            Some(at) if now - at > WINDOW_MS => return,
            _ => {}
        }
    }
    let source = match ev.source {
        Source::Ip(ip) => ip.to_string(),
        Source::Mac(m) => m
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
        Source::Unknown => "unknown".into(),
    };
    if !k.by_source.contains_key(&source) && k.by_source.len() >= SOURCES_MAX {
        k.sources_dropped += 1;
        return;
    }
    let e = k.by_source.entry(source).or_default();
    e.count += 1;
    if e.services.len() < 16 {
        e.services.insert(ev.via);
    }
    if e.users.len() < 5 {
        e.users.insert(ev.user);
    }
}

/// A router date and time (`invalid-after`, `last-logged-in`, `when`) in ms on its clock:
/// `2026-12-25 10:00:00` from 7.10, `dec/25/2026 10:00:00` before.
pub fn date_ms(text: &str) -> Option<i64> {
    let (d, t) = text.trim().split_once(' ')?;
    crate::watch::clock::router_clock_ms(d, t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Passwords are never read: every menu read names its properties, and none is `password`.
    #[test]
    fn the_live_reader_never_asks_for_a_password() {
        for (path, props) in READS {
            let w = words(path);
            assert_eq!(w[1], format!("=.proplist={props}"), "{path}");
            assert!(
                !props.split(',').any(|p| p.contains("password")),
                "{path} asks for {props}"
            );
        }
    }

    /// Every menu read is in RouterOS' command tree (7.9-7.24, `emu/menus.txt`), but
    /// `/system/routerboard`, which CHR (the tree's source) does not have.
    #[test]
    fn every_menu_read_is_in_routeros_command_tree() {
        let tree = include_str!("../emu/menus.txt");
        for (path, _) in READS.iter().filter(|(p, _)| *p != "/system/routerboard") {
            let menu = format!("/{}", path[1..].replace('/', " "));
            assert!(tree.lines().any(|l| l == menu), "{menu}");
        }
    }

    #[test]
    fn login_failures_are_counted_per_source_within_a_day_and_other_lines_are_not() {
        let now = date_ms("2026-12-05 12:00:00").unwrap();
        let mut k = Knocks::default();
        let crit = "system,error,critical";
        let m = "login failure for user admin from 198.51.100.7 via ssh";
        count(&mut k, Some(now), Some("11:00:00"), crit, m);
        count(&mut k, Some(now), Some("2026-12-01 11:00:00"), crit, m);
        count(&mut k, Some(now), Some("11:00:00"), "script,error", m);
        count(
            &mut k,
            Some(now),
            Some("11:30:00"),
            crit,
            "login failure for user root from 198.51.100.7 via api",
        );
        let e = &k.by_source["198.51.100.7"];
        assert_eq!(e.count, 2);
        assert_eq!(e.services.iter().collect::<Vec<_>>(), ["api", "ssh"]);
        assert_eq!(k.by_source.len(), 1);
    }

    #[test]
    fn sources_are_bounded() {
        let mut k = Knocks::default();
        for i in 0..(SOURCES_MAX as u32 + 10) {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            let m = format!("login failure for user a from {ip} via ssh");
            count(&mut k, None, None, "system,error,critical", &m);
        }
        assert_eq!(k.by_source.len(), SOURCES_MAX);
        assert_eq!(k.sources_dropped, 10);
    }

    #[test]
    fn both_date_forms_read_alike() {
        assert_eq!(
            date_ms("2026-12-25 10:00:00"),
            date_ms("dec/25/2026 10:00:00")
        );
        assert!(date_ms("never").is_none());
    }
}
