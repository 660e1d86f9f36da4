//! What the audit takes for the configuration a partial file does not show.
//!
//! A whole export shows every difference from RouterOS' defaults, so what it does not mention
//! is the default: the audit reads it so, and its findings are facts. A one-menu export, an
//! edit on the default configuration or a script lands on a configuration it does not show
//! ([`super::kind`]). Its findings are then of two sorts:
//! - **facts**, what the file itself does whatever it lands on: a user or group it adds, a
//!   password it writes, a service it turns on *and* lets in with its own rules;
//! - **assumed**, what holds only if the unseen configuration is RouterOS' bare defaults: the API
//!   "reachable from the internet" because no firewall is shown, `admin` present, no remote log.
//!
//! The audit tells them apart by auditing the file twice: once on RouterOS' defaults (what an
//! export means), once on [`SAFEST`], the most closed configuration a router could have before
//! the file (every service off, the input chain dropping everything, layer-2 access and
//! discovery nowhere, logs sent away). A finding of the first audit that the second also gives,
//! on the same line and at the same severity, is a fact; the others are *assumed*: at most
//! medium, marked so, and not counted by `--fail-on`. Those on a line of the file (an accept rule
//! it adds, which lets the internet in only if nothing before it drops) are kept; those on no
//! line rest on RouterOS' defaults alone (`telnet` enabled, no remote log) and are left out, and
//! counted. The report says how to get a verdict: the router's whole `/export`, or `--live`.
//!
//! `--assume defconf` audits the file once, on [`defconf`]: MikroTik's default configuration in
//! router mode; `--assume blank` audits it as the whole router.

use routeros_config::syntax::Parsed;
use routeros_config::Config;
use serde::Serialize;

use super::kind::{Classified, Kind};
use super::{Finding, Severity};

/// What to take for the configuration a partial file does not show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Assume {
    /// MikroTik's default configuration (router mode) is under the file.
    Defconf,
    /// The file is the whole router: nothing is under it but RouterOS' defaults.
    Blank,
}

/// What an audited input is, and what was taken for what it does not show.
#[derive(Clone, Debug, Serialize)]
pub struct Input {
    pub kind: Kind,
    /// The sign that decided the kind.
    pub why: String,
    /// `--assume`, when it applied (never to a whole export).
    pub assumed: Option<Assume>,
}

impl Default for Input {
    fn default() -> Input {
        Input {
            kind: Kind::WholeExport,
            why: String::new(),
            assumed: None,
        }
    }
}

impl Input {
    pub fn new(c: Classified, assume: Option<Assume>) -> Input {
        Input {
            assumed: assume.filter(|_| c.kind != Kind::WholeExport),
            kind: c.kind,
            why: c.why,
        }
    }

    /// Whether some findings may rest on what the file does not show.
    pub fn partial(&self) -> bool {
        self.kind != Kind::WholeExport && self.assumed.is_none()
    }

    /// For reports: what the verdict rests on, and how to get a real one; `left_out` assumed
    /// findings on RouterOS' defaults alone were left out.
    pub fn note(&self, left_out: usize) -> String {
        match (self.kind, self.assumed) {
            (Kind::WholeExport, _) => String::new(),
            (_, Some(Assume::Defconf)) => "Audited as applied on MikroTik's default configuration (--assume defconf): its input chain, MAC server and discovery on `LAN`.".into(),
            (_, Some(Assume::Blank)) => "Audited as the whole router (--assume blank).".into(),
            (_, None) => format!(
                "Not the whole router: findings that rest on what the file does not show are marked assumed (at most medium, not counted by --fail-on){}. For a verdict audit the router's whole `/export`, or --live, or say what is under the file with --assume defconf|blank.",
                match left_out {
                    0 => String::new(),
                    1 => ", and 1 on RouterOS' defaults alone is left out".into(),
                    n => format!(", and {n} on RouterOS' defaults alone are left out"),
                }
            ),
        }
    }
}

/// The most closed configuration a router could have before a partial file: every finding the
/// file does not cause itself disappears on it. Not a RouterOS configuration anyone runs; a
/// yardstick. The IPv6 drop only where IPv6 is on by default (RouterOS 7; on 6 a `/ipv6` menu
/// would turn the analysis' IPv6 on).
const SAFEST: &str = "\
/ip service
set [ find ] disabled=yes
/ip firewall filter
add action=drop chain=input
/tool mac-server
set allowed-interface-list=none
/tool mac-server mac-winbox
set allowed-interface-list=none
/ip neighbor discovery-settings
set discover-interface-list=none
/tool bandwidth-server
set enabled=no
/ip ssh
set strong-crypto=yes
/user
remove admin
/user settings
set minimum-password-length=12
/system logging action
add name=unseen-remote remote=192.0.2.1 target=remote
/system logging
add action=unseen-remote topics=critical
add action=unseen-remote topics=account
";

const SAFEST_V6: &str = "\
/ipv6 firewall filter
add action=drop chain=input
";

/// MikroTik's default configuration in router mode (ether1 the WAN port, the other ports in
/// `bridge`), the parts the audit reads. Sources: the defconf script as
/// `/system default-configuration print` shows it (RouterOS 6.48.4, `eugenesamoilov/
/// default_config_mikrotik` in the corpus; the same rules on the 6.40-6.49 defconf prints and
/// exports published on pastebin and GitHub gists), and v7 exports of defconf routers for the
/// IPv6 input chain (`defconf: drop everything else not coming from LAN`). Bridge ports are
/// left out: they differ per model, and the analysis reads the `LAN` list, which holds the
/// bridge.
const DEFCONF: &str = "\
/interface bridge
add comment=defconf name=bridge
/interface list
add comment=defconf name=WAN
add comment=defconf name=LAN
/ip neighbor discovery-settings
set discover-interface-list=LAN
/interface list member
add comment=defconf interface=bridge list=LAN
add comment=defconf interface=ether1 list=WAN
/ip address
add address=192.168.88.1/24 comment=defconf interface=bridge
/ip dhcp-client
add comment=defconf interface=ether1
/ip dns
set allow-remote-requests=yes
/ip firewall filter
add action=accept chain=input comment=\"defconf: accept established,related,untracked\" connection-state=established,related,untracked
add action=drop chain=input comment=\"defconf: drop invalid\" connection-state=invalid
add action=accept chain=input comment=\"defconf: accept ICMP\" protocol=icmp
add action=accept chain=input comment=\"defconf: accept to local loopback (for CAPsMAN)\" dst-address=127.0.0.1
add action=drop chain=input comment=\"defconf: drop all not coming from LAN\" in-interface-list=!LAN
add action=accept chain=forward comment=\"defconf: accept in ipsec policy\" ipsec-policy=in,ipsec
add action=accept chain=forward comment=\"defconf: accept out ipsec policy\" ipsec-policy=out,ipsec
add action=fasttrack-connection chain=forward comment=\"defconf: fasttrack\" connection-state=established,related
add action=accept chain=forward comment=\"defconf: accept established,related, untracked\" connection-state=established,related,untracked
add action=drop chain=forward comment=\"defconf: drop invalid\" connection-state=invalid
add action=drop chain=forward comment=\"defconf: drop all from WAN not DSTNATed\" connection-nat-state=!dstnat connection-state=new in-interface-list=WAN
/ip firewall nat
add action=masquerade chain=srcnat comment=\"defconf: masquerade\" ipsec-policy=out,none out-interface-list=WAN
/tool mac-server
set allowed-interface-list=LAN
/tool mac-server mac-winbox
set allowed-interface-list=LAN
";

const DEFCONF_V6: &str = "\
/ipv6 firewall filter
add action=accept chain=input comment=\"defconf: accept established,related,untracked\" connection-state=established,related,untracked
add action=drop chain=input comment=\"defconf: drop invalid\" connection-state=invalid
add action=accept chain=input comment=\"defconf: accept ICMPv6\" protocol=icmpv6
add action=accept chain=input comment=\"defconf: accept UDP traceroute\" dst-port=33434-33534 protocol=udp
add action=accept chain=input comment=\"defconf: accept DHCPv6-Client prefix delegation.\" dst-port=546 protocol=udp src-address=fe80::/10
add action=accept chain=input comment=\"defconf: accept IKE\" dst-port=500,4500 protocol=udp
add action=accept chain=input comment=\"defconf: accept ipsec AH\" protocol=ipsec-ah
add action=accept chain=input comment=\"defconf: accept ipsec ESP\" protocol=ipsec-esp
add action=accept chain=input comment=\"defconf: accept all that matches ipsec policy\" ipsec-policy=in,ipsec
add action=drop chain=input comment=\"defconf: drop everything else not coming from LAN\" in-interface-list=!LAN
";

/// RouterOS 6 has IPv6 off by default (its `ipv6` package disabled).
fn ipv6_on_by_default(parsed: &Parsed) -> bool {
    parsed.version.as_ref().is_none_or(|v| v.major >= 7)
}

fn base(parsed: &Parsed, v4: &str, v6: &str) -> Parsed {
    let mut text = v4.to_string();
    if ipv6_on_by_default(parsed) {
        text.push_str(v6);
    }
    routeros_config::parse(text.into_bytes())
}

/// The file applied on MikroTik's default configuration.
pub fn on_defconf(parsed: &Parsed) -> Config {
    Config::from_parsed_on(&base(parsed, DEFCONF, DEFCONF_V6), parsed)
}

/// The file applied on [`SAFEST`].
pub fn on_safest(parsed: &Parsed) -> Config {
    Config::from_parsed_on(&base(parsed, SAFEST, SAFEST_V6), parsed)
}

/// What identifies a finding across the two audits: its rule, its line, and what its message
/// names first (the service, the user, the list).
fn key(f: &Finding) -> (&str, Option<usize>, Option<&str>) {
    (f.rule, f.line, f.message.split('`').nth(1))
}

/// Marks the findings of `on_defaults` (the file on RouterOS' defaults) that `on_safest` (the
/// file on [`SAFEST`]) does not give at the same line and severity: they rest on what the file
/// does not show.
pub fn mark(on_defaults: &mut [Finding], on_safest: &[Finding]) {
    for f in on_defaults {
        let fact = on_safest
            .iter()
            .any(|g| key(g) == key(f) && g.severity >= f.severity);
        if !fact {
            f.severity_if_whole = Some(f.severity);
            f.severity = f.severity.min(Severity::Medium);
            f.assumed = true;
        }
    }
}
