//! The last line of defence for one firewall's evaluation: a deadline and a bound on work and
//! on the address ranges held at once. The evaluation's own work grows with the number of rules
//! (each chain is walked twice per connection looked at, see [`super::chains`]); the budget is
//! there for what that bound does not foresee, so that no export can stall the auditor or
//! exhaust the machine. Once spent, evaluations stop early, over-approximate (everything still
//! undecided is taken as accepted in the attacker's view, lost in the defender's) and say so.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How much one firewall table may cost before its evaluation is cut short.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub time: Duration,
    /// Units of work: one per rule looked at, plus one per address range it touched.
    pub work: u64,
    /// Address ranges held at once in the chains' summaries (32 bytes each).
    pub ranges_held: u64,
}

impl Default for Limits {
    /// Generous for real firewalls (a 200,000-rule export is far below them), small enough that
    /// a hostile one ends within minutes and a few GiB.
    fn default() -> Limits {
        Limits {
            time: Duration::from_secs(300),
            work: 20_000_000_000,
            ranges_held: 50_000_000,
        }
    }
}

/// What one table has spent, shared by every evaluation of it.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    started: Instant,
    work: AtomicU64,
    exhausted: AtomicBool,
}

/// Why a table's evaluation was cut short.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exhausted(pub String);

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Exhausted {}

impl Default for Budget {
    fn default() -> Budget {
        Budget::new(Limits::default())
    }
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            started: Instant::now(),
            work: AtomicU64::new(0),
            exhausted: AtomicBool::new(false),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Counts `units` of work; false once the budget is spent (then for good).
    pub fn spend(&self, units: u64) -> bool {
        if self.exhausted.load(Ordering::Relaxed) {
            return false;
        }
        let before = self.work.fetch_add(units, Ordering::Relaxed);
        let total = before.saturating_add(units);
        // The clock is read every 4096 units or so, not on every rule.
        let crossed = (before >> 12) != (total >> 12);
        if total > self.limits.work || (crossed && self.started.elapsed() > self.limits.time) {
            self.exhausted.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Marks the budget spent (the summaries would hold too many ranges).
    pub fn exhaust(&self) {
        self.exhausted.store(true, Ordering::Relaxed);
    }

    pub fn work(&self) -> u64 {
        self.work.load(Ordering::Relaxed)
    }

    /// Why it was cut short, if it was.
    pub fn check(&self, what: &str) -> Result<(), Exhausted> {
        if !self.exhausted.load(Ordering::Relaxed) {
            return Ok(());
        }
        let l = self.limits;
        Err(Exhausted(format!(
            "the evaluation of the {what} did not finish within its budget ({} s, {} units of work, {} address ranges held; spent {} units in {:.1} s): the firewall is too large or too deeply nested to analyse exactly",
            l.time.as_secs(),
            l.work,
            l.ranges_held,
            self.work(),
            self.started.elapsed().as_secs_f64()
        )))
    }
}
