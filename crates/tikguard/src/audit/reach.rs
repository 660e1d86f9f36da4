//! Who a reachable set is: the public internet, private or carrier-grade NAT space, or only the
//! link. Severity follows it (TG201, TG202 and TG209 docs):
//!
//! - a large public space (more than a /16 of IPv4, a /48 of IPv6) is the internet;
//! - private (RFC 1918, IPv6 ULA `fc00::/7`) and CGNAT (`100.64.0.0/10`, RFC 6598) space is
//!   subscribers, partners and the ISP's own network: serious on a WAN side, not the internet;
//! - link-local (`169.254.0.0/16`, `fe80::/10`) reaches only the neighbours on the same link;
//! - a few explicit prefixes are a decision someone made, not an exposure.

use routeros_config::value::parse_addr;

use super::addrset::AddrSet;

/// The parts of a reachable set.
#[derive(Clone, Debug)]
pub struct Reach {
    pub public: AddrSet,
    pub private: AddrSet,
    pub link_local: AddrSet,
}

/// How wide a reachable set is, from the attacker's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Width {
    /// Nothing, or only explicit prefixes / the local link.
    Narrow,
    /// A large part of private or CGNAT space, and at most explicit public prefixes.
    Private,
    /// A large public space.
    Public,
}

fn set_of(v6: bool, prefixes: &[&str]) -> AddrSet {
    let ranges = prefixes
        .iter()
        .filter_map(|p| parse_addr(p.as_bytes()))
        .filter(|a| a.range.v6 == v6)
        .map(|a| (a.range.start, a.range.end))
        .collect();
    AddrSet::from_ranges(v6, ranges)
}

/// RFC 1918 and ULA.
fn private(v6: bool) -> AddrSet {
    set_of(
        v6,
        &[
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "fc00::/7",
        ],
    )
}

/// Link-local: the neighbours on one link.
pub fn link_local(v6: bool) -> AddrSet {
    set_of(v6, &["169.254.0.0/16", "fe80::/10"])
}

/// Addresses no packet from elsewhere comes from: loopback, "this network", multicast,
/// reserved (IPv4 `240.0.0.0/4`); for IPv6 everything outside `2000::/3`, ULA and link-local.
fn unroutable(v6: bool) -> AddrSet {
    if v6 {
        set_of(true, &["2000::/3", "fc00::/7", "fe80::/10"]).complement()
    } else {
        set_of(
            false,
            &["0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"],
        )
    }
}

/// More addresses than a handful of explicit prefixes: over a /16 (IPv4), a /48 (IPv6).
pub fn large(set: &AddrSet) -> bool {
    let limit: u128 = if set.v6 { 1 << 80 } else { 1 << 16 };
    set.size() > limit
}

impl Reach {
    pub fn of(set: &AddrSet) -> Reach {
        // The fixed ranges, built once per family: this runs for every exposure row and rule.
        static V4: std::sync::OnceLock<[AddrSet; 3]> = std::sync::OnceLock::new();
        static V6: std::sync::OnceLock<[AddrSet; 3]> = std::sync::OnceLock::new();
        let v6 = set.v6;
        let [ll, private, unroutable] = (if v6 { &V6 } else { &V4 })
            .get_or_init(|| [link_local(v6), private(v6), unroutable(v6)]);
        let rest = set.minus(unroutable);
        Reach {
            public: rest.minus(private).minus(ll),
            private: rest.intersect(private),
            link_local: rest.intersect(ll),
        }
    }

    pub fn width(&self) -> Width {
        if large(&self.public) {
            Width::Public
        } else if large(&self.private) {
            Width::Private
        } else {
            Width::Narrow
        }
    }

    /// `the internet`, `private and CGNAT space`, or `the local link`, for messages.
    pub fn describe(&self) -> &'static str {
        match self.width() {
            Width::Public => "the internet",
            Width::Private => "private and CGNAT address space",
            Width::Narrow if !self.public.is_empty() || !self.private.is_empty() => {
                "explicit prefixes"
            }
            Width::Narrow => "the local link only",
        }
    }
}

/// Whether one address is on the public internet (not private, CGNAT, link-local or
/// unroutable space).
pub fn is_public(ip: std::net::IpAddr) -> bool {
    let (v6, n) = match ip {
        std::net::IpAddr::V4(a) => (false, u32::from(a) as u128),
        std::net::IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (false, u32::from(v4) as u128),
            None => (true, u128::from(a)),
        },
    };
    !Reach::of(&AddrSet::from_ranges(v6, vec![(n, n)]))
        .public
        .is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v6: bool, p: &[&str]) -> AddrSet {
        set_of(v6, p)
    }

    #[test]
    fn everything_is_the_internet() {
        assert_eq!(Reach::of(&AddrSet::all(false)).width(), Width::Public);
        assert_eq!(Reach::of(&AddrSet::all(true)).width(), Width::Public);
    }

    #[test]
    fn private_and_cgnat_space_is_at_most_private() {
        let r = Reach::of(&set(false, &["10.0.0.0/8", "100.64.0.0/10"]));
        assert_eq!(r.width(), Width::Private);
        assert_eq!(Reach::of(&set(true, &["fd00::/8"])).width(), Width::Private);
    }

    #[test]
    fn explicit_prefixes_and_the_link_are_narrow() {
        assert_eq!(
            Reach::of(&set(false, &["203.0.113.0/24", "198.51.100.7/32"])).width(),
            Width::Narrow
        );
        let ll = Reach::of(&set(true, &["fe80::/10"]));
        assert_eq!(ll.width(), Width::Narrow);
        assert_eq!(ll.describe(), "the local link only");
        assert!(ll.public.is_empty());
    }

    #[test]
    fn ipv6_outside_global_unicast_is_not_public() {
        // ::/0 minus 2000::/3, ULA and link-local: multicast, loopback, reserved.
        let r = Reach::of(&set(true, &["ff00::/8", "::1/128"]));
        assert!(r.public.is_empty() && r.width() == Width::Narrow);
    }
}
