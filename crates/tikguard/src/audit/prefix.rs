//! A prefix as `/ip service address=` and address lists take it: never a range, never every
//! address, written as RouterOS prints it (the network address; a single host without `/32` or
//! `/128`), so that a guard comparing `address=` finds the entry an earlier run added.

use routeros_config::value::parse_addr;

use super::addrset::AddrSet;

/// A prefix given on the command line.
#[derive(Clone, Debug)]
pub struct Prefix {
    /// As RouterOS prints it: `198.51.100.20`, `192.0.2.0/24`, `2001:db8::/48`.
    pub text: String,
    pub set: AddrSet,
    pub v6: bool,
}

impl Prefix {
    pub fn parse(s: &str) -> Result<Prefix, String> {
        let s = s.trim();
        let m = parse_addr(s.as_bytes())
            .filter(|m| !m.negated)
            .ok_or_else(|| {
                format!("`{s}` is not an address or prefix (e.g. 198.51.100.20/32, 2001:db8::/48)")
            })?;
        let set = AddrSet::from_range(m.range);
        let prefixes = set.to_prefixes();
        if prefixes.len() != 1 {
            return Err(format!(
                "`{s}` is a range; RouterOS takes prefixes here: use {}",
                prefixes.join(",")
            ));
        }
        if set.is_all() {
            return Err(format!(
                "`{s}` is every address: that is no restriction; name the prefixes that need access"
            ));
        }
        let full = if m.range.v6 { "/128" } else { "/32" };
        let text = prefixes[0]
            .strip_suffix(full)
            .unwrap_or(&prefixes[0])
            .to_string();
        Ok(Prefix {
            text,
            set,
            v6: m.range.v6,
        })
    }
}
