//! The billing period: a calendar month in UTC. Usage is counted by when the service recorded
//! a sale, so a sale a till kept offline for days is billed in the month it arrived and a
//! closed month's count never changes afterwards.

use crate::calendar::{date_of_day, day_of_date, local_day};
use crate::time::UnixMillis;

const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

/// One calendar month, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BillingPeriod {
    year: i32,
    month: u32,
}

impl BillingPeriod {
    /// The month `at` falls in.
    pub fn containing(at: UnixMillis) -> Self {
        let (year, month, _) = date_of_day(local_day(at.as_millis(), 0));
        Self { year, month }
    }

    /// `2026-01`; `None` for anything else.
    pub fn parse(key: &str) -> Option<Self> {
        let (year, month) = key.trim().split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let year: i32 = year.parse().ok()?;
        let month: u32 = month.parse().ok()?;
        (1..=12).contains(&month).then_some(Self { year, month })
    }

    /// `2026-01`, as stored and as identifiers carry it.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// "January 2026", for people.
    pub fn label(self) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let name = MONTHS
            .get(usize::try_from(self.month.saturating_sub(1)).unwrap_or(0))
            .copied()
            .unwrap_or("January");
        format!("{name} {}", self.year)
    }

    /// The first millisecond of the month.
    pub fn start(self) -> UnixMillis {
        UnixMillis::from_millis(i64::from(day_of_date(self.year, self.month, 1)) * MILLIS_PER_DAY)
    }

    /// The first millisecond after the month.
    pub fn end(self) -> UnixMillis {
        self.next().start()
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }
}

impl std::fmt::Display for BillingPeriod {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.key())
    }
}
