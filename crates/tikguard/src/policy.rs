//! The least privilege an API client's group may hold, shared by the audit's fix lines (TG302,
//! TG304) and by `harden`: both judge a group by its policies alone, because users are not in
//! exports.
//!
//! - A group is tightened to what it grants of `read`, `write` and `api`, every other policy of
//!   the version denied: never a policy it did not have (a read-only `read,api` group stays
//!   read-only).
//! - A group is *plainly API-only* when it grants `api` and no way to log in otherwise: none of
//!   `local`, `telnet`, `ssh`, `ftp`, `winbox`, `web` or `rest-api`. A custom group holding `api`
//!   among those may be the administrators' own; it is left to the administrator to name.
//!
//! Policies per version: RouterOS 6 has `dude` and `tikapp` and no `rest-api`
//! (`routeros_config::defaults::POLICIES` lists 7's; MikroTik's User manual).

use routeros_config::defaults::POLICIES;
use routeros_config::value::parse_list;
use routeros_config::Version;

/// Policies that let a user in other than through the API.
pub const LOGINS: &[&str] = &["local", "telnet", "ssh", "ftp", "winbox", "web", "rest-api"];

/// Every policy of the version.
pub fn all(v: &Version) -> Vec<&'static str> {
    let mut p: Vec<&'static str> = POLICIES.to_vec();
    if v.major < 7 {
        p.retain(|x| *x != "rest-api");
        p.extend(["dude", "tikapp"]);
    }
    p
}

/// The policies a list grants (its entries without `!`).
pub fn granted(policy: &str) -> Vec<String> {
    parse_list(policy.as_bytes())
        .iter()
        .filter(|e| !e.negated)
        .map(|e| String::from_utf8_lossy(e.name).into_owned())
        .collect()
}

/// Whether a group granting `granted` is plainly for the API.
pub fn plainly_api_only(granted: &[String]) -> bool {
    granted.iter().any(|p| p == "api") && !granted.iter().any(|p| LOGINS.contains(&p.as_str()))
}

/// The least privilege for a group granting `granted`: what it grants of read, write and api,
/// every other policy of the version denied.
pub fn api_policy(v: &Version, granted: &[String]) -> String {
    let keep: Vec<&str> = ["read", "write", "api"]
        .into_iter()
        .filter(|k| granted.iter().any(|g| g == k))
        .collect();
    let mut out: Vec<String> = keep.iter().map(|k| k.to_string()).collect();
    out.extend(
        all(v)
            .into_iter()
            .filter(|p| !keep.contains(p))
            .map(|p| format!("!{p}")),
    );
    out.join(",")
}

/// `granted` without the login policies, the login policies denied: TG304's fix.
pub fn without_logins(granted: &[String]) -> String {
    let mut out: Vec<String> = granted
        .iter()
        .filter(|g| !LOGINS.contains(&g.as_str()))
        .cloned()
        .collect();
    out.extend(LOGINS.iter().map(|l| format!("!{l}")));
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(s: &str) -> Vec<String> {
        granted(s)
    }

    #[test]
    fn a_group_never_gains_a_policy() {
        let v = Version::new(7, 16, 0);
        let p = api_policy(&v, &g("read,api,test"));
        assert!(p.starts_with("read,api,!"), "{p}");
        assert!(p.contains("!write") && p.contains("!test"), "{p}");
        let full = api_policy(&v, &g("read,write,api,policy"));
        assert!(full.starts_with("read,write,api,!"), "{full}");
    }

    #[test]
    fn routeros_6_has_dude_and_tikapp_and_no_rest_api() {
        let p = api_policy(&Version::new(6, 49, 0), &g("api"));
        assert!(p.contains("!dude") && p.contains("!tikapp") && !p.contains("rest-api"));
    }

    #[test]
    fn interactive_logins_make_a_group_not_plainly_api_only() {
        assert!(plainly_api_only(&g("read,write,api,policy,sensitive")));
        assert!(!plainly_api_only(&g("read,write,api,winbox")));
        assert!(!plainly_api_only(&g("read,api,rest-api")));
        assert!(!plainly_api_only(&g("read,write,winbox")));
    }
}
