//! `tikguard proxy check`: the files a configuration names, and a recorded session replayed
//! against a policy (`proxy record`, then `proxy check --replay`).

mod common;
#[path = "common/proxy.rs"]
mod proxy_common;
use std::path::{Path, PathBuf};

use common::tikguard;
use proxy_common::*;

/// Writes a configuration naming files in `dir` (all good), and returns its path.
fn files_config(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let (cert, key) = common::self_signed_pem(dir);
    let secret = |name: &str| {
        let p = dir.join(name);
        std::fs::write(&p, "s3cret\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    };
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (pw, legacy) = (secret("router.pass"), secret("legacy.pass"));
    std::fs::copy(&cert, dir.join("ca.pem")).unwrap();
    std::fs::copy(&cert, dir.join("clients.pem")).unwrap();
    let text = format!(
        r#"[proxy]
audit-log = "{d}/audit.jsonl"
checkpoint = "{d}/audit.head"

[[router]]
name = "core-01"
address = "127.0.0.1:8729"
ca = "{d}/ca.pem"
user = "proxy"
password-file = "{pw}"

[[router]]
name = "core-02"
address = "127.0.0.1:8730"
known-routers = "{d}/known-routers"
user = "proxy"
password-env = "PATH"

[[listener]]
address = "127.0.0.1:0"
router = "core-01"
cert = "{cert}"
key = "{key}"
client-ca = "{d}/clients.pem"

[[client]]
name = "billing"
password-hash = "{hash}"
from = ["127.0.0.0/8"]
policy = "monitor"
routers = ["core-01", "core-02"]
legacy-password-file = "{legacy}"
"#,
        d = dir.display(),
        pw = pw.display(),
        cert = cert.display(),
        key = key.display(),
        legacy = legacy.display(),
        hash = tikguard::proxy::hash_password(CRM_PASSWORD).unwrap(),
    );
    let config = dir.join("proxy.toml");
    std::fs::write(&config, text).unwrap();
    config
}

fn check_warnings(config: &Path) -> String {
    let out = tikguard()
        .args(["proxy", "check", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(": warning: "))
        .map(|l| l.split_once(": warning: ").unwrap().1.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `proxy check` reads the files `run` will read, as it reads them, and names each one that is
/// missing, unreadable, holds what `run` would refuse (not PEM, a key not the certificate's,
/// a malformed known-routers line), is empty, or holds a secret other users may read; with its
/// path. Warnings, not errors: the check may run elsewhere than the service. A known-routers
/// file not there yet is fine (the first connection writes it); an unset password-env is not.
#[test]
fn check_names_each_file_run_could_not_use() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = files_config(d);
    assert_eq!(check_warnings(&config), "");
    let text = std::fs::read_to_string(&config).unwrap();
    let p = |name: &str| d.join(name).display().to_string();

    // Missing or unreadable.
    let edited = d.join("edited.toml");
    let bad = text
        .replace(&p("ca.pem"), "/nonexistent/ca.pem")
        .replace(&p("router.pass"), &d.display().to_string())
        .replace(&p("clients.pem"), &p("missing-clients.pem"))
        .replace(&p("legacy.pass"), &p("missing.pass"))
        .replace(
            "password-env = \"PATH\"",
            "password-env = \"TIKGUARD_TEST_UNSET\"",
        )
        .replace(&p("known-routers"), "/nonexistent/known-routers")
        .replace(&p("audit.jsonl"), &d.display().to_string());
    std::fs::write(&edited, bad).unwrap();
    let said = check_warnings(&edited);
    for want in [
        "router core-01 ca /nonexistent/ca.pem: No such file or directory".to_string(),
        format!("router core-01 password-file {}: not a regular file", d.display()),
        format!("listener 127.0.0.1:0 client-ca {}: No such file", p("missing-clients.pem")),
        format!("client billing legacy-password-file {}: No such file", p("missing.pass")),
        "router core-02 password-env $TIKGUARD_TEST_UNSET: not set in this environment".into(),
        "router core-02 known-routers /nonexistent/known-routers: neither it nor its directory exists".into(),
        format!("audit-log {}: not a regular file", d.display()),
    ] {
        assert!(said.contains(&want), "{want}\n{said}");
    }

    // There, but not what run needs.
    std::fs::write(d.join("ca.pem"), "not a certificate\n").unwrap();
    std::fs::write(d.join("known-routers"), "core-02:8729\n").unwrap();
    std::fs::write(d.join("router.pass"), "\n").unwrap();
    std::fs::set_permissions(
        d.join("legacy.pass"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let other = tempfile::tempdir().unwrap();
    let (other_cert, _) = common::self_signed_pem(other.path());
    std::fs::copy(&other_cert, d.join("cert.pem")).unwrap();
    let said = check_warnings(&config);
    for want in [
        format!("router core-01 ca {}: no certificate found", p("ca.pem")),
        format!("router core-02 known-routers {}: 1: not a known-routers line", p("known-routers")),
        format!("router core-01 password-file {}: empty", p("router.pass")),
        format!(
            "client billing legacy-password-file {}: holds a secret and other users may read it (mode 0644; chmod 600 it)",
            p("legacy.pass")
        ),
        format!("listener 127.0.0.1:0 key {}: {} and {} do not fit", p("key.pem"), p("cert.pem"), p("key.pem")),
    ] {
        assert!(said.contains(&want), "{want}\n{said}");
    }
    assert!(!said.contains("s3cret"), "{said}");
}

/// A narrower policy for `billing` than the one it was recorded under: PPP secrets on the
/// `plan-50M` profile only, the rest of `crm-pppoe` as shipped.
const NARROW: &str = r#"
[policy.narrow]
extends = "crm-pppoe"

[[policy.narrow.rule]]
path = "/ppp/secret"
verbs = ["print", "add", "set", "remove"]
owner-prefix = "ucrm_"
args = { name = {}, password = {}, profile = { enum = ["plan-50M"] }, service = { enum = ["pppoe"] }, comment = {} }
"#;

fn replay(config: &Path, session: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = tikguard()
        .args(["proxy", "check", "--config"])
        .arg(config)
        .arg("--replay")
        .arg(session)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The CRM's session as librouteros sends it (INTEROP_PYTHON), else as this crate's client
/// does: the same commands.
async fn crm_day(s: &Setup) {
    if let Some(py) = std::env::var_os("INTEROP_PYTHON") {
        let (host, port) = s.plain.rsplit_once(':').unwrap();
        let out = tokio::process::Command::new(py)
            .arg(format!(
                "{}/tests/interop/record_crm.py",
                env!("CARGO_MANIFEST_DIR")
            ))
            .args([host, port, "billing", CRM_PASSWORD])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must set INTEROP_PYTHON (see .ci/run)"
    );
    let c = crm(&s.plain, "billing", CRM_PASSWORD).await.unwrap();
    c.call(&["/ppp/secret/print"]).await.unwrap();
    let ret = |words: &[&str]| {
        let words = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        let c = &c;
        async move {
            let done = c.call_words(words).await.unwrap().done;
            String::from_utf8_lossy(done.get("ret").unwrap()).into_owned()
        }
    };
    let id = ret(&[
        "/ppp/secret/add",
        "=name=rec-sub-1",
        "=password=hunter2-secret",
        "=profile=plan-50M",
        "=service=pppoe",
        "=comment=ucrm_rec1",
    ])
    .await;
    c.call(&[
        "/ppp/secret/set",
        &format!("=.id={id}"),
        "=profile=suspended",
    ])
    .await
    .unwrap();
    c.call(&["/ppp/secret/print", "?name=rec-sub-1"])
        .await
        .unwrap();
    let eid = ret(&[
        "/ip/firewall/address-list/add",
        "=list=suspended",
        "=address=100.64.7.8",
        "=comment=ucrm_rec1",
    ])
    .await;
    c.call(&["/ip/firewall/address-list/remove", &format!("=.id={eid}")])
        .await
        .unwrap();
    c.call(&["/ppp/active/print"]).await.unwrap();
    c.call(&["/user/print"]).await.unwrap();
    c.call(&["/ppp/secret/remove", &format!("=.id={id}")])
        .await
        .unwrap();
}

/// `proxy record --permissive` forwards a CRM's real session (librouteros where installed)
/// whatever the client's policy says, and writes its commands to a 0600 session file with the
/// password as `***`; `proxy check --replay` decides each under a narrower policy: the plan
/// change denied by the policy's rule (named, with the argument), `/user/print` by the default
/// deny, the owned commands allowed on the condition the router holds, exit 1; `--format
/// json` says the same as one document; the policy the CRM was recorded under allows it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_crm_session_replays_against_a_narrower_policy_with_each_denial_named() {
    use std::os::unix::fs::PermissionsExt;
    let files = tempfile::tempdir().unwrap();
    let session = files.path().join("crm.jsonl");
    let session_arg = session.display().to_string();
    let s = setup_as(
        "",
        false,
        |t| t,
        &["record", "--out", &session_arg, "--permissive"],
    );
    crm_day(&s).await;
    let said = std::fs::read_to_string(s.dir.path().join("proxy.err")).unwrap();
    assert!(said.contains("PERMISSIVE"), "{said}");
    let text = std::fs::read_to_string(&session).unwrap();
    let mode = std::fs::metadata(&session).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("\"=password=***\""), "{text}");
    assert!(text.contains("\"/user/print\""), "{text}");
    assert!(!text.contains("/login"), "{text}");
    // The router ran what permissive forwarded: the audit log has /user/print done.
    assert!(log_lines(&s.log)
        .iter()
        .any(|l| l["command"] == "/user/print"
            && l["outcome"] == "done"
            && l["rule"] == "permissive (proxy record --permissive)"));

    // Under the policy it ran under (billing extends crm-pppoe) only /user/print is denied.
    let (code, out, err) = replay(&s.config, &session, &[]);
    assert_eq!(code, 1, "{out}{err}");
    let denied: Vec<&str> = out.lines().filter(|l| l.contains(" deny ")).collect();
    assert_eq!(denied.len(), 1, "{out}");
    assert!(
        denied[0].contains("billing deny /user/print by the default deny"),
        "{out}"
    );

    // A narrower policy.
    let narrow = files.path().join("narrow.toml");
    std::fs::write(
        &narrow,
        std::fs::read_to_string(&s.config).unwrap().replacen(
            "policy = \"billing\"",
            "policy = \"narrow\"",
            1,
        ) + NARROW,
    )
    .unwrap();
    let (code, out, err) = replay(&narrow, &session, &[]);
    assert_eq!(code, 1, "{out}{err}");
    let lines = text.lines().count();
    assert!(
        out.ends_with(&format!(
            "{}: {lines} commands: {} allowed, 2 denied\n",
            session.display(),
            lines - 2
        )),
        "{out}"
    );
    for want in [
        "billing deny /ppp/secret/set by policy narrow rule 1: /ppp/secret/set: argument `profile` must be one of plan-50M (policy narrow rule 1)",
        "billing deny /user/print by the default deny: /user/print is not allowed by policy narrow (default deny)",
        "billing allow /ppp/secret/add by policy narrow rule 1\n",
        "billing allow /ppp/secret/remove by policy narrow rule 1 (if every item it names has, on the router, a comment starting with `ucrm_`)",
    ] {
        assert!(out.contains(want), "{want}\n{out}");
    }
    let (code, out, _) = replay(&narrow, &session, &["--format", "json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["denied"], 2);
    let set = doc["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["command"] == "/ppp/secret/set")
        .unwrap();
    assert_eq!(set["decision"], "deny");
    assert_eq!(set["rule"], "policy narrow rule 1");
    // Replayed as another client (`--as`): `elsewhere` has `monitor`, which denies the writes.
    let (code, out, _) = replay(&s.config, &session, &["--as", "elsewhere"]);
    assert_eq!(code, 1);
    assert!(out.contains("elsewhere deny /ppp/secret/add"), "{out}");
}

/// A session file is input like any other: control bytes in its words are escaped in the
/// report, bytes that are not text are decided as bytes, a malformed line, an unknown client, a
/// hex word that is not hex, a command without words and a 17 MiB line are errors naming the
/// file and line (exit 2), nothing panics; a denial that depends on a secret recorded as
/// `***` is reported as approximate.
#[test]
fn a_hostile_session_file_is_refused_or_escaped_never_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let config = files_config(dir.path());
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[[client]]\nname = \"pw\"\npassword-hash = \"$argon2id$v=19$m=19456,t=2,p=1$E3btY4EI/EJ+1jhDj8Ib6A$VHmuM0kVUT+9vw6jWoi0ac1ukVTbwscinNqjoawFy68\"\npolicy = \"pw\"\nrouters = [\"core-01\"]\n\n[[policy.pw.rule]]\npath = \"/ppp/secret\"\nverbs = [\"add\"]\nargs = { name = {}, password = { regex = \"^[a-z0-9]{12,}$\" } }\n",
    );
    std::fs::write(&config, text).unwrap();
    let session = dir.path().join("s.jsonl");
    let run = |lines: &str| {
        std::fs::write(&session, lines).unwrap();
        replay(&config, &session, &[])
    };
    let (code, out, err) = run(concat!(
        r#"{"client":"billing","words":["/system/identity/print\u001b[2J","=x\u0007=1"]}"#,
        "\n",
        r#"{"client":"billing","words":["/system/identity/print",{"hex":"3dff3d31"}]}"#,
        "\n",
        r#"{"client":"pw","words":["/ppp/secret/add","=name=a","=password=***"]}"#,
        "\n",
        r#"{"client":"billing","words":["/system/identity/print",{"left_out":5}]}"#,
        "\n",
    ));
    assert_eq!(code, 1, "{out}{err}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("\\x1b[2J"), "{out}");
    assert!(
        out.contains(":2: billing deny /system/identity/print"),
        "{out}"
    );
    assert!(
        out.contains("[approximate: password recorded as `***`; without it the command is allowed"),
        "{out}"
    );
    assert!(
        out.contains(":4: billing allow /system/identity/print by policy monitor rule 1 [approximate: 5 word(s) left out at recording]"),
        "{out}"
    );
    for (lines, want) in [
        (
            "\n{\"client\":\"billing\",\"words\":[\"/a\"]}\n{\"client\": 3}\n",
            ":3:12: not a recorded command",
        ),
        (
            "{\"client\":\"nobody\",\"words\":[\"/user/print\"]}\n",
            ":1: client `nobody` is not in the configuration",
        ),
        (
            "{\"client\":\"billing\",\"words\":[{\"hex\":\"zz\"}]}\n",
            ":1: a hex word that is not hex",
        ),
        (
            "{\"client\":\"billing\",\"words\":[]}\n",
            ":1: not a command",
        ),
    ] {
        let (code, out, err) = run(lines);
        assert_eq!(code, 2, "{lines}: {out}{err}");
        assert!(err.contains(want), "{want}: {err}");
    }
    let huge = format!(
        "{{\"client\":\"billing\",\"words\":[\"/a\",\"={}\"]}}\n",
        "x".repeat(17 << 20)
    );
    let (code, _, err) = run(&huge);
    assert_eq!(code, 2);
    assert!(err.contains(":1: line longer than 16 MiB"), "{err}");
    std::fs::remove_file(&session).unwrap();
}
