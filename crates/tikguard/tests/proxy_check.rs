//! `tikguard proxy check`: the files a configuration names, and a recorded session replayed
//! against a policy (`proxy record`, then `proxy check --replay`).

mod common;
#[path = "common/proxy.rs"]
mod proxy_common;
use common::tikguard;
use proxy_common::*;

/// `proxy check` opens the files `run` will need and names each it cannot read (a warning: the
/// check may run elsewhere than the service), instead of passing it in silence.
#[test]
fn check_names_missing_or_unreadable_files() {
    let s = setup("");
    let ok = tikguard()
        .args(["proxy", "check", "--config"])
        .arg(&s.config)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let text = std::fs::read_to_string(&s.config).unwrap();
    let ca = s.dir.path().join("cert.pem").display().to_string();
    let pw = s.emu.password_file.display().to_string();
    let bad = text
        .replace(&ca, "/nonexistent/ca.pem")
        .replace(&pw, &s.dir.path().display().to_string());
    let bad_path = s.dir.path().join("bad.toml");
    std::fs::write(&bad_path, bad).unwrap();
    let out = tikguard()
        .args(["proxy", "check", "--config"])
        .arg(&bad_path)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("warning: router core-01 ca /nonexistent/ca.pem"),
        "{said}"
    );
    assert!(
        said.contains("warning: router core-01 password-file"),
        "{said}"
    );
    assert!(!String::from_utf8_lossy(&ok.stdout).contains("warning"));
}
