//! A plan never takes away access it was not asked to: administrators' groups are left alone,
//! no group gains a policy, allow-lists that exist are kept, and what the command line names is
//! checked for covering the whole internet.

use routeros_config::Config;
use tikguard::harden::{self, Intent, Prefix};

#[path = "common/intent.rs"]
mod harden_intent;
use harden_intent::guide_intent as intent;

const GUIDE: &str = include_str!("harden/insecure-guide.rsc");

fn with(extra: &str) -> (String, Config) {
    let s = format!("{GUIDE}\n{extra}\n");
    let c = Config::load(s.clone().into_bytes()).0;
    (s, c)
}

const ADMINS: &str = "/user group\nadd name=admins policy=local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon";

/// Users are not in exports: a custom group holding `api` among interactive logins may be the
/// administrators. It is left alone (and its users' addresses too), and the plan says why.
#[test]
fn a_group_holding_api_among_admin_policies_is_left_alone_and_the_plan_says_why() {
    let (src, c) = with(ADMINS);
    let i = intent(&c);
    let plan = harden::plan(&c, &i);
    let s = harden::render(&plan.changes, false, "");
    assert!(!s.contains("find where name=admins"), "{s}");
    assert!(!s.contains("find where group=admins"), "{s}");
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("admins") && n.contains("--api-group")),
        "{:?}",
        plan.notes
    );
    harden::prove(src.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// `--api-group G` names the CRM's group: then it is tightened, whatever it holds.
#[test]
fn api_group_names_the_group_to_tighten() {
    let (src, c) = with(ADMINS);
    let mut i = intent(&c);
    i.api_group = Some("admins".into());
    let plan = harden::plan(&c, &i);
    let s = harden::render(&plan.changes, false, "");
    assert!(
        s.contains("/user group set [find where name=admins] policy=read,write,api,"),
        "{s}"
    );
    // The CRM group the guide shows is plainly for the API: tightened as well.
    assert!(s.contains("/user group set [find where name=crm]"), "{s}");
    harden::prove(src.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// `--api-user` with a user shown in an administrators' group restricts that user, never the
/// group.
#[test]
fn api_user_in_an_admin_group_does_not_tighten_the_group() {
    let (_, c) = with(&format!(
        "{ADMINS}\n/user\nadd name=billing group=admins address=198.51.100.20"
    ));
    let mut i = intent(&c);
    i.api_user = Some("billing".into());
    let s = harden::render(&harden::plan(&c, &i).changes, false, "");
    assert!(!s.contains("/user group set"), "{s}");
}

/// A group is never given a policy it did not have: a read-only monitoring group (`read,api`)
/// stays read-only.
#[test]
fn a_read_only_api_group_never_gains_write() {
    let (src, c) = with("/user group\nadd name=monitor policy=read,api,test,sensitive");
    let i = intent(&c);
    let plan = harden::plan(&c, &i);
    let s = harden::render(&plan.changes, false, "");
    let line = s
        .lines()
        .find(|l| l.contains("/user group set [find where name=monitor]"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(line.contains("policy=read,api,"), "{line}");
    assert!(line.contains("!write"), "{line}");
    assert!(
        !line.contains(",write,") && !line.contains("=write,"),
        "{line}"
    );
    let (after, _) =
        harden::prove(src.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let again = harden::plan(&after, &i);
    assert!(
        again.is_empty(),
        "{}",
        harden::render(&again.changes, false, "")
    );
}

/// The rollback gives each user of a restricted group its own address back, not the first
/// user's.
#[test]
fn the_rollback_restores_each_users_own_address() {
    let (_, c) = with("/user\nadd name=crm1 group=crm address=203.0.113.7\nadd name=crm2 group=crm address=192.0.2.44");
    let plan = harden::plan(&c, &intent(&c));
    let undo = harden::rollback(&plan.changes);
    assert!(
        undo.contains("/user set [find where name=crm1] address=203.0.113.7"),
        "{undo}"
    );
    assert!(
        undo.contains("/user set [find where name=crm2] address=192.0.2.44"),
        "{undo}"
    );
    // Applied to the hardened result, the rollback gives both back.
    let script = harden::script::lines(&plan.changes).join("\n");
    let undone = format!(
        "{GUIDE}\n/user\nadd name=crm1 group=crm address=203.0.113.7\nadd name=crm2 group=crm address=192.0.2.44\n{script}\n{undo}\n"
    );
    let u = Config::load(undone.into_bytes()).0;
    let addr = |n: &str| {
        u.items("/user")
            .iter()
            .find(|i| i.get_str("name").as_deref() == Some(n))
            .and_then(|i| i.get_str("address"))
    };
    assert_eq!(addr("crm1").as_deref(), Some("203.0.113.7"));
    assert_eq!(addr("crm2").as_deref(), Some("192.0.2.44"));
}

const ALLOW: &str = include_str!("harden/allow-lists.rsc");

fn allow_intent(c: &Config) -> Intent {
    let mut i = intent(c);
    i.api_clients = vec![Prefix::parse("198.51.100.20").unwrap()];
    i.mgmt = vec![Prefix::parse("192.168.88.0/24").unwrap()];
    i
}

fn service_address(c: &Config, svc: &str) -> Vec<String> {
    let mut v: Vec<String> = c
        .menu("/ip service")
        .and_then(|m| m.by_name(svc))
        .and_then(|i| i.get_str("address"))
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty() && !s.contains(':'))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// `/ip service address=` lists that exist are kept (the given prefixes added), and the firewall
/// lets them in: no prefix or user that reaches a service today loses it; the proof's "who
/// loses access" table is empty.
#[test]
fn existing_allow_lists_are_kept_and_nobody_loses_access() {
    let c = Config::load(ALLOW.as_bytes().to_vec()).0;
    let i = allow_intent(&c);
    let plan = harden::plan(&c, &i);
    let (after, proof) = harden::prove(ALLOW.as_bytes(), &c, &plan.changes, &i)
        .unwrap_or_else(|r| panic!("{}", r.0));
    let before_winbox = service_address(&c, "winbox");
    let after_winbox = service_address(&after, "winbox");
    for p in &before_winbox {
        assert!(after_winbox.contains(p), "{p} dropped: {after_winbox:?}");
    }
    // Nobody loses anything: the WAN interface had layer 2 only because it was on everywhere
    // (TG112/TG113's fix is not a loss), and the LAN keeps it.
    let rows: Vec<(&str, &str)> = proof
        .losses
        .iter()
        .map(|l| (l.kind, l.who.as_str()))
        .collect();
    assert_eq!(
        rows,
        vec![],
        "{:#?}\n{}",
        proof.losses,
        harden::render(&plan.changes, false, "")
    );
}

/// A management network on its own interface (`accept src-address=10.9.0.0/24
/// in-interface=ether5`): joined to the plan's lists it would gain access on every interface,
/// left below the plan's drop it would lose it. The plan repeats the rule above its drop, with
/// its interfaces, names and bytes as they are (an interface named with a quote, a `$` and
/// Windows-1251 bytes stays one value); nobody loses access, nobody gains it elsewhere, and
/// planning the result again gives nothing.
#[test]
fn an_accept_limited_to_an_interface_is_kept_on_that_interface_only() {
    for iface in [&b"ether5"[..], b"mgmt \"oob\" $x\xcb\xc2\xd1"] {
        let mut text = b"# 2024-01-02 12:00:00 by RouterOS 7.16\n\
/interface list\nadd name=WAN\n\
/interface list member\nadd interface=ether1 list=WAN\n\
/ip address\nadd address=192.168.88.1/24 interface=ether2\n"
            .to_vec();
        let quoted = {
            let mut q = b"\"".to_vec();
            for &b in iface {
                match b {
                    b'"' | b'$' | b'\\' => q.extend([b'\\', b]),
                    0x80.. => q.extend(format!("\\{b:02X}").bytes()),
                    _ => q.push(b),
                }
            }
            q.push(b'"');
            q
        };
        text.extend(b"add address=10.9.0.1/24 interface=");
        text.extend(&quoted);
        text.extend(
            b"\n/ip firewall filter\n\
add chain=input action=accept connection-state=established,related\n\
add chain=input action=accept protocol=tcp dst-port=8291,22 src-address=10.9.0.0/24 in-interface=",
        );
        text.extend(&quoted);
        text.extend(
            b"\nadd chain=input action=accept src-address=192.168.88.0/24\n\
add chain=input action=drop\n",
        );
        let (c, parsed) = Config::load(text.clone());
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let i = intent(&c);
        let plan = harden::plan(&c, &i);
        let script = harden::render(&plan.changes, false, "");
        let (after, proof) = harden::prove(&text, &c, &plan.changes, &i)
            .unwrap_or_else(|r| panic!("{}\n{script}", r.0));
        assert!(proof.losses.is_empty(), "{:#?}\n{script}", proof.losses);
        // The repeated accept carries the rule's interface, byte for byte.
        let kept: Vec<&routeros_config::Item> = after
            .items("/ip firewall filter")
            .iter()
            .filter(|r| {
                r.get_str("comment")
                    .is_some_and(|t| t.starts_with("tikguard:ip-keep-accept:"))
            })
            .collect();
        assert_eq!(kept.len(), 1, "{script}");
        assert_eq!(kept[0].get("in-interface"), Some(iface), "{script}");
        assert_eq!(
            kept[0].get_str("src-address").as_deref(),
            Some("10.9.0.0/24")
        );
        // Not widened: from the LAN side, 10.9.0.0/24 is still dropped on winbox.
        let fw = tikguard::audit::firewall::Firewall::from_config(&after, false);
        let ifl = tikguard::audit::firewall::InterfaceLists::from_config(&after);
        let on = |name: &str| {
            fw.evaluate_connection(
                tikguard::audit::firewall::Probe {
                    protocol: "tcp",
                    port: 8291,
                    interface: name,
                },
                &ifl,
            )
        };
        let noc = tikguard::audit::addrset::AddrSet::from_range(
            routeros_config::value::parse_addr(b"10.9.0.0/24")
                .unwrap()
                .range,
        );
        assert!(on("ether2").intersect(&noc).is_empty(), "{script}");
        let again = harden::plan(&after, &i);
        assert!(
            again.is_empty(),
            "{}",
            harden::render(&again.changes, false, "")
        );
    }
}

/// With `--replace-allow-lists` the lists become the given prefixes, and the table names every
/// prefix that loses a service: the whole list, and the NOC range the firewall accepted.
#[test]
fn replacing_allow_lists_lists_every_prefix_that_loses_access() {
    let c = Config::load(ALLOW.as_bytes().to_vec()).0;
    let mut i = allow_intent(&c);
    i.replace_allow_lists = true;
    let plan = harden::plan(&c, &i);
    let (after, proof) = harden::prove(ALLOW.as_bytes(), &c, &plan.changes, &i)
        .unwrap_or_else(|r| panic!("{}", r.0));
    assert_eq!(service_address(&after, "winbox"), vec!["192.168.88.0/24"]);
    let lost = |who: &str, svc: &str| {
        proof
            .losses
            .iter()
            .any(|l| l.who == who && l.service == svc)
    };
    for p in [
        "10.1.0.0/24",
        "172.16.4.0/24",
        "100.64.10.0/24",
        "198.51.100.0/28",
    ] {
        assert!(lost(p, "winbox"), "{p}: {:#?}", proof.losses);
    }
    assert!(lost("100.64.10.0/24", "ssh"), "{:#?}", proof.losses);
    assert!(!lost("192.168.88.0/24", "winbox"), "{:#?}", proof.losses);
}

/// A www-ssl certificate already set (Let's Encrypt, renewed by RouterOS 7 itself) is kept.
#[test]
fn an_existing_www_ssl_certificate_is_kept() {
    let (src, c) = with("/ip service\nset www-ssl disabled=no certificate=letsencrypt_2026");
    let i = intent(&c);
    let plan = harden::plan(&c, &i);
    let s = harden::render(&plan.changes, false, "");
    let line = s
        .lines()
        .find(|l| l.starts_with("/ip service set www-ssl"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(!line.contains("certificate="), "{line}");
    harden::prove(src.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// The wait for the certificate's private key runs on every run while it has none, not only
/// when it was just created: a run whose signing timed out stopped there, and the next finds
/// the certificate and must wait again before api-ssl is given it.
#[test]
fn the_certificate_wait_runs_whenever_a_service_is_given_the_certificate() {
    let (_, c) = with("/certificate\nadd name=tikguard-api common-name=edge-01 key-size=2048");
    let plan = harden::plan(&c, &intent(&c));
    let s = harden::render(&plan.changes, true, "");
    assert!(!s.contains("/certificate add"), "{s}");
    let wait = s
        .find(":if ([:len [/certificate find where name=tikguard-api and private-key]] = 0) do={ :error")
        .unwrap_or_else(|| panic!("{s}"));
    let set = s.find("/ip service set api-ssl").unwrap();
    assert!(wait < set, "{s}");
}

/// TG118 (ssh accepting the `none` cipher) is planned, not left while the plan claims to harden.
#[test]
fn ssh_none_crypto_is_turned_off() {
    let (src, c) = with("/ip ssh\nset allow-none-crypto=yes");
    let i = intent(&c);
    let plan = harden::plan(&c, &i);
    let ch = plan
        .changes
        .iter()
        .find(|ch| ch.fixes.contains(&"TG118"))
        .unwrap_or_else(|| {
            panic!(
                "{:?}",
                plan.changes.iter().map(|c| &c.id).collect::<Vec<_>>()
            )
        });
    assert!(harden::script::lines(std::slice::from_ref(ch))[0]
        .contains("/ip ssh set allow-none-crypto=no"));
    harden::prove(src.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// An unlogged drop naming the API port (TG207) is given `log=yes` where a unique comment names
/// it; without one the plan does not claim TG207 and says so; neither is a refusal.
#[test]
fn an_unlogged_api_drop_gets_logging_instead_of_a_refusal() {
    let guide_with = |rule: &str| {
        let s = GUIDE.replace(
            "add action=drop chain=input\n",
            &format!("{rule}\nadd action=drop chain=input\n"),
        );
        let c = Config::load(s.clone().into_bytes()).0;
        (s, c)
    };
    let (src, c) = guide_with(
        "add action=drop chain=input comment=\"no api from bad\" dst-port=8728 protocol=tcp src-address=203.0.113.0/24",
    );
    let i = intent(&c);
    let plan = harden::plan(&c, &i);
    let s = harden::render(&plan.changes, false, "");
    assert!(
        s.contains("/ip firewall filter set [find where comment=\"no api from bad\" and dynamic=no] log=yes"),
        "{s}"
    );
    harden::prove(src.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let (src, c) = guide_with(
        "add action=drop chain=input dst-port=8728 protocol=tcp src-address=203.0.113.0/24",
    );
    let plan = harden::plan(&c, &i);
    assert!(
        !plan.changes.iter().any(|ch| ch.fixes.contains(&"TG207")),
        "{:?}",
        plan.changes
            .iter()
            .map(|c| (&c.id, &c.fixes))
            .collect::<Vec<_>>()
    );
    assert!(
        plan.notes.iter().any(|n| n.contains("log=yes")),
        "{:?}",
        plan.notes
    );
    harden::prove(src.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// The run that creates api-ssl's certificate and turns the plaintext API off breaks a CRM that
/// does not trust the certificate yet: the plan says so, and `--keep-plain-api` stages it.
#[test]
fn the_crm_cut_over_is_said_and_can_be_staged() {
    let c = Config::load(GUIDE.as_bytes().to_vec()).0;
    let i = intent(&c);
    let plan = harden::plan(&c, &i);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("cut-over") && n.contains("--keep-plain-api")),
        "{:?}",
        plan.notes
    );
    let mut staged = i.clone();
    staged.keep_plain_api = true;
    let plan = harden::plan(&c, &staged);
    let s = harden::render(&plan.changes, false, "");
    assert!(!s.contains("set api disabled=yes"), "{s}");
    assert!(
        !s.contains("disable [find where comment=\"CRM API\"]"),
        "{s}"
    );
    assert!(s.contains("/ip service set api-ssl"), "{s}");
    assert!(
        plan.notes.iter().any(|n| n.starts_with("staged")),
        "{:?}",
        plan.notes
    );
    let (after, _) = harden::prove(GUIDE.as_bytes(), &c, &plan.changes, &staged)
        .unwrap_or_else(|r| panic!("{}", r.0));
    // The second run, without staging, finishes the cut-over.
    let s2 = harden::render(&harden::plan(&after, &i).changes, false, "");
    assert!(s2.contains("set api disabled=yes"), "{s2}");
}

/// An access point whose address comes by DHCP has no address inside --mgmt: MAC winbox and
/// discovery are not set to `none` (the administrators' way back in); the plan asks for
/// --mgmt-interface, and with it limits them to that interface.
#[test]
fn mac_winbox_is_not_set_to_none_where_management_cannot_be_found() {
    let ap = "# 2025-06-02 10:00:00 by RouterOS 7.16.2\n/interface bridge\nadd name=bridge\n/ip dhcp-client\nadd interface=bridge\n/ip service\nset telnet disabled=yes\nset ftp disabled=yes\nset www disabled=yes\n";
    let c = Config::load(ap.as_bytes().to_vec()).0;
    let mut i = intent(&c);
    i.mgmt = vec![Prefix::parse("192.168.88.0/24").unwrap()];
    let plan = harden::plan(&c, &i);
    let s = harden::render(&plan.changes, false, "");
    assert!(!s.contains("=none"), "{s}");
    assert!(
        plan.notes.iter().any(|n| n.contains("--mgmt-interface")),
        "{:?}",
        plan.notes
    );
    i.mgmt_interfaces = vec!["bridge".into()];
    let s = harden::render(&harden::plan(&c, &i).changes, false, "");
    assert!(
        s.contains("/interface list member add list=tikguard-mgmt interface=bridge"),
        "{s}"
    );
    assert!(
        s.contains("mac-winbox set allowed-interface-list=tikguard-mgmt"),
        "{s}"
    );
}

const TIMED: &str = include_str!("harden/timed-list-entry.rsc");

/// An address-list entry with a timeout is removed when it passes (MikroTik's Address-lists
/// manual, `timeout`): the plan keeps the list's lasting entries and never copies a timed one
/// into its own lists or a service's `address=`, where it would last for good; the proof's
/// table says that the timed entry loses the access it has today.
#[test]
fn a_timed_address_list_entry_is_not_made_lasting() {
    let c = Config::load(TIMED.as_bytes().to_vec()).0;
    let i = allow_intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(!script.contains("198.18.0.7"), "{script}");
    assert!(script.contains("address=100.64.10.0/24"), "{script}");
    let (after, proof) = harden::prove(TIMED.as_bytes(), &c, &plan.changes, &i)
        .unwrap_or_else(|r| panic!("{}", r.0));
    assert!(service_address(&after, "winbox").contains(&"100.64.10.0/24".to_string()));
    assert!(
        proof
            .losses
            .iter()
            .any(|l| l.who == "198.18.0.7/32" || l.who == "198.18.0.7"),
        "{:#?}",
        proof.losses
    );
    assert!(
        !proof.losses.iter().any(|l| l.who.starts_with("100.64.10.")),
        "{:#?}",
        proof.losses
    );
}

const USED: &str = include_str!("harden/used-clear-text.rsc");

/// www, ftp and the bandwidth-test server that the configuration plainly uses (a firewall
/// accept naming the port, a NAT rule sending connections to it) are not turned off: www
/// used from a narrow range is restricted to management and that range; ftp reached through a
/// port forward from anyone and the bandwidth server are left on; the notes say why.
#[test]
fn clear_text_services_the_configuration_uses_are_restricted_or_left_not_disabled() {
    let c = Config::load(USED.as_bytes().to_vec()).0;
    let i = allow_intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(!script.contains("set www disabled=yes"), "{script}");
    assert!(!script.contains("set ftp disabled=yes"), "{script}");
    assert!(
        !script.contains("/tool bandwidth-server set enabled=no"),
        "{script}"
    );
    let (after, _) =
        harden::prove(USED.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    let www = service_address(&after, "www");
    assert!(www.contains(&"10.20.0.0/16".to_string()), "{www:?}");
    assert!(www.contains(&"192.168.88.0/24".to_string()), "{www:?}");
    for svc in ["www", "ftp", "bandwidth"] {
        assert!(
            plan.notes.iter().any(|n| n.starts_with(svc)),
            "{svc}: {:#?}",
            plan.notes
        );
    }
    // Unused, they are turned off as before.
    let plain = USED
        .lines()
        .filter(|l| {
            !l.contains("dst-port=80") && !l.contains("dst-port=2000") && !l.contains("to-ports=21")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let c = Config::load(plain.into_bytes()).0;
    let script = harden::render(&harden::plan(&c, &i).changes, false, "");
    assert!(script.contains("set www disabled=yes"), "{script}");
    assert!(script.contains("set ftp disabled=yes"), "{script}");
    assert!(
        script.contains("/tool bandwidth-server set enabled=no"),
        "{script}"
    );
}

/// The bandwidth-test server the configuration uses is left on, but never without a login:
/// `authenticate=no` runs a test for anyone who reaches TCP 2000 (MikroTik's Bandwidth Test
/// manual; `authenticate` defaults to `yes`; TG114 flags `authenticate=no` as medium). The plan
/// sets `authenticate=yes`, and the configuration after the script has it.
#[test]
fn a_bandwidth_server_left_on_because_it_is_used_asks_for_a_login() {
    let cfg = format!("{USED}\n/tool bandwidth-server\nset authenticate=no\n");
    let c = Config::load(cfg.clone().into_bytes()).0;
    let i = allow_intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(
        !script.contains("/tool bandwidth-server set enabled=no"),
        "{script}"
    );
    assert!(
        script.contains("/tool bandwidth-server set authenticate=yes"),
        "{script}"
    );
    let (after, _) =
        harden::prove(cfg.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    assert_eq!(
        after.setting("/tool bandwidth-server", "authenticate"),
        Some(&b"yes"[..])
    );
    // Already asking for a login (the default): nothing to set.
    let c = Config::load(USED.as_bytes().to_vec()).0;
    let script = harden::render(&harden::plan(&c, &i).changes, false, "");
    assert!(!script.contains("authenticate="), "{script}");
}

/// The web proxy as ISPs use it: unpaid subscribers' web traffic redirected to it, which shows
/// them a notice. Disabling it (TG116) would break that today; it is left on with a note.
#[test]
fn a_web_proxy_the_nat_redirects_to_is_left_on() {
    let cfg = format!(
        "{USED}\n/ip proxy\nset enabled=yes port=8080\n/ip firewall nat\nadd action=redirect chain=dstnat dst-port=80 protocol=tcp src-address-list=unpaid to-ports=8080\n/ip firewall address-list\nadd address=10.99.0.0/16 list=unpaid\n"
    );
    let c = Config::load(cfg.clone().into_bytes()).0;
    let i = allow_intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(!script.contains("/ip proxy set enabled=no"), "{script}");
    assert!(
        plan.notes.iter().any(|n| n.starts_with("proxy:")),
        "{:#?}",
        plan.notes
    );
    harden::prove(cfg.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
    // Without the redirect it is disabled, as before.
    let cfg = cfg.replace("to-ports=8080", "to-ports=3128");
    let c = Config::load(cfg.into_bytes()).0;
    let script = harden::render(&harden::plan(&c, &i).changes, false, "");
    assert!(script.contains("/ip proxy set enabled=no"), "{script}");
}

/// MikroTik's RoMON manual, Secrets: a secret set on one router alone cuts it off from RoMON
/// peers without one. Without `--romon-secret-stage`, TG121 is the manual's staged introduction
/// in a note naming the flags; the script leaves RoMON as it is and does not claim TG121.
#[test]
fn romon_without_a_secret_is_planned_as_a_staged_note_not_a_lone_change() {
    let cfg = format!("{ALLOW}\n/tool romon\nset enabled=yes\n");
    let c = Config::load(cfg.clone().into_bytes()).0;
    let i = allow_intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    assert!(!script.contains("/tool romon"), "{script}");
    assert!(!script.contains("TG121"), "{script}");
    let note = plan
        .notes
        .iter()
        .find(|n| n.starts_with("TG121"))
        .unwrap_or_else(|| panic!("{:#?}", plan.notes));
    assert!(note.contains("secrets=\"\",<secret>"), "{note}");
    assert!(
        note.contains("--romon-secret-file FILE --romon-secret-stage 1"),
        "{note}"
    );
    harden::prove(cfg.as_bytes(), &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}", r.0));
}

/// A re-run after the operator changed or removed an accept limited to an interface: the rule
/// an earlier run repeated for it (`tikguard:ip-keep-accept:<hash>`, which names the old
/// matchers) is removed, not left to admit the old source, not refused as someone else's, and
/// the old source, written into the services' own lists for that rule, is not taken as
/// management everywhere. The proof's table says who loses access with it; the rollback puts
/// the rule back.
#[test]
fn a_keep_accept_whose_rule_changed_or_went_is_removed_and_its_source_not_widened() {
    let text = b"# 2024-01-02 12:00:00 by RouterOS 7.16\n\
/interface list\nadd name=WAN\n\
/interface list member\nadd interface=ether1 list=WAN\n\
/ip address\nadd address=192.168.88.1/24 interface=ether2\n\
add address=10.9.0.1/24 interface=ether5\n\
/ip firewall filter\n\
add chain=input action=accept connection-state=established,related\n\
add chain=input action=accept protocol=tcp dst-port=8291,22 src-address=10.9.0.0/24 in-interface=ether5\n\
add chain=input action=accept src-address=192.168.88.0/24\n\
add chain=input action=drop\n";
    let c = Config::load(text.to_vec()).0;
    let i = intent(&c);
    let plan = harden::plan(&c, &i);
    let mut run = text.to_vec();
    run.extend(harden::render(&plan.changes, false, "").bytes());
    let original = "src-address=10.9.0.0/24 in-interface=ether5\n";
    let run = String::from_utf8(run).unwrap();
    assert!(run.contains(original), "{run}");
    for (what, edited) in [
        (
            "source changed",
            run.replace(original, "src-address=10.8.0.0/24 in-interface=ether5\n"),
        ),
        ("rule removed", {
            let cut = run.find(original).unwrap();
            let start = run[..cut].rfind('\n').unwrap() + 1;
            format!("{}{}", &run[..start], &run[cut + original.len()..])
        }),
    ] {
        let (c, parsed) = Config::load(edited.clone().into_bytes());
        assert!(
            parsed.diagnostics.is_empty(),
            "{what}: {:?}",
            parsed.diagnostics
        );
        let plan = harden::plan(&c, &i);
        let script = harden::render(&plan.changes, false, "");
        let (after, proof) = harden::prove(edited.as_bytes(), &c, &plan.changes, &i)
            .unwrap_or_else(|r| panic!("{what}: {}\n{script}", r.0));
        let fw = tikguard::audit::firewall::Firewall::from_config(&after, false);
        let ifl = tikguard::audit::firewall::InterfaceLists::from_config(&after);
        let on = |name: &str| {
            fw.evaluate_connection(
                tikguard::audit::firewall::Probe {
                    protocol: "tcp",
                    port: 8291,
                    interface: name,
                },
                &ifl,
            )
        };
        let set = |p: &[u8]| {
            tikguard::audit::addrset::AddrSet::from_range(
                routeros_config::value::parse_addr(p).unwrap().range,
            )
        };
        let old = set(b"10.9.0.0/24");
        // The old source reaches winbox nowhere: not on its interface through the stale
        // rule, not on every interface through the plan's management list.
        for iface in ["ether5", "ether2", "ether1"] {
            assert!(
                on(iface).intersect(&old).is_empty(),
                "{what}: 10.9.0.0/24 still reaches winbox on {iface}\n{script}"
            );
        }
        if what == "source changed" {
            assert!(
                set(b"10.8.0.0/24").minus(&on("ether5")).is_empty(),
                "{what}: the new source lost winbox\n{script}"
            );
            // winbox's own list, which the first run wrote for the old source, takes the new
            // one: the repeated accept alone would let it through a firewall to a service that
            // turns it away.
            let winbox = service_address(&after, "winbox");
            assert!(
                winbox.contains(&"10.8.0.0/24".to_string()),
                "{winbox:?}\n{script}"
            );
            assert!(
                !winbox.contains(&"10.9.0.0/24".to_string()),
                "{winbox:?}\n{script}"
            );
        }
        assert!(
            proof.losses.iter().any(|l| l.who.contains("10.9.0.0/24")),
            "{what}: the table does not say 10.9.0.0/24 loses access: {:#?}\n{script}",
            proof.losses
        );
        // The rollback adds the removed rule back.
        let undo = harden::rollback(&plan.changes);
        assert!(
            undo.contains("src-address=10.9.0.0/24 in-interface=ether5"),
            "{what}: {undo}"
        );
        let again = harden::plan(&after, &i);
        assert!(
            again.is_empty(),
            "{what}: {}",
            harden::render(&again.changes, false, "")
        );
    }
}

/// A rule under a keep-accept comment that admits the internet is no repeat the plan wrote
/// (it repeats only narrow sources): removed as a stale repeat, it does not make the services'
/// own lists drop what they hold; 10.1.0.0/24, in winbox's `address=`, keeps winbox.
#[test]
fn a_keep_accept_comment_on_a_rule_for_every_source_does_not_empty_the_allow_lists() {
    let text = b"# 2024-01-02 12:00:00 by RouterOS 7.16\n\
/interface list\nadd name=WAN\n\
/interface list member\nadd interface=ether1 list=WAN\n\
/ip address\nadd address=192.168.88.1/24 interface=ether2\n\
/ip service\nset winbox address=10.1.0.0/24,192.168.88.0/24\n\
/ip firewall filter\n\
add chain=input action=accept connection-state=established,related\n\
add chain=input action=accept protocol=tcp dst-port=22 src-address=0.0.0.0/0 in-interface=ether1 connection-state=new comment=tikguard:ip-keep-accept:0000000000\n\
add chain=input action=accept src-address=10.1.0.0/24\n\
add chain=input action=accept src-address=192.168.88.0/24\n\
add chain=input action=drop\n";
    let (c, parsed) = Config::load(text.to_vec());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let i = intent(&c);
    let plan = harden::plan(&c, &i);
    let script = harden::render(&plan.changes, false, "");
    let (after, proof) =
        harden::prove(text, &c, &plan.changes, &i).unwrap_or_else(|r| panic!("{}\n{script}", r.0));
    assert!(
        service_address(&after, "winbox").contains(&"10.1.0.0/24".to_string()),
        "{script}"
    );
    assert!(
        !proof.losses.iter().any(|l| l.who == "10.1.0.0/24"),
        "{:#?}\n{script}",
        proof.losses
    );
}
