//! When a log line says it was written, for `watch replay`: thresholds tried on an old log then
//! decide as they would have live.
//!
//! Read: RFC 5424's timestamp (`2026-11-30T12:00:01.123+01:00`), a BSD header (`Nov 30
//! 12:00:01`), and `/log print`'s forms (`nov/30/2026 12:00:01`, `nov/30 12:00:01`,
//! `2026-11-30 12:00:01`, `12:00:01`). Forms without a year are placed in a fixed year and forms
//! without a date on a fixed day: replay compares times between lines, never with now.
//! Approximated: a BSD log running over New Year goes back in time at the turn.

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
/// The year placed on dates without one.
const NO_YEAR: i64 = 2000;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

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
}
