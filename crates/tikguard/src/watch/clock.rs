//! When a log line says it was written, for `watch replay` and `confirm`: thresholds tried on an old log then
//! decide as they would have live.
//!
//! Read: RFC 5424's timestamp (`2026-11-30T12:00:01.123+01:00`), a BSD header (`Nov 30
//! 12:00:01`), and `/log print`'s forms (`nov/30/2026 12:00:01`, `nov/30 12:00:01`,
//! `2026-11-30 12:00:01`, `12:00:01`). Forms without a year are placed in a fixed year and forms
//! without a date on a fixed day: replay compares times between lines, never with now.
//! Approximated: a BSD log running over New Year goes back in time at the turn.
//!
//! For `confirm` ([`router_clock_ms`], [`log_entry_ms`]): a router's log entry's `time` read
//! against the router's own clock (`/system/clock/print`), so that how old an entry is does not
//! depend on the router's time zone or on how far its clock is from this host's.

use crate::civil::{civil, days};

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
/// The year placed on dates without one.
const NO_YEAR: i64 = 2000;

fn num(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn month(s: &str) -> Option<i64> {
    let l = s.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == l).map(|i| i as i64 + 1)
}

/// `hh:mm:ss` or `hh:mm:ss.fff`: milliseconds into the day.
fn time_of_day(s: &str) -> Option<i64> {
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut p = hms.split(':');
    let (h, m, sec) = (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?);
    if p.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let ms = if frac.is_empty() {
        0
    } else {
        let f: String = frac.chars().take(3).collect();
        num(&f)? * 10i64.pow(3 - f.len() as u32)
    };
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

fn at(y: i64, m: i64, d: i64, ms: i64) -> Option<u64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    u64::try_from(days(y, m, d) * 86_400_000 + ms).ok()
}

/// `YYYY-MM-DD`.
fn iso_date(s: &str) -> Option<(i64, i64, i64)> {
    let mut p = s.split('-');
    let r = (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?);
    p.next().is_none().then_some(r)
}

/// `2026-11-30T12:00:01.123+01:00` (or `Z`).
fn rfc3339(s: &str) -> Option<u64> {
    let (date, rest) = s.split_once('T')?;
    let (y, m, d) = iso_date(date)?;
    let (time, offset_ms) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0)
    } else {
        let i = rest.rfind(['+', '-'])?;
        let (t, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (t, sign * (num(oh)? * 60 + num(om)?) * 60_000)
    };
    let ms = time_of_day(time)?;
    u64::try_from(i64::try_from(at(y, m, d, ms)?).ok()? - offset_ms).ok()
}

/// When `line` says it was written (milliseconds, see the module's note on years), if it says.
pub fn line_time_ms(line: &str) -> Option<u64> {
    let mut s = line.trim_start_matches('\u{feff}');
    if let Some(rest) = s.strip_prefix('<') {
        if let Some(end) = rest.find('>').filter(|&e| e <= 3) {
            s = &rest[end + 1..];
        }
    }
    let mut w = s.split_whitespace();
    let first = w.next()?;
    if first == "1" {
        return rfc3339(w.next()?);
    }
    if let Some(m) = month(first) {
        // BSD: `Nov 30 12:00:01`.
        let d = num(w.next()?)?;
        return at(NO_YEAR, m, d, time_of_day(w.next()?)?);
    }
    if let Some(t) = time_of_day(first) {
        // `/log print` today: `12:00:01`.
        return at(NO_YEAR, 1, 1, t);
    }
    if let Some((y, m, d)) = iso_date(first) {
        return at(y, m, d, time_of_day(w.next()?)?);
    }
    // `/log print`: `nov/30 12:00:01` or `nov/30/2026 12:00:01`.
    let mut p = first.split('/');
    let m = month(p.next()?)?;
    let d = num(p.next()?)?;
    let y = match p.next() {
        Some(y) => num(y)?,
        None => NO_YEAR,
    };
    at(y, m, d, time_of_day(w.next()?)?)
}

/// The router's clock as `/system/clock/print` gives it (`date` `jul/14/2023` before 7.10,
/// `2023-07-14` from 7.10; `time` `hh:mm:ss`), in ms on the scale [`log_entry_ms`] uses: the
/// router's own wall clock, whatever its time zone.
pub fn router_clock_ms(date: &str, time: &str) -> Option<i64> {
    let t = time_of_day(time.trim())?;
    let (y, m, d) = match iso_date(date.trim()) {
        Some(ymd) => ymd,
        None => {
            let mut p = date.trim().split('/');
            let m = month(p.next()?)?;
            let d = num(p.next()?)?;
            let y = num(p.next()?)?;
            if p.next().is_some() {
                return None;
            }
            (y, m, d)
        }
    };
    wall(y, m, d, t)
}

fn wall(y: i64, m: i64, d: i64, ms: i64) -> Option<i64> {
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days(y, m, d) * 86_400_000 + ms)
}

/// When a router's log entry was written, from its `time` as `/log print` shows it, read
/// against the router's clock `now` ([`router_clock_ms`]): `hh:mm:ss` is today, `mmm/dd
/// hh:mm:ss` this year (last year when that would be more than a day ahead), `mmm/dd/yyyy
/// hh:mm:ss` and `yyyy-mm-dd hh:mm:ss` say their year (MikroTik's Log manual shows all four);
/// `mm-dd hh:mm:ss` is read as this year's too (not seen in a manual; read in case).
pub fn log_entry_ms(time: &str, now: i64) -> Option<i64> {
    let mut w = time.split_whitespace();
    let first = w.next()?;
    let day = now.div_euclid(86_400_000);
    let (ny, _, _) = civil(day);
    let Some(second) = w.next() else {
        return Some(day * 86_400_000 + time_of_day(first)?);
    };
    if w.next().is_some() {
        return None;
    }
    let t = time_of_day(second)?;
    if let Some((y, m, d)) = iso_date(first) {
        return wall(y, m, d, t);
    }
    let (m, d, y) = if let Some((m, d)) = first.split_once('-') {
        (num(m)?, num(d)?, None)
    } else {
        let mut p = first.split('/');
        let m = month(p.next()?)?;
        let d = num(p.next()?)?;
        let y = match p.next() {
            Some(y) => Some(num(y)?),
            None => None,
        };
        if p.next().is_some() {
            return None;
        }
        (m, d, y)
    };
    match y {
        Some(y) => wall(y, m, d, t),
        None => {
            let this = wall(ny, m, d, t)?;
            if this > now + 86_400_000 {
                wall(ny - 1, m, d, t)
            } else {
                Some(this)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_time_a_router_writes() {
        let base = line_time_ms("<26>Nov 30 12:00:01 core-01 x").unwrap();
        assert_eq!(
            line_time_ms("<26>Nov 30 12:01:02 core-01 x").unwrap() - base,
            61_000
        );
        assert_eq!(
            line_time_ms("nov/30 12:00:02 system,info x").unwrap() - base,
            1_000
        );
        let iso = line_time_ms("<26>1 2026-11-30T12:00:01.250+01:00 h a - - - x").unwrap();
        assert_eq!(
            line_time_ms("<26>1 2026-11-30T11:00:01Z h a - - - x").unwrap() + 250,
            iso
        );
        assert_eq!(
            line_time_ms("2026-11-30 12:00:01 system,info x").unwrap(),
            line_time_ms("nov/30/2026 12:00:01 system,info x").unwrap()
        );
        assert_eq!(
            line_time_ms("12:00:03 system,info x").unwrap()
                - line_time_ms("12:00:01 system,info x").unwrap(),
            2_000
        );
        for none in [
            "",
            "<26>system,error,critical login failure",
            "Nov 99 12:00:01 x",
            "25:00:00 x",
        ] {
            assert_eq!(line_time_ms(none), None, "{none}");
        }
    }

    /// Every form of `time` a router's `/log print` gives (MikroTik's Log manual: today's
    /// entries the time only, this year's `mmm/dd`, an older year's with the year, in the old
    /// `jan/02/1970` and the new `1970-01-02` spelling), read against the router's clock in
    /// both of its `date` spellings (`sep/15/2026` before 7.10, `2026-09-15` from 7.10).
    #[test]
    fn a_routers_log_times_read_against_its_clock() {
        let now = router_clock_ms("2026-09-15", "12:00:00").unwrap();
        assert_eq!(router_clock_ms("sep/15/2026", "12:00:00"), Some(now));
        let ago = |t: &str| log_entry_ms(t, now).map(|e| (now - e) / 1000);
        assert_eq!(ago("11:59:50"), Some(10));
        assert_eq!(ago("sep/15 11:00:00"), Some(3600));
        assert_eq!(ago("sep/14 12:00:00"), Some(86_400));
        assert_eq!(ago("09-14 12:00:00"), Some(86_400));
        assert_eq!(ago("2026-09-15 11:59:00"), Some(60));
        assert_eq!(ago("sep/15/2026 11:59:00"), Some(60));
        // `dec/31` seen on sep/15 is last year's.
        assert_eq!(ago("dec/31 12:00:00"), Some(258 * 86_400));
        assert!(ago("1970-01-02 02:00:09").unwrap() > 50 * 365 * 86_400);
        for bad in ["", "soon", "25:00:00", "sep/15", "xyz/15 12:00:00", "a b c"] {
            assert_eq!(log_entry_ms(bad, now), None, "{bad}");
        }
        assert_eq!(router_clock_ms("15/09/2026", "12:00:00"), None);
    }
}
