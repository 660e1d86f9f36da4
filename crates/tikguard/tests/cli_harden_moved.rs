//! `tikguard harden --apply` against `tikguard emu` over verified TLS, run again after a
//! service's port moved on the router: the second run moves the plan's rules to the new port,
//! and the router's filter covers it.

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

/// MikroTik's IP Services manual: `port` is where a service listens, so winbox moved to 8300
/// after a run is outside the earlier run's accepts and drop (8291). `--apply` run again moves
/// them to 8300 on the router, and a third run has nothing to do.
#[test]
fn apply_again_after_winbox_moved_covers_the_new_port_on_the_router() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let (addr, pw) = (emu.ssl.clone(), emu.password_file.clone());
    let known = dir.path().join("known");
    let harden = |extra: &[&str]| {
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
            .current_dir(dir.path())
            .output()
            .unwrap();
        outcome(out)
    };
    let exec = |words: &[&str]| {
        let out = tikguard()
            .arg("exec")
            .arg(&addr)
            .args(words)
            .args(["--format", "json", "--known-routers"])
            .arg(&known)
            .arg("--password-file")
            .arg(&pw)
            .output()
            .unwrap();
        let (code, stdout, err) = outcome(out);
        assert_eq!(code, Some(0), "{words:?}: {err}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    let drop_ports = || {
        let v = exec(&[
            "/ip/firewall/filter/print",
            "?comment=tikguard:ip-mgmt-drop",
        ]);
        let items = v["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 1, "{v}");
        items[0]["dst-port"].as_str().unwrap().to_string()
    };
    let accept_ports = || {
        let v = exec(&[
            "/ip/firewall/filter/print",
            "?comment=tikguard:ip-mgmt-accept",
        ]);
        v["items"][0]["dst-port"].as_str().unwrap().to_string()
    };
    let (code, _, err) = harden(&["--yes"]);
    assert_eq!(code, Some(0), "{err}");
    let first = drop_ports();
    assert!(first.split(',').any(|p| p == "8291"), "{first}");

    exec(&["/ip/service/set", "=numbers=winbox", "=port=8300"]);

    let (code, out, err) = harden(&["--yes"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    for ports in [drop_ports(), accept_ports()] {
        let ports: Vec<&str> = ports.split(',').collect();
        assert!(
            ports.contains(&"8300") && !ports.contains(&"8291"),
            "{ports:?}\n{out}"
        );
    }
    let (code, again, err) = harden(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(again.contains("nothing to do"), "{again}");
}

/// An accept limited to an interface (`src-address=10.9.0.0/24 in-interface=vlan300-mgmt`
/// for ssh) is repeated by a first `--apply` as `tikguard:ip-keep-accept:<hash>`; after the
/// operator removes the original on the router, a second `--apply` removes the repeat too
/// (it would keep admitting 10.9.0.0/24 on its own), leaves 10.9.0.0/24 out of the plan's
/// management list, and a third run has nothing to do.
#[test]
fn apply_again_after_a_limited_accept_was_removed_removes_its_repeat_on_the_router() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let (addr, pw) = (emu.ssl.clone(), emu.password_file.clone());
    let known = dir.path().join("known");
    let harden = |extra: &[&str]| {
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
            .current_dir(dir.path())
            .output()
            .unwrap();
        outcome(out)
    };
    let exec = |words: &[&str]| {
        let out = tikguard()
            .arg("exec")
            .arg(&addr)
            .args(words)
            .args(["--format", "json", "--known-routers"])
            .arg(&known)
            .arg("--password-file")
            .arg(&pw)
            .output()
            .unwrap();
        let (code, stdout, err) = outcome(out);
        assert_eq!(code, Some(0), "{words:?}: {err}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    let with_source = |src: &str| -> Vec<serde_json::Value> {
        let v = exec(&["/ip/firewall/filter/print", &format!("?src-address={src}")]);
        v["items"].as_array().unwrap().clone()
    };
    exec(&[
        "/ip/firewall/filter/add",
        "=chain=input",
        "=action=accept",
        "=protocol=tcp",
        "=dst-port=22",
        "=src-address=10.9.0.0/24",
        "=in-interface=vlan300-mgmt",
    ]);
    let (code, out, err) = harden(&["--yes"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let rules = with_source("10.9.0.0/24");
    let repeat = |r: &serde_json::Value| {
        r["comment"]
            .as_str()
            .is_some_and(|c| c.starts_with("tikguard:ip-keep-accept:"))
    };
    assert_eq!(
        rules.iter().filter(|r| repeat(r)).count(),
        1,
        "{rules:?}\n{out}"
    );
    let original = rules.iter().find(|r| !repeat(r)).expect("the original");
    let id = original[".id"].as_str().unwrap();
    exec(&["/ip/firewall/filter/remove", &format!("=numbers={id}")]);

    let (code, out, err) = harden(&["--yes"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(with_source("10.9.0.0/24").is_empty(), "{out}");
    let mgmt = exec(&[
        "/ip/firewall/address-list/print",
        "?list=tikguard-mgmt",
        "?address=10.9.0.0/24",
    ]);
    assert!(
        mgmt["items"].as_array().unwrap().is_empty(),
        "{mgmt}\n{out}"
    );
    let (code, again, err) = harden(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(again.contains("nothing to do"), "{again}");
}
