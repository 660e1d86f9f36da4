//! The emulated router's state and what each API command does to it.
//!
//! The configuration is `routeros-config`'s model of an export; users, groups and services come
//! from it (with RouterOS' defaults), passwords from `--password-file`. Behaviour follows
//! MikroTik's API manual and what RouterOS answers on the wire:
//!
//! - login (`/login =name= =password=`; before 6.43 the MD5 challenge) checks the password, the
//!   group's `api` policy, the user's `address=`, and the service's `address=` and `disabled`;
//!   every failure answers `invalid user name or password (6)` and is logged as RouterOS logs it;
//! - `print` (`.proplist`, `?` queries, `count-only`), `add` (`=ret=*ID`), `set`, `unset`,
//!   `remove` (comma lists), `enable`, `disable` on any menu, `read`/`write` policies enforced,
//!   secrets shown only with `sensitive` and user passwords never;
//! - `add` and `set` refuse what RouterOS refuses ([`super::rules`]): unknown arguments,
//!   duplicates of a unique key, references to things that do not exist; `/user add
//!   =password=` sets the password the user logs in with;
//! - `listen` streams changes (`=.dead=true` on removal) through a bounded queue: a session
//!   that does not read them is ended ([`Sink`]); `/cancel =tag=N` interrupts N, `/cancel`
//!   without a tag every running command of the session (the API manual: "cancels all running
//!   commands");
//! - unknown paths answer category 0 `no such command prefix`; RouterOS 7.18+ answers a print
//!   that finds nothing with `!empty` before `!done` (as wire traces in client projects show,
//!   e.g. pear2/Net_RouterOS#80).

use std::collections::HashMap;
use std::net::IpAddr;

use bytes::Bytes;
use routeros_api::sentence::{Reply, ReplyKind, Request};
use routeros_config::secrets::is_secret_in;
use routeros_config::value::{parse_addr, parse_list};
use routeros_config::{Config, Item, Value, Version};

use super::rules::{self, Refusal};
use super::{defaults, query};

const MENUS: &str = include_str!("menus.txt");

/// One log line, as `/log print` shows it.
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub id: u32,
    /// When it was logged, on the router's clock (ms since the epoch; [`super::clock`]).
    pub at_ms: i64,
    pub topics: String,
    pub message: String,
}

/// Where a session receives what its `listen`s stream: a bounded queue, and a signal that ends
/// the session when the queue is full (a client that does not read is disconnected alone).
#[derive(Clone)]
pub struct Sink {
    pub tx: tokio::sync::mpsc::Sender<Reply>,
    pub kick: std::sync::Arc<tokio::sync::Notify>,
}

/// A `/listen` registration.
pub struct Listener {
    pub session: u64,
    pub menu: String,
    pub tag: Option<Bytes>,
    pub sink: Sink,
    /// The `?` query of a `print follow`/`follow-only`: what it streams (empty: everything).
    pub query: Vec<query::Word>,
}

pub struct Router {
    pub config: Config,
    pub passwords: HashMap<String, String>,
    pub version: Version,
    pub log: Vec<LogEntry>,
    pub listeners: Vec<Listener>,
    /// Log lines to forward to the remote syslog, taken by the server.
    pub outbox: Vec<LogEntry>,
    known_menus: std::collections::HashSet<String>,
    next_log: u32,
    /// Address-list entries counting down their `timeout` ([`super::expiry`]).
    pub(super) expiry: super::expiry::Expiry,
    /// The router's clock minus this host's, in ms (`/system/clock/set`; [`super::clock`]).
    pub clock_offset_ms: i64,
    /// What `/system/package/update/check-for-updates` reveals (`--state`; [`super::state`]).
    pub update: Option<super::state::PendingUpdate>,
    /// How many times a client made the router check for updates (tests pin that the audit
    /// does not unless asked).
    pub update_checks: u32,
}

/// Who is talking, once logged in.
#[derive(Clone, Debug)]
pub struct Login {
    pub user: String,
    pub policies: Vec<String>,
}

impl Login {
    fn can(&self, p: &str) -> bool {
        self.policies.iter().any(|x| x == p)
    }
}

pub fn reply(kind: ReplyKind, tag: &Option<Bytes>, attrs: Vec<(&str, Vec<u8>)>) -> Reply {
    Reply::new(kind, tag, attrs)
}

fn refused(tag: &Option<Bytes>, r: Refusal) -> Vec<Reply> {
    trap(tag, r.category, &r.message)
}

pub fn trap(tag: &Option<Bytes>, category: Option<u8>, message: &str) -> Vec<Reply> {
    Reply::trap(tag, category, message)
}

fn done(tag: &Option<Bytes>) -> Reply {
    reply(ReplyKind::Done, tag, vec![])
}

/// API booleans are `true`/`false`; exports write `yes`/`no`.
fn api_value(v: &[u8]) -> Vec<u8> {
    match v {
        b"yes" => b"true".to_vec(),
        b"no" => b"false".to_vec(),
        other => other.to_vec(),
    }
}

fn config_value(v: &[u8]) -> Vec<u8> {
    match v {
        b"true" => b"yes".to_vec(),
        b"false" => b"no".to_vec(),
        other => other.to_vec(),
    }
}

fn ip_in(list: &[u8], ip: IpAddr) -> bool {
    let (v6, n) = match ip {
        IpAddr::V4(a) => (false, u32::from(a) as u128),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (false, u32::from(v4) as u128),
            None => (true, u128::from(a)),
        },
    };
    list.split(|&c| c == b',')
        .filter_map(parse_addr)
        .any(|m| m.range.v6 == v6 && m.range.start <= n && n <= m.range.end)
}

impl Router {
    pub fn new(config: Config, passwords: HashMap<String, String>, version: Version) -> Router {
        let known_menus = MENUS
            .lines()
            .filter(|l| l.starts_with('/'))
            .map(str::to_string)
            .collect();
        Router {
            config,
            passwords,
            version,
            log: Vec::new(),
            listeners: Vec::new(),
            outbox: Vec::new(),
            known_menus,
            next_log: 1,
            expiry: Default::default(),
            clock_offset_ms: 0,
            update: None,
            update_checks: 0,
        }
    }

    /// The router's clock now (ms since the epoch).
    pub fn clock_ms(&self) -> i64 {
        super::clock::host_ms() + self.clock_offset_ms
    }

    pub fn log(&mut self, topics: &str, message: String) {
        let now = self.clock_ms();
        self.log_at(now, topics, message);
        // Sent on to the remote syslog: what happens now, not a `--state` history.
        if let Some(e) = self.log.last() {
            self.outbox.push(e.clone());
        }
    }

    /// Logs a line as written at `at_ms` on the router's clock (a `--state` log).
    pub fn log_at(&mut self, at_ms: i64, topics: &str, message: String) {
        let e = LogEntry {
            id: self.next_log,
            at_ms,
            topics: topics.to_string(),
            message,
        };
        self.next_log += 1;
        // `/log/print follow-only` streams each new entry as a `!re` (clients tail the log so).
        if self.listeners.iter().any(|l| l.menu == "/log") {
            let attrs = vec![
                (
                    Bytes::from_static(b".id"),
                    Bytes::from(format!("*{:X}", e.id)),
                ),
                (
                    Bytes::from_static(b"time"),
                    Bytes::from(super::clock::log_time(e.at_ms, e.at_ms, &self.version)),
                ),
                (Bytes::from_static(b"topics"), Bytes::from(e.topics.clone())),
                (
                    Bytes::from_static(b"message"),
                    Bytes::from(e.message.clone()),
                ),
            ];
            self.notify("/log", attrs);
        }
        self.log.push(e);
    }

    fn menu_exists(&self, menu: &str) -> bool {
        if defaults::ipv6_package_off(&self.config, &self.version, menu) {
            return false;
        }
        menu == "/log" || self.known_menus.contains(menu) || self.config.menu(menu).is_some()
    }

    /// Checks a login; on success, the user and their policies. Failures and successes are logged.
    pub fn login(
        &mut self,
        user: &str,
        check: impl FnOnce(&str) -> bool,
        peer: IpAddr,
        service: &str,
    ) -> Option<Login> {
        let ok = (|| {
            let u = self.config.menu("/user")?.by_name(user)?;
            if u.is_disabled() {
                return None;
            }
            let password = self.passwords.get(user)?;
            if !check(password) {
                return None;
            }
            let group = u.get_str("group")?;
            let policies: Vec<String> = self
                .config
                .menu("/user group")?
                .by_name(&group)?
                .get("policy")
                .map(|p| {
                    parse_list(p)
                        .into_iter()
                        .filter(|e| !e.negated)
                        .map(|e| String::from_utf8_lossy(e.name).into_owned())
                        .collect()
                })
                .unwrap_or_default();
            if !policies.iter().any(|p| p == "api") {
                return None;
            }
            if let Some(a) = u.get("address").filter(|a| !a.is_empty()) {
                if !ip_in(a, peer) {
                    return None;
                }
            }
            let svc = self.config.menu("/ip service")?.by_name(service)?;
            if svc.is_disabled() {
                return None;
            }
            if let Some(a) = svc.get("address").filter(|a| !a.is_empty()) {
                if !ip_in(a, peer) {
                    return None;
                }
            }
            Some(Login {
                user: user.to_string(),
                policies,
            })
        })();
        match &ok {
            Some(_) => self.log(
                "system,info,account",
                format!("user {user} logged in from {peer} via {service}"),
            ),
            None => self.log(
                "system,error,critical",
                format!("login failure for user {user} from {peer} via {service}"),
            ),
        }
        ok
    }

    fn item_attrs(
        &self,
        menu: &str,
        item: &Item,
        who: &Login,
        proplist: Option<&[Vec<u8>]>,
    ) -> Vec<(Bytes, Bytes)> {
        let mut attrs: Vec<(Bytes, Bytes)> = Vec::with_capacity(item.props.len() + 2);
        let want = |k: &[u8]| proplist.is_none_or(|l| l.iter().any(|p| p == k));
        if want(b".id") {
            attrs.push((
                Bytes::from_static(b".id"),
                Bytes::from(format!("*{:X}", item.id)),
            ));
        }
        // A built-in item shows its flag (`default=true`) and its name, which an export that
        // selected it with `[ find default=yes ]` never wrote ([`defaults::builtin_name`]).
        if item.builtin {
            if want(b"default") {
                attrs.push((Bytes::from_static(b"default"), Bytes::from_static(b"true")));
            }
            if let Some(n) = defaults::builtin_name(menu).filter(|_| item.get("name").is_none()) {
                if want(b"name") {
                    attrs.push((
                        Bytes::from_static(b"name"),
                        Bytes::from_static(n.as_bytes()),
                    ));
                }
            }
        }
        let mut has_disabled = false;
        for p in &item.props {
            if &p.key[..] == b"password" && menu == "/user" {
                continue;
            }
            if is_secret_in(menu, &p.key) && !who.can("sensitive") {
                continue;
            }
            has_disabled |= &p.key[..] == b"disabled";
            if want(&p.key) {
                attrs.push((p.key.clone(), Bytes::from(api_value(p.value.as_bytes()))));
            }
        }
        if !has_disabled && want(b"disabled") && menu != "/log" {
            let off = defaults::disabled_by_default(menu);
            attrs.push((
                Bytes::from_static(b"disabled"),
                Bytes::from_static(if off { b"true" } else { b"false" }),
            ));
        }
        attrs
    }

    /// The log as items of a `/log` menu, for `print` and its queries.
    fn log_items(&self) -> Vec<Item> {
        let mut scratch = Config::with_defaults(None);
        let menu = scratch.menu_mut("/log");
        let now = self.clock_ms();
        for e in &self.log {
            let time = super::clock::log_time(e.at_ms, now, &self.version);
            menu.push(&[
                ("time", &time),
                ("topics", &e.topics),
                ("message", &e.message),
            ]);
            if let Some(it) = menu.items.last_mut() {
                it.id = e.id;
            }
        }
        std::mem::take(&mut menu.items)
    }

    /// Runs one command for a logged-in session; returns the replies to send.
    pub fn command(&mut self, session: u64, who: &Login, req: &Request, sink: &Sink) -> Vec<Reply> {
        self.expire_at(std::time::Instant::now());
        let tag = &req.tag;
        let cmd = String::from_utf8_lossy(&req.command).into_owned();
        let segs: Vec<&str> = cmd.split('/').filter(|s| !s.is_empty()).collect();
        let Some((verb, path)) = segs.split_last() else {
            return trap(tag, Some(0), "no such command prefix");
        };
        let menu = format!("/{}", path.join(" "));
        if path.is_empty() || !self.menu_exists(&menu) {
            return trap(tag, Some(0), "no such command prefix");
        }
        let needs = match *verb {
            "print" | "getall" | "listen" => "read",
            "add" | "set" | "unset" | "remove" | "enable" | "disable" => "write",
            // Signing a certificate: the emulator has no keys; the certificate is marked signed.
            "sign" if menu == "/certificate" => "write",
            // Makes the router contact MikroTik's servers: `write` (approximated; the Packages
            // manual does not name the policy).
            "check-for-updates" if menu == "/system package update" => "write",
            _ => return trap(tag, Some(0), "no such command"),
        };
        if !who.can(needs) {
            return trap(tag, None, "not enough permissions (9)");
        }
        let args: Vec<String> = req
            .attrs
            .iter()
            .filter(|(k, _)| !k.starts_with(b"."))
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect();
        if let Err(r) = rules::check_arguments(&self.version, &menu, verb, &args) {
            return refused(tag, r);
        }
        match *verb {
            // `/log/print =follow-only=` streams new entries until `/cancel`; `=follow=` prints
            // what is there first. The query (`?topics=...`) applies to both.
            "print"
                if menu == "/log"
                    && (req.get("follow-only").is_some() || req.get("follow").is_some()) =>
            {
                let mut query = Vec::new();
                for q in &req.queries {
                    match query::parse(q) {
                        Some(w) => query.push(w),
                        None => return trap(tag, Some(1), "unknown parameter"),
                    }
                }
                let mut out = Vec::new();
                if req.get("follow").is_some() {
                    out = self.print(&menu, who, req);
                    out.retain(|r| r.kind == ReplyKind::Re);
                }
                self.listeners.push(Listener {
                    session,
                    menu,
                    tag: tag.clone(),
                    sink: sink.clone(),
                    query,
                });
                out
            }
            "print" | "getall" => self.print(&menu, who, req),
            "listen" => {
                self.listeners.push(Listener {
                    session,
                    menu,
                    tag: tag.clone(),
                    sink: sink.clone(),
                    query: Vec::new(),
                });
                Vec::new()
            }
            "add" => self.add(&menu, who, req),
            "set" if menu == "/system clock" => {
                let text = |k: &str| req.get(k).map(|v| String::from_utf8_lossy(v).into_owned());
                let (time, date) = (text("time"), text("date"));
                let host = super::clock::host_ms();
                match super::clock::offset_after_set(
                    host + self.clock_offset_ms,
                    host,
                    time.as_deref(),
                    date.as_deref(),
                ) {
                    Some(off) => {
                        self.clock_offset_ms = off;
                        vec![done(tag)]
                    }
                    None => trap(tag, Some(1), "value of time or date out of range"),
                }
            }
            "sign" => self.sign(req),
            "check-for-updates" => {
                super::state::check_for_updates(self);
                vec![done(tag)]
            }
            _ => self.edit(&menu, verb, who, req),
        }
    }

    fn print(&self, menu: &str, who: &Login, req: &Request) -> Vec<Reply> {
        let tag = &req.tag;
        let proplist: Option<Vec<Vec<u8>>> = req
            .get(".proplist")
            .map(|p| p.split(|&c| c == b',').map(<[u8]>::to_vec).collect());
        let mut words = Vec::new();
        for q in &req.queries {
            match query::parse(q) {
                Some(w) => words.push(w),
                None => return trap(tag, Some(1), "unknown parameter"),
            }
        }
        if menu == "/system clock" {
            let now = self.clock_ms();
            return vec![
                reply(
                    ReplyKind::Re,
                    tag,
                    vec![
                        ("time", super::clock::time_text(now).into_bytes()),
                        (
                            "date",
                            super::clock::date_text(now, &self.version).into_bytes(),
                        ),
                        ("time-zone-autodetect", b"false".to_vec()),
                        ("time-zone-name", b"manual".to_vec()),
                        ("gmt-offset", b"+00:00".to_vec()),
                        ("dst-active", b"false".to_vec()),
                    ],
                ),
                done(tag),
            ];
        }
        if menu == "/system resource" {
            let v = format!("{} (stable)", self.version);
            return vec![
                reply(
                    ReplyKind::Re,
                    tag,
                    vec![
                        ("version", v.into_bytes()),
                        ("board-name", b"CHR".to_vec()),
                        ("platform", b"MikroTik".to_vec()),
                        ("architecture-name", b"x86_64".to_vec()),
                    ],
                ),
                done(tag),
            ];
        }
        let log_items;
        let items: &[Item] = if menu == "/log" {
            log_items = self.log_items();
            &log_items
        } else {
            self.config.items(menu)
        };
        let mut out = Vec::new();
        let settings = self.config.menu(menu).map(|m| &m.settings);
        let defaults = defaults::settings(menu, &self.version);
        if items.is_empty()
            && (!defaults.is_empty() || settings.is_some_and(|s| !s.props.is_empty()))
        {
            // A settings menu prints its one record: every value, the export's over RouterOS'
            // defaults (an export leaves the defaults out; `print` shows them).
            let mut attrs: Vec<(Bytes, Bytes)> = defaults
                .iter()
                .filter(|(k, _)| settings.is_none_or(|s| s.get(k).is_none()))
                .filter(|(k, _)| !is_secret_in(menu, k.as_bytes()) || who.can("sensitive"))
                .map(|(k, v)| {
                    (
                        Bytes::from_static(k.as_bytes()),
                        Bytes::from(api_value(v.as_bytes())),
                    )
                })
                .collect();
            attrs.extend(
                settings
                    .into_iter()
                    .flat_map(|s| &s.props)
                    .filter(|p| !is_secret_in(menu, &p.key) || who.can("sensitive"))
                    .map(|p| (p.key.clone(), Bytes::from(api_value(p.value.as_bytes())))),
            );
            out.push(Reply {
                kind: ReplyKind::Re,
                tag: tag.clone(),
                attrs,
                reason: None,
            });
        }
        for item in items {
            let attrs = self.item_attrs(menu, item, who, None);
            let pass = query::matches(&words, |k| {
                attrs.iter().find(|(n, _)| &n[..] == k).map(|(_, v)| &v[..])
            });
            if !pass {
                continue;
            }
            let attrs = match &proplist {
                Some(l) => self.item_attrs(menu, item, who, Some(l)),
                None => attrs,
            };
            out.push(Reply {
                kind: ReplyKind::Re,
                tag: tag.clone(),
                attrs,
                reason: None,
            });
        }
        if req.get("count-only").is_some() {
            return vec![reply(
                ReplyKind::Done,
                tag,
                vec![("ret", out.len().to_string().into_bytes())],
            )];
        }
        if out.is_empty() && self.version.at_least(7, 18, 0) {
            out.push(reply(ReplyKind::Empty, tag, vec![]));
        }
        out.push(done(tag));
        out
    }

    /// Streams a change to the menu's listeners; a session whose queue is full is ended.
    pub(super) fn notify(&mut self, menu: &str, attrs: Vec<(Bytes, Bytes)>) {
        let mut overflowed = Vec::new();
        for l in self.listeners.iter().filter(|l| l.menu == menu) {
            let wanted = query::matches(&l.query, |k| {
                attrs.iter().find(|(n, _)| &n[..] == k).map(|(_, v)| &v[..])
            });
            if !wanted {
                continue;
            }
            let sent = l.sink.tx.try_send(Reply {
                kind: ReplyKind::Re,
                tag: l.tag.clone(),
                attrs: attrs.clone(),
                reason: None,
            });
            if let Err(tokio::sync::mpsc::error::TrySendError::Full(_)) = sent {
                l.sink.kick.notify_one();
                overflowed.push(l.session);
            }
        }
        if !overflowed.is_empty() {
            self.listeners.retain(|l| !overflowed.contains(&l.session));
        }
    }

    fn sign(&mut self, req: &Request) -> Vec<Reply> {
        let tag = &req.tag;
        let target = req
            .get("number")
            .or_else(|| req.get("name"))
            .cloned()
            .unwrap_or_default();
        let m = self.config.menu_mut("/certificate");
        let found = m.items.iter_mut().find(|i| {
            i.get("name") == Some(&target[..]) || format!("*{:X}", i.id).as_bytes() == &target[..]
        });
        match found {
            Some(it) => {
                it.set(b"private-key", Value::new(&b"yes"[..]), Default::default());
                it.set(b"trusted", Value::new(&b"yes"[..]), Default::default());
                vec![done(tag)]
            }
            None => trap(tag, None, "no such item"),
        }
    }

    /// The attributes a request sets, in the export's spelling (`yes`/`no`).
    fn values(req: &Request) -> Vec<(String, Vec<u8>)> {
        req.attrs
            .iter()
            .filter(|(k, _)| !k.starts_with(b".") && &k[..] != b"numbers")
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), config_value(v)))
            .collect()
    }

    fn add(&mut self, menu: &str, who: &Login, req: &Request) -> Vec<Reply> {
        let tag = &req.tag;
        let values = Self::values(req);
        if let Err(r) = rules::check_references(&self.config, menu, &values) {
            return refused(tag, r);
        }
        let lookup = |k: &str| values.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if let Err(r) = rules::check_unique(&self.config, menu, lookup, None) {
            return refused(tag, r);
        }
        if menu == "/user" {
            if let (Some(name), Some(pw)) = (req.get("name"), req.get("password")) {
                self.passwords.insert(
                    String::from_utf8_lossy(name).into_owned(),
                    String::from_utf8_lossy(pw).into_owned(),
                );
            }
        }
        let m = self.config.menu_mut(menu);
        // `place-before=*ID` puts the new item in front of that one (firewall rules, queues):
        // MikroTik's Firewall Filter manual, `place-before`.
        let before = match values.iter().find(|(k, _)| k == "place-before") {
            Some((_, v)) => match std::str::from_utf8(v)
                .ok()
                .and_then(|t| t.strip_prefix('*'))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(|id| m.items.iter().position(|i| i.id == id))
            {
                Some(pos) => Some(pos),
                None => return trap(tag, Some(1), "no such item"),
            },
            None => None,
        };
        let id = m.push(&[]);
        if let Some(pos) = before {
            if let Some(new) = m.items.pop() {
                m.items.insert(pos, new);
            }
        }
        // Values stay bytes, exactly as sent; `place-before` orders, it is not a property.
        // What RouterOS fills in itself (a WireGuard key pair) comes first.
        let generated = super::wireguard::on_add(menu, &values);
        if let Some(it) = m.items.iter_mut().find(|i| i.id == id) {
            for (k, v) in &generated {
                it.set(k.as_bytes(), Value::new(v.clone()), Default::default());
            }
            for (k, v) in &values {
                if k != "place-before" && !(menu == "/user" && k == "password") {
                    it.set(k.as_bytes(), Value::new(v.clone()), Default::default());
                }
            }
        }
        self.track_timeout(menu, id, std::time::Instant::now());
        let item = self.config.items(menu).iter().find(|i| i.id == id).cloned();
        if let Some(item) = item {
            let attrs = self.item_attrs(menu, &item, who, None);
            self.notify(menu, attrs);
        }
        vec![reply(
            ReplyKind::Done,
            tag,
            vec![("ret", format!("*{id:X}").into_bytes())],
        )]
    }

    fn edit(&mut self, menu: &str, verb: &str, who: &Login, req: &Request) -> Vec<Reply> {
        let tag = &req.tag;
        let target = req.get(".id").or_else(|| req.get("numbers")).cloned();
        let Some(target) = target else {
            if verb == "set" {
                // A settings menu.
                let m = self.config.menu_mut(menu);
                for (k, v) in &req.attrs {
                    if !k.starts_with(b".") {
                        m.settings
                            .set(k, Value::new(config_value(v)), Default::default());
                    }
                }
                return vec![done(tag)];
            }
            return trap(tag, Some(1), "missing value for numbers");
        };
        let values = Self::values(req);
        if verb == "set" {
            if let Err(r) = rules::check_references(&self.config, menu, &values) {
                return refused(tag, r);
            }
        }
        let m = self.config.menu_mut(menu);
        let mut idx = Vec::new();
        for part in target.split(|&c| c == b',').filter(|p| !p.is_empty()) {
            let found = match part.strip_prefix(b"*") {
                Some(hex) => std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(|id| m.items.iter().position(|i| i.id == id)),
                None => m.items.iter().position(|i| i.get("name") == Some(part)),
            };
            match found {
                Some(i) => idx.push(i),
                None => return trap(tag, None, "no such item"),
            }
        }
        if verb == "set" {
            for &i in &idx {
                let item = &self.config.items(menu)[i];
                let lookup = |k: &str| {
                    values
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .or_else(|| item.get(k).map(<[u8]>::to_vec))
                };
                if let Err(r) = rules::check_unique(&self.config, menu, lookup, Some(item.id)) {
                    return refused(tag, r);
                }
            }
            if menu == "/user" {
                self.set_user_password(&idx, req);
            }
        }
        let m = self.config.menu_mut(menu);
        let mut changed: Vec<(Item, bool)> = Vec::new();
        if verb == "remove" {
            idx.sort_unstable();
            for &i in idx.iter().rev() {
                changed.push((m.items.remove(i), true));
            }
        } else {
            for &i in &idx {
                let it = &mut m.items[i];
                match verb {
                    "enable" => it.set(b"disabled", Value::new(&b"no"[..]), Default::default()),
                    "disable" => it.set(b"disabled", Value::new(&b"yes"[..]), Default::default()),
                    "unset" => {
                        if let Some(names) = req.get("value-name") {
                            for n in names.split(|&c| c == b',') {
                                it.unset(n);
                            }
                        }
                    }
                    _ => {
                        for (k, v) in &values {
                            if !(menu == "/user" && k == "password") {
                                it.set(k.as_bytes(), Value::new(v.clone()), Default::default());
                            }
                        }
                    }
                }
                changed.push((it.clone(), false));
            }
        }
        for (item, dead) in changed {
            if dead {
                self.untrack(menu, item.id);
            } else if verb == "set" && values.iter().any(|(k, _)| k == "timeout") {
                self.track_timeout(menu, item.id, std::time::Instant::now());
            }
            let mut attrs = if dead {
                vec![(
                    Bytes::from_static(b".id"),
                    Bytes::from(format!("*{:X}", item.id)),
                )]
            } else {
                self.item_attrs(menu, &item, who, None)
            };
            if dead {
                attrs.push((Bytes::from_static(b".dead"), Bytes::from_static(b"true")));
            }
            self.notify(menu, attrs);
        }
        vec![done(tag)]
    }

    /// `/user set =password=` (and a rename) changes the password the user logs in with.
    fn set_user_password(&mut self, idx: &[usize], req: &Request) {
        for &i in idx {
            let Some(old) = self.config.items("/user")[i].get_str("name") else {
                continue;
            };
            let new = req
                .get("name")
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_else(|| old.clone());
            let pw = match req.get("password") {
                Some(p) => Some(String::from_utf8_lossy(p).into_owned()),
                None => self.passwords.remove(&old),
            };
            if let Some(pw) = pw {
                self.passwords.insert(new, pw);
            }
        }
    }

    /// Ends a session's `listen` tagged `tag`, or all of them without a tag; returns the tags
    /// of the commands it ended.
    pub fn cancel(&mut self, session: u64, tag: Option<&[u8]>) -> Vec<Option<Bytes>> {
        let mut ended = Vec::new();
        self.listeners.retain(|l| {
            let hit = l.session == session && tag.is_none_or(|t| l.tag.as_deref() == Some(t));
            if hit {
                ended.push(l.tag.clone());
            }
            !hit
        });
        ended
    }

    pub fn drop_session(&mut self, session: u64) {
        self.listeners.retain(|l| l.session != session);
    }
}
