//! Local days and times for reports and receipts. A sale belongs to the day on the shop's wall
//! clock.
//!
//! Every time zone Nexus serves today (West Africa) has a fixed UTC offset and no daylight
//! saving, so a zone is its offset and no time-zone database is needed. A zone not in the table
//! is refused rather than guessed.

const MILLIS_PER_DAY: i64 = 86_400_000;

/// (IANA name, offset from UTC in minutes)
const ZONES: &[(&str, i64)] = &[
    ("Africa/Accra", 0),
    ("Africa/Abidjan", 0),
    ("Africa/Bamako", 0),
    ("Africa/Banjul", 0),
    ("Africa/Conakry", 0),
    ("Africa/Dakar", 0),
    ("Africa/Freetown", 0),
    ("Africa/Lome", 0),
    ("Africa/Monrovia", 0),
    ("Africa/Nouakchott", 0),
    ("Africa/Ouagadougou", 0),
    ("Africa/Lagos", 60),
    ("Africa/Niamey", 60),
    ("Africa/Porto-Novo", 60),
    ("Africa/Douala", 60),
    ("UTC", 0),
];

pub const DEFAULT_TIME_ZONE: &str = "Africa/Accra";

/// The zone's offset from UTC in minutes, or `None` for a zone Nexus does not know.
pub fn zone_offset_minutes(zone: &str) -> Option<i64> {
    ZONES
        .iter()
        .find(|(name, _)| *name == zone)
        .map(|(_, offset)| *offset)
}

pub fn known_zones() -> impl Iterator<Item = &'static str> {
    ZONES.iter().map(|(name, _)| *name)
}

/// Days since 1970-01-01 on the local calendar of a zone `offset_minutes` east of UTC.
pub fn local_day(unix_millis: i64, offset_minutes: i64) -> i32 {
    let local = unix_millis.saturating_add(offset_minutes.saturating_mul(60_000));
    i32::try_from(local.div_euclid(MILLIS_PER_DAY)).unwrap_or(if local > 0 {
        i32::MAX
    } else {
        i32::MIN
    })
}

/// The calendar date of a day number (proleptic Gregorian; Howard Hinnant's civil_from_days).
pub fn date_of_day(day: i32) -> (i32, u32, u32) {
    let z = i64::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day_of_month = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day_of_month).unwrap_or(1),
    )
}

/// The day number of a calendar date (Howard Hinnant's days_from_civil).
pub fn day_of_date(year: i32, month: u32, day: u32) -> i32 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    i32::try_from(era * 146_097 + day_of_era - 719_468).unwrap_or(i32::MAX)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYY-MM-DD` into a day number; `None` for anything else, including 2026-02-30.
pub fn parse_date(text: &str) -> Option<i32> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i32 = parts.next().filter(|part| part.len() == 4)?.parse().ok()?;
    let month: u32 = parts.next().filter(|part| part.len() == 2)?.parse().ok()?;
    let day: u32 = parts.next().filter(|part| part.len() == 2)?.parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(day_of_date(year, month, day))
}

pub fn format_day(day: i32) -> String {
    let (year, month, day_of_month) = date_of_day(day);
    format!("{year:04}-{month:02}-{day_of_month:02}")
}

/// How a report groups days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Day,
    /// Weeks start on Monday.
    Week,
    Month,
}

impl Period {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }

    /// The first day of the period that `day` falls in.
    pub fn start_of(self, day: i32) -> i32 {
        match self {
            Period::Day => day,
            // 1970-01-01 was a Thursday: day 0 is 3 days after a Monday.
            Period::Week => day - (day + 3).rem_euclid(7),
            Period::Month => {
                let (year, month, _) = date_of_day(day);
                day_of_date(year, month, 1)
            }
        }
    }
}

/// "YYYY-MM-DD HH:MM" on the wall clock of a zone `offset_minutes` east of UTC, for receipts.
pub fn format_local_minute(unix_millis: i64, offset_minutes: i64) -> String {
    let local = unix_millis.saturating_add(offset_minutes.saturating_mul(60_000));
    let minute_of_day = local.rem_euclid(MILLIS_PER_DAY) / 60_000;
    format!(
        "{} {:02}:{:02}",
        format_day(local_day(unix_millis, offset_minutes)),
        minute_of_day / 60,
        minute_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_and_dates_round_trip() {
        for day in -800_000..800_000 {
            if day % 997 != 0 {
                continue;
            }
            let (year, month, day_of_month) = date_of_day(day);
            assert_eq!(day_of_date(year, month, day_of_month), day);
        }
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(
            parse_date("2026-01-01").map(format_day).as_deref(),
            Some("2026-01-01")
        );
        assert_eq!(
            parse_date("2024-02-29").map(format_day).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-01x",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn local_days_follow_the_zone() {
        // 2026-01-01T23:30Z is still 1 January in Accra but 2 January in Lagos.
        let late_evening = 1_767_225_600_000 + 23 * 3_600_000 + 30 * 60_000;
        let accra = local_day(
            late_evening,
            zone_offset_minutes("Africa/Accra").unwrap_or(0),
        );
        let lagos = local_day(
            late_evening,
            zone_offset_minutes("Africa/Lagos").unwrap_or(0),
        );
        assert_eq!(format_day(accra), "2026-01-01");
        assert_eq!(format_day(lagos), "2026-01-02");
        assert_eq!(zone_offset_minutes("Europe/Paris"), None);
    }

    #[test]
    fn periods_start_on_mondays_and_firsts() {
        let thursday = parse_date("2026-01-01").unwrap_or(0);
        assert_eq!(format_day(Period::Week.start_of(thursday)), "2025-12-29");
        assert_eq!(
            format_day(Period::Month.start_of(parse_date("2026-02-17").unwrap_or(0))),
            "2026-02-01"
        );
        assert_eq!(Period::Day.start_of(thursday), thursday);
        let monday = parse_date("2026-01-05").unwrap_or(0);
        assert_eq!(Period::Week.start_of(monday), monday);
    }

    #[test]
    fn receipt_times_are_on_the_shop_wall_clock() {
        // 2026-01-01 23:30 UTC is still the 1st in Accra and already the 2nd in Lagos.
        let at = 1_767_310_200_000;
        assert_eq!(format_local_minute(at, 0), "2026-01-01 23:30");
        assert_eq!(format_local_minute(at, 60), "2026-01-02 00:30");
        assert_eq!(format_local_minute(-60_000, 0), "1969-12-31 23:59");
    }
}
