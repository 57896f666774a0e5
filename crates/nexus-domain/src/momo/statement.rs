//! Reading a merchant statement: the layout (which columns, named by their header, hold the
//! transaction id, the time, the amount and the payer), chosen once per network because each
//! portal writes its own and changes it now and then; and each row read as a payment.

use serde::{Deserialize, Serialize};

use crate::calendar::day_of_date;
use crate::money::Currency;
use crate::tender::MAX_REFERENCE_CHARS;
use crate::time::UnixMillis;

/// How a statement writes its times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeFormat {
    YearMonthDay,
    DayMonthYear,
    MonthDayYear,
    DayMonthNameYear,
}

const MONTH_NAMES: [(&str, &str); 12] = [
    ("jan", "january"),
    ("feb", "february"),
    ("mar", "march"),
    ("apr", "april"),
    ("may", "may"),
    ("jun", "june"),
    ("jul", "july"),
    ("aug", "august"),
    ("sep", "september"),
    ("oct", "october"),
    ("nov", "november"),
    ("dec", "december"),
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
        let text = text.trim();
        TimeFormat::ALL
            .into_iter()
            .find(|format| format.as_str() == text)
    }

    /// A local time as written in a statement, to [`UnixMillis`], given the shop's UTC offset
    /// in minutes. The date's parts may be separated by `-`, `/` or `.`, the date from the time
    /// by a space or `T`; seconds are optional; fractions of a second, a trailing `Z` and an
    /// AM/PM marker are tolerated. Month names are English, three letters or in full.
    ///
    /// A date alone is refused: read as midnight it would put every payment of the day hours
    /// away from its sale, and each would wrongly come out not found.
    pub fn read(self, text: &str, offset_minutes: i64) -> Option<UnixMillis> {
        let text = text.trim();
        let text = text.strip_suffix(['Z', 'z']).unwrap_or(text).trim_end();
        let (date, clock) = split_date_time(text)?;
        let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
        let [first, second, third] = parts.as_slice() else {
            return None;
        };
        let (year, month, day) = match self {
            TimeFormat::YearMonthDay => (year(first)?, small(second)?, small(third)?),
            TimeFormat::DayMonthYear => (year(third)?, small(second)?, small(first)?),
            TimeFormat::MonthDayYear => (year(third)?, small(first)?, small(second)?),
            TimeFormat::DayMonthNameYear => (year(third)?, month_named(second)?, small(first)?),
        };
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        let seconds_of_day = read_clock(clock)?;
        let day = i64::from(day_of_date(i32::try_from(year).ok()?, month, day));
        let local_seconds = day * 86_400 + seconds_of_day;
        let utc_seconds = local_seconds.checked_sub(offset_minutes.checked_mul(60)?)?;
        Some(UnixMillis::from_millis(utc_seconds.checked_mul(1000)?))
    }
}

/// The date and the time of day; `None` when there is no time of day.
fn split_date_time(text: &str) -> Option<(&str, &str)> {
    if let Some((date, clock)) = text.split_once(' ') {
        return Some((date, clock.trim()));
    }
    // A `T` between digits, so the T of "Oct" is no separator.
    let bytes = text.as_bytes();
    let at = (1..bytes.len().saturating_sub(1)).find(|&index| {
        bytes[index].eq_ignore_ascii_case(&b'T')
            && bytes[index - 1].is_ascii_digit()
            && bytes[index + 1].is_ascii_digit()
    })?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

fn digits(text: &str, lengths: std::ops::RangeInclusive<usize>) -> Option<u32> {
    if !lengths.contains(&text.len()) || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Four digits, so that "10/01/2026" cannot be read as the year 10.
fn year(text: &str) -> Option<u32> {
    digits(text, 4..=4)
}

fn small(text: &str) -> Option<u32> {
    digits(text, 1..=2)
}

fn month_named(text: &str) -> Option<u32> {
    let name = text.to_ascii_lowercase();
    let index = MONTH_NAMES
        .iter()
        .position(|(short, full)| name == *short || name == *full)
        .or_else(|| (name == "sept").then_some(8))?;
    u32::try_from(index).ok().map(|index| index + 1)
}

/// `HH:mm`, `HH:mm:ss` or `HH:mm:ss.fff`, on a 24-hour clock or with AM/PM, as seconds into
/// the day.
fn read_clock(clock: &str) -> Option<i64> {
    let lower = clock.to_ascii_lowercase();
    let (clock, half) = match lower
        .strip_suffix("am")
        .or_else(|| lower.strip_suffix("a.m."))
    {
        Some(clock) => (clock.trim_end(), Some(0)),
        None => match lower
            .strip_suffix("pm")
            .or_else(|| lower.strip_suffix("p.m."))
        {
            Some(clock) => (clock.trim_end(), Some(12)),
            None => (lower.as_str(), None),
        },
    };
    let mut pieces = clock.split(':');
    let hours = small(pieces.next()?)?;
    let minutes = digits(pieces.next()?, 2..=2)?;
    let seconds = match pieces.next() {
        Some(seconds) => {
            let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, "0"));
            if fraction.is_empty() || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
                return None;
            }
            digits(whole, 2..=2)?
        }
        None => 0,
    };
    if pieces.next().is_some() || minutes > 59 || seconds > 59 {
        return None;
    }
    let hours = match half {
        None if hours <= 23 => hours,
        Some(half) if (1..=12).contains(&hours) => hours % 12 + half,
        _ => return None,
    };
    Some(i64::from((hours * 60 + minutes) * 60 + seconds))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

/// Which columns, named by their header, hold what. Headers are matched trimmed and
/// case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub transaction_id: String,
    pub time: String,
    pub amount: String,
    pub payer: Option<String>,
    /// A portal that lists failed and pending attempts beside the payments says which is which
    /// here; without it every row with an amount is taken as paid.
    #[serde(default)]
    pub status: Option<String>,
    pub time_format: TimeFormat,
}

/// Why a statement cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("the statement has no header row")]
    Empty,
    /// The layout changed or the wrong network's file was sent.
    #[error(
        "this statement does not have the columns chosen for this network (missing: {}); \
         columns found: {}; columns expected: {}. If the portal changed its export, or this is \
         another network's file, check the file or choose the columns again",
        missing_columns(found, expected).join(", "),
        found.join(", "),
        expected.join(", ")
    )]
    ColumnsMissing {
        found: Vec<String>,
        expected: Vec<String>,
    },
    #[error("line {line}: {problem}")]
    Row { line: usize, problem: String },
    #[error("{0}")]
    Mapping(String),
}

/// A header cell as compared: portals pad their headers, and a byte-order mark may cling to
/// the first.
fn header_name(name: &str) -> &str {
    name.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

fn same_column(a: &str, b: &str) -> bool {
    header_name(a).eq_ignore_ascii_case(header_name(b))
}

fn missing_columns(found: &[String], expected: &[String]) -> Vec<String> {
    expected
        .iter()
        .filter(|name| !found.iter().any(|column| same_column(column, name)))
        .cloned()
        .collect()
}

/// A header reduced to its letters and digits, lower case, for guessing only: "Date/Time",
/// "Date Time" and "DATETIME" are one name to a guess, though a saved layout names its column
/// exactly.
fn guess_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

// Most likely first: "Id" beats "Reference", which on some portals is the payer's own note.
const ID_NAMES: [&str; 8] = [
    "transactionid",
    "financialtransactionid",
    "transid",
    "txnid",
    "id",
    "transactionreference",
    "referenceid",
    "reference",
];
// A combined date and time first: a date column alone cannot place a payment near its sale.
const TIME_NAMES: [&str; 7] = [
    "datetime",
    "transactiondate",
    "transactiontime",
    "transactiondatetime",
    "date",
    "time",
    "timestamp",
];
const AMOUNT_NAMES: [&str; 6] = [
    "amount",
    "amountghs",
    "credit",
    "creditamount",
    "amountreceived",
    "transactionamount",
];
const STATUS_NAMES: [&str; 4] = ["status", "transactionstatus", "state", "result"];
const PAYER_NAMES: [&str; 10] = [
    "from",
    "payer",
    "fromaccount",
    "sender",
    "msisdn",
    "phone",
    "fromnumber",
    "frommsisdn",
    "payernumber",
    "phonenumber",
];

impl Mapping {
    /// Checks the mapping itself (names not empty, no column named twice).
    pub fn check(&self) -> Result<(), StatementError> {
        let mut named = vec![
            ("transaction id", self.transaction_id.as_str()),
            ("time", self.time.as_str()),
            ("amount", self.amount.as_str()),
        ];
        if let Some(payer) = &self.payer {
            named.push(("payer's number", payer.as_str()));
        }
        if let Some(status) = &self.status {
            named.push(("status", status.as_str()));
        }
        if let Some((what, _)) = named
            .iter()
            .find(|(_, column)| header_name(column).is_empty())
        {
            return Err(StatementError::Mapping(format!(
                "choose the column that holds the {what}"
            )));
        }
        for (index, (what, column)) in named.iter().enumerate() {
            if let Some((other, _)) = named
                .iter()
                .skip(index + 1)
                .find(|(_, later)| same_column(later, column))
            {
                return Err(StatementError::Mapping(format!(
                    "the column \"{}\" is chosen for both the {what} and the {other}: \
                     choose a different column for one of them",
                    header_name(column)
                )));
            }
        }
        Ok(())
    }

    /// A first guess from the header, for the first upload's confirmation screen, with the time
    /// format the first that reads every one of `sample_times` (the first rows' time cells);
    /// when none does, the ISO order, for the owner to correct. `None` when the transaction id,
    /// time or amount column cannot be told.
    pub fn guess(header: &[String], sample_times: &[&str]) -> Option<Mapping> {
        let keys: Vec<String> = header.iter().map(|name| guess_key(name)).collect();
        let find = |names: &[&str], taken: &[usize]| {
            names.iter().find_map(|name| {
                (0..keys.len()).find(|index| keys[*index] == *name && !taken.contains(index))
            })
        };
        let transaction_id = find(&ID_NAMES, &[])?;
        let time = find(&TIME_NAMES, &[transaction_id])?;
        let amount = find(&AMOUNT_NAMES, &[transaction_id, time])?;
        let payer = find(&PAYER_NAMES, &[transaction_id, time, amount]);
        let status = find(&STATUS_NAMES, &[transaction_id, time, amount]);
        let name = |index: usize| header.get(index).map(|name| header_name(name).to_owned());
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
            transaction_id: name(transaction_id)?,
            time: name(time)?,
            amount: name(amount)?,
            payer: payer.and_then(name),
            status: status.and_then(name),
            time_format,
        })
    }

    /// The columns' positions in this header, or `ColumnsMissing` with the header as sent and
    /// every column the mapping names.
    pub fn locate(&self, header: &[String]) -> Result<Columns, StatementError> {
        self.check()?;
        let position = |name: &str| header.iter().position(|column| same_column(column, name));
        let missing = || {
            let mut expected = vec![
                header_name(&self.transaction_id).to_owned(),
                header_name(&self.time).to_owned(),
                header_name(&self.amount).to_owned(),
            ];
            expected.extend(
                [&self.payer, &self.status]
                    .into_iter()
                    .flatten()
                    .map(|name| header_name(name).to_owned()),
            );
            StatementError::ColumnsMissing {
                found: header.to_vec(),
                expected,
            }
        };
        let payer = match &self.payer {
            Some(payer) => Some(position(payer).ok_or_else(missing)?),
            None => None,
        };
        let status = match &self.status {
            Some(status) => Some(position(status).ok_or_else(missing)?),
            None => None,
        };
        Ok(Columns {
            transaction_id: position(&self.transaction_id).ok_or_else(missing)?,
            time: position(&self.time).ok_or_else(missing)?,
            amount: position(&self.amount).ok_or_else(missing)?,
            payer,
            status,
            time_format: self.time_format,
        })
    }
}

/// A mapping placed on one file's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    pub(super) transaction_id: usize,
    pub(super) time: usize,
    pub(super) amount: usize,
    pub(super) payer: Option<usize>,
    pub(super) status: Option<usize>,
    pub(super) time_format: TimeFormat,
}

/// One payment received, as a statement lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatementRow {
    pub transaction_id: String,
    pub at: UnixMillis,
    pub amount_minor: i64,
    pub payer: Option<String>,
}

/// An amount as portals write it ("GHS 1,200.50", "GH₵15.00", "15.00 GHS", "(5.00)") in
/// minor units; the digits themselves go through [`Currency::parse_major`], which refuses
/// anything it cannot read exactly.
fn read_amount(text: &str, currency: Currency) -> Option<i64> {
    let packed: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .collect();
    // Accounting exports write a debit in brackets.
    let bracketed = packed.contains('(') && packed.ends_with(')');
    let is_mark = |c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
    let number = packed.trim_matches(is_mark);
    let (negative, number) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    // "-GHS 5.00": the sign before the currency.
    let number = number.trim_start_matches(is_mark);
    let (trailing_minus, number) = match number.strip_suffix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    if number.starts_with(['-', '+']) {
        return None;
    }
    let magnitude = currency.parse_major(number).ok()?;
    Some(if negative || bracketed || trailing_minus {
        -magnitude
    } else {
        magnitude
    })
}

// Compared as `guess_key` reduces them. A word in neither list is refused rather than guessed:
// taken as paid, a failed attempt would verify a tender that never brought money in.
const PAID_STATUSES: [&str; 7] = [
    "successful",
    "success",
    "succeeded",
    "completed",
    "complete",
    "approved",
    "paid",
];
const UNPAID_STATUSES: [&str; 13] = [
    "failed",
    "failure",
    "pending",
    "rejected",
    "declined",
    "reversed",
    "cancelled",
    "canceled",
    "expired",
    "timeout",
    "timedout",
    "refunded",
    "ongoing",
];

/// Whether a status cell says the money arrived; `None` when it says neither.
fn paid_status(text: &str) -> Option<bool> {
    let key = guess_key(text);
    if PAID_STATUSES.contains(&key.as_str()) {
        Some(true)
    } else if UNPAID_STATUSES.contains(&key.as_str()) {
        Some(false)
    } else {
        None
    }
}

impl Columns {
    /// One record as a payment received; `Ok(None)` for a row that is not one: blank, or an
    /// amount of zero or below (a withdrawal or a fee), or no amount at all (a statement whose
    /// amount column is "Credit" leaves it empty on its debit lines), or a status that says the
    /// attempt failed or is still pending. `line` is the file's line, for the error.
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
        if amount_text.is_empty() || amount_text == "-" {
            return Ok(None);
        }
        let amount_minor = read_amount(amount_text, currency).ok_or_else(|| {
            problem(format!(
                "the amount \"{amount_text}\" cannot be read as an amount of money"
            ))
        })?;
        if amount_minor <= 0 {
            return Ok(None);
        }
        // After the amount: a withdrawal or fee row may carry a word of its own there.
        if let Some(status) = self.status {
            let status_text = cell(status);
            match paid_status(status_text) {
                Some(true) => {}
                Some(false) => return Ok(None),
                None => {
                    return Err(problem(format!(
                        "the status \"{status_text}\" says neither that the payment went \
                         through (for example \"Successful\") nor that it failed or is pending: \
                         check that the right column is chosen for the status"
                    )));
                }
            }
        }
        let transaction_id = cell(self.transaction_id);
        if transaction_id.is_empty() {
            return Err(problem(
                "a payment has no transaction id: the statement may not be complete".to_owned(),
            ));
        }
        if transaction_id.chars().count() > MAX_REFERENCE_CHARS {
            return Err(problem(format!(
                "the transaction id is longer than {MAX_REFERENCE_CHARS} characters: \
                 check that the right column is chosen for it"
            )));
        }
        let time_text = cell(self.time);
        let at = self
            .time_format
            .read(time_text, offset_minutes)
            .ok_or_else(|| {
                problem(format!(
                    "the time \"{time_text}\" is not a date and time written {}",
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
