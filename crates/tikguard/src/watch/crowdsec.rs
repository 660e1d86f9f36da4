//! CrowdSec, the distributed path (ROUTEROS.md, "CrowdSec"; the Local API's swagger,
//! `pkg/models/localapi_swagger.yaml` in crowdsecurity/crowdsec).
//!
//! - **Bouncer** (remediation component, key from `cscli bouncers add`): polls
//!   `GET /v1/decisions/stream` with `X-Api-Key`, `startup=true` first and after every failure
//!   (the whole active set), then only what is `new` and `deleted` since. `ban` decisions on
//!   `Ip` and `Range` scopes go on every router's list for the decision's duration (a Go
//!   duration such as `3h59m58.9s`; a deleted one carries a negative one); other types and
//!   scopes (captcha, Country, AS) are counted and skipped.
//! - **Machine** (log processor, `cscli machines add`): logs in at `POST /v1/watchers/login`
//!   for a JWT, and pushes each of watch's blocks as an alert with its decision to
//!   `POST /v1/alerts`, so every bouncer of the installation enforces it. Logs in again when
//!   the token is refused or about to expire. A bounded queue ([`ALERT_QUEUE`]); when it is full
//!   the newest alert is dropped and counted (the block on the routers does not depend on it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::Method;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::action::Sync;
use super::http::Http;
use super::never::Never;

/// Alerts waiting to be pushed, at most.
pub const ALERT_QUEUE: usize = 1024;
/// The scenario watch's alerts carry.
pub const SCENARIO: &str = "tikguard/routeros-login-bf";

/// A Go duration (`time.Duration.String()`: `1h59m59.033482202s`, `-12.8936ms`, `0s`) in
/// milliseconds.
pub fn go_duration_ms(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(0);
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&i| i > 0)?;
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let ms = match &rest[..unit_end] {
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "s" => 1_000.0,
            "ms" => 1.0,
            "us" | "µs" | "μs" => 0.001,
            "ns" => 0.000_001,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += n * ms;
    }
    if !total.is_finite() || total > i64::MAX as f64 / 2.0 {
        return None;
    }
    Some(if neg { -total } else { total } as i64)
}

/// One decision of the stream.
#[derive(Clone, Debug, Deserialize)]
pub struct Decision {
    pub id: i64,
    #[serde(default)]
    pub duration: String,
    #[serde(default)]
    pub scenario: String,
    #[serde(default)]
    pub scope: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Stream {
    #[serde(default)]
    pub new: Option<Vec<Decision>>,
    #[serde(default)]
    pub deleted: Option<Vec<Decision>>,
}

/// Counters, for the log and for tests.
#[derive(Default)]
pub struct Counters {
    pub pulls: AtomicU64,
    pub added: AtomicU64,
    pub deleted: AtomicU64,
    /// Decisions of other types or scopes.
    pub skipped: AtomicU64,
    /// Decisions on what is never blocked, or wider than `max-range`.
    pub refused: AtomicU64,
    pub alerts_pushed: AtomicU64,
    pub alerts_dropped: AtomicU64,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn enforceable(d: &Decision) -> bool {
    d.kind.eq_ignore_ascii_case("ban")
        && (d.scope.eq_ignore_ascii_case("ip") || d.scope.eq_ignore_ascii_case("range"))
}

/// Applies one pull to what the routers should list; returns the addresses that changed.
/// Decisions on what is never blocked ([`Never`]: the watcher, the routers, loopback,
/// `allow`...) or on ranges wider than `max-range` are refused, each with a log line.
pub fn apply(sync: &Sync, s: Stream, startup: bool, n: &Counters, never: &Never) -> Vec<String> {
    let mut touched = Vec::new();
    let mut w = sync.wanted();
    if startup {
        touched.extend(w.crowdsec_clear());
    }
    for d in s.deleted.unwrap_or_default() {
        if let Some(a) = w.crowdsec_delete(d.id, &d.value) {
            n.deleted.fetch_add(1, Ordering::Relaxed);
            touched.push(a);
        }
    }
    let now = now_ms();
    for d in s.new.unwrap_or_default() {
        let ms = go_duration_ms(&d.duration).unwrap_or(-1);
        if !enforceable(&d) || ms <= 0 {
            n.skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let why = super::blocks::canon(&d.value).and_then(|_| never.refuses_range(&d.value));
        if let Some(why) = why {
            n.refused.fetch_add(1, Ordering::Relaxed);
            crate::warn_line!(
                "tikguard watch: crowdsec: decision {} on {} refused: {why}",
                d.id,
                crate::term::printable(&d.value)
            );
            continue;
        }
        if w.crowdsec_add(d.id, &d.value, now + ms as u64, &d.scenario) {
            n.added.fetch_add(1, Ordering::Relaxed);
            if let Some(a) = super::blocks::canon(&d.value) {
                touched.push(a);
            }
        } else {
            n.skipped.fetch_add(1, Ordering::Relaxed);
        }
    }
    w.crowdsec_known = true;
    touched
}

/// Polls the decision stream until the process ends.
pub async fn bouncer(
    http: Http,
    lapi: String,
    key: String,
    poll: Duration,
    sync: Arc<Sync>,
    n: Arc<Counters>,
    mut never: tokio::sync::watch::Receiver<Arc<Never>>,
) {
    let base = lapi.trim_end_matches('/').to_string();
    let mut startup = true;
    let mut backoff = Duration::from_secs(1);
    let mut refilter = false;
    loop {
        // A reloaded configuration (SIGHUP: `allow`, `max-range`, the routers) filters every
        // decision again: the whole set is pulled anew, what is now refused comes off the
        // routers and what is now allowed goes on.
        if refilter || never.has_changed().unwrap_or(false) {
            never.borrow_and_update();
            startup = true;
            refilter = false;
        }
        let filter = never.borrow().clone();
        let url = format!(
            "{base}/v1/decisions/stream{}",
            if startup { "?startup=true" } else { "" }
        );
        let got = http
            .send(Method::GET, &url, &[("x-api-key", &key)], None)
            .await
            .and_then(|(status, body)| match status {
                200 => serde_json::from_slice::<Stream>(&body)
                    .map_err(|e| format!("{url}: the answer is not a decision stream: {e}")),
                403 | 401 => Err(format!(
                    "{url}: the bouncer key was refused (HTTP {status}); make one with `cscli bouncers add NAME`"
                )),
                _ => Err(format!("{url}: HTTP {status}")),
            });
        match got {
            Ok(s) => {
                n.pulls.fetch_add(1, Ordering::Relaxed);
                let touched = apply(&sync, s, startup, &n, &filter);
                if startup {
                    // The whole set is known now: every router reconciles against it.
                    sync.resync_all();
                } else {
                    for a in touched {
                        sync.mark(&a, None);
                    }
                }
                startup = false;
                backoff = Duration::from_secs(1);
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    changed = never.changed() => match changed {
                        Ok(()) => refilter = true,
                        // Watch is stopping.
                        Err(_) => tokio::time::sleep(poll).await,
                    },
                }
            }
            Err(e) => {
                crate::warn_line!(
                    "tikguard watch: crowdsec: {}; retrying in {} s",
                    crate::term::printable(&e),
                    backoff.as_secs()
                );
                startup = true;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// One of watch's blocks, to push as an alert.
#[derive(Clone, Debug)]
pub struct Detection {
    pub address: String,
    pub router: String,
    pub failures: u32,
    pub duration_s: u64,
    pub window_s: u64,
    pub first_ms: u64,
    pub last_ms: u64,
}

fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// The alert CrowdSec's Local API takes for a detection (every field the 1.4 swagger marks
/// required is set).
pub fn alert_body(d: &Detection) -> serde_json::Value {
    let (scope, value) = if d.address.contains('/') {
        ("Range", d.address.clone())
    } else {
        ("Ip", d.address.clone())
    };
    let mut source = json!({"scope": scope, "value": value});
    if scope == "Ip" {
        source["ip"] = json!(value);
    } else {
        source["range"] = json!(value);
    }
    let leak = (d.window_s.max(1) as f64 / d.failures.max(1) as f64).ceil() as u64;
    json!([{
        "scenario": SCENARIO,
        "scenario_hash": "",
        "scenario_version": env!("CARGO_PKG_VERSION"),
        "message": format!("{} {value} failed {} RouterOS logins (seen by {})",
                           scope, d.failures, d.router),
        "events_count": d.failures,
        "events": [],
        "capacity": d.failures,
        "leakspeed": format!("{leak}s"),
        "start_at": rfc3339(d.first_ms),
        "stop_at": rfc3339(d.last_ms),
        "simulated": false,
        "remediation": true,
        "labels": ["routeros", "bruteforce"],
        "source": source,
        "decisions": [{
            "duration": format!("{}s", d.duration_s),
            "origin": "crowdsec",
            "scenario": SCENARIO,
            "scope": scope,
            "type": "ban",
            "value": value,
        }],
    }])
}

/// A login token and when to renew it.
struct Token {
    jwt: String,
    renew_at: tokio::time::Instant,
}

async fn login(http: &Http, base: &str, id: &str, password: &str) -> Result<Token, String> {
    let url = format!("{base}/v1/watchers/login");
    let body = json!({"machine_id": id, "password": password, "scenarios": [SCENARIO]});
    let (status, body) = http
        .send(Method::POST, &url, &[], Some(body.to_string().into_bytes()))
        .await?;
    if status != 200 {
        return Err(format!(
            "{url}: machine `{}` was refused (HTTP {status}); make it with `cscli machines add`",
            crate::term::printable(id)
        ));
    }
    #[derive(Deserialize)]
    struct Answer {
        token: String,
    }
    let a: Answer =
        serde_json::from_slice(&body).map_err(|e| format!("{url}: no token in the answer: {e}"))?;
    // Tokens last an hour by default; renewing after 45 minutes never sends a stale one.
    Ok(Token {
        jwt: a.token,
        renew_at: tokio::time::Instant::now() + Duration::from_secs(45 * 60),
    })
}

/// Pushes detections until the process ends.
pub async fn machine(
    http: Http,
    lapi: String,
    id: String,
    password: String,
    mut rx: mpsc::Receiver<Detection>,
    n: Arc<Counters>,
) {
    let base = lapi.trim_end_matches('/').to_string();
    let url = format!("{base}/v1/alerts");
    let mut token: Option<Token> = None;
    while let Some(d) = rx.recv().await {
        let body = alert_body(&d).to_string().into_bytes();
        let mut backoff = Duration::from_secs(1);
        // A detection is retried until it is taken, or for about 10 minutes.
        for _attempt in 0..12 {
            if token
                .as_ref()
                .is_none_or(|t| tokio::time::Instant::now() >= t.renew_at)
            {
                match login(&http, &base, &id, &password).await {
                    Ok(t) => token = Some(t),
                    Err(e) => {
                        crate::warn_line!(
                            "tikguard watch: crowdsec: {}",
                            crate::term::printable(&e)
                        );
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(60));
                        continue;
                    }
                }
            }
            let auth = format!("Bearer {}", token.as_ref().expect("logged in above").jwt);
            match http
                .send(
                    Method::POST,
                    &url,
                    &[("authorization", &auth)],
                    Some(body.clone()),
                )
                .await
            {
                Ok((200 | 201, _)) => {
                    n.alerts_pushed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok((401 | 403, _)) => token = None,
                Ok((status, b)) => {
                    crate::warn_line!(
                        "tikguard watch: crowdsec: {url}: HTTP {status}: {}",
                        crate::term::printable(&String::from_utf8_lossy(&b[..b.len().min(300)]))
                    );
                    // Refused as malformed: retrying cannot help.
                    if (400..500).contains(&status) {
                        break;
                    }
                }
                Err(e) => {
                    crate::warn_line!("tikguard watch: crowdsec: {}", crate::term::printable(&e))
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_as_the_local_api_writes_them() {
        assert_eq!(go_duration_ms("4h"), Some(14_400_000));
        assert_eq!(go_duration_ms("1h59m59.033482202s"), Some(7_199_033));
        assert_eq!(go_duration_ms("-12.8936ms"), Some(-12));
        assert_eq!(go_duration_ms("-5.957531454s"), Some(-5_957));
        assert_eq!(go_duration_ms("23h59m58.926654165s"), Some(86_398_926));
        assert_eq!(go_duration_ms("0s"), Some(0));
        assert_eq!(go_duration_ms("0"), Some(0));
        assert_eq!(go_duration_ms("1.5h"), Some(5_400_000));
        assert_eq!(go_duration_ms("300µs"), Some(0));
        for bad in ["", "-", "h", "4d", "4", "1h-2m", "..s", "1e400h"] {
            assert_eq!(go_duration_ms(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn go_durations_never_panic(s in "\\PC{0,40}") {
            let _ = go_duration_ms(&s);
        }

        #[test]
        fn go_durations_read_back_what_go_writes(h in 0u64..100_000, m in 0u64..60, s in 0u64..60, ms in 0u64..1000) {
            let text = if ms > 0 { format!("{h}h{m}m{s}.{ms:03}s") } else { format!("{h}h{m}m{s}s") };
            proptest::prop_assert_eq!(go_duration_ms(&text), Some(((h * 3600 + m * 60 + s) * 1000 + ms) as i64));
        }
    }

    /// Loopback and the rest built in, `allow = ["10.255.0.0/24"]`, a router at 10.0.0.1.
    fn never() -> Never {
        let cfg = crate::watch::config::parse(
            "w.toml",
            "[watch]\nallow = [\"10.255.0.0/24\"]\n[[router]]\nname = \"r\"\naddress = \"10.0.0.1:8729\"\npin = \"sha256:00\"\nuser = \"u\"\npassword-env = \"P\"\n",
        )
        .unwrap();
        Never::new(&cfg, &[])
    }

    #[test]
    fn only_ban_decisions_on_addresses_are_enforced() {
        let sync = Sync::new(&["r".to_string()], Default::default(), None);
        let n = Counters::default();
        let d = |id, kind: &str, scope: &str, value: &str, duration: &str| Decision {
            id,
            duration: duration.into(),
            scenario: "s".into(),
            scope: scope.into(),
            kind: kind.into(),
            value: value.into(),
        };
        let s = Stream {
            new: Some(vec![
                d(1, "ban", "Ip", "192.0.2.1", "4h"),
                d(2, "ban", "Range", "198.51.100.0/24", "1h"),
                d(3, "captcha", "Ip", "192.0.2.2", "4h"),
                d(4, "ban", "Country", "XX", "4h"),
                d(5, "ban", "Ip", "192.0.2.3", "-1s"),
                d(6, "ban", "Ip", "not-an-ip", "4h"),
            ]),
            deleted: None,
        };
        let touched = apply(&sync, s, true, &n, &never());
        assert_eq!(touched, ["192.0.2.1", "198.51.100.0/24"]);
        assert_eq!(n.skipped.load(Ordering::Relaxed), 4);
        // What is never blocked, and ranges wider than max-range, are refused and counted.
        let s = Stream {
            new: Some(vec![
                d(7, "ban", "Ip", "127.0.0.1", "4h"),
                d(8, "ban", "Range", "0.0.0.0/0", "4h"),
                d(9, "ban", "Ip", "10.255.0.7", "4h"),
                d(10, "ban", "Range", "203.0.0.0/16", "4h"),
                d(11, "ban", "Ip", "10.0.0.1", "4h"),
                d(12, "ban", "Range", "fe80::/64", "4h"),
            ]),
            deleted: None,
        };
        assert!(apply(&sync, s, false, &n, &never()).is_empty());
        assert_eq!(n.refused.load(Ordering::Relaxed), 6);
        let s = Stream {
            new: None,
            deleted: Some(vec![d(1, "ban", "Ip", "192.0.2.1", "-3ms")]),
        };
        assert_eq!(apply(&sync, s, false, &n, &never()), ["192.0.2.1"]);
        assert!(sync.wanted().get("r", "192.0.2.1", now_ms()).is_none());
        assert!(sync
            .wanted()
            .get("r", "198.51.100.0/24", now_ms())
            .is_some());
    }

    #[test]
    fn an_alert_carries_the_fields_the_local_api_requires() {
        let a = alert_body(&Detection {
            address: "2001:db8:1:2::/64".into(),
            router: "core-01".into(),
            failures: 5,
            duration_s: 86_400,
            window_s: 60,
            first_ms: 1_796_049_396_000,
            last_ms: 1_796_049_400_000,
        });
        let a = &a[0];
        for k in [
            "scenario",
            "scenario_hash",
            "scenario_version",
            "message",
            "events_count",
            "events",
            "capacity",
            "leakspeed",
            "start_at",
            "stop_at",
            "simulated",
            "source",
            "decisions",
        ] {
            assert!(a.get(k).is_some(), "{k}");
        }
        assert_eq!(a["source"]["scope"], "Range");
        assert_eq!(a["decisions"][0]["duration"], "86400s");
        assert_eq!(a["leakspeed"], "12s");
        assert_eq!(a["start_at"], "2026-11-30T14:36:36Z");
    }
}
