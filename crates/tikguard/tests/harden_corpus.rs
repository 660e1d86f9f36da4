//! `harden` over every export in the corpus and the repository's examples, with `--mgmt` and
//! `--api-client` taken from each configuration itself: an address it already allows for winbox
//! (its `/ip service address=`), else its LAN (the network of an address on an interface that is
//! not WAN, in private space); the API clients likewise from the API's lists, else the LAN, and
//! none where the API is off (it stays off). An
//! export with neither (a firewall fragment, a router with no private LAN) is planned with
//! documentation prefixes as an operator's, and proven too.
//!
//! For each: the plan is proven or refused (never a panic), a proven plan's "who loses access"
//! table is empty (no narrowing was asked: layer 2 stays on every interface that is not
//! WAN-facing), and planning the result again gives nothing. The closing note gives the count
//! refused and why.

use std::path::{Path, PathBuf};

#[path = "../../../testdata/corpus.rs"]
mod corpus;

use routeros_config::value::parse_addr;
use routeros_config::{Config, Version};
use tikguard::audit::addrset::AddrSet;
use tikguard::audit::reach::{Reach, Width};
use tikguard::audit::{self, WanChoice};
use tikguard::harden::{self, CertPlan, Intent, Prefix};

/// The first entry of a service's list that is a prefix and not every address.
fn listed(c: &Config, svc: &str) -> Option<Prefix> {
    let item = c.menu("/ip service")?.by_name(svc)?;
    let raw = item
        .get_str("available-from")
        .or_else(|| item.get_str("address"))?;
    raw.split(',').find_map(|e| Prefix::parse(e).ok())
}

/// The network of an address on an interface that is not WAN, in private space.
fn lan(c: &Config) -> Option<Prefix> {
    let e = audit::exposure::analyse(c, &WanChoice::default());
    c.items("/ip address").iter().find_map(|a| {
        let iface = a.get_str("interface")?;
        let wan_known = !e.wan.iter().any(|w| w == "*");
        if (wan_known && e.wan.contains(&iface)) || a.is_disabled() {
            return None;
        }
        let m = parse_addr(a.get("address")?)?;
        let set = AddrSet::from_range(m.range);
        let r = Reach::of(&set);
        if r.private.is_empty() || !r.public.is_empty() || r.width() == Width::Public {
            return None;
        }
        Prefix::parse(&a.get_str("address")?).ok()
    })
}

/// The repository's corpus (and `TIKGUARD_SHARED`'s larger one when set), then the examples.
fn files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = corpus::corpus().into_iter().map(|e| e.path).collect();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut own: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap_or_else(|e| panic!("{}: {e}", examples.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rsc"))
        .collect();
    own.sort();
    v.extend(own);
    v
}

#[test]
fn every_export_hardens_with_its_own_management_and_nobody_loses_access() {
    let files = files();
    assert!(
        files.len() >= corpus::carried() + 3,
        "the corpus and the examples: {} files",
        files.len()
    );
    let (mut proven, mut refused, mut doc_planned) = (0, Vec::new(), Vec::<String>::new());
    let (mut loss_rows, mut losing_plans, mut approximated_rows) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(path).unwrap();
        let (c, _) = Config::load(bytes.clone());
        let mgmt = listed(&c, "winbox").or_else(|| lan(&c));
        let client = listed(&c, "api-ssl")
            .or_else(|| listed(&c, "api"))
            .or_else(|| lan(&c));
        // Where the API is off (api and api-ssl disabled: an access point, a switch), nobody
        // uses it: no --api-client, and it stays off.
        let api_off = ["api", "api-ssl"].iter().all(|s| {
            c.menu("/ip service")
                .and_then(|m| m.by_name(s))
                .is_some_and(|i| i.is_disabled())
        });
        let own = mgmt.is_some() && (client.is_some() || api_off);
        // Without its own (a firewall fragment, a core router with no private LAN), the
        // documentation prefixes stand in for the operator's --mgmt and --api-client: every
        // export is planned and proven.
        let doc = |p: &str| Prefix::parse(p).unwrap();
        let i = Intent {
            api_clients: if api_off {
                vec![]
            } else {
                vec![client.unwrap_or_else(|| doc("198.51.100.20"))]
            },
            mgmt: vec![mgmt.unwrap_or_else(|| doc("192.0.2.0/24"))],
            wan: WanChoice::default(),
            api_port: None,
            cert: CertPlan::Generate,
            syslog: None,
            target: c.version.clone().unwrap_or_else(|| Version::new(7, 18, 0)),
            api_user: None,
            create_api_user: false,
            password_in_script: None,
            api_group: None,
            replace_allow_lists: false,
            keep_plain_api: false,
            mgmt_interfaces: vec![],
        };
        let plan = harden::plan(&c, &i);
        // A change id names one change: the JSON report and `--apply`'s log key on it.
        let mut ids: Vec<&str> = plan.changes.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        for w in ids.windows(2).filter(|w| w[0] == w[1]) {
            failures.push(format!("{name}: change id `{}` twice in one plan", w[0]));
        }
        if !own {
            doc_planned.push(name.clone());
        }
        match harden::prove(&bytes, &c, &plan.changes, &i) {
            Err(r) => refused.push(format!(
                "{name}{}: {}",
                if own { "" } else { " (documentation prefixes)" },
                r.0
            )),
            Ok((after, proof)) => {
                proven += 1;
                // No narrowing was asked (no --replace-allow-lists, no --mgmt-interface): no
                // prefix, user or interface loses anything. Layer 2 stays on every interface
                // that is not WAN-facing; a WAN interface that had it only because it was on
                // everywhere is TG112/TG113's fix, not a loss. A row marked approximated (the
                // source reached the service only through a run-time list) is counted, not
                // failed: whether it had access is not known.
                let approx = proof.losses.iter().filter(|l| l.approximated).count();
                approximated_rows += approx;
                if approx < proof.losses.len() {
                    losing_plans += 1;
                    loss_rows += proof.losses.len() - approx;
                    failures.push(format!("{name}: loses access: {:?}", proof.losses));
                }
                // Staged (--keep-plain-api, where staging guards the plaintext API): proven too.
                let mut staged = i.clone();
                staged.keep_plain_api = true;
                let sp = harden::plan(&c, &staged);
                if let Err(r) = harden::prove(&bytes, &c, &sp.changes, &staged) {
                    failures.push(format!("{name}: with --keep-plain-api: {}", r.0));
                }
                let again = harden::plan(&after, &i);
                if !again.is_empty() {
                    failures.push(format!(
                        "{name}: second plan not empty: {:?}",
                        again.changes.iter().map(|c| &c.id).collect::<Vec<_>>()
                    ));
                }
            }
        }
    }
    eprintln!(
        "harden corpus: {} exports ({} with documentation prefixes: no allowed address or LAN to take --mgmt from); {proven} proven, {} refused; {loss_rows} \"who loses access\" rows on {losing_plans} proven plans, {approximated_rows} rows marked approximated",
        files.len(),
        doc_planned.len(),
        refused.len(),
    );
    for r in &refused {
        eprintln!("  refused: {r}");
    }
    eprintln!("  documentation prefixes: {}", doc_planned.join(", "));
    assert_eq!(proven + refused.len(), files.len());
    assert!(failures.is_empty(), "{failures:#?}");
}
