//! `tikguard fleet harden` over many emulated routers on loopback, as a process: a plan written
//! for each router, `--apply --yes` changing them (a second run plans nothing, the rollback
//! files restore), and a router whose lockout check refuses stopping the run unless
//! `--keep-going`.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

mod common;
use common::{self_signed_pem, tikguard};

use routeros_config::Config;
use tikguard::emu::many::{self, Spec};
use tikguard::fleet::result::{RouterResult, Summary};

const PASSWORD: &str = "Fl33t-h4rden-secret";

struct Fleet {
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    inventory: PathBuf,
    /// name -> api-ssl address.
    routers: Vec<(String, SocketAddr)>,
}

/// `n` routers on api-ssl serving isp-core-v7; those in `outside` keep management only from
/// 10.255.0.0/24 (the inventory says so), which this test's connections (127.0.0.1) are not in.
fn fleet(n: usize, outside: &[usize]) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("admin.pass"), format!("{PASSWORD}\n")).unwrap();
    let (cert, key) = self_signed_pem(d);
    let export = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/isp-core-v7.rsc"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let specs: Vec<Spec> = (0..n)
        .map(|i| Spec {
            name: format!("r{i}"),
            config: export.to_string(),
            addr: "127.0.0.1:0".parse().unwrap(),
        })
        .collect();
    let served = rt.block_on(async {
        many::serve(
            &specs,
            &many::Common {
                passwords: [("admin".to_string(), PASSWORD.to_string())].into(),
                version: None,
                tls: Some(tikguard::emu::tls_config(&cert, &key).unwrap()),
                budget: 4 << 20,
            },
        )
        .await
        .unwrap()
    });
    let mut inv = String::from(
        "[defaults]\npassword_file = \"admin.pass\"\nknown_routers = \"known\"\n\n[group.outside]\nmgmt = [\"10.255.0.0/24\"]\n\n",
    );
    let mut routers = Vec::new();
    for (i, (spec, e)) in served.iter().enumerate() {
        let a = e.api_ssl.unwrap();
        let group = if outside.contains(&i) {
            "group = \"outside\"\n"
        } else {
            ""
        };
        inv.push_str(&format!(
            "[[router]]\nname = \"{}\"\naddress = \"{}\"\nport = {}\n{group}\n",
            spec.name,
            a.ip(),
            a.port()
        ));
        routers.push((spec.name.clone(), a));
    }
    let inventory = d.join("fleet.toml");
    std::fs::write(&inventory, inv).unwrap();
    Fleet {
        rt,
        dir,
        inventory,
        routers,
    }
}

fn harden(f: &Fleet, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut with = vec![
        "--mgmt",
        "10.254.0.0/24,127.0.0.0/8",
        "--api-client",
        "198.51.100.20",
    ];
    with.extend(extra);
    harden_bare(f, out, &with)
}

/// Without the default --mgmt and --api-client.
fn harden_bare(f: &Fleet, out: &Path, extra: &[&str]) -> std::process::Output {
    tikguard()
        .args(["fleet", "harden", "-i"])
        .arg(&f.inventory)
        .arg("-o")
        .arg(out)
        .args(["--timeout", "5s", "--command-timeout", "30s"])
        .args(extra)
        .output()
        .unwrap()
}

fn results(out: &Path) -> (Summary, Vec<RouterResult>) {
    tikguard::fleet::output::read(out).unwrap()
}

fn outcome(res: &[RouterResult], name: &str) -> String {
    let r = res.iter().find(|r| r.name == name).unwrap();
    tikguard::fleet::harden::outcome(r)
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The router's configuration as `audit --live` reads it.
fn live(f: &Fleet, addr: SocketAddr) -> Vec<u8> {
    f.rt.block_on(async {
        let opts = routeros_api::Options::new(
            addr.to_string(),
            routeros_api::Security::Tls(routeros_api::Verify::InsecureSkipVerification),
        );
        let c = routeros_api::Client::connect(&opts).await.unwrap();
        c.login("admin", PASSWORD).await.unwrap();
        tikguard::live::fetch(&c).await.unwrap().0
    })
}

fn services(c: &Config) -> Vec<(Option<String>, String, bool)> {
    c.items("/ip service")
        .iter()
        .map(|i| {
            (
                i.get_str("name"),
                i.get_str("address").unwrap_or_default(),
                i.is_disabled(),
            )
        })
        .collect()
}

#[test]
fn a_plan_is_written_for_every_router_and_nothing_changes_without_apply() {
    let f = fleet(5, &[]);
    let before: Vec<Vec<u8>> = f.routers.iter().map(|(_, a)| live(&f, *a)).collect();
    let out = f.dir.path().join("plans");
    let run = harden(&f, &out, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let (summary, res) = results(&out);
    assert_eq!(summary.job, "harden");
    assert_eq!(res.len(), 5);
    for (name, _) in &f.routers {
        assert_eq!(outcome(&res, name), "planned", "{name}");
        let r = res.iter().find(|r| &r.name == name).unwrap();
        let o = r.output.as_ref().unwrap();
        assert!(!o["changes"].as_array().unwrap().is_empty(), "{name}");
        assert!(
            o["proof"]["prefixes_checked"].as_u64().unwrap() > 0,
            "{name}"
        );
        let script = std::fs::read_to_string(out.join(format!("{name}.rsc"))).unwrap();
        assert!(script.contains("/ip service"), "{script}");
        let rollback = out.join(format!("{name}.rollback.rsc"));
        let mode = std::fs::metadata(&rollback).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: the rollback may hold secrets");
    }
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("5 planned"), "{stdout}");
    // Planning changed no router.
    for ((_, a), b) in f.routers.iter().zip(&before) {
        assert_eq!(&live(&f, *a), b);
    }
    // The password was given as a file path only.
    assert!(!text(&run).contains(PASSWORD));
}

#[test]
fn apply_hardens_every_router_a_second_run_plans_nothing_and_the_rollback_restores() {
    let f = fleet(4, &[]);
    let before: Vec<Vec<u8>> = f.routers.iter().map(|(_, a)| live(&f, *a)).collect();
    let out = f.dir.path().join("applied");
    let run = harden(&f, &out, &["--apply", "--yes"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let (_, res) = results(&out);
    for (name, _) in &f.routers {
        assert_eq!(outcome(&res, name), "applied", "{name}: {res:?}");
    }
    let again = f.dir.path().join("again");
    let run = harden(&f, &again, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let (_, res2) = results(&again);
    for (name, _) in &f.routers {
        assert_eq!(outcome(&res2, name), "nothing-to-do", "{name}: {res2:?}");
    }
    // Each router's rollback, run on the router as the apply left it, gives back its services.
    for ((name, a), b) in f.routers.iter().zip(&before) {
        let mut now = live(&f, *a);
        assert_ne!(&now, b, "{name} was changed");
        now.push(b'\n');
        now.extend(std::fs::read(out.join(format!("{name}.rollback.rsc"))).unwrap());
        let (restored, p) = Config::load(now);
        assert!(p.diagnostics.is_empty(), "{name}: {:?}", p.diagnostics);
        let (orig, _) = Config::load(b.clone());
        assert_eq!(services(&restored), services(&orig), "{name}");
    }
}

#[test]
fn a_router_refused_by_the_lockout_check_stops_the_run_unless_keep_going() {
    let f = fleet(4, &[1]);
    let out = f.dir.path().join("stopped");
    let run = harden(&f, &out, &["--apply", "--yes", "--apply-concurrency", "1"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let (_, res) = results(&out);
    assert_eq!(outcome(&res, "r0"), "applied");
    assert_eq!(outcome(&res, "r1"), "refused");
    let r1 = res.iter().find(|r| r.name == "r1").unwrap();
    // The refusal names the prefixes this router was given (its group's `mgmt` in the
    // inventory, not the command line's) and where they come from.
    let why = r1.status.detail().unwrap();
    assert!(why.contains("127.0.0.1"), "{why}");
    assert!(why.contains("(10.255.0.0/24,"), "{why}");
    assert!(why.contains("`mgmt` in the fleet inventory"), "{why}");
    for name in ["r2", "r3"] {
        assert_eq!(outcome(&res, name), "not-started", "{name}");
    }
    // r1, r2 and r3 are as they were: a plan-only run still finds work on each.
    let check = f.dir.path().join("check");
    harden(&f, &check, &[]);
    let (_, now) = results(&check);
    assert_eq!(outcome(&now, "r0"), "nothing-to-do");
    for name in ["r1", "r2", "r3"] {
        assert_eq!(outcome(&now, name), "planned", "{name}");
    }
    // --keep-going: the routers after the refused one are hardened too.
    let out = f.dir.path().join("kept-going");
    let run = harden(
        &f,
        &out,
        &[
            "--apply",
            "--yes",
            "--apply-concurrency",
            "1",
            "--keep-going",
        ],
    );
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let (_, res) = results(&out);
    assert_eq!(outcome(&res, "r0"), "nothing-to-do");
    assert_eq!(outcome(&res, "r1"), "refused");
    for name in ["r2", "r3"] {
        assert_eq!(outcome(&res, name), "applied", "{name}");
    }
}

#[test]
fn apply_without_yes_is_refused_and_changes_nothing() {
    let f = fleet(1, &[]);
    let out = f.dir.path().join("out");
    let run = harden(&f, &out, &["--apply"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--yes"));
    assert!(!out.exists());
}

#[test]
fn a_router_without_management_prefixes_is_refused_and_never_planned() {
    // r1's group gives `mgmt`; r0 has none, and no --mgmt is given.
    let f = fleet(2, &[1]);
    let out = f.dir.path().join("out");
    let run = harden_bare(&f, &out, &["--api-client", "198.51.100.20"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let (_, res) = results(&out);
    assert_eq!(outcome(&res, "r0"), "refused");
    let r0 = res.iter().find(|r| r.name == "r0").unwrap();
    assert!(r0.status.detail().unwrap().contains("--mgmt"), "{r0:?}");
    assert!(!out.join("r0.rsc").exists());
    assert_eq!(outcome(&res, "r1"), "planned");
    // No API clients anywhere, while the routers' API is on (the CRM's way in): refused too,
    // saying which service is on and what to give.
    let run = harden_bare(&f, &out, &["--mgmt", "10.254.0.0/24"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let (_, res) = results(&out);
    assert_eq!(outcome(&res, "r1"), "refused");
    let r1 = res.iter().find(|r| r.name == "r1").unwrap();
    let why = r1.status.detail().unwrap();
    assert!(
        why.contains("is on in") && why.contains("--api-client"),
        "{why}"
    );
}

#[test]
fn a_hostile_router_name_stays_in_the_folder_and_off_the_terminal() {
    let f = fleet(1, &[]);
    let inv = std::fs::read_to_string(&f.inventory).unwrap();
    let hostile = "../up\u{1b}[31m\nred";
    let escaped = "../up\\u001b[31m\\nred";
    std::fs::write(
        &f.inventory,
        inv.replace("name = \"r0\"", &format!("name = \"{escaped}\"")),
    )
    .unwrap();
    let out = f.dir.path().join("out");
    let run = harden(&f, &out, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let base = tikguard::fleet::output::file_name(hostile);
    assert!(!base.contains('/') && !base.contains('\u{1b}'), "{base}");
    assert!(out.join(format!("{base}.rsc")).exists());
    assert!(out.join(format!("{base}.rollback.rsc")).exists());
    assert!(!f.dir.path().join("up").exists());
    assert!(!text(&run).contains('\u{1b}'), "{}", text(&run));
    // In the script the name is inside a comment, never a command of its own.
    let script = std::fs::read_to_string(out.join(format!("{base}.rsc"))).unwrap();
    assert!(script.lines().all(|l| !l.starts_with("red")), "{script}");
}
