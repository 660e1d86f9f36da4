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
