//! ISO-8601 UTC timestamps as Paystack writes them (`2026-01-01T10:00:00.000Z`), without a
//! calendar crate: the fake only ever needs whole seconds turned into a civil date.

const SECONDS_PER_DAY: i64 = 86_400;

/// `unix` seconds as `YYYY-MM-DDTHH:MM:SS.000Z`.
pub(crate) fn iso8601(unix: i64) -> String {
    let days = unix.div_euclid(SECONDS_PER_DAY);
    let second = unix.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        second / 3600,
        second % 3600 / 60,
        second % 60
    )
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` (or a bare date) back to unix seconds; `None` for anything
/// else. Fractions of a second are dropped, as the fake counts whole seconds.
pub(crate) fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('Z');
    let (date, clock) = text.split_once('T').unwrap_or((text, "00:00:00"));
    let mut date = date.splitn(3, '-');
    let year: i64 = date.next()?.parse().ok()?;
    let month: i64 = date.next()?.parse().ok()?;
    let day: i64 = date.next()?.parse().ok()?;
    let clock = clock.split('.').next()?;
    let mut clock = clock.splitn(3, ':');
    let hours: i64 = clock.next()?.parse().ok()?;
    let minutes: i64 = clock.next()?.parse().ok()?;
    let seconds: i64 = clock.next().unwrap_or("0").parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hours > 23 || minutes > 59 {
        return None;
    }
    // The inverse of `civil_from_days`: years counted from March, so February is last.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let march_month = (month + 9) % 12;
    let day_of_year = (153 * march_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * SECONDS_PER_DAY + hours * 3600 + minutes * 60 + seconds)
}

/// The proleptic Gregorian date `days` after 1970-01-01.
///
/// Counting from 0000-03-01 puts the leap day at the very end of each year, so a year's
/// length only matters once the 400-year cycle (146 097 days) has been split off.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // 719 468 days separate 0000-03-01 from 1970-01-01.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    // The corrections undo the leap days of every 4th, 100th and 400th year of the era.
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months from March have lengths 31,30,31,30,31 repeating, which (153 m + 2) / 5 fits.
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are small and positive by construction: month 1..=12, day 1..=31.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::{iso8601, parse_iso8601};

    #[test]
    fn read_back_what_is_written() {
        for unix in [
            0,
            1_767_261_600,
            1_709_168_523,
            951_782_400,
            -1,
            4_102_444_800,
        ] {
            assert_eq!(parse_iso8601(&iso8601(unix)), Some(unix), "{unix}");
        }
        assert_eq!(parse_iso8601("2026-01-01"), Some(1_767_225_600));
        assert_eq!(parse_iso8601("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_iso8601("soon"), None);
    }

    #[test]
    fn known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_767_261_600), "2026-01-01T10:00:00.000Z");
        assert_eq!(iso8601(1_709_168_523), "2024-02-29T01:02:03.000Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.000Z");
        assert_eq!(iso8601(4_102_444_800), "2100-01-01T00:00:00.000Z");
    }

    #[test]
    fn every_day_follows_the_last() {
        // A day-by-day walk over several leap cycles catches any month that is a day off.
        let mut previous = iso8601(0)[..10].to_owned();
        for day in 1..(366 * 130) {
            let next = iso8601(day * 86_400)[..10].to_owned();
            assert!(next > previous, "{next} does not follow {previous}");
            previous = next;
        }
        assert_eq!(previous, "2100-04-08");
    }
}
