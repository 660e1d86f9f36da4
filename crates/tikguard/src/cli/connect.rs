//! Connection options shared by every command that talks to a router (`exec`, and later `audit
//! --live`, `harden --apply`, `fleet`). Secure by default: API-SSL with the router's certificate
//! verified (by CA, pin, or trust on first use into a known-routers file). Passwords come from an
//! environment variable, a file, or a prompt; never from the command line.

use std::path::PathBuf;
use std::time::Duration;

use routeros_api::{Client, Fingerprint, Options, Security, Verify};

#[derive(clap::Args, Clone, Debug)]
pub struct ConnectArgs {
    /// User to log in as.
    #[arg(long, default_value = "admin", value_name = "USER")]
    pub user: String,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "password_file")]
    pub password_env: Option<String>,
    /// Read the password from this file (its first line).
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,
    /// Use the plaintext `api` service (8728): the password crosses the network in clear.
    #[arg(long)]
    pub plain: bool,
    /// Verify the router's certificate against these PEM CA certificates.
    #[arg(long, value_name = "PEM", conflicts_with_all = ["pin", "insecure_skip_verify"])]
    pub ca: Option<PathBuf>,
    /// Require this SHA-256 certificate fingerprint (hex, colons allowed).
    #[arg(long, value_name = "SHA256", conflicts_with = "insecure_skip_verify")]
    pub pin: Option<String>,
    /// Trust-on-first-use file (default ~/.config/tikguard/known_routers): the first connection
    /// records the fingerprint, later ones must match.
    #[arg(long, value_name = "FILE")]
    pub known_routers: Option<PathBuf>,
    /// Do not verify the router at all (encrypted, but not authenticated).
    #[arg(long)]
    pub insecure_skip_verify: bool,
    /// Reach a certless api-ssl router, which only speaks anonymous Diffie-Hellman: no server
    /// authentication at all. Use once, to give the router a certificate. Needs a build with
    /// `--features insecure-anon-dh` (OpenSSL).
    #[arg(long, conflicts_with_all = ["plain", "ca", "pin", "insecure_skip_verify"])]
    pub insecure_anon_dh: bool,
    /// Timeout for connecting, logging in and each command.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    routeros_config::value::parse_duration(s.as_bytes())
        .ok_or_else(|| format!("`{s}` is not a duration (try 10s, 500ms, 1m)"))
}

impl ConnectArgs {
    /// `host`, `host:port` or `[v6]:port`, with the service's default port.
    pub fn address(&self, router: &str) -> String {
        let has_port = if router.starts_with('[') {
            router.contains("]:")
        } else {
            router.matches(':').count() == 1
        };
        if has_port {
            router.to_string()
        } else if router.contains(':') {
            format!("[{router}]:{}", if self.plain { 8728 } else { 8729 })
        } else {
            format!("{router}:{}", if self.plain { 8728 } else { 8729 })
        }
    }

    pub fn security(&self) -> Result<Security, String> {
        if self.plain {
            eprintln!(
                "tikguard: warning: plaintext API: the password crosses the network in clear"
            );
            return Ok(Security::Plain);
        }
        if self.insecure_anon_dh {
            #[cfg(feature = "insecure-anon-dh")]
            {
                eprintln!("tikguard: warning: --insecure-anon-dh: anonymous Diffie-Hellman; the router is NOT authenticated and anyone on the path can read the password");
                return Ok(Security::InsecureAnonDh);
            }
            #[cfg(not(feature = "insecure-anon-dh"))]
            return Err("this build has no OpenSSL support for --insecure-anon-dh; rebuild with `cargo build --release --features insecure-anon-dh`".into());
        }
        if self.insecure_skip_verify {
            eprintln!("tikguard: warning: --insecure-skip-verify: the router is not authenticated");
            return Ok(Security::Tls(Verify::InsecureSkipVerification));
        }
        if let Some(ca) = &self.ca {
            return Ok(Security::Tls(Verify::Ca(routeros_api::tls::load_ca(ca)?)));
        }
        if let Some(pin) = &self.pin {
            let fp = Fingerprint::parse(pin).ok_or_else(|| {
                format!("--pin `{pin}` is not a SHA-256 fingerprint (64 hex digits)")
            })?;
            return Ok(Security::Tls(Verify::Pin(fp)));
        }
        let file = match &self.known_routers {
            Some(f) => f.clone(),
            None => {
                let home =
                    std::env::var_os("HOME").ok_or("HOME is not set; give --known-routers")?;
                let dir = PathBuf::from(home).join(".config/tikguard");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                dir.join("known_routers")
            }
        };
        Ok(Security::Tls(Verify::TrustOnFirstUse(file)))
    }

    pub fn password(&self) -> Result<String, String> {
        if let Some(var) = &self.password_env {
            return std::env::var(var)
                .map_err(|_| format!("environment variable {var} is not set"));
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            return Ok(text.lines().next().unwrap_or("").to_string());
        }
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            return rpassword::prompt_password(format!("password for {}: ", self.user))
                .map_err(|e| format!("cannot read the password: {e}"));
        }
        Err("no password: give --password-env VAR or --password-file PATH".into())
    }

    /// Connects and logs in.
    pub async fn connect(&self, router: &str) -> Result<Client, String> {
        let security = self.security()?;
        let password = self.password()?;
        let mut opts = Options::new(self.address(router), security);
        opts.connect_timeout = self.timeout;
        opts.command_timeout = self.timeout;
        let client = Client::connect(&opts)
            .await
            .map_err(|e| format!("{}: {e}", opts.addr))?;
        if let Some(f) = client.first_use() {
            eprintln!(
                "tikguard: trust on first use: recorded {} with certificate sha256 {} in {}; later connections must present the same certificate",
                crate::term::printable(&f.names),
                f.fingerprint,
                f.file.display()
            );
        }
        client
            .login(&self.user, &password)
            .await
            .map_err(|e| format!("{}: login as {}: {e}", opts.addr, self.user))?;
        Ok(client)
    }
}
