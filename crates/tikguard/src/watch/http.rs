//! The HTTP(S) client watch talks to CrowdSec's Local API and to webhooks with: hyper's pooled
//! client over rustls (ring), with the system's roots or a given CA, a timeout on every request
//! and a cap on every response body.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A response body larger than this is an error: CrowdSec's startup stream with the community
/// blocklist is some tens of thousands of decisions (about 150 bytes each).
pub const MAX_BODY: usize = 64 << 20;
/// Every request, connect to last byte.
pub const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Http {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Http {
    /// `ca`: a PEM file to verify HTTPS servers with instead of the system's roots.
    pub fn new(ca: Option<&str>) -> Result<Http, String> {
        let mut roots = rustls::RootCertStore::empty();
        match ca {
            Some(path) => {
                for c in routeros_api::tls::load_ca(std::path::Path::new(path))? {
                    roots.add(c).map_err(|e| format!("{path}: {e}"))?;
                }
            }
            None => {
                // Certificates the system store holds that rustls cannot use are skipped, as
                // every rustls-based client does.
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Http {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(60))
                .build(https),
        })
    }

    /// Sends a request; the status and the body. `headers` never reach an error message (they
    /// carry keys and tokens).
    pub async fn send(
        &self,
        method: hyper::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Bytes), String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("{}: {e}", shown(url)))?;
        let url = &shown(url);
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        req = req.header(
            "user-agent",
            concat!("tikguard/", env!("CARGO_PKG_VERSION")),
        );
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| format!("{url}: {e}"))?;
        let work = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| format!("{url}: {}", error_chain(&e)))?;
            let status = resp.status().as_u16();
            let body = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| format!("{url}: reading the response: {e}"))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(TIMEOUT, work)
            .await
            .map_err(|_| format!("{url}: no answer in {} s", TIMEOUT.as_secs()))?
    }
}

/// A URL as errors show it: scheme and host, never a path or query (webhook URLs carry their
/// token there) nor credentials.
pub fn shown(url: &str) -> String {
    match url.parse::<hyper::Uri>() {
        Ok(u) => {
            let host = u.host().unwrap_or("?");
            let port = u.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
            let more = if u.path_and_query().is_some_and(|p| p.as_str() != "/") {
                "/..."
            } else {
                ""
            };
            format!("{}://{host}{port}{more}", u.scheme_str().unwrap_or("http"))
        }
        Err(_) => "(a URL that does not parse)".into(),
    }
}

/// An error with its causes, which hyper keeps apart (`client error (Connect): ... refused`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_in_errors_lose_their_path_query_and_credentials() {
        assert_eq!(
            super::shown("https://hooks.example.net/services/T0/B0/SECRET?x=1"),
            "https://hooks.example.net/..."
        );
        assert_eq!(
            super::shown("http://user:pw@127.0.0.1:8080/"),
            "http://127.0.0.1:8080"
        );
    }
}
