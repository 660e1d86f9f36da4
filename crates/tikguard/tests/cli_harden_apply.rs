//! `tikguard harden --apply` against `tikguard emu` over verified TLS: a dry run changes
//! nothing, `--yes` applies and audits the router again, and a second run has nothing to do.

mod common;
use common::{emu_process, tikguard};

/// A finished run as the tests read it: exit code, stdout (UTF-8, or the test fails), stderr.
fn outcome(out: std::process::Output) -> (Option<i32>, String, String) {
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dry_run_then_apply_then_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let (addr, pw) = (emu.ssl.clone(), emu.password_file.clone());
    let known = dir.path().join("known");
    let run = |extra: &[&str]| {
        let out = tikguard()
            .args([
                "harden",
                "--apply",
                &addr,
                "--api-client",
                "198.51.100.20",
                "--mgmt",
                "10.255.0.0/24,127.0.0.0/8",
                "--known-routers",
            ])
            .arg(&known)
            .arg("--password-file")
            .arg(&pw)
            .args(extra)
            .output()
            .unwrap();
        outcome(out)
    };
    let (code, dry, err) = run(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        dry.contains("would apply: disable the plaintext API (8728)"),
        "{dry}"
    );
    assert!(dry.contains("/ip/service/set =.id="), "{dry}");
    assert!(dry.contains("dry run: nothing changed"));
    // A placement names rules the run adds before it, which the dry run has not added: it is
    // shown as the find the run resolves when it gets there, never as the id of a rule that
    // is first today (the block-list drop goes before the staging the run adds first).
    let placed: Vec<&str> = dry.lines().filter(|l| l.contains("place-before")).collect();
    assert!(!placed.is_empty(), "{dry}");
    for l in &placed {
        assert!(
            l.contains("=place-before=[:pick [find where dynamic=no"),
            "{l}"
        );
    }
    // The dry run changed nothing: the same plan again.
    let (_, dry2, _) = run(&[]);
    assert_eq!(dry, dry2);
    let (code, applied, err) = run(&["--yes"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        applied
            .lines()
            .filter(|l| l.contains("place-before"))
            .all(|l| l.contains("=place-before=*")),
        "{applied}"
    );
    let audit_line = applied
        .lines()
        .find(|l| l.starts_with("live audit: findings"))
        .unwrap();
    let nums: Vec<usize> = audit_line
        .trim_start_matches("live audit: findings ")
        .split(" -> ")
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(nums[1] < nums[0], "{audit_line}");
    let (code, again, err) = run(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(again.contains("nothing to do"), "{again}");
}

/// `--apply --yes` from a host the plan does not keep (the emulator is reached from 127.0.0.1,
/// outside `--mgmt` and `--api-client`) is refused and changes nothing, unless
/// `--yes-lock-me-out`.
#[test]
fn applying_from_a_host_the_plan_locks_out_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let (addr, pw) = (emu.ssl.clone(), emu.password_file.clone());
    let known = dir.path().join("known");
    let run = |extra: &[&str]| {
        let out = tikguard()
            .args([
                "harden",
                "--apply",
                &addr,
                "--api-client",
                "198.51.100.20",
                "--mgmt",
                "10.255.0.0/24",
                "--known-routers",
            ])
            .arg(&known)
            .arg("--password-file")
            .arg(&pw)
            .args(extra)
            .output()
            .unwrap();
        outcome(out)
    };
    let (code, dry, err) = run(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("warning: this connection comes from 127.0.0.1"),
        "{err}"
    );
    let (code, _, err) = run(&["--yes"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--yes-lock-me-out"), "{err}");
    // Nothing changed: the same dry run again.
    let (_, dry2, _) = run(&[]);
    assert_eq!(dry, dry2);
}

/// The router's password given to `--apply` (a file here) is never printed: not on stdout or
/// stderr of a dry run, a run, a failed login, nor in the script and rollback written with it.
/// `--format json` is refused with `--apply` (the run's own lines are text), before connecting.
#[test]
fn the_routers_password_is_never_printed_or_written() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let secret = std::fs::read_to_string(&emu.password_file).unwrap();
    let secret = secret.trim();
    let known = dir.path().join("known");
    let wrong = dir.path().join("wrong.pass");
    std::fs::write(&wrong, "Wr0ng-guess-4711\n").unwrap();
    let (script, undo) = (dir.path().join("h.rsc"), dir.path().join("undo.rsc"));
    let run = |pw: &std::path::Path, extra: &[&str]| {
        let out = tikguard()
            .args([
                "harden",
                "--apply",
                &emu.ssl,
                "--api-client",
                "198.51.100.20",
                "--mgmt",
                "10.255.0.0/24,127.0.0.0/8",
                "--known-routers",
            ])
            .arg(&known)
            .arg("--password-file")
            .arg(pw)
            .arg("-o")
            .arg(&script)
            .arg("--rollback")
            .arg(&undo)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, err) = run(&wrong, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(!err.contains("Wr0ng-guess-4711"), "{err}");
    let (code, _, err) = run(&emu.password_file, &["--format", "json"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--format json"), "{err}");
    for extra in [&[][..], &["--yes"][..]] {
        let (code, out, err) = run(&emu.password_file, extra);
        assert_eq!(code, Some(0), "{err}");
        assert!(!out.contains(secret), "{out}");
        assert!(!err.contains(secret), "{err}");
        for f in [&script, &undo] {
            let text = std::fs::read_to_string(f).unwrap();
            assert!(!text.contains(secret), "{}: {text}", f.display());
        }
    }
}

/// A TCP relay to `target` on 127.0.0.1 that, once `cut` is set and the client has sent a
/// sentence holding `cut`'s word followed by `=disabled=yes`, ends the connection when the
/// client sends anything more: a router that closes the sessions of a service as it is disabled.
fn relay(target: String, cut: std::sync::Arc<std::sync::Mutex<Option<Vec<u8>>>>) -> String {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            let mut s = TcpStream::connect(&target).unwrap();
            let (mut c2, mut s2) = (c.try_clone().unwrap(), s.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
                let _ = c2.shutdown(Shutdown::Both);
            });
            let cut = cut.lock().unwrap().clone();
            std::thread::spawn(move || {
                let (mut seen, mut armed, mut buf) = (Vec::new(), false, [0u8; 4096]);
                loop {
                    let n = match c.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if armed {
                        let _ = s.shutdown(Shutdown::Both);
                        let _ = c.shutdown(Shutdown::Both);
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if let Some(word) = &cut {
                        armed = seen.windows(word.len()).enumerate().any(|(i, w)| {
                            w == &word[..]
                                && seen[i..]
                                    .windows(13)
                                    .take(64)
                                    .any(|x| x == b"=disabled=yes")
                        });
                    }
                    if s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s.shutdown(Shutdown::Both);
            });
        }
    });
    addr
}

/// `--apply --plain` whose plan disables the plaintext API: the final check runs over the
/// session opened before, and says so; where the router ends that session with the service,
/// the run says every change was applied and the final check did not run (exit 1), never a
/// finding count it did not read.
#[test]
fn a_plain_apply_that_disables_the_plain_api_never_reports_an_unchecked_final_audit() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), true);
    let pw = emu.password_file.clone();
    let cut = std::sync::Arc::new(std::sync::Mutex::new(None));
    let addr = relay(emu.api.clone().unwrap(), cut.clone());
    let run = |extra: &[&str]| {
        let out = tikguard()
            .args([
                "harden",
                "--apply",
                &addr,
                "--plain",
                "--api-client",
                "198.51.100.20",
                "--mgmt",
                "10.255.0.0/24,127.0.0.0/8",
                "--password-file",
            ])
            .arg(&pw)
            .args(extra)
            .output()
            .unwrap();
        outcome(out)
    };
    let (code, dry, err) = run(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        dry.contains("note: this connection is the plaintext API, which the plan disables last"),
        "{dry}"
    );
    // The words that disable the plaintext API, as the dry run shows them.
    let api_id = dry
        .lines()
        .skip_while(|l| !l.contains("would apply: disable the plaintext API (8728)"))
        .nth(1)
        .and_then(|l| l.split_whitespace().find(|w| w.starts_with("=.id=")))
        .unwrap_or_else(|| panic!("{dry}"))
        .to_string();
    let mut word = vec![api_id.len() as u8];
    word.extend_from_slice(api_id.as_bytes());
    *cut.lock().unwrap() = Some(word);
    let (code, applied, err) = run(&["--yes"]);
    assert_eq!(code, Some(1), "{applied}\n{err}");
    assert!(!applied.contains("live audit: findings"), "{applied}");
    assert!(
        err.contains("every change was applied, but the final check did not run")
            && err.contains("this connection is the plaintext API, which the plan disabled last"),
        "{err}"
    );
    // The way to see the findings names a command that exists.
    assert!(err.contains("tikguard audit --live ROUTER"), "{err}");
}

/// The same over an emulator that keeps the open session: the final check runs over it, and
/// its line says where it was read.
#[test]
fn a_plain_apply_reads_the_final_audit_over_the_session_opened_before() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), true);
    let out = tikguard()
        .args([
            "harden",
            "--apply",
            emu.api.as_deref().unwrap(),
            "--plain",
            "--api-client",
            "198.51.100.20",
            "--mgmt",
            "10.255.0.0/24,127.0.0.0/8",
            "--yes",
            "--password-file",
        ])
        .arg(&emu.password_file)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.lines().any(|l| l.starts_with("live audit: findings")
            && l.ends_with(
                "(read over this session, opened before the plaintext API was disabled)"
            )),
        "{stdout}"
    );
}

/// A connection reset in the middle of `--apply --yes` (the relay ends it after the sentence
/// that disables www): the run says which change it stopped at, that the ones before were
/// applied, that the one in flight may or may not have been, and how to finish or undo; a
/// second run over a working connection finishes the plan from where the router is, and a
/// third has nothing to do.
#[test]
fn a_reset_mid_apply_is_reported_truthfully_and_a_second_run_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), true);
    let pw = emu.password_file.clone();
    let cut = std::sync::Arc::new(std::sync::Mutex::new(None));
    let addr = relay(emu.api.clone().unwrap(), cut.clone());
    let rollback = dir.path().join("undo.rsc");
    let run = |rollback: &std::path::Path, extra: &[&str]| {
        let out = tikguard()
            .args([
                "harden",
                "--apply",
                &addr,
                "--plain",
                "--api-client",
                "198.51.100.20",
                "--mgmt",
                "10.255.0.0/24,127.0.0.0/8",
                "--rollback",
            ])
            .arg(rollback)
            .arg("--password-file")
            .arg(&pw)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, dry, err) = run(&rollback, &[]);
    assert_eq!(code, Some(0), "{err}");
    let www_id = dry
        .lines()
        .skip_while(|l| !l.contains("would apply: disable www"))
        .nth(1)
        .and_then(|l| l.split_whitespace().find(|w| w.starts_with("=.id=")))
        .unwrap_or_else(|| panic!("{dry}"))
        .to_string();
    let mut word = vec![www_id.len() as u8];
    word.extend_from_slice(www_id.as_bytes());
    *cut.lock().unwrap() = Some(word);
    let (code, applied, err) = run(&rollback, &["--yes"]);
    assert_eq!(code, Some(1), "{applied}\n{err}");
    assert!(!applied.contains("live audit"), "{applied}");
    assert!(
        err.contains("the connection failed during change")
            && err.contains("were applied")
            && err.contains("may or may not have been applied")
            && err.contains("nothing after it was sent")
            && err.contains(&rollback.display().to_string()),
        "{err}"
    );
    // What is left is a prefix of the plan: a second run plans from it and finishes.
    *cut.lock().unwrap() = None;
    // The first run's rollback is the undo of what it changed: the second run writes its own.
    let first_undo = std::fs::read_to_string(&rollback).unwrap();
    let (code, finished, err) = run(&dir.path().join("undo-2.rsc"), &["--yes"]);
    assert_eq!(code, Some(0), "{finished}\n{err}");
    assert_eq!(std::fs::read_to_string(&rollback).unwrap(), first_undo);
    assert!(!finished.contains("disable www"), "{finished}");
    // The plaintext API is off now: the last look goes over api-ssl.
    let out = tikguard()
        .args([
            "harden",
            "--apply",
            &emu.ssl,
            "--insecure-skip-verify",
            "--api-client",
            "198.51.100.20",
            "--mgmt",
            "10.255.0.0/24,127.0.0.0/8",
            "--password-file",
        ])
        .arg(&pw)
        .output()
        .unwrap();
    let again = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{again}");
    assert!(again.contains("nothing to do"), "{again}");
}

/// The rollback of a run is the only record of what it changed: a later `--apply` given the same
/// `--rollback` file refuses before changing anything rather than overwrite it with the undo of a
/// different plan (the earlier run's undo would be lost); a plan with nothing to do writes no
/// rollback at all (an empty file would read as "nothing to undo").
#[test]
fn apply_never_overwrites_an_earlier_rollback_and_an_empty_plan_writes_none() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let (addr, pw) = (emu.ssl.clone(), emu.password_file.clone());
    let known = dir.path().join("known");
    let run = |rollback: &std::path::Path, extra: &[&str]| {
        let out = tikguard()
            .args([
                "harden",
                "--apply",
                &addr,
                "--api-client",
                "198.51.100.20",
                "--mgmt",
                "10.255.0.0/24,127.0.0.0/8",
                "--known-routers",
            ])
            .arg(&known)
            .arg("--password-file")
            .arg(&pw)
            .arg("--rollback")
            .arg(rollback)
            .args(extra)
            .output()
            .unwrap();
        outcome(out)
    };
    let earlier = dir.path().join("undo.rsc");
    std::fs::write(&earlier, "# the undo of an earlier run\n").unwrap();
    let (code, out, err) = run(&earlier, &["--yes"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(!out.contains("live audit"), "{out}");
    assert!(
        err.contains("undo.rsc") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&earlier).unwrap(),
        "# the undo of an earlier run\n"
    );
    // Its own dry run's rollback is the same text: the run that follows it may write it.
    let first = dir.path().join("first.rsc");
    let (code, _, err) = run(&first, &[]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run(&first, &["--yes"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("live audit"), "{out}");
    let undo = std::fs::read_to_string(&first).unwrap();
    assert!(undo.contains("remove"), "{undo}");
    let none = dir.path().join("none.rsc");
    let (code, out, err) = run(&none, &["--yes"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("nothing to do"), "{out}");
    assert!(!none.exists());
    assert_eq!(std::fs::read_to_string(&first).unwrap(), undo);
}

/// The user `--apply` logs in as must keep its way in: a plan that takes policies from its
/// group (`--api-group` naming the group it is in) or restricts its address to the API
/// clients locks the applying engineer out on the next login. Refused before any change,
/// unless `--yes-lock-me-out`.
#[test]
fn apply_refuses_a_plan_that_restricts_the_user_it_logs_in_as() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pass");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let mut emu = tikguard()
        .args(["emu", "examples/isp-core-v7.rsc", "--api", "127.0.0.1:0"])
        .arg("--password-file")
        .arg(format!("admin={}", pw.display()))
        .arg("--password-file")
        .arg(format!("crm={}", pw.display()))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(emu.stdout.take().unwrap()).lines();
    let addr = lines
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("api ")
        .unwrap()
        .to_string();
    let run = |extra: &[&str]| {
        let out = tikguard()
            .args([
                "harden",
                "--apply",
                &addr,
                "--plain",
                "--user",
                "crm",
                "--api-group",
                "billing",
                "--api-client",
                "198.51.100.20",
                "--mgmt",
                "10.255.0.0/24,127.0.0.0/8",
                "--password-file",
            ])
            .arg(&pw)
            .args(extra)
            .output()
            .unwrap();
        outcome(out)
    };
    let (code, out, err) = run(&["--yes"]);
    let _ = emu.kill();
    let _ = emu.wait();
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(!out.contains("live audit"), "{out}");
    assert!(
        err.contains("`crm`") && err.contains("billing") && err.contains("--yes-lock-me-out"),
        "{err}"
    );
}

/// The router's state where a harden run acts, dynamic items included (`live` leaves most of
/// them out) and without what counts down by itself (an entry's `timeout`, `creation-time`).
fn router_state(rt: &tokio::runtime::Runtime, c: &routeros_api::Client) -> Vec<String> {
    let mut out = Vec::new();
    for menu in [
        "/ip/firewall/filter",
        "/ip/firewall/address-list",
        "/ipv6/firewall/filter",
        "/ipv6/firewall/address-list",
        "/ip/service",
        "/certificate",
        "/user",
        "/user/group",
        "/interface/list",
        "/interface/list/member",
        "/system/logging",
    ] {
        let items = rt
            .block_on(c.call(&[format!("{menu}/print")]))
            .unwrap_or_default();
        for i in items {
            let attrs: Vec<String> = i
                .attrs
                .iter()
                .filter(|(k, _)| !matches!(&k[..], b"timeout" | b"creation-time"))
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        String::from_utf8_lossy(k),
                        String::from_utf8_lossy(v)
                    )
                })
                .collect();
            out.push(format!("{menu} {}", attrs.join(" ")));
        }
    }
    out
}

/// A timed entry (`timeout=`) for a management prefix in the plan's own list is dynamic on a
/// router (MikroTik's Address-lists manual: held in RAM, printed with `D`), and RouterOS keeps
/// one entry per list and address (`failure: already have such entry`). `--apply --yes` sees
/// it in the live read and refuses before any change, naming it, instead of stopping half-way
/// at the plan's own add.
#[test]
fn a_timed_entry_in_the_plans_own_list_on_the_router_is_refused_before_any_change() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), true);
    let (addr, pw) = (emu.ssl.clone(), emu.password_file.clone());
    let known = dir.path().join("known");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let password = std::fs::read_to_string(&pw).unwrap();
    let client = rt.block_on(async {
        let c = routeros_api::Client::connect(&routeros_api::Options::new(
            emu.api.clone().unwrap(),
            routeros_api::Security::Plain,
        ))
        .await
        .unwrap();
        c.login("admin", password.trim()).await.unwrap();
        c
    });
    rt.block_on(client.call(&[
        "/ip/firewall/address-list/add",
        "=list=tikguard-mgmt",
        "=address=10.255.0.0/24",
        "=timeout=1d",
        "=comment=contractor, one day",
    ]))
    .unwrap();
    let before = router_state(&rt, &client);
    assert!(
        before
            .iter()
            .any(|l| l.contains("list=tikguard-mgmt") && l.contains("dynamic=true")),
        "the emulator holds a timed entry as dynamic: {before:#?}"
    );
    let out = tikguard()
        .args([
            "harden",
            "--apply",
            &addr,
            "--api-client",
            "198.51.100.20",
            "--mgmt",
            "10.255.0.0/24,127.0.0.0/8",
            "--known-routers",
        ])
        .arg(&known)
        .arg("--password-file")
        .arg(&pw)
        .arg("--yes")
        .output()
        .unwrap();
    let (code, out, err) = outcome(out);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(!out.contains("applying:"), "{out}\n{err}");
    assert!(!err.contains("already have such entry"), "{err}");
    assert!(
        err.contains("entry 10.255.0.0/24 of list tikguard-mgmt") && err.contains("timeout"),
        "{err}"
    );
    assert_eq!(router_state(&rt, &client), before, "the router was changed");
}
