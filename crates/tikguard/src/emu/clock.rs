//! The router's clock (`/system clock`) and the times its log shows.
//!
//! The clock is this host's, in UTC (`gmt-offset` `+00:00`, `time-zone-name` `manual`), moved by
//! `/system/clock/set =time= =date=` as an admin sets a router's clock: what is logged after
//! carries the new time, what was logged before keeps its own.
//!
//! `/system/clock/print` gives `time` (`hh:mm:ss`) and `date`: `mmm/dd/yyyy` before 7.10,
//! `yyyy-mm-dd` from 7.10 (`/system clock get date` printed `jul/14/2023` on 7.8 and
//! `2023-07-14` on 7.10: phistrom/datetime-routeros issue #1).
//!
//! A log entry's `time`, as `/log print` shows it (MikroTik's Log manual: "If logs are printed
//! on the same date when the log entry was added, then only the time will be shown", and "the
//! year is not added" for an entry of the current year): `hh:mm:ss` for today, `mmm/dd
//! hh:mm:ss` for this year, and with the year for an older one: `jan/02/1970 02:00:09` in the
//! manual of RouterOS 6 and early 7, `1970-01-02 02:00:09` in today's. Approximated: that the
//! older-year form changed with the clock's date in 7.10 is assumed, not documented.

use routeros_config::Version;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Milliseconds since the epoch on this host's clock.
pub fn host_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

use crate::civil::civil;
use crate::civil::days as days_of;

/// The parts of a time on the clock: (year, month, day, seconds into the day).
fn parts(ms: i64) -> (i64, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    (y, m, d, secs.rem_euclid(86_400))
}

fn hms(s: i64) -> String {
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn mon(m: i64) -> &'static str {
    MONTHS[(m - 1).clamp(0, 11) as usize]
}

/// The clock's `date` as `version` prints it.
pub fn date_text(ms: i64, version: &Version) -> String {
    let (y, m, d, _) = parts(ms);
    if version.at_least(7, 10, 0) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{}/{d:02}/{y:04}", mon(m))
    }
}

/// The clock's `time`.
pub fn time_text(ms: i64) -> String {
    hms(parts(ms).3)
}

/// A log entry written at `at_ms`, as `/log print` shows it at `now_ms` (both on the router's
/// clock).
pub fn log_time(at_ms: i64, now_ms: i64, version: &Version) -> String {
    let (y, m, d, s) = parts(at_ms);
    let (ny, nm, nd, _) = parts(now_ms);
    if (y, m, d) == (ny, nm, nd) {
        hms(s)
    } else if y == ny {
        format!("{}/{d:02} {}", mon(m), hms(s))
    } else if version.at_least(7, 10, 0) {
        format!("{y:04}-{m:02}-{d:02} {}", hms(s))
    } else {
        format!("{}/{d:02}/{y:04} {}", mon(m), hms(s))
    }
}

/// The clock's offset from this host's after `/system/clock/set`: `time` (`hh:mm:ss`) and/or
/// `date` (either form) replace the clock's; `None` when one does not read.
pub fn offset_after_set(
    now_ms: i64,
    host_ms: i64,
    time: Option<&str>,
    date: Option<&str>,
) -> Option<i64> {
    let (mut y, mut m, mut d, mut s) = parts(now_ms);
    if let Some(t) = time {
        let p: Vec<i64> = t
            .split(':')
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        let [h, mi, se] = p[..] else { return None };
        if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..60).contains(&se) {
            return None;
        }
        s = h * 3600 + mi * 60 + se;
    }
    if let Some(t) = date {
        let (yy, mm, dd): (i64, i64, i64) = if t.contains('-') {
            let mut p = t.split('-');
            let r = (
                p.next()?.parse().ok()?,
                p.next()?.parse().ok()?,
                p.next()?.parse().ok()?,
            );
            if p.next().is_some() {
                return None;
            }
            r
        } else {
            let mut p = t.split('/');
            let name = p.next()?.to_ascii_lowercase();
            let mm = MONTHS.iter().position(|x| *x == name)? as i64 + 1;
            let dd = p.next()?.parse().ok()?;
            (p.next()?.parse().ok()?, mm, dd)
        };
        if !(1970..=2037).contains(&yy) || !(1..=12).contains(&mm) || !(1..=31).contains(&dd) {
            return None;
        }
        (y, m, d) = (yy, mm, dd);
    }
    let ms = (days_of(y, m, d) * 86_400 + s) * 1000 + now_ms.rem_euclid(1000);
    Some(ms - host_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, m: i64, d: i64, s: i64) -> i64 {
        (days_of(y, m, d) * 86_400 + s) * 1000
    }

    /// MikroTik's Log manual: today's entries show the time only, this year's the month and
    /// day, an older year's the year too (`yyyy-mm-dd` from 7.10, `mmm/dd/yyyy` before).
    #[test]
    fn log_times_as_log_print_shows_them() {
        let v7 = Version::new(7, 12, 1);
        let v6 = Version::new(6, 49, 10);
        let now = at(2026, 9, 15, 12 * 3600);
        assert_eq!(log_time(at(2026, 9, 15, 3723), now, &v7), "01:02:03");
        assert_eq!(log_time(at(2026, 9, 14, 3723), now, &v7), "sep/14 01:02:03");
        assert_eq!(
            log_time(at(1970, 1, 2, 7209), now, &v7),
            "1970-01-02 02:00:09"
        );
        assert_eq!(
            log_time(at(1970, 1, 2, 7209), now, &v6),
            "jan/02/1970 02:00:09"
        );
        assert_eq!(date_text(now, &v7), "2026-09-15");
        assert_eq!(date_text(now, &v6), "sep/15/2026");
        assert_eq!(time_text(now + 61_000), "12:01:01");
    }

    #[test]
    fn setting_the_clock_moves_it_from_now_on() {
        let host = at(2026, 9, 15, 12 * 3600);
        let off = offset_after_set(host, host, Some("13:00:00"), None).unwrap();
        assert_eq!(off, 3_600_000);
        let off = offset_after_set(host, host, None, Some("2026-09-14")).unwrap();
        assert_eq!(off, -86_400_000);
        let off = offset_after_set(host, host, None, Some("sep/16/2026")).unwrap();
        assert_eq!(off, 86_400_000);
        assert_eq!(offset_after_set(host, host, Some("25:00:00"), None), None);
        assert_eq!(offset_after_set(host, host, None, Some("2026-13-01")), None);
        assert_eq!(offset_after_set(host, host, Some("x"), None), None);
    }
}
