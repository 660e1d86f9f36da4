//! Facts about a server certificate, from its DER: names, issuer, validity, key, signature.

use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CertFacts {
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    pub san: Vec<String>,
    pub self_signed: bool,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub key_type: String,
    pub key_bits: u32,
    pub signature: String,
}

fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ed25519",
        other => other,
    }
    .to_string()
}

/// Reads a DER certificate; `now` is Unix seconds.
pub fn facts(der: &[u8], now: i64) -> Option<CertFacts> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let san = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .map(|g| match g {
                    GeneralName::DNSName(d) => format!("DNS:{d}"),
                    GeneralName::IPAddress(ip) => match ip.len() {
                        4 => format!("IP:{}", std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3])),
                        16 => {
                            let a: [u8; 16] = (*ip).try_into().unwrap_or([0; 16]);
                            format!("IP:{}", std::net::Ipv6Addr::from(a))
                        }
                        _ => "IP:?".into(),
                    },
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .unwrap_or_default();
    let (key_type, key_bits) = match tbs.subject_pki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
            ("RSA".to_string(), rsa.key_size() as u32)
        }
        Ok(x509_parser::public_key::PublicKey::EC(ec)) => ("EC".to_string(), ec.key_size() as u32),
        Ok(x509_parser::public_key::PublicKey::DSA(_)) => ("DSA".to_string(), 0),
        _ => {
            let oid = tbs.subject_pki.algorithm.algorithm.to_id_string();
            if oid == "1.3.101.112" {
                ("Ed25519".to_string(), 256)
            } else {
                (oid, 0)
            }
        }
    };
    let not_after = tbs.validity.not_after.timestamp();
    Some(CertFacts {
        sha256: hex::encode(Sha256::digest(der)),
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        san,
        self_signed: tbs.subject.as_raw() == tbs.issuer.as_raw(),
        not_before: tbs.validity.not_before.to_rfc2822().unwrap_or_default(),
        not_after: tbs.validity.not_after.to_rfc2822().unwrap_or_default(),
        days_left: (not_after - now).div_euclid(86_400),
        key_type,
        key_bits,
        signature: signature_name(&cert.signature_algorithm.algorithm.to_id_string()),
    })
}
