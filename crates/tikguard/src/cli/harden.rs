//! `tikguard harden`: plan, prove, and write the hardening script.

use std::io::Write;

use routeros_config::Config;
use serde::Serialize;

use crate::harden::options::{self, Options};
use crate::harden::{self, Intent, Plan};
use crate::input;
use crate::ros::script::comment_text;

/// Write the script that hardens a router's management plane, proven not to lock you out.
///
/// Plans only what CONFIG needs: api-ssl with a certificate, TLS 1.2+ and `address=` limited to
/// the API clients and management; other management services limited to --mgmt (and, when --mgmt
/// is IPv4 only, to the IPv6 and link-local addresses of the interfaces where management lives);
/// telnet, ftp, www, proxies and the bandwidth server off; MAC server and discovery only where
/// management lives; the CRM's groups (those holding `api` and no other login, or named by
/// --api-group) cut to what they grant of read, write and api, and their users restricted to
/// --api-client (a group holding `api` with winbox, ssh, web... may be the administrators' and is
/// left as it is); accepts for the API clients and management above a logged final drop of the
/// management ports in use (brute-force staging only where a port stays open beyond them: the
/// plaintext API under --keep-plain-api);
/// login events logged (remotely with --syslog, else to disk); the plaintext API disabled last.
///
/// The script runs in an order that survives a stop after any line (RouterOS stops an import at
/// the first error). Before anything is written it is applied to CONFIG in memory line by line:
/// after every line management keeps winbox, ssh and api-ssl and the API clients keep the API,
/// even when the block lists hold them; after the whole script every finding it claims to fix is
/// gone, nothing new reaches high, and every command and argument exists in RouterOS' command
/// tree for the target version. Otherwise it refuses and says why (exit 1).
///
/// Examples:
///   tikguard harden router.rsc --api-client 198.51.100.20 --mgmt 10.255.0.0/24 -o harden.rsc
///   tikguard harden router.rsc --api-client 203.0.113.7 --mgmt 192.0.2.0/28 --syslog 192.0.2.10 \
///       --rollback undo.rsc --format json
///   tikguard harden router.rsc --mgmt 10.255.0.0/24 --api-tunnel wireguard \
///       --api-client-key <CRM's wg public key> --api-client-tunnel-address 10.77.0.2/30
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
    /// With --apply --yes: apply even though this connection's source is in neither --mgmt nor
    /// --api-client (it will not reach the router afterwards).
    #[arg(long, requires = "yes")]
    yes_lock_me_out: bool,
    #[command(flatten)]
    connect: super::connect::ConnectArgs,
    /// Where the CRM/billing system connects from (repeatable, or comma-separated). Not needed
    /// with --api-tunnel, whose tunnel address is the API client. Without either, the router's
    /// API must be off (api and api-ssl disabled, as on most access points and switches): it
    /// stays off, and no certificate is made.
    #[arg(long = "api-client", value_name = "CIDR", value_delimiter = ',')]
    api_clients: Vec<String>,
    /// Carry the CRM's API over a tunnel of its own: `wireguard` adds an interface
    /// `tikguard-crm` (the router generates its key pair), a peer for the CRM's key admitted only
    /// from its tunnel address, and limits api-ssl to that address. RouterOS 7 only.
    #[arg(
        long,
        value_name = "wireguard",
        value_parser = ["wireguard"],
        requires_all = ["api_client_key", "api_client_tunnel_address"]
    )]
    api_tunnel: Option<String>,
    /// With --api-tunnel: the CRM's WireGuard public key (base64, as `wg pubkey` prints it).
    #[arg(long, value_name = "KEY", requires = "api_tunnel")]
    api_client_key: Option<String>,
    /// With --api-tunnel: the CRM's address inside the tunnel, with the tunnel's prefix length
    /// (e.g. 10.77.0.2/30; the router takes another address of that network).
    #[arg(long, value_name = "ADDR/LEN", requires = "api_tunnel")]
    api_client_tunnel_address: Option<String>,
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
    /// The CRM's user: only its address is restricted (and its group tightened, when the
    /// configuration shows which). Without it, every user of the groups holding `api` is.
    #[arg(long, value_name = "NAME")]
    api_user: Option<String>,
    /// The CRM's group: tightened to read, write and api (what it grants of them) whatever else it
    /// holds. Without it, a group holding `api` together with logins (winbox, ssh, web, ...) may
    /// be the administrators' and is left as it is.
    #[arg(long, value_name = "NAME")]
    api_group: Option<String>,
    /// Replace the services' existing `address=` allow-lists with --mgmt/--api-client (without
    /// it they are kept and the given prefixes added to them).
    #[arg(long)]
    replace_allow_lists: bool,
    /// Stage the CRM's cut-over: set up api-ssl (certificate, accept) but leave the plaintext
    /// API and its accepts on; run again without it once the CRM uses api-ssl.
    #[arg(long)]
    keep_plain_api: bool,
    /// Limit MAC winbox, MAC telnet and neighbour discovery to this interface (repeatable):
    /// other interfaces lose them, and the "who loses access" table lists them. Without it they
    /// stay on every interface that is not WAN-facing.
    #[arg(long = "mgmt-interface", value_name = "IFACE")]
    mgmt_interfaces: Vec<String>,
    /// Also create a dedicated API user (`--api-user`, default `tikguard-api`) in a group with
    /// read, write and api only; created disabled unless --api-password-file is given.
    #[arg(long)]
    create_api_user: bool,
    /// With --create-api-user: put its password, read from this file, into the script (which is
    /// then written 0600).
    #[arg(long, value_name = "PATH", requires = "create_api_user")]
    api_password_file: Option<String>,
    /// TG121: a RoMON secret, read from this file's first line (a file only its owner may
    /// read), introduced in MikroTik's three stages with --romon-secret-stage. The script then
    /// holds it and is written 0600; what is printed shows `***`.
    #[arg(long, value_name = "FILE", requires = "romon_secret_stage")]
    romon_secret_file: Option<String>,
    /// The stage this run takes, each on every RoMON router before the next: 1 adds the secret
    /// while still sending unhashed (`secrets="",S`), 2 sends with it (`secrets=S,""`), 3
    /// removes the empty secret (`secrets=S`).
    #[arg(long, value_name = "1|2|3", value_parser = clap::value_parser!(u8).range(1..=3), requires = "romon_secret_file")]
    romon_secret_stage: Option<u8>,
    /// Write the script here (default: standard output).
    #[arg(short = 'o', long = "output", value_name = "SCRIPT")]
    output: Option<String>,
    /// Also write a script that restores what is changed.
    #[arg(long, value_name = "ROLLBACK")]
    rollback: Option<String>,
    /// Omit the `:if` guards (to append the script to an export and audit the result).
    #[arg(long)]
    no_guards: bool,
    /// Output format of the summary (text only with --apply).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Give up on the proof after this many seconds of firewall evaluation, refusing the plan
    /// as unproven (never as a lockout). A firewall too large to evaluate within the engine's
    /// work bound is refused likewise whatever the time.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    time_limit: u64,
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
    notes: &'a [String],
    refused: Option<String>,
    script: String,
    unchecked: Vec<String>,
    /// The proof: findings before and after, prefixes checked, who loses access.
    proof: Option<&'a harden::Proof>,
}

/// The proof's summary line.
fn proof_line(p: &harden::Proof, intent: &Intent) -> String {
    let schema = crate::schema::schema_version(&intent.target)
        .map(|v| v.to_string())
        .unwrap_or_else(|| format!("{} (v6 argument set)", intent.target));
    format!("proof: findings {} -> {}; management and API clients keep access (every packet of their connections) after each of {} script prefixes, block lists holding any source; commands checked against RouterOS {schema}", p.findings_before, p.findings_after, p.prefixes_checked)
}

/// The "who loses access" table: every prefix, user and interface (layer 2) that could reach a
/// service before and cannot after.
fn losses_table(p: &harden::Proof) -> String {
    if p.losses.is_empty() {
        return "who loses access: nobody (every prefix, user and interface that reaches a service today keeps it)\n".into();
    }
    let mut t = String::from("who loses access (could reach it before, cannot after):\n");
    for l in &p.losses {
        t.push_str(&format!(
            "  {} {}: {} ({}){}\n",
            l.kind,
            comment_text(&l.who),
            l.service,
            comment_text(&l.r#where.join(", ")),
            if l.approximated {
                " [approximated]"
            } else {
                ""
            }
        ));
    }
    if p.losses.iter().any(|l| l.approximated) {
        t.push_str("  [approximated]: it reached the service before only if a run-time address list (or a matcher the analysis cannot decide) let it in, so whether it had access to lose is not known\n");
    }
    t
}

fn usage(msg: String) -> std::io::Result<u8> {
    eprintln!("tikguard: {}", comment_text(&msg));
    Ok(2)
}

impl Args {
    /// The plan's options, as given.
    fn options(&self) -> Options {
        Options {
            api_clients: self.api_clients.clone(),
            api_tunnel: self.api_tunnel.clone(),
            api_client_key: self.api_client_key.clone(),
            api_client_tunnel_address: self.api_client_tunnel_address.clone(),
            mgmt: self.mgmt.clone(),
            wan: self.wan.clone(),
            wan_list: self.wan_list.clone(),
            api_port: self.api_port,
            cert: self.cert.clone(),
            syslog: self.syslog.clone(),
            target_version: self.target_version.clone(),
            api_user: self.api_user.clone(),
            api_group: self.api_group.clone(),
            replace_allow_lists: self.replace_allow_lists,
            keep_plain_api: self.keep_plain_api,
            mgmt_interfaces: self.mgmt_interfaces.clone(),
            create_api_user: self.create_api_user,
            api_password_file: self.api_password_file.clone(),
        }
    }
}

pub fn run(a: Args) -> std::io::Result<u8> {
    // The run's lines (what it applies, the live audit) are text: JSON was silently not given.
    if a.apply.is_some() && a.format == Format::Json {
        return usage("--format json is not available with --apply (it prints what it applies as text); run without --apply on an export for the JSON plan and proof".into());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut client = None;
    let (source_name, bytes) = match (&a.config, &a.apply) {
        (Some(path), _) => match input::read(path).and_then(|b| {
            input::check_bytes(input::display_name(path), &b)?;
            Ok(b)
        }) {
            Ok(b) => (input::display_name(path).to_string(), b),
            Err(e) => return usage(e),
        },
        (None, Some(router)) => {
            let fetched = rt.block_on(async {
                let c = a.connect.connect(router).await?;
                let (bytes, _) = crate::live::fetch(&c).await?;
                Ok::<_, String>((c, bytes))
            });
            match fetched {
                Ok((c, b)) => {
                    client = Some(c);
                    (router.clone(), b)
                }
                Err(e) => {
                    eprintln!("tikguard: {}", comment_text(&e));
                    return Ok(1);
                }
            }
        }
        (None, None) => return usage("give CONFIG or --apply ROUTER".into()),
    };
    let (config, parsed) = Config::load(bytes.clone());
    if let Err(e) = input::check_parsed(&source_name, &parsed) {
        return usage(e);
    }
    for d in &parsed.diagnostics {
        eprintln!(
            "tikguard: {}:{}:{}: {} (line left out)",
            comment_text(&source_name),
            d.line,
            d.column,
            comment_text(&d.message)
        );
    }
    let prepared = match options::prepare(&a.options(), &config, &source_name) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    for w in &prepared.warnings {
        eprintln!("tikguard: warning: {}", comment_text(w));
    }
    let options::Prepared {
        intent,
        tunnel,
        mut plan,
        ..
    } = prepared;
    let romon = match (&a.romon_secret_file, a.romon_secret_stage) {
        (Some(f), Some(st)) => match harden::romon::read(f, st) {
            Ok(r) => Some(r),
            Err(e) => return usage(e),
        },
        _ => None,
    };
    if let Err(e) = harden::romon::extend(&mut plan, &config, romon.as_ref()) {
        return usage(e);
    }
    let limits = crate::audit::firewall::Limits {
        time: std::time::Duration::from_secs(a.time_limit),
        ..Default::default()
    };
    let proof = harden::prove_within(&bytes, &config, &plan.changes, &intent, limits)
        .map_err(|r| harden::Refusal(harden::romon::scrub(&r.0, romon.as_ref())));
    let header = harden::header("tikguard harden", &source_name, &intent);
    let script = harden::render(&plan.changes, !a.no_guards, &header);
    // What may be shown: the RoMON secret as `***` (the script file alone holds it).
    let shown = harden::render(&harden::romon::masked(&plan.changes), !a.no_guards, &header);
    let refused = proof.as_ref().err().map(|r| r.0.clone());
    if refused.is_none() {
        let secret = intent.password_in_script.is_some() || romon.is_some();
        let undo = harden::rollback(&plan.changes);
        let rollback =
            match a.rollback.as_deref().map(|p| {
                harden::apply::rollback_to_write(p.as_ref(), &undo, &plan, client.is_some())
            }) {
                Some(Err(e)) => {
                    eprintln!("tikguard: {}", comment_text(&e));
                    return Ok(1);
                }
                Some(Ok(true)) => a.rollback.clone(),
                _ => None,
            };
        let writes = [(&a.output, script.clone(), secret), (&rollback, undo, true)];
        for (path, text, private) in writes {
            if let Some(path) = path {
                if let Err(e) = harden::options::write_file(
                    std::path::Path::new(path),
                    text.as_bytes(),
                    private,
                ) {
                    return usage(e);
                }
            }
        }
    }
    if let (Some(client), None) = (&client, &refused) {
        let code = rt.block_on(harden::apply::apply(
            client,
            &plan,
            a.yes,
            a.yes_lock_me_out,
            &intent,
            &config,
            a.rollback.as_deref().map(std::path::Path::new),
            &a.connect.user,
            &mut harden::apply::Terminal,
        ))?;
        if let (Some(w), true, 0) = (&tunnel, a.yes, code) {
            let key = rt.block_on(harden::apply::wireguard_public_key(
                client,
                harden::tunnel::INTERFACE,
            ));
            println!(
                "the CRM's side (wg-quick):\n{}",
                harden::tunnel::client_config(w, key.as_deref())
            );
        }
        return Ok(code);
    }
    report(&a, &plan, &proof, &shown, &intent)?;
    if let (Some(w), Ok(_), Format::Text) = (&tunnel, &proof, a.format) {
        eprintln!(
            "tikguard: the CRM's side (wg-quick), the router's public key filled in once the script ran:\n{}",
            harden::tunnel::client_config(w, None)
        );
    }
    Ok(if refused.is_some() { 1 } else { 0 })
}

/// The summary on standard output (the script itself without -o).
fn report(
    a: &Args,
    plan: &Plan,
    proof: &Result<(Config, harden::Proof), harden::Refusal>,
    script: &str,
    intent: &Intent,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let unchecked = proof
        .as_ref()
        .map(|(_, p)| p.unchecked.clone())
        .unwrap_or_default();
    match a.format {
        Format::Json => {
            let j = JsonOut {
                schema_version: 1,
                changes: &plan.changes,
                notes: &plan.notes,
                refused: proof.as_ref().err().map(|r| r.0.clone()),
                // A report: the new API user's password (--api-password-file) is the script
                // file's alone (0600), never stdout's.
                script: if proof.is_ok() {
                    String::from_utf8_lossy(&routeros_config::secrets::redact_embedded(
                        script.as_bytes(),
                    ))
                    .into_owned()
                } else {
                    String::new()
                },
                unchecked,
                proof: proof.as_ref().ok().map(|(_, p)| p),
            };
            serde_json::to_writer_pretty(&mut out, &j)?;
            writeln!(out)?;
        }
        Format::Text => match proof {
            Err(r) => {
                out.flush()?;
                eprintln!("tikguard: {}", comment_text(&r.0));
            }
            Ok(_) if plan.is_empty() => {
                writeln!(
                    out,
                    "# nothing to do: the configuration already has what tikguard would add"
                )?;
            }
            Ok((_, p)) => {
                if a.output.is_some() {
                    for ch in &plan.changes {
                        let fixes = if ch.fixes.is_empty() {
                            String::new()
                        } else {
                            format!("  [fixes {}]", ch.fixes.join(", "))
                        };
                        writeln!(out, "{}{fixes}", comment_text(&ch.description))?;
                    }
                    writeln!(out, "{}", proof_line(p, intent))?;
                    write!(out, "{}", losses_table(p))?;
                } else {
                    write!(out, "{script}")?;
                    out.flush()?;
                    // The script is on standard output: the proof goes beside it.
                    eprintln!("tikguard: {}", proof_line(p, intent));
                    eprint!("{}", losses_table(p));
                }
                for n in &plan.notes {
                    eprintln!("tikguard: note: {}", comment_text(n));
                }
                for u in &unchecked {
                    eprintln!("tikguard: note: {}", comment_text(u));
                }
            }
        },
    }
    out.flush()
}
