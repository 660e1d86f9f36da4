//! Calendar arithmetic on the proleptic Gregorian calendar (Howard Hinnant's `days_from_civil`
//! and `civil_from_days`): what RouterOS' clock and log times (a date and a time of day, no
//! epoch) need to be compared with a Unix time. One copy, for watch's reading of a router's log
//! and the emulator's printing of one.

/// Days since 1970-01-01 of a civil date (month 1-12).
pub fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1-12, day) of a day count since 1970-01-01.
pub fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_civil_are_inverse_across_leap_years_and_before_the_epoch() {
        assert_eq!(days(1970, 1, 1), 0);
        assert_eq!(days(2000, 3, 1), 11_017);
        assert_eq!(civil(11_016), (2000, 2, 29));
        for n in [-800_000, -1, 0, 59, 365, 10_957, 20_000, 800_000] {
            let (y, m, d) = civil(n);
            assert_eq!(days(y, m, d), n, "{n}");
        }
    }
}
