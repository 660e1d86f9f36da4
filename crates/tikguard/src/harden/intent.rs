//! What the administrator asks for, checked before anything is planned.
//!
//! `--api-client` and `--mgmt` become [`Prefix`]es. `/ip service address=` and address lists take
//! prefixes, not ranges, so a range is refused with the prefixes that cover it; `0.0.0.0/0` and
//! `::/0` are refused because they restrict nothing. A prefix is written as RouterOS prints it
//! (the network address; a single host without `/32` or `/128`), so that a guard comparing
//! `address=` finds the entry an earlier run added.

use routeros_config::Version;

use crate::audit::addrset::AddrSet;
use crate::audit::exposure::WanChoice;

pub use crate::audit::prefix::Prefix;

/// Refuses prefixes that together cover every address of a family, whatever their shape
/// (`0.0.0.0/1,128.0.0.0/1`, `::/1,8000::/1`): that restricts nothing either.
pub fn not_everything(flag: &str, ps: &[Prefix]) -> Result<(), String> {
    for v6 in [false, true] {
        let all = ps
            .iter()
            .filter(|p| p.v6 == v6)
            .fold(AddrSet::empty(v6), |acc, p| acc.union(&p.set));
        if all.is_all() {
            return Err(format!(
                "{flag}: the prefixes given cover every {} address together: that is no restriction; name the prefixes that need access",
                if v6 { "IPv6" } else { "IPv4" }
            ));
        }
    }
    Ok(())
}

/// `--mgmt` naming only the router's own addresses: management connects *from* its hosts, so a
/// prefix holding nothing but the router is almost certainly a mistake for its network.
pub fn own_address_warnings(c: &routeros_config::Config, mgmt: &[Prefix]) -> Vec<String> {
    let mut out = Vec::new();
    for menu in ["/ip address", "/ipv6 address"] {
        for a in c.items(menu) {
            let Some(text) = a.get_str("address") else {
                continue;
            };
            let host = text.split('/').next().unwrap_or_default().to_string();
            let Ok(own) = Prefix::parse(&host) else {
                continue;
            };
            for p in mgmt {
                if p.v6 == own.v6 && own.set.contains_set(&p.set) {
                    out.push(format!(
                        "--mgmt {}: that is the router's own address (on {}); management connects from its hosts: did you mean {}?",
                        p.text,
                        a.get_str("interface").unwrap_or_default(),
                        Prefix::parse(&text).map(|n| n.text).unwrap_or(text.clone())
                    ));
                }
            }
        }
    }
    out
}

/// The certificate api-ssl should use.
#[derive(Clone, Debug)]
pub enum CertPlan {
    /// Create and sign one on the router (`tikguard-api`).
    Generate,
    /// Use this existing certificate.
    Named(String),
}

/// What the administrator wants.
#[derive(Clone, Debug)]
pub struct Intent {
    pub api_clients: Vec<Prefix>,
    pub mgmt: Vec<Prefix>,
    pub wan: WanChoice,
    pub api_port: Option<u16>,
    pub cert: CertPlan,
    pub syslog: Option<(String, u16)>,
    pub target: Version,
    /// The CRM's user, when it is known (`--api-user`).
    pub api_user: Option<String>,
    /// Create a dedicated API user (`--create-api-user`).
    pub create_api_user: bool,
    /// Put the new API user's password in the script (off by default: it is created disabled).
    pub password_in_script: Option<String>,
    /// The CRM's group (`--api-group`): tightened whatever it holds. Without it only groups
    /// plainly for the API are ([`crate::policy::plainly_api_only`]).
    pub api_group: Option<String>,
    /// Replace `/ip service address=` lists that exist with the prefixes given
    /// (`--replace-allow-lists`); without it they are kept, and the given prefixes added.
    pub replace_allow_lists: bool,
    /// Leave the plaintext API on for now (`--keep-plain-api`): the CRM moves to api-ssl and
    /// trusts its certificate first, a later run turns the plaintext API off.
    pub keep_plain_api: bool,
    /// The interfaces management lives on (`--mgmt-interface`), where no address of the router
    /// lies inside `--mgmt` (an access point that takes its address by DHCP).
    pub mgmt_interfaces: Vec<String>,
}

/// The user a new API user gets when `--api-user` does not name one.
pub const DEFAULT_API_USER: &str = "tikguard-api";

/// A target version tikguard writes scripts for: RouterOS 6.0 and later.
pub fn target_version(s: &str) -> Result<Version, String> {
    let v = Version::parse(s).ok_or_else(|| format!("`{s}` is not a RouterOS version"))?;
    if v.major < 6 || v.major > 7 {
        return Err(format!(
            "RouterOS {v} is not supported: tikguard writes scripts for RouterOS 6.0 to 7.x"
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_refused_with_the_covering_prefixes() {
        let e = Prefix::parse("192.168.88.10-192.168.88.20").unwrap_err();
        assert!(
            e.contains("192.168.88.10/31,192.168.88.12/30,192.168.88.16/30,192.168.88.20"),
            "{e}"
        );
    }

    #[test]
    fn every_address_is_refused_as_no_restriction() {
        for s in ["0.0.0.0/0", "::/0"] {
            assert!(Prefix::parse(s).unwrap_err().contains("no restriction"));
        }
    }

    #[test]
    fn prefixes_are_written_as_routeros_prints_them() {
        assert_eq!(
            Prefix::parse("198.51.100.20/32").unwrap().text,
            "198.51.100.20"
        );
        assert_eq!(Prefix::parse("10.1.2.3/24").unwrap().text, "10.1.2.0/24");
        assert_eq!(Prefix::parse("2001:db8::1").unwrap().text, "2001:db8::1");
        // Any IPv6 length is a prefix.
        assert_eq!(
            Prefix::parse("2001:db8::/29").unwrap().text,
            "2001:db8::/29"
        );
    }

    #[test]
    fn two_halves_are_every_address_and_refused() {
        let p = |s: &str| Prefix::parse(s).unwrap();
        assert!(not_everything("--mgmt", &[p("0.0.0.0/1"), p("128.0.0.0/1")]).is_err());
        assert!(not_everything("--mgmt", &[p("::/1"), p("8000::/1")]).is_err());
        assert!(not_everything(
            "--mgmt",
            &[p("0.0.0.0/2"), p("64.0.0.0/2"), p("128.0.0.0/1")]
        )
        .is_err());
        assert!(not_everything("--mgmt", &[p("0.0.0.0/1"), p("192.0.2.0/24")]).is_ok());
    }

    #[test]
    fn the_routers_own_address_as_mgmt_is_warned_about() {
        let (c, _) = routeros_config::Config::load(
            b"/ip address\nadd address=192.168.88.1/24 interface=bridge\n".to_vec(),
        );
        let w = own_address_warnings(&c, &[Prefix::parse("192.168.88.1").unwrap()]);
        assert!(w[0].contains("did you mean 192.168.88.0/24"), "{w:?}");
        assert!(own_address_warnings(&c, &[Prefix::parse("192.168.88.0/24").unwrap()]).is_empty());
    }

    #[test]
    fn versions_before_6_are_refused() {
        assert!(target_version("5.0").is_err());
        assert!(target_version("6.0").is_ok());
        assert!(target_version("7.24").is_ok());
        assert!(target_version("seven").is_err());
    }
}
