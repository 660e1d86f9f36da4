//! The routers checked before watch relies on them: at start, and for a configuration reload
//! (SIGHUP), where a router added or whose connection changed is logged in to first.

use super::action;
use super::config::{WatchConfig, WatchRouter};

/// How long start-up waits for each router's first answer.
pub const START_CHECK: std::time::Duration = std::time::Duration::from_secs(10);

/// Logs in to every router once, at once. A certificate that does not verify, a pin or
/// recorded certificate that does not match, a refused login or an unreadable CA or password
/// file is an error (a unit that blocks nothing must not look "active"); a router that does not
/// answer yet is said and retried in the background.
pub async fn check_routers(routers: &[WatchRouter]) -> Result<(), String> {
    let mut set = tokio::task::JoinSet::new();
    for r in routers.iter().cloned() {
        set.spawn(async move {
            let got = tokio::time::timeout(START_CHECK, action::connect(&r)).await;
            (r.name, got)
        });
    }
    let mut failed = Vec::new();
    while let Some(j) = set.join_next().await {
        let Ok((name, got)) = j else { continue };
        let name = crate::term::printable(&name);
        use routeros_api::Error as E;
        match got {
            Ok(Ok(_)) => {}
            Ok(Err(
                e @ (E::Tls(_)
                | E::KnownRouterMismatch { .. }
                | E::Trap { .. }
                | E::Config(_)
                | E::Fatal(_)),
            )) => failed.push(format!("router {name}: {e}")),
            Ok(Err(e)) => crate::warn_line!(
                "tikguard watch: router {name}: {e}; not reachable yet, retried in the background"
            ),
            Err(_) => crate::warn_line!(
                "tikguard watch: router {name}: no answer in {} s; retried in the background",
                START_CHECK.as_secs()
            ),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        failed.sort();
        Err(format!(
            "{}; fix the configuration, or start with --keep-trying to retry in the background",
            failed.join("; ")
        ))
    }
}

/// The configuration file read again, for a reload: a file that does not parse is refused; a
/// router added, or whose connection changed, is logged in to first, and a certificate, pin or
/// login it refuses refuses the reload (as it stops start-up; with `--keep-trying` it is
/// retried in the background instead). The syslog addresses, the list, the state and alerts
/// files are kept until a restart (said).
pub async fn reload(
    path: &str,
    running: &WatchConfig,
    keep_trying: bool,
) -> Result<WatchConfig, String> {
    let p = path.to_string();
    let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(p))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{path}: {e}"))?;
    let new = super::config::parse(path, &text).map_err(|e| e.to_string())?;
    if new.syslog_udp != running.syslog_udp
        || new.syslog_tcp != running.syslog_tcp
        || new.list != running.list
        || new.state != running.state
        || new.alerts_file != running.alerts_file
    {
        crate::warn_line!(
            "tikguard watch: syslog addresses, list, state and alerts file changes take effect after a restart"
        );
    }
    let to_check: Vec<WatchRouter> = new
        .routers
        .iter()
        .filter(|r| {
            running
                .routers
                .iter()
                .find(|o| o.name == r.name)
                .is_none_or(|o| super::fleet::connection_changed(o, r))
        })
        .cloned()
        .collect();
    if !keep_trying {
        check_routers(&to_check).await?;
    }
    Ok(new)
}
