//! `tikguard harden`: plan, prove, and write the hardening script.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use routeros_config::{Config, Version};
use serde::Serialize;

use crate::audit::WanChoice;
use crate::harden::{self, CertPlan, Intent, Prefix};
use crate::input;

/// Write the script that hardens a router's management plane, proven not to lock you out.
///
/// Plans only what CONFIG needs: disable the plaintext API; api-ssl with a certificate, TLS 1.2+
/// and `address=` limited to the API clients and management; other management services limited
/// to --mgmt; telnet, ftp, www, proxies, bandwidth server, MAC server and discovery on WAN off;
/// a dedicated API group and user; address lists, brute-force staging and a logged final drop
/// for management ports, placed above the existing rules; remote logging with --syslog.
///
/// Before anything is written the script is applied to CONFIG in memory and audited again:
/// every finding it claims to fix must be gone, nothing new may reach high, every --mgmt prefix
/// must keep winbox, ssh and api-ssl wherever it has them today, every --api-client must reach
/// api-ssl, and every command and argument must exist in RouterOS' command tree for the target
/// version. Otherwise it refuses and says why (exit 1).
///
/// Examples:
///   tikguard harden examples/isp-core-v7.rsc --api-client 198.51.100.20 --mgmt 10.255.0.0/24 -o harden.rsc
///   tikguard harden router.rsc --api-client 203.0.113.7 --mgmt 192.0.2.0/28 --syslog 192.0.2.10 \
///       --rollback undo.rsc --format json
///   cat router.rsc harden-plain.rsc | tikguard audit -      # with --no-guards: see the result
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The export to harden; `-` reads standard input. Not needed with --apply.
    #[arg(required_unless_present = "apply")]
    config: Option<String>,
    /// Read the configuration from this router over the API and apply the changes there:
    /// a dry run that lists the API commands, unless --yes is given; then audit the router again.
    #[arg(long, value_name = "ROUTER", conflicts_with = "config")]
    apply: Option<String>,
    /// With --apply: make the changes.
    #[arg(long, requires = "apply")]
    yes: bool,
    #[command(flatten)]
    connect: super::connect::ConnectArgs,
    /// Where the CRM/billing system connects from (repeatable, or comma-separated).
    #[arg(
        long = "api-client",
        value_name = "CIDR",
        value_delimiter = ',',
        required = true
    )]
    api_clients: Vec<String>,
    /// Where administrators must keep winbox/ssh/api-ssl access (repeatable). Required.
    #[arg(long, value_name = "CIDR", value_delimiter = ',', required = true)]
    mgmt: Vec<String>,
    /// Treat this interface as WAN (repeatable).
    #[arg(long, value_name = "IFACE")]
    wan: Vec<String>,
    /// Treat the members of this interface list as WAN.
    #[arg(long, value_name = "NAME", conflicts_with = "wan")]
    wan_list: Option<String>,
    /// Move api-ssl to this port.
    #[arg(long, value_name = "N")]
    api_port: Option<u16>,
    /// `generate` (create and sign one on the router) or the name of an existing certificate.
    #[arg(long, default_value = "generate", value_name = "generate|NAME")]
    cert: String,
    /// Send login events to this syslog receiver (port 514 by default).
    #[arg(long, value_name = "HOST[:PORT]")]
    syslog: Option<String>,
    /// RouterOS version the script is for (default: the export's, else 7.18).
    #[arg(long, value_name = "VERSION")]
    target_version: Option<String>,
    /// Name of the dedicated API user.
    #[arg(long, default_value = "tikguard-api", value_name = "NAME")]
    api_user: String,
    /// Put the API user's password, read from this file, into the script (by default the user is
    /// created disabled and the password is set by hand).
    #[arg(long, value_name = "PATH")]
    api_password_file: Option<String>,
    /// Write the script here (default: standard output).
    #[arg(short = 'o', long = "output", value_name = "SCRIPT")]
    output: Option<String>,
    /// Also write a script that restores what is changed.
    #[arg(long, value_name = "ROLLBACK")]
    rollback: Option<String>,
    /// Omit the `:if` guards (to append the script to an export and audit the result).
    #[arg(long)]
    no_guards: bool,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Serialize)]
struct JsonOut<'a> {
    schema_version: u32,
    changes: &'a [harden::Change],
    refused: Option<String>,
    script: String,
    unchecked: Vec<String>,
}

fn usage(msg: String) -> std::io::Result<u8> {
    eprintln!("tikguard: {msg}");
    Ok(2)
}

pub fn run(a: Args) -> std::io::Result<u8> {
    let parse_all = |v: &[String]| {
        v.iter()
            .map(|s| Prefix::parse(s.trim()))
            .collect::<Result<Vec<_>, _>>()
    };
    let api_clients = match parse_all(&a.api_clients) {
        Ok(p) => p,
        Err(e) => return usage(format!("--api-client: {e}")),
    };
    let mgmt = match parse_all(&a.mgmt) {
        Ok(p) => p,
        Err(e) => return usage(format!("--mgmt: {e}")),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut client = None;
    let source_name: String;
    let bytes = match (&a.config, &a.apply) {
        (Some(path), _) => {
            source_name = input::display_name(path).to_string();
            match input::read(path) {
                Ok(b) => b,
                Err(e) => return usage(e),
            }
        }
        (None, Some(router)) => {
            source_name = router.clone();
            let fetched = rt.block_on(async {
                let c = a.connect.connect(router).await?;
                let (bytes, _) = crate::live::fetch(&c).await?;
                Ok::<_, String>((c, bytes))
            });
            match fetched {
                Ok((c, b)) => {
                    client = Some(c);
                    b
                }
                Err(e) => {
                    eprintln!("tikguard: {e}");
                    return Ok(1);
                }
            }
        }
        (None, None) => return usage("give CONFIG or --apply ROUTER".into()),
    };
    let (config, parsed) = Config::load(bytes.clone());
    for d in &parsed.diagnostics {
        eprintln!(
            "tikguard: {source_name}:{}:{}: {} (line left out)",
            d.line, d.column, d.message
        );
    }
    let target = match &a.target_version {
        Some(v) => match Version::parse(v) {
            Some(v) => v,
            None => return usage(format!("--target-version `{v}` is not a RouterOS version")),
        },
        None => config
            .version
            .clone()
            .unwrap_or_else(|| Version::new(7, 18, 0)),
    };
    let syslog = match &a.syslog {
        None => None,
        Some(s) => {
            let (h, p) = match s.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') || h.starts_with('[') => match p.parse() {
                    Ok(p) => (h.trim_matches(|c| c == '[' || c == ']').to_string(), p),
                    Err(_) => return usage(format!("--syslog `{s}`: bad port")),
                },
                _ => (s.clone(), 514),
            };
            Some((h, p))
        }
    };
    let password_in_script = match &a.api_password_file {
        None => None,
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t.lines().next().unwrap_or("").to_string()),
            Err(e) => return usage(format!("cannot read {p}: {e}")),
        },
    };
    let intent = Intent {
        api_clients,
        mgmt,
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
        target: target.clone(),
        api_user: a.api_user.clone(),
        password_in_script,
    };
    let changes = harden::plan(&config, &intent);
    let proof = harden::prove(&bytes, &config, &changes, &intent);
    let header = format!(
        "tikguard harden for {} (RouterOS {target})\napi clients: {}; management: {}",
        source_name,
        a.api_clients.join(", "),
        a.mgmt.join(", ")
    );
    let script = harden::render(&changes, !a.no_guards, &header);
    let (refused, unchecked) = match &proof {
        Ok((_, p)) => (None, p.unchecked.clone()),
        Err(r) => (Some(r.0.clone()), Vec::new()),
    };
    if refused.is_none() {
        if let Some(path) = &a.output {
            if let Err(e) = std::fs::write(path, &script) {
                return usage(format!("cannot write {path}: {e}"));
            }
        }
        if let Some(path) = &a.rollback {
            let r = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .and_then(|mut f| f.write_all(harden::rollback(&changes).as_bytes()));
            if let Err(e) = r {
                return usage(format!("cannot write {path}: {e}"));
            }
        }
    }
    if let (Some(client), None) = (&client, &refused) {
        let mut ordered = changes.clone();
        if a.connect.plain {
            // Connected through the plaintext API: disable it last, after everything else is in.
            ordered.sort_by_key(|c| c.id == "service-api");
        }
        return rt.block_on(apply_live(client, &ordered, a.yes, &intent));
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match a.format {
        Format::Json => {
            let j = JsonOut {
                schema_version: 1,
                changes: &changes,
                refused: refused.clone(),
                script: if refused.is_none() {
                    script.clone()
                } else {
                    String::new()
                },
                unchecked,
            };
            serde_json::to_writer_pretty(&mut out, &j)?;
            writeln!(out)?;
        }
        Format::Text => {
            if let Some(r) = &refused {
                out.flush()?;
                eprintln!("tikguard: {r}");
            } else if changes.is_empty() {
                writeln!(
                    out,
                    "# nothing to do: the configuration already has what tikguard would add"
                )?;
            } else {
                if a.output.is_some() {
                    for ch in &changes {
                        let fixes = if ch.fixes.is_empty() {
                            String::new()
                        } else {
                            format!("  [fixes {}]", ch.fixes.join(", "))
                        };
                        writeln!(out, "{}{fixes}", ch.description)?;
                    }
                    if let Ok((_, p)) = &proof {
                        writeln!(out, "proof: findings {} -> {}; management and API clients keep access; commands checked against RouterOS {}", p.findings_before, p.findings_after, harden::schema::schema_version(&target).map(|v| v.to_string()).unwrap_or_else(|| format!("{target} (v6 argument set)")))?;
                    }
                } else {
                    write!(out, "{script}")?;
                }
                for u in &unchecked {
                    eprintln!("tikguard: note: {u}");
                }
            }
        }
    }
    out.flush()?;
    Ok(if refused.is_some() { 1 } else { 0 })
}

/// Lists (dry run) or runs the changes on a live router, then audits it again.
async fn apply_live(
    client: &routeros_api::Client,
    changes: &[harden::Change],
    yes: bool,
    intent: &Intent,
) -> std::io::Result<u8> {
    let (_, before) = match crate::live::fetch(client).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(1);
        }
    };
    let findings_before = crate::audit::run(&before, &intent.wan, &Default::default())
        .findings
        .len();
    if changes.is_empty() {
        println!("nothing to do: the router already has what tikguard would add");
        return Ok(0);
    }
    for ch in changes {
        println!(
            "{} {}",
            if yes { "applying:" } else { "would apply:" },
            ch.description
        );
        for line in &ch.lines {
            let sentences = match crate::live::to_api(client, line).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("tikguard: {e}");
                    return Ok(1);
                }
            };
            for words in sentences {
                let shown: Vec<String> = words
                    .iter()
                    .map(|w| routeros_config::secrets::redact_embedded(w).into_owned())
                    .map(|w| String::from_utf8_lossy(&w).into_owned())
                    .collect();
                println!("    {}", shown.join(" "));
                if yes {
                    if let Err(e) = client.call_words(words).await {
                        eprintln!("tikguard: {}: {e}", shown.join(" "));
                        return Ok(1);
                    }
                }
            }
        }
    }
    if !yes {
        println!("dry run: nothing changed; run again with --yes to apply");
        return Ok(0);
    }
    match crate::live::fetch(client).await {
        Ok((_, after)) => {
            let n = crate::audit::run(&after, &intent.wan, &Default::default())
                .findings
                .len();
            println!("live audit: findings {findings_before} -> {n}");
            Ok(0)
        }
        Err(e) => {
            eprintln!("tikguard: {e}");
            Ok(1)
        }
    }
}
