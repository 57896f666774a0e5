//! Reading a merchant statement: the layout (which columns, named by their header, hold the
//! transaction id, the time, the amount and the payer), chosen once per network because each
//! portal writes its own and changes it now and then; and each row read as a payment.

use serde::{Deserialize, Serialize};

use crate::calendar::day_of_date;
use crate::money::Currency;
use crate::tender::MAX_REFERENCE_CHARS;
use crate::time::UnixMillis;

/// How a statement writes its times; the time of day is `HH:mm`, with seconds or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeFormat {
    YearMonthDay,
    DayMonthYear,
    MonthDayYear,
    DayMonthNameYear,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

impl TimeFormat {
    pub const ALL: [TimeFormat; 4] = [
        TimeFormat::YearMonthDay,
        TimeFormat::DayMonthYear,
        TimeFormat::MonthDayYear,
        TimeFormat::DayMonthNameYear,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimeFormat::YearMonthDay => "YYYY-MM-DD HH:mm:ss",
            TimeFormat::DayMonthYear => "DD/MM/YYYY HH:mm:ss",
            TimeFormat::MonthDayYear => "MM/DD/YYYY HH:mm:ss",
            TimeFormat::DayMonthNameYear => "DD-Mon-YYYY HH:mm:ss",
        }
    }

    pub fn parse(text: &str) -> Option<TimeFormat> {
        TimeFormat::ALL
            .into_iter()
            .find(|format| format.as_str() == text.trim())
    }

    /// A local time as a statement writes it, at the shop's UTC offset. Dates may be separated
    /// by `-`, `/` or `.`, the time by a space or `T`; seconds, fractions and a `Z` are allowed.
    pub fn read(self, text: &str, offset_minutes: i64) -> Option<UnixMillis> {
        let text = text.trim().trim_end_matches('Z');
        // A `T` between digits, not the T of "OCT".
        let bytes = text.as_bytes();
        let split = text.find(' ').or_else(|| {
            (1..bytes.len().saturating_sub(1)).find(|&i| {
                bytes[i] == b'T' && bytes[i - 1].is_ascii_digit() && bytes[i + 1].is_ascii_digit()
            })
        });
        let (date, clock) = match split {
            Some(at) => (&text[..at], text[at + 1..].trim()),
            None => (text, "00:00"),
        };
        let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
        let [first, second, third] = parts.as_slice() else {
            return None;
        };
        let number = |text: &str| -> Option<u32> {
            (!text.is_empty() && text.len() <= 4 && text.bytes().all(|b| b.is_ascii_digit()))
                .then(|| text.parse().ok())
                .flatten()
        };
        let (year, month, day) = match self {
            TimeFormat::YearMonthDay => (number(first)?, number(second)?, number(third)?),
            TimeFormat::DayMonthYear => (number(third)?, number(second)?, number(first)?),
            TimeFormat::MonthDayYear => (number(third)?, number(first)?, number(second)?),
            TimeFormat::DayMonthNameYear => {
                let name = second.to_ascii_lowercase();
                let month = MONTHS
                    .iter()
                    .position(|month| name.len() >= 3 && month.starts_with(&name[..3]))
                    .filter(|_| name.bytes().all(|b| b.is_ascii_alphabetic()))?;
                (
                    number(third)?,
                    u32::try_from(month).ok()? + 1,
                    number(first)?,
                )
            }
        };
        if year < 1970 || !(1..=12).contains(&month) || day < 1 || day > days_in(year, month) {
            return None;
        }
        let clock = clock.split('.').next()?;
        let mut pieces = clock.split(':');
        let hours = number(pieces.next()?)?;
        let minutes = number(pieces.next()?)?;
        let seconds = match pieces.next() {
            Some(seconds) => number(seconds)?,
            None => 0,
        };
        if pieces.next().is_some() || hours > 23 || minutes > 59 || seconds > 59 {
            return None;
        }
        let day = i64::from(day_of_date(i32::try_from(year).ok()?, month, day));
        let local =
            ((day * 24 + i64::from(hours)) * 60 + i64::from(minutes)) * 60 + i64::from(seconds);
        Some(UnixMillis::from_millis(
            (local - offset_minutes * 60) * 1000,
        ))
    }
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

/// Which columns, named by their header (trimmed, any case), hold what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub transaction_id: String,
    pub time: String,
    pub amount: String,
    pub payer: Option<String>,
    pub time_format: TimeFormat,
}

/// Why a statement cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("the statement is empty: it has no header row")]
    Empty,
    #[error(
        "the statement's columns do not fit the layout saved for this network (missing: {}). Columns found: {}. Columns expected: {}. If the portal changed its export, choose the columns again.",
        missing.join(", "),
        found.join(", "),
        expected.join(", ")
    )]
    ColumnsMissing {
        found: Vec<String>,
        expected: Vec<String>,
        missing: Vec<String>,
    },
    #[error("line {line}: {problem}")]
    Row { line: usize, problem: String },
    #[error("{0}")]
    Mapping(String),
}

fn same_column(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Header names portals use, most specific first.
const ID_NAMES: [&str; 7] = [
    "transaction id",
    "financial transaction id",
    "transaction reference",
    "trans id",
    "txn id",
    "reference",
    "id",
];
const TIME_NAMES: [&str; 5] = ["date", "date/time", "transaction date", "date time", "time"];
const AMOUNT_NAMES: [&str; 4] = ["amount", "amount (ghs)", "credit", "value"];
const PAYER_NAMES: [&str; 7] = [
    "from",
    "payer",
    "from account",
    "sender",
    "msisdn",
    "phone",
    "from number",
];

impl Mapping {
    /// Checks the layout itself: every column named, none named twice.
    pub fn check(&self) -> Result<(), StatementError> {
        let mut named = vec![
            ("transaction id", &self.transaction_id),
            ("time", &self.time),
            ("amount", &self.amount),
        ];
        if let Some(payer) = &self.payer {
            named.push(("payer", payer));
        }
        for (what, column) in &named {
            if column.trim().is_empty() {
                return Err(StatementError::Mapping(format!(
                    "choose the column that holds the {what}"
                )));
            }
        }
        for (index, (what, column)) in named.iter().enumerate() {
            if let Some((other, _)) = named[index + 1..]
                .iter()
                .find(|(_, later)| same_column(later, column))
            {
                return Err(StatementError::Mapping(format!(
                    "the column {:?} is chosen for both the {what} and the {other}",
                    column.trim()
                )));
            }
        }
        Ok(())
    }

    /// A first guess from the header and the first rows' time cells, for the owner to confirm.
    pub fn guess(header: &[String], sample_times: &[&str]) -> Option<Mapping> {
        let find = |names: &[&str], taken: &[&str]| {
            names.iter().find_map(|name| {
                header
                    .iter()
                    .find(|column| {
                        same_column(column, name) && !taken.iter().any(|t| same_column(t, column))
                    })
                    .cloned()
            })
        };
        let transaction_id = find(&ID_NAMES, &[])?;
        let time = find(&TIME_NAMES, &[&transaction_id])?;
        let amount = find(&AMOUNT_NAMES, &[&transaction_id, &time])?;
        let payer = find(&PAYER_NAMES, &[&transaction_id, &time, &amount]);
        let time_format = TimeFormat::ALL
            .into_iter()
            .find(|format| {
                sample_times
                    .iter()
                    .filter(|text| !text.trim().is_empty())
                    .all(|text| format.read(text, 0).is_some())
            })
            .unwrap_or(TimeFormat::YearMonthDay);
        Some(Mapping {
            transaction_id,
            time,
            amount,
            payer,
            time_format,
        })
    }

    /// The columns' places in this file's header.
    pub fn locate(&self, header: &[String]) -> Result<Columns, StatementError> {
        self.check()?;
        let position = |name: &str| header.iter().position(|column| same_column(column, name));
        let mut expected = vec![
            self.transaction_id.trim().to_owned(),
            self.time.trim().to_owned(),
            self.amount.trim().to_owned(),
        ];
        if let Some(payer) = &self.payer {
            expected.push(payer.trim().to_owned());
        }
        let missing: Vec<String> = expected
            .iter()
            .filter(|name| position(name).is_none())
            .cloned()
            .collect();
        match (
            position(&self.transaction_id),
            position(&self.time),
            position(&self.amount),
        ) {
            (Some(transaction_id), Some(time), Some(amount)) if missing.is_empty() => Ok(Columns {
                transaction_id,
                time,
                amount,
                payer: self.payer.as_deref().and_then(position),
                time_format: self.time_format,
            }),
            _ => Err(StatementError::ColumnsMissing {
                found: header
                    .iter()
                    .map(|column| column.trim().to_owned())
                    .collect(),
                expected,
                missing,
            }),
        }
    }
}

/// A layout placed on one file's header.
#[derive(Clone, Debug)]
pub struct Columns {
    transaction_id: usize,
    time: usize,
    amount: usize,
    payer: Option<usize>,
    time_format: TimeFormat,
}

/// One payment received, as a statement lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatementRow {
    pub transaction_id: String,
    pub at: UnixMillis,
    pub amount_minor: i64,
    pub payer: Option<String>,
}

/// An amount as portals write it ("GHS 1,200.50", "GH₵15.00", "15.00 GHS") in minor units.
fn read_amount(text: &str, currency: Currency) -> Option<i64> {
    let cleaned: String = text
        .trim()
        .trim_start_matches(|c: char| !(c.is_ascii_digit() || c == '-' || c == '.'))
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .filter(|c| *c != ',' && !c.is_whitespace())
        .collect();
    match cleaned.strip_prefix('-') {
        Some(magnitude) => currency.parse_major(magnitude).ok().map(|minor| -minor),
        None => currency.parse_major(&cleaned).ok(),
    }
}

impl Columns {
    /// One record as a payment received; `None` for a row that is not one (blank, or an amount
    /// of zero or less: a withdrawal, a fee). `line` is the file's line, for the error.
    pub fn row(
        &self,
        record: &[String],
        line: usize,
        currency: Currency,
        offset_minutes: i64,
    ) -> Result<Option<StatementRow>, StatementError> {
        if record.iter().all(|cell| cell.trim().is_empty()) {
            return Ok(None);
        }
        let cell = |index: usize| record.get(index).map_or("", |cell| cell.trim());
        let problem = |problem: String| StatementError::Row { line, problem };
        let amount_text = cell(self.amount);
        let amount_minor = read_amount(amount_text, currency).ok_or_else(|| {
            problem(format!(
                "the amount {amount_text:?} is not an amount of money"
            ))
        })?;
        if amount_minor <= 0 {
            return Ok(None);
        }
        let transaction_id = cell(self.transaction_id);
        if transaction_id.is_empty() || transaction_id.chars().count() > MAX_REFERENCE_CHARS {
            return Err(problem(format!(
                "the transaction id must be 1 to {MAX_REFERENCE_CHARS} characters"
            )));
        }
        let time_text = cell(self.time);
        let at = self
            .time_format
            .read(time_text, offset_minutes)
            .ok_or_else(|| {
                problem(format!(
                    "the time {time_text:?} is not written {}",
                    self.time_format.as_str()
                ))
            })?;
        let payer = self
            .payer
            .map(cell)
            .filter(|payer| !payer.is_empty())
            .map(str::to_owned);
        Ok(Some(StatementRow {
            transaction_id: transaction_id.to_owned(),
            at,
            amount_minor,
            payer,
        }))
    }
}
