//! What `tikguard harden` is asked for, as text from the command line (or a fleet's inventory),
//! turned into a checked [`Intent`] and the [`Plan`] for one configuration. Shared by the
//! single-router command and `fleet harden`, so that both plan the same way from the same
//! options.

use routeros_config::{Config, Version};

use super::tunnel::{self, Wg};
use super::{intent, CertPlan, Intent, Plan, Prefix};
use crate::audit::WanChoice;
use crate::ros::script::comment_text;

/// The options of a plan, as given (each as the flag's text).
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub api_clients: Vec<String>,
    pub api_tunnel: Option<String>,
    pub api_client_key: Option<String>,
    pub api_client_tunnel_address: Option<String>,
    pub mgmt: Vec<String>,
    pub wan: Vec<String>,
    pub wan_list: Option<String>,
    pub api_port: Option<u16>,
    /// `generate` or a certificate's name.
    pub cert: String,
    pub syslog: Option<String>,
    pub target_version: Option<String>,
    pub api_user: Option<String>,
    pub api_group: Option<String>,
    pub replace_allow_lists: bool,
    pub keep_plain_api: bool,
    pub mgmt_interfaces: Vec<String>,
    pub create_api_user: bool,
    pub api_password_file: Option<String>,
}

/// A plan for one configuration, with what it was made from.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub intent: Intent,
    /// `--api-tunnel wireguard`: the tunnel asked for.
    pub tunnel: Option<Wg>,
    pub plan: Plan,
    /// Warnings to show (not errors): management prefixes that hold the router's own address.
    pub warnings: Vec<String>,
}

/// The intent from the options, or a usage error.
pub fn intent_from(a: &Options, config: &Config) -> Result<Intent, String> {
    let parse_all = |flag: &str, v: &[String]| {
        v.iter()
            .map(|s| Prefix::parse(s).map_err(|e| format!("{flag}: {e}")))
            .collect::<Result<Vec<_>, _>>()
    };
    let target = match &a.target_version {
        Some(v) => intent::target_version(v).map_err(|e| format!("--target-version: {e}"))?,
        None => config
            .version
            .clone()
            .unwrap_or_else(|| Version::new(7, 18, 0)),
    };
    let syslog = match &a.syslog {
        None => None,
        Some(s) => Some(match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.starts_with('[') => match p.parse() {
                Ok(p) => (h.trim_matches(|c| c == '[' || c == ']').to_string(), p),
                Err(_) => return Err(format!("--syslog `{s}`: bad port")),
            },
            _ => (s.clone(), 514),
        }),
    };
    // RouterOS' logging action takes an address for `remote=` (MikroTik's Log manual).
    if let Some((h, p)) = &syslog {
        if h.parse::<std::net::IpAddr>().is_err() {
            return Err(format!(
                "--syslog `{h}`: give the receiver's IP address (RouterOS' remote logging takes an address, not a name)"
            ));
        }
        if *p == 0 {
            return Err("--syslog: port 0 is not a port".into());
        }
    }
    if let Some(p) = a.api_port {
        if p == 0 {
            return Err("--api-port: port 0 is not a port".into());
        }
        for svc in crate::audit::exposure::SERVICES {
            if *svc == "api-ssl" {
                continue;
            }
            if let Some((port, enabled, _)) =
                crate::audit::exposure::service_state(config, svc, false)
            {
                if port == p && (enabled || *svc == "api") {
                    return Err(format!(
                        "--api-port {p}: `{svc}` uses that port; choose a free one"
                    ));
                }
            }
        }
    }
    if a.cert != "generate"
        && (a.cert.is_empty() || a.cert == "none" || a.cert.chars().any(char::is_control))
    {
        return Err(format!(
            "--cert `{}`: give `generate` or the name of a certificate on the router",
            comment_text(&a.cert)
        ));
    }
    let password_in_script = match &a.api_password_file {
        None => None,
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t.lines().next().unwrap_or("").to_string()),
            Err(e) => return Err(format!("cannot read {p}: {e}")),
        },
    };
    Ok(Intent {
        api_clients: parse_all("--api-client", &a.api_clients)?,
        mgmt: parse_all("--mgmt", &a.mgmt)?,
        wan: WanChoice {
            interfaces: a.wan.clone(),
            list: a.wan_list.clone(),
        },
        api_port: a.api_port,
        cert: if a.cert == "generate" {
            CertPlan::Generate
        } else {
            CertPlan::Named(a.cert.clone())
        },
        syslog,
        target,
        api_user: a.api_user.clone(),
        create_api_user: a.create_api_user,
        password_in_script,
        api_group: a.api_group.clone(),
        replace_allow_lists: a.replace_allow_lists,
        keep_plain_api: a.keep_plain_api,
        mgmt_interfaces: a.mgmt_interfaces.clone(),
    })
}

/// Checks the options against `config` (read from `source_name`) and plans: the intent, the
/// tunnel, the plan, and warnings; or a usage error.
pub fn prepare(a: &Options, config: &Config, source_name: &str) -> Result<Prepared, String> {
    let mut intent = intent_from(a, config)?;
    // The tunnel's CRM address is an API client like any --api-client.
    let tunnel = match (&a.api_client_key, &a.api_client_tunnel_address) {
        (Some(k), Some(addr)) if a.api_tunnel.is_some() => {
            let w = tunnel::parse(k, addr, &intent.mgmt, &intent.target, config)?;
            intent.api_clients.push(w.client.clone());
            Some(w)
        }
        _ => None,
    };
    // api-ssl's `address=` and its accept take both flags' prefixes: together they must not
    // be every address either (`--mgmt 0.0.0.0/1 --api-client 128.0.0.0/1`).
    let both: Vec<_> = intent
        .mgmt
        .iter()
        .chain(&intent.api_clients)
        .cloned()
        .collect();
    for (flag, ps) in [
        ("--mgmt", &intent.mgmt),
        ("--api-client", &intent.api_clients),
        ("--mgmt and --api-client (api-ssl takes both)", &both),
    ] {
        intent::not_everything(flag, ps)?;
    }
    // No API client: nobody is to use the API, which is right only where nobody does today.
    if intent.api_clients.is_empty() {
        let on: Vec<&str> = ["api", "api-ssl"]
            .into_iter()
            .filter(|s| super::plan::service_enabled(config, s))
            .collect();
        if !on.is_empty() {
            return Err(format!(
                "{} is on in {}: give --api-client with the addresses the CRM/billing system connects from (or --api-tunnel), or, if nothing uses the API, disable it first (`/ip service disable {}`) and plan again",
                on.join(" and "),
                comment_text(source_name),
                on.join(",")
            ));
        }
        // The flags that only shape the API would do nothing with it off: said, not dropped.
        let asked: Vec<&str> = [
            ("--create-api-user", a.create_api_user),
            ("--api-user", a.api_user.is_some()),
            ("--api-group", a.api_group.is_some()),
            ("--api-password-file", a.api_password_file.is_some()),
            ("--keep-plain-api", a.keep_plain_api),
            ("--api-port", a.api_port.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect();
        if !asked.is_empty() {
            return Err(format!(
                "{} shape the API, which stays off without --api-client (api and api-ssl are off in {}): give --api-client with the addresses the CRM/billing system connects from, or leave {} out",
                asked.join(", "),
                comment_text(source_name),
                if asked.len() == 1 { "it" } else { "them" }
            ));
        }
    }
    let warnings = intent::own_address_warnings(config, &intent.mgmt);
    intent.wan.check(config, source_name)?;
    let mgmt_ifaces = WanChoice {
        interfaces: intent.mgmt_interfaces.clone(),
        list: None,
    };
    mgmt_ifaces
        .check(config, source_name)
        .map_err(|e| e.replacen("--wan", "--mgmt-interface", 1))?;
    let mut plan = super::plan(config, &intent);
    if let Some(w) = &tunnel {
        tunnel::extend(&mut plan, config, w);
    }
    Ok(Prepared {
        intent,
        tunnel,
        plan,
        warnings,
    })
}

/// Writes a plan's output (script, rollback, plan JSON) for `harden` and `fleet harden` alike;
/// one that may hold a secret is created 0600, and an existing one set to 0600.
pub fn write_file(path: &std::path::Path, bytes: &[u8], private: bool) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    if private {
        o.mode(0o600);
    }
    let r = o.open(path).and_then(|mut f| {
        if private {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(bytes)
    });
    r.map_err(|e| format!("cannot write {}: {e}", path.display()))
}
