//! The menus the analysis reads: every menu an audit rule, the exposure analysis or the
//! hardening planner looks at. `audit --live` and `harden --live` read exactly these from a
//! router ([`crate::live`]), so a rule that reads a menu missing here sees nothing live while it
//! sees the export: the test below fails when a rule names a menu this list lacks, and the
//! live-parity test (`tests/live_parity.rs`) when the live audit of any corpus export differs
//! from its file audit.

/// (menu as the model names it, items RouterOS has before any configuration). The built-in
/// items are written back as `set [ find name=... ]`, the rest as `add`.
pub const READ: &[(&str, &[&str])] = &[
    ("/interface", &[]),
    ("/interface list", &["all", "none", "dynamic", "static"]),
    ("/interface list member", &[]),
    // Which lists Detect Internet fills at run time: the firewall reads them as undecided
    // (`audit::firewall::InterfaceLists`), and harden's layer 2 never rests on them.
    ("/interface detect-internet", &[]),
    ("/interface ethernet", &[]),
    ("/interface vlan", &[]),
    // A WAN port in a bridge is its bridge for IP (`audit::exposure`).
    ("/interface bridge", &[]),
    ("/interface bridge port", &[]),
    // A CAP's DHCP side is the LAN it serves (`audit::exposure`).
    ("/interface wireless cap", &[]),
    ("/interface wifi cap", &[]),
    ("/interface wireless", &[]),
    ("/interface wireless security-profiles", &[]),
    ("/interface wifi", &[]),
    ("/interface wifi security", &[]),
    ("/interface wifiwave2", &[]),
    // CAPsMAN v1's access points (TG124).
    ("/caps-man manager", &[]),
    ("/caps-man configuration", &[]),
    ("/caps-man security", &[]),
    ("/caps-man datapath", &[]),
    ("/caps-man provisioning", &[]),
    // Where the WAN address comes from.
    ("/ip address", &[]),
    ("/ip route", &[]),
    ("/ip vrf", &[]),
    ("/ip dhcp-client", &[]),
    // The interfaces it serves: layer 2's LAN side where nothing else names them.
    ("/ip dhcp-server", &[]),
    ("/interface pppoe-client", &[]),
    ("/interface l2tp-client", &[]),
    ("/interface sstp-client", &[]),
    ("/interface ovpn-client", &[]),
    // A tunnel in clear (TG125).
    ("/interface ovpn-server server", &[]),
    ("/interface pptp-client", &[]),
    // Tunnels: their own zone, with their peers and whether they encrypt (`audit::tunnel`).
    ("/interface wireguard", &[]),
    ("/interface wireguard peers", &[]),
    ("/interface eoip", &[]),
    ("/interface eoipv6", &[]),
    ("/interface gre", &[]),
    ("/interface gre6", &[]),
    ("/interface ipip", &[]),
    ("/interface ipipv6", &[]),
    // IPsec policies that carry connections to the router, and their peers (`audit::tunnel`).
    ("/ip ipsec policy", &[]),
    ("/ip ipsec peer", &[]),
    // IPv6: a global address on the WAN side makes the services reachable beyond the link.
    ("/ipv6 settings", &[]),
    ("/ipv6 address", &[]),
    ("/ipv6 dhcp-client", &[]),
    ("/ipv6 pool", &[]),
    // The subscriber zone (`audit::subscribers`).
    ("/interface pppoe-server server", &[]),
    ("/interface sstp-server server", &[]),
    ("/ppp profile", &["default", "default-encryption"]),
    ("/ppp secret", &[]),
    ("/ppp aaa", &[]),
    ("/ip pool", &[]),
    ("/ip hotspot", &[]),
    (
        "/ip service",
        &[
            "telnet",
            "ftp",
            "www",
            "ssh",
            "www-ssl",
            "api",
            "winbox",
            "api-ssl",
            "reverse-proxy",
        ],
    ),
    // Firewalls: filter decides, raw drops before it, mangle and raw fill address lists.
    ("/ip firewall filter", &[]),
    ("/ip firewall raw", &[]),
    ("/ip firewall mangle", &[]),
    ("/ip firewall address-list", &[]),
    // NAT: a redirect or dst-nat to the router is a service in use (`harden::used`).
    ("/ip firewall nat", &[]),
    // `enabled=no` makes every `connection-state=` matcher inert (`audit::firewall`).
    ("/ip firewall connection tracking", &[]),
    ("/ipv6 firewall filter", &[]),
    ("/ipv6 firewall raw", &[]),
    ("/ipv6 firewall mangle", &[]),
    ("/ipv6 firewall address-list", &[]),
    ("/ipv6 firewall nat", &[]),
    ("/user group", &["read", "write", "full"]),
    ("/user", &["admin"]),
    ("/user settings", &[]),
    ("/certificate", &[]),
    ("/system logging", &[]),
    (
        "/system logging action",
        &["memory", "disk", "echo", "remote"],
    ),
    ("/system identity", &[]),
    ("/system script", &[]),
    ("/system scheduler", &[]),
    ("/ip ssh", &[]),
    ("/ip dns", &[]),
    ("/ip socks", &[]),
    ("/ip proxy", &[]),
    ("/ip upnp", &[]),
    ("/ip upnp interfaces", &[]),
    ("/snmp", &[]),
    ("/snmp community", &[]),
    ("/tool mac-server", &[]),
    ("/tool mac-server mac-winbox", &[]),
    ("/ip neighbor discovery-settings", &[]),
    ("/tool bandwidth-server", &[]),
    ("/tool romon", &[]),
    ("/dude", &[]),
];

/// Whether the analysis reads `menu`.
pub fn is_read(menu: &str) -> bool {
    READ.iter().any(|(m, _)| *m == menu)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Menu paths (as the command schema knows them) named by a string literal in `src`.
    fn menus_named(src: &str, known: &std::collections::HashSet<&str>) -> Vec<String> {
        src.split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| s.starts_with('/') && known.contains(s))
            .map(str::to_string)
            .collect()
    }

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// Every menu the audit and the planner name is read live. Prefixes that are not read
    /// themselves (`/ip`, `/ipv6`, `/ip firewall`: joined with a table name) are left out.
    #[test]
    fn every_menu_a_rule_or_the_planner_names_is_read_live() {
        let schema = include_str!("emu/menus.txt");
        let known: std::collections::HashSet<&str> =
            schema.lines().filter(|l| l.starts_with('/')).collect();
        let prefixes = ["/ip", "/ipv6", "/ip firewall", "/ipv6 firewall"];
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src.join("audit"), &mut files);
        rust_files(&src.join("harden"), &mut files);
        assert!(files.len() > 40, "{} files", files.len());
        let mut missing = Vec::new();
        let mut seen = 0;
        for f in &files {
            for m in menus_named(&std::fs::read_to_string(f).unwrap(), &known) {
                seen += 1;
                // Menus only a running router has (`/log`, `/user ssh-keys`) are read apart,
                // by `audit::running`, not into the export.
                let running = crate::audit::running::READS
                    .iter()
                    .any(|(p, _)| format!("/{}", p[1..].replace('/', " ")) == m);
                if !is_read(&m) && !prefixes.contains(&m.as_str()) && !running {
                    missing.push(format!("{}: {m}", f.display()));
                }
            }
        }
        assert!(seen > 50, "only {seen} menu names found");
        assert!(missing.is_empty(), "not read live: {missing:?}");
    }

    /// The check above finds a menu this list lacks.
    #[test]
    fn a_menu_missing_from_the_list_is_found() {
        let known: std::collections::HashSet<&str> = ["/ip cloud", "/ip address"].into();
        let named = menus_named(
            r#"c.items("/ip cloud"); c.items("/ip address"); "/not a menu""#,
            &known,
        );
        assert_eq!(named, ["/ip cloud", "/ip address"]);
        assert!(!is_read("/ip cloud") && is_read("/ip address"));
    }

    /// Every menu read exists in RouterOS' command tree (7.9-7.24), so its API path is real;
    /// `/interface wifiwave2` and `/dude` belong to packages outside the base tree the schema
    /// holds (a router without them answers a trap, and `live` goes on).
    #[test]
    fn every_menu_read_is_in_routeros_command_tree() {
        let schema = include_str!("emu/menus.txt");
        for (m, _) in READ
            .iter()
            .filter(|(m, _)| !["/interface wifiwave2", "/dude"].contains(m))
        {
            assert!(schema.lines().any(|l| l == *m), "{m}");
        }
    }
}
