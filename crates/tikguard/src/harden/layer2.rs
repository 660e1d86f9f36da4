//! Layer-2 management: MAC telnet, MAC winbox and neighbour discovery, taken off the WAN side
//! and kept on every other interface; limited to the interfaces where management lives only
//! when `--mgmt-interface` names them (narrowing the administrator asked for).
//!
//! The list that keeps them on the LAN side is `include=all exclude=<WAN list>` where the WAN
//! comes from an interface list and the target is RouterOS 7: MikroTik's Interface Lists
//! manual (https://help.mikrotik.com/docs/x/OYDSAw): `include` adds the members of the named
//! lists, `exclude` removes them, then static members are added; `/interface list add` has
//! both properties in every RouterOS 7 command tree read here (7.9 to 7.24). Elsewhere (RouterOS
//! 6, a WAN found by its default route or DHCP client) the list holds every interface the
//! configuration names that is not WAN, as static members, and the plan says that an interface
//! added later is not in it.

use routeros_config::Config;

use super::block::mgmt_interfaces;
use super::intent::Intent;
use super::order::Phase;
use super::plan::add_unique;
use super::script::{Cond, Stmt, Target};
use super::Change;
use crate::audit::exposure;

/// The list the plan creates to keep layer 2 on the LAN side.
const LAN_LIST: &str = "tikguard-lan";

/// The WAN interfaces, the ports of WAN bridges and what the audit takes as the wire beneath
/// the WAN (the interface a PPPoE client of the WAN dials over, the port under a WAN VLAN:
/// [`exposure::layer2_wan_side`]): the layer-2 side of the WAN. Bridge ports are counted here
/// and not by the audit: keeping layer 2 off them takes nothing the LAN needs.
pub(super) fn wan_side(c: &Config, wan: &[String]) -> Vec<String> {
    let mut v: Vec<String> = exposure::layer2_wan_side(c, wan);
    v.extend(
        c.items("/interface bridge port")
            .iter()
            .filter(|p| !p.is_disabled())
            .filter(|p| p.get_str("bridge").is_some_and(|b| wan.contains(&b)))
            .filter_map(|p| p.get_str("interface")),
    );
    v.extend(subscriber_side(c));
    v
}

/// The interfaces subscribers reach the router on at layer 2: those of enabled PPPoE servers
/// and hotspots ([`crate::audit::subscribers`]). Not the WAN, but not where MAC winbox belongs
/// either: a subscriber on the access segment would reach it.
fn subscriber_side(c: &Config) -> Vec<String> {
    ["/interface pppoe-server server", "/ip hotspot"]
        .iter()
        .flat_map(|m| crate::audit::subscribers::enabled_servers(c, m))
        .filter_map(|s| s.get_str("interface"))
        .collect()
}

/// Interface lists RouterOS fills at run time, whose members are not those the configuration
/// names: Detect Internet's `lan-interface-list`, `wan-interface-list` and
/// `internet-interface-list` while it monitors any interface (MikroTik's Detect Internet
/// manual: "All layer 2 interfaces initially have this state [LAN]", "Interfaces with state
/// Lan will be dynamically added to this list", and a WAN falls back to LAN when its link
/// changes: the uplink's port is in the LAN list at boot and after every link flap), and a PPP
/// profile's `interface-list`, which each session's interface joins (PPP AAA manual). Layer 2
/// restricted to such a list follows what RouterOS puts there, not what the plan proved.
fn filled_at_run_time(c: &Config) -> Vec<String> {
    let mut v: Vec<String> = crate::audit::firewall::InterfaceLists::from_config(c)
        .detected_lists()
        .map(str::to_string)
        .collect();
    v.extend(
        c.items("/ppp profile")
            .iter()
            .filter_map(|p| p.get_str("interface-list"))
            .filter(|l| !l.is_empty() && l != "none"),
    );
    v
}

/// The interfaces the configuration creates (`/interface KIND add name=`), puts on a bridge,
/// gives an address or puts in an interface list: names the router has as interfaces (not a
/// WireGuard peer, a security profile or a switch chip, which other `/interface` menus name).
pub(super) fn named_interfaces(c: &Config) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for m in c.menus() {
        if exposure::is_interface_menu(&m.path) {
            v.extend(m.items.iter().filter_map(|i| i.get_str("name")));
        }
    }
    for menu in [
        "/interface bridge port",
        "/interface list member",
        "/ip address",
        "/ipv6 address",
    ] {
        v.extend(c.items(menu).iter().filter_map(|i| i.get_str("interface")));
    }
    // Interfaces a DHCP server serves, or a firewall rule matches by name, exist on the router
    // too (a configuration shown in part names its LAN bridge there only). `all-ppp`,
    // `all-ethernet` and the like are RouterOS' names for groups, not interfaces.
    v.extend(
        c.items("/ip dhcp-server")
            .iter()
            .filter_map(|i| i.get_str("interface")),
    );
    for menu in [
        "/ip firewall filter",
        "/ip firewall nat",
        "/ip firewall mangle",
        "/ipv6 firewall filter",
    ] {
        for i in c.items(menu) {
            for k in ["in-interface", "out-interface"] {
                v.extend(i.get_str(k).filter(|n| !n.starts_with("all-")));
            }
        }
    }
    v.retain(|i| !i.is_empty() && !i.starts_with('<') && !i.starts_with('!'));
    v.sort();
    v.dedup();
    v
}

/// Every interface the configuration names ([`named_interfaces`]) that is not on the WAN side
/// ([`wan_side`]) and not in the WAN list: the static members of [`LAN_LIST`].
fn lan_interfaces(c: &Config, e: &exposure::Exposure) -> Vec<String> {
    let wan = wan_side(c, &e.wan);
    let in_wan_list = |i: &str| e.wan_list.as_ref().is_some_and(|l| e.lists.contains(l, i));
    let mut v = named_interfaces(c);
    v.retain(|i| !wan.contains(i) && !in_wan_list(i));
    v
}

/// MAC telnet, MAC winbox and neighbour discovery off the WAN side. RouterOS 6.41 introduced
/// `allowed-interface-list`; before it, the MAC server is configured per interface (`set [find
/// default=yes] disabled=yes`, `add interface=X`), which is read and written as such.
pub fn layer2(
    c: &Config,
    intent: &Intent,
    e: &exposure::Exposure,
    out: &mut Vec<Change>,
    notes: &mut Vec<String>,
) {
    if intent.mgmt_interfaces.is_empty() {
        lan_side(c, intent, e, out, notes);
    } else {
        narrowed(c, intent, e, out, notes);
    }
}

/// Which of the three settings reach the WAN: (menu, key, id, what, rule, value now).
type Need = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    String,
);

fn needs(c: &Config, reaches_wan: impl Fn(&str) -> bool) -> Vec<Need> {
    let mut needs = Vec::new();
    for (menu, key, id, what, rule) in SETTINGS {
        let have = c
            .setting(menu, key)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_else(|| "all".to_string());
        if reaches_wan(&have) {
            needs.push((menu, key, id, what, rule, have));
        }
    }
    needs
}

const SETTINGS: [(&str, &str, &str, &str, &str); 3] = [
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
];

fn set_lists(needs: Vec<Need>, list: &str, claim: bool, out: &mut Vec<Change>) {
    for (menu, key, id, what, rule, have) in needs {
        out.push(Change {
            id: id.to_string(),
            description: format!("{what} only on interface list {list}"),
            fixes: if claim { vec![rule] } else { vec![] },
            phase: Phase::Restrict,
            lines: vec![Stmt::set(menu, Target::None).arg(key, list).into()],
            guard: None,
            undo: vec![Stmt::set(menu, Target::None).arg(key, have).into()],
        });
    }
}

/// Without `--mgmt-interface`: layer 2 stays on every interface that is not WAN-facing (nor a
/// PPPoE server's or hotspot's access interface), so no LAN port loses MAC winbox or neighbour
/// discovery it has today.
fn lan_side(
    c: &Config,
    intent: &Intent,
    e: &exposure::Exposure,
    out: &mut Vec<Change>,
    notes: &mut Vec<String>,
) {
    let lists = &e.lists;
    if e.wan.is_empty() && !e.lan.is_empty() {
        // An access point or switch: no WAN side, its address on the LAN side by DHCP, where
        // MAC winbox is how it is reached when IP fails.
        notes.push(format!("MAC telnet, MAC winbox and neighbour discovery left as they are: the device looks like an access point or switch (its address by DHCP on {}, the LAN side), and there they are the way in when IP fails; narrow them to management with --mgmt-interface, or name a WAN with --wan/--wan-list if it is a router", e.lan.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")));
        return;
    }
    if e.wan.is_empty() || e.wan.iter().any(|w| w == "*") {
        // Every interface counts as WAN: keeping layer 2 off it would take it from all of them.
        notes.push("MAC telnet, MAC winbox and neighbour discovery left as they are: the WAN side is not known (no WAN list, default route or DHCP client), so the plan cannot tell which interfaces to keep them on; name it with --wan/--wan-list, or narrow them to management with --mgmt-interface (TG112/TG113 stay open)".into());
        return;
    }
    // Management on the WAN side itself (a single-bridge device: an access point or a CPE
    // whose one bridge carries both the uplink and the administrators). Layer 2 cannot be told
    // apart by source address, only by interface, and the interface is the WAN: taking it off
    // would take MAC winbox (the way back in when IP fails) from the administrators.
    let mgmt = mgmt_interfaces(c, &intent.mgmt);
    let outside = wan_side(c, &e.wan);
    let shared: Vec<&String> = mgmt.iter().filter(|i| outside.contains(i)).collect();
    if !shared.is_empty() {
        let names: Vec<String> = shared.iter().map(|i| format!("`{i}`")).collect();
        let side = if shared.iter().all(|i| e.wan.contains(i)) {
            "the WAN side (one bridge for both)"
        } else {
            "where subscribers or the WAN reach the router"
        };
        notes.push(format!("MAC telnet, MAC winbox and neighbour discovery left as they are: management lives on {}, which is also {side}, and layer 2 can only be limited by interface; limiting them there changes nothing, and `none` would take MAC winbox from the administrators (TG112/TG113 stay open). Name the interfaces with --mgmt-interface to limit them, or set them to `none` by hand", names.join(", ")));
        return;
    }
    let mut lan = lan_interfaces(c, e);
    if !intent.target.at_least(6, 41, 0) {
        // Entries of their own on WAN interfaces were put there by someone: kept, and then
        // TG112 is not claimed.
        use crate::audit::macserver::{access, MacAccess};
        let mut own: Vec<String> = Vec::new();
        for menu in ["/tool mac-server", "/tool mac-server mac-winbox"] {
            if let MacAccess::PerInterface { interfaces, .. } = access(c, menu) {
                own.extend(interfaces.into_iter().filter(|i| e.wan.contains(i)));
            }
        }
        own.sort();
        own.dedup();
        if !own.is_empty() {
            let names: Vec<String> = own.iter().map(|i| format!("`{i}`")).collect();
            notes.push(format!("the MAC server's own entries on {} left as they are: the plan takes them as WAN-facing; disable them by hand if they are (TG112 stays open)", names.join(", ")));
        }
        lan.extend(own.iter().cloned());
        layer2_per_interface(c, &e.wan, &lan, own.is_empty(), out);
        return;
    }
    // The WAN side as layer 2 sees it ([`wan_side`]): a list naming the Ethernet port a
    // PPPoE WAN dials over, or a WAN bridge's port, reaches the WAN though it names no WAN.
    let reaches_wan = |list: &str| match list {
        "none" => false,
        "all" => true,
        l if l.starts_with('!') => true,
        l => outside.iter().any(|w| lists.contains(l, w)),
    };
    // A list of its own that names a WAN interface was put there by someone (MAC winbox over a
    // link the detection calls WAN): kept, as allow-lists are, with a note. Only the settings
    // that reach the WAN because they are on everywhere (`all`, `static`, `!LIST`) change.
    let (needs, named): (Vec<Need>, Vec<Need>) = needs(c, reaches_wan)
        .into_iter()
        .partition(|n| n.5 == "all" || n.5 == "static" || n.5.starts_with('!'));
    for (_, _, _, what, rule, have) in &named {
        let on: Vec<String> = outside
            .iter()
            .filter(|w| lists.contains(have, w))
            .map(|w| format!("`{w}`"))
            .collect();
        notes.push(format!("{what} left on interface list `{have}` as it is: it names {}, which the plan takes as WAN-facing; remove them from the list by hand if they are (and give --mgmt-interface to narrow it to management) ({rule} stays open)", on.join(", ")));
    }
    if needs.is_empty() {
        return;
    }
    // No LAN-side interface named anywhere (a fragment of a configuration): a list for them
    // would be empty, and MAC winbox off everywhere, the administrators' LAN included.
    if lan.is_empty() {
        notes.push("MAC telnet, MAC winbox and neighbour discovery left as they are: the configuration names no interface on the LAN side to keep them on (TG112/TG113 stay open); narrow them with --mgmt-interface".into());
        return;
    }
    // An existing list holding no WAN and every LAN-side interface, and whose members are
    // the configuration's ([`filled_at_run_time`]); else ours.
    let filled = filled_at_run_time(c);
    let existing = c
        .items("/interface list")
        .iter()
        .filter_map(|l| l.get_str("name"))
        .find(|l| {
            !reaches_wan(l) && !filled.contains(l) && lan.iter().all(|i| lists.contains(l, i))
        });
    let list = match existing {
        Some(l) => l,
        None => {
            let name = LAN_LIST.to_string();
            let have = c
                .items("/interface list")
                .iter()
                .any(|l| l.get_str("name").as_deref() == Some(name.as_str()));
            // Subscribers' access interfaces are left out too: only the members one by one can.
            // So is a WAN side the WAN list does not hold whole (the port a PPPoE client dials
            // over, a WAN bridge's ports): `exclude=` would leave it in.
            // And so is a WAN list RouterOS fills at run time: what it leaves out is taken in.
            let exclude = e.wan_list.clone().filter(|wl| {
                intent.target.at_least(7, 0, 0)
                    && !filled.contains(wl)
                    && subscriber_side(c).is_empty()
                    && outside.iter().all(|w| lists.contains(wl, w))
            });
            match exclude {
                Some(wl) if !have => {
                    out.push(add_unique(
                        "/interface list",
                        "lan-list",
                        vec![
                            ("name", name.clone()),
                            ("include", "all".into()),
                            ("exclude", wl.clone()),
                        ],
                        &["name"],
                        true,
                        format!("interface list `{name}`: every interface but those of `{wl}`, the WAN side"),
                        Phase::Prepare,
                    ));
                }
                _ => {
                    if !have {
                        out.push(add_unique(
                            "/interface list",
                            "lan-list",
                            vec![("name", name.clone())],
                            &["name"],
                            true,
                            format!("interface list `{name}`: every interface that is not WAN nor subscribers' access"),
                            Phase::Prepare,
                        ));
                    }
                    for i in &lan {
                        if !lists.contains(&name, i) {
                            out.push(add_unique(
                                "/interface list member",
                                &format!("lan-member:{i}"),
                                vec![("list", name.clone()), ("interface", i.clone())],
                                &["list", "interface"],
                                true,
                                format!("`{i}` in interface list `{name}`"),
                                Phase::Prepare,
                            ));
                        }
                    }
                    notes.push(format!("MAC telnet, MAC winbox and neighbour discovery kept on every interface this configuration names that is not WAN nor a PPPoE server's or hotspot's (interface list `{name}`, its members one by one); an interface added later is not in it until added by hand"));
                }
            }
            name
        }
    };
    set_lists(needs, &list, true, out);
}

/// `--mgmt-interface` given: limited to the interfaces named, as asked.
fn narrowed(
    c: &Config,
    intent: &Intent,
    e: &exposure::Exposure,
    out: &mut Vec<Change>,
    notes: &mut Vec<String>,
) {
    let lists = &e.lists;
    let mut ifaces = intent.mgmt_interfaces.clone();
    ifaces.sort();
    ifaces.dedup();
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
    let shared: Vec<&String> = ifaces.iter().filter(|i| e.wan.contains(i)).collect();
    // Named with --mgmt-interface although it is WAN: limited as asked, but not claimed.
    let claim = shared.is_empty();
    if !claim {
        let names: Vec<String> = shared.iter().map(|i| format!("`{i}`")).collect();
        notes.push(format!("MAC telnet, MAC winbox and neighbour discovery limited to the --mgmt-interface interfaces as asked; {} is also the WAN side, so TG112/TG113 stay open there", names.join(", ")));
    }
    if !intent.target.at_least(6, 41, 0) {
        layer2_per_interface(c, &e.wan, &ifaces, claim, out);
        return;
    }
    let needs = needs(c, reaches_wan);
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
    set_lists(needs, &list, claim, out);
}

/// Before 6.41 ([`crate::audit::macserver`]): entries per interface. The MAC server stays on
/// exactly the interfaces of `ifaces` (the LAN side, or those `--mgmt-interface` names) that had
/// it: their entries are added first
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
