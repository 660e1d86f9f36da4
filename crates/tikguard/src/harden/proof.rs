//! The proof: before a script is shown it is applied to the export in memory, one line at a
//! time, and checked.
//!
//! - The whole script parses, and every command and argument exists in RouterOS' command tree for
//!   the target version ([`crate::schema`]).
//! - After the whole script, every finding a change claims to fix is gone and nothing new reaches
//!   high.
//! - After *every prefix* of the script (an import that stopped at any line), management keeps
//!   winbox, ssh and api-ssl wherever it was certain to have them, and the API clients keep the
//!   API (plaintext, or api-ssl with a certificate) on every WAN interface they had it on. After
//!   the whole script management keeps what it could reach before, and the API clients reach
//!   api-ssl on every WAN interface.
//!
//! Reach here is the defender's ([`Assume::Defender`]): undecided matchers favour the drop, and
//! lists filled at run time (the block list, staging lists, CrowdSec's) hold any source. So a
//! block list holding management or the CRM cannot lock them out. Link-local IPv6 management is
//! checked on the interfaces where management lives.
//!
//! Every evaluation runs within the firewall engine's budget ([`Limits`]; its time is one
//! deadline for the whole proof, `--time-limit`). One cut short has settled what it did not
//! finish against access (the defender's view) or for it (the attacker's): neither is a fact
//! about the plan, so the proof refuses as such ([`Refusal::budget`]), never as a lockout.

use routeros_config::{parse, Config, StatementKind};
use serde::Serialize;

use super::block::{derived_v6_mgmt, link_local};
use super::intent::{Intent, Prefix};
use super::script::{self, Line};
use super::Change;
use crate::audit::addrset::AddrSet;
use crate::audit::exposure;
use crate::audit::firewall::{
    self, Action, Assume, Exhausted, Firewall, InterfaceLists, Limits, Probe,
};
use crate::audit::{self, Finding, Selection, Severity};
use crate::schema;

/// Why a plan is refused.
#[derive(Debug, Serialize)]
pub struct Refusal(pub String);

impl Refusal {
    /// The proof ran out of the engine's budget: nothing is known about lockout either way.
    pub fn budget(e: &Exhausted, limits: &Limits) -> Refusal {
        Refusal(format!(
            "refusing: could not prove the plan within the budget ({e}); nothing is claimed about lockout either way: raise --time-limit (now {} s) and run again",
            limits.time.as_secs()
        ))
    }
}

/// The limits of one evaluation: the work and range bounds as given, the time that is left of
/// the proof's deadline.
#[derive(Clone, Copy)]
pub(super) struct Deadline {
    pub limits: Limits,
    at: std::time::Instant,
}

impl Deadline {
    pub(super) fn new(limits: Limits) -> Deadline {
        let now = std::time::Instant::now();
        Deadline {
            limits,
            at: now.checked_add(limits.time).unwrap_or(now),
        }
    }

    pub(super) fn now(&self) -> Limits {
        Limits {
            time: self.at.saturating_duration_since(std::time::Instant::now()),
            ..self.limits
        }
    }
}

/// The outcome of the proof.
#[derive(Debug, Default, Serialize)]
pub struct Proof {
    pub findings_before: usize,
    pub findings_after: usize,
    /// How many prefixes of the script were checked for lockout.
    pub prefixes_checked: usize,
    /// Schema notes (unchecked commands on RouterOS 6).
    pub unchecked: Vec<String>,
    /// Who could reach a service before and cannot after ([`super::losses`]).
    pub losses: Vec<super::losses::Loss>,
}

/// The configuration before the script as the defender sees it (what certainly gets in) and
/// as the attacker does (what could).
pub(super) struct Before<'a> {
    pub(super) certain: Reach<'a>,
    pub(super) possible: Reach<'a>,
}

/// A configuration's firewalls and interface lists, compiled once.
pub(super) struct Reach<'a> {
    config: &'a Config,
    v4: Firewall,
    v6: Firewall,
    lists: InterfaceLists,
}

impl<'a> Reach<'a> {
    pub(super) fn new(config: &'a Config, assume: Assume) -> Reach<'a> {
        Reach::within(config, assume, Limits::default())
    }

    pub(super) fn within(config: &'a Config, assume: Assume, limits: Limits) -> Reach<'a> {
        Reach {
            config,
            v4: Firewall::assuming(config, false, assume).with_limits(limits),
            v6: Firewall::assuming(config, true, assume).with_limits(limits),
            lists: InterfaceLists::from_config(config),
        }
    }

    /// Why an evaluation so far was cut short, if one was: its answers are not facts.
    pub(super) fn exhausted(&self) -> Option<Exhausted> {
        self.v4
            .budget()
            .check("IPv4 filter table")
            .and(self.v6.budget().check("IPv6 filter table"))
            .err()
    }

    /// The sources that reach an enabled service on an interface; empty when it is disabled.
    pub(super) fn service(&self, svc: &str, v6: bool, iface: &str) -> AddrSet {
        self.service_as(svc, v6, iface, None)
    }

    /// [`Reach::service`] for a connection opened before tracking saw it, picked up as
    /// `loose` says ([`Firewall::evaluate_picked_up`]); `None`: a connection opened now.
    fn service_as(&self, svc: &str, v6: bool, iface: &str, picked_up: Option<bool>) -> AddrSet {
        let Some((port, enabled, allowed)) = exposure::service_state(self.config, svc, v6) else {
            return AddrSet::empty(v6);
        };
        if !enabled {
            return AddrSet::empty(v6);
        }
        let fw = if v6 { &self.v6 } else { &self.v4 };
        let probe = Probe {
            protocol: "tcp",
            port,
            interface: iface,
        };
        // Every packet of the connection, not only its first.
        match picked_up {
            None => fw.evaluate_connection(probe, &self.lists),
            Some(loose) => fw.evaluate_picked_up(probe, &self.lists, loose),
        }
        .intersect(&allowed)
    }

    /// The API as a CRM can use it: plaintext, or api-ssl with a certificate.
    pub(super) fn api(&self, v6: bool, iface: &str) -> AddrSet {
        self.api_as(v6, iface, None)
    }

    fn api_as(&self, v6: bool, iface: &str, picked_up: Option<bool>) -> AddrSet {
        let mut s = self.service_as("api", v6, iface, picked_up);
        let cert = self
            .config
            .menu("/ip service")
            .and_then(|m| m.by_name("api-ssl"))
            .and_then(|i| i.get_str("certificate"))
            .is_some_and(|c| !c.is_empty() && c != "none");
        if cert {
            s = s.union(&self.service_as("api-ssl", v6, iface, picked_up));
        }
        s
    }
}

/// Every interface name the configuration mentions, plus `*` for any other.
pub(super) fn interfaces(c: &Config) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for m in c.menus() {
        if !m.path.starts_with("/interface") || m.path.contains("list") {
            continue;
        }
        for i in &m.items {
            v.extend(i.get_str("name"));
        }
    }
    for i in c.items("/interface list member") {
        v.extend(i.get_str("interface"));
    }
    // And those only addresses and rules name (an `ether2` with an address and no `/interface`
    // line): management lives there as much as anywhere.
    v.extend(exposure::known_interfaces(c).0);
    v.push("*".into());
    v.sort();
    v.dedup();
    v
}

/// One access that must be kept: who, which service, where.
struct Need {
    who: String,
    svc: &'static str,
    v6: bool,
    iface: String,
    /// Certain before the script: must hold after every prefix.
    certain: AddrSet,
    /// Possible before the script: must hold after the whole script.
    possible: AddrSet,
}

/// Menus whose lines can change who reaches a service.
fn changes_reach(line: &str) -> bool {
    ["/ip service", "/ip firewall", "/ipv6 firewall"]
        .iter()
        .any(|m| line.starts_with(m))
}

/// Applies the script to the export line by line, audits, and checks lockout and the schema.
pub fn prove(
    original: &[u8],
    before: &Config,
    changes: &[Change],
    intent: &Intent,
) -> Result<(Config, Proof), Refusal> {
    prove_within(original, before, changes, intent, Limits::default())
}

/// The script, read after the export (`boundary` is its first byte in `parsed`), parses on its
/// own terms: no diagnostic of its own, and no statement of the export running into it (a
/// trailing `\\` or an unclosed `{` would make the script's first lines part of the export's
/// last statement). A diagnostic inside the export itself is the export's (the CLI has already
/// named its file, line and column, and left the line out): it is not the script's, and the plan
/// is judged on the statements that were read.
fn script_parses(boundary: usize, parsed: &routeros_config::syntax::Parsed) -> Result<(), Refusal> {
    let b = boundary as u32;
    if let Some(d) = parsed.diagnostics.iter().find(|d| d.span.start >= b) {
        return Err(Refusal(format!(
            "the generated script does not parse: {}",
            d.message
        )));
    }
    if let Some(st) = parsed
        .statements
        .iter()
        .find(|st| st.span.start < b && st.span.end > b)
    {
        let line = parsed.source[..st.span.start as usize]
            .iter()
            .filter(|&&c| c == b'\n')
            .count()
            + 1;
        return Err(Refusal(format!(
            "the export's statement at line {line} runs on into the script (a trailing `\\` or an unclosed `{{`): fix the export's last lines and plan again"
        )));
    }
    Ok(())
}

/// [`prove`] within the firewall engine's `limits` (their time is the whole proof's).
pub fn prove_within(
    original: &[u8],
    before: &Config,
    changes: &[Change],
    intent: &Intent,
    limits: Limits,
) -> Result<(Config, Proof), Refusal> {
    // What the plan would read back as its own but is not (a comment anyone can set, an
    // entry that expires): nothing built on it holds.
    if let Some(f) = super::plan(before, intent).foreign.first() {
        return Err(Refusal(format!("refusing: {f}")));
    }
    let deadline = Deadline::new(limits);
    let out_of_budget = |e: Exhausted| Refusal::budget(&e, &limits);
    let lines = script::lines(changes);
    let with = |n: usize| {
        let mut combined = original.to_vec();
        combined.push(b'\n');
        for l in &lines[..n] {
            combined.extend_from_slice(l.as_bytes());
            combined.push(b'\n');
        }
        Config::load(combined)
    };
    let (after, parsed) = with(lines.len());
    script_parses(original.len() + 1, &parsed)?;
    let unchecked = schema_check(changes, intent)?;
    {
        let sel = Selection::default();
        let a_before =
            audit::try_run(before, &intent.wan, &sel, deadline.now()).map_err(out_of_budget)?;
        let a_after =
            audit::try_run(&after, &intent.wan, &sel, deadline.now()).map_err(out_of_budget)?;
        // Prefixes the administrator named wider than the audit calls narrow are theirs to name:
        // exposure to them is what was asked for, not a new finding to refuse.
        let wide = intent
            .api_clients
            .iter()
            .chain(&intent.mgmt)
            .any(|p| p.set.size() > if p.v6 { 1 << 80 } else { 1 << 16 });
        // Groups the plan leaves (they may be the administrators'): their findings stay, and
        // enabling api-ssl can raise TG302 on them; the plan's notes say so.
        let left = super::crm::groups_left(before, intent);
        let ours = |f: &&Finding| {
            !(["TG302", "TG304"].contains(&f.rule)
                && left
                    .iter()
                    .any(|g| f.message.starts_with(&format!("group `{g}`"))))
        };
        let after_ours: Vec<Finding> = a_after.findings.iter().filter(ours).cloned().collect();
        claimed_fixes_hold(changes, &a_before.findings, &after_ours, wide)?;

        // The configuration before the script, both views, compiled once for what management
        // must keep and for who loses access.
        let seen = Before {
            certain: Reach::within(before, Assume::Defender, deadline.now()),
            possible: Reach::within(before, Assume::Attacker, deadline.now()),
        };
        let needs = needs(&seen, before, intent).map_err(out_of_budget)?;
        // The connection the script is pasted or applied over was opened before it. With
        // tracking not certainly on before (`auto` and no firewall rule), the plan's first rule
        // turns it on under that connection ([`firewall::tracking_on`]); without loose tracking
        // every later packet of it is `invalid` ([`firewall::loose_tcp_tracking`]). Whoever
        // management is must keep that connection too, or the import stops where its packets
        // are dropped. With loose tracking it is picked up as `new` then `established`, what
        // the check of a new connection below already follows.
        let session_invalid =
            !firewall::tracking_on(before) && !firewall::loose_tcp_tracking(before);
        let mut checked = 0;
        for n in 0..=lines.len() {
            let last = n == lines.len();
            if n > 0 && !last && !changes_reach(&lines[n - 1]) {
                continue;
            }
            let cfg = if last { None } else { Some(with(n).0) };
            let cfg = cfg.as_ref().unwrap_or(&after);
            let now = Reach::within(cfg, Assume::Defender, deadline.now());
            checked += 1;
            for need in &needs {
                let has = if need.svc == "api" {
                    now.api(need.v6, &need.iface)
                } else {
                    now.service(need.svc, need.v6, &need.iface)
                };
                let want = if last && need.svc != "api" {
                    &need.possible
                } else {
                    &need.certain
                };
                if session_invalid && n > 0 && firewall::tracking_on(cfg) {
                    let kept = if need.svc == "api" {
                        now.api_as(need.v6, &need.iface, Some(false))
                    } else {
                        now.service_as(need.svc, need.v6, &need.iface, Some(false))
                    };
                    if !need.certain.minus(&kept).is_empty() {
                        if let Some(e) = now.exhausted() {
                            return Err(out_of_budget(e));
                        }
                        let on = (1..=n)
                            .find(|&k| firewall::tracking_on(&with(k).0))
                            .unwrap_or(n);
                        return Err(Refusal(session_reason(need, &lines, on, n)));
                    }
                }
                if !want.minus(&has).is_empty() {
                    // Cut short, the defender's view has lost what it did not finish.
                    if let Some(e) = now.exhausted() {
                        return Err(out_of_budget(e));
                    }
                    let at = if last {
                        String::new()
                    } else if n == 0 {
                        " before the script runs".into()
                    } else {
                        format!(" if the import stops after line {n} (`{}`)", lines[n - 1])
                    };
                    return Err(Refusal(lockout_reason(cfg, need, &at)));
                }
            }
        }
        // After the whole script the API clients reach api-ssl on every WAN interface.
        let now = Reach::within(&after, Assume::Defender, deadline.now());
        for p in &intent.api_clients {
            for iface in &a_after.exposure.wan {
                if !p.set.minus(&now.service("api-ssl", p.v6, iface)).is_empty() {
                    if let Some(e) = now.exhausted() {
                        return Err(out_of_budget(e));
                    }
                    let need = Need {
                        who: p.text.clone(),
                        svc: "api-ssl",
                        v6: p.v6,
                        iface: iface.clone(),
                        certain: p.set.clone(),
                        possible: p.set.clone(),
                    };
                    return Err(Refusal(lockout_reason(&after, &need, "")));
                }
            }
        }
        let proof = Proof {
            findings_before: a_before.findings.len(),
            findings_after: a_after.findings.len(),
            prefixes_checked: checked,
            unchecked,
            losses: super::losses::losses(
                &seen,
                before,
                &after,
                changes,
                &a_before.exposure.wan,
                &deadline,
            )
            .map_err(out_of_budget)?,
        };
        Ok((after, proof))
    }
}

/// What management and the API clients have before the script, which they must keep. Cut
/// short, it is not known (the defender's view would need nothing): an error.
fn needs(seen: &Before, before: &Config, intent: &Intent) -> Result<Vec<Need>, Exhausted> {
    let (certain, possible) = (&seen.certain, &seen.possible);
    let mut mgmt: Vec<(Prefix, Option<Vec<String>>)> =
        intent.mgmt.iter().map(|p| (p.clone(), None)).collect();
    if exposure::ipv6_active(before) {
        let (derived, ifaces) = derived_v6_mgmt(before, intent);
        mgmt.extend(derived.into_iter().map(|p| (p, None)));
        if !ifaces.is_empty() {
            mgmt.push((link_local(), Some(ifaces)));
        }
    }
    let mut out = Vec::new();
    for iface in interfaces(before) {
        for (p, only) in &mgmt {
            // `only` holds the names as the router has them; `iface` as the analysis reads them.
            if only
                .as_ref()
                .is_some_and(|o| !o.iter().any(|x| script::lossy(x) == iface))
            {
                continue;
            }
            for svc in ["winbox", "ssh", "api-ssl"] {
                let poss = possible.service(svc, p.v6, &iface).intersect(&p.set);
                if poss.is_empty() {
                    continue;
                }
                out.push(Need {
                    who: p.text.clone(),
                    svc,
                    v6: p.v6,
                    iface: iface.clone(),
                    certain: certain.service(svc, p.v6, &iface).intersect(&p.set),
                    possible: poss,
                });
            }
        }
        for p in &intent.api_clients {
            let had = certain.api(p.v6, &iface).intersect(&p.set);
            if had.is_empty() {
                continue;
            }
            out.push(Need {
                who: p.text.clone(),
                svc: "api",
                v6: p.v6,
                iface: iface.clone(),
                certain: had.clone(),
                possible: had,
            });
        }
    }
    if let Some(e) = certain.exhausted().or_else(|| possible.exhausted()) {
        return Err(e);
    }
    Ok(out)
}

fn claimed_fixes_hold(
    changes: &[Change],
    before: &[Finding],
    after: &[Finding],
    wide_intent: bool,
) -> Result<(), Refusal> {
    for rule in changes.iter().flat_map(|c| c.fixes.iter().copied()) {
        if let Some(f) = after.iter().find(|f| f.rule == rule) {
            return Err(Refusal(format!(
                "the plan claims to fix {rule}, but after it: {}",
                f.message
            )));
        }
    }
    if let Some(f) = after.iter().find(|f| {
        f.severity >= Severity::High
            && !before.iter().any(|b| b.rule == f.rule)
            && !(wide_intent && ["TG201", "TG202", "TG209"].contains(&f.rule))
    }) {
        return Err(Refusal(format!(
            "the plan would add a new {} finding {}: {}; {}",
            f.severity.as_str(),
            f.rule,
            f.message,
            what_to_do(f)
        )));
    }
    Ok(())
}

/// What to change when the plan would add a high finding: the exposure rules' sides, as
/// [`crate::audit::rules`] words them, each with the way out.
fn what_to_do(f: &Finding) -> &'static str {
    let exposure = ["TG201", "TG202", "TG209"].contains(&f.rule);
    if exposure
        && f.message
            .contains("from the LAN side (the device looks like an access point")
    {
        "no WAN side was found (an access point or switch), so every host on its LAN can use the addresses --mgmt and --api-client name: if nothing uses the API here, leave out --api-client (an API that is off stays off); if the device is a router, name its WAN with --wan or --wan-list"
    } else if exposure && f.message.contains("subscribers") {
        "the addresses given sit among the subscribers (or subscribers can use them): give --mgmt and --api-client prefixes outside the subscribers' networks, or carry the CRM over --api-tunnel wireguard"
    } else {
        "see the finding on the planned result (`--no-guards -o plan.rsc`, then `cat EXPORT plan.rsc | tikguard audit -`) and change the options that lead to it"
    }
}

fn schema_check(changes: &[Change], intent: &Intent) -> Result<Vec<String>, Refusal> {
    let mut unchecked = Vec::new();
    for line in changes.iter().flat_map(|c| &c.lines) {
        let Line::Cmd(cmd) = line else { continue };
        for st in parse(cmd.render().into_bytes()).statements {
            let StatementKind::Command(cmd) = st.kind else {
                continue;
            };
            let args: Vec<String> = cmd
                .args
                .iter()
                .filter_map(|a| {
                    a.key
                        .as_ref()
                        .map(|k| String::from_utf8_lossy(k).into_owned())
                })
                .collect();
            for p in schema::check(&intent.target, &cmd.menu, &cmd.verb, &args) {
                match p {
                    schema::Problem::Unchecked { .. } => unchecked.push(p.to_string()),
                    _ => return Err(Refusal(format!("{p} (RouterOS {})", intent.target))),
                }
            }
        }
    }
    unchecked.sort();
    unchecked.dedup();
    Ok(unchecked)
}

/// Why the connection the script runs over would be cut: tracking turns on under it at line
/// `on` and, without loose tracking, its packets are `invalid` and dropped after line `at`.
fn session_reason(need: &Need, lines: &[String], on: usize, at: usize) -> String {
    let what = if need.svc == "api" {
        "the API"
    } else {
        need.svc
    };
    let line = |k: usize| {
        lines
            .get(k.saturating_sub(1))
            .map(String::as_str)
            .unwrap_or_default()
    };
    format!(
        "refusing: connection tracking is off until line {on} (`{}`) adds the first firewall rule (`enabled=auto`: \"connection tracing is disabled until at least one firewall rule is added\", MikroTik's Connection tracking manual), and with `loose-tcp-tracking=no` a connection open before that is then `invalid` to it: the connection {} pastes or applies this script over ({what} on `{}`) would be dropped once the import is past line {at} (`{}`), and the import would stop there. Add one firewall rule first (`/ip firewall filter add chain=input action=accept connection-state=established,related`), reconnect, export again and run harden on that export; or set `loose-tcp-tracking=yes` before running this script",
        line(on),
        need.who,
        need.iface,
        line(at),
    )
}

fn lockout_reason(after: &Config, need: &Need, at: &str) -> String {
    let (svc, v6, iface, who) = (need.svc, need.v6, need.iface.as_str(), &need.who);
    let fam = if v6 { "ipv6" } else { "ip" };
    let svc_name = if svc == "api" { "api-ssl" } else { svc };
    if let Some((_, enabled, allowed)) = exposure::service_state(after, svc_name, v6) {
        if !enabled && svc != "api" {
            return format!(
                "refusing: {who} would lose `{svc}` on `{iface}`{at}: the service would be disabled"
            );
        }
        if !need.certain.minus(&allowed).is_empty() && svc != "api" {
            return format!("refusing: {who} would lose `{svc}` on `{iface}`{at}: `/ip service {svc} address=` would not include it");
        }
    }
    let fw = Firewall::assuming(after, v6, Assume::Defender);
    let port = exposure::service_state(after, svc_name, v6)
        .map(|s| s.0)
        .unwrap_or(0);
    let lists = InterfaceLists::from_config(after);
    let dropper = fw
        .chain("input")
        .find(|r| {
            r.action == Action::Drop
                && r.matches_probe(
                    Probe {
                        protocol: "tcp",
                        port,
                        interface: iface,
                    },
                    &lists,
                )
                && r.src()
                    .is_none_or(|s| !s.intersect(&need.certain).is_empty())
        })
        .map(|r| format!("{fam} filter rule {} would drop it", r.number))
        .unwrap_or_else(|| "the firewall would not accept it".into());
    let what = if svc == "api" { "the API" } else { svc };
    format!("refusing: {who} would lose {what} on `{iface}`{at}: {dropper}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(export: &str, script: &str) -> Result<(), Refusal> {
        let text = format!("{export}\n{script}");
        let (_, parsed) = Config::load(text.into_bytes());
        script_parses(export.len() + 1, &parsed)
    }

    const SCRIPT: &str = "/ip service\nset telnet disabled=yes\n";

    /// A line of the export that does not parse (a `//` comment, an unterminated string) is the
    /// export's: the CLI names it with its line and column; the script is not refused for it.
    #[test]
    fn a_line_of_the_export_that_does_not_parse_is_not_the_scripts() {
        for export in [
            "// firewall\n/ip firewall filter\nadd chain=input action=accept",
            "/ip firewall filter\nadd chain=input comment=\"open\naction=accept",
        ] {
            let (_, own) = Config::load(export.as_bytes().to_vec());
            assert!(!own.diagnostics.is_empty(), "{export}");
            assert!(check(export, SCRIPT).is_ok(), "{export}");
        }
    }

    /// The script's own error is still found, after an export with errors of its own too.
    #[test]
    fn a_script_line_that_does_not_parse_is_refused() {
        let r = check(
            "// x\n/ip service",
            "/ip service\nset telnet comment=\"open\n",
        )
        .unwrap_err();
        assert!(
            r.0.starts_with("the generated script does not parse"),
            "{}",
            r.0
        );
    }

    /// An export whose last line continues (`\`) would swallow the script's first line into
    /// its own statement: refused, naming the export's line.
    #[test]
    fn an_export_running_on_into_the_script_is_refused_with_its_line() {
        let r = check("/ip firewall filter\nadd chain=input \\", SCRIPT).unwrap_err();
        assert!(r.0.contains("line 2 runs on into the script"), "{}", r.0);
    }
}
