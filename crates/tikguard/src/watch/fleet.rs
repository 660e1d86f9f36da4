//! The routers' tasks: for each configured router, the worker that keeps its list
//! ([`super::action`]), its log stream when it is followed ([`super::follow`]) and its
//! confirmer ([`super::confirm`]).
//!
//! A configuration reload (SIGHUP) hands over the new routers ([`Fleet::apply`]): an added
//! router gets its tasks (a new API session, its list reconciled); a removed one loses them (its
//! session closed, its stream stopped; the entries watch listed there stay until their timeout
//! ends them, as after a stop); one whose connection changed (`address`, `ca`/`pin`/
//! `known-routers`, `user`, password) gets new ones, so the next command goes through the new
//! connection and its list is reconciled; `follow` turned on or off (or a followed router's
//! `source` changed) starts, stops or restarts its stream. `source` and `confirm` are read from
//! the running configuration itself and need no task.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::action::{self, Sync};
use super::config::WatchRouter;
use super::confirm::Question;
use super::input::Line;

/// Whether `b` reaches the router otherwise than `a`: a new session is needed.
pub fn connection_changed(a: &WatchRouter, b: &WatchRouter) -> bool {
    a.address != b.address || a.verify != b.verify || a.user != b.user || a.password != b.password
}

/// One router's tasks; dropping them stops them.
struct Tasks<T> {
    router: WatchRouter,
    worker: JoinHandle<()>,
    follow: Option<JoinHandle<()>>,
    confirm: mpsc::Sender<Question<T>>,
}

impl<T> Drop for Tasks<T> {
    fn drop(&mut self) {
        self.worker.abort();
        if let Some(f) = &self.follow {
            f.abort();
        }
    }
}

/// What a reload changed, by router name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Every router's tasks.
pub struct Fleet<T> {
    tasks: HashMap<String, Tasks<T>>,
    sync: Arc<Sync>,
    list: String,
    /// Routers followed by `--follow NAME`, besides those with `follow = true`.
    extra_follow: Vec<String>,
    lines: mpsc::Sender<Line>,
    new_confirmer: Box<dyn Fn() -> mpsc::Sender<Question<T>> + Send>,
}

impl<T: Send + 'static> Fleet<T> {
    /// Starts the tasks of `routers`. `new_confirmer` starts a confirmer and gives its queue.
    pub fn start(
        routers: &[WatchRouter],
        sync: Arc<Sync>,
        list: &str,
        extra_follow: Vec<String>,
        lines: mpsc::Sender<Line>,
        new_confirmer: Box<dyn Fn() -> mpsc::Sender<Question<T>> + Send>,
    ) -> Fleet<T> {
        let mut f = Fleet {
            tasks: HashMap::new(),
            sync,
            list: list.to_string(),
            extra_follow,
            lines,
            new_confirmer,
        };
        f.apply(routers);
        f
    }

    fn follows(&self, r: &WatchRouter) -> bool {
        r.follow || self.extra_follow.contains(&r.name)
    }

    fn follow(&self, r: &WatchRouter) -> Option<JoinHandle<()>> {
        self.follows(r)
            .then(|| tokio::spawn(super::follow::follow(r.clone(), self.lines.clone())))
    }

    /// Makes the running tasks those of `routers`; what changed.
    pub fn apply(&mut self, routers: &[WatchRouter]) -> Changes {
        let mut changes = Changes::default();
        let gone: Vec<String> = self
            .tasks
            .keys()
            .filter(|n| !routers.iter().any(|r| &r.name == *n))
            .cloned()
            .collect();
        for name in gone {
            self.tasks.remove(&name);
            self.sync.drop_router(&name);
            changes.removed.push(name);
        }
        for r in routers {
            let Some(old) = self.tasks.get(&r.name) else {
                let t = Tasks {
                    router: r.clone(),
                    worker: action::spawn_worker(&self.sync, r, &self.list),
                    follow: self.follow(r),
                    confirm: (self.new_confirmer)(),
                };
                self.tasks.insert(r.name.clone(), t);
                changes.added.push(r.name.clone());
                continue;
            };
            let reconnect = connection_changed(&old.router, r);
            let restream = reconnect
                || self.follows(&old.router) != self.follows(r)
                || old.router.source != r.source;
            if old.router != *r {
                changes.changed.push(r.name.clone());
            }
            let worker = reconnect.then(|| action::spawn_worker(&self.sync, r, &self.list));
            let follow = restream.then(|| self.follow(r));
            let t = self.tasks.get_mut(&r.name).expect("found above");
            t.router = r.clone();
            if let Some(w) = worker {
                std::mem::replace(&mut t.worker, w).abort();
            }
            if let Some(f) = follow {
                if let Some(old) = std::mem::replace(&mut t.follow, f) {
                    old.abort();
                }
            }
        }
        changes.added.sort();
        changes.removed.sort();
        changes.changed.sort();
        changes
    }

    /// The queue of `router`'s confirmer.
    pub fn confirmer(&self, router: &str) -> Option<&mpsc::Sender<Question<T>>> {
        self.tasks.get(router).map(|t| &t.confirm)
    }
}
