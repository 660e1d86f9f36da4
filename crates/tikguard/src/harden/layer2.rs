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

/// Before 6.41 ([`crate::audit::macserver`]): entries per interface. The MAC server stays on
/// exactly the interfaces where management lives that had it: their entries are added first
/// (while the default entry still covers them), then the default entry and the entries of
/// other interfaces are disabled. Each step is its own change, so the undo restores the default
/// entry as it was, enables what was disabled, and removes the entries it added.
fn layer2_per_interface(
    c: &Config,
    wan: &[String],
    ifaces: &[String],
    claim: bool,
    out: &mut Vec<Change>,
) {
    use crate::audit::macserver::{access, MacAccess};
    for (menu, id, what) in [
        ("/tool mac-server", "mac-server", "MAC telnet"),
        ("/tool mac-server mac-winbox", "mac-winbox", "MAC winbox"),
    ] {
        let MacAccess::PerInterface { all, interfaces } = access(c, menu) else {
            continue;
        };
        if !all && !interfaces.iter().any(|i| wan.contains(i)) {
            continue;
        }
        let fixes = || if claim { vec!["TG112"] } else { vec![] };
        let items = c.items(menu);
        if all {
            for i in ifaces {
                if items
                    .iter()
                    .any(|x| x.get_str("interface").as_deref() == Some(i.as_str()))
                {
                    continue;
                }
                let mut ch = add_unique(
                    menu,
                    &format!("{id}-on:{i}"),
                    vec![("interface", i.clone())],
                    &["interface"],
                    false,
                    format!("{what} on `{i}`, where management lives (RouterOS before 6.41 sets it per interface)"),
                    Phase::Restrict,
                );
                ch.fixes = fixes();
                out.push(ch);
            }
            let default = Target::Find(vec![Cond::eq("default", "yes")]);
            out.push(Change {
                id: format!("{id}-default-off"),
                description: format!(
                    "{what} no longer on every interface: its default entry disabled (RouterOS before 6.41)"
                ),
                fixes: fixes(),
                phase: Phase::Restrict,
                lines: vec![Stmt::set(menu, default.clone()).arg("disabled", "yes").into()],
                guard: None,
                undo: vec![Stmt::set(menu, default).arg("disabled", "no").into()],
            });
        }
        for i in &interfaces {
            if ifaces.contains(i) {
                continue;
            }
            let target = Target::Find(vec![Cond::eq("interface", i)]);
            out.push(Change {
                id: format!("{id}-off:{i}"),
                description: format!("{what} off on `{i}`, where management does not live"),
                fixes: fixes(),
                phase: Phase::Restrict,
                lines: vec![Stmt::set(menu, target.clone())
                    .arg("disabled", "yes")
                    .into()],
                guard: None,
                undo: vec![Stmt::set(menu, target).arg("disabled", "no").into()],
            });
        }
    }
}
