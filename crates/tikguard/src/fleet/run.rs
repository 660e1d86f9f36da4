//! Running a job over many routers: at most `concurrency` at once, each attempt bounded by the
//! timeouts, transient failures retried with doubling backoff, each router's result written
//! as it finishes, and a stop (Ctrl-C) that keeps what is done.
//!
//! File descriptors: each router in flight holds one socket (two while a failed TLS attempt
//! falls back), the known-routers file is opened briefly, and a result file is open while
//! written; so a run needs about `concurrency x 2 + 16` descriptors. The default concurrency of
//! 64 fits the common soft limit of 1024 (`ulimit -n`); raise the limit before raising
//! `--concurrency` past ~500.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::connect::{self, Timeouts};
use super::inventory::Router;
use super::jobs::{self, Job};
use super::output::Output;
use super::result::{RouterResult, Status};

/// How a run goes.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub concurrency: usize,
    pub timeouts: Timeouts,
    /// Attempts after the first, for failures [`connect::retryable`] says may pass.
    pub retries: u32,
    /// The wait before the first retry; doubled for each next one.
    pub backoff: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 64,
            timeouts: Timeouts {
                connect: Duration::from_secs(10),
                command: Duration::from_secs(30),
            },
            retries: 1,
            backoff: Duration::from_millis(500),
        }
    }
}

/// Progress, as routers finish.
pub trait Progress: Send + Sync {
    fn done(&self, r: &RouterResult);
}

impl Progress for () {
    fn done(&self, _: &RouterResult) {}
}

/// What a run ends with: every router's result in inventory order, and whether it was stopped.
pub struct Ran {
    pub results: Vec<RouterResult>,
    pub interrupted: bool,
}

/// Runs `job` on every router of `routers`; `stop` ends the run early (the routers not done
/// are [`Status::Interrupted`]). With `out`, each router's file is written as it finishes.
pub async fn run(
    routers: Vec<Router>,
    job: Job,
    opts: RunOptions,
    out: Option<Arc<Output>>,
    progress: Arc<dyn Progress>,
    stop: impl Future<Output = ()>,
) -> Ran {
    let job = Arc::new(job);
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut set = JoinSet::new();
    let n = routers.len();
    let mut slots: Vec<Option<RouterResult>> = vec![None; n];
    for (i, r) in routers.iter().cloned().enumerate() {
        let (sem, job, opts, out, progress) = (
            sem.clone(),
            job.clone(),
            opts.clone(),
            out.clone(),
            progress.clone(),
        );
        set.spawn(async move {
            let Ok(_permit) = sem.acquire_owned().await else {
                return (i, None);
            };
            let res = one(&r, &job, &opts).await;
            if let Some(out) = &out {
                if let Err(e) = out.write_router(&res) {
                    eprintln!("tikguard: {e}");
                }
            }
            progress.done(&res);
            (i, Some(res))
        });
    }
    tokio::pin!(stop);
    let mut interrupted = false;
    loop {
        tokio::select! {
            next = set.join_next() => match next {
                Some(Ok((i, Some(res)))) => slots[i] = Some(res),
                Some(_) => {}
                None => break,
            },
            () = &mut stop, if !interrupted => {
                interrupted = true;
                sem.close();
                set.abort_all();
            }
        }
    }
    let job_name = job.name();
    let results = slots
        .into_iter()
        .zip(&routers)
        .map(|(slot, r)| {
            slot.unwrap_or_else(|| {
                let mut res =
                    RouterResult::new(&r.name, &r.address(), job_name, Status::Interrupted);
                res.group = r.group.clone();
                res.tags = r.tags.clone();
                // Its file too: the folder lists every router of the run.
                if let Some(out) = &out {
                    if let Err(e) = out.write_router(&res) {
                        eprintln!("tikguard: {e}");
                    }
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

/// One router, with retries.
async fn one(r: &Router, job: &Job, opts: &RunOptions) -> RouterResult {
    let started = Instant::now();
    let mut res = RouterResult::new(&r.name, &r.address(), job.name(), Status::Ok);
    res.group = r.group.clone();
    res.tags = r.tags.clone();
    let mut wait = opts.backoff;
    for attempt in 0..=opts.retries {
        res.attempts = attempt + 1;
        match jobs::attempt(job, r, opts.timeouts, &mut res).await {
            Ok(()) => {
                res.status = Status::Ok;
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
    res.duration_ms = started.elapsed().as_millis() as u64;
    res
}
