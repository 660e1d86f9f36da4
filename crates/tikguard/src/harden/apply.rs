//! `tikguard harden --apply`: the plan run on a live router over the API, in the plan's order.
//!
//! - The connection's own source must keep access after the plan: its address (this end of the
//!   TCP connection; a NAT in between is not seen, which is why `--yes-lock-me-out` exists) must
//!   lie in `--mgmt` or `--api-client`, which the proof guarantees; otherwise `--yes` is refused.
//! - The router is read again before anything changes: if what the plan rests on changed since
//!   the read it was made from ([`super::drift`]), nothing is changed.
//! - Every `find` is resolved before anything changes; one that matches nothing stops the run
//!   with nothing changed.
//! - `/certificate sign` is followed by a wait until the certificate has its private key, at
//!   most 120 s, as the script does.

use super::script::comment_text;
use super::script::{pick_first, Line, Stmt, Target, Val};
use super::{Intent, Plan};
use crate::audit::addrset::AddrSet;

/// Where a run's lines go: the terminal for one router, a buffer per router for a fleet.
pub trait Log: Send {
    /// A line of what the run does (standard output on a terminal).
    fn out(&mut self, line: &str);
    /// A line saying why it stopped, or a warning (standard error on a terminal).
    fn err(&mut self, line: &str);
}

/// Standard output and standard error.
pub struct Terminal;

impl Log for Terminal {
    fn out(&mut self, line: &str) {
        println!("{line}");
    }
    fn err(&mut self, line: &str) {
        eprintln!("{line}");
    }
}

/// The lines kept, in order; `err` lines hold the reason a run stopped.
#[derive(Default, Debug, Clone)]
pub struct Buffer {
    pub lines: Vec<String>,
    pub errors: Vec<String>,
}

impl Log for Buffer {
    fn out(&mut self, line: &str) {
        self.lines.push(line.to_string());
    }
    fn err(&mut self, line: &str) {
        self.lines.push(line.to_string());
        self.errors.push(line.to_string());
    }
}

/// The connection's source is in the management or API client prefixes (`--mgmt`,
/// `--api-client`, or a fleet inventory's), or says why not, naming them.
pub fn source_kept(local: Option<std::net::SocketAddr>, intent: &Intent) -> Result<(), String> {
    let Some(local) = local else {
        return Ok(());
    };
    let ip = local.ip().to_canonical();
    let (v6, n) = match ip {
        std::net::IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        std::net::IpAddr::V6(a) => (true, u128::from(a)),
    };
    let me = AddrSet::from_ranges(v6, vec![(n, n)]);
    let kept = intent
        .mgmt
        .iter()
        .chain(&intent.api_clients)
        .any(|p| p.v6 == v6 && p.set.contains_set(&me));
    if kept {
        return Ok(());
    }
    let given: Vec<&str> = intent
        .mgmt
        .iter()
        .chain(&intent.api_clients)
        .map(|p| p.text.as_str())
        .collect();
    // The prefixes come from the command line or, in a fleet, from the inventory: both named.
    Err(format!("this connection comes from {ip}, which is in none of the management and API client prefixes ({}): after the plan it could not reach the router again; add it to the management prefixes (--mgmt, or `mgmt` in the fleet inventory), apply from inside management, or give --yes-lock-me-out", given.join(", ")))
}

/// Whether the user this run logs in as (`user`, in the router's `/user` as read now) keeps its
/// way in after `plan`: a plan that takes policies from its group (`/user group set ...
/// policy=`) or sets its address (`/user set [find where group=G] address=`, or by its name)
/// restricts it, and the next login (this run's own final look included) may fail. MikroTik's
/// User manual: a user's `address` is the "host or network address from which the user is
/// allowed to log in", and its group's `policy` the rights it has.
pub fn login_kept(before: &routeros_config::Config, user: &str, plan: &Plan) -> Result<(), String> {
    let group = before
        .items("/user")
        .iter()
        .find(|u| u.get_str("name").as_deref() == Some(user))
        .and_then(|u| u.get_str("group"));
    let names = |conds: &[super::script::Cond], key: &str, v: &str| {
        conds
            .iter()
            .any(|c| !c.negated && c.key == key && c.value.as_deref() == Some(v))
    };
    for ch in &plan.changes {
        for line in &ch.lines {
            let Line::Cmd(stmt) = line else { continue };
            if stmt.verb != "set" {
                continue;
            }
            let conds: &[super::script::Cond] = match &stmt.target {
                Target::Find(c) | Target::Every(c) => c,
                _ => continue,
            };
            let sets = |k: &str| stmt.args.iter().any(|(a, _)| a == k);
            let in_group = |key: &str| group.as_deref().is_some_and(|g| names(conds, key, g));
            let hits = (stmt.menu == "/user"
                && (names(conds, "name", user) || in_group("group"))
                && (sets("address") || sets("group")))
                || (stmt.menu == "/user group" && in_group("name") && sets("policy"));
            if hits {
                return Err(format!(
                    "the plan restricts `{user}`, the user this run logs in as ({}: {}): after it, `{user}` may not log in from here again; log in as another administrator (--user), or give --yes-lock-me-out",
                    match &group {
                        Some(g) => format!("group {g}"),
                        None => "its own entry".into(),
                    },
                    ch.description
                ));
            }
        }
    }
    Ok(())
}

/// A statement with its placements dropped, to check its target alone.
fn without_picks(stmt: &Stmt) -> Stmt {
    let mut s = stmt.clone();
    s.args.retain(|(_, v)| !matches!(v, Val::Pick(_)));
    s
}

/// Every `find` of the plan that matches nothing on the router now (a router changed since the
/// plan was made), each as an error naming it. Placements are left to the run (they name rules
/// it adds); a `remove` of nothing removes nothing.
pub async fn unresolved(client: &routeros_api::Client, plan: &Plan) -> Vec<String> {
    let mut missing = Vec::new();
    for ch in &plan.changes {
        for line in &ch.lines {
            let Line::Cmd(stmt) = line else { continue };
            // A named item and a `find` must be there; `Every` may be none.
            if matches!(stmt.target, Target::Find(_) | Target::Name(_))
                && stmt.verb != "remove"
                && stmt.verb != "sign"
            {
                if let Err(e) = crate::live::stmt_to_api(client, &without_picks(stmt)).await {
                    missing.push(e);
                }
            }
        }
    }
    missing
}

/// What `--rollback FILE` does with `text`, the undo of `plan`: `Ok(false)` writes nothing (a
/// plan with nothing to do has nothing to undo, and an empty file would hide an earlier run's
/// undo), `Ok(true)` writes it. With `--apply` (`applying`) an existing file holding other text
/// is the undo of an earlier run, the only record of what that run changed: refused, before
/// anything is changed. The same text (the dry run before the run) is no loss.
pub fn rollback_to_write(
    path: &std::path::Path,
    text: &str,
    plan: &Plan,
    applying: bool,
) -> Result<bool, String> {
    if plan.is_empty() {
        return Ok(false);
    }
    if applying {
        if let Ok(have) = std::fs::read(path) {
            if have != text.as_bytes() {
                return Err(format!(
                    "{} holds another rollback (the undo of an earlier run, which a second run would destroy): nothing was changed; keep it and give --rollback a new file",
                    path.display()
                ));
            }
        }
    }
    Ok(true)
}

/// Lists (dry run) or runs the changes on a live router in the plan's order, then audits it
/// again. Its lines go to `log`.
// Each argument is one thing the command line decided; bundling them would only move the list.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    client: &routeros_api::Client,
    plan: &Plan,
    yes: bool,
    lock_me_out: bool,
    intent: &Intent,
    planned: &routeros_config::Config,
    rollback: Option<&std::path::Path>,
    user: &str,
    log: &mut dyn Log,
) -> std::io::Result<u8> {
    // The run's lines: what it applies (`say!`) and what stops it (`tell!`).
    macro_rules! say {
        ($($t:tt)*) => { log.out(&format!($($t)*)) };
    }
    macro_rules! tell {
        ($($t:tt)*) => { log.err(&format!($($t)*)) };
    }
    // The connection this runs over: its source must keep the API after the plan.
    if let Err(e) = source_kept(client.local_addr(), intent) {
        if yes && !lock_me_out {
            tell!("tikguard: {}", comment_text(&e));
            return Ok(1);
        }
        tell!("tikguard: warning: {}", comment_text(&e));
    }
    let (_, before) = match crate::live::fetch(client).await {
        Ok(x) => x,
        Err(e) => {
            tell!("tikguard: {}", comment_text(&e));
            return Ok(1);
        }
    };
    // The plan and its proof were made from the read before this one: if what they rest on
    // changed since, neither holds (a rule added with a find target's comment, a drop above
    // the accepts), even where every find still matches.
    let drift = super::drift::check(planned, &before, plan);
    if !drift.is_empty() {
        for e in &drift {
            tell!("tikguard: {}", comment_text(e));
        }
        tell!("tikguard: nothing was changed: the plan and its proof were made from the router as it was a moment ago; run again");
        return Ok(1);
    }
    if let Err(e) = login_kept(&before, user, plan) {
        if !lock_me_out {
            tell!("tikguard: {}", comment_text(&e));
            tell!("tikguard: nothing was changed");
            return Ok(1);
        }
        tell!("tikguard: warning: {}", comment_text(&e));
    }
    let findings_before = crate::audit::run(&before, &intent.wan, &Default::default())
        .findings
        .len();
    if plan.is_empty() {
        say!("nothing to do: the router already has what tikguard would add");
        return Ok(0);
    }
    // Every `find` the plan needs is resolved before anything changes: a target that matches
    // nothing stops the run with the router as it was, not half applied. Placements
    // (`place-before`) are resolved as each rule is added, since they name rules added before
    // it; the dry run shows them as the find the run resolves.
    let missing = unresolved(client, plan).await;
    if !missing.is_empty() {
        for e in &missing {
            tell!("tikguard: {}", comment_text(e));
        }
        tell!("tikguard: nothing was changed: the router differs from the configuration read a moment ago; run again");
        return Ok(1);
    }
    let cuts_own = cuts_own_service(client, plan);
    // The certificate a service is given: waited for (once) wherever the plan waits.
    let cert_waited: Option<String> = match &intent.cert {
        super::CertPlan::Generate => {
            plan.changes
                .iter()
                .flat_map(|c| &c.lines)
                .find_map(|l| match l {
                    Line::Cmd(s) if s.menu == "/ip service" => {
                        s.args.iter().find_map(|(k, v)| match v {
                            Val::Text(t) if k == "certificate" => Some(t.clone()),
                            _ => None,
                        })
                    }
                    _ => None,
                })
        }
        super::CertPlan::Named(_) => None,
    };
    let total = plan.changes.len();
    for (k, ch) in plan.changes.iter().enumerate() {
        let stopped = |why: &str, in_flight: bool| stopped(k, total, ch, why, in_flight, rollback);
        say!(
            "{} {}",
            if yes { "applying:" } else { "would apply:" },
            comment_text(&ch.description)
        );
        for line in &ch.lines {
            let Line::Cmd(stmt) = line else {
                // Scripting: the wait for the certificate's private key has its API form here.
                if yes && ch.id == "certificate-wait" {
                    if let Some(name) = &cert_waited {
                        if let Err(e) = wait_signed(client, name).await {
                            tell!("tikguard: {}", stopped(&e, false));
                            return Ok(1);
                        }
                    }
                }
                continue;
            };
            // A placement (`place-before`) names the first rule that is not one of the block
            // rules above it, which the run adds before this one and the dry run does not: the
            // dry run shows the find the run resolves when it gets there, not the id of the
            // rule that would be first today.
            let dry_placed = !yes && stmt.args.iter().any(|(_, v)| matches!(v, Val::Pick(_)));
            let resolved = if dry_placed {
                crate::live::stmt_to_api(client, &without_picks(stmt)).await
            } else {
                crate::live::stmt_to_api(client, stmt).await
            };
            let mut words = match resolved {
                Ok(s) if s.is_empty() => {
                    say!(
                        "    (nothing matches {}: nothing to send)",
                        comment_text(&stmt.render())
                    );
                    continue;
                }
                Ok(s) => s,
                Err(e) if yes => {
                    tell!("tikguard: {}", stopped(&e, false));
                    return Ok(1);
                }
                Err(e) => {
                    tell!("tikguard: {}", comment_text(&e));
                    return Ok(1);
                }
            };
            if dry_placed {
                for (k, v) in &stmt.args {
                    if let Val::Pick(conds) = v {
                        words.push(format!("={k}={}", pick_first(conds)).into_bytes());
                    }
                }
            }
            let shown: Vec<String> = words
                .iter()
                .map(|w| routeros_config::secrets::redact_embedded(w).into_owned())
                .map(|w| comment_text(&String::from_utf8_lossy(&w)))
                .collect();
            say!("    {}", shown.join(" "));
            if yes {
                if let Err(e) = client.call_words(words).await {
                    // A trap is RouterOS refusing the command: it did nothing. Anything else
                    // (a reset, a timeout) lost the reply: whether it took effect is unknown.
                    let refused = matches!(e, routeros_api::Error::Trap { .. });
                    let why = format!("{}: {e}", shown.join(" "));
                    tell!("tikguard: {}", stopped(&why, !refused));
                    return Ok(1);
                }
                if stmt.verb == "sign" {
                    let Target::Name(name) = &stmt.target else {
                        continue;
                    };
                    if let Err(e) = wait_signed(client, name).await {
                        tell!("tikguard: {}", stopped(&e, false));
                        return Ok(1);
                    }
                }
            }
        }
    }
    if !yes {
        if cuts_own {
            say!("note: this connection is the plaintext API, which the plan disables last; the final check reads over this session, opened before, and says so if the router ends it");
        }
        say!("dry run: nothing changed; run again with --yes to apply");
        return Ok(0);
    }
    // The final read goes over this session, opened before the plan ran. Over the plaintext
    // API that the plan has just disabled, it may have been closed with the service: whether
    // RouterOS ends open API sessions when their service is disabled is not documented, so
    // both are handled, and a check that did not run is never reported as passed.
    let read_after = if cuts_own {
        " (read over this session, opened before the plaintext API was disabled)"
    } else {
        ""
    };
    match crate::live::fetch(client).await {
        Ok((_, after)) => {
            let n = crate::audit::run(&after, &intent.wan, &Default::default())
                .findings
                .len();
            say!("live audit: findings {findings_before} -> {n}{read_after}");
            Ok(0)
        }
        Err(e) => {
            let why = if cuts_own {
                "; this connection is the plaintext API, which the plan disabled last"
            } else {
                ""
            };
            tell!(
                "tikguard: every change was applied, but the final check did not run: {}{why}; audit the router over api-ssl (tikguard audit --live ROUTER) to see its findings now",
                comment_text(&e)
            );
            Ok(1)
        }
    }
}

/// What a run that stopped at change `k` (0-based) of `total` leaves: the changes before it
/// applied, this one not (`in_flight`: sent, its reply lost, so not known), nothing after it
/// sent. The plan runs in an order whose every prefix the proof keeps access through, and a new
/// run plans from the router as it is, so running again finishes it; the rollback undoes it
/// (its commands for changes that were not made match nothing or set what is already set).
fn stopped(
    k: usize,
    total: usize,
    ch: &super::Change,
    why: &str,
    in_flight: bool,
    rollback: Option<&std::path::Path>,
) -> String {
    let what = if in_flight {
        "the connection failed during change"
    } else {
        "stopped at change"
    };
    let this = if in_flight {
        "this one was sent and may or may not have been applied (its reply was lost)"
    } else {
        "this one was not applied"
    };
    let before = match k {
        0 => "no change before it was applied".to_string(),
        1 => "change 1 was applied".to_string(),
        _ => format!("changes 1 to {k} were applied"),
    };
    let undo = match rollback {
        Some(p) => format!(
            "undo them with the rollback written to {} (keep it: a run again refuses to overwrite it; give that run a new --rollback file)",
            p.display()
        ),
        None => "undo them with the rollback (--rollback FILE writes it)".to_string(),
    };
    comment_text(&format!(
        "{what} {} of {total} ({}): {why}; {before}, {this}, nothing after it was sent; every such stop leaves the access the proof checked: run again to finish (the plan is made from the router as it is then), or {undo}",
        k + 1,
        ch.description
    ))
}

/// Whether this connection is the plaintext API (no TLS) and the plan disables the plaintext
/// API: the plan takes away the service the session runs over.
fn cuts_own_service(client: &routeros_api::Client, plan: &Plan) -> bool {
    client.fingerprint().is_none()
        && plan.changes.iter().any(|c| {
            c.id == "service-api"
                && c.lines.iter().any(|l| match l {
                    Line::Cmd(s) => s
                        .args
                        .iter()
                        .any(|(k, v)| k == "disabled" && matches!(v, Val::Text(t) if t == "yes")),
                    _ => false,
                })
        })
}

/// Waits (at most 120 s) until the certificate just signed has its private key.
async fn wait_signed(client: &routeros_api::Client, name: &str) -> Result<(), String> {
    for _ in 0..120 {
        let items = client
            .call(&[
                "/certificate/print".to_string(),
                "=.proplist=name,private-key".into(),
            ])
            .await
            .map_err(|e| e.to_string())?;
        if items.iter().any(|i| {
            i.get("name").map(|b| &b[..]) == Some(name.as_bytes())
                && matches!(i.get("private-key").map(|b| &b[..]), Some(b"true" | b"yes"))
        }) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    Err(format!(
        "certificate {} is not signed after 120 s; stopped before anything uses it",
        comment_text(name)
    ))
}

/// The public key of WireGuard interface `name` on the router, once the plan created it: the
/// router generated the pair, and only the public half is read.
pub async fn wireguard_public_key(client: &routeros_api::Client, name: &str) -> Option<String> {
    let words = vec![
        "/interface/wireguard/print".to_string(),
        "=.proplist=name,public-key".to_string(),
    ];
    let items = client.call(&words).await.ok()?;
    items
        .iter()
        .find(|i| i.get("name").map(|n| &n[..]) == Some(name.as_bytes()))
        .and_then(|i| i.get("public-key"))
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .and_then(|k| super::tunnel::check_key(&k).ok())
}
