#![doc = include_str!("docs/TG124.md")]

use routeros_config::Item;

use super::*;
use crate::audit::exposure::{service_state, SERVICES};
use crate::audit::firewall::Probe;
use crate::ros::script::value;

pub const RULE: Rule = Rule {
    id: "TG124",
    name: "open-wifi-reaches-management",
    severity: Severity::High,
    summary: "an open Wi-Fi network reaches the router's management services",
    doc: include_str!("docs/TG124.md"),
    check,
};

/// An open access point: its interface, SSID, and the fix that gives it a key.
struct OpenAp {
    item_name: String,
    /// `default-authentication=no`: only stations in the access list associate.
    mac_filtered: bool,
    ssid: Option<String>,
    fix: String,
    /// Where its clients reach the router, when not the interface's bridge (CAPsMAN).
    net: Option<String>,
}

fn legacy_open(c: &Config) -> Vec<(OpenAp, &Item)> {
    let mut out = Vec::new();
    for w in c.items("/interface wireless") {
        if w.get("disabled") != Some(b"no")
            || !matches!(w.get("mode"), Some(b"ap-bridge" | b"bridge" | b"wds-slave"))
        {
            continue;
        }
        let Some(name) = w.get_str("name") else {
            continue;
        };
        let profile = w
            .get_str("security-profile")
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "default".into());
        let menu = c.menu("/interface wireless security-profiles");
        let item = menu.and_then(|m| m.by_name(&profile)).or_else(|| {
            // `set [ find default=yes ]` names no profile: the built-in `default`.
            (profile == "default")
                .then(|| menu.and_then(|m| m.items.iter().find(|i| i.get("name").is_none())))
                .flatten()
        });
        let mode = item.and_then(|i| i.get("mode")).unwrap_or(b"none");
        if mode != b"none" {
            continue;
        }
        out.push((
            OpenAp {
                mac_filtered: w.get("default-authentication") == Some(b"no"),
                ssid: w.get_str("ssid"),
                fix: format!(
                    "/interface wireless security-profiles set [ find name={} ] mode=dynamic-keys authentication-types=wpa2-psk wpa2-pre-shared-key=<passphrase>",
                    value(&profile)
                ),
                item_name: name,
                net: None,
            },
            w,
        ));
    }
    out
}

fn wifi_open(c: &Config) -> Vec<(OpenAp, &Item)> {
    let mut out = Vec::new();
    for w in c.items("/interface wifi") {
        if w.get("disabled") != Some(b"no") {
            continue;
        }
        let mode = w.get("configuration.mode").unwrap_or(b"ap");
        if mode != b"ap" {
            continue;
        }
        let Some(name) = w.get_str("name") else {
            continue;
        };
        let set = |v: Option<&[u8]>| v.is_some_and(|v| !v.is_empty());
        let mut secured =
            set(w.get("security.authentication-types")) || set(w.get("security.passphrase"));
        if let Some(p) = w.get_str("security").filter(|p| !p.is_empty()) {
            if let Some(prof) = c
                .menu("/interface wifi security")
                .and_then(|m| m.by_name(&p))
            {
                secured |= set(prof.get("authentication-types")) || set(prof.get("passphrase"));
            } else {
                // A profile the export does not show: not decided, so not reported.
                secured = true;
            }
        }
        if secured {
            continue;
        }
        out.push((
            OpenAp {
                mac_filtered: false,
                ssid: w.get_str("configuration.ssid"),
                fix: format!(
                    "/interface wifi set [ find name={} ] security.authentication-types=wpa2-psk,wpa3-psk security.passphrase=<passphrase>",
                    value(&name)
                ),
                item_name: name,
                net: None,
            },
            w,
        ));
    }
    out
}

/// CAPsMAN v1 (`/caps-man`, RouterOS 6 to 7.12): a configuration that an enabled provisioning
/// rule hands to access points, whose security (inline `security.*` or a `/caps-man security`
/// profile) sets neither `authentication-types` nor `passphrase`, forwarded by the manager into
/// a bridge (`datapath.bridge=` or a datapath profile's `bridge=`, without local forwarding).
/// MikroTik's CAPsMAN manual: security `authentication-types` lists the allowed methods, none
/// meaning an open network; the manager is off unless `enabled=yes`; a provisioning rule's
/// `action` defaults to `none`; with `local-forwarding=no` (the default) clients' traffic is
/// sent to the manager and put into the datapath's bridge.
fn capsman_open(c: &Config) -> Vec<(OpenAp, &Item)> {
    let mut out = Vec::new();
    if c.setting("/caps-man manager", "enabled") != Some(b"yes") {
        return out;
    }
    let provisioned = |name: &str| {
        c.items("/caps-man provisioning").iter().any(|p| {
            !p.is_disabled()
                && p.get_str("action")
                    .is_some_and(|a| a.starts_with("create-") && a != "create-disabled")
                && (p.get("master-configuration") == Some(name.as_bytes())
                    || p.get("slave-configurations")
                        .is_some_and(|l| l.split(|&b| b == b',').any(|x| x == name.as_bytes())))
        })
    };
    let set = |v: Option<&[u8]>| v.is_some_and(|v| !v.is_empty());
    for cfg in c.items("/caps-man configuration") {
        let Some(name) = cfg.get_str("name") else {
            continue;
        };
        if !provisioned(&name) {
            continue;
        }
        let mut secured =
            set(cfg.get("security.authentication-types")) || set(cfg.get("security.passphrase"));
        if let Some(p) = cfg.get_str("security").filter(|p| !p.is_empty()) {
            match c.menu("/caps-man security").and_then(|m| m.by_name(&p)) {
                Some(prof) => {
                    secured |= set(prof.get("authentication-types")) || set(prof.get("passphrase"))
                }
                // A profile the export does not show: not decided, so not reported.
                None => secured = true,
            }
        }
        if secured {
            continue;
        }
        let profile = cfg
            .get_str("datapath")
            .filter(|d| !d.is_empty())
            .and_then(|d| c.menu("/caps-man datapath").and_then(|m| m.by_name(&d)));
        let get = |key: &str| {
            cfg.get_str(&format!("datapath.{key}"))
                .or_else(|| profile.and_then(|p| p.get_str(key)))
                .filter(|v| !v.is_empty())
        };
        if get("local-forwarding").as_deref() == Some("yes") {
            continue;
        }
        let Some(bridge) = get("bridge") else {
            continue;
        };
        out.push((
            OpenAp {
                mac_filtered: false,
                ssid: cfg.get_str("ssid"),
                fix: match cfg.get_str("security").filter(|p| !p.is_empty()) {
                    Some(p) => format!(
                        "/caps-man security set [ find name={} ] authentication-types=wpa2-psk encryption=aes-ccm passphrase=<passphrase>",
                        value(&p)
                    ),
                    None => format!(
                        "/caps-man configuration set [ find name={} ] security.authentication-types=wpa2-psk security.encryption=aes-ccm security.passphrase=<passphrase>",
                        value(&name)
                    ),
                },
                item_name: format!("CAPsMAN configuration {name}"),
                net: Some(bridge),
            },
            cfg,
        ));
    }
    out
}

/// The interface the AP's clients reach the router on: the bridge it is a port of, else itself.
fn network_of(c: &Config, wifi: &Item, name: &str) -> String {
    if let Some(b) = wifi.get_str("datapath.bridge").filter(|b| !b.is_empty()) {
        return b;
    }
    c.items("/interface bridge port")
        .iter()
        .filter(|p| {
            !p.is_disabled()
                && matches!(p.get("interface"), Some(i) if i == name.as_bytes() || i == b"all")
        })
        .find_map(|p| p.get_str("bridge"))
        .unwrap_or_else(|| name.to_string())
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let c = cx.config;
    let hotspot_on = |n: &str| {
        crate::audit::subscribers::enabled_servers(c, "/ip hotspot")
            .any(|h| h.get("interface") == Some(n.as_bytes()))
    };
    for (ap, item) in legacy_open(c)
        .into_iter()
        .chain(wifi_open(c))
        .chain(capsman_open(c))
    {
        let net = ap
            .net
            .clone()
            .unwrap_or_else(|| network_of(c, item, &ap.item_name));
        if hotspot_on(&net) || hotspot_on(&ap.item_name) {
            continue;
        }
        let mut reached: Vec<&str> = Vec::new();
        let mut approx: Vec<usize> = Vec::new();
        for &svc in SERVICES {
            let Some((port, true, allowed)) = service_state(c, svc, false) else {
                continue;
            };
            let ev = cx.exposure.v4.evaluate(
                Probe {
                    protocol: "tcp",
                    port,
                    interface: &net,
                },
                &cx.exposure.lists,
            );
            if !ev.accepted.intersect(&allowed).is_empty() {
                reached.push(svc);
                approx.extend(ev.approximations);
            }
        }
        if reached.is_empty() {
            continue;
        }
        approx.sort_unstable();
        approx.dedup();
        let shown = |s: &str| crate::term::printable(s).into_owned();
        let ssid = ap
            .ssid
            .as_deref()
            .map(|s| format!(" (SSID `{}`)", shown(s)))
            .unwrap_or_default();
        let via = if net == ap.item_name {
            String::new()
        } else {
            format!(" is bridged into `{}`, where it", shown(&net))
        };
        let list: Vec<String> = reached.iter().map(|s| format!("`{s}`")).collect();
        // With `default-authentication=no` only the access list's MAC addresses associate;
        // they travel in clear on an open network and can be copied, so it is medium, not none.
        let (severity, who) = if ap.mac_filtered {
            (
                Severity::Medium,
                "a station that copies an allowed MAC address (the access list is the only gate; the traffic is unencrypted)",
            )
        } else {
            (RULE.severity, "anyone in radio range")
        };
        let mut f = cx.finding(
            &RULE,
            Some(item),
            // The `disabled=no` that turned it on: every open AP reported has it.
            Some("disabled"),
            format!(
                "open Wi-Fi `{}`{ssid} has no security and{via} reaches {}: {who} can try the router's passwords{}",
                shown(&ap.item_name),
                list.join(", "),
                approximation_note(&approx, &[])
            ),
            vec![ap.fix],
        );
        f.severity = severity;
        out.push(f);
    }
}
