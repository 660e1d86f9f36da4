//! Services the configuration plainly uses: `www`, `ftp`, the bandwidth-test server and the
//! web and SOCKS proxies are turned off only when nothing in the configuration points at them.
//!
//! Plain use, as the configuration shows it:
//! - an enabled `input` accept naming the service's port in `dst-port=` (an operator opened the
//!   port on purpose; an accept of every port is not a use of this one);
//! - an enabled `/ip firewall nat` rule whose `to-ports=` holds the port (`redirect`, or a
//!   `dst-nat` towards the router): a port forward to the service.
//!
//! Approximated: a script fetching from the router itself, or users reaching the service
//! through a rule that accepts everything, are not seen.

use routeros_config::value::parse_addr;
use routeros_config::Config;

use super::intent::Prefix;
use crate::audit::addrset::AddrSet;
use crate::audit::exposure::service_state;
use crate::audit::firewall::{Action, Firewall};
use crate::audit::reach::{Reach, Width};

/// How a service is used.
pub struct Use {
    /// What shows it, for the note.
    pub why: String,
    /// The narrow sources that use it; `None` when some use is open to any source (a port
    /// forward, an accept without a narrow source): then it is left as it is.
    pub sources: Option<Vec<Prefix>>,
}

/// Whether `ports` (`to-ports=`: a port, a range, a list) holds `port`.
fn holds(ports: &str, port: u16) -> bool {
    ports.split(',').any(|p| match p.split_once('-') {
        Some((a, b)) => match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
            (Ok(a), Ok(b)) => (a..=b).contains(&port),
            _ => false,
        },
        None => p.trim().parse::<u16>() == Ok(port),
    })
}

/// How the configuration uses the service on `port` (`svc` names it in the note), if it does.
pub fn uses_port(c: &Config, port: u16, protocols: &[&str]) -> Option<Use> {
    let mut why: Vec<String> = Vec::new();
    let mut sources: Option<Vec<Prefix>> = Some(Vec::new());
    for v6 in [false, true] {
        let fw = Firewall::from_config(c, v6);
        let fam = if v6 { "ipv6" } else { "ip" };
        let menu = format!("/{fam} firewall filter");
        let items = c.items(&menu);
        for r in fw.chain("input") {
            if r.action != Action::Accept || !r.names_port(port) {
                continue;
            }
            let proto_ok = items
                .get(r.number)
                .and_then(|i| i.get_str("protocol"))
                .is_none_or(|p| protocols.contains(&p.as_str()));
            if !proto_ok {
                continue;
            }
            let label = items
                .get(r.number)
                .and_then(|i| i.get_str("comment"))
                .map(|cm| format!("{fam} filter rule {} \"{cm}\"", r.number))
                .unwrap_or_else(|| format!("{fam} filter rule {}", r.number));
            why.push(format!("{label} accepts its port"));
            let narrow = r.src().filter(|s| {
                !s.is_empty()
                    && Reach::of(s).width() != Width::Public
                    && r.src_list
                        .as_ref()
                        .is_none_or(|(neg, l)| !neg && !fw.lists.filled_at_run_time(l))
            });
            match (narrow, sources.as_mut()) {
                (Some(s), Some(v)) => {
                    for p in s.to_prefixes() {
                        if let Ok(p) = Prefix::parse(&p) {
                            if !v.iter().any(|q| q.text == p.text) {
                                v.push(p);
                            }
                        }
                    }
                }
                _ => sources = None,
            }
        }
    }
    for (fam, menu) in [("ip", "/ip firewall nat"), ("ipv6", "/ipv6 firewall nat")] {
        for (n, i) in c.items(menu).iter().enumerate() {
            if i.is_disabled() {
                continue;
            }
            let action = i.get_str("action").unwrap_or_default();
            let towards_router = action == "redirect"
                || (action == "dst-nat" && i.get("to-addresses").is_some_and(|a| own(c, a)));
            if towards_router && i.get_str("to-ports").is_some_and(|p| holds(&p, port)) {
                why.push(format!("{fam} nat rule {n} forwards connections to it"));
                sources = None;
            }
        }
    }
    if why.is_empty() {
        return None;
    }
    Some(Use {
        why: why.join("; "),
        sources,
    })
}

/// How the configuration uses an `/ip service` (`www`, `ftp`), if it does.
pub fn uses(c: &Config, svc: &str) -> Option<Use> {
    let (port, _, _) = service_state(c, svc, false)?;
    uses_port(c, port, &["tcp", "6"])
}

/// Whether an address is one of the router's own.
fn own(c: &Config, a: &[u8]) -> bool {
    let Some(a) = parse_addr(a) else {
        return false;
    };
    let a = AddrSet::from_range(a.range);
    ["/ip address", "/ipv6 address"].iter().any(|m| {
        c.items(m).iter().any(|i| {
            i.get_str("address")
                .and_then(|s| {
                    let host = s.split('/').next().unwrap_or_default().to_string();
                    parse_addr(host.as_bytes())
                })
                .is_some_and(|h| a.contains_set(&AddrSet::from_range(h.range)))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::holds;

    #[test]
    fn to_ports_hold_a_port_a_range_or_a_list() {
        assert!(holds("21", 21));
        assert!(holds("20-22", 21));
        assert!(holds("80,21", 21));
        assert!(!holds("2121", 21));
        assert!(!holds("x-y", 21));
    }
}
