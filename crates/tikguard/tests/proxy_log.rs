//! The proxy's audit log as a process writes it, attacked as someone holding the files would:
//! signed checkpoints against a deleted or rewritten tail, one proxy per log, the files' mode,
//! a rotation with something planted at the log's path, and a log that cannot be written.
//! The proxy runs in front of `tikguard emu` (api-ssl), the CRM connects over a real socket.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use routeros_api::{Client, Options, Security};

mod common;
use common::{emu_process, tikguard, EmuProcess, Proc};

const CRM_PASSWORD: &str = "crm-pass-7";

struct Setup {
    dir: tempfile::TempDir,
    _emu: EmuProcess,
    proxy: Proc,
    plain: String,
    config: PathBuf,
    log: PathBuf,
    head: PathBuf,
    err: PathBuf,
}

fn config_text(dir: &Path, emu: &EmuProcess, proxy_extra: &str) -> String {
    let hash = tikguard::proxy::hash_password(CRM_PASSWORD).unwrap();
    format!(
        r#"[proxy]
audit-log = "{log}"
checkpoint = "{head}"
checkpoint-lines = 10
{proxy_extra}

[[router]]
name = "core-01"
address = "{ssl}"
ca = "{ca}"
user = "admin"
password-file = "{pw}"

[[listener]]
address = "127.0.0.1:0"
router = "core-01"

[[client]]
name = "billing"
password-hash = "{hash}"
from = ["127.0.0.0/8"]
policy = "monitor"
routers = ["core-01"]
"#,
        log = dir.join("audit.jsonl").display(),
        head = dir.join("audit.head").display(),
        ssl = emu.ssl,
        ca = dir.join("cert.pem").display(),
        pw = emu.password_file.display(),
    )
}

/// Starts `tikguard proxy run` (through `wrap`, e.g. `prlimit`), its stderr to `err`; the
/// listening address, or the exit status and stderr when it did not start.
fn start(
    config: &Path,
    err: &Path,
    wrap: &[&str],
) -> Result<(Proc, String), (std::process::ExitStatus, String)> {
    let stderr = std::fs::File::create(err).unwrap();
    let mut cmd = if wrap.is_empty() {
        tikguard()
    } else {
        let mut c = std::process::Command::new(wrap[0]);
        c.args(&wrap[1..]).arg(env!("CARGO_BIN_EXE_tikguard"));
        c
    };
    let mut child = cmd
        .args(["proxy", "run", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().map(|l| l.unwrap());
    match first.as_deref().and_then(|l| l.strip_prefix("listening ")) {
        Some(a) => {
            let a = a.to_string();
            std::thread::spawn(move || for _ in lines {});
            Ok((Proc(child), a))
        }
        None => {
            let status = child.wait().unwrap();
            Err((status, std::fs::read_to_string(err).unwrap()))
        }
    }
}

/// A router, and a proxy whose `[proxy]` has `proxy_extra` (with `{dir}` the test's directory).
fn setup(proxy_extra: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let config = dir.path().join("proxy.toml");
    let extra = proxy_extra.replace("{dir}", &dir.path().display().to_string());
    std::fs::write(&config, config_text(dir.path(), &emu, &extra)).unwrap();
    let err = dir.path().join("proxy.err");
    let (proxy, plain) = start(&config, &err, &[]).unwrap_or_else(|(s, e)| panic!("{s}: {e}"));
    Setup {
        log: dir.path().join("audit.jsonl"),
        head: dir.path().join("audit.head"),
        dir,
        _emu: emu,
        proxy,
        plain,
        config,
        err,
    }
}

async fn crm(addr: &str) -> Client {
    let c = Client::connect(&Options::new(addr.to_string(), Security::Plain))
        .await
        .unwrap();
    c.login("billing", CRM_PASSWORD).await.unwrap();
    c
}

fn signal(p: &Proc, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &p.0.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// SIGTERM, and the exit status.
fn stop(p: &mut Proc) -> std::process::ExitStatus {
    signal(p, "-TERM");
    p.0.wait().unwrap()
}

async fn stderr_says(err: &Path, what: &str) -> String {
    for _ in 0..200 {
        let text = std::fs::read_to_string(err).unwrap_or_default();
        if text.contains(what) {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "stderr never said {what}: {}",
        std::fs::read_to_string(err).unwrap_or_default()
    );
}

/// `verify-log LOG [--checkpoint CP] [--public-key KEY]`: exit code and standard output.
fn verify(log: &Path, checkpoint: Option<&Path>, key: Option<&str>) -> (Option<i32>, String) {
    let mut cmd = tikguard();
    cmd.args(["proxy", "verify-log"]).arg(log);
    if let Some(cp) = checkpoint {
        cmd.arg("--checkpoint").arg(cp);
    }
    if let Some(k) = key {
        cmd.args(["--public-key", k]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// `tikguard proxy keygen FILE`: the public key it printed.
fn keygen(file: &Path) -> String {
    let out = tikguard()
        .args(["proxy", "keygen"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let public = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(public.len(), 64, "{public}");
    public
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn rewrite(p: &Path, l: &[String]) {
    std::fs::write(p, l.iter().map(|x| format!("{x}\n")).collect::<String>()).unwrap();
}

/// Issue 22: checkpoints signed with an Ed25519 key from the configuration. The signed
/// checkpoint verifies with the key `keygen` printed; an edited checkpoint, a log with its last
/// lines deleted, another key, and a whole log rewritten each fail, naming why; the journal's
/// checkpoint lines verify the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_checkpoint_verifies_and_each_tail_attack_fails() {
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("checkpoint.key");
    let public = keygen(&key);
    assert_eq!(mode(&key), 0o600);
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
    let mut s = setup(&format!("checkpoint-key = \"{}\"", key.display()));
    let c = crm(&s.plain).await;
    for _ in 0..25 {
        c.call(&["/system/identity/print"]).await.unwrap();
    }
    drop(c);
    assert!(stop(&mut s.proxy).success());
    let cp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&s.head).unwrap()).unwrap();
    assert_eq!(cp["key"], public.as_str());
    // Hashes, a count, a time, the path and the public key: nothing secret (the group reads it).
    let fields: Vec<&String> = cp.as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["first", "head", "key", "lines", "log", "sig", "time"],
        "{cp}"
    );
    let secret = text.lines().nth(1).unwrap();
    assert!(!std::fs::read_to_string(&s.head).unwrap().contains(secret));
    assert!(!std::fs::read_to_string(&s.err).unwrap().contains(secret));
    assert_eq!(cp["lines"].as_u64().unwrap() as usize, lines(&s.log).len());

    let (code, out) = verify(&s.log, Some(&s.head), Some(&public));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("signed with the given key"), "{out}");
    // The journal's lines (here the proxy's stderr): every checkpoint in it, each signed.
    let (code, out) = verify(&s.log, Some(&s.err), Some(&public));
    assert_eq!(code, Some(0), "{out}");
    // Each checkpoint with lines (the one at start, of an empty log, pins nothing).
    let journal = std::fs::read_to_string(&s.err).unwrap();
    let journal_cps =
        journal.matches("audit log checkpoint {").count() - journal.matches("\"lines\":0,").count();
    assert!(journal_cps >= 3, "{journal_cps}");
    assert!(
        out.contains(&format!("{journal_cps} checkpoints of this file hold")),
        "{out}"
    );
    // The public key as a file (hex), and as OpenSSL prints it (PEM).
    let pubfile = keydir.path().join("checkpoint.pub");
    std::fs::write(&pubfile, format!("{public}\n")).unwrap();
    assert_eq!(
        verify(&s.log, Some(&s.head), Some(&pubfile.display().to_string())).0,
        Some(0)
    );

    // The last two lines deleted and the checkpoint edited to match the shorter log: its
    // signature fails, its line named. Without the key the forgery holds: the key is what
    // catches it.
    let original = std::fs::read_to_string(&s.head).unwrap();
    let all = lines(&s.log);
    let mut forged_cp = cp.clone();
    forged_cp["lines"] = (all.len() - 2).into();
    forged_cp["head"] = tikguard::proxy::auditlog::line_hash(all[all.len() - 3].as_bytes()).into();
    std::fs::write(&s.head, forged_cp.to_string()).unwrap();
    rewrite(&s.log, &all[..all.len() - 2]);
    let (code, out) = verify(&s.log, Some(&s.head), Some(&public));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("audit.head line 1") && out.contains("edited after it was signed"),
        "{out}"
    );
    assert_eq!(verify(&s.log, Some(&s.head), None).0, Some(0));
    std::fs::write(&s.head, &original).unwrap();
    rewrite(&s.log, &all);

    // The log's last two lines deleted.
    let all = lines(&s.log);
    rewrite(&s.log, &all[..all.len() - 2]);
    assert_eq!(
        verify(&s.log, None, None).0,
        Some(0),
        "the chain alone holds"
    );
    let (code, out) = verify(&s.log, Some(&s.head), Some(&public));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("were deleted"), "{out}");
    // A torn last line instead.
    std::fs::write(&s.log, all.join("\n") + "\n" + &all.last().unwrap()[..20]).unwrap();
    let (code, out) = verify(&s.log, Some(&s.head), Some(&public));
    assert_eq!(code, Some(1), "{out}");
    rewrite(&s.log, &all);

    // Another key.
    let other = keygen(&keydir.path().join("other.key"));
    let (code, out) = verify(&s.log, Some(&s.head), Some(&other));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("another key"), "{out}");
    // A checkpoint without a signature, when a key is given.
    let mut unsigned = cp.clone();
    unsigned.as_object_mut().unwrap().remove("sig");
    std::fs::write(&s.head, unsigned.to_string()).unwrap();
    let (code, out) = verify(&s.log, Some(&s.head), Some(&public));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("not signed"), "{out}");
    std::fs::write(&s.head, &original).unwrap();

    // The whole log replaced by a shorter, valid chain of its own: no checkpoint is of it.
    rewrite(&s.log, &all[..3]);
    let (code, out) = verify(&s.log, Some(&s.head), Some(&public));
    assert_eq!(code, Some(1), "{out}");
    let mut forged = all[..3].to_vec();
    forged[0] = forged[0].replace("\"client\":\"billing\"", "\"client\":\"nobody\"");
    assert_ne!(forged[0], all[0]);
    let mut prev = tikguard::proxy::auditlog::line_hash(forged[0].as_bytes());
    for l in forged.iter_mut().skip(1) {
        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["prev"] = serde_json::Value::String(prev);
        v.as_object_mut().unwrap().remove("of");
        *l = v.to_string();
        prev = tikguard::proxy::auditlog::line_hash(l.as_bytes());
    }
    rewrite(&s.log, &forged);
    let (code, out) = verify(&s.log, Some(&s.head), Some(&public));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("is of this log"), "{out}");
    rewrite(&s.log, &all);
    assert_eq!(verify(&s.log, Some(&s.head), Some(&public)).0, Some(0));
}

/// A key the group or others may read is refused: `run` does not start, `check` warns.
#[test]
fn a_checkpoint_key_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let key = dir.path().join("checkpoint.key");
    keygen(&key);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = dir.path().join("proxy.toml");
    std::fs::write(
        &config,
        config_text(
            dir.path(),
            &emu,
            &format!("checkpoint-key = \"{}\"", key.display()),
        ),
    )
    .unwrap();
    let (status, err) = start(&config, &dir.path().join("proxy.err"), &[])
        .err()
        .expect("the proxy started with a world-readable key");
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("mode 0644") && err.contains("chmod 600"),
        "{err}"
    );
    let out = tikguard()
        .args(["proxy", "check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("warning: checkpoint-key") && said.contains("mode 0644"),
        "{said}"
    );
    // 0600 again: it starts.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    start(&config, &dir.path().join("proxy.err"), &[]).unwrap();
}

/// One writer per log: a second proxy on the same audit log (its own listener) is refused at
/// start with the reason, the first goes on serving, and its log verifies against its
/// checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_proxy_on_the_same_log_is_refused_and_the_log_stays_intact() {
    let mut s = setup("");
    let c = crm(&s.plain).await;
    for _ in 0..5 {
        c.call(&["/system/identity/print"]).await.unwrap();
    }
    let before = std::fs::read(&s.log).unwrap();
    let (status, err) = start(&s.config, &s.dir.path().join("second.err"), &[])
        .err()
        .expect("a second proxy started on the same log");
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("another tikguard proxy is writing it") && err.contains("audit.jsonl.lock"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&s.log).unwrap(),
        before,
        "the second proxy wrote"
    );
    for _ in 0..5 {
        c.call(&["/system/identity/print"]).await.unwrap();
    }
    drop(c);
    assert!(stop(&mut s.proxy).success());
    let (code, out) = verify(&s.log, Some(&s.head), None);
    assert_eq!(code, Some(0), "{out}");
    let n = lines(&s.log).len();
    assert!(n >= 20 && out.contains(&format!("up to line {n}")), "{out}");
    // Once the first is gone, a proxy starts on the log again.
    start(&s.config, &s.dir.path().join("third.err"), &[]).unwrap();
}

/// Issue 27: the log and every file it makes (the checkpoint, the next file after a
/// rotation, a cut line kept aside) get the configured mode: 0640 by default (the group
/// reads), 0600 when configured, whatever the umask; an existing file is brought to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_and_its_files_take_the_configured_mode() {
    for (extra, want) in [("", 0o640), ("audit-log-mode = \"0600\"", 0o600)] {
        let mut s = setup(extra);
        let c = crm(&s.plain).await;
        c.call(&["/system/identity/print"]).await.unwrap();
        assert_eq!(mode(&s.log), want, "{extra}");
        assert_eq!(mode(&s.head), want, "{extra}");
        std::fs::rename(&s.log, s.dir.path().join("audit.jsonl.1")).unwrap();
        signal(&s.proxy, "-HUP");
        stderr_says(&s.err, "\"lines\":1,").await;
        c.call(&["/system/identity/print"]).await.unwrap();
        assert_eq!(mode(&s.log), want, "{extra}: the file after a rotation");
        drop(c);
        assert!(stop(&mut s.proxy).success());
        // A cut last line, and a mode changed by hand: the next start sets both right.
        let mut bytes = std::fs::read(&s.log).unwrap();
        bytes.truncate(bytes.len() - 5);
        std::fs::write(&s.log, &bytes).unwrap();
        std::fs::set_permissions(&s.log, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (_p, _) = start(&s.config, &s.err, &[]).unwrap();
        assert_eq!(mode(&s.log), want, "{extra}");
        let torn: Vec<PathBuf> = std::fs::read_dir(s.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".torn-"))
            .collect();
        assert_eq!(torn.len(), 1, "{torn:?}");
        assert_eq!(mode(&torn[0]), want, "{extra}");
    }
}

/// Rotation attacked: after the log is moved away, something is planted at its path before
/// SIGHUP (a link to another file, a file with lines of its own). The proxy does not write
/// through the link nor append to the planted file: it says why and keeps writing the old
/// file, whose chain and checkpoint stay whole. A rotated file verifies against the
/// journal's checkpoints, which include its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn something_planted_at_the_logs_path_is_not_written_to() {
    let mut s = setup("");
    let c = crm(&s.plain).await;
    for _ in 0..3 {
        c.call(&["/system/identity/print"]).await.unwrap();
    }
    let rotated = s.dir.path().join("audit.jsonl.1");
    let victim = s.dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::rename(&s.log, &rotated).unwrap();
    std::os::unix::fs::symlink(&victim, &s.log).unwrap();
    signal(&s.proxy, "-HUP");
    stderr_says(&s.err, "a symbolic link").await;
    c.call(&["/system/identity/print"]).await.unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    std::fs::remove_file(&s.log).unwrap();
    let planted =
        "{\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}\n";
    std::fs::write(&s.log, planted).unwrap();
    signal(&s.proxy, "-HUP");
    stderr_says(&s.err, "a non-empty file is at the log's path").await;
    c.call(&["/system/identity/print"]).await.unwrap();
    assert_eq!(std::fs::read_to_string(&s.log).unwrap(), planted);
    // Removed: the next SIGHUP starts the new file.
    std::fs::remove_file(&s.log).unwrap();
    signal(&s.proxy, "-HUP");
    stderr_says(&s.err, "\"lines\":1,").await;
    c.call(&["/system/identity/print"]).await.unwrap();
    drop(c);
    assert!(stop(&mut s.proxy).success());
    // Every command is in one of the two files: 3 + 2 before the new file, 1 after.
    let done = |p: &Path| {
        lines(p)
            .iter()
            .filter(|l| l.contains("/system/identity/print") && l.contains("\"outcome\":\"done\""))
            .count()
    };
    assert_eq!((done(&rotated), done(&s.log)), (5, 1));
    // The rotated file: the checkpoint file names only the new one, the journal both.
    let (code, out) = verify(&rotated, Some(&s.head), None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("is of this log"), "{out}");
    for f in [&rotated, &s.log] {
        let (code, out) = verify(f, Some(&s.err), None);
        assert_eq!(code, Some(0), "{}: {out}", f.display());
        assert!(
            out.contains("of other files (rotated) not compared"),
            "{out}"
        );
    }
}

/// A log that cannot be written (a file size limit, as a full disk would): the command that
/// met it gets a trap and is not sent, every later one too, the journal says why once; the
/// proxy does not die (SIGXFSZ). Restarted, the cut line is kept aside, the log verifies,
/// and every command the router answered is in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_that_cannot_be_written_refuses_commands_and_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let config = dir.path().join("proxy.toml");
    std::fs::write(&config, config_text(dir.path(), &emu, "")).unwrap();
    let err = dir.path().join("proxy.err");
    let log = dir.path().join("audit.jsonl");
    // 8 KiB: a few tens of lines.
    let (mut proxy, plain) = start(&config, &err, &["prlimit", "--fsize=8192", "--"])
        .unwrap_or_else(|(s, e)| panic!("{s}: {e}"));
    let c = crm(&plain).await;
    let mut answered = 0;
    let mut refused = 0;
    for _ in 0..60 {
        match c.call(&["/system/identity/print"]).await {
            Ok(_) => answered += 1,
            Err(routeros_api::Error::Trap { message, .. }) => {
                assert!(message.contains("audit log cannot be written"), "{message}");
                refused += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
        if refused > 3 {
            break;
        }
    }
    assert!(
        answered > 3 && refused > 3,
        "{answered} answered, {refused} refused"
    );
    let said = stderr_says(&err, "every command is refused from now on").await;
    assert_eq!(
        said.matches("every command is refused").count(),
        1,
        "{said}"
    );
    assert!(proxy.0.try_wait().unwrap().is_none(), "the proxy died");
    drop(c);
    // Lines it could not write: it exits 2, saying so.
    assert_eq!(stop(&mut proxy).code(), Some(2));
    assert!(std::fs::metadata(&log).unwrap().len() <= 8192);
    let (mut proxy, plain) = start(&config, &err, &[]).unwrap();
    let c = crm(&plain).await;
    c.call(&["/system/identity/print"]).await.unwrap();
    drop(c);
    assert!(stop(&mut proxy).success());
    let (code, out) = verify(&log, Some(&dir.path().join("audit.head")), None);
    assert_eq!(code, Some(0), "{out}");
    // Every command the router answered is in the log: those the client saw answered, and
    // those whose outcome line reached the disk in the write that failed part-way (the client
    // got a trap for them: the proxy could not know the line was whole).
    let done = lines(&log)
        .iter()
        .filter(|l| l.contains("/system/identity/print") && l.contains("\"outcome\":\"done\""))
        .count();
    assert!(
        done > answered,
        "{done} done in the log, {answered} answered"
    );
}

/// A tail changed while no proxy ran: the next start would checkpoint (and sign) the changed
/// log. It keeps the last run's checkpoint aside instead, says so, and that checkpoint (like
/// the last run's journal) still shows the deletion. Lines added while it was stopped are
/// counted at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tail_changed_while_no_proxy_ran_is_not_vouched_for_at_start() {
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("checkpoint.key");
    let public = keygen(&key);
    let mut s = setup(&format!("checkpoint-key = \"{}\"", key.display()));
    let c = crm(&s.plain).await;
    for _ in 0..4 {
        c.call(&["/system/identity/print"]).await.unwrap();
    }
    drop(c);
    assert!(stop(&mut s.proxy).success());
    let first_run = std::fs::read_to_string(&s.err).unwrap();
    let all = lines(&s.log);
    rewrite(&s.log, &all[..all.len() - 2]);
    let err2 = s.dir.path().join("second.err");
    let (mut p, _) = start(&s.config, &err2, &[]).unwrap();
    let said = stderr_says(&err2, "does not hold").await;
    assert!(said.contains("were deleted"), "{said}");
    let aside: Vec<PathBuf> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("audit.head.before-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(stop(&mut p).success());
    let (code, out) = verify(&s.log, Some(&aside[0]), Some(&public));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("were deleted"), "{out}");
    let journal = s.dir.path().join("first-run.journal");
    std::fs::write(&journal, &first_run).unwrap();
    assert_eq!(verify(&s.log, Some(&journal), Some(&public)).0, Some(1));
    // A line added while stopped: counted at the next start.
    let mut more = lines(&s.log);
    more.push(more.last().unwrap().clone());
    rewrite(&s.log, &more);
    let err3 = s.dir.path().join("third.err");
    let (_p, _) = start(&s.config, &err3, &[]).unwrap();
    let said = stderr_says(&err3, "came after the last checkpoint").await;
    assert!(
        said.contains(&format!("lines {} to {}", more.len(), more.len())),
        "{said}"
    );
}
