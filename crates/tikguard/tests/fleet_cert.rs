//! The API-SSL certificate's notAfter and days left in the fleet's per-router summary row
//! (`summary.json`, the terminal table, `summary.html`), as the exporter's
//! `tikguard_cert_not_after` gives them per probe: emulated routers on 127.0.0.1 with real
//! certificates, `tikguard fleet probe` as a process.

use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::tikguard;

use routeros_config::Config;
use tikguard::emu;

const ROUTER: &str = "# 2025-01-01 00:00:00 by RouterOS 7.18\n/system identity\nset name=r\n";

/// Unix time of 2030-01-01 and 2021-01-01, 00:00:00 UTC.
const FUTURE: i64 = 1_893_456_000;
const PAST: i64 = 1_609_459_200;

fn server_config(
    not_after: (i32, u8, u8),
) -> (Arc<rustls::ServerConfig>, routeros_api::Fingerprint) {
    common::self_signed_until(not_after)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn the_summary_row_carries_the_api_ssl_certificate_days_left() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (future, past) = ((2030, 1, 1), (2021, 1, 1));
    let served = rt.block_on(async {
        let mut out = Vec::new();
        for (name, date) in [
            ("valid", Some(future)),
            ("expired", Some(past)),
            ("plain", None),
        ] {
            let (config, _) = Config::load(ROUTER.as_bytes().to_vec());
            let router = emu::router_from(config, HashMap::new(), None);
            let any = "127.0.0.1:0".parse().unwrap();
            let (opts, pin) = match date {
                Some(d) => {
                    let (cfg, fp) = server_config(d);
                    (
                        emu::Options {
                            api_ssl: Some((any, cfg)),
                            ..Default::default()
                        },
                        format!("pin = \"{fp}\"\n"),
                    )
                }
                None => (
                    emu::Options {
                        api: Some(any),
                        ..Default::default()
                    },
                    "plain = true\n".to_string(),
                ),
            };
            let e = emu::start(router, opts).await.unwrap();
            out.push((name, e.api_ssl.or(e.api).unwrap(), pin, e));
        }
        out
    });
    let dir = tempfile::tempdir().unwrap();
    let mut inv = String::new();
    for (name, addr, pin, _) in &served {
        inv.push_str(&format!(
            "[[router]]\nname = \"{name}\"\naddress = \"{}\"\nport = {}\n{pin}\n",
            addr.ip(),
            addr.port()
        ));
    }
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(&inventory, inv).unwrap();
    let out = dir.path().join("out");
    let before = now();
    let run = tikguard()
        .args(["fleet", "probe", "-i"])
        .arg(&inventory)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let after = now();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Whole days, rounded down, between the start and the end of the run.
    let days = |t: i64| {
        [
            (t - after).div_euclid(86_400),
            (t - before).div_euclid(86_400),
        ]
    };

    let (summary, _) = tikguard::fleet::output::read(&out).unwrap();
    let row = |n: &str| summary.routers.iter().find(|r| r.name == n).unwrap();
    let valid = row("valid");
    assert!(
        days(FUTURE).contains(&valid.cert_days_left.unwrap()),
        "{valid:?}"
    );
    assert_eq!(
        valid.cert_not_after.as_deref(),
        Some("2030-01-01T00:00:00Z")
    );
    let expired = row("expired");
    let left = expired.cert_days_left.unwrap();
    assert!(left < 0 && days(PAST).contains(&left), "{expired:?}");
    assert_eq!(
        expired.cert_not_after.as_deref(),
        Some("2021-01-01T00:00:00Z")
    );
    // The plaintext API has no certificate: nothing, rather than a made-up date.
    let plain = row("plain");
    assert_eq!((plain.cert_days_left, &plain.cert_not_after), (None, &None));
    let json = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(json.contains("\"cert_days_left\""), "{json}");

    // The terminal: a CERT column with the days.
    assert!(stdout.contains("CERT"), "{stdout}");
    let line = |n: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(n))
            .unwrap_or_else(|| panic!("{n}: {stdout}"))
            .to_string()
    };
    assert!(line("valid").contains(&format!("{}d", valid.cert_days_left.unwrap())));
    assert!(line("expired").contains(&format!("{left}d")));

    // summary.html: a sortable column, the date in the cell's title.
    let html = std::fs::read_to_string(out.join("summary.html")).unwrap();
    assert!(html.contains(">Certificate days left</th>"), "{html}");
    assert!(
        html.contains(&format!(
            "data-v=\"{left}\" title=\"2021-01-01T00:00:00Z\">{left}</td>"
        )),
        "{html}"
    );
    drop(served);
    drop(rt);
}
