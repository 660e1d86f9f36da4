//! Random firewalls from a stream of bytes, for the property tests and the fuzz target
//! (`fuzz/fuzz_targets/audit_path.rs` includes this file): filter rules in `input` and three
//! custom chains with jumps (loops included), returns, duplicates of earlier rules, address and
//! interface lists, negations, undecided matchers and disabled rules, in both families, with
//! the services and lists around them. The same bytes always give the same export.

/// Reads choices from the bytes; past their end every choice is the first.
pub struct Choices<'a> {
    bytes: &'a [u8],
}

impl<'a> Choices<'a> {
    pub fn new(bytes: &'a [u8]) -> Choices<'a> {
        Choices { bytes }
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        match self.bytes.split_first() {
            Some((&b, rest)) => {
                self.bytes = rest;
                b as usize % n
            }
            None => 0,
        }
    }

    pub fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[self.below(from.len())]
    }

    /// True about one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn is_done(&self) -> bool {
        self.bytes.is_empty()
    }
}

const CHAINS: &[&str] = &["input", "input", "input", "a", "b", "c"];
const TARGETS: &[&str] = &["a", "b", "c", "input", "missing"];
const ACTIONS: &[&str] = &[
    "accept",
    "accept",
    "drop",
    "drop",
    "reject",
    "jump",
    "jump",
    "return",
    "log",
    "passthrough",
    "add-src-to-address-list",
    "fasttrack-connection",
    "tarpit",
];

fn v4_prefix(c: &mut Choices) -> String {
    let len = [0, 8, 16, 24, 32, 10, 25][c.below(7)];
    let a = [10, 192, 198, 203, 100, 0, 255][c.below(7)];
    format!(
        "{a}.{}.{}.{}/{len}",
        c.below(256),
        c.below(256),
        c.below(256)
    )
}

fn v6_prefix(c: &mut Choices) -> String {
    let len = [0, 10, 32, 48, 64, 128][c.below(6)];
    let head = ["fe80", "2001:db8", "fd00", "2a00", "::", "ff02"][c.below(6)];
    if head == "::" {
        format!("::/{len}")
    } else {
        format!("{head}::{:x}/{len}", c.below(256))
    }
}

fn rule(c: &mut Choices, v6: bool) -> String {
    let chain = c.pick(CHAINS);
    let action = c.pick(ACTIONS);
    let mut r = format!("add chain={chain} action={action}");
    if action == "jump" {
        r.push_str(&format!(" jump-target={}", c.pick(TARGETS)));
    }
    if action == "add-src-to-address-list" {
        r.push_str(&format!(
            " address-list={} address-list-timeout=1h",
            c.pick(&["blocklist", "stage1", "mgmt"])
        ));
    }
    if c.one_in(2) {
        let neg = if c.one_in(4) { "!" } else { "" };
        let p = if v6 { v6_prefix(c) } else { v4_prefix(c) };
        r.push_str(&format!(" src-address={neg}{p}"));
    }
    if c.one_in(3) {
        let neg = if c.one_in(3) { "!" } else { "" };
        let list = c.pick(&["mgmt", "blocklist", "stage1", "nosuch", "api-clients"]);
        r.push_str(&format!(" src-address-list={neg}{list}"));
    }
    if c.one_in(3) {
        let neg = if c.one_in(3) { "!" } else { "" };
        r.push_str(&format!(
            " in-interface-list={neg}{}",
            c.pick(&["WAN", "LAN", "MGMT", "all", "none", "dynamic"])
        ));
    } else if c.one_in(4) {
        let neg = if c.one_in(4) { "!" } else { "" };
        r.push_str(&format!(
            " in-interface={neg}{}",
            c.pick(&["ether1", "bridge", "all-ppp", "all-ethernet", "pppoe-out1"])
        ));
    }
    if c.one_in(2) {
        let neg = if c.one_in(6) { "!" } else { "" };
        r.push_str(&format!(
            " protocol={neg}{}",
            c.pick(&["tcp", "udp", "icmp", "6"])
        ));
        if c.one_in(2) {
            let neg = if c.one_in(6) { "!" } else { "" };
            r.push_str(&format!(
                " dst-port={neg}{}",
                c.pick(&[
                    "22",
                    "8728",
                    "8729",
                    "8291",
                    "21-23,80",
                    "1-65535",
                    "0",
                    "8728,8729"
                ])
            ));
        }
    }
    if c.one_in(4) {
        r.push_str(&format!(
            " connection-state={}",
            c.pick(&[
                "new",
                "established,related",
                "!invalid",
                "invalid",
                "untracked",
                "!new"
            ])
        ));
    }
    if c.one_in(6) {
        r.push_str(&format!(
            " {}",
            c.pick(&[
                "limit=10,5:packet",
                "dst-address=198.51.100.0/24",
                "dst-address-type=local",
                "tcp-flags=syn",
                "connection-nat-state=dstnat",
                "port=8728",
                "content=GET",
                "time=8h-18h,mon",
            ])
        ));
    }
    if c.one_in(10) {
        r.push_str(" disabled=yes");
    }
    if c.one_in(8) {
        r.push_str(" log=yes log-prefix=\"x\"");
    }
    r
}

/// An export with a random firewall (both families), lists and services.
pub fn export(c: &mut Choices) -> String {
    let mut s = String::from("# 2025-06-01 00:00:00 by RouterOS 7.16.2\n");
    s.push_str("/interface list\nadd name=WAN\nadd name=LAN\nadd name=MGMT include=LAN\n");
    s.push_str("/interface list member\nadd interface=ether1 list=WAN\nadd interface=bridge list=LAN\nadd interface=pppoe-out1 list=WAN\n");
    s.push_str("/ip address\nadd address=198.51.100.1/24 interface=ether1\n");
    if c.one_in(2) {
        s.push_str("/ipv6 address\nadd address=2001:db8::1/64 interface=ether1\n");
    }
    s.push_str("/ip firewall address-list\n");
    for _ in 0..c.below(6) {
        let list = c.pick(&["mgmt", "blocklist", "api-clients", "stage1"]);
        s.push_str(&format!("add address={} list={list}\n", v4_prefix(c)));
    }
    s.push_str("/ipv6 firewall address-list\n");
    for _ in 0..c.below(3) {
        let list = c.pick(&["mgmt", "blocklist"]);
        s.push_str(&format!("add address={} list={list}\n", v6_prefix(c)));
    }
    s.push_str("/ip service\n");
    for svc in [
        "api", "api-ssl", "winbox", "ssh", "telnet", "ftp", "www", "www-ssl",
    ] {
        match c.below(4) {
            0 => s.push_str(&format!("set {svc} disabled=yes\n")),
            1 => s.push_str(&format!("set {svc} address={}\n", v4_prefix(c))),
            _ => {}
        }
    }
    for (family, v6) in [("ip", false), ("ipv6", true)] {
        s.push_str(&format!("/{family} firewall filter\n"));
        let n = c.below(if v6 { 24 } else { 96 });
        let mut rules: Vec<String> = Vec::new();
        for _ in 0..n {
            // Duplicates of earlier rules, for shadowing.
            let r = match rules.len() {
                k if k > 0 && c.one_in(5) => rules[c.below(k)].clone(),
                _ => rule(c, v6),
            };
            s.push_str(&r);
            s.push('\n');
            rules.push(r);
        }
        if c.one_in(3) {
            s.push_str(&format!("/{family} firewall raw\n"));
            for _ in 0..c.below(4) {
                s.push_str(&format!(
                    "add chain=prerouting action={}{}\n",
                    c.pick(&["drop", "notrack", "accept", "jump jump-target=a"]),
                    if c.one_in(2) {
                        format!(
                            " src-address={}",
                            if v6 { v6_prefix(c) } else { v4_prefix(c) }
                        )
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }
    s
}
