//! Helpers the integration tests share: the binary, child processes that are always reaped,
//! free loopback ports, real TLS peers and certificates.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// The built `tikguard`, run from the repository root.
pub fn tikguard() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tikguard"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

/// A child process killed and reaped when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port free now, for a child process to bind later. Taken below the kernel's
/// ephemeral range: a port the kernel handed out for `bind(0)` and got back is soon handed to
/// another test's connection or listener (seen in CI: "Address already in use" when the child
/// started), while ports below the range are only ever taken by name.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let (from, to) = if low > 11000 { (10000, low) } else { (0, 0) };
    for _ in 0..1000 {
        if from == to {
            break;
        }
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let port = from + (h.finish() % u64::from(to - from)) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_listening(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

/// `openssl s_server` on a free loopback port with these arguments.
pub fn s_server(args: &[&str]) -> (Proc, u16) {
    let port = free_port();
    let child = Command::new("openssl")
        .arg("s_server")
        .args(args)
        .args(["-quiet", "-accept", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl on PATH");
    wait_listening(port);
    (Proc(child), port)
}

/// A server like certless RouterOS api-ssl: anonymous Diffie-Hellman only.
pub fn anon_dh_server() -> (Proc, u16) {
    s_server(&["-nocert", "-cipher", "ADH:@SECLEVEL=0", "-tls1_2"])
}

/// A CA and a certificate for 127.0.0.1 it signed (distinct subject names, so OpenSSL-based
/// clients do not take the leaf for self-signed): the server configuration, the leaf's
/// fingerprint, and the CA as PEM.
pub fn ca_signed_server_config() -> (Arc<rustls::ServerConfig>, routeros_api::Fingerprint, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, SanType,
    };
    let dn = |cn: &str| {
        let mut d = DistinguishedName::new();
        d.push(DnType::CommonName, cn);
        d
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name = dn("tikguard test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = dn("router.test");
    params.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let (cfg, fp) = rustls_config(&cert, &key);
    (cfg, fp, ca.pem())
}

/// A rustls server configuration serving `cert` alone, and its fingerprint.
pub fn rustls_config(
    cert: &rcgen::Certificate,
    key: &rcgen::KeyPair,
) -> (Arc<rustls::ServerConfig>, routeros_api::Fingerprint) {
    let fp = routeros_api::Fingerprint::of(cert.der());
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    (Arc::new(cfg), fp)
}

/// A self-signed certificate for 127.0.0.1, valid from 2020-01-01 to `not_after` (year, month,
/// day), as a rustls server configuration and its fingerprint.
pub fn self_signed_until(
    not_after: (i32, u8, u8),
) -> (Arc<rustls::ServerConfig>, routeros_api::Fingerprint) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = vec![rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap())];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let cert = params.self_signed(&key).unwrap();
    rustls_config(&cert, &key)
}

/// A self-signed certificate for 127.0.0.1 written as PEM files: (cert, key).
pub fn self_signed_pem(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = vec![rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let cert = params.self_signed(&key).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

/// `tikguard emu` serving `examples/isp-core-v7.rsc` as a process: api-ssl with a self-signed
/// certificate for 127.0.0.1, plain `api` too when asked; user `admin`'s password in a file.
pub struct EmuProcess {
    _proc: Proc,
    pub api: Option<String>,
    pub ssl: String,
    pub password_file: std::path::PathBuf,
}

impl EmuProcess {
    /// The emulator's process id (to stop it with SIGSTOP: a router that hangs).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self._proc.0.id()
    }
}

pub fn emu_process(dir: &std::path::Path, with_plain: bool) -> EmuProcess {
    use std::io::{BufRead, BufReader};
    let pw = dir.join("admin.pass");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let (cert, key) = self_signed_pem(dir);
    let mut cmd = tikguard();
    cmd.args(["emu", "examples/isp-core-v7.rsc"]);
    if with_plain {
        cmd.args(["--api", "127.0.0.1:0"]);
    }
    let mut child = cmd
        .args(["--api-ssl", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .arg("--password-file")
        .arg(format!("admin={}", pw.display()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let api = with_plain.then(|| {
        lines
            .next()
            .unwrap()
            .unwrap()
            .strip_prefix("api ")
            .unwrap()
            .to_string()
    });
    let ssl = lines
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("api-ssl ")
        .unwrap()
        .to_string();
    EmuProcess {
        _proc: Proc(child),
        api,
        ssl,
        password_file: pw,
    }
}

/// A unit of `contrib/` is valid (`systemd-analyze verify`, with ExecStart pointed at this
/// build) and sandboxed (`systemd-analyze security --offline` rates it OK or better), where
/// systemd's tools exist.
pub fn check_systemd_unit(name: &str) {
    if !std::path::Path::new("/usr/bin/systemd-analyze").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI has systemd-analyze (Debian's systemd)"
        );
        eprintln!("systemd-analyze not here: not checked");
        return;
    }
    let unit = std::fs::read_to_string(format!(
        "{}/../../contrib/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(
        &path,
        unit.replace("/usr/bin/tikguard", env!("CARGO_BIN_EXE_tikguard")),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=30"])
        .arg(&path)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    // A user of its own: a dynamic one, or a static one (the proxy's, whose log its group reads).
    assert!(
        unit.contains("\nDynamicUser=yes") || unit.contains("\nUser="),
        "runs as root"
    );
    for must in ["ProtectSystem=", "NoNewPrivileges="] {
        assert!(unit.contains(must), "{must}");
    }
}

/// Peak resident memory of a process, in KiB (Linux' VmHWM).
pub fn peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Runs Microsoft's validator (`SARIF_MULTITOOL`, installed by `.ci/run`) and returns the
/// error- and warning-level results it reports.
pub fn multitool_complaints(tool: &str, sarif: &std::path::Path) -> Vec<String> {
    let log = sarif.with_extension("validation.sarif");
    let out = std::process::Command::new(tool)
        .arg("validate")
        .arg("-o")
        .arg(&log)
        .arg(sarif)
        .output()
        .expect("run sarif-multitool");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&log).unwrap_or_else(|e| {
        panic!(
            "no validation log ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    }))
    .unwrap();
    v["runs"][0]["results"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| matches!(r["level"].as_str(), Some("error") | Some("warning") | None))
                .map(|r| format!("{} {}", r["ruleId"], r["message"]))
                .collect()
        })
        .unwrap_or_default()
}
