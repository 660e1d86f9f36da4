//! The API-SSL certificate a router presented: its fingerprint, and when it expires (the
//! notAfter of the end-entity certificate in the TLS handshake), for the fleet's results and the
//! exporter's days-left gauge alike.

use routeros_api::Client;

use super::result::CertSeen;

/// A certificate's notAfter, Unix seconds.
pub fn not_after(der: &[u8]) -> Option<i64> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
    Some(cert.validity().not_after.timestamp())
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(t: i64) -> String {
    let (y, m, d) = crate::civil::civil(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// What a TLS connection showed of the router's certificate at `now` (Unix seconds): none on
/// a plaintext connection; no dates where the handshake went through OpenSSL.
pub fn seen(c: &Client, now: i64) -> Option<CertSeen> {
    let fp = c.fingerprint()?;
    let end = c.peer_certificate().and_then(not_after);
    Some(CertSeen {
        sha256: fp.to_string(),
        not_after: end.map(rfc3339),
        days_left: end.map(|t| (t - now).div_euclid(86_400)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
    }

    #[test]
    fn a_certificate_s_not_after_is_read_from_its_der() {
        let mut p = rcgen::CertificateParams::new(vec!["r1".into()]).unwrap();
        p.not_after = rcgen::date_time_ymd(2031, 5, 17);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        let t = not_after(cert.der()).unwrap();
        assert_eq!(rfc3339(t), "2031-05-17T00:00:00Z");
    }
}
