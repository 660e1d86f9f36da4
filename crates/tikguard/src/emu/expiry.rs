//! Address-list entries with a `timeout`, as RouterOS keeps them: MikroTik's Address-lists
//! manual, `timeout`: "Time after address will be removed from the address list. If the
//! timeout is not specified, the address will be stored in the address list permanently", and
//! such an entry is dynamic (`D` in `print`) and held in RAM only. The emulator starts an
//! entry's countdown when it is added or its `timeout` is set, prints the time left as
//! `timeout` (in `1d2h3m4s` form: the exact form the API prints is not documented, so this is
//! approximated; readers parse both it and `1d02:03:04`), marks it `dynamic=true`, and removes
//! it when the time is up (telling `listen`ers `.dead`, as for a `remove`). Expiry runs once a
//! second and before each command, so no client sees an entry past its end. `timeout=0` (and
//! `00:00:00`) is taken as no timeout (approximated: RouterOS' answer to it is not documented).
//! A timeout past what the clock can count (`timeout=99999999999d`, sent by any API client) ends
//! at [`FAR`] from now instead: the emulator never panics on it (approximated: whether RouterOS
//! refuses such a value or caps it is not documented).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use routeros_config::value::parse_duration;
use routeros_config::Value;

use super::router::Router;

/// The menus whose entries count down.
pub const MENUS: [&str; 2] = ["/ip firewall address-list", "/ipv6 firewall address-list"];

/// The longest countdown kept: about 100 years (a larger `timeout` is held as this one).
pub const FAR: Duration = Duration::from_secs(100 * 365 * 86_400);

/// When an entry of `timeout` set at `now` ends: saturated at [`FAR`], never an overflow.
pub fn end_of(now: Instant, timeout: Duration) -> Instant {
    now.checked_add(timeout.min(FAR))
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

/// When each counting entry ends, by (menu, id).
#[derive(Default, Debug)]
pub struct Expiry {
    ends: HashMap<(String, u32), Instant>,
}

/// `secs` in RouterOS' `1d2h3m4s` form.
fn duration_text(secs: u64) -> String {
    let mut out = String::new();
    for (n, u) in [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3600, "h"),
        (secs % 3600 / 60, "m"),
        (secs % 60, "s"),
    ] {
        if n > 0 {
            out.push_str(&format!("{n}{u}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

impl Router {
    /// After an `add` or a `set` on `menu`: (re)starts the countdown of entry `id` from its
    /// `timeout`, or stops it when it has none.
    pub fn track_timeout(&mut self, menu: &str, id: u32, now: Instant) {
        if !MENUS.contains(&menu) {
            return;
        }
        let left = self
            .config
            .items(menu)
            .iter()
            .find(|i| i.id == id)
            .and_then(|i| i.get("timeout"))
            .and_then(parse_duration)
            .filter(|d| !d.is_zero());
        let key = (menu.to_string(), id);
        match left {
            Some(d) => {
                self.expiry.ends.insert(key, end_of(now, d));
                if let Some(it) = self
                    .config
                    .menu_mut(menu)
                    .items
                    .iter_mut()
                    .find(|i| i.id == id)
                {
                    it.set(b"dynamic", Value::new(&b"true"[..]), Default::default());
                }
            }
            None => {
                self.expiry.ends.remove(&key);
            }
        }
    }

    /// Forgets the countdown of a removed entry.
    pub fn untrack(&mut self, menu: &str, id: u32) {
        self.expiry.ends.remove(&(menu.to_string(), id));
    }

    /// Removes the entries whose time is up at `now`, and sets the others' `timeout` to the
    /// time left (whole seconds, rounded up: an entry never prints `0s` while it stands).
    pub fn expire_at(&mut self, now: Instant) {
        if self.expiry.ends.is_empty() {
            return;
        }
        let mut dead: Vec<(String, u32)> = Vec::new();
        let mut left: Vec<(String, u32, Duration)> = Vec::new();
        for ((menu, id), end) in &self.expiry.ends {
            match end.checked_duration_since(now).filter(|d| !d.is_zero()) {
                Some(d) => left.push((menu.clone(), *id, d)),
                None => dead.push((menu.clone(), *id)),
            }
        }
        for (menu, id, d) in left {
            let secs = d.as_millis().div_ceil(1000) as u64;
            if let Some(it) = self
                .config
                .menu_mut(&menu)
                .items
                .iter_mut()
                .find(|i| i.id == id)
            {
                it.set(
                    b"timeout",
                    Value::new(duration_text(secs).into_bytes()),
                    Default::default(),
                );
            }
        }
        for (menu, id) in dead {
            self.expiry.ends.remove(&(menu.clone(), id));
            let m = self.config.menu_mut(&menu);
            if let Some(pos) = m.items.iter().position(|i| i.id == id) {
                m.items.remove(pos);
                self.notify(
                    &menu,
                    vec![
                        (Bytes::from_static(b".id"), Bytes::from(format!("*{id:X}"))),
                        (Bytes::from_static(b".dead"), Bytes::from_static(b"true")),
                    ],
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut cfg = routeros_config::Config::with_defaults(None);
        cfg.menu_mut(MENUS[0])
            .push(&[("list", "keep"), ("address", "192.0.2.1")]);
        Router::new(cfg, HashMap::new(), routeros_config::Version::new(7, 15, 0))
    }

    fn add(r: &mut Router, address: &str, timeout: Option<&str>, now: Instant) -> u32 {
        let menu = MENUS[0];
        let m = r.config.menu_mut(menu);
        let id = m.push(&[("list", "watch"), ("address", address)]);
        if let Some(t) = timeout {
            let it = m.items.iter_mut().find(|i| i.id == id).unwrap();
            it.set(
                b"timeout",
                Value::new(t.as_bytes().to_vec()),
                Default::default(),
            );
        }
        r.track_timeout(menu, id, now);
        id
    }

    fn listed(r: &Router) -> Vec<(String, Option<String>, Option<String>)> {
        r.config
            .items(MENUS[0])
            .iter()
            .map(|i| {
                (
                    i.get_str("address").unwrap_or_default(),
                    i.get_str("timeout"),
                    i.get_str("dynamic"),
                )
            })
            .collect()
    }

    /// Address-lists manual, `timeout`: the entry is removed when its time is up; one without
    /// a timeout stays for good; one whose timeout is set again counts from then.
    #[test]
    fn an_address_list_entry_with_a_timeout_counts_down_and_is_removed_at_its_end() {
        let t0 = Instant::now();
        let mut r = router();
        add(&mut r, "203.0.113.1", Some("1m"), t0);
        add(&mut r, "203.0.113.2", Some("1d00:00:10"), t0);
        add(&mut r, "203.0.113.3", None, t0);
        add(&mut r, "203.0.113.4", Some("0s"), t0);
        r.expire_at(t0 + Duration::from_millis(20_500));
        let l = listed(&r);
        assert_eq!(l.len(), 5, "{l:?}");
        assert_eq!(
            l[1],
            (
                "203.0.113.1".into(),
                Some("40s".into()),
                Some("true".into())
            )
        );
        assert_eq!(
            l[2],
            (
                "203.0.113.2".into(),
                Some("23h59m50s".into()),
                Some("true".into())
            )
        );
        assert_eq!(l[3].2, None, "no timeout: not dynamic");
        assert_eq!(l[4].2, None, "timeout 0: not dynamic");
        r.expire_at(t0 + Duration::from_secs(60));
        let l: Vec<String> = listed(&r).into_iter().map(|x| x.0).collect();
        assert_eq!(
            l,
            ["192.0.2.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]
        );
        // Set again: the countdown starts over from the new timeout.
        let id = r.config.items(MENUS[0])[1].id;
        let later = t0 + Duration::from_secs(86_000);
        let it = r
            .config
            .menu_mut(MENUS[0])
            .items
            .iter_mut()
            .find(|i| i.id == id)
            .unwrap();
        it.set(b"timeout", Value::new(&b"2h"[..]), Default::default());
        r.track_timeout(MENUS[0], id, later);
        r.expire_at(t0 + Duration::from_secs(86_500));
        assert_eq!(listed(&r)[1].1.as_deref(), Some("1h51m40s"));
        r.expire_at(later + Duration::from_secs(7200));
        let l: Vec<String> = listed(&r).into_iter().map(|x| x.0).collect();
        assert_eq!(l, ["192.0.2.1", "203.0.113.3", "203.0.113.4"]);
    }
}
