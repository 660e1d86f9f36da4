//! The firewall evaluation at its edges: many rules behind one group, jump loops, deep jump
//! trees. Each must end with an answer that names real rules, and never panic.

use routeros_config::Config;
use tikguard::audit::firewall::Limits;
use tikguard::audit::{self, Selection, WanChoice};
use tikguard::harden::{self, CertPlan, Intent, Prefix};

fn load(text: &str) -> Config {
    Config::load(text.as_bytes().to_vec()).0
}

fn audit(c: &Config) -> audit::Audit {
    audit::try_run(
        c,
        &WanChoice::default(),
        &Selection::default(),
        Limits::default(),
    )
    .expect("within the budget")
}

fn intent(c: &Config) -> Intent {
    Intent {
        api_clients: vec![Prefix::parse("198.51.100.20").unwrap()],
        mgmt: vec![Prefix::parse("192.168.88.0/24").unwrap()],
        wan: WanChoice::default(),
        api_port: None,
        cert: CertPlan::Generate,
        syslog: None,
        target: c
            .version
            .clone()
            .unwrap_or_else(|| routeros_config::Version::new(7, 18, 0)),
        api_user: None,
        create_api_user: false,
        password_in_script: None,
        api_group: None,
        replace_allow_lists: false,
        keep_plain_api: false,
        mgmt_interfaces: vec![],
    }
}

/// 70 accepts of one shape, then a duplicate of the 70th: the duplicate can never match, and
/// the rule that takes its traffic is the 70th (rule 69), however many rules share its group.
#[test]
fn a_duplicate_behind_more_than_64_rules_of_one_group_names_the_rule_that_takes_it() {
    let mut s = String::from("# 2025-06-01 00:00:00 by RouterOS 7.16.2\n/ip firewall filter\n");
    for i in 0..70 {
        s.push_str(&format!(
            "add chain=input action=accept protocol=tcp dst-port=8728 src-address=192.0.2.{i}\n"
        ));
    }
    s.push_str("add chain=input action=accept protocol=tcp dst-port=8728 src-address=192.0.2.69\n");
    s.push_str("add chain=input action=drop\n");
    let c = load(&s);
    let a = audit(&c);
    let shadowed: Vec<_> = a.findings.iter().filter(|f| f.rule == "TG204").collect();
    assert_eq!(shadowed.len(), 1, "{shadowed:#?}");
    let f = shadowed[0];
    assert_eq!(f.line, Some(73), "the finding is on the duplicate: {f:#?}");
    assert!(
        f.message.contains("rule 70 ") && f.message.contains("earlier rule 69 takes"),
        "{}",
        f.message
    );
    // harden plans and proves on it too.
    let plan = harden::plan(&c, &intent(&c));
    let _ = harden::prove(s.as_bytes(), &c, &plan.changes, &intent(&c));
}

/// Eight forward rules behind one catch-all are one finding, even when a shadowed input rule
/// sits among them in the file (harden's established accept shadows the operator's own, which
/// split the run into one finding per forward rule after it).
#[test]
fn shadowed_rules_of_another_chain_among_a_run_do_not_split_it() {
    let mut s = String::from("# 2025-06-01 00:00:00 by RouterOS 7.16.2\n/ip firewall filter\n");
    s.push_str("add chain=input action=accept connection-state=established,related\n");
    s.push_str("add chain=forward action=accept\n");
    for i in 0..4 {
        s.push_str(&format!(
            "add chain=forward action=accept protocol=tcp dst-port={}\n",
            1000 + i
        ));
    }
    s.push_str("add chain=input action=accept connection-state=established,related\n");
    for i in 4..8 {
        s.push_str(&format!(
            "add chain=forward action=accept protocol=tcp dst-port={}\n",
            1000 + i
        ));
    }
    let a = audit(&load(&s));
    let shadowed: Vec<_> = a.findings.iter().filter(|f| f.rule == "TG204").collect();
    assert_eq!(shadowed.len(), 2, "{shadowed:#?}");
    assert!(
        shadowed.iter().any(|f| f
            .message
            .starts_with("8 ip filter rules of chain `forward`")),
        "{shadowed:#?}"
    );
}

const LISTS: &str = "# 2025-06-01 00:00:00 by RouterOS 7.16.2
/interface list
add name=WAN
add name=LAN
add name=MGMT
/interface list member
add interface=ether1 list=WAN
add interface=bridge list=WAN
add interface=ether2 list=LAN
/ip firewall address-list
add address=192.0.2.0/24 list=mgmt
";

/// The two-rule loop that hung the audit (both match on `bridge`, so each level of the
/// recursion doubled until a depth cut at 32: 2^33 walks): both jumps go back to `input`. Netfilter refuses a
/// table with a loop (ELOOP), so each is reported with its line and column, is not followed,
/// and the sources it matches are counted as possibly reaching the router, approximated.
#[test]
fn a_jump_loop_is_reported_at_each_looping_rule_and_the_audit_ends() {
    let s = format!(
        "{LISTS}/ip firewall filter
add chain=input action=jump jump-target=input in-interface=bridge src-address=fe80::/10
add chain=input action=jump jump-target=input dst-address=198.51.100.0/24 src-address-list=mgmt limit=10,5:packet in-interface-list=!LAN
add chain=input action=drop in-interface-list=WAN
"
    );
    let c = load(&s);
    let a = audit(&c);
    let loops: Vec<_> = a.findings.iter().filter(|f| f.rule == "TG210").collect();
    assert_eq!(
        loops.iter().map(|f| (f.line, f.column)).collect::<Vec<_>>(),
        [(Some(13), Some(1)), (Some(14), Some(1))],
        "{loops:#?}"
    );
    assert_eq!(a.exposure.v4.loops(), [0, 1]);
    // The second jump matches the `mgmt` list on the WAN: those sources may get in through it
    // (not followed), the rest of the WAN is dropped.
    let api = a
        .exposure
        .rows
        .iter()
        .find(|r| r.service == "api" && r.family == "ipv4" && r.interface == "ether1")
        .expect("an api row on the WAN");
    assert_eq!(api.reachable_from, ["192.0.2.0/24"]);
    assert_eq!(api.approximated_by, [1]);
}

/// A jump loop through two custom chains is one loop, found at the jump that closes it.
#[test]
fn a_loop_through_custom_chains_is_found_at_the_jump_that_closes_it() {
    let s = format!(
        "{LISTS}/ip firewall filter
add chain=input action=jump jump-target=a
add chain=a action=jump jump-target=b protocol=tcp
add chain=b action=accept src-address=192.0.2.1
add chain=b action=jump jump-target=a
add chain=input action=drop
"
    );
    let c = load(&s);
    let a = audit(&c);
    assert_eq!(a.exposure.v4.loops(), [3]);
    let lines: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.rule == "TG210")
        .map(|f| f.line)
        .collect();
    assert_eq!(lines, [Some(16)]);
}

/// A tree of custom chains N levels deep, each level jumping twice to the next (once with a
/// `limit` the analysis cannot decide, then for every source), as `bench/gen-jump-tree.py`
/// writes it: 2^N paths.
fn jump_tree(levels: usize) -> String {
    let mut s = String::from(
        "# 2025-06-01 00:00:00 by RouterOS 7.16.2
/interface list
add name=WAN
add name=LAN
/interface list member
add interface=ether1 list=WAN
add interface=bridge list=LAN
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=jump chain=input jump-target=level0 in-interface-list=WAN
",
    );
    for i in 0..levels {
        let next = i + 1;
        s.push_str(&format!(
            "add action=jump chain=level{i} jump-target=level{next} limit=10,5:packet
add action=jump chain=level{i} jump-target=level{next}
add action=accept chain=level{i} protocol=tcp dst-port=22 src-address=192.0.2.{i}
"
        ));
    }
    s.push_str(&format!(
        "add action=drop chain=level{levels} src-address=10.0.0.0/8
add action=return chain=level{levels}
add action=drop chain=input in-interface-list=!LAN
"
    ));
    s
}

/// 2^32 paths through 32 levels: the evaluation walks each chain a bounded number of times, so
/// its work grows with the rules, not with the paths; the answer is the one the rules give.
#[test]
fn a_deep_jump_tree_is_evaluated_in_work_linear_in_its_rules() {
    let c = load(&jump_tree(32));
    let fw = tikguard::audit::firewall::Firewall::from_config(&c, false);
    let ifl = tikguard::audit::firewall::InterfaceLists::from_config(&c);
    let ev = fw.evaluate(
        tikguard::audit::firewall::Probe {
            protocol: "tcp",
            port: 22,
            interface: "ether1",
        },
        &ifl,
    );
    // 10.0.0.0/8 is dropped at the bottom; each level's own address is accepted there; the
    // rest returns and is dropped at the end of `input`.
    assert_eq!(ev.accepted.to_prefixes(), ["192.0.2.0/27"]);
    assert!(ev.accepted_by.len() == 32, "{:?}", ev.accepted_by);
    // The limit jumps are settled for the attacker and named.
    assert_eq!(ev.approximations.len(), 32);
    let rules = fw.rules.len() as u64;
    assert!(
        ev.work < 20 * rules,
        "work {} for {rules} rules: it must grow with the rules, not the 2^32 paths",
        ev.work
    );
    // The same per level at 8 and 16 levels: linear.
    let per_rule = |levels: usize| {
        let c = load(&jump_tree(levels));
        let fw = tikguard::audit::firewall::Firewall::from_config(&c, false);
        let ev = fw.evaluate(
            tikguard::audit::firewall::Probe {
                protocol: "tcp",
                port: 22,
                interface: "ether1",
            },
            &tikguard::audit::firewall::InterfaceLists::from_config(&c),
        );
        ev.work as f64 / fw.rules.len() as f64
    };
    let (a, b) = (per_rule(8), per_rule(16));
    assert!(b < a * 1.5, "work per rule {a} at 8 levels, {b} at 16");
    // The whole audit ends too.
    let a = audit(&c);
    assert!(a.findings.iter().all(|f| f.rule != "TG210"));
}

/// The last line of defence: a table whose evaluation would outgrow its budget ends with an
/// error saying so, not a hang; in the library as an error, at the command line naming the file.
#[test]
fn an_evaluation_over_its_budget_ends_with_an_error_naming_the_file() {
    let c = load(&jump_tree(64));
    let small = Limits {
        work: 500,
        ..Limits::default()
    };
    let e = audit::try_run(&c, &WanChoice::default(), &Selection::default(), small)
        .err()
        .expect("over its budget");
    assert!(
        e.0.contains("IPv4 filter table did not finish within its budget"),
        "{e}"
    );
    // `run` still answers, over-approximated.
    assert!(
        !audit::run(&c, &WanChoice::default(), &Selection::default())
            .exposure
            .rows
            .is_empty()
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.rsc");
    std::fs::write(&path, jump_tree(3000)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tikguard"))
        .args(["audit", "--time-limit", "0"])
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}: the evaluation of the IPv4 filter table did not finish",
            path.display()
        )),
        "{err}"
    );
    // Within its limit the same file is audited.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tikguard"))
        .arg("audit")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
