//! Which client a TLS client certificate is, and whether a login may use it.
//!
//! A listener with `client-ca` verifies the certificates clients present. A verified
//! certificate names one client, and the connection may log in as that client only: a CRM's
//! stolen password used with another client's certificate (or the other way round) is refused
//! as a wrong password is, and logged with both names. Without this a certificate was a second
//! factor for any client, not for its own.
//!
//! The name is read from one place, chosen per listener (`client-cert-name`):
//!
//! - `cn` (the default): the subject's common name, exactly one (a certificate with two
//!   is refused: which one it names is a choice RouterOS' own certificates never ask for).
//!   RouterOS' `/certificate add name=... common-name=billing` and easy-rsa's `build-client-full
//!   billing` put the client's name there.
//! - `san-dns`: any DNS name of the subject alternative names (RFC 5280, 4.2.1.6), as
//!   step-ca, cfssl and rcgen issue them; a certificate with several may log in as each.
//!
//! Names compare byte for byte with the client's configured name (the part before `@` of a
//! `client@router` login): `Billing` is not `billing`. A name that is not text (a BMPString
//! common name) names no client.

use x509_parser::prelude::*;

/// Where a client certificate carries the client's name (`client-cert-name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CertName {
    #[default]
    Cn,
    SanDns,
}

impl CertName {
    pub fn parse(s: &str) -> Option<CertName> {
        match s {
            "cn" => Some(CertName::Cn),
            "san-dns" => Some(CertName::SanDns),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CertName::Cn => "cn",
            CertName::SanDns => "san-dns",
        }
    }
}

/// The verified certificate a connection presented, as far as logins care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCert {
    pub how: CertName,
    /// The names it carries where `how` looks, or why it carries none usable.
    pub names: Result<Vec<String>, String>,
}

/// Longest certificate name a log line carries.
const MAX_SHOWN: usize = 64;

impl ClientCert {
    /// Reads the end-entity certificate `der` (verified by the listener's `client-ca`).
    pub fn read(der: &[u8], how: CertName) -> ClientCert {
        ClientCert {
            how,
            names: names(der, how),
        }
    }

    /// Whether a login as `client` may use this certificate; if not, why (for the log).
    pub fn admits(&self, client: &str) -> Result<(), String> {
        let names = match &self.names {
            Ok(n) => n,
            Err(why) => return Err(format!("client certificate: {why}")),
        };
        if names.iter().any(|n| n == client) {
            return Ok(());
        }
        let shown: Vec<String> = names.iter().take(4).map(|n| shown(n)).collect();
        Err(format!(
            "client certificate is for {} ({}), not for client `{}`",
            if shown.is_empty() {
                "no client".to_string()
            } else {
                shown.join(", ")
            },
            self.how.as_str(),
            shown_name(client),
        ))
    }
}

fn shown_name(n: &str) -> String {
    let n = crate::term::printable(n);
    if n.len() <= MAX_SHOWN {
        return n.into_owned();
    }
    let mut end = MAX_SHOWN;
    while !n.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &n[..end])
}

fn shown(n: &str) -> String {
    format!("`{}`", shown_name(n))
}

fn names(der: &[u8], how: CertName) -> Result<Vec<String>, String> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| format!("not a readable certificate: {e}"))?;
    match how {
        CertName::Cn => {
            let cns: Vec<&AttributeTypeAndValue<'_>> = cert.subject().iter_common_name().collect();
            match cns[..] {
                [] => Err("no common name".into()),
                [one] => one
                    .as_str()
                    .map(|s| vec![s.to_string()])
                    .map_err(|_| "its common name is not text".into()),
                _ => Err(format!("{} common names, which is ambiguous", cns.len())),
            }
        }
        CertName::SanDns => {
            let san = cert
                .subject_alternative_name()
                .map_err(|e| format!("unreadable subject alternative names: {e}"))?;
            let dns: Vec<String> = san
                .map(|ext| {
                    ext.value
                        .general_names
                        .iter()
                        .filter_map(|g| match g {
                            GeneralName::DNSName(d) => Some(d.to_string()),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            if dns.is_empty() {
                return Err("no DNS subject alternative name".into());
            }
            Ok(dns)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

    fn cert(cns: &[&str], dns: &[&str]) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        for cn in cns {
            dn.push(DnType::CommonName, *cn);
        }
        p.distinguished_name = dn;
        p.subject_alt_names = dns
            .iter()
            .map(|d| SanType::DnsName((*d).try_into().unwrap()))
            .collect();
        p.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn a_common_name_binds_exactly_its_client() {
        let c = ClientCert::read(&cert(&["billing"], &["admin"]), CertName::Cn);
        assert_eq!(c.admits("billing"), Ok(()));
        let e = c.admits("admin").unwrap_err();
        assert!(
            e.contains("for `billing` (cn), not for client `admin`"),
            "{e}"
        );
        assert!(c.admits("Billing").is_err());
        assert!(c.admits("billing2").is_err());
        assert!(c.admits("").is_err());
    }

    #[test]
    fn dns_names_bind_each_of_theirs_and_nothing_else() {
        let c = ClientCert::read(&cert(&["admin"], &["billing", "radius"]), CertName::SanDns);
        assert_eq!(c.admits("billing"), Ok(()));
        assert_eq!(c.admits("radius"), Ok(()));
        assert!(c.admits("admin").is_err());
    }

    #[test]
    fn a_certificate_without_a_usable_name_admits_nobody() {
        for (der, how, why) in [
            (cert(&[], &["billing"]), CertName::Cn, "no common name"),
            (
                cert(&["billing"], &[]),
                CertName::SanDns,
                "no DNS subject alternative name",
            ),
            (
                b"not DER".to_vec(),
                CertName::Cn,
                "not a readable certificate",
            ),
        ] {
            let e = ClientCert::read(&der, how).admits("billing").unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn names_in_refusals_are_escaped_and_cut() {
        let long = "x".repeat(300);
        let c = ClientCert::read(&cert(&["bill\u{1b}[2Jing"], &[]), CertName::Cn);
        let e = c.admits(&long).unwrap_err();
        assert!(!e.contains('\u{1b}'), "{e}");
        assert!(e.len() < 250, "{e}");
    }
}
