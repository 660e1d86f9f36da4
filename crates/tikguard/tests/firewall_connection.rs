//! A whole connection through the filter (`Firewall::evaluate_connection`): its first packet
//! `new`, the rest `established` (or `untracked`), with the evaluation's jump summaries, loop
//! guard and budget. Each test names the behaviour it pins.

use routeros_config::Config;
use tikguard::audit::addrset::AddrSet;
use tikguard::audit::firewall::{Assume, Firewall, InterfaceLists, Limits, Probe};

const HEAD: &str = "# 2025-06-01 00:00:00 by RouterOS 7.16.2\n/interface list\nadd name=WAN\n/interface list member\nadd interface=ether1 list=WAN\n";

fn load(rules: &str) -> Config {
    let (c, p) = Config::load(format!("{HEAD}{rules}").into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    c
}

fn ssh(iface: &str) -> Probe<'_> {
    Probe {
        protocol: "tcp",
        port: 22,
        interface: iface,
    }
}

/// The sources whose whole ssh connection on ether1 gets in, as `assume` sees them.
fn kept(c: &Config, assume: Assume) -> AddrSet {
    let fw = Firewall::assuming(c, false, assume);
    fw.evaluate_connection(ssh("ether1"), &InterfaceLists::from_config(c))
}

fn addr(s: &str) -> AddrSet {
    tikguard::harden::Prefix::parse(s).unwrap().set
}

/// A custom chain that accepts the first packet and drops the rest: each packet state is
/// summarised on its own (a chain's summary for `new` is not that of `established`), so the
/// connection is lost, for the attacker's view and the defender's.
#[test]
fn a_jump_chain_that_drops_established_packets_loses_the_connection() {
    let c = load(
        "/ip firewall filter
add chain=input action=jump jump-target=mgmt protocol=tcp dst-port=22
add chain=mgmt action=accept connection-state=new src-address=192.0.2.0/24
add chain=mgmt action=drop
",
    );
    for assume in [Assume::Attacker, Assume::Defender] {
        let k = kept(&c, assume);
        assert!(
            k.intersect(&addr("192.0.2.1/32")).is_empty(),
            "{assume:?}: {k:?}"
        );
    }
    // With the established packets accepted first, the jump chain's `new` accept holds.
    let c = load(
        "/ip firewall filter
add chain=input action=accept connection-state=established,related
add chain=input action=jump jump-target=mgmt protocol=tcp dst-port=22
add chain=mgmt action=accept connection-state=new src-address=192.0.2.0/24
add chain=mgmt action=drop
",
    );
    let k = kept(&c, Assume::Defender);
    assert!(k.contains_set(&addr("192.0.2.0/24")), "{k:?}");
    assert!(k.intersect(&addr("198.51.100.1/32")).is_empty(), "{k:?}");
}

/// A jump loop in the connection's path ends: the looping jump is not followed, the defender
/// counts on nothing it matches (the loop is not taken as a way in).
#[test]
fn a_jump_loop_in_the_connection_path_ends_and_the_defender_counts_on_nothing() {
    let c = load(
        "/ip firewall filter
add chain=input action=accept connection-state=established,related
add chain=input action=jump jump-target=a protocol=tcp dst-port=22
add chain=input action=drop
add chain=a action=jump jump-target=b
add chain=b action=jump jump-target=a
add chain=b action=accept
",
    );
    let fw = Firewall::assuming(&c, false, Assume::Defender);
    assert!(!fw.loops().is_empty());
    let k = fw.evaluate_connection(ssh("ether1"), &InterfaceLists::from_config(&c));
    assert!(k.is_empty(), "{k:?}");
    // The attacker's view has the loop's sources in.
    assert!(kept(&c, Assume::Attacker).is_all());
}

/// The budget applies to a whole connection too: once spent, the defender's view keeps
/// nobody (a proof on it fails, never passes) and the table says it was cut short.
#[test]
fn an_exhausted_budget_keeps_nobody_for_the_defender_and_says_so() {
    let mut rules = String::from(
        "/ip firewall filter\nadd chain=input action=accept connection-state=established,related\n",
    );
    for i in 0..200 {
        rules.push_str(&format!(
            "add chain=input action=accept protocol=tcp dst-port=22 src-address=10.{}.{}.0/24\n",
            i / 256,
            i % 256
        ));
    }
    rules.push_str("add chain=input action=drop\n");
    let c = load(&rules);
    let ifl = InterfaceLists::from_config(&c);
    let fw = Firewall::assuming(&c, false, Assume::Defender);
    assert!(!fw.evaluate_connection(ssh("ether1"), &ifl).is_empty());
    assert!(fw.budget().check("IPv4 filter table").is_ok());
    let tight = Firewall::assuming(&c, false, Assume::Defender).with_limits(Limits {
        work: 50,
        ..Limits::default()
    });
    assert!(tight.evaluate_connection(ssh("ether1"), &ifl).is_empty());
    assert!(tight.budget().check("IPv4 filter table").is_err());
}

/// `connection-state=!invalid` names neither `new` nor `established` negated: it takes both,
/// so a management accept written that way keeps the whole connection.
#[test]
fn a_not_invalid_accept_takes_every_packet_of_the_connection() {
    let c = load(
        "/ip firewall filter
add chain=input action=accept connection-state=!invalid protocol=tcp dst-port=22 src-address=192.0.2.0/24
add chain=input action=drop
",
    );
    let k = kept(&c, Assume::Defender);
    assert!(k.contains_set(&addr("192.0.2.0/24")), "{k:?}");
    assert!(k.intersect(&addr("198.51.100.1/32")).is_empty(), "{k:?}");
}

/// An accept of `established` alone lets no connection start; `connection-nat-state=dstnat`
/// does not match a connection made to the router's own address.
#[test]
fn established_alone_or_a_dstnat_state_accept_keeps_nobody() {
    for rule in [
        "add chain=input action=accept connection-state=established protocol=tcp dst-port=22",
        "add chain=input action=accept connection-nat-state=dstnat protocol=tcp dst-port=22",
    ] {
        let c = load(&format!(
            "/ip firewall filter\nadd chain=input action=accept connection-state=established,related\n{rule}\nadd chain=input action=drop\n"
        ));
        for assume in [Assume::Attacker, Assume::Defender] {
            let k = kept(&c, assume);
            assert!(k.is_empty(), "{rule} {assume:?}: {k:?}");
        }
    }
}
