//! `harden --api-tunnel wireguard`: the CRM's tunnel is planned, proven after every prefix,
//! checked against the command tree of every supported 7.x version, idempotent, and undone by
//! the rollback (`tikguard::harden::tunnel` cites the facts).

#[path = "common/intent.rs"]
mod intent;

use std::path::Path;

use routeros_config::{Config, Version};
use tikguard::harden::{self, tunnel};

const KEY: &str = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

fn example(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(name),
    )
    .unwrap()
}

/// The plan with the tunnel, for `target`.
fn planned(bytes: &[u8], target: Version) -> (Config, harden::Intent, tunnel::Wg, harden::Plan) {
    let (config, _) = Config::load(bytes.to_vec());
    let mut i = intent::intent(&config, &[], &["10.255.0.0/24"]);
    i.target = target;
    let w = tunnel::parse(KEY, "10.77.0.2/30", &i.mgmt, &i.target, &config).unwrap();
    i.api_clients.push(w.client.clone());
    let mut plan = harden::plan(&config, &i);
    tunnel::extend(&mut plan, &config, &w);
    (config, i, w, plan)
}

/// The supported 7.x command trees (RouterOS' own, 7.9.2 to 7.24).
const VERSIONS: &[&str] = &[
    "7.9.2", "7.12.2", "7.16.2", "7.18.2", "7.20.8", "7.22.3", "7.24",
];

#[test]
fn the_tunnel_script_is_proven_after_every_prefix_on_every_supported_version() {
    let bytes = example("isp-core-v7.rsc");
    for v in VERSIONS {
        let (config, i, _, plan) = planned(&bytes, Version::parse(v).unwrap());
        let ids: Vec<&str> = plan.changes.iter().map(|c| c.id.as_str()).collect();
        for id in [
            "api-tunnel-interface",
            "api-tunnel-address",
            "api-tunnel-peer",
            "api-tunnel-accept",
        ] {
            assert!(ids.contains(&id), "{v}: {ids:?}");
        }
        // The proof: every prefix keeps management, every command is in the version's tree.
        let (after, proof) = harden::prove(&bytes, &config, &plan.changes, &i)
            .unwrap_or_else(|r| panic!("{v}: {}", r.0));
        assert!(proof.prefixes_checked > 4, "{v}: {proof:?}");
        // The script parses.
        let script = harden::render(&plan.changes, true, "test");
        let p = routeros_config::parse(script.clone().into_bytes());
        assert!(p.diagnostics.is_empty(), "{v}: {:?}", p.diagnostics);
        // No private key in it: the router generates the pair.
        assert!(!script.contains("private-key="), "{v}");
        // The result has the tunnel, api-ssl only for its CRM address and management.
        let wg = after.items("/interface wireguard");
        assert_eq!(wg.len(), 1);
        assert_eq!(wg[0].get_str("name").as_deref(), Some(tunnel::INTERFACE));
        let peer = &after.items("/interface wireguard peers")[0];
        assert_eq!(
            peer.get_str("allowed-address").as_deref(),
            Some("10.77.0.2/32")
        );
        assert_eq!(peer.get_str("public-key").as_deref(), Some(KEY));
        let ssl = after
            .menu("/ip service")
            .unwrap()
            .by_name("api-ssl")
            .unwrap();
        let addr = ssl
            .get_str("available-from")
            .or_else(|| ssl.get_str("address"))
            .unwrap();
        assert!(addr.split(',').any(|a| a == "10.77.0.2"), "{v}: {addr}");
        // Idempotent: planned again on the result, nothing.
        let mut again = harden::plan(&after, &i);
        tunnel::extend(
            &mut again,
            &after,
            &tunnel::parse(KEY, "10.77.0.2/30", &i.mgmt, &i.target, &after).unwrap(),
        );
        assert!(
            again.changes.is_empty(),
            "{v}: {:?}",
            again.changes.iter().map(|c| &c.id).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_audit_of_the_result_sees_the_crm_tunnel_as_an_encrypting_tunnel_zone() {
    let bytes = example("isp-core-v7.rsc");
    let (config, i, _, plan) = planned(&bytes, Version::new(7, 18, 0));
    let (after, _) = harden::prove(&bytes, &config, &plan.changes, &i).unwrap();
    let e = tikguard::audit::exposure::analyse(&after, &Default::default());
    let row = e
        .rows
        .iter()
        .find(|r| r.interface == tunnel::INTERFACE && r.service == "api-ssl" && r.family == "ipv4")
        .unwrap();
    assert_eq!(row.zone, tikguard::audit::exposure::Zone::Tunnel);
    assert_eq!(row.reachable_from, vec!["10.77.0.2/32".to_string()]);
    assert!(row.tunnel.as_ref().unwrap().encrypts);
}

#[test]
fn the_rollback_removes_what_the_tunnel_added() {
    let bytes = example("isp-core-v7.rsc");
    let (_, _, _, plan) = planned(&bytes, Version::new(7, 18, 0));
    let mut all = bytes.clone();
    all.extend(harden::render(&plan.changes, false, "").into_bytes());
    let (applied, _) = Config::load(all.clone());
    assert_eq!(applied.items("/interface wireguard").len(), 1);
    all.extend(harden::rollback(&plan.changes).into_bytes());
    let (restored, p) = Config::load(all);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert!(restored.items("/interface wireguard").is_empty());
    assert!(restored.items("/interface wireguard peers").is_empty());
    assert!(!restored
        .items("/ip address")
        .iter()
        .any(|a| a.get_str("interface").as_deref() == Some(tunnel::INTERFACE)));
    assert!(!restored.items("/ip firewall filter").iter().any(|r| r
        .get_str("comment")
        .is_some_and(|c| c.contains("api-tunnel"))));
}

#[test]
fn wireguard_is_refused_on_routeros_6() {
    let (config, _) = Config::load(example("branch-v6.rsc"));
    let target = config.version.clone().unwrap();
    assert_eq!(target.major, 6);
    let e = tunnel::parse(KEY, "10.77.0.2/30", &[], &target, &config).unwrap_err();
    assert!(e.contains("WireGuard exists from RouterOS 7.0"), "{e}");
}

#[test]
fn an_interface_of_that_name_the_script_did_not_add_is_refused() {
    let (config, _) =
        Config::load(b"/interface wireguard add name=tikguard-crm listen-port=51820\n".to_vec());
    let e = tunnel::parse(KEY, "10.77.0.2/30", &[], &Version::new(7, 18, 0), &config).unwrap_err();
    assert!(e.contains("did not add"), "{e}");
}

#[test]
fn hostile_names_in_the_router_never_reach_the_script() {
    // A peer comment and an interface name built to break out of the script: they are the
    // router's, never written by the plan, and the plan's own values go through `value`.
    let mut bytes = example("isp-core-v7.rsc");
    bytes.extend(
        b"/interface wireguard add name=\"wg\\\"; /user add name=x\" listen-port=51821\n\
/interface wireguard peers add interface=\"wg\\\"; /user add name=x\" comment=\"}; /system reset-configuration\" public-key=\"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\" allowed-address=10.88.0.2/32\n",
    );
    let (config, i, _, plan) = planned(&bytes, Version::new(7, 18, 0));
    harden::prove(&bytes, &config, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let script = harden::render(&plan.changes, true, "t");
    // The names may appear, quoted (`interface="wg\"; /user add name=x"`) or in `#` lines;
    // what RouterOS would run is the rest.
    let code = outside_quotes_and_comments(&script);
    assert!(!code.contains("/user add"), "{code}\n---\n{script}");
    assert!(!code.contains("reset-configuration"), "{code}");
    assert!(
        script.contains("interface=\"wg\\\"; /user add name=x\""),
        "{script}"
    );
}

/// The script without its `#` lines and without what is inside double quotes (backslash
/// escapes honoured): the text RouterOS reads as commands.
fn outside_quotes_and_comments(script: &str) -> String {
    let mut out = String::new();
    for line in script.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let (mut quoted, mut escaped) = (false, false);
        for c in line.chars() {
            match (quoted, escaped, c) {
                (true, true, _) => escaped = false,
                (true, false, '\\') => escaped = true,
                (_, false, '"') => quoted = !quoted,
                (false, _, c) => out.push(c),
                _ => {}
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_tunnel_with_the_plaintext_api_kept_is_proven_too() {
    let bytes = example("isp-core-v7.rsc");
    let (config, mut i, w, _) = planned(&bytes, Version::new(7, 18, 0));
    i.keep_plain_api = true;
    let mut plan = harden::plan(&config, &i);
    tunnel::extend(&mut plan, &config, &w);
    harden::prove(&bytes, &config, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}
