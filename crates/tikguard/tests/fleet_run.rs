//! `tikguard fleet` over many emulated routers on loopback, as a process: every failure sorted
//! into its status within timeout x retries, the output folder, shards merged equal to one run,
//! write commands refused without --yes, and the password nowhere but where it was given.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod common;
use common::{self_signed_pem, tikguard};

use tikguard::emu::many::{self, Spec};
use tikguard::fleet::result::{RouterResult, Summary};

const PASSWORD: &str = "Fl33t-s3cret-value";

/// A running fleet: the runtime serving the emulators, and the inventory written for it.
struct Fleet {
    _rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    inventory: PathBuf,
    /// name -> the status word expected.
    expect: Vec<(String, &'static str)>,
}

fn export(dir: &Path, version: &str) -> PathBuf {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/isp-core-v7.rsc"
    ))
    .unwrap();
    let text = text.replacen("by RouterOS 7.12.1", &format!("by RouterOS {version}"), 1);
    let p = dir.join(format!("v{version}.rsc"));
    std::fs::write(&p, text).unwrap();
    p
}

/// `ok` routers on api-ssl (versions mixed), and `bad` of each kind of failure.
fn fleet(ok: usize, bad: usize) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pw = d.join("admin.pass");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let wrong = d.join("wrong.pass");
    std::fs::write(&wrong, "not-the-password\n").unwrap();
    let (cert, key) = self_signed_pem(d);
    let exports = ["7.12.1", "7.16.2", "7.18"].map(|v| export(d, v));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let tls_specs: Vec<Spec> = (0..ok + 2 * bad)
        .map(|i| Spec {
            name: format!("r{i}"),
            config: exports[i % 3].to_string_lossy().into_owned(),
            addr: any,
        })
        .collect();
    let plain_specs: Vec<Spec> = (0..bad)
        .map(|i| Spec {
            name: format!("p{i}"),
            config: exports[0].to_string_lossy().into_owned(),
            addr: any,
        })
        .collect();
    let passwords = [("admin".to_string(), PASSWORD.to_string())].into();
    let (tls_served, plain_served, silent) = rt.block_on(async {
        let tls = many::serve(
            &tls_specs,
            &many::Common {
                passwords: std::collections::HashMap::clone(&passwords),
                version: None,
                tls: Some(tikguard::emu::tls_config(&cert, &key).unwrap()),
                budget: 4 << 20,
            },
        )
        .await
        .unwrap();
        let plain = many::serve(
            &plain_specs,
            &many::Common {
                passwords,
                version: None,
                tls: None,
                budget: 4 << 20,
            },
        )
        .await
        .unwrap();
        // Silent after connect: accepts, reads, never answers.
        let mut silent = Vec::new();
        for _ in 0..bad {
            let l = tokio::net::TcpListener::bind(any).await.unwrap();
            silent.push(l.local_addr().unwrap());
            tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((s, _)) = l.accept().await {
                    held.push(s);
                }
            });
        }
        (tls, plain, silent)
    });
    // Down: a port nothing listens on.
    let down: Vec<SocketAddr> = (0..bad)
        .map(|_| {
            let l = std::net::TcpListener::bind(any).unwrap();
            l.local_addr().unwrap()
        })
        .collect();
    let addr = |e: &tikguard::emu::Emulator| e.api_ssl.or(e.api).unwrap();
    let mut inv = String::from("[defaults]\npassword_file = \"admin.pass\"\nknown_routers = \"known\"\n\n[group.wrongpw]\npassword_file = \"wrong.pass\"\n\n");
    let mut expect = Vec::new();
    let mut add = |name: String, a: SocketAddr, extra: &str, status: &'static str| {
        inv.push_str(&format!(
            "[[router]]\nname = \"{name}\"\naddress = \"{}\"\nport = {}\n{extra}\n",
            a.ip(),
            a.port()
        ));
        expect.push((name, status));
    };
    let other_pin = format!("pin = \"{}\"\n", "ab".repeat(32));
    for (i, (spec, e)) in tls_served.iter().enumerate() {
        if i < ok {
            add(spec.name.clone(), addr(e), "tags = [\"good\"]\n", "ok");
        } else if i < ok + bad {
            add(
                spec.name.clone(),
                addr(e),
                "group = \"wrongpw\"\n",
                "bad-login",
            );
        } else {
            add(spec.name.clone(), addr(e), &other_pin, "tls-mismatch");
        }
    }
    for (spec, e) in &plain_served {
        add(spec.name.clone(), addr(e), "", "wrong-service");
    }
    for (i, a) in silent.iter().enumerate() {
        add(format!("silent{i}"), *a, "", "timeout");
    }
    for (i, a) in down.iter().enumerate() {
        add(format!("down{i}"), *a, "", "refused");
    }
    let inventory = d.join("fleet.toml");
    std::fs::write(&inventory, inv).unwrap();
    Fleet {
        _rt: rt,
        dir,
        inventory,
        expect,
    }
}

fn run_fleet(f: &Fleet, args: &[&str], out: &Path) -> std::process::Output {
    tikguard()
        .arg("fleet")
        .args(args)
        .arg("-i")
        .arg(&f.inventory)
        .arg("-o")
        .arg(out)
        .args([
            "--timeout",
            "2s",
            "--command-timeout",
            "2s",
            "--retries",
            "1",
        ])
        .output()
        .unwrap()
}

fn results(out: &Path) -> (Summary, Vec<RouterResult>) {
    tikguard::fleet::output::read(out).unwrap()
}

/// Every file of a folder, as text.
fn all_text(dir: &Path) -> String {
    let mut s = String::new();
    for e in std::fs::read_dir(dir).unwrap() {
        s.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap_or_default());
    }
    s
}

#[test]
fn two_hundred_routers_each_reported_as_what_went_wrong() {
    let f = fleet(170, 6);
    assert_eq!(f.expect.len(), 200);
    let out = f.dir.path().join("out");
    let run = run_fleet(&f, &["exec", "/system/resource/print"], &out);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{stdout}\n{stderr}");
    let (summary, res) = results(&out);
    assert_eq!(summary.routers.len(), f.expect.len());
    for (name, want) in &f.expect {
        let r = res.iter().find(|r| &r.name == name).unwrap();
        assert_eq!(r.status.word(), *want, "{name}: {:?}", r.status);
        if *want == "ok" {
            let rows = r.output.as_ref().unwrap().as_array().unwrap();
            assert!(rows[0]["version"].is_string(), "{name}: {rows:?}");
        }
        // Never retried: a bad login (one more failed login in the router's log) or a
        // certificate mismatch.
        if matches!(*want, "bad-login" | "tls-mismatch") {
            assert_eq!(r.attempts, 1, "{name}");
        }
        if matches!(*want, "timeout" | "refused") {
            assert_eq!(r.attempts, 2, "{name}");
        }
    }
    assert!(!summary.interrupted);
    assert!(
        stdout.contains("bad-login") && stdout.contains("tls-mismatch"),
        "{stdout}"
    );
    // The password: given as a file path only, found nowhere in what the run wrote.
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    assert!(!all_text(&out).contains(PASSWORD));
}

#[test]
fn audit_results_and_shards_merged_equal_one_run() {
    let f = fleet(9, 1);
    let whole = f.dir.path().join("whole");
    let run = run_fleet(&f, &["audit"], &whole);
    assert_eq!(
        run.status.code(),
        Some(1),
        "isp-core-v7 has high findings: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (summary, res) = results(&whole);
    let r0 = res.iter().find(|r| r.name == "r0").unwrap();
    assert_eq!(r0.version.as_deref(), Some("7.12.1"));
    let r1 = res.iter().find(|r| r.name == "r1").unwrap();
    assert_eq!(r1.version.as_deref(), Some("7.16.2"));
    assert!(r0.counts.high + r0.counts.critical > 0);
    assert!(r0.first_fix.is_some());
    assert!(!r0.findings.is_empty() && !r0.api_exposure.is_empty());
    assert!(std::fs::metadata(whole.join("fleet.sarif")).unwrap().len() > 0);
    let mut shards = Vec::new();
    for k in 0..3 {
        let d = f.dir.path().join(format!("shard{k}"));
        run_fleet(&f, &["audit", "--shard", &format!("{k}/3")], &d);
        let (s, _) = results(&d);
        assert_eq!(s.shard.as_deref(), Some(format!("{k}/3").as_str()));
        shards.push(d);
    }
    let merged = f.dir.path().join("merged");
    let m = tikguard()
        .args(["fleet", "merge"])
        .args(&shards)
        .arg("-o")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(
        m.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&m.stderr)
    );
    let (msum, mres) = results(&merged);
    assert_eq!(msum.routers, summary.routers);
    assert_eq!(msum.by_status, summary.by_status);
    assert_eq!(msum.counts, summary.counts);
    let strip = |mut v: Vec<RouterResult>| {
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v.into_iter()
            .map(|mut r| {
                r.duration_ms = 0;
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(mres), strip(res));
}

#[test]
fn exec_refuses_a_write_without_yes() {
    let f = fleet(2, 0);
    let out = f.dir.path().join("out");
    let run = run_fleet(&f, &["exec", "/system/reboot"], &out);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--yes"));
    assert!(!out.exists(), "nothing ran");
    // An unknown verb is a write too.
    let run = run_fleet(&f, &["exec", "/ip/service/frobnicate"], &out);
    assert_eq!(run.status.code(), Some(2));
    // With --yes it runs (here a set that changes nothing harmful).
    let run = run_fleet(
        &f,
        &[
            "exec",
            "--yes",
            "/ip/service/set",
            "=numbers=telnet",
            "=disabled=yes",
        ],
        &out,
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn hostile_router_names_stay_in_the_folder_and_off_the_terminal() {
    let f = fleet(1, 0);
    let text = std::fs::read_to_string(&f.inventory).unwrap();
    let hostile = [
        "../escape",
        "/etc/passwd",
        "a\\u0000b",
        "\\u001b[31mred",
        "summary",
        ".hidden",
    ];
    let mut inv = text.clone();
    for h in hostile {
        inv.push_str(&format!(
            "[[router]]\nname = \"{h}\"\naddress = \"127.0.0.1\"\nport = 1\n\n"
        ));
    }
    std::fs::write(&f.inventory, inv).unwrap();
    let out = f.dir.path().join("out");
    let run = run_fleet(&f, &["probe"], &out);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(3),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
    assert!(!f.dir.path().join("escape.json").exists());
    let files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // Per router a JSON record and an HTML page; then fleet.sarif, summary.json, summary.html.
    assert_eq!(files.len(), (hostile.len() + 1) * 2 + 3, "{files:?}");
    for name in &files {
        assert!(!name.starts_with('.'), "{name}");
        assert!(name.chars().all(|c| c.is_ascii_graphic()), "{name}");
    }
    let (summary, _) = results(&out);
    assert_eq!(summary.routers.len(), hostile.len() + 1);
}

#[test]
fn ctrl_c_keeps_what_is_done_and_says_the_run_was_interrupted() {
    let f = fleet(3, 2);
    let out = f.dir.path().join("out");
    let child = tikguard()
        .arg("fleet")
        .args(["exec", "/system/resource/print", "-i"])
        .arg(&f.inventory)
        .arg("-o")
        .arg(&out)
        .args(["--timeout", "30s", "--command-timeout", "30s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The good routers answer at once; the silent ones hold the run for 30 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !(0..3).all(|i| out.join(format!("r{i}.json")).exists()) {
        assert!(std::time::Instant::now() < deadline, "no router finished");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let done = child.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(130));
    let (summary, res) = results(&out);
    assert!(summary.interrupted);
    assert!(res.iter().any(|r| r.status.word() == "interrupted"));
    assert!(res.iter().filter(|r| r.status.word() == "ok").count() >= 3);
    assert!(String::from_utf8_lossy(&done.stdout).contains("INTERRUPTED"));
    let _ = std::io::stderr().flush();
    let _ = Arc::new(());
}
