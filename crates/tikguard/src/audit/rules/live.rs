//! The live-only rules (TG7xx): what only a running router can tell ([`crate::audit::running`]).
//! A file audit counts them in `need_live` and says so; `tikguard rules` marks them `live`.

use super::*;
use crate::audit::running::{Facts, Row};

/// Every live-only rule, in id order.
pub const LIVE: &[&Rule] = &[
    &super::live_user_stale::RULE,
    &super::live_ssh_key_orphaned::RULE,
    &super::live_ssh_key_weak::RULE,
    &super::live_service_certificate::RULE,
    &super::live_update_available::RULE,
    &super::live_firmware_behind::RULE,
    &super::live_login_failures::RULE,
    &super::live_api_session_outside::RULE,
    &super::live_api_user_reachable::RULE,
    &super::live_powerful_user_no_address::RULE,
];

/// Whether a rule needs `--live`.
pub fn is_live_only(id: &str) -> bool {
    LIVE.iter().any(|r| r.id == id)
}

/// A name or value from the router as a finding shows it: RouterOS' own quoting, so quotes,
/// newlines and control bytes are escaped (`"a\"b\n"`), never written raw into a report.
pub(super) fn shown(v: &str) -> String {
    crate::ros::script::value(v)
}

/// A finding that no line of a file carries: what the router told.
pub(super) fn live_finding(
    cx: &Context,
    rule: &Rule,
    severity: Severity,
    message: String,
    fix: Vec<String>,
) -> Finding {
    cx.finding_at(rule, severity, None, message, fix)
}

/// The facts, when the audit reads a router.
pub(super) fn facts<'a>(cx: &Context<'a>) -> Option<&'a Facts> {
    cx.live
}

/// A boolean as the API prints it (`true`/`false`; `yes`/`no` read alike).
pub(super) fn flag(r: &Row, k: &str) -> bool {
    matches!(r.get(k).map(String::as_str), Some("true" | "yes"))
}
