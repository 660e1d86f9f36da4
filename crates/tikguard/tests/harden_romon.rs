//! `tikguard harden --romon-secret-file FILE --romon-secret-stage 1|2|3`: TG121's RoMON secret in
//! the three stages of MikroTik's RoMON manual (section "Secrets"), each stage's script, its proof
//! and its idempotence, the secret never printed, the files holding it 0600, the rollback, and
//! `--apply` against `tikguard emu`.

mod common;
use common::{emu_process, tikguard};

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use routeros_config::Config;
use tikguard::audit::{self, Selection, WanChoice};

const SECRET: &str = "Tr0ub4dor-and-3";

struct Run {
    code: Option<i32>,
    out: String,
    err: String,
}

fn secret_file(dir: &Path, secret: &str, mode: u32) -> PathBuf {
    let p = dir.join(format!("romon-{mode:o}.secret"));
    std::fs::write(&p, format!("{secret}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

fn harden(config: &Path, secret: &Path, stage: &str, extra: &[&str]) -> Run {
    let out = tikguard()
        .arg("harden")
        .arg(config)
        .args(["--api-client", "198.51.100.20", "--mgmt", "10.255.0.0/24"])
        .arg("--romon-secret-file")
        .arg(secret)
        .args(["--romon-secret-stage", stage])
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn base(dir: &Path, romon: &str) -> PathBuf {
    let ex = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/isp-core-v7.rsc"
    ))
    .unwrap();
    let p = dir.join("router.rsc");
    std::fs::write(&p, format!("{ex}\n/tool romon\n{romon}\n")).unwrap();
    p
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn tg121(text: &str) -> Vec<String> {
    let (c, _) = Config::load(text.as_bytes().to_vec());
    audit::run(&c, &WanChoice::default(), &Selection::default())
        .findings
        .into_iter()
        .filter(|f| f.rule == "TG121")
        .map(|f| f.message)
        .collect()
}

fn romon_secrets(text: &str) -> Vec<u8> {
    let (c, _) = Config::load(text.as_bytes().to_vec());
    c.setting("/tool romon", "secrets").unwrap_or(b"").to_vec()
}

/// The manual's stages, each applied to the result of the one before: `secrets="",S` (sending
/// unhashed, accepting S), `secrets=S,""` (sending with S, accepting unhashed), `secrets=S`. Each
/// script passes its proof, says which stage it is and what must hold on every RoMON peer before
/// the next, and planning its result again at the same stage changes nothing. The audit flags
/// the empty secret after stages 1 and 2 and nothing after 3.
#[test]
fn the_manuals_three_stages_each_proven_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let sf = secret_file(dir.path(), SECRET, 0o600);
    let mut config = base(dir.path(), "set enabled=yes");
    assert_eq!(tg121(&std::fs::read_to_string(&config).unwrap()).len(), 1);
    for (stage, line, next) in [
        (
            "1",
            format!("/tool romon set secrets=\"\",{SECRET}"),
            "before stage 2, every RoMON router",
        ),
        (
            "2",
            format!("/tool romon set secrets={SECRET},\"\""),
            "before stage 3, every RoMON router",
        ),
        ("3", format!("/tool romon set secrets={SECRET}"), "stage 3"),
    ] {
        let script = dir.path().join(format!("stage{stage}.rsc"));
        let r = harden(
            &config,
            &sf,
            stage,
            &["--no-guards", "-o", script.to_str().unwrap()],
        );
        assert_eq!(r.code, Some(0), "stage {stage}: {}", r.err);
        let text = std::fs::read_to_string(&script).unwrap();
        assert!(
            text.lines().any(|l| l == line),
            "stage {stage}: {line}\n{text}"
        );
        assert!(
            r.out.contains(&format!("RoMON secret, stage {stage} of 3")),
            "{}",
            r.out
        );
        assert!(r.err.contains(next), "stage {stage}: {}", r.err);
        assert!(r.out.contains("proof: findings"), "{}", r.out);
        // The result of this stage, and the same stage planned on it again: nothing.
        let after = format!("{}{text}", std::fs::read_to_string(&config).unwrap());
        let next_config = dir.path().join(format!("after{stage}.rsc"));
        std::fs::write(&next_config, &after).unwrap();
        let again = dir.path().join(format!("again{stage}.rsc"));
        let r = harden(
            &next_config,
            &sf,
            stage,
            &["--no-guards", "-o", again.to_str().unwrap()],
        );
        assert_eq!(r.code, Some(0), "{}", r.err);
        let again = std::fs::read_to_string(&again).unwrap_or_default();
        assert!(
            !again.contains("/tool romon"),
            "stage {stage} again: {again}"
        );
        assert!(r.out.contains("nothing to do"), "{}", r.out);
        let found = tg121(&after);
        if stage == "3" {
            assert!(found.is_empty(), "{found:?}");
        } else {
            assert_eq!(found.len(), 1, "stage {stage}: {found:?}");
            assert!(found[0].contains("empty secret"), "{found:?}");
        }
        config = next_config;
    }
}

/// The secret is in the script file alone, which is written 0600 (as the rollback is); stdout,
/// stderr and the JSON report show `***` where it would be.
#[test]
fn the_secret_is_never_printed_and_the_files_holding_it_are_0600() {
    let dir = tempfile::tempdir().unwrap();
    let sf = secret_file(dir.path(), SECRET, 0o600);
    let config = base(dir.path(), "set enabled=yes");
    let (script, undo) = (dir.path().join("h.rsc"), dir.path().join("undo.rsc"));
    let r = harden(
        &config,
        &sf,
        "2",
        &[
            "-o",
            script.to_str().unwrap(),
            "--rollback",
            undo.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.err);
    assert!(std::fs::read_to_string(&script).unwrap().contains(SECRET));
    assert_eq!(mode(&script), 0o600);
    assert_eq!(mode(&undo), 0o600);
    assert!(!r.out.contains(SECRET) && !r.err.contains(SECRET));
    // Without -o the script goes to stdout, masked.
    let r = harden(&config, &sf, "2", &[]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    assert!(r.out.contains("/tool romon set secrets=***"), "{}", r.out);
    assert!(!r.out.contains(SECRET) && !r.err.contains(SECRET));
    let r = harden(&config, &sf, "2", &["--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    let j: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert!(j["script"].as_str().unwrap().contains("secrets=***"));
    assert!(!r.out.contains(SECRET) && !r.err.contains(SECRET));
}

/// As the project's other secret files: one that group or others may read is refused, and the
/// refusal names the mode, not the secret.
#[test]
fn a_secret_file_others_may_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = base(dir.path(), "set enabled=yes");
    let sf = secret_file(dir.path(), SECRET, 0o644);
    let r = harden(&config, &sf, "1", &[]);
    assert_eq!(r.code, Some(2), "{}", r.err);
    assert!(r.err.contains("chmod 600"), "{}", r.err);
    assert!(!r.out.contains(SECRET) && !r.err.contains(SECRET));
    // The stage and the file come together.
    let out = tikguard()
        .arg("harden")
        .arg(&config)
        .args(["--api-client", "198.51.100.20", "--mgmt", "10.255.0.0/24"])
        .args(["--romon-secret-stage", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `secrets` is a comma-separated list: a secret holding a comma would be two secrets, so it is
/// refused. A quote or `$` is escaped inside its own element by the one quoting function, and
/// the parser reads the element back as the secret.
#[test]
fn a_secret_with_the_list_separator_is_refused_and_a_quote_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let config = base(dir.path(), "set enabled=yes");
    let sf = secret_file(dir.path(), "abc,def-ghij-klm", 0o600);
    let r = harden(&config, &sf, "1", &[]);
    assert_eq!(r.code, Some(2), "{}", r.err);
    assert!(r.err.contains("comma"), "{}", r.err);
    assert!(!r.err.contains("abc,def"), "{}", r.err);
    let odd = "q\"uo$te;[x]-0123";
    let sf = secret_file(dir.path(), odd, 0o600);
    let script = dir.path().join("h.rsc");
    let r = harden(
        &config,
        &sf,
        "3",
        &["--no-guards", "-o", script.to_str().unwrap()],
    );
    assert_eq!(r.code, Some(0), "{}", r.err);
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(
        text.contains("/tool romon set secrets=\"q\\\"uo\\$te;[x]-0123\""),
        "{text}"
    );
    let after = format!("{}{text}", std::fs::read_to_string(&config).unwrap());
    assert_eq!(romon_secrets(&after), odd.as_bytes());
    assert!(!r.out.contains("uo$te") && !r.err.contains("uo$te"));
}

/// The rollback restores the list there was (here an older secret), from its 0600 file.
#[test]
fn the_rollback_restores_the_previous_secrets_list() {
    let dir = tempfile::tempdir().unwrap();
    let sf = secret_file(dir.path(), SECRET, 0o600);
    let config = base(dir.path(), "set enabled=yes secrets=older-secret-0123");
    let (script, undo) = (dir.path().join("h.rsc"), dir.path().join("undo.rsc"));
    let r = harden(
        &config,
        &sf,
        "3",
        &[
            "--no-guards",
            "-o",
            script.to_str().unwrap(),
            "--rollback",
            undo.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.err);
    let base_text = std::fs::read_to_string(&config).unwrap();
    let text = std::fs::read_to_string(&script).unwrap();
    assert_eq!(
        romon_secrets(&format!("{base_text}{text}")),
        SECRET.as_bytes()
    );
    let rollback = std::fs::read_to_string(&undo).unwrap();
    assert!(
        rollback.contains("/tool romon set secrets=older-secret-0123"),
        "{rollback}"
    );
    assert_eq!(
        romon_secrets(&format!("{base_text}{text}{rollback}")),
        b"older-secret-0123"
    );
    assert!(!r.out.contains("older-secret") && !r.err.contains("older-secret"));
}

/// `--apply` against the emulator, which serves `/tool romon`: the dry run and the run show
/// `***`, the router takes the stage, and a second run has nothing to do.
#[test]
fn apply_sets_the_stage_on_the_router_without_showing_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let sf = secret_file(dir.path(), SECRET, 0o600);
    let known = dir.path().join("known");
    let run = |extra: &[&str]| {
        let out = tikguard()
            .args(["harden", "--apply", &emu.ssl])
            .args(["--api-client", "198.51.100.20"])
            .args(["--mgmt", "10.255.0.0/24,127.0.0.0/8", "--known-routers"])
            .arg(&known)
            .arg("--password-file")
            .arg(&emu.password_file)
            .arg("--romon-secret-file")
            .arg(&sf)
            .args(["--romon-secret-stage", "1"])
            .args(extra)
            .output()
            .unwrap();
        Run {
            code: out.status.code(),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let dry = run(&[]);
    assert_eq!(dry.code, Some(0), "{}", dry.err);
    assert!(dry.out.contains("/tool/romon/set"), "{}", dry.out);
    assert!(dry.out.contains("=secrets=***"), "{}", dry.out);
    let applied = run(&["--yes"]);
    assert_eq!(applied.code, Some(0), "{}", applied.err);
    let again = run(&[]);
    assert_eq!(again.code, Some(0), "{}", again.err);
    assert!(!again.out.contains("/tool/romon"), "{}", again.out);
    assert!(again.out.contains("nothing to do"), "{}", again.out);
    for r in [&dry, &applied, &again] {
        assert!(!r.out.contains(SECRET) && !r.err.contains(SECRET));
    }
}
