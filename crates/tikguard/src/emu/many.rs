//! Many emulated routers from one process, for fleet tests and benchmarks: each export on its
//! own address (`--serve CONFIG=ADDR`, repeatable), or every `.rsc` of a folder on consecutive
//! ports (`--dir DIR --first-port ADDR`). Each router is its own [`super::Router`] with its own
//! state, limits and memory budget, and behaves as the RouterOS version of its export's header
//! (so a folder of exports gives a fleet of mixed versions).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use routeros_config::Version;

use super::{Emulator, Options};

/// One router to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The export's file name without `.rsc`: the router's name in what is printed.
    pub name: String,
    pub config: String,
    pub addr: SocketAddr,
}

/// `CONFIG=ADDR` pairs (split at the last `=`, as a path may hold one).
pub fn from_pairs(pairs: &[String]) -> Result<Vec<Spec>, String> {
    pairs
        .iter()
        .map(|p| {
            let (config, addr) = p
                .rsplit_once('=')
                .ok_or_else(|| format!("--serve takes CONFIG=ADDR, not `{p}`"))?;
            let addr = addr
                .parse()
                .map_err(|_| format!("--serve `{p}`: `{addr}` is not an address:port"))?;
            Ok(Spec {
                name: stem(config),
                config: config.to_string(),
                addr,
            })
        })
        .collect()
}

/// Every `*.rsc` of `dir`, sorted by name, on `first`, `first`+1, ...
pub fn from_dir(dir: &Path, first: SocketAddr) -> Result<Vec<Spec>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rsc"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{} holds no .rsc export", dir.display()));
    }
    if first.port() == 0 {
        return Err("--first-port needs a port (consecutive ports from it), not 0".into());
    }
    files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let port = u16::try_from(usize::from(first.port()) + i)
                .map_err(|_| format!("{} exports do not fit on ports from {first}", files.len()))?;
            Ok(Spec {
                name: stem(&f.to_string_lossy()),
                config: f.to_string_lossy().into_owned(),
                addr: SocketAddr::new(first.ip(), port),
            })
        })
        .collect()
}

fn stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
}

/// How every router is served.
pub struct Common {
    pub passwords: HashMap<String, String>,
    /// Overrides each export's version.
    pub version: Option<Version>,
    /// `api-ssl` with this configuration on each address; else the plaintext `api`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Each router's memory budget, bytes.
    pub budget: usize,
}

/// Loads and starts every router; an export that does not load stops it all, named.
pub async fn serve(specs: &[Spec], common: &Common) -> Result<Vec<(Spec, Emulator)>, String> {
    let mut out = Vec::with_capacity(specs.len());
    for s in specs {
        let (config, _) = crate::input::load_export(&s.config)?;
        let router = super::router_from(config, common.passwords.clone(), common.version.clone());
        let (api, api_ssl) = match &common.tls {
            Some(cfg) => (None, Some((s.addr, cfg.clone()))),
            None => (Some(s.addr), None),
        };
        let e = super::start(
            router,
            Options {
                api,
                api_ssl,
                budget: common.budget,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("{}: {e}", s.config))?;
        out.push((s.clone(), e));
    }
    Ok(out)
}
