//! `tikguard emu --state FILE`: what a running router holds and an export does not (users and
//! their last login, SSH keys, certificates with their dates, the log, package update status,
//! RouterBOARD firmware, active sessions), served over the API from the same menus RouterOS
//! prints them in, so `audit --live` is tested against them.
//!
//! The file is JSON; every key is optional and an unknown key is refused (a misspelt field must
//! not pass silently as "absent"). Times are `now`, `now-3d`, `now+20d` (units `s`, `m`, `h`,
//! `d`, `w`), relative to the emulator's clock when it starts, or `YYYY-MM-DD HH:MM:SS`. They
//! are printed as the version served prints dates (`2026-12-25 10:00:00` from 7.10,
//! `dec/25/2026 10:00:00` before; [`super::clock`]).
//!
//! Field names follow MikroTik's CLI reference (manual.mikrotik.com/docs/cli-reference/user:
//! `/user` `last-logged-in`, `/user/active` `when,name,address,via,group`, `/user/ssh-keys`
//! `user,key-type,bits,info,fingerprint`) and Certificates manual (flags K `private-key`,
//! A `authority`, E `expired`, T `trusted`; `invalid-before`, `invalid-after`, `key-size`,
//! `key-type`).

use std::path::Path;

use routeros_config::{Value, Version};
use serde::Deserialize;

use super::router::Router;

/// The help text for `--state`, shown by `emu --help`.
pub const HELP: &str = r#"JSON describing what only a running router knows (every key optional):
  {"users": [{"name": "billing", "group": "full", "address": "10.0.0.0/24",
              "disabled": false, "last-logged-in": "now-200d", "comment": ""}],
   "ssh-keys": [{"user": "bob", "key-type": "rsa", "bits": 1024, "info": "bob@laptop"}],
   "certificates": [{"name": "api", "common-name": "router", "invalid-before": "now-300d",
                     "invalid-after": "now+20d", "key-type": "rsa", "key-size": 2048,
                     "private-key": true, "authority": false, "trusted": true}],
   "update": {"channel": "stable", "installed-version": "7.18",
              "latest-version": "7.19.4", "checked": false},
   "routerboard": {"current-firmware": "7.15", "upgrade-firmware": "7.18"},
   "active": [{"name": "billing", "address": "203.0.113.9", "via": "api",
               "group": "full", "when": "now-1h"}],
   "log": [{"at": "now-2h", "topics": "system,error,critical",
            "message": "login failure for user admin from 198.51.100.7 via ssh"}],
   "log-repeat": 1}
Times: now, now-3d, now+20d (s m h d w) or YYYY-MM-DD HH:MM:SS. Users listed are added to
the export's (a name already there is updated). "checked": false leaves latest-version unset
until /system/package/update/check-for-updates. "log-repeat" serves the log that many times."#;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct State {
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub ssh_keys: Vec<SshKey>,
    #[serde(default)]
    pub certificates: Vec<Certificate>,
    pub update: Option<Update>,
    pub routerboard: Option<Routerboard>,
    #[serde(default)]
    pub active: Vec<Active>,
    #[serde(default)]
    pub log: Vec<Log>,
    /// Serve the log this many times over (a router whose buffer is full of the same knocks;
    /// tests of a large `/log`).
    pub log_repeat: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct User {
    pub name: String,
    pub group: String,
    pub address: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    pub last_logged_in: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SshKey {
    pub user: String,
    /// RouterOS 6 prints none (RSA only).
    pub key_type: Option<String>,
    pub bits: Option<u32>,
    pub info: Option<String>,
    /// RouterOS 6 names the key's comment `key-owner`.
    pub key_owner: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Certificate {
    pub name: String,
    pub common_name: Option<String>,
    pub invalid_before: Option<String>,
    pub invalid_after: Option<String>,
    pub key_type: Option<String>,
    pub key_size: Option<String>,
    #[serde(default)]
    pub private_key: bool,
    #[serde(default)]
    pub authority: bool,
    #[serde(default)]
    pub trusted: bool,
    pub fingerprint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Update {
    pub channel: Option<String>,
    pub installed_version: Option<String>,
    pub latest_version: Option<String>,
    #[serde(default)]
    pub checked: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Routerboard {
    pub current_firmware: String,
    pub upgrade_firmware: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Active {
    pub name: String,
    pub address: String,
    pub via: String,
    pub group: Option<String>,
    pub when: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Log {
    pub at: Option<String>,
    pub topics: String,
    pub message: String,
}

/// Reads a state file; the error names the file and what is wrong (serde_json gives line and
/// column).
pub fn load(path: &Path) -> Result<State, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let state: State = serde_json::from_slice(&text)
        .map_err(|e| format!("{}: not a state file: {e}", path.display()))?;
    state
        .check()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(state)
}

impl State {
    /// Every time parses.
    fn check(&self) -> Result<(), String> {
        let times = self
            .users
            .iter()
            .filter_map(|u| u.last_logged_in.as_deref().map(|t| ("users", t)))
            .chain(self.certificates.iter().flat_map(|c| {
                [c.invalid_before.as_deref(), c.invalid_after.as_deref()]
                    .into_iter()
                    .flatten()
                    .map(|t| ("certificates", t))
            }))
            .chain(
                self.active
                    .iter()
                    .filter_map(|a| a.when.as_deref().map(|t| ("active", t))),
            )
            .chain(
                self.log
                    .iter()
                    .filter_map(|l| l.at.as_deref().map(|t| ("log", t))),
            );
        for (what, t) in times {
            if time_ms(t, 0).is_none() {
                return Err(format!(
                    "{what}: `{t}` is not a time (now, now-3d, now+20d, or YYYY-MM-DD HH:MM:SS)"
                ));
            }
        }
        if self.log_repeat.is_some_and(|n| n == 0 || n > 1_000_000) {
            return Err("log-repeat: from 1 to 1000000".into());
        }
        Ok(())
    }
}

/// A state time in ms on the clock whose now is `now`.
pub fn time_ms(t: &str, now: i64) -> Option<i64> {
    let t = t.trim();
    if let Some(rest) = t.strip_prefix("now") {
        if rest.is_empty() {
            return Some(now);
        }
        let (sign, rest) = match rest.as_bytes()[0] {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            _ => return None,
        };
        let unit = match rest.as_bytes().last()? {
            b's' => 1_000,
            b'm' => 60_000,
            b'h' => 3_600_000,
            b'd' => 86_400_000,
            b'w' => 7 * 86_400_000,
            _ => return None,
        };
        let n: i64 = rest[..rest.len() - 1].parse().ok()?;
        return now.checked_add(sign * n.checked_mul(unit)?);
    }
    let (date, time) = t.split_once(' ')?;
    crate::watch::clock::router_clock_ms(date, time)
}

/// A time as the version prints a date and time (`invalid-after`, `last-logged-in`, `when`).
fn shown(ms: i64, version: &Version) -> String {
    format!(
        "{} {}",
        super::clock::date_text(ms, version),
        super::clock::time_text(ms)
    )
}

/// Puts the state into the router: items of `/user`, `/user ssh-keys`, `/certificate`,
/// `/user active`, the settings of `/system package update` and `/system routerboard`, the
/// log. Called once, before serving.
pub fn apply(state: &State, router: &mut Router) {
    let now = router.clock_ms();
    let v = router.version.clone();
    let t = |s: &Option<String>| s.as_deref().and_then(|s| time_ms(s, now));
    let b = |x: bool| if x { "yes" } else { "no" };
    for u in &state.users {
        let menu = router.config.menu_mut("/user");
        let id = match menu
            .items
            .iter()
            .find(|i| i.get_str("name").as_deref() == Some(&u.name))
        {
            Some(i) => i.id,
            None => menu.push(&[("name", &u.name)]),
        };
        let Some(it) = menu.items.iter_mut().find(|i| i.id == id) else {
            continue;
        };
        let mut set = |k: &str, val: &str| {
            it.set(
                k.as_bytes(),
                Value::new(val.as_bytes().to_vec()),
                Default::default(),
            )
        };
        set("group", &u.group);
        set("disabled", b(u.disabled));
        if let Some(a) = &u.address {
            set("address", a);
        }
        if let Some(c) = &u.comment {
            set("comment", c);
        }
        if let Some(ms) = t(&u.last_logged_in) {
            set("last-logged-in", &shown(ms, &v));
        }
    }
    for k in &state.ssh_keys {
        let bits = k.bits.map(|b| b.to_string());
        let mut props: Vec<(&str, &str)> = vec![("user", &k.user)];
        if let Some(t) = &k.key_type {
            props.push(("key-type", t));
        }
        if let Some(b) = &bits {
            props.push(("bits", b));
        }
        if let Some(i) = &k.info {
            props.push(("info", i));
        }
        if let Some(o) = &k.key_owner {
            props.push(("key-owner", o));
        }
        router.config.menu_mut("/user ssh-keys").push(&props);
    }
    for c in &state.certificates {
        let before = t(&c.invalid_before).map(|ms| shown(ms, &v));
        let after_ms = t(&c.invalid_after);
        let after = after_ms.map(|ms| shown(ms, &v));
        let expired = after_ms.is_some_and(|a| a <= now);
        let mut props: Vec<(&str, &str)> = vec![
            ("name", &c.name),
            ("private-key", b(c.private_key)),
            ("authority", b(c.authority)),
            ("trusted", b(c.trusted)),
            ("expired", b(expired)),
        ];
        for (k, val) in [
            ("common-name", &c.common_name),
            ("key-type", &c.key_type),
            ("key-size", &c.key_size),
            ("fingerprint", &c.fingerprint),
        ] {
            if let Some(val) = val {
                props.push((k, val));
            }
        }
        if let Some(x) = &before {
            props.push(("invalid-before", x));
        }
        if let Some(x) = &after {
            props.push(("invalid-after", x));
        }
        router.config.menu_mut("/certificate").push(&props);
    }
    for a in &state.active {
        let when = t(&a.when).map(|ms| shown(ms, &v)).unwrap_or_default();
        let mut props: Vec<(&str, &str)> = vec![
            ("name", &a.name),
            ("address", &a.address),
            ("via", &a.via),
            ("when", &when),
        ];
        if let Some(g) = &a.group {
            props.push(("group", g));
        }
        router.config.menu_mut("/user active").push(&props);
    }
    if let Some(u) = &state.update {
        let s = &mut router.config.menu_mut("/system package update").settings;
        let mut set = |k: &str, val: &str| {
            s.set(
                k.as_bytes(),
                Value::new(val.as_bytes().to_vec()),
                Default::default(),
            )
        };
        set("channel", u.channel.as_deref().unwrap_or("stable"));
        let installed = u.installed_version.clone().unwrap_or_else(|| v.to_string());
        set("installed-version", &installed);
        if u.checked {
            if let Some(l) = &u.latest_version {
                set("latest-version", l);
                set("status", status_after_check(&installed, l));
            }
        }
    }
    if let Some(r) = &state.routerboard {
        let s = &mut router.config.menu_mut("/system routerboard").settings;
        s.set(b"routerboard", Value::new(&b"yes"[..]), Default::default());
        s.set(
            b"current-firmware",
            Value::new(r.current_firmware.as_bytes().to_vec()),
            Default::default(),
        );
        s.set(
            b"upgrade-firmware",
            Value::new(r.upgrade_firmware.as_bytes().to_vec()),
            Default::default(),
        );
    }
    let repeat = state.log_repeat.unwrap_or(1);
    for _ in 0..repeat {
        for l in &state.log {
            let at = t(&l.at).unwrap_or(now);
            router.log_at(at, &l.topics, l.message.clone());
        }
    }
    router.update = state.update.as_ref().map(|u| PendingUpdate {
        latest: u.latest_version.clone(),
    });
}

/// The update a `check-for-updates` reveals.
#[derive(Clone, Debug, Default)]
pub struct PendingUpdate {
    pub latest: Option<String>,
}

/// `status` after a check. Approximated: the manual does not list `status`'s texts; these are
/// the ones routers are commonly quoted printing. The audit reads only whether the check is
/// still running or failed (`ERROR: ...`), and `latest-version`.
fn status_after_check(installed: &str, latest: &str) -> &'static str {
    if installed == latest {
        "System is already up to date"
    } else {
        "New version is available"
    }
}

/// `/system/package/update/check-for-updates`: the router asks MikroTik, then `latest-version`
/// and `status` say what it learnt. The emulator answers from the state file at once.
pub fn check_for_updates(router: &mut Router) {
    let Some(p) = router.update.clone() else {
        let s = &mut router.config.menu_mut("/system package update").settings;
        s.set(
            b"status",
            Value::new(&b"ERROR: could not resolve dns name"[..]),
            Default::default(),
        );
        return;
    };
    let s = &mut router.config.menu_mut("/system package update").settings;
    let installed = s.get_str("installed-version").unwrap_or_default();
    if let Some(l) = &p.latest {
        let status = status_after_check(&installed, l);
        s.set(
            b"latest-version",
            Value::new(l.as_bytes().to_vec()),
            Default::default(),
        );
        s.set(
            b"status",
            Value::new(status.as_bytes().to_vec()),
            Default::default(),
        );
    }
    router.update_checks += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_times_parse_and_garbage_does_not() {
        assert_eq!(time_ms("now", 1000), Some(1000));
        assert_eq!(time_ms("now-1d", 86_400_000), Some(0));
        assert_eq!(time_ms("now+2h", 0), Some(7_200_000));
        assert_eq!(time_ms("1970-01-02 00:00:00", 0), Some(86_400_000));
        assert_eq!(time_ms("yesterday", 0), None);
        assert_eq!(time_ms("now-1y", 0), None);
        assert_eq!(time_ms("now-99999999999999999w", 0), None);
    }

    #[test]
    fn a_bad_state_file_is_refused_with_the_file_and_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("tg-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.json");
        std::fs::write(
            &p,
            r#"{"users": [{"name": "a", "group": "full", "lastlogin": "x"}]}"#,
        )
        .unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.contains("s.json") && e.contains("lastlogin"), "{e}");
        std::fs::write(
            &p,
            r#"{"log": [{"at": "soon", "topics": "t", "message": "m"}]}"#,
        )
        .unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.contains("`soon` is not a time"), "{e}");
        std::fs::write(&p, "{\"users\": [\n  {\"name\": 1}]}").unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
