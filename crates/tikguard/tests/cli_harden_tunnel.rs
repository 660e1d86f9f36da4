//! `tikguard harden --api-tunnel wireguard` at the terminal and against `tikguard emu` over
//! verified TLS: bad keys and addresses are refused with the reason, `--apply --yes` creates the
//! interface and peer on the router and prints the router's public key in the CRM's wg-quick
//! configuration, and a second run has nothing to do.

mod common;
use common::{emu_process, tikguard};

const KEY: &str = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

fn harden(args: &[&str]) -> (Option<i32>, String, String) {
    let out = tikguard()
        .args([
            "harden",
            "examples/isp-core-v7.rsc",
            "--mgmt",
            "10.255.0.0/24",
        ])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_key_that_is_not_a_key_and_addresses_that_are_no_tunnel_are_refused() {
    for (key, addr, why) in [
        ("not-a-key", "10.77.0.2/30", "not a WireGuard public key"),
        (
            "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8A==",
            "10.77.0.2/30",
            "not a WireGuard public key",
        ),
        (KEY, "0.0.0.0/0", "prefix length"),
        (KEY, "10.255.0.9/30", "overlaps --mgmt"),
        (KEY, "10.77.0.3/30", "broadcast"),
    ] {
        let (code, _, err) = harden(&[
            "--api-tunnel",
            "wireguard",
            "--api-client-key",
            key,
            "--api-client-tunnel-address",
            addr,
        ]);
        assert_eq!(code, Some(2), "{key} {addr}: {err}");
        assert!(err.contains(why), "{key} {addr}: {err}");
    }
    // The key and the address come together with the tunnel.
    let (code, _, err) = harden(&["--api-tunnel", "wireguard", "--api-client-key", KEY]);
    assert_eq!(code, Some(2), "{err}");
    // RouterOS 6 has no WireGuard.
    let out = tikguard()
        .args([
            "harden",
            "examples/branch-v6.rsc",
            "--mgmt",
            "10.255.0.0/24",
        ])
        .args(["--api-tunnel", "wireguard", "--api-client-key", KEY])
        .args(["--api-client-tunnel-address", "10.77.0.2/30"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("from RouterOS 7.0"));
}

#[test]
fn the_script_and_the_crm_side_are_printed_side_by_side() {
    let (code, script, err) = harden(&[
        "--api-tunnel",
        "wireguard",
        "--api-client-key",
        KEY,
        "--api-client-tunnel-address",
        "10.77.0.2/30",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        script.contains("/interface wireguard add name=tikguard-crm listen-port=13231"),
        "{script}"
    );
    assert!(script.contains("allowed-address=10.77.0.2/32"), "{script}");
    assert!(
        err.contains("[Interface]") && err.contains("Address = 10.77.0.2/30"),
        "{err}"
    );
    assert!(err.contains("AllowedIPs = 10.77.0.1/32"), "{err}");
}

#[test]
fn apply_creates_the_tunnel_on_the_router_and_prints_its_public_key() {
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
                "--mgmt",
                "10.255.0.0/24,127.0.0.0/8",
            ])
            .args(["--api-tunnel", "wireguard", "--api-client-key", KEY])
            .args([
                "--api-client-tunnel-address",
                "10.77.0.2/30",
                "--known-routers",
            ])
            .arg(&known)
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
    let (code, dry, err) = run(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(dry.contains("/interface/wireguard/add"), "{dry}");
    assert!(
        !dry.contains("[Interface]"),
        "a dry run has no router key: {dry}"
    );
    let (code, applied, err) = run(&["--yes"]);
    assert_eq!(code, Some(0), "{err}");
    let key_line = applied
        .lines()
        .find(|l| l.starts_with("PublicKey = "))
        .unwrap_or_else(|| panic!("{applied}"));
    let key = key_line.trim_start_matches("PublicKey = ");
    assert!(
        tikguard::harden::tunnel::check_key(key).is_ok(),
        "{key_line}"
    );
    assert_ne!(key, KEY, "the router's key, not the CRM's");
    let (code, again, err) = run(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(again.contains("nothing to do"), "{again}");
}

#[test]
fn applying_from_outside_management_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emu_process(dir.path(), false);
    let known = dir.path().join("known");
    let run = |extra: &[&str]| {
        tikguard()
            .args(["harden", "--apply", &emu.ssl, "--mgmt", "10.255.0.0/24"])
            .args(["--api-tunnel", "wireguard", "--api-client-key", KEY])
            .args([
                "--api-client-tunnel-address",
                "10.77.0.2/30",
                "--known-routers",
            ])
            .arg(&known)
            .arg("--password-file")
            .arg(&emu.password_file)
            .args(extra)
            .output()
            .unwrap()
    };
    // 127.0.0.1 is neither management nor the tunnel's CRM address.
    let out = run(&["--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("in none of the management and API client prefixes"),
        "{err}"
    );
    // Nothing was created: the dry run still plans the interface.
    let dry = String::from_utf8(run(&[]).stdout).unwrap();
    assert!(dry.contains("/interface/wireguard/add"), "{dry}");
}
