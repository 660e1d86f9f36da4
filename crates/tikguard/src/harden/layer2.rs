//! Layer-2 management: MAC telnet, MAC winbox and neighbour discovery, limited to the
//! interfaces where management lives (found from `--mgmt`, or named by `--mgmt-interface`).

use routeros_config::Config;

use super::block::mgmt_interfaces;
use super::intent::Intent;
use super::order::Phase;
use super::plan::add_unique;
use super::script::{Cond, Stmt, Target};
use super::Change;
use crate::audit::exposure;

/// MAC telnet, MAC winbox and neighbour discovery limited to the interfaces where management
/// lives. RouterOS 6.41 introduced `allowed-interface-list`; before it, the MAC server is
/// configured per interface (`set [find default=yes] disabled=yes`, `add interface=X`), which
/// is read and written as such.
pub fn layer2(
    c: &Config,
    intent: &Intent,
    e: &exposure::Exposure,
    out: &mut Vec<Change>,
    notes: &mut Vec<String>,
) {
    let lists = &e.lists;
    let ifaces = if intent.mgmt_interfaces.is_empty() {
        mgmt_interfaces(c, &intent.mgmt)
    } else {
        let mut v = intent.mgmt_interfaces.clone();
        v.sort();
        v.dedup();
        v
    };
    if ifaces.is_empty() {
        // `none` would take MAC winbox, the administrators' way back in when IP fails, from
        // every interface: not done without being told where management lives.
        notes.push("MAC telnet, MAC winbox and neighbour discovery left as they are: no address of the router lies inside --mgmt (an access point that takes its address by DHCP, say); name the management interface with --mgmt-interface to limit them (TG112/TG113 stay open)".into());
        return;
    }
    // With the WAN unknown (`*`), a list holding only interfaces where management lives is the
    // one this plan would choose: taken as not reaching the WAN, so a second plan is empty.
    let only_mgmt = |l: &str| {
        let m = lists.members(l);
        !m.is_empty() && m.iter().all(|i| ifaces.contains(i))
    };
    let reaches_wan = |list: &str| match list {
        "none" => false,
        "all" => true,
        l if l.starts_with('!') => true,
        l => e
            .wan
            .iter()
            .any(|w| (w == "*" && !only_mgmt(l)) || lists.contains(l, w)),
    };
    // Management on the WAN side itself (a single-bridge device: an access point or a CPE
    // whose one bridge carries both the uplink and the administrators). Layer 2 cannot be told
    // apart by source address, only by interface, and the interface is the WAN: limiting it
    // there changes nothing, `none` takes MAC winbox (the way back in when IP fails) from the
    // administrators. Left as it is unless --mgmt-interface names the interfaces; the firewall
    // is planned with the --mgmt sources alone, as everywhere.
    let shared: Vec<&String> = ifaces.iter().filter(|i| e.wan.contains(i)).collect();
    if !shared.is_empty() && intent.mgmt_interfaces.is_empty() {
        let names: Vec<String> = shared.iter().map(|i| format!("`{i}`")).collect();
        notes.push(format!("MAC telnet, MAC winbox and neighbour discovery left as they are: management lives on {}, which is also the WAN side (one bridge for both), and layer 2 can only be limited by interface; limiting them there changes nothing, and `none` would take MAC winbox from the administrators (TG112/TG113 stay open). Name the interfaces with --mgmt-interface to limit them, or set them to `none` by hand", names.join(", ")));
        return;
    }
    // Named with --mgmt-interface although it is WAN: limited as asked, but not claimed.
    let claim = shared.is_empty();
    if !claim {
        let names: Vec<String> = shared.iter().map(|i| format!("`{i}`")).collect();
        notes.push(format!("MAC telnet, MAC winbox and neighbour discovery limited to the --mgmt-interface interfaces as asked; {} is also the WAN side, so TG112/TG113 stay open there", names.join(", ")));
    }
    let per_interface = !intent.target.at_least(6, 41, 0);
    if per_interface {
        layer2_per_interface(c, &e.wan, &ifaces, claim, out);
        return;
    }
    let mut needs = Vec::new();
    for (menu, key, id, what, rule) in [
        (
            "/tool mac-server",
            "allowed-interface-list",
            "mac-server",
            "MAC telnet",
            "TG112",
        ),
        (
            "/tool mac-server mac-winbox",
            "allowed-interface-list",
            "mac-winbox",
            "MAC winbox",
            "TG112",
        ),
        (
            "/ip neighbor discovery-settings",
            "discover-interface-list",
            "discovery",
            "neighbor discovery",
            "TG113",
        ),
    ] {
        let have = c
            .setting(menu, key)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_else(|| "all".to_string());
        if reaches_wan(&have) {
            needs.push((menu, key, id, what, rule, have));
        }
    }
    if needs.is_empty() {
        return;
    }
    // A list holding exactly the management interfaces and no WAN: an existing one, or ours.
    let list = {
        let existing = c
            .items("/interface list")
            .iter()
            .filter_map(|l| l.get_str("name"))
            .find(|l| lists.members(l) == ifaces && !e.wan.iter().any(|w| lists.contains(l, w)));
        match existing {
            Some(l) => l,
            None => {
                let name = "tikguard-mgmt".to_string();
                if !c
                    .items("/interface list")
                    .iter()
                    .any(|l| l.get_str("name").as_deref() == Some(name.as_str()))
                {
                    out.push(add_unique(
                        "/interface list",
                        "mgmt-list",
                        vec![("name", name.clone())],
                        &["name"],
                        true,
                        format!("interface list `{name}`: the interfaces where management lives"),
                        Phase::Prepare,
                    ));
                }
                for i in &ifaces {
                    if !lists.members(&name).contains(i) {
                        out.push(add_unique(
                            "/interface list member",
                            &format!("mgmt-member:{i}"),
                            vec![("list", name.clone()), ("interface", i.clone())],
                            &["list", "interface"],
                            true,
                            format!("`{i}` in interface list `{name}`"),
                            Phase::Prepare,
                        ));
                    }
                }
                name
            }
        }
    };
    for (menu, key, id, what, rule, have) in needs {
        out.push(Change {
            id: id.to_string(),
            description: format!("{what} only on interface list {list}"),
            fixes: if claim { vec![rule] } else { vec![] },
            phase: Phase::Restrict,
            lines: vec![Stmt::set(menu, Target::None).arg(key, list.clone()).into()],
            guard: None,
            undo: vec![Stmt::set(menu, Target::None).arg(key, have).into()],
        });
    }
}

fn layer2_per_interface(
    c: &Config,
    wan: &[String],
    ifaces: &[String],
    claim: bool,
    out: &mut Vec<Change>,
) {
    for (menu, what) in [
        ("/tool mac-server", "MAC telnet"),
        ("/tool mac-server mac-winbox", "MAC winbox"),
    ] {
        let items = c.items(menu);
        let default_on = !items.iter().any(|i| {
            (i.get("default") == Some(b"yes") || i.builtin || i.get("interface") == Some(b"all"))
                && i.is_disabled()
        });
        let wan_on = items
            .iter()
            .any(|i| !i.is_disabled() && i.get_str("interface").is_some_and(|n| wan.contains(&n)));
        if !default_on && !wan_on {
            continue;
        }
        let mut lines = vec![
            Stmt::set(menu, Target::Find(vec![Cond::eq("default", "yes")]))
                .arg("disabled", "yes")
                .into(),
        ];
        for i in ifaces {
            if !items
                .iter()
                .any(|x| x.get_str("interface").as_deref() == Some(i.as_str()))
            {
                lines.push(Stmt::add(menu).arg("interface", i.clone()).into());
            }
        }
        out.push(Change {
            id: format!("{}-per-interface", if what == "MAC telnet" { "mac-server" } else { "mac-winbox" }),
            description: format!(
                "{what} only on the interfaces where management lives ({}), per interface as RouterOS before 6.41 configures it",
                if ifaces.is_empty() { "none".into() } else { ifaces.join(", ") }
            ),
            fixes: if claim { vec!["TG112"] } else { vec![] },
            phase: Phase::Restrict,
            lines,
            guard: None,
            undo: vec![Stmt::set(menu, Target::Find(vec![Cond::eq("default", "yes")])).arg("disabled", "no").into()],
        });
    }
}
