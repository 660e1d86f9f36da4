//! `tikguard watch` end to end, as processes over real sockets: a client fails logins against
//! `tikguard emu --syslog`, the emulator sends the `login failure` lines to watch over UDP as a
//! router's remote logging action does, and watch blocks the source on the emulator's address
//! list through verified API-SSL. The failing client is Python's librouteros where CI installs
//! it (INTEROP_PYTHON), else this crate's client. This file: blocking, what is never blocked,
//! expiry, restarts, state and neighbours; the harness is `common/watch.rs`.

use common::{self_signed_pem, tikguard, Proc};
use std::io::BufRead;
use std::io::BufReader;
use std::process::Stdio;
use std::time::Duration;

mod common;
#[path = "common/watch.rs"]
mod watch_harness;
use watch_harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_become_a_block_on_the_router_that_saw_them() {
    let alerts = tempfile::tempdir().unwrap();
    let alerts_file = alerts.path().join("alerts.jsonl");
    let mut r = start_with(
        "",
        &format!("alerts-file = \"{}\"\n", alerts_file.display()),
    );
    fail_logins(&r.api, 4).await;
    let mut entries = Vec::new();
    for _ in 0..100 {
        entries = listed(&r.ssl, &r.ca).await;
        if !entries.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].0, CLIENT);
    assert!(
        !entries[0].1.is_empty(),
        "the block has a timeout: {entries:?}"
    );
    // watch said so on standard output, as a JSON line.
    let out = r.watch.0.stdout.take().unwrap();
    let first = BufReader::new(out).lines().next().unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["type"], "block");
    assert_eq!(v["address"], CLIENT);
    assert_eq!(v["router"], "emu");
    assert_eq!(v["duration_s"], 86_400);
    // And in the alerts file, the same line.
    let in_file = std::fs::read_to_string(&alerts_file).unwrap();
    assert_eq!(in_file.lines().next(), Some(first.as_str()));
}

/// An address already on the list (RouterOS refuses the duplicate: `already have such
/// entry`) gets its timeout extended to the block's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_already_listed_gets_its_timeout_extended() {
    let r = start("");
    let c = admin(&r.ssl, &r.ca).await;
    c.call(&[
        "/ip/firewall/address-list/add",
        "=list=tikguard-watch",
        "=address=198.51.100.31",
        "=timeout=1m",
        "=comment=listed by hand",
    ])
    .await
    .unwrap();
    send_syslog(&r.udp, &failures_from("198.51.100.31", 3));
    let mut timeout = String::new();
    for _ in 0..100 {
        let entries = listed(&r.ssl, &r.ca).await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        timeout = entries[0].1.clone();
        if timeout.contains('d') || timeout.starts_with("23h") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        timeout.starts_with("1d") || timeout.starts_with("23h"),
        "extended to a day: {timeout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowlisted_source_is_never_blocked_however_many_failures() {
    let r = start("\"198.51.100.0/24\"");
    fail_logins(&r.api, 12).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
}

/// The state file: a restart puts running blocks back on a router that lost them and takes off
/// watch's entries the state does not hold; `watch unblock` removes a block for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_survive_restarts_and_unblock_removes_them_for_good() {
    let state = tempfile::tempdir().unwrap();
    let extra = format!(
        "state = \"{}\"\n",
        state.path().join("state.jsonl").display()
    );
    let mut r = start_with("", &extra);
    fail_logins(&r.api, 4).await;
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    let config = r.config.clone();
    let unblock = |address: &str| {
        let out = tikguard()
            .env("STATE_DIRECTORY", config.parent().unwrap())
            .args(["watch", "unblock", "--config"])
            .arg(&config)
            .arg(address)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Unblocked in another spelling (`/32`) while watch runs: gone, and watch forgot him too:
    // new failures block him again at once, not when the old block would have ended.
    assert!(unblock(&format!("{CLIENT}/32")).contains("emu: removed 1 entry"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    fail_logins(&r.api, 3).await;
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    // Watch stops; the router loses the entry and gains a stale one of watch's.
    drop(std::mem::replace(
        &mut r.watch,
        Proc(std::process::Command::new("true").spawn().unwrap()),
    ));
    let c = admin(&r.ssl, &r.ca).await;
    for item in c
        .call(&["/ip/firewall/address-list/print", "?list=tikguard-watch"])
        .await
        .unwrap()
    {
        let id = String::from_utf8_lossy(item.get(".id").unwrap()).into_owned();
        c.call(&["/ip/firewall/address-list/remove", &format!("=.id={id}")])
            .await
            .unwrap();
    }
    c.call(&[
        "/ip/firewall/address-list/add",
        "=list=tikguard-watch",
        "=address=192.0.2.99",
        "=comment=tikguard-watch@t: from an older run",
    ])
    .await
    .unwrap();
    // Restart: reconciled.
    r.kill_watch();
    r.watch = spawn_watch(&r.config);
    assert_eq!(
        until_listed(&r, &[CLIENT]).await,
        [CLIENT],
        "state: {}",
        std::fs::read_to_string(state.path().join("state.jsonl")).unwrap_or_default()
    );
    // Unblock for good, spelt `/32` again: gone now, and a restart does not put it back.
    assert!(unblock(&format!("{CLIENT}/32")).contains("emu: removed 1 entry"));
    r.kill_watch();
    r.watch = spawn_watch(&r.config);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    let _ = &r.dir;
}

/// A router that cannot be reached keeps its blocks: they are applied when it comes back, and
/// a router that comes back without them (a reboot) gets them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_wait_for_an_unreachable_router_and_return_after_it_restarts() {
    let mut r = start("");
    r.stop_emu();
    send_syslog(&r.udp, &failures_from("198.51.100.23", 3));
    // Watch tries, fails, and keeps the block while the router is away.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    r.restart_emu();
    assert_eq!(
        until_listed(&r, &["198.51.100.23"]).await,
        ["198.51.100.23"]
    );
    // The router restarts from its configuration: the entry is lost, and put back.
    r.stop_emu();
    r.restart_emu();
    assert!(listed(&r.ssl, &r.ca).await.len() <= 1);
    assert_eq!(
        until_listed(&r, &["198.51.100.23"]).await,
        ["198.51.100.23"]
    );
}

/// `--follow ROUTER`: no syslog from the router; watch reads its log over the API
/// (`/log/print follow-only`) and blocks all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_router_is_watched_without_syslog() {
    let r = start_setup(Setup {
        no_syslog: true,
        args: &["--follow", "emu"],
        ..Setup::default()
    });
    // The stream shows only what is logged after it starts, and watch started before the
    // router (it retries with backoff): fail logins until a round is seen.
    let mut got = Vec::new();
    for _ in 0..15 {
        fail_logins(&r.api, 4).await;
        got = listed(&r.ssl, &r.ca).await;
        for _ in 0..10 {
            if !got.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            got = listed(&r.ssl, &r.ca).await;
        }
        if !got.is_empty() {
            break;
        }
    }
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, CLIENT);
}

/// `--follow` names a router of the configuration.
#[test]
fn follow_names_a_configured_router() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        "[watch]\nsyslog-udp = \"127.0.0.1:0\"\n[[router]]\nname = \"core-01\"\naddress = \"127.0.0.1:1\"\npin = \"sha256:00\"\nuser = \"u\"\npassword-env = \"X\"\n",
    )
    .unwrap();
    let out = tikguard()
        .env("STATE_DIRECTORY", dir.path())
        .args(["watch", "run", "--config"])
        .arg(&cfg)
        .args(["--follow", "core-02"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--follow core-02: no [[router]] of that name"));
}

/// A router that lets watch log in but refuses to show the list (a user without `read`: "not
/// enough permissions") is retried with backoff, not in a loop of logins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_refusing_the_list_is_retried_with_backoff() {
    let mut r = start("");
    r.kill_watch();
    let c = admin(&r.ssl, &r.ca).await;
    c.call(&["/user/group/add", "=name=nolist", "=policy=api,write"])
        .await
        .unwrap();
    c.call(&["/user/add", "=name=w", "=group=nolist", "=password=w-pass"])
        .await
        .unwrap();
    let pw = r.dir.path().join("w.pass");
    std::fs::write(&pw, "w-pass\n").unwrap();
    let cfg = r.dir.path().join("w.toml");
    std::fs::write(
        &cfg,
        format!(
            "[watch]\nsyslog-udp = \"127.0.0.1:0\"\n[[router]]\nname = \"emu\"\naddress = \"{}\"\nca = \"{}\"\nuser = \"w\"\npassword-file = \"{}\"\n",
            r.ssl,
            r.ca.display(),
            pw.display()
        ),
    )
    .unwrap();
    let (_w, _, _, said) = spawn_watch_with(&cfg, &[]);
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let logins = c
        .call(&["/log/print"])
        .await
        .unwrap()
        .iter()
        .filter(|e| {
            e.get("message")
                .is_some_and(|m| m.starts_with(b"user w logged in"))
        })
        .count();
    // Attempts at 0, 1, 3 (and 7) seconds: three in four seconds, not hundreds.
    assert!((1..=4).contains(&logins), "{logins} logins in 4 s");
    let said = said.lock().unwrap().clone();
    assert!(
        said.iter().any(|l| l.contains("not enough permissions")),
        "the refusal is said: {said:?}"
    );
}

/// Lines that name what must never be blocked (loopback, unspecified, broadcast, multicast,
/// link-local, the router's own address) put nothing on the list, however many.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_must_never_be_blocked_is_never_listed() {
    let r = start_with("", "block-everywhere = true\n");
    for a in [
        "127.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.5",
        "169.254.3.4",
        "fe80::1",
        "::",
        "::1",
        "ff02::1",
    ] {
        send_syslog(&r.udp, &failures_from(a, 6));
    }
    send_syslog(&r.udp, &failures_from("198.51.100.86", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.86"]).await,
        ["198.51.100.86"]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        until_listed(&r, &["198.51.100.86"]).await,
        ["198.51.100.86"]
    );
}

/// Past `max-entries` blocks on a router, new blocks are refused and alerted, not added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_past_max_entries_are_refused_and_alerted() {
    let mut r = start_with("", "max-entries = 3\n");
    for i in 0..6 {
        send_syslog(
            &r.udp,
            &failures_from(&format!("198.51.100.{}", 100 + i), 3),
        );
    }
    let want = ["198.51.100.100", "198.51.100.101", "198.51.100.102"];
    assert_eq!(until_listed(&r, &want).await, want);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(listed(&r.ssl, &r.ca).await.len(), 3);
    let last = stop_watch(&mut r.watch, &r.said);
    assert_eq!(
        stopping_count(&last, " refused past max-entries"),
        3,
        "{last}"
    );
    let mut out = String::new();
    std::io::Read::read_to_string(&mut r.watch.0.stdout.take().unwrap(), &mut out).unwrap();
    let refused = out
        .lines()
        .filter(|l| l.contains("\"type\":\"refused\""))
        .count();
    assert_eq!(refused, 3, "{out}");
}

/// Each watcher's entries carry its instance name, and reconciling touches only its own: a
/// second watcher on the same router (an HA pair, a test box) leaves the first's blocks alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_watcher_never_removes_the_first_ones_entries() {
    let r = start("");
    send_syslog(&r.udp, &failures_from("198.51.100.95", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.95"]).await,
        ["198.51.100.95"]
    );
    let comments = listed_with(&r.ssl, &r.ca, "comment").await;
    assert!(
        comments[0].1.starts_with("tikguard-watch@t: 3 failures"),
        "{comments:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("b.toml");
    let text = std::fs::read_to_string(&r.config)
        .unwrap()
        .replace("instance = \"t\"", "instance = \"b\"");
    std::fs::write(&cfg, text).unwrap();
    let (_b, _, _, said) = spawn_watch_with(&cfg, &[]);
    // The second watcher connects and reconciles (nothing of its own wanted).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // It reached the router: no error said (the firewall warning is none).
    assert!(
        !said
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("router emu") && !l.contains("firewall")),
        "{:?}",
        said.lock().unwrap()
    );
    assert_eq!(
        until_listed(&r, &["198.51.100.95"]).await,
        ["198.51.100.95"]
    );
}

/// Without `state` in the file, blocks are still kept (here in `$STATE_DIRECTORY`, as the
/// systemd unit's StateDirectory gives it) with their offence count, and a restart puts them
/// back on a router that lost them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_are_kept_across_restarts_by_default() {
    let mut r = start("");
    send_syslog(&r.udp, &failures_from("198.51.100.96", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.96"]).await,
        ["198.51.100.96"]
    );
    let state = r.dir.path().join("state.jsonl");
    let mut text = String::new();
    for _ in 0..50 {
        text = std::fs::read_to_string(&state).unwrap_or_default();
        if text.contains("198.51.100.96") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        text.contains("\"address\":\"198.51.100.96\"") && text.contains("\"offence\":1"),
        "{text}"
    );
    drop(std::mem::replace(
        &mut r.watch,
        Proc(std::process::Command::new("true").spawn().unwrap()),
    ));
    r.stop_emu();
    r.restart_emu();
    r.kill_watch();
    r.watch = spawn_watch(&r.config);
    assert_eq!(
        until_listed(&r, &["198.51.100.96"]).await,
        ["198.51.100.96"]
    );
}

/// A router whose password (or CA, or pin) is wrong stops start-up with the reason, so that
/// a broken unit is not "active" while blocking nothing; `--keep-trying` starts anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_refusing_watch_stops_start_up_unless_keep_trying() {
    let mut r = start("");
    // The harness's watch would hold the state file these start-ups want.
    r.kill_watch();
    let bad = r.dir.path().join("bad.pass");
    std::fs::write(&bad, "wrong\n").unwrap();
    let cfg = r.dir.path().join("bad.toml");
    let text = std::fs::read_to_string(&r.config)
        .unwrap()
        .replace("admin.pass", "bad.pass");
    std::fs::write(&cfg, text).unwrap();
    let out = tikguard()
        .env("STATE_DIRECTORY", r.dir.path())
        .args(["watch", "run", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("router emu") && err.contains("--keep-trying"),
        "{err}"
    );
    // Another CA: the certificate does not verify.
    std::fs::create_dir(r.dir.path().join("other")).unwrap();
    let (other_ca, _) = self_signed_pem(&r.dir.path().join("other"));
    let text = std::fs::read_to_string(&r.config)
        .unwrap()
        .replace(&r.ca.display().to_string(), &other_ca.display().to_string());
    std::fs::write(&cfg, text).unwrap();
    let out = tikguard()
        .env("STATE_DIRECTORY", r.dir.path())
        .args(["watch", "run", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("router emu"), "{err}");
    // --keep-trying: it starts (its syslog address said) and keeps running.
    let (mut w, _, _, _) = spawn_watch_with(&cfg, &["--keep-trying"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(w.0.try_wait().unwrap().is_none(), "watch ended");
}

/// `watch unblock` of a host inside a blocked IPv6 /64 says which block holds it; the block
/// itself is lifted in any spelling (here uncompressed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unblocking_a_host_inside_a_blocked_64_names_the_block() {
    let r = start("");
    send_syslog(&r.udp, &failures_from("2001:db8:5:6::1", 3));
    let c = admin(&r.ssl, &r.ca).await;
    let mut v6 = Vec::new();
    for _ in 0..100 {
        v6 = c
            .call(&["/ipv6/firewall/address-list/print", "?list=tikguard-watch"])
            .await
            .unwrap();
        if !v6.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(v6.len(), 1);
    let unblock = |address: &str| {
        tikguard()
            .env("STATE_DIRECTORY", r.config.parent().unwrap())
            .args(["watch", "unblock", "--config"])
            .arg(&r.config)
            .arg(address)
            .output()
            .unwrap()
    };
    let out = unblock("2001:db8:5:6::9");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the block of 2001:db8:5:6::/64 holds it"),
        "{err}"
    );
    let out = unblock("2001:0db8:0005:0006:0000:0000:0000:0000/64");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("emu: removed 1 entry"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(c
        .call(&["/ipv6/firewall/address-list/print", "?list=tikguard-watch"])
        .await
        .unwrap()
        .is_empty());
}

/// Two routers see the same attacker: each counts and blocks him on its own (a block on the
/// first does not stop the count on the second), and the second block joins the first, so a
/// reconcile of the first router (after it restarted without its list) puts his entry back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_routers_each_block_and_neither_loses_its_entry() {
    let mut r = start("");
    // A second router, followed over the API (its syslog would come from 127.0.0.1 too).
    let (emu2, api2_addr, ssl2_addr, table) = second_emu(&r, "emu2", "127.0.0.9", true);
    let dir = r.dir.path();
    let text = std::fs::read_to_string(&r.config).unwrap() + &table;
    let cfg = dir.join("two.toml");
    std::fs::write(&cfg, text).unwrap();
    // The harness's watch goes; this one watches both (the first router's syslog still comes
    // to the old port: its failures are sent here by hand, as it logs them).
    r.kill_watch();
    let (w, udp, _, _) = spawn_watch_with(&cfg, &[]);
    r.watch = w;
    send_syslog(&udp, &failures_from(CLIENT, 3));
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    // The second router sees him too: blocked there as well (the follow stream shows only
    // what is logged after it starts: fail until a block appears).
    let mut on2 = Vec::new();
    for _ in 0..10 {
        fail_logins(&api2_addr, 3).await;
        for _ in 0..10 {
            on2 = listed(&ssl2_addr, &r.ca).await;
            if !on2.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !on2.is_empty() {
            break;
        }
    }
    assert_eq!(on2.len(), 1, "blocked on the second router too");
    // The first router restarts without its list: reconciled, his entry comes back.
    r.stop_emu();
    r.restart_emu();
    assert_eq!(until_listed(&r, &[CLIENT]).await, [CLIENT]);
    drop(emu2);
}

/// A second watch started with the same configuration (same instance name, same state file:
/// a unit started twice, a test run beside production) would compact the state file under the
/// first and reconcile the same entries as its own. It refuses to start, naming the state file
/// the first one holds, and the first one's blocks stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_watch_on_the_same_state_file_refuses_to_start() {
    let r = start("");
    send_syslog(&r.udp, &failures_from("198.51.100.97", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.97"]).await,
        ["198.51.100.97"]
    );
    let mut second = common::tikguard()
        .args(["watch", "run", "--config"])
        .arg(&r.config)
        .env("STATE_DIRECTORY", r.config.parent().unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    for _ in 0..150 {
        if let Some(s) = second.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if status.is_none() {
        let _ = second.kill();
        let _ = second.wait();
        panic!("a second watch on the same state file kept running");
    }
    assert!(!status.unwrap().success());
    let mut err = String::new();
    use std::io::Read;
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("state.jsonl") && err.contains("another watch"),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        until_listed(&r, &["198.51.100.97"]).await,
        ["198.51.100.97"]
    );
}

/// Expiry end to end: a block of 3 s is listed with its timeout, the router (the emulator,
/// counting `timeout=` down as RouterOS does) drops it when the time is up, watch does not put
/// it back, and the same source failing again is blocked again as a second offence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_ends_on_the_router_when_its_timeout_runs_out() {
    let mut r = start("");
    r.kill_watch();
    let text = std::fs::read_to_string(&r.config)
        .unwrap()
        .replace("block = \"1d\"", "block = \"3s\"");
    std::fs::write(&r.config, text).unwrap();
    let (w, udp, _, _) = spawn_watch_with(&r.config, &[]);
    r.watch = w;
    let who = "198.51.100.61";
    send_syslog(&udp, &failures_from(who, 3));
    assert_eq!(until_listed(&r, &[who]).await, [who]);
    let t = listed_with(&r.ssl, &r.ca, "timeout").await;
    assert!(
        t.len() == 1 && ["1s", "2s", "3s"].contains(&t[0].1.as_str()),
        "{t:?}"
    );
    let d = listed_with(&r.ssl, &r.ca, "dynamic").await;
    assert_eq!(d[0].1, "true");
    let mut gone = false;
    for _ in 0..100 {
        if listed(&r.ssl, &r.ca).await.is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "still listed: {:?}", listed(&r.ssl, &r.ca).await);
    // watch does not put an ended block back.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    // Failing again: blocked again, a second offence.
    send_syslog(&udp, &failures_from(who, 3));
    assert_eq!(until_listed(&r, &[who]).await, [who]);
    let state = r.dir.path().join("state.jsonl");
    let mut text = String::new();
    for _ in 0..50 {
        text = std::fs::read_to_string(&state).unwrap_or_default();
        if text.contains("\"offence\":2") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text.contains("\"offence\":2"), "{text}");
}

/// `watch unblock --router R ADDRESS` lifts the block on R only: the other router keeps its
/// entry, the state keeps the other router's block (`watch status` shows it), the running watch
/// does not remove it, and a restart neither puts R's back nor takes the other's off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unblock_on_one_router_keeps_the_block_on_the_others() {
    let mut r = start("");
    let (_emu2, _, ssl2, table) = second_emu(&r, "emu2", "127.0.0.9", false);
    let cfg = r.dir.path().join("two.toml");
    std::fs::write(&cfg, std::fs::read_to_string(&r.config).unwrap() + &table).unwrap();
    r.kill_watch();
    let (w, _, _, _) = spawn_watch_with(&cfg, &[]);
    r.watch = w;
    let who = "198.51.100.66";
    let (ok, _, err) = watch_cli(&cfg, &["block", who, "--for", "1h"]);
    assert!(ok, "{err}");
    assert_eq!(until_listed(&r, &[who]).await, [who]);
    assert_eq!(until_on(&ssl2, &r.ca, &[who]).await, [who]);
    let (ok, out, err) = watch_cli(&cfg, &["unblock", who, "--router", "emu"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "emu: removed 1 entry");
    let (ok, status, _) = watch_cli(&cfg, &["status", "--json"]);
    assert!(ok);
    let rows: Vec<serde_json::Value> = status
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{status}");
    assert_eq!(rows[0]["router"], "emu2");
    assert_eq!(rows[0]["address"], who);
    // The running watch reads the unblock and leaves the other router's entry.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    assert_eq!(addresses_on(&ssl2, &r.ca).await, [who]);
    // Nor does a restart change that.
    r.kill_watch();
    let (w, _, _, _) = spawn_watch_with(&cfg, &[]);
    r.watch = w;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(listed(&r.ssl, &r.ca).await.is_empty());
    assert_eq!(addresses_on(&ssl2, &r.ca).await, [who]);
    // A router name the configuration does not have is refused.
    let (ok, _, err) = watch_cli(&cfg, &["unblock", who, "--router", "nope"]);
    assert!(!ok && err.contains("no [[router]] named `nope`"), "{err}");
}

/// Every file watch writes that holds what it knows is 0600 from its creation, whatever lay
/// there before: a `state.jsonl.new` left by a crash (or put there) with 0644 is not reused by
/// the compaction at start (the state it is renamed to would be world-readable), and the
/// alerts file (user names tried, which may be passwords typed in the wrong field) is created
/// 0600.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_watch_writes_are_private_from_their_creation() {
    use std::os::unix::fs::PermissionsExt;
    let keep = tempfile::tempdir().unwrap();
    let state = keep.path().join("state.jsonl");
    let alerts = keep.path().join("alerts.jsonl");
    std::fs::write(
        &state,
        "{\"op\":\"block\",\"address\":\"198.51.100.67\",\"v6\":false,\"routers\":[\"emu\"],\"until_ms\":99999999999999,\"offence\":1}\n",
    )
    .unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o600)).unwrap();
    let leftover = keep.path().join("state.jsonl.new");
    std::fs::write(&leftover, "left by a crash\n").unwrap();
    std::fs::set_permissions(&leftover, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = start_with(
        "",
        &format!(
            "state = \"{}\"\nalerts-file = \"{}\"\n",
            state.display(),
            alerts.display()
        ),
    );
    assert_eq!(
        until_listed(&r, &["198.51.100.67"]).await,
        ["198.51.100.67"]
    );
    send_syslog(&r.udp, &failures_from("198.51.100.68", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.67", "198.51.100.68"]).await,
        ["198.51.100.67", "198.51.100.68"]
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for _ in 0..50 {
        if std::fs::read_to_string(&alerts).is_ok_and(|t| t.contains("198.51.100.68")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mode(&state), 0o600, "the state after compaction");
    assert_eq!(mode(&alerts), 0o600, "the alerts file");
    assert_eq!(mode(&keep.path().join("state.jsonl.lock")), 0o600);
}

/// The state file is compacted while watch runs, not only at start: past 1 MiB (and twice its
/// compacted length) it is rewritten with the running blocks alone. Here 1.5 MiB of ended
/// blocks are appended (as many `watch block --for` runs leave) and an unblock by hand follows;
/// within a few seconds the file is back to a few lines, the running block is still kept and
/// on the router, and the unblocked one is neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_file_is_compacted_while_watch_runs() {
    use std::io::Write;
    let r = start("");
    let state = r.dir.path().join("state.jsonl");
    send_syslog(&r.udp, &failures_from("198.51.100.71", 3));
    send_syslog(&r.udp, &failures_from("198.51.100.72", 3));
    assert_eq!(
        until_listed(&r, &["198.51.100.71", "198.51.100.72"]).await,
        ["198.51.100.71", "198.51.100.72"]
    );
    let mut junk = String::new();
    let mut i = 0u32;
    while junk.len() < 3 << 19 {
        junk.push_str(&format!(
            "{{\"op\":\"block\",\"address\":\"10.{}.{}.{}\",\"v6\":false,\"routers\":[\"emu\"],\"until_ms\":1000,\"offence\":1}}\n",
            i >> 16 & 255,
            i >> 8 & 255,
            i & 255
        ));
        i += 1;
    }
    std::fs::OpenOptions::new()
        .append(true)
        .open(&state)
        .unwrap()
        .write_all(junk.as_bytes())
        .unwrap();
    let (ok, _, err) = watch_cli(&r.config, &["unblock", "198.51.100.71"]);
    assert!(ok, "{err}");
    let mut len = u64::MAX;
    for _ in 0..100 {
        len = std::fs::metadata(&state).unwrap().len();
        if len < 4096 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(len < 4096, "still {len} bytes");
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(!text.contains("\"10."), "{text}");
    let (ok, status, _) = watch_cli(&r.config, &["status", "--json"]);
    assert!(ok);
    assert!(
        status.contains("198.51.100.72") && !status.contains("198.51.100.71"),
        "{status}"
    );
    assert_eq!(
        until_listed(&r, &["198.51.100.72"]).await,
        ["198.51.100.72"]
    );
    assert!(
        r.said
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("state file compacted")),
        "{:?}",
        r.said.lock().unwrap()
    );
}
