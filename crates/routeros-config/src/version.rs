//! RouterOS versions: read from export headers, compared numerically.

use std::cmp::Ordering;
use std::fmt;

use serde::{Serialize, Serializer};

/// A RouterOS version such as `7.12.1`, `6.49.7` or `6.45.X` (as some headers say).
///
/// Ordering compares major, minor, then patch (a missing or non-numeric patch counts as 0), so
/// `6.45.X` sorts with `6.45`. Pre-release tags (`7.13rc2`, `7.1beta4`) sort before the release.
#[derive(Clone, Debug, Eq)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
    pub patch: Option<u16>,
    /// `rc2`, `beta4`: anything after the numbers.
    pub pre: Option<String>,
    raw: String,
}

impl Version {
    /// Parses `7.12.1`, `6.48`, `7.13rc2`, `6.45.X`. Returns `None` for anything else.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let mut parts = s.splitn(3, '.');
        let major: u16 = parts.next()?.parse().ok()?;
        let minor_part = parts.next()?;
        let digits = minor_part
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(minor_part.len());
        let minor: u16 = minor_part[..digits].parse().ok()?;
        let mut pre = (digits < minor_part.len()).then(|| minor_part[digits..].to_string());
        let mut patch = None;
        if let Some(p) = parts.next() {
            let d = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
            patch = p[..d].parse().ok();
            if d < p.len() && patch.is_some() {
                pre = Some(p[d..].to_string());
            }
            if patch.is_none() && !p.eq_ignore_ascii_case("x") {
                return None;
            }
        }
        if major == 0 || major > 20 {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
            pre,
            raw: s.to_string(),
        })
    }

    /// A version made of numbers.
    pub fn new(major: u16, minor: u16, patch: u16) -> Version {
        Version {
            major,
            minor,
            patch: Some(patch),
            pre: None,
            raw: format!("{major}.{minor}.{patch}"),
        }
    }

    /// Reads the version from an export header comment line:
    /// `# 2023-12-03 20:27:23 by RouterOS 7.10`, `# sep/16/2021 13:26:19 by RouterOS 6.48.4`,
    /// `# RouterOS 6.48.3`. Other comments (`# Tested on RouterOs 6.47.4`) are not headers.
    pub fn from_header_comment(line: &[u8]) -> Option<Version> {
        let text = std::str::from_utf8(line).ok()?;
        let body = text.trim_start_matches('#').trim();
        let rest = if let Some(i) = body.find(" by RouterOS ") {
            &body[i + " by RouterOS ".len()..]
        } else {
            body.strip_prefix("RouterOS ")?
        };
        Version::parse(rest.split_whitespace().next()?)
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    fn key(&self) -> (u16, u16, u16, u8) {
        (
            self.major,
            self.minor,
            self.patch.unwrap_or(0),
            if self.pre.is_some() { 0 } else { 1 },
        )
    }

    /// True from `major.minor.patch` on.
    pub fn at_least(&self, major: u16, minor: u16, patch: u16) -> bool {
        self.key() >= (major, minor, patch, 1)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_vintages_all_give_the_version() {
        for (line, want) in [
            ("# 2023-12-03 20:27:23 by RouterOS 7.10", "7.10"),
            ("# sep/16/2021 13:26:19 by RouterOS 6.48.4", "6.48.4"),
            ("# RouterOS 6.48.3", "6.48.3"),
            ("# ____-__-__ __:__:__ by RouterOS 7.18", "7.18"),
            ("# oct/02/2020 16:12:54 by RouterOS 6.45.X", "6.45.X"),
            ("# jan/02/1970 00:24:39 by RouterOS 5.7", "5.7"),
        ] {
            let v = Version::from_header_comment(line.as_bytes()).expect(line);
            assert_eq!(v.as_str(), want);
        }
        assert!(Version::from_header_comment(b"# Tested on RouterOs 6.47.4 (RB4011)").is_none());
        assert!(Version::from_header_comment(b"# software id = 4HT6-UN0Y").is_none());
    }

    #[test]
    fn versions_order_numerically_with_prereleases_first() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("6.49.10") > v("6.49.9"));
        assert!(v("7.10") > v("7.9.2"));
        assert!(v("7.13rc2") < v("7.13"));
        assert!(v("6.45.X") == v("6.45"));
        assert!(v("7.12.1").at_least(7, 12, 0));
        assert!(!v("7.11.2").at_least(7, 12, 0));
        assert!(Version::parse("banana").is_none());
        assert!(Version::parse("6.48.beta").is_none());
    }
}
