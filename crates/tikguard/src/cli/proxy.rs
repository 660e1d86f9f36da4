//! `tikguard proxy`: run the API proxy, check its configuration, verify its audit log.

use std::io::Write;

use crate::proxy::{self, auditlog, checkpoint, config, policy};

/// Give a billing system (CRM) exactly the router access its job needs.
///
/// The CRM connects to the proxy as it connects to a router today (same protocol on
/// 8728/8729, same library) with a credential the proxy issues. The proxy forwards only what the
/// client's policy allows, to the router over verified API-SSL with a router credential the
/// CRM never sees, and writes every decision to a hash-chained audit log: an allowed command is
/// on disk as `forwarded` before it goes to the router, its outcome before the client sees the
/// command's final reply.
///
/// Examples:
///   tikguard proxy hash-password < crm.pass          # a client's password-hash
///   tikguard proxy check --config proxy.toml         # validate, print the effective policies
///   tikguard proxy check --config proxy.toml --as billing /ppp/secret/add =name=x =comment=ucrm_1
///   tikguard proxy run --config proxy.toml           # serve (SIGHUP reloads, SIGTERM drains)
///   tikguard proxy keygen /etc/tikguard-proxy/checkpoint.key > checkpoint.pub   # signs checkpoints
///   tikguard proxy verify-log /var/log/tikguard-proxy/audit.jsonl \
///       --checkpoint /var/log/tikguard-proxy/audit.head --public-key checkpoint.pub
///   tikguard proxy record --config proxy.toml --out crm.jsonl --permissive   # learn what a CRM sends
///   tikguard proxy check --config new.toml --replay crm.jsonl   # each recorded command under new.toml
///
/// Example proxy.toml:
///   [proxy]
///   audit-log = "/var/log/tikguard-proxy/audit.jsonl"  # hash-chained, one line a command
///   checkpoint = "/var/log/tikguard-proxy/audit.head"  # the chain's head, every N lines
///   checkpoint-key = "/etc/tikguard-proxy/checkpoint.key"  # optional: signs it
///   metrics = "127.0.0.1:9184"
///
///   [[router]]
///   name = "core-01"
///   address = "10.255.0.1:8729"                 # the router's api-ssl
///   ca = "/etc/tikguard-proxy/core-01-ca.pem"   # or pin = "sha256:..."
///   user = "tikguard-proxy"                     # a router user for the proxy alone
///   password-file = "/etc/tikguard-proxy/core-01.pass"
///
///   [[listener]]                     # where the CRM connects; add cert/key for TLS
///   address = "10.255.0.10:8728"
///   router = "core-01"
///
///   [[client]]
///   name = "billing"
///   password-hash = "$argon2id$..."  # from `tikguard proxy hash-password`
///   from = ["198.51.100.20/32"]
///   policy = "billing"
///   routers = ["core-01"]
///
///   [policy.billing]                 # crm-pppoe, tightened to the CRM's own secrets
///   extends = "crm-pppoe"
///   [[policy.billing.rule]]
///   path = "/ppp/secret"
///   verbs = ["print", "add", "set", "remove", "enable", "disable"]
///   owner-prefix = "ucrm_"           # only items whose comment starts so
///   args = { name = {}, password = {}, profile = {}, comment = {}, disabled = {} }
///
/// Built-in policies: crm-pppoe, crm-hotspot, crm-queues, crm-isp, read-only, monitor (see
/// `tikguard proxy check` for their rules); extend one with `extends = "crm-pppoe"`.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Serve the listeners of a configuration until SIGTERM.
    Run {
        /// The proxy's configuration (TOML).
        #[arg(long, value_name = "FILE")]
        config: String,
    },
    /// Serve as `run` does, and write every command clients send to a session file, for
    /// `check --replay` to decide under a policy before the CRM is moved to it.
    ///
    /// The session file gets one JSON line per command (client, router, the words as sent,
    /// secrets as `***`), created 0600. With `--permissive` every client's commands are
    /// forwarded whatever its policy says (what no policy allows is still refused: ambiguous
    /// or repeated argument names, queries naming hidden fields; replies are still redacted):
    /// the CRM then has what the proxy's router user has, as it had before the proxy.
    Record {
        /// The proxy's configuration (TOML), as `run` takes it.
        #[arg(long, value_name = "FILE")]
        config: String,
        /// The session file (appended to; a file others may read is refused).
        #[arg(long, value_name = "FILE")]
        out: String,
        /// Forward every client's commands under one permissive policy instead of its own.
        #[arg(long)]
        permissive: bool,
    },
    /// Validate a configuration; print the effective policies, decide one command, or replay a
    /// recorded session.
    ///
    /// Exit status: 0 valid (and allowed), 1 a command denied, 2 an error in the files.
    Check {
        /// The proxy's configuration (TOML).
        #[arg(long, value_name = "FILE")]
        config: String,
        /// Decide a command for this client: `--as billing /ppp/secret/add =name=x`; with
        /// `--replay`, decide every recorded command as this client's.
        #[arg(long = "as", value_name = "CLIENT")]
        client: Option<String>,
        /// Decide every command of a session `proxy record` wrote, under this configuration:
        /// allowed or denied, and by which rule.
        #[arg(long, value_name = "SESSION", conflicts_with = "words")]
        replay: Option<String>,
        /// How `--replay` reports: a line per command, or one JSON document.
        #[arg(long, value_enum, default_value_t = Format::Text, requires = "replay")]
        format: Format,
        /// The command's words: the path, then `=key=value` and `?query` words.
        #[arg(requires = "client", allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// Check an audit log's hash chain; names the first line edited, deleted or reordered.
    /// With `--checkpoint`, also that the log still holds each head the proxy checkpointed
    /// (lines deleted from the end, or an end rewritten, fail it); with `--public-key`, that
    /// every checkpoint is signed with that key. Exit 0: intact; 1: not (the line is named);
    /// 2: a file could not be read.
    VerifyLog {
        /// The audit log (`audit-log =`), or a file rotated from it.
        #[arg(value_name = "LOG")]
        file: String,
        /// Checkpoints: the proxy's checkpoint file (`checkpoint =` in [proxy]), or the
        /// journal's lines (`journalctl -u tikguard-proxy -o cat > F`), which also hold those
        /// of earlier files (before a rotation) and cannot be rewritten with the log.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<String>,
        /// The checkpoints' public key (what `keygen` printed): 64 hex digits, or a file
        /// holding them or a PEM public key. Every checkpoint must be signed with it.
        #[arg(long, value_name = "KEY", requires = "checkpoint")]
        public_key: Option<String>,
    },
    /// Make an Ed25519 key for signing checkpoints (`checkpoint-key =`): writes the private
    /// key to FILE (PKCS#8 PEM, mode 0600; never over an existing file) and prints the public
    /// key, which `verify-log --public-key` takes. Give FILE to the proxy's user alone
    /// (`chown tikguard-proxy FILE` for the Debian package's service).
    Keygen {
        #[arg(value_name = "FILE")]
        file: String,
    },
    /// Read a password on standard input and print its Argon2id hash for `password-hash`.
    HashPassword,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(a: Args) -> std::io::Result<u8> {
    match a.command {
        Sub::Run { config } => serve(&config, None, false),
        Sub::Record {
            config,
            out,
            permissive,
        } => serve(&config, Some(&out), permissive),
        Sub::Check {
            config,
            client,
            replay: Some(session),
            format,
            ..
        } => replay(&config, &session, client.as_deref(), format),
        Sub::Check {
            config,
            client,
            words,
            ..
        } => check(&config, client.as_deref(), &words),
        Sub::VerifyLog {
            file,
            checkpoint,
            public_key,
        } => verify_log(&file, checkpoint.as_deref(), public_key.as_deref()),
        Sub::Keygen { file } => keygen(&file),
        Sub::HashPassword => hash(),
    }
}

fn serve(path: &str, record: Option<&str>, permissive: bool) -> std::io::Result<u8> {
    let cfg = match config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    if cfg.listeners.is_empty() {
        eprintln!("tikguard: {path}: no [[listener]]");
        return Ok(2);
    }
    let mut trial = proxy::server::Trial {
        record: None,
        permissive,
    };
    if let Some(out) = record {
        let mut taken = vec![cfg.audit_log.as_str()];
        taken.extend(cfg.checkpoint.as_deref());
        match proxy::record::Recorder::open(out, &taken) {
            Ok(r) => trial.record = Some(r),
            Err(e) => {
                eprintln!("tikguard: session file {e}");
                return Ok(2);
            }
        }
        eprintln!(
            "tikguard proxy: recording every client's commands to {}{}",
            crate::term::printable(out),
            if permissive {
                "; PERMISSIVE: every command is forwarded whatever the client's policy says"
            } else {
                ", decided under each client's policy"
            }
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let result = rt.block_on(async {
        let server = tokio::spawn(proxy::server::run(path.to_string(), cfg, trial, Some(tx)));
        if let Ok(addrs) = rx.await {
            // A closed standard output (a reader that went away) must not stop the proxy.
            let mut out = std::io::stdout().lock();
            for (what, a) in addrs {
                let _ = writeln!(out, "{what} {a}");
            }
            let _ = out.flush();
        }
        server.await.unwrap_or_else(|e| Err(e.to_string()))
    });
    match result {
        Ok(()) => Ok(0),
        Err(e) => {
            eprintln!("tikguard: {e}");
            Ok(2)
        }
    }
}

fn describe_rule(r: &policy::Rule) -> String {
    let mut s = format!(
        "{} {} /{}",
        r.name,
        match r.action {
            policy::Action::Allow => "allow",
            policy::Action::Deny => "deny",
        },
        r.path.join("/")
    );
    if let Some(v) = &r.verbs {
        s.push_str(&format!(" verbs={}", v.join(",")));
    }
    if let Some(a) = &r.args {
        s.push_str(&format!(
            " args={}",
            a.keys().cloned().collect::<Vec<_>>().join(",")
        ));
    }
    if let Some(p) = &r.owner_prefix {
        s.push_str(&format!(" owner-prefix={p}"));
    }
    s
}

fn check(path: &str, client: Option<&str>, words: &[String]) -> std::io::Result<u8> {
    let cfg = match config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    let mut out = std::io::stdout().lock();
    let Some(name) = client else {
        writeln!(
            out,
            "{path}: ok: {} router(s), {} listener(s), {} client(s)",
            cfg.routers.len(),
            cfg.listeners.len(),
            cfg.clients.len()
        )?;
        for c in &cfg.clients {
            let p = cfg.policy_of(c);
            writeln!(
                out,
                "\nclient {} (policy {}, routers {}; replies hide: {})",
                c.name,
                p.name,
                c.routers.join(", "),
                if p.redact.is_empty() {
                    "nothing".to_string()
                } else {
                    p.redact.join(", ")
                }
            )?;
            for r in &p.rules {
                writeln!(out, "  {}", describe_rule(r))?;
            }
            writeln!(out, "  default: deny")?;
        }
        // The files `run` will need, named when unreadable here or holding what `run` would
        // refuse: the check may run on another machine than the service (the shipped example's
        // /etc paths), so they are warnings.
        for p in proxy::files::problems(&cfg) {
            writeln!(out, "{path}: warning: {p}")?;
        }
        return Ok(0);
    };
    let Some(c) = cfg.client(name) else {
        eprintln!("tikguard: {path} has no client `{name}`");
        return Ok(2);
    };
    if words.is_empty() || !words[0].starts_with('/') {
        eprintln!("tikguard: give the command after --as: /ppp/secret/add =name=x ...");
        return Ok(2);
    }
    let sentence: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
    let req = match routeros_api::sentence::Request::parse(&routeros_api::Sentence::from_words(
        &sentence,
    )) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tikguard: {}", e.0);
            return Ok(2);
        }
    };
    let (cmd, _, decision) = policy::decide_request(cfg.policy_of(c), &req);
    match decision {
        policy::Decision::Allow {
            rule, owner_prefix, ..
        } => {
            write!(out, "allow {} by {rule}", cmd.word())?;
            if let (Some(p), true) = (
                owner_prefix,
                policy::OWNED_VERBS.contains(&cmd.verb.as_str()),
            ) {
                write!(
                    out,
                    " (if every item it names has a comment starting with `{p}`)"
                )?;
            }
            writeln!(out)?;
            Ok(0)
        }
        policy::Decision::Deny { rule, reason } => {
            writeln!(
                out,
                "deny {} by {}: {reason}",
                cmd.word(),
                rule.as_deref().unwrap_or("the default deny")
            )?;
            Ok(1)
        }
    }
}

fn replay(path: &str, session: &str, client: Option<&str>, format: Format) -> std::io::Result<u8> {
    let cfg = match config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    let all = match proxy::replay::replay(&cfg, session, client) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    let mut out = std::io::stdout().lock();
    match format {
        Format::Text => out.write_all(proxy::replay::text(session, &all).as_bytes())?,
        Format::Json => writeln!(out, "{}", proxy::replay::json(session, &all))?,
    }
    Ok(u8::from(all.iter().any(|r| r.decision == "deny")))
}

fn verify_log(
    file: &str,
    checkpoint: Option<&str>,
    public_key: Option<&str>,
) -> std::io::Result<u8> {
    let key = match public_key.map(checkpoint::public_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(2);
        }
    };
    let shown = crate::term::printable(file);
    let v = match auditlog::verify(std::path::Path::new(file)) {
        Ok(Ok(v)) => v,
        Ok(Err(b)) => {
            println!("{shown}: {b}");
            return Ok(1);
        }
        Err(e) => {
            eprintln!("tikguard: {}", crate::term::printable(&e));
            return Ok(2);
        }
    };
    let held = match checkpoint {
        None => None,
        Some(cp) => match checkpoint::verify(
            std::path::Path::new(file),
            std::path::Path::new(cp),
            key.as_ref(),
        ) {
            Ok(Ok(h)) => Some(h),
            Ok(Err(why)) => {
                println!("{shown}: {}", crate::term::printable(&why));
                return Ok(1);
            }
            Err(e) => {
                eprintln!("tikguard: {}", crate::term::printable(&e));
                return Ok(2);
            }
        },
    };
    println!("{shown}: {} lines, chain intact", v.lines);
    if let Some(h) = held {
        let lines = v.lines as u64;
        println!(
            "{shown}: {} checkpoint{} of this file hold{}, up to line {}{}{}{}",
            h.held,
            if h.held == 1 { "" } else { "s" },
            if h.held == 1 { "s" } else { "" },
            h.covered,
            if h.signed {
                ", signed with the given key"
            } else {
                " (signatures not checked: no --public-key)"
            },
            if lines > h.covered {
                format!("; lines {} to {lines} came after the last", h.covered + 1)
            } else {
                String::new()
            },
            if h.others > 0 {
                format!("; {} of other files (rotated) not compared", h.others)
            } else {
                String::new()
            }
        );
    }
    if !v.unanswered.is_empty() {
        let listed: Vec<String> = v
            .unanswered
            .iter()
            .take(20)
            .map(|l| l.to_string())
            .collect();
        println!(
            "{shown}: {} forwarded commands have no outcome (the proxy stopped first; the router may have run them): lines {}{}",
            v.unanswered.len(),
            listed.join(", "),
            if v.unanswered.len() > 20 { ", ..." } else { "" }
        );
    }
    Ok(0)
}

fn keygen(file: &str) -> std::io::Result<u8> {
    match checkpoint::keygen(std::path::Path::new(file)) {
        Ok(public) => {
            println!("{public}");
            eprintln!(
                "tikguard: private key written to {} (0600); the public key above verifies its checkpoints: tikguard proxy verify-log LOG --checkpoint HEAD --public-key {public}",
                crate::term::printable(file)
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("tikguard: {}", crate::term::printable(&e));
            Ok(2)
        }
    }
}

fn hash() -> std::io::Result<u8> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let pw = line.trim_end_matches(['\n', '\r']);
    if pw.is_empty() {
        eprintln!("tikguard: no password on standard input");
        return Ok(2);
    }
    match proxy::hash_password(pw) {
        Ok(h) => {
            println!("{h}");
            Ok(0)
        }
        Err(e) => {
            eprintln!("tikguard: {e}");
            Ok(2)
        }
    }
}
