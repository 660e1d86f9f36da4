//! Which changes a configuration needs: services, settings, logging; the CRM's groups and users are
//! [`super::crm`]'s.
//! The firewall rules are [`super::block`]'s; the order everything runs in is [`super::order`]'s.
//!
//! RouterOS facts this relies on, each pinned by a test in `tests/harden.rs`:
//! - From 7.19 `/ip service` also lists every open connection as a dynamic entry named after its
//!   service, and `set www-ssl ...` can hit one and fail with "this is configured elsewhere"
//!   (7.19 changelog "ip-service - show all TCP/UDP connections on the system";
//!   terraform-routeros/terraform-provider-routeros#769; foorschtbar/routeros-letsencrypt-docker#20,
//!   fixed there with `[find dynamic=no and name=...]`). So from 7.19 services are addressed as
//!   `[find where name=X and dynamic=no]`.
//! - 7.24 renamed `/ip service address` to `available-from` (7.24 changelog; both are in 7.24's
//!   command tree).
//! - `/certificate sign` can take from seconds to minutes depending on key size and hardware, and
//!   a script goes on meanwhile; scripts in the field wait with `:delay`. The script waits until
//!   the certificate has its private key (flag `K`, `private-key`), at most two minutes, and
//!   stops with an error otherwise, before anything uses the certificate.
//! - Users are not in exports. `/user set [find group=G] address=...` restricts every user of a
//!   group without knowing their names.

use routeros_config::{Config, Item, Version};

use super::intent::{CertPlan, Intent, Prefix};
use super::order::{self, Phase};
use super::script::{value, Cond, Guard, Line, Stmt, Target};
use super::{block, Change, Plan, TAG};
use crate::audit::{self, Selection};

pub(crate) fn service<'a>(c: &'a Config, name: &str) -> Option<&'a Item> {
    c.menu("/ip service")?.by_name(name)
}

pub(crate) fn service_enabled(c: &Config, name: &str) -> bool {
    service(c, name).is_some_and(|i| !i.is_disabled())
}

pub(crate) fn service_port(c: &Config, name: &str) -> Option<u16> {
    service(c, name)?.get_str("port")?.parse().ok()
}

/// `address=`, or 7.24's `available-from`.
fn service_address(i: &Item) -> String {
    i.get_str("available-from")
        .or_else(|| i.get_str("address"))
        .unwrap_or_default()
}

/// How a script names a service on the target version.
fn service_target(v: &Version, name: &str) -> Target {
    if v.at_least(7, 19, 0) {
        Target::Find(vec![Cond::eq("name", name), Cond::eq("dynamic", "no")])
    } else {
        Target::Name(name.into())
    }
}

fn address_key(v: &Version) -> &'static str {
    if v.at_least(7, 24, 0) {
        "available-from"
    } else {
        "address"
    }
}

/// The prefixes as one `address=` value, sorted.
pub(crate) fn join(ps: &[&Prefix]) -> String {
    let mut v: Vec<String> = ps.iter().map(|p| p.text.clone()).collect();
    v.sort();
    v.dedup();
    v.join(",")
}

/// Sets properties of a service that differ; `address` means `available-from` on 7.24.
fn service_set(
    c: &Config,
    intent: &Intent,
    name: &str,
    want: Vec<(&str, String)>,
    description: String,
    fixes: Vec<&'static str>,
    phase: Phase,
) -> Option<Change> {
    let item = service(c, name)?;
    let have = |k: &str| -> String {
        if k == "address" {
            service_address(item)
        } else {
            item.get_str(k).unwrap_or_default()
        }
    };
    // An address list is a set: the same entries in another order are no change.
    let same = |k: &str, v: &str| {
        if k == "address" {
            let set = |s: &str| {
                let mut e: Vec<String> = s
                    .split(',')
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect();
                e.sort();
                e.dedup();
                e
            };
            set(&have(k)) == set(v)
        } else {
            have(k) == v
        }
    };
    let diff: Vec<(&str, String)> = want.into_iter().filter(|(k, v)| !same(k, v)).collect();
    if diff.is_empty() {
        return None;
    }
    let key = |k: &str| {
        if k == "address" {
            address_key(&intent.target)
        } else {
            k
        }
        .to_string()
    };
    let target = service_target(&intent.target, name);
    let mut doit = Stmt::set("/ip service", target.clone());
    let mut undo = Stmt::set("/ip service", target);
    for (k, v) in &diff {
        doit = doit.arg(&key(k), v.clone());
        undo = undo.arg(&key(k), have(k));
    }
    Some(Change {
        id: format!("service-{name}"),
        description,
        fixes,
        phase,
        lines: vec![doit.into()],
        guard: None,
        undo: vec![undo.into()],
    })
}

/// A settings property: menu, key, the value wanted, RouterOS' default.
struct Setting<'a>(&'a str, &'a str, &'a str, &'a str);

fn setting_set(
    c: &Config,
    Setting(menu, key, want, default): Setting<'_>,
    id: &str,
    description: &str,
    fixes: Vec<&'static str>,
) -> Option<Change> {
    let have = c
        .setting(menu, key)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_else(|| default.to_string());
    if have == want {
        return None;
    }
    Some(Change {
        id: id.to_string(),
        description: description.to_string(),
        fixes,
        phase: Phase::Restrict,
        lines: vec![Stmt::set(menu, Target::None).arg(key, want).into()],
        guard: None,
        undo: vec![Stmt::set(menu, Target::None).arg(key, have).into()],
    })
}

/// An addition guarded by the properties RouterOS keeps unique (`unique`), removed on undo by
/// those and, where the menu has comments, by the tag too.
pub(crate) fn add_unique(
    menu: &str,
    id: &str,
    props: Vec<(&str, String)>,
    unique: &[&str],
    tagged: bool,
    description: String,
    phase: Phase,
) -> Change {
    let mut props = props;
    let mut undo_conds: Vec<Cond> = Vec::new();
    let guard_conds: Vec<Cond> = unique
        .iter()
        .map(|k| {
            let v = props
                .iter()
                .find(|(pk, _)| pk == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            Cond::eq(k, &v)
        })
        .collect();
    undo_conds.extend(guard_conds.iter().cloned());
    if tagged {
        let tag = format!("{TAG}{id}");
        props.push(("comment", tag.clone()));
        undo_conds.push(Cond::eq("comment", &tag));
    }
    Change {
        id: id.to_string(),
        description,
        fixes: vec![],
        phase,
        lines: vec![Stmt::add(menu).args(props).into()],
        guard: Some(Guard::absent(menu, guard_conds)),
        undo: vec![Stmt::new(menu, "remove", Target::Find(undo_conds)).into()],
    }
}

/// Lists the changes the configuration needs, in the order they run.
pub fn plan(c: &Config, intent: &Intent) -> Plan {
    let mut out: Vec<Change> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let v = &intent.target;
    let v7 = v.major >= 7;
    let before = audit::run(c, &intent.wan, &Selection::default());
    let has = |rule: &str| before.findings.iter().any(|f| f.rule == rule);
    // Management over IPv6 where --mgmt names only IPv4: the IPv6 prefixes and link-local
    // addresses of the interfaces where management lives keep the services.
    let (v6_derived, v6_ifaces) = block::derived_v6_mgmt(c, intent);
    let link_local = block::link_local();
    let mut mgmt_refs: Vec<&Prefix> = intent.mgmt.iter().collect();
    if crate::audit::exposure::ipv6_active(c) {
        mgmt_refs.extend(v6_derived.iter());
        if !v6_ifaces.is_empty() {
            mgmt_refs.push(&link_local);
        }
    }
    let clients_and_mgmt: Vec<&Prefix> = intent
        .api_clients
        .iter()
        .chain(mgmt_refs.iter().copied())
        .collect();
    // Allow-lists that exist are kept, the given prefixes added ([`super::keep`]).
    let kept = super::keep::kept(c, intent);
    let with_kept = |base: &[&'_ Prefix], svc: &str| -> String {
        // The list as it was, then the given prefixes it lacks.
        // (Entries a given prefix covers are left to it.)
        let mut v: Vec<String> = kept
            .service(svc)
            .iter()
            .filter(|k| {
                !base
                    .iter()
                    .any(|b| b.v6 == k.v6 && b.set.contains_set(&k.set))
            })
            .map(|p| p.text.clone())
            .collect();
        let mut add: Vec<String> = base.iter().map(|p| p.text.clone()).collect();
        add.sort();
        for a in add {
            if !v.contains(&a) {
                v.push(a);
            }
        }
        v.join(",")
    };

    // No API client (only where the API is off: [`super::options::prepare`]): api-ssl stays
    // off, and needs no certificate.
    let api_off = intent.api_clients.is_empty();
    // www-ssl on without a certificate takes the one made for api-ssl.
    let www_ssl_needs_cert = service_enabled(c, "www-ssl")
        && !service(c, "www-ssl")
            .and_then(|i| i.get_str("certificate"))
            .is_some_and(|n| !n.is_empty() && n != "none");
    if api_off {
        notes.push("the API (api, api-ssl) is off and stays off: no --api-client was given, so nobody is to use it".into());
    }
    // The certificate api-ssl (and a www-ssl without one) will use.
    let cert_name = if api_off && !www_ssl_needs_cert {
        String::new()
    } else {
        certificate(
            c,
            intent,
            if api_off { "www-ssl" } else { "api-ssl" },
            &mut out,
        )
    };

    // api-ssl: what the CRM will use, ready before anything restricts the plaintext API.
    let mut ssl: Vec<(&str, String)> = vec![
        ("disabled", "no".into()),
        ("certificate", cert_name.clone()),
        ("address", with_kept(&clients_and_mgmt, "api-ssl")),
    ];
    if v7 {
        ssl.push(("tls-version", "only-1.2".into()));
    }
    let mut ssl_fixes = vec!["TG102", "TG103"];
    if v7 {
        ssl_fixes.push("TG104");
    }
    if let Some(p) = intent.api_port {
        ssl.push(("port", p.to_string()));
        if p != 8729 {
            ssl_fixes.push("TG105");
        }
    }
    if !api_off {
        out.extend(service_set(
            c,
            intent,
            "api-ssl",
            ssl,
            format!(
                "api-ssl: certificate {cert_name}{}, only the API clients and management may connect",
                if v7 { ", TLS 1.2+" } else { "" }
            ),
            ssl_fixes,
            Phase::ApiSsl,
        ));
    }

    // Other services.
    for svc in ["winbox", "ssh"] {
        if service_enabled(c, svc) {
            out.extend(service_set(
                c,
                intent,
                svc,
                vec![("address", with_kept(&mgmt_refs, svc))],
                format!("{svc}: only management may connect"),
                vec!["TG103"],
                Phase::Restrict,
            ));
        }
    }
    if service_enabled(c, "www-ssl") {
        let mut w: Vec<(&str, String)> = vec![("address", with_kept(&mgmt_refs, "www-ssl"))];
        // A certificate it has (Let's Encrypt, which RouterOS 7 renews by itself with no script
        // to show it) is kept; one is given only where there is none.
        if www_ssl_needs_cert {
            w.push(("certificate", cert_name.clone()));
        }
        if v7 {
            w.push(("tls-version", "only-1.2".into()));
        }
        let mut fixes = vec!["TG103", "TG109"];
        if v7 {
            fixes.push("TG104");
        }
        let what = format!(
            "www-ssl: certificate{}, only management may connect",
            if v7 { ", TLS 1.2+" } else { "" }
        );
        out.extend(service_set(
            c,
            intent,
            "www-ssl",
            w,
            what,
            fixes,
            Phase::Restrict,
        ));
    }
    let letsencrypt = block::uses_letsencrypt(c);
    let mut left_open = false;
    for (svc, rule) in [("telnet", "TG106"), ("ftp", "TG107"), ("www", "TG108")] {
        if !service_enabled(c, svc) {
            continue;
        }
        if svc == "www" && letsencrypt {
            notes.push("www (tcp/80) kept enabled: a script runs `/certificate enable-ssl-certificate`, whose Let's Encrypt challenge is answered on port 80".into());
            continue;
        }
        // Used today ([`super::used`]): restricted to management and its users, or left.
        if let Some(u) = super::used::uses(c, svc) {
            match u.sources {
                Some(users) => {
                    let mut base: Vec<&Prefix> = mgmt_refs.clone();
                    base.extend(users.iter());
                    let list = {
                        let mut v: Vec<String> = service(c, svc)
                            .map(service_address)
                            .unwrap_or_default()
                            .split(',')
                            .filter(|p| !p.is_empty())
                            .map(str::to_string)
                            .collect();
                        for p in &base {
                            if !v.contains(&p.text) {
                                v.push(p.text.clone());
                            }
                        }
                        v.join(",")
                    };
                    notes.push(format!("{svc} restricted to management and its users instead of disabled: the configuration uses it ({})", u.why));
                    out.extend(service_set(
                        c,
                        intent,
                        svc,
                        vec![("address", list)],
                        format!("{svc}: in use, so only management and the sources that use it may connect"),
                        vec![],
                        Phase::Restrict,
                    ));
                }
                None => {
                    left_open = true;
                    notes.push(format!("{svc} left enabled as it is: the configuration uses it from any source ({}); restrict its address= or disable it by hand if that use is gone", u.why));
                }
            }
            continue;
        }
        out.extend(service_set(
            c,
            intent,
            svc,
            vec![("disabled", "yes".into())],
            format!("disable {svc} (clear-text logins)"),
            vec![rule, "TG103"],
            Phase::Restrict,
        ));
    }

    // Settings the findings name.
    if service_enabled(c, "ssh") {
        out.extend(setting_set(
            c,
            Setting("/ip ssh", "strong-crypto", "yes", "no"),
            "ssh-strong-crypto",
            "ssh: strong ciphers only",
            vec!["TG111"],
        ));
        // MikroTik's SSH manual: `allow-none-crypto` (default `no`); 7.18 replaced it with
        // `ciphers=` (ROUTEROS.md, "SSH"), where the export shows no such setting.
        if !v.at_least(7, 18, 0) && c.setting("/ip ssh", "allow-none-crypto") == Some(b"yes") {
            out.extend(setting_set(
                c,
                Setting("/ip ssh", "allow-none-crypto", "no", "no"),
                "ssh-no-none-crypto",
                "ssh: no session without encryption (`none` cipher refused)",
                vec!["TG118"],
            ));
        }
    }
    super::layer2::layer2(c, intent, &before.exposure, &mut out, &mut notes);
    // The bandwidth-test server (tcp/2000, and UDP from 2000 up: MikroTik's Bandwidth Test
    // manual) has no address restriction of its own: one in use is left on.
    if let Some(u) = super::used::uses_port(c, 2000, &["tcp", "udp", "6", "17"]) {
        notes.push(format!(
            "bandwidth-test server left enabled: the configuration uses it ({}); it asks for a login",
            u.why
        ));
        // Left on, never without a login: `authenticate=no` runs a test for anyone who
        // reaches it (MikroTik's Bandwidth Test manual; `authenticate` defaults to `yes`).
        out.extend(setting_set(
            c,
            Setting("/tool bandwidth-server", "authenticate", "yes", "yes"),
            "bandwidth-server-authenticate",
            "bandwidth-test server: a login for every test (authenticate=yes)",
            vec![],
        ));
    } else {
        out.extend(setting_set(
            c,
            Setting("/tool bandwidth-server", "enabled", "no", "yes"),
            "bandwidth-server",
            "disable the bandwidth-test server",
            vec!["TG114"],
        ));
    }
    // Default ports: MikroTik's Proxy (8080) and SOCKS (1080) manuals.
    for (menu, id, what, default_port) in [
        ("/ip socks", "socks", "SOCKS proxy", 1080),
        ("/ip proxy", "proxy", "web proxy", 8080),
    ] {
        if c.setting(menu, "enabled") == Some(b"yes") {
            // A transparent proxy (a NAT redirect to its port, as ISPs send unpaid
            // subscribers' web traffic to a notice page) or an accept for it: in use.
            let port = c
                .setting(menu, "port")
                .and_then(|p| std::str::from_utf8(p).ok()?.parse().ok())
                .unwrap_or(default_port);
            if let Some(u) = super::used::uses_port(c, port, &["tcp", "6"]) {
                notes.push(format!(
                    "{id}: the {what} is left enabled: the configuration uses it ({}); limit who may use it (`{menu} access`) if it is open to WAN",
                    u.why
                ));
                continue;
            }
            out.extend(setting_set(
                c,
                Setting(menu, "enabled", "no", "no"),
                id,
                &format!("disable the {what}"),
                vec!["TG116"],
            ));
        }
    }
    if has("TG306") {
        out.extend(setting_set(
            c,
            Setting("/user settings", "minimum-password-length", "12", "0"),
            "min-password-length",
            "passwords of at least 12 characters",
            vec!["TG306"],
        ));
    }

    // TG121, RoMON without a secret. MikroTik's RoMON manual ("Secrets"): a router sends with
    // the first secret of its list (unhashed if that is empty) and accepts unhashed messages
    // only while its list is empty or holds the empty secret. A secret set on this router
    // alone cuts it off from every RoMON peer still without one; the manual's way is in steps
    // across the whole RoMON network. Without `--romon-secret-stage` it is said, not done;
    // with it [`super::romon`] plans the stage and drops this note.
    if has("TG121") {
        notes.push("TG121 not planned: a RoMON secret set on this router alone cuts it off from its RoMON peers (MikroTik's RoMON manual, Secrets: unhashed messages are accepted only while the list is empty or holds the empty secret). Introduce it in the manual's three stages, each on every RoMON router before the next: `--romon-secret-file FILE --romon-secret-stage 1` (`secrets=\"\",<secret>`: still sending unhashed, already accepting the secret), then `--romon-secret-stage 2` (`secrets=<secret>,\"\"`: sending with it), then `--romon-secret-stage 3` (`secrets=<secret>`)".into());
    }

    super::crm::crm_access(c, intent, &mut out, &mut notes);
    let mut foreign = Vec::new();
    block::plan(c, intent, &kept, &mut out, &mut notes, &mut foreign);
    foreign.extend(super::foreign::fillers(c));
    foreign.extend(super::foreign::passing(c, &foreign));
    let given: Vec<&Prefix> = intent.mgmt.iter().chain(&intent.api_clients).collect();
    foreign.extend(super::foreign::wide(c, &given));
    if intent.keep_plain_api && service_enabled(c, "api") {
        // The CRM's accepts for the plaintext API stay with it, and so does its port (staged
        // against brute force by [`block`] where it is open beyond the API clients).
        out.retain(|ch| !ch.id.contains("-disable-open-api-accept:"));
    }
    // The plaintext API left on as it is, open to every address: TG103 stays with it.
    let plain_api_open = intent.keep_plain_api
        && service(c, "api").is_some_and(|i| !i.is_disabled() && service_address(i).is_empty());
    logging(c, intent, has("TG502"), &mut out);

    // Last: the plaintext API, once api-ssl has its certificate and accept. The CRM must trust
    // api-ssl's certificate before then: said in the plan, or staged with --keep-plain-api.
    let new_cert = out.iter().any(|ch| ch.id == "certificate");
    if service_enabled(c, "api") && intent.keep_plain_api {
        notes.push(format!("staged: the plaintext API and its accepts stay on (--keep-plain-api); once the CRM connects to api-ssl and trusts certificate `{cert_name}`, run harden again without --keep-plain-api to turn them off (TG101 and TG203, and TG103 while the API admits every address, stay open until then)"));
    } else if service_enabled(c, "api") {
        if new_cert {
            notes.push(format!("cut-over: this run creates certificate `{cert_name}` and, at its end, turns the plaintext API off: a CRM still on port 8728 stops working until it uses api-ssl and trusts `{cert_name}`; to stage it, run with --keep-plain-api first"));
        }
        out.extend(service_set(
            c,
            intent,
            "api",
            vec![("disabled", "yes".into())],
            "disable the plaintext API (8728)".into(),
            vec!["TG101", "TG103"],
            Phase::Last,
        ));
    }
    if matches!(intent.cert, CertPlan::Generate) && !cert_name.is_empty() {
        certificate_wait(&cert_name, &mut out);
    }
    for ch in &mut out {
        if (letsencrypt && service_enabled(c, "www")) || left_open || plain_api_open {
            // www stays open for Let's Encrypt, or a service in use from any source is left as
            // it is: TG103 stays with it.
            ch.fixes.retain(|f| *f != "TG103");
        }
        ch.fixes.sort_unstable();
        ch.fixes.dedup();
    }
    super::dynamic::exclude(&mut out);
    order::sort(&mut out);
    Plan {
        changes: out,
        notes,
        foreign,
    }
}

/// The certificate api-ssl (or, with the API off, a www-ssl without one) will use: named,
/// already set, or created and signed.
fn certificate(c: &Config, intent: &Intent, for_what: &str, out: &mut Vec<Change>) -> String {
    match &intent.cert {
        CertPlan::Named(n) => n.clone(),
        CertPlan::Generate => {
            let current = service(c, "api-ssl")
                .and_then(|i| i.get_str("certificate"))
                .filter(|n| n != "none" && !n.is_empty());
            if let Some(n) = current {
                return n;
            }
            let name = "tikguard-api".to_string();
            let exists = c
                .items("/certificate")
                .iter()
                .any(|i| i.get("name") == Some(name.as_bytes()));
            if !exists {
                let cn = c
                    .setting("/system identity", "name")
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_else(|| "router".into());
                out.push(Change {
                    id: "certificate".into(),
                    description: format!("create and sign a 2048-bit RSA certificate `{name}` (CN={cn}, 825 days) for {for_what}"),
                    fixes: vec![],
                    phase: Phase::Prepare,
                    lines: vec![
                        Stmt::add("/certificate")
                            .arg("name", name.clone())
                            .arg("common-name", cn)
                            .arg("key-size", "2048")
                            .arg("days-valid", "825")
                            .arg("key-usage", "digital-signature,key-encipherment,tls-server")
                            .into(),
                        Stmt::new("/certificate", "sign", Target::Name(name.clone())).into(),
                    ],
                    guard: Some(Guard::absent("/certificate", vec![Cond::eq("name", &name)])),
                    undo: vec![Stmt::new("/certificate", "remove", Target::Find(vec![Cond::eq("name", &name)])).into()],
                });
            }
            name
        }
    }
}

/// Before a service is given the certificate: wait until it has its private key, and stop
/// otherwise. Unguarded, so it runs on every run while the certificate has none (a run whose
/// signing timed out stopped here; the next finds the certificate and must wait again), and
/// passes at once when it has one.
fn certificate_wait(name: &str, out: &mut Vec<Change>) {
    let uses = out.iter().any(|ch| {
        ch.lines.iter().any(|l| match l {
            Line::Cmd(s) => {
                s.menu == "/ip service"
                    && s.args.iter().any(|(k, v)| {
                        k == "certificate" && *v == super::script::Val::Text(name.into())
                    })
            }
            Line::Script(_) => false,
        })
    });
    if !uses {
        return;
    }
    let q = value(name);
    out.push(Change {
        id: "certificate-wait".into(),
        description: format!("wait (at most 120 s) until certificate `{name}` has its private key; stop if it has not"),
        fixes: vec![],
        phase: Phase::Prepare,
        lines: vec![
            Line::Script(format!(
                ":local n 0; :while ([:len [/certificate find where name={q} and private-key]] = 0 && $n < 120) do={{ :delay 1s; :set n ($n + 1) }}"
            )),
            Line::Script(format!(
                ":if ([:len [/certificate find where name={q} and private-key]] = 0) do={{ :error \"tikguard: certificate {name} has no private key after 120 s; nothing that needs it was changed\" }}"
            )),
        ],
        guard: None,
        undo: vec![],
    });
}

/// Login events kept: remotely with `--syslog`, else on disk.
fn logging(c: &Config, intent: &Intent, not_persisted: bool, out: &mut Vec<Change>) {
    let action = match &intent.syslog {
        Some((host, port)) => {
            let action = "tikguard-syslog";
            if !c
                .items("/system logging action")
                .iter()
                .any(|a| a.get("name") == Some(action.as_bytes()))
            {
                let mut ch = add_unique(
                    "/system logging action",
                    "syslog-action",
                    vec![
                        ("name", action.into()),
                        ("target", "remote".into()),
                        ("remote", host.clone()),
                        ("remote-port", port.to_string()),
                    ],
                    &["name"],
                    false,
                    format!("remote logging action to {host}:{port}"),
                    Phase::Restrict,
                );
                ch.fixes = vec!["TG501"];
                out.push(ch);
            }
            action
        }
        None if not_persisted => "disk",
        None => return,
    };
    for topics in ["critical", "account"] {
        let exists = c.items("/system logging").iter().any(|r| {
            r.get("topics") == Some(topics.as_bytes()) && r.get("action") == Some(action.as_bytes())
        });
        if !exists {
            let mut ch = add_unique(
                "/system logging",
                &format!("logging-{topics}-{action}"),
                vec![("topics", topics.into()), ("action", action.into())],
                &["topics", "action"],
                false,
                format!("log `{topics}` (login failures and logins) to `{action}`"),
                Phase::Restrict,
            );
            ch.fixes = vec!["TG502"];
            out.push(ch);
        }
    }
}
