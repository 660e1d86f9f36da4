//! `tikguard watch replay`: a log file read with a configuration's thresholds, nothing blocked.

use std::io::Write;

use super::config::WatchConfig;
use super::detect::{Detector, Key};
use super::event::{parse_line, Source};
use super::never::Never;
use super::run::alert_line;

/// Reads a log file with the configuration's thresholds (nothing is blocked): for trying
/// thresholds on old logs, and for benchmarks. Each line is placed at the time it says it was
/// written ([`super::clock`]), so windows decide as they did live; a line that says no time
/// takes the last time seen, plus a millisecond. What is never blocked is left out as live.
/// Returns (lines, events, actions).
pub fn replay(
    cfg: &WatchConfig,
    text: &str,
    out: &mut dyn Write,
) -> std::io::Result<(u64, u64, u64)> {
    let mut detector = Detector::new(cfg.rules.clone());
    let never = Never::new(cfg, &[]);
    let (mut lines, mut events, mut actions) = (0, 0, 0);
    let mut now = 0u64;
    for line in text.lines() {
        lines += 1;
        now = super::clock::line_time_ms(line).unwrap_or(now + 1);
        let Some(ev) = parse_line(line) else { continue };
        events += 1;
        if let Source::Ip(ip) = ev.source {
            if never.refuses(&Key::of(ip).address()).is_some() {
                continue;
            }
        }
        for a in detector.feed(now, "replay", &ev) {
            actions += 1;
            writeln!(out, "{}", alert_line("replay", &a))?;
        }
    }
    Ok((lines, events, actions))
}

#[cfg(test)]
mod tests {
    /// Clock jumps in a replayed log (a router's clock stepped back by NTP, a BSD log over New
    /// Year, a line with no time between two with one, times far apart): every line is read,
    /// with no panic and no underflow.
    #[test]
    fn replay_survives_clock_jumps() {
        let cfg = super::super::config::parse("w.toml", "[watch]\nstate = \"\"\n").unwrap();
        let line = |t: &str| {
            format!("<26>{t} core-01 system,error,critical login failure for user admin from 203.0.113.5 via ssh\n")
        };
        let mut out = Vec::new();
        let jumps: String = [
            "Dec 31 23:59:59",
            "Jan  1 00:00:01",
            "Jan  1 00:00:02",
            "Nov 30 09:00:00",
            "1 1970-01-01T00:00:00Z",
            "1 9999-12-31T23:59:59Z",
            "1 2026-11-30T09:00:00+14:00",
            "1 2026-11-30T09:00:00-12:00",
        ]
        .map(line)
        .concat();
        let got = super::replay(&cfg, &format!("{jumps}no time at all\n{jumps}"), &mut out);
        assert!(got.is_ok());
        assert_eq!(got.unwrap().0, 17);
    }

    /// Failures spread over minutes in the log do not block in a replay, as they did not live;
    /// the same failures within the window do.
    #[test]
    fn replay_decides_on_the_lines_own_times() {
        let cfg = super::super::config::parse("w.toml", "[watch]\nstate = \"\"\n").unwrap();
        let line = |t: &str| {
            format!("<26>Nov 30 {t} core-01 system,error,critical login failure for user admin from 203.0.113.5 via ssh\n")
        };
        let spread: String = ["09:00:00", "09:02:00", "09:04:00", "09:06:00", "09:08:00"]
            .map(line)
            .concat();
        let mut out = Vec::new();
        assert_eq!(super::replay(&cfg, &spread, &mut out).unwrap().2, 0);
        let close: String = ["09:00:00", "09:00:10", "09:00:20", "09:00:30", "09:00:40"]
            .map(line)
            .concat();
        assert_eq!(super::replay(&cfg, &close, &mut out).unwrap().2, 1);
    }
}
