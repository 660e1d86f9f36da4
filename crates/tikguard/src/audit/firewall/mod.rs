//! The `input` chain of `/ip firewall filter` and `/ipv6 firewall filter`, evaluated over sets.
//!
//! For a management connection (TCP, state `new`, to a given port, arriving on a given interface)
//! this decides which *source addresses* the chain accepts. Rules are compiled once; evaluation
//! walks the chain with the set of sources not yet decided, as RouterOS walks it with one packet:
//! `accept` takes the matching part, `drop`/`reject`/`tarpit` remove it, `jump` evaluates the
//! target chain and `return` hands the rest back, and the end of `input` accepts.
//!
//! Matchers the model does not decide (`limit`, `time`, `dst-address`, `tcp-flags`, ...) are
//! settled in the attacker's favour, which over-approximates what is reachable: an `accept` with
//! such a matcher is assumed to match, a `drop` with one is assumed to be avoidable. Every rule
//! that needed this is named in [`Evaluation::approximations`], so a report can say so.
//! Address lists filled at run time by `add-src-to-address-list` hold nothing for a first
//! connection, so only their static entries count.
//!
//! [`Assume::Defender`] asks the opposite question, for `harden`'s lockout check: which sources
//! are *certainly* accepted. There an undecided matcher favours the drop (an `accept` with one is
//! assumed not to match, a `drop` with one to match), and a list filled at run time (by an
//! `add-*-to-address-list` rule, or one with no static entry, which `tikguard watch`, CrowdSec or a
//! script may fill) is assumed to hold any source.

use std::collections::HashMap;

use routeros_config::value::{parse_addr, parse_list, parse_ports, PortSet};
use routeros_config::{Config, Item, Span};

use super::addrset::AddrSet;

mod budget;
mod chains;
mod forward;
mod lists;
mod shadow;

pub use budget::{Budget, Exhausted, Limits};

pub use lists::{expires, AddressLists, InterfaceLists};
pub use shadow::Shadowed;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Accept,
    Drop,
    Jump,
    Return,
    /// log, passthrough, add-src-to-address-list, ...: the packet goes on.
    Passthrough,
    /// Anything else in `input` (fasttrack-connection, ...): treated as passing through.
    Other,
}

/// Which way undecided matchers are settled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Assume {
    /// What can get in: undecided matchers favour the attacker (the audit).
    #[default]
    Attacker,
    /// What certainly gets in: undecided matchers and run-time lists favour the drop (lockout).
    Defender,
}

/// One compiled filter rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Index among the menu's items (what `print` numbers).
    pub number: usize,
    pub chain: String,
    pub action: Action,
    pub jump_target: Option<String>,
    pub statement: Span,
    /// `protocol=`: None for any; (negated, name with 6/17 read as tcp/udp).
    protocol: Option<(bool, String)>,
    /// Raw values of the matchers compared for shadowing.
    protocol_raw: Option<String>,
    conn_state_raw: Option<Vec<String>>,
    nat_state_raw: Option<String>,
    dst_type_raw: Option<String>,
    dst_address_raw: Option<String>,
    dst_port: Option<PortSet>,
    /// `action=notrack` (raw table).
    notrack: bool,
    /// `content=`: matches payload bytes. The packet that opens a TCP connection is a SYN
    /// without payload (RFC 9293), so such a rule never decides whether a new connection gets
    /// in; it is skipped, in both views.
    payload_only: bool,
    /// `port=`: matches when the source *or* the destination port is in the list (MikroTik's
    /// Firewall Filter manual: "matches if any (source or destination) port matches").
    any_port: Option<PortSet>,
    any_port_raw: Option<String>,
    in_interface: Option<(bool, String)>,
    in_interface_list: Option<(bool, String)>,
    /// `connection-state=`: negated, and the states it names.
    conn_state: Option<(bool, States)>,
    /// (negated, list includes dstnat or srcnat)
    nat_state: Option<(bool, bool)>,
    /// The sources matched by `src-address` and `src-address-list` together.
    src: Option<AddrSet>,
    /// `dst-address-type`: Some(false) when it excludes traffic to the router's own unicast address.
    dst_type_ok: Option<bool>,
    /// `dst-address` inside 127.0.0.0/8 or `::1`: never matches traffic from an interface.
    loopback_only: bool,
    /// `ipsec-policy=in,ipsec`: matches only packets that came out of an IPsec tunnel (MikroTik's
    /// Firewall Filter manual: "ipsec - matches if the packet is subject to IPsec processing");
    /// a connection from the WAN side in clear is not; one from an IPsec peer is judged on its
    /// own side ([`crate::audit::tunnel`]) by a table made [`Firewall::decapsulated`]. In such a
    /// table it is the other way round: the rule never matches when it
    /// says `in,none`.
    ipsec_only: bool,
    /// `ipsec-policy=`: `Some(true)` for `in,ipsec`, `Some(false)` for `in,none`.
    ipsec_policy: Option<bool>,
    /// Matchers that were not decided (see the module docs).
    pub undecided: Vec<String>,
    pub disabled: bool,
    pub log: bool,
    /// `add-src-to-address-list` target list.
    pub adds_src_to: Option<String>,
    pub has_src_restriction: bool,
    /// `src-address-list=` as written: (negated, name).
    pub src_list: Option<(bool, String)>,
    pub dst_ports_raw: Option<String>,
    /// `src-address-list=` names a list filled at run time.
    runtime_list: bool,
    /// The sources `src-address` alone matches.
    src_address: Option<AddrSet>,
}

/// The `connection-state=` values a rule names, as far as a management connection goes.
#[derive(Clone, Copy, Debug, Default)]
struct States {
    new: bool,
    established: bool,
    untracked: bool,
    invalid: bool,
}

/// Which packet of a connection the chain sees (ROUTEROS.md, "Connection tracking"; MikroTik's
/// Firewall manual, Connection tracking and Raw).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet {
    /// The first packet: `connection-state=new`.
    New,
    /// Every later packet of a tracked connection: `established`.
    Established,
    /// Every packet of a connection raw `prerouting` marked `notrack`.
    Untracked,
    /// Every packet of a TCP connection tracking did not see open, with
    /// `loose-tcp-tracking=no` ([`loose_tcp_tracking`]).
    Invalid,
    /// Connection tracking is off (`/ip firewall connection tracking enabled=no`): the state
    /// matcher sees no connection entry (Linux net/netfilter/xt_state.c calls that `invalid`),
    /// so what a `connection-state=` rule does is not decided.
    Stateless,
}

/// What a new connection to the router looks like to the chain.
#[derive(Clone, Copy, Debug)]
pub struct Probe<'a> {
    /// `tcp` or `udp`.
    pub protocol: &'a str,
    pub port: u16,
    pub interface: &'a str,
}

const NOT_MATCHERS: &[&str] = &[
    "chain",
    "action",
    "comment",
    "disabled",
    "log",
    "log-prefix",
    "jump-target",
    "address-list",
    "address-list-timeout",
    "reject-with",
    "place-before",
    "copy-from",
    "protocol",
    "dst-port",
    "port",
    "content",
    "in-interface",
    "in-interface-list",
    "connection-state",
    "connection-nat-state",
    "src-address",
    "src-address-list",
    "dst-address-type",
    "dst-address",
    "ipsec-policy",
];

fn is_loopback(r: routeros_config::value::AddrRange) -> bool {
    if r.v6 {
        r.start == 1 && r.end == 1
    } else {
        r.start >= 0x7F00_0000 && r.end <= 0x7FFF_FFFF
    }
}

fn negation(v: &[u8]) -> (bool, &[u8]) {
    match v.strip_prefix(b"!") {
        Some(r) => (true, r),
        None => (false, v),
    }
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

impl Rule {
    fn compile(number: usize, item: &Item, lists: &AddressLists, v6: bool) -> Rule {
        let get = |k: &str| item.get(k);
        let action = match get("action").unwrap_or(b"accept") {
            b"accept" => Action::Accept,
            b"drop" | b"reject" | b"tarpit" => Action::Drop,
            b"jump" => Action::Jump,
            b"return" => Action::Return,
            b"log" | b"passthrough" | b"add-src-to-address-list" | b"add-dst-to-address-list" => {
                Action::Passthrough
            }
            _ => Action::Other,
        };
        let mut undecided = Vec::new();
        let protocol = get("protocol").map(|v| {
            let (neg, p) = negation(v);
            let name = match p {
                b"6" => "tcp".to_string(),
                b"17" => "udp".to_string(),
                other => text(other),
            };
            (neg, name)
        });
        let dst_port = get("dst-port").and_then(|v| {
            let p = parse_ports(v);
            if p.is_none() {
                undecided.push(format!("dst-port={}", text(v)));
            }
            p
        });
        let any_port = get("port").and_then(|v| {
            let p = parse_ports(v).filter(|p| !p.negated);
            if p.is_none() {
                undecided.push(format!("port={}", text(v)));
            }
            p
        });
        let in_interface = get("in-interface").map(|v| {
            let (n, name) = negation(v);
            (n, text(name))
        });
        let in_interface_list = get("in-interface-list").map(|v| {
            let (n, name) = negation(v);
            (n, text(name))
        });
        let conn_state = get("connection-state").map(|v| {
            let (n, l) = negation(v);
            let states = parse_list(l);
            let names = |s: &[u8]| states.iter().any(|e| e.name == s);
            (
                n,
                States {
                    new: names(b"new"),
                    established: names(b"established"),
                    untracked: names(b"untracked"),
                    invalid: names(b"invalid"),
                },
            )
        });
        let nat_state = get("connection-nat-state").map(|v| {
            let (n, l) = negation(v);
            (n, !l.is_empty())
        });
        let mut src: Option<AddrSet> = None;
        let mut has_src_restriction = false;
        if let Some(v) = get("src-address") {
            has_src_restriction = true;
            match parse_addr(v) {
                Some(a) if a.range.v6 == v6 => {
                    let s = AddrSet::from_range(a.range);
                    src = Some(if a.negated { s.complement() } else { s });
                }
                _ => undecided.push(format!("src-address={}", text(v))),
            }
        }
        let src_address = src.clone();
        let mut runtime_list = false;
        if let Some(v) = get("src-address-list") {
            has_src_restriction = true;
            let (neg, name) = negation(v);
            runtime_list = lists.filled_at_run_time(&text(name));
            let (set, unknown) = lists.get(&text(name));
            if unknown {
                undecided.push(format!("src-address-list={} (has DNS entries)", text(v)));
            } else {
                let s = if neg { set.complement() } else { set };
                src = Some(match src {
                    Some(prev) => prev.intersect(&s),
                    None => s,
                });
            }
        }
        let dst_type_ok = get("dst-address-type").map(|v| {
            let (neg, l) = negation(v);
            let hits = parse_list(l)
                .iter()
                .any(|e| e.name == b"local" || e.name == b"unicast");
            hits != neg
        });
        // A connection from outside never has a loopback destination (the default configuration's
        // "accept to local loopback (for CAPsMAN)" rule); other destinations depend on which of the
        // router's addresses the attacker connects to, so they are left undecided.
        let mut loopback_only = false;
        if let Some(v) = get("dst-address") {
            match parse_addr(v) {
                Some(a) if !a.negated && a.range.v6 == v6 && is_loopback(a.range) => {
                    loopback_only = true
                }
                _ => undecided.push(format!("dst-address={}", text(v))),
            }
        }
        // `in,none` matches every packet not decapsulated from IPsec, the attacker's among them:
        // no restriction. `out,...` is for packets the router sends, never valid in input.
        let ipsec_policy = match get("ipsec-policy") {
            None => None,
            Some(b"in,none") => Some(false),
            Some(b"in,ipsec") => Some(true),
            Some(v) => {
                undecided.push(format!("ipsec-policy={}", text(v)));
                None
            }
        };
        let ipsec_only = ipsec_policy == Some(true);
        for p in &item.props {
            let k = std::str::from_utf8(&p.key).unwrap_or("?");
            if !NOT_MATCHERS.contains(&k) {
                undecided.push(format!("{k}={}", p.value.to_lossy()));
            }
        }
        let conn_state_raw = get("connection-state").map(|v| {
            let mut l: Vec<String> = parse_list(v).iter().map(|e| text(e.name)).collect();
            if v.starts_with(b"!") {
                l.insert(0, "!".into());
            }
            l.sort();
            l
        });
        Rule {
            number,
            chain: item.get_str("chain").unwrap_or_default(),
            protocol_raw: item.get_str("protocol"),
            conn_state_raw,
            nat_state_raw: item.get_str("connection-nat-state"),
            dst_type_raw: item.get_str("dst-address-type"),
            dst_address_raw: item.get_str("dst-address"),
            action,
            jump_target: item.get_str("jump-target"),
            statement: item.statement,
            protocol,
            dst_port,
            notrack: item.get("action") == Some(b"notrack"),
            payload_only: get("content").is_some_and(|c| !c.is_empty()),
            any_port,
            any_port_raw: item.get_str("port"),
            in_interface,
            in_interface_list,
            conn_state,
            nat_state,
            src,
            dst_type_ok,
            loopback_only,
            ipsec_only,
            ipsec_policy,
            undecided,
            disabled: item.is_disabled(),
            log: item.get("log") == Some(b"yes"),
            adds_src_to: (item.get("action") == Some(b"add-src-to-address-list"))
                .then(|| item.get_str("address-list"))
                .flatten(),
            has_src_restriction,
            src_list: get("src-address-list").map(|v| {
                let (n, name) = negation(v);
                (n, text(name))
            }),
            dst_ports_raw: item.get_str("dst-port"),
            runtime_list,
            src_address,
        }
    }

    /// Whether the rule can match a new TCP connection to `probe.port` on `probe.interface`,
    /// ignoring source addresses.
    pub fn matches_probe(&self, probe: Probe<'_>, ifl: &InterfaceLists) -> bool {
        self.matches_in_state(probe, ifl, Packet::New) != Some(false)
    }

    /// Whether `connection-state=` lets a packet in `state` through: `None` when it cannot be
    /// told (connection tracking off).
    fn state_matches(&self, state: Packet) -> Option<bool> {
        let Some((neg, s)) = self.conn_state else {
            return Some(true);
        };
        let named = match state {
            Packet::New => s.new,
            Packet::Established => s.established,
            Packet::Untracked => s.untracked,
            Packet::Invalid => s.invalid,
            Packet::Stateless => return None,
        };
        Some(named != neg)
    }

    /// [`Rule::matches_probe`] for a packet of the connection in `state`: `Some(false)` when the
    /// rule cannot match it, `None` when only its `connection-state=` cannot be told.
    fn matches_in_state(
        &self,
        probe: Probe<'_>,
        ifl: &InterfaceLists,
        state: Packet,
    ) -> Option<bool> {
        if let Some((neg, p)) = &self.protocol {
            if (p == probe.protocol) == *neg {
                return Some(false);
            }
        }
        if let Some(p) = &self.dst_port {
            // RouterOS only accepts dst-port with a protocol; without one it cannot be tcp.
            if !p.contains(probe.port) {
                return Some(false);
            }
        }
        if let Some((neg, name)) = &self.in_interface {
            if ifl.name_matches(name, probe.interface) == *neg {
                return Some(false);
            }
        }
        // A list whose membership depends on the moment ([`InterfaceLists::member`]) is settled
        // like a `connection-state=` that cannot be told: the caller's view decides.
        let mut list_unknown = false;
        if let Some((neg, list)) = &self.in_interface_list {
            match ifl.member(list, probe.interface) {
                Some(m) if m == *neg => return Some(false),
                Some(_) => {}
                None => list_unknown = true,
            }
        }
        if let Some((neg, natted)) = self.nat_state {
            if natted != neg {
                return Some(false);
            }
        }
        if self.dst_type_ok == Some(false)
            || self.loopback_only
            || self.payload_only
            || self.ipsec_only
        {
            return Some(false);
        }
        match self.state_matches(state) {
            Some(true) if list_unknown => None,
            other => other,
        }
    }

    /// Whether its `in-interface-list=` may or may not hold `iface` ([`InterfaceLists::member`]).
    fn interface_undecided(&self, iface: &str, ifl: &InterfaceLists) -> bool {
        self.in_interface_list
            .as_ref()
            .is_some_and(|(_, list)| ifl.member(list, iface).is_none())
    }

    /// The sources `src-address` and `src-address-list` restrict it to, if they do.
    pub fn src(&self) -> Option<&AddrSet> {
        self.src.as_ref()
    }

    /// Whether the rule matches TCP traffic to `port` as far as protocol and port go.
    pub fn covers_port(&self, port: u16) -> bool {
        let tcp_ok = self
            .protocol
            .as_ref()
            .is_none_or(|(neg, p)| (p == "tcp") != *neg);
        tcp_ok && self.dst_port.as_ref().is_none_or(|p| p.contains(port))
    }

    /// Its `port=` list, when that list does not hold `port`: the rule then matches a
    /// connection to `port` only by the connection's *source* port (`port=` matches the source
    /// or the destination port, MikroTik's Firewall Filter manual), which the client chooses.
    pub fn by_source_port(&self, port: u16) -> Option<String> {
        self.any_port
            .as_ref()
            .filter(|p| !p.contains(port))
            .map(|_| self.any_port_raw.clone().unwrap_or_default())
    }

    /// Whether the rule names `port` explicitly (`protocol=tcp dst-port=...8728...`).
    pub fn names_port(&self, port: u16) -> bool {
        self.protocol
            .as_ref()
            .is_some_and(|(neg, p)| !neg && p == "tcp")
            && self
                .dst_port
                .as_ref()
                .is_some_and(|p| !p.negated && p.contains(port))
    }

    /// Whether it matches on `connection-state=`: inert, or not known to match, with connection
    /// tracking off ([`tracking_off`]).
    pub fn names_connection_state(&self) -> bool {
        self.conn_state.is_some()
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self.action, Action::Accept | Action::Drop | Action::Return)
    }
}

impl Trace {
    fn packet(&self) -> Packet {
        self.state.unwrap_or(Packet::New)
    }
}

#[derive(Default)]
struct Trace {
    approx: Vec<usize>,
    /// Rule number to the number of sources it accepted.
    accepted_by: HashMap<usize, u128>,
    by_default: bool,
    /// The packet being followed.
    state: Option<Packet>,
}

/// One family's filter table, compiled.
#[derive(Debug)]
pub struct Firewall {
    pub v6: bool,
    pub rules: Vec<Rule>,
    /// `/ip firewall raw` (`/ipv6 firewall raw`), chain `prerouting`: before connection
    /// tracking and the filter.
    pub raw: Vec<Rule>,
    chains: HashMap<String, Vec<usize>>,
    /// Jump rules that close a loop, sorted ([`chains::loop_jumps`]).
    loops: Vec<usize>,
    /// Chains `input` reaches, callees first.
    order: Vec<String>,
    pub lists: AddressLists,
    assume: Assume,
    budget: Budget,
    /// `/ip firewall connection tracking enabled=no`.
    pub tracking_off: bool,
}

/// Which sources a chain accepts, and what had to be approximated.
#[derive(Debug)]
pub struct Evaluation {
    pub accepted: AddrSet,
    /// `accept` rules that let some of it in, the widest share first.
    pub accepted_by: Vec<usize>,
    /// Some of it reached the end of `input` and the chain's default accept.
    pub by_default: bool,
    /// Rule numbers whose matchers were settled in the attacker's favour.
    pub approximations: Vec<usize>,
    /// Raw rule numbers likewise.
    pub raw_approximations: Vec<usize>,
    /// Units of work it took (rules looked at and address ranges touched).
    pub work: u64,
}

const TRACKING: &str = "/ip firewall connection tracking";

/// `/ip firewall connection tracking enabled=no`: off for good.
///
/// `auto` (written out, or left at its default) is not off where it matters to a filter rule:
/// MikroTik's Connection tracking manual, `enabled (yes | no | auto; Default: auto)`: "Starting
/// from v6.0rc2 default value is auto. This means that connection tracing is disabled until at
/// least one firewall rule is added." A filter rule is a firewall rule, so wherever there is a
/// filter rule to judge a packet, tracking is on; the plan's own rules turn it on as they go
/// in. What `auto` leaves undecided is the moment before the first rule, which only a
/// connection open across that moment sees ([`tracking_on`], [`loose_tcp_tracking`]).
pub fn tracking_off(c: &Config) -> bool {
    c.setting(TRACKING, "enabled") == Some(b"no")
}

/// Whether connection tracking is certainly on: `enabled=yes`, or `auto` (the default) with an
/// enabled IPv4 firewall rule in the filter, NAT, mangle or raw table. The manual's "at least
/// one firewall rule" does not say which tables count nor whether a disabled rule or an IPv6
/// one does; those are taken as not turning it on, the side on which a connection open across
/// the change is checked rather than assumed tracked (approximated).
pub fn tracking_on(c: &Config) -> bool {
    match c.setting(TRACKING, "enabled") {
        Some(b"no") => false,
        Some(b"yes") => true,
        _ => ["filter", "nat", "mangle", "raw"].iter().any(|t| {
            c.items(&format!("/ip firewall {t}"))
                .iter()
                .any(|i| !i.is_disabled())
        }),
    }
}

/// `loose-tcp-tracking` (default `yes`). MikroTik's Connection tracking manual: "Disable picking
/// up already established connections" (its `no`); it sets Linux' `nf_conntrack_tcp_loose`
/// ("If it is set to zero, we disable picking up already established connections",
/// Documentation/networking/nf_conntrack-sysctl). Picked up, a TCP connection's first packet
/// seen is `new` and the rest `established` (net/netfilter/nf_conntrack_proto_tcp.c,
/// `tcp_new`); not picked up, every packet of it is `invalid` ([`Packet::Invalid`]). It matters
/// only to a connection open before tracking saw it: one open while tracking was off.
pub fn loose_tcp_tracking(c: &Config) -> bool {
    c.setting(TRACKING, "loose-tcp-tracking") != Some(b"no")
}

impl Firewall {
    pub fn from_config(c: &Config, v6: bool) -> Firewall {
        Firewall::assuming(c, v6, Assume::Attacker)
    }

    /// The filter table, with undecided matchers settled as `assume` says.
    pub fn assuming(c: &Config, v6: bool, assume: Assume) -> Firewall {
        let menu = if v6 {
            "/ipv6 firewall filter"
        } else {
            "/ip firewall filter"
        };
        let lists = AddressLists::from_config(c, v6);
        let rules: Vec<Rule> = c
            .items(menu)
            .iter()
            .enumerate()
            .map(|(i, it)| Rule::compile(i, it, &lists, v6))
            .collect();
        let mut chains: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in rules.iter().enumerate() {
            if !r.disabled {
                chains.entry(r.chain.clone()).or_default().push(i);
            }
        }
        let raw_menu = if v6 {
            "/ipv6 firewall raw"
        } else {
            "/ip firewall raw"
        };
        let raw = c
            .items(raw_menu)
            .iter()
            .enumerate()
            .map(|(i, it)| Rule::compile(i, it, &lists, v6))
            .collect();
        let loops = chains::loop_jumps(&rules, &chains);
        let order = chains::post_order(&rules, &chains, &loops);
        Firewall {
            v6,
            rules,
            raw,
            chains,
            loops,
            order,
            lists,
            assume,
            budget: Budget::default(),
            tracking_off: tracking_off(c),
        }
    }

    /// The enabled rules of the `dstnat` chain of `/ip firewall nat` (IPv4), compiled as filter
    /// rules are: their matchers say which new connections each one translates.
    pub fn dstnat_rules(c: &Config) -> Vec<Rule> {
        let lists = AddressLists::from_config(c, false);
        c.items("/ip firewall nat")
            .iter()
            .enumerate()
            .map(|(i, it)| Rule::compile(i, it, &lists, false))
            .filter(|r| !r.disabled && r.chain == "dstnat")
            .collect()
    }

    /// The same table as it judges a packet IPsec decapsulated: such a packet goes through the
    /// chains again, "processed as usual, id est from the point an ordinal packet enters the
    /// router" (MikroTik's Packet Flow manual), in on the interface its ESP came in on; there
    /// `ipsec-policy=in,ipsec` matches it and `in,none` does not (netfilter's `policy` match,
    /// which RouterOS' matcher is: `--pol ipsec|none` "matches if the packet is subject to
    /// IPsec processing", `--dir in` "the policy used for decapsulation"; MikroTik's Firewall
    /// Filter manual, `ipsec-policy`).
    pub fn decapsulated(mut self) -> Firewall {
        for r in self.rules.iter_mut().chain(self.raw.iter_mut()) {
            r.ipsec_only = r.ipsec_policy == Some(false);
        }
        self
    }

    /// The same table with other limits on its evaluation.
    pub fn with_limits(mut self, limits: Limits) -> Firewall {
        self.budget = Budget::new(limits);
        self
    }

    /// Jump rules that close a loop (rule numbers, sorted): RouterOS cannot run them as
    /// written, and the evaluation does not follow them ([`chains::loop_jumps`]).
    pub fn loops(&self) -> &[usize] {
        &self.loops
    }

    /// What the evaluations of this table have spent, and whether they were cut short.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Enabled rules with this action that name one of `ports` (`protocol=tcp dst-port=...`).
    pub fn rules_naming<'a>(
        &'a self,
        action: Action,
        ports: &'a [u16],
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules.iter().filter(move |r| {
            !r.disabled && r.action == action && ports.iter().any(|&p| r.names_port(p))
        })
    }

    /// Rules of a chain that are enabled, in order.
    pub fn chain(&self, name: &str) -> impl Iterator<Item = &Rule> {
        self.chains
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.rules[i])
    }

    /// The raw table's `prerouting` for new connections to `probe`: (sources it lets on with
    /// connection tracking, sources it `notrack`s, raw rules settled for the attacker).
    ///
    /// MikroTik's Firewall manual (Raw): raw `prerouting` runs before connection tracking and
    /// the filter; a packet it drops never reaches `input`, and `notrack` leaves the connection
    /// `untracked`. Rules the analysis cannot decide are settled as [`Assume`] says: the
    /// attacker's view drops nothing on their account, the defender's view loses everything.
    fn eval_raw(&self, probe: Probe<'_>, ifl: &InterfaceLists) -> (AddrSet, AddrSet, Vec<usize>) {
        let v6 = self.v6;
        let mut undecided = AddrSet::all(v6);
        let mut tracked = AddrSet::empty(v6);
        let mut untracked = AddrSet::empty(v6);
        let mut approx = Vec::new();
        let defender = self.assume == Assume::Defender;
        for rule in self
            .raw
            .iter()
            .filter(|r| !r.disabled && r.chain == "prerouting")
        {
            if undecided.is_empty() {
                break;
            }
            // Connection state does not exist yet in raw; the rest matches as in the filter.
            if !rule.matches_probe(probe, ifl) {
                continue;
            }
            let m = match &rule.src {
                Some(s) => undecided.intersect(s),
                None => undecided.clone(),
            };
            if m.is_empty() {
                continue;
            }
            let uncertain = !rule.undecided.is_empty()
                || rule.runtime_list
                || rule.interface_undecided(probe.interface, ifl);
            let notrack = rule.notrack;
            match (rule.action, uncertain) {
                (Action::Drop, false) => undecided = undecided.minus(&m),
                (Action::Drop, true) => {
                    if defender {
                        undecided = undecided.minus(&m);
                    } else {
                        approx.push(rule.number);
                    }
                }
                (Action::Accept, false) => {
                    tracked = tracked.union(&m);
                    undecided = undecided.minus(&m);
                }
                (_, false) if notrack => {
                    untracked = untracked.union(&m);
                    undecided = undecided.minus(&m);
                }
                (Action::Jump, _) | (Action::Return, _) => {
                    // Raw jumps are rare; their targets are not followed: approximated.
                    if defender {
                        undecided = undecided.minus(&m);
                    } else {
                        approx.push(rule.number);
                    }
                }
                _ => {}
            }
        }
        (tracked.union(&undecided), untracked, approx)
    }

    /// The sources whose new connections to `probe` the `input` chain accepts, after the raw
    /// table.
    pub fn evaluate(&self, probe: Probe<'_>, ifl: &InterfaceLists) -> Evaluation {
        let work_before = self.budget.work();
        let mut trace = Trace::default();
        let (tracked, untracked, raw_approximations) = self.eval_raw(probe, ifl);
        let mut accepted = self.eval_input(tracked, probe, ifl, &mut trace);
        if !untracked.is_empty() {
            trace.state = Some(Packet::Untracked);
            let acc = self.eval_input(untracked, probe, ifl, &mut trace);
            accepted = accepted.union(&acc);
        }
        trace.approx.sort_unstable();
        trace.approx.dedup();
        Evaluation {
            accepted,
            accepted_by: {
                // Widest share first: that rule is the one to fix.
                let mut by: Vec<(usize, u128)> = trace.accepted_by.into_iter().collect();
                by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                by.into_iter().map(|(n, _)| n).collect()
            },
            by_default: trace.by_default,
            approximations: trace.approx,
            raw_approximations,
            work: self.budget.work() - work_before,
        }
    }

    /// The sources whose whole connection to `probe` gets through: its first packet, and every
    /// later one. A tracked connection's first packet is `new` and the rest `established`; one
    /// raw `prerouting` marked `notrack` is `untracked` throughout; with connection tracking off
    /// no packet has a state ([`Packet`]). A source is kept only when every packet of its
    /// connection is accepted: an `input` chain that accepts `connection-state=new` and drops the
    /// rest lets a SYN in and nothing more (ROUTEROS.md, "Connection tracking").
    pub fn evaluate_connection(&self, probe: Probe<'_>, ifl: &InterfaceLists) -> AddrSet {
        let (tracked, untracked, _) = self.eval_raw(probe, ifl);
        let run = |input: AddrSet, state: Packet| {
            let mut trace = Trace {
                state: Some(state),
                ..Trace::default()
            };
            self.eval_input(input, probe, ifl, &mut trace)
        };
        if self.tracking_off {
            return run(tracked.union(&untracked), Packet::Stateless);
        }
        let first = run(tracked.clone(), Packet::New);
        let rest = run(tracked, Packet::Established);
        first
            .intersect(&rest)
            .union(&run(untracked, Packet::Untracked))
    }

    /// The sources every packet of whose connection to `probe`, opened before tracking saw it,
    /// gets through once tracking is on ([`loose_tcp_tracking`]): with loose tracking that is
    /// [`Firewall::evaluate_connection`]; without, each packet of it is `invalid` (one raw
    /// `prerouting` marked `notrack` stays `untracked`).
    pub fn evaluate_picked_up(
        &self,
        probe: Probe<'_>,
        ifl: &InterfaceLists,
        loose: bool,
    ) -> AddrSet {
        if loose || self.tracking_off {
            return self.evaluate_connection(probe, ifl);
        }
        let (tracked, untracked, _) = self.eval_raw(probe, ifl);
        let run = |input: AddrSet, state: Packet| {
            let mut trace = Trace {
                state: Some(state),
                ..Trace::default()
            };
            self.eval_input(input, probe, ifl, &mut trace)
        };
        run(tracked, Packet::Invalid).union(&run(untracked, Packet::Untracked))
    }

    /// Whether `input` accepts every `established` packet before any rule could drop one: an
    /// unconditional `accept connection-state=established,...` ahead of every drop, jump and
    /// return that can see such a packet (rules naming other states only are passed over).
    pub fn accepts_established_first(&self) -> bool {
        for r in self.chain("input") {
            if r.action == Action::Passthrough
                || r.state_matches(Packet::Established) == Some(false)
            {
                continue;
            }
            let unconditional = r.protocol.is_none()
                && r.dst_port.is_none()
                && r.any_port.is_none()
                && r.in_interface.is_none()
                && r.in_interface_list.is_none()
                && r.nat_state.is_none()
                && !r.has_src_restriction
                && r.dst_type_ok.is_none()
                && !r.loopback_only
                && !r.payload_only
                && r.undecided.is_empty();
            match r.action {
                Action::Accept if unconditional && r.conn_state.is_some() => return true,
                Action::Accept => continue,
                _ => return false,
            }
        }
        true
    }
}
