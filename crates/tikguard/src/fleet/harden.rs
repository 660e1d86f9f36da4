//! `fleet harden`: `tikguard harden` on every router of the inventory.
//!
//! Per router: the live configuration read over the verified API (as `fleet audit` reads it),
//! planned with the same options as the single-router command ([`crate::harden::options`]; a
//! router's `mgmt` and `api_clients` from the inventory where it gives them), proven the same
//! way, and written to the output folder as `<router>.rsc`, `<router>.rollback.rsc` (0600: a
//! rollback restores what was there, secrets included) and the plan with its proof in
//! `<router>.json`.
//!
//! With `apply`, each router whose plan is proven is changed as `harden --apply --yes` changes
//! one ([`crate::harden::apply`]: the connection's own source must keep access, the router is
//! read again and nothing changes if what the plan rests on moved). Routers are started in
//! inventory order, at most `concurrency` at once; without `keep_going` the first refusal or
//! failure stops the run from starting more (the routers already started finish), so that a
//! plan wrong for this fleet is not repeated on every router.

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::connect;
use super::inventory::Router;
use super::output::{file_name, Output};
use super::result::{Phase, RouterResult, Status};
use super::run::{Progress, Ran, RunOptions};
use crate::harden::{self, apply, options::Options};
use crate::ros::script::comment_text;

/// What every router is hardened with.
#[derive(Clone, Debug)]
pub struct Job {
    /// The command line's options; a router's own `mgmt` and `api_clients` replace theirs.
    pub options: Options,
    /// The proof's time limit per router.
    pub time_limit: Duration,
    /// Apply the proven plans (`--apply --yes`).
    pub apply: bool,
    /// With `apply`: go on starting routers after a refusal or failure.
    pub keep_going: bool,
}

/// What became of one router (`<router>.json`'s `output.outcome`).
pub const PLANNED: &str = "planned";
pub const NOTHING_TO_DO: &str = "nothing-to-do";
pub const REFUSED: &str = "refused";
pub const APPLIED: &str = "applied";
pub const FAILED: &str = "failed";

/// The options for router `r`: the inventory's prefixes where it gives them.
pub fn options_for(job: &Job, r: &Router) -> Options {
    let mut o = job.options.clone();
    if !r.mgmt.is_empty() {
        o.mgmt = r.mgmt.clone();
    }
    if !r.api_clients.is_empty() {
        o.api_clients = r.api_clients.clone();
    }
    o
}

/// What a plan came to before anything is applied.
struct Planned {
    version: Option<String>,
    /// The plan's JSON (changes, notes, proof), or the refusal.
    json: serde_json::Value,
    refused: Option<String>,
    /// The plan, what it was made for and from (absent when the options did not fit).
    ready: Option<(harden::Plan, harden::Intent, routeros_config::Config)>,
}

/// Plans and proves for one configuration, and writes the scripts (when proven).
fn plan_one(
    name: &str,
    bytes: Vec<u8>,
    options: &Options,
    time_limit: Duration,
    dir: &Path,
) -> Result<Planned, String> {
    let (config, parsed) = routeros_config::Config::load(bytes.clone());
    crate::input::check_parsed(name, &parsed)?;
    let version = config.version.as_ref().map(|v| v.to_string());
    // `harden` requires --mgmt: without it the proof has nobody's access to keep, and a plan
    // that limits every service to it would lock everyone out. API clients are required where
    // the router's API is on ([`harden::options::prepare`] says so, naming the router).
    let missing = options.mgmt.is_empty().then_some(
        "no management prefixes for this router: give --mgmt, or `mgmt` in the inventory",
    );
    let checked = match missing {
        Some(m) => Err(m.to_string()),
        None => harden::options::prepare(options, &config, name),
    };
    let prepared = match checked {
        Ok(p) => p,
        Err(e) => {
            return Ok(Planned {
                version,
                json: serde_json::json!({ "outcome": REFUSED, "reason": e }),
                refused: Some(e),
                ready: None,
            })
        }
    };
    let harden::options::Prepared {
        intent,
        plan,
        warnings,
        ..
    } = prepared;
    let limits = crate::audit::firewall::Limits {
        time: time_limit,
        ..Default::default()
    };
    let proof = harden::prove_within(&bytes, &config, &plan.changes, &intent, limits);
    let refused = proof.as_ref().err().map(|r| r.0.clone());
    let mut files = serde_json::Map::new();
    if refused.is_none() {
        let header = harden::header("tikguard fleet harden", name, &intent);
        let script = harden::render(&plan.changes, true, &header);
        let base = file_name(name);
        let secret = intent.password_in_script.is_some();
        for (key, file, text, private) in [
            ("script", format!("{base}.rsc"), script, secret),
            (
                "rollback",
                format!("{base}.rollback.rsc"),
                harden::rollback(&plan.changes),
                true,
            ),
        ] {
            crate::harden::options::write_file(&dir.join(&file), text.as_bytes(), private)?;
            files.insert(key.into(), file.into());
        }
    }
    let outcome = match (&refused, plan.is_empty()) {
        (Some(_), _) => REFUSED,
        (None, true) => NOTHING_TO_DO,
        (None, false) => PLANNED,
    };
    let json = serde_json::json!({
        "outcome": outcome,
        "reason": refused,
        "target": intent.target.to_string(),
        "mgmt": intent.mgmt.iter().map(|p| p.text.clone()).collect::<Vec<_>>(),
        "api_clients": intent.api_clients.iter().map(|p| p.text.clone()).collect::<Vec<_>>(),
        "changes": plan.changes,
        "notes": plan.notes,
        "warnings": warnings,
        "proof": proof.as_ref().ok().map(|(_, p)| p),
        "files": files,
    });
    Ok(Planned {
        version,
        json,
        refused,
        ready: Some((plan, intent, config)),
    })
}

/// One router: read, plan, prove, write, and with `apply` apply. Connecting is retried as the
/// other fleet jobs retry it; nothing after the login is (a new run plans from the router as
/// it is then).
pub async fn one(r: &Router, job: &Job, opts: &RunOptions, dir: &Path) -> RouterResult {
    let started = Instant::now();
    let mut res = RouterResult::new(&r.name, &r.address(), "harden", Status::Ok);
    res.group = r.group.clone();
    res.tags = r.tags.clone();
    let mut wait = opts.backoff;
    let mut client = None;
    for attempt in 0..=opts.retries {
        res.attempts = attempt + 1;
        match connect::login(r, opts.timeouts).await {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(s) => {
                let again = connect::retryable(&s) && attempt < opts.retries;
                res.status = s;
                if !again {
                    break;
                }
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
        }
    }
    if let Some(c) = client {
        super::jobs::note_cert(&c, &mut res);
        res.status = Status::Ok;
        if let Err(s) = plan_and_apply(&c, r, job, dir, &mut res).await {
            res.status = s;
        }
        let _ = c.quit().await;
    }
    res.duration_ms = started.elapsed().as_millis() as u64;
    res
}

async fn plan_and_apply(
    c: &routeros_api::Client,
    r: &Router,
    job: &Job,
    dir: &Path,
    res: &mut RouterResult,
) -> Result<(), Status> {
    let (bytes, _) = crate::live::fetch(c).await.map_err(|detail| {
        if detail.contains("timed out") {
            Status::Timeout {
                during: Phase::Command,
            }
        } else {
            Status::Protocol { detail }
        }
    })?;
    let (name, options, limit, d) = (
        r.name.clone(),
        options_for(job, r),
        job.time_limit,
        dir.to_path_buf(),
    );
    // Planning and the proof are CPU work: off the I/O threads.
    let planned = tokio::task::spawn_blocking(move || plan_one(&name, bytes, &options, limit, &d))
        .await
        .map_err(|e| Status::Protocol {
            detail: format!("the plan failed: {e}"),
        })?
        .map_err(|detail| Status::Config { detail })?;
    res.version = planned.version;
    let mut json = planned.json;
    let (plan, intent, config) = match (planned.refused, planned.ready) {
        (None, Some(ready)) => ready,
        (why, _) => {
            res.output = Some(json);
            return Err(Status::JobRefused {
                detail: why.unwrap_or_default(),
            });
        }
    };
    if job.apply {
        // This connection's source must keep access after the plan, as `harden --apply --yes`
        // requires: a router it would lock out is refused with nothing changed.
        if let Err(why) = apply::source_kept(c.local_addr(), &intent) {
            json["outcome"] = REFUSED.into();
            json["reason"] = why.clone().into();
            res.output = Some(json);
            return Err(Status::JobRefused { detail: why });
        }
        let rollback = json["files"]["rollback"]
            .as_str()
            .map(|f| dir.join(f))
            .unwrap_or_default();
        let mut log = apply::Buffer::default();
        let code = apply::apply(
            c,
            &plan,
            true,
            false,
            &intent,
            &config,
            Some(&rollback),
            &r.user,
            &mut log,
        )
        .await
        .unwrap_or(1);
        json["apply_log"] = serde_json::json!(log.lines);
        if code != 0 {
            let why = log
                .errors
                .iter()
                .map(|e| e.trim_start_matches("tikguard: ").to_string())
                .filter(|e| !e.starts_with("warning: "))
                .collect::<Vec<_>>()
                .join("; ");
            json["outcome"] = FAILED.into();
            json["reason"] = why.clone().into();
            res.output = Some(json);
            return Err(Status::JobRefused { detail: why });
        }
        if !plan.is_empty() {
            json["outcome"] = APPLIED.into();
        }
    }
    res.output = Some(json);
    Ok(())
}

/// The outcome word of a result (`planned`, `refused`...), or its status word when the router
/// was not read.
pub fn outcome(r: &RouterResult) -> String {
    r.output
        .as_ref()
        .and_then(|o| o["outcome"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| r.status.word().to_string())
}

/// Runs `job` on every router, in inventory order, at most `opts.concurrency` at once; each
/// router's `<router>.json` is written as it finishes. With `job.apply` and without
/// `job.keep_going`, the first router refused or failed stops the run from starting more: the
/// routers not started are [`Status::NotStarted`].
pub async fn run(
    routers: Vec<Router>,
    job: Job,
    opts: RunOptions,
    out: Arc<Output>,
    progress: Arc<dyn Progress>,
    stop: impl Future<Output = ()>,
) -> Ran {
    let job = Arc::new(job);
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let halted: Arc<Mutex<Option<String>>> = Arc::default();
    let mut set = JoinSet::new();
    let n = routers.len();
    let mut slots: Vec<Option<RouterResult>> = vec![None; n];
    tokio::pin!(stop);
    let mut interrupted = false;
    for (i, r) in routers.iter().cloned().enumerate() {
        // Started in inventory order: the permit is taken here, before the router's task.
        let permit = tokio::select! {
            p = sem.clone().acquire_owned() => p,
            () = &mut stop => {
                // Ctrl-C: as the other fleet jobs, the routers in flight stop at once (a plan
                // stopped after any change keeps the access the proof checked).
                interrupted = true;
                set.abort_all();
                break;
            }
        };
        let Ok(permit) = permit else { break };
        if halted.lock().map(|h| h.is_some()).unwrap_or(true) {
            break;
        }
        let (job, opts, out, progress, halted) = (
            job.clone(),
            opts.clone(),
            out.clone(),
            progress.clone(),
            halted.clone(),
        );
        set.spawn(async move {
            let res = one(&r, &job, &opts, &out.dir).await;
            let bad = !res.status.is_reached() || matches!(res.status, Status::JobRefused { .. });
            if job.apply && !job.keep_going && bad {
                if let Ok(mut h) = halted.lock() {
                    h.get_or_insert_with(|| r.name.clone());
                }
            }
            // Released only now: with one at a time, a refusal is seen before the next start.
            drop(permit);
            if let Err(e) = out.write_router(&res) {
                eprintln!("tikguard: {}", comment_text(&e));
            }
            progress.done(&res);
            (i, res)
        });
    }
    loop {
        tokio::select! {
            next = set.join_next() => match next {
                Some(Ok((i, res))) => slots[i] = Some(res),
                Some(Err(_)) => {}
                None => break,
            },
            () = &mut stop, if !interrupted => {
                interrupted = true;
                set.abort_all();
            }
        }
    }
    let stopped_by = halted.lock().ok().and_then(|h| h.clone());
    let results = slots
        .into_iter()
        .zip(&routers)
        .map(|(slot, r)| {
            slot.unwrap_or_else(|| {
                let status = match (&stopped_by, interrupted) {
                    (Some(by), false) => Status::NotStarted {
                        detail: format!(
                            "not started: the run stopped at `{by}`, refused or failed (--keep-going goes on)"
                        ),
                    },
                    _ => Status::Interrupted,
                };
                let mut res = RouterResult::new(&r.name, &r.address(), "harden", status);
                res.group = r.group.clone();
                res.tags = r.tags.clone();
                if let Err(e) = out.write_router(&res) {
                    eprintln!("tikguard: {}", comment_text(&e));
                }
                res
            })
        })
        .collect();
    Ran {
        results,
        interrupted,
    }
}
