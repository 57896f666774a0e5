//! How numbers and times read on a screen: money in the shop's currency, quantities without
//! trailing zeros, times on the shop's wall clock, and "3 h ago".
//!
//! View models hold these small display types rather than strings, so a handler cannot put
//! minor units or epoch milliseconds on a page by mistake: it has to say which currency or
//! which time zone, once, through a [`ShopLocale`].

use std::fmt;

use nexus_domain::calendar::{self, DEFAULT_TIME_ZONE};
use nexus_domain::{Currency, Quantity};

const MILLIS_PER_MINUTE: i64 = 60_000;
const MILLIS_PER_DAY: i64 = 86_400_000;

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The shop's currency, time zone and the request's "now": everything needed to show an
/// amount or a time the way the shop owner reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShopLocale {
    pub currency: Currency,
    /// Minutes east of UTC, from [`calendar::zone_offset_minutes`].
    pub offset_minutes: i64,
    /// Unix milliseconds at the time of the request, for relative times.
    pub now_millis: i64,
}

impl ShopLocale {
    /// A locale for a zone name such as "Africa/Accra"; an unknown zone falls back to Accra's
    /// offset (the settings page refuses unknown zones, so this only guards old data).
    pub fn new(currency: Currency, time_zone: &str, now_millis: i64) -> Self {
        let offset_minutes = calendar::zone_offset_minutes(time_zone)
            .or_else(|| calendar::zone_offset_minutes(DEFAULT_TIME_ZONE))
            .unwrap_or(0);
        Self {
            currency,
            offset_minutes,
            now_millis,
        }
    }

    pub fn money(&self, minor: i64) -> Money {
        Money::new(minor, self.currency)
    }

    pub fn time(&self, unix_millis: i64) -> ShopTime {
        ShopTime {
            unix_millis,
            offset_minutes: self.offset_minutes,
        }
    }

    /// "2 min ago"; `None` reads "never".
    pub fn ago(&self, unix_millis: Option<i64>) -> Ago {
        Ago {
            then_millis: unix_millis,
            now_millis: self.now_millis,
            offset_minutes: self.offset_minutes,
        }
    }

    /// A local calendar day (days since 1970-01-01, as `nexus_domain::calendar` counts them).
    pub fn day(&self, day: i32) -> ShopDate {
        ShopDate(day)
    }
}

/// An amount of money: "GHS 1,234.50", "XOF 1 200", "-GHS 3.00".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// The number alone, as a form field shows it for editing: "12.50", "1200". No grouping,
    /// so that what the form sends back parses with `Currency::parse_major`.
    pub fn input_value(&self) -> String {
        self.currency.format_minor(self.minor)
    }

    /// The number alone with grouping and without the code, for chart axes: "1,500".
    /// Decimals are dropped only when they are zero.
    pub fn short(&self) -> String {
        let text = grouped_number(self.minor, self.currency);
        match text.split_once('.') {
            Some((whole, fraction)) if fraction.bytes().all(|digit| digit == b'0') => {
                whole.to_owned()
            }
            _ => text,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The minus goes before the code ("-GHS 3.00"), read as "minus three cedis".
        let grouped = grouped_number(self.minor, self.currency);
        let (sign, digits) = match grouped.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", grouped.as_str()),
        };
        write!(formatter, "{sign}{} {digits}", self.currency.code())
    }
}

/// Groups of three digits: commas for GHS and NGN ("1,234.50"), spaces for XOF ("1 200"), as
/// the shops of each country write them.
fn grouped_number(minor: i64, currency: Currency) -> String {
    let plain = currency.format_minor(minor);
    let (sign, unsigned) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let separator = match currency {
        Currency::Xof => ' ',
        Currency::Ghs | Currency::Ngn => ',',
    };
    let mut grouped = String::with_capacity(plain.len() + plain.len() / 3);
    grouped.push_str(sign);
    group_digits(whole, separator, &mut grouped);
    if let Some(fraction) = fraction {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    grouped
}

/// A count as people read it: "2,140".
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    group_digits(&digits, ',', &mut out);
    out
}

fn group_digits(digits: &str, separator: char, out: &mut String) {
    let count = digits.len();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (count - index).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
}

/// A quantity for reading: "1.5", "24", "1,200". For a form field's value use the
/// `Quantity`'s own `Display`, which never groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Qty(pub Quantity);

impl Qty {
    pub fn is_negative(&self) -> bool {
        self.0.is_negative()
    }
}

impl From<Quantity> for Qty {
    fn from(quantity: Quantity) -> Self {
        Qty(quantity)
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = self.0.to_string();
        let (sign, unsigned) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain.as_str()),
        };
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        let mut text = String::from(sign);
        group_digits(whole, ',', &mut text);
        if let Some(fraction) = fraction {
            text.push('.');
            text.push_str(fraction);
        }
        formatter.write_str(&text)
    }
}

/// A moment on the shop's wall clock: "Tue 1 Dec 2026, 14:05".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShopTime {
    pub unix_millis: i64,
    pub offset_minutes: i64,
}

impl ShopTime {
    fn local_millis(&self) -> i64 {
        self.unix_millis
            .saturating_add(self.offset_minutes.saturating_mul(MILLIS_PER_MINUTE))
    }

    pub fn date(&self) -> ShopDate {
        ShopDate(calendar::local_day(self.unix_millis, self.offset_minutes))
    }

    /// "14:05".
    pub fn clock(&self) -> String {
        let minute_of_day = self.local_millis().rem_euclid(MILLIS_PER_DAY) / MILLIS_PER_MINUTE;
        format!("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60)
    }

    /// For `<time datetime=…>`: the local time with its offset, "2026-12-01T14:05+00:00".
    pub fn machine(&self) -> String {
        let offset = self.offset_minutes;
        let sign = if offset < 0 { '-' } else { '+' };
        let magnitude = offset.abs();
        format!(
            "{}T{}{sign}{:02}:{:02}",
            calendar::format_day(self.date().0),
            self.clock(),
            magnitude / 60,
            magnitude % 60
        )
    }
}

impl fmt::Display for ShopTime {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}, {}", self.date(), self.clock())
    }
}

/// A local calendar day: "Tue 1 Dec 2026".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShopDate(pub i32);

impl ShopDate {
    /// "2026-12-01", as a date input's value and as the API's query parameters spell it.
    pub fn iso(&self) -> String {
        calendar::format_day(self.0)
    }

    /// "1 Dec": short, for chart axes.
    pub fn short(&self) -> String {
        let (_, month, day) = calendar::date_of_day(self.0);
        format!("{day} {}", month_name(month))
    }

    /// "Dec 2026": for monthly periods.
    pub fn month(&self) -> String {
        let (year, month, _) = calendar::date_of_day(self.0);
        format!("{} {year}", month_name(month))
    }

    fn weekday(&self) -> &'static str {
        // Day 0 (1970-01-01) was a Thursday.
        WEEKDAYS[(i64::from(self.0) + 4).rem_euclid(7) as usize]
    }
}

fn month_name(month: u32) -> &'static str {
    MONTHS[(month.clamp(1, 12) - 1) as usize]
}

impl fmt::Display for ShopDate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = calendar::date_of_day(self.0);
        write!(
            formatter,
            "{} {day} {} {year}",
            self.weekday(),
            month_name(month)
        )
    }
}

/// How long ago something happened: "just now", "2 min ago", "3 h ago", "yesterday",
/// "2 days ago", then the date ("1 Nov 2026"); "never" when it never did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ago {
    pub then_millis: Option<i64>,
    pub now_millis: i64,
    pub offset_minutes: i64,
}

impl Ago {
    pub fn is_never(&self) -> bool {
        self.then_millis.is_none()
    }

    /// The exact moment, for a `title` or `<time datetime>`; empty for "never".
    pub fn exact(&self) -> Option<ShopTime> {
        self.then_millis.map(|unix_millis| ShopTime {
            unix_millis,
            offset_minutes: self.offset_minutes,
        })
    }
}

impl fmt::Display for Ago {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(then) = self.then_millis else {
            return formatter.write_str("never");
        };
        // A till whose clock runs ahead reports times in the future: that is "just now" to
        // the person reading, not "in 3 min".
        let elapsed = self.now_millis.saturating_sub(then).max(0);
        let minutes = elapsed / MILLIS_PER_MINUTE;
        let hours = minutes / 60;
        let days = hours / 24;
        if minutes < 1 {
            formatter.write_str("just now")
        } else if hours < 1 {
            write!(formatter, "{minutes} min ago")
        } else if days < 1 {
            write!(formatter, "{hours} h ago")
        } else if days == 1 {
            formatter.write_str("yesterday")
        } else if days < 7 {
            write!(formatter, "{days} days ago")
        } else {
            let date = ShopDate(calendar::local_day(then, self.offset_minutes));
            let (year, month, day) = calendar::date_of_day(date.0);
            write!(formatter, "{day} {} {year}", month_name(month))
        }
    }
}

/// How a figure compares with the same figure for the previous period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub direction: Direction,
    /// "12%" (rounded to a whole percent), or empty when there is nothing to compare with.
    pub percent: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Same,
    /// The previous period had nothing: no percentage means anything.
    New,
}

impl Change {
    pub fn between(current: i64, previous: i64) -> Self {
        if previous == 0 {
            let direction = if current == 0 {
                Direction::Same
            } else {
                Direction::New
            };
            return Self {
                direction,
                percent: String::new(),
            };
        }
        let difference = i128::from(current) - i128::from(previous);
        let base = i128::from(previous).abs();
        // Round half away from zero to whole percents, in integers.
        let scaled = difference * 100;
        let rounded = (scaled.abs() + base / 2) / base;
        let direction = match (difference.signum(), rounded) {
            (_, 0) => Direction::Same,
            (1, _) => Direction::Up,
            _ => Direction::Down,
        };
        Self {
            direction,
            percent: format!("{rounded}%"),
        }
    }

    /// The CSS class of the badge: "up", "down", "same", "new".
    pub fn class(&self) -> &'static str {
        match self.direction {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Same => "same",
            Direction::New => "new",
        }
    }

    /// Words for the badge, read aloud as they are shown: "up 12%", "down 5%".
    pub fn words(&self) -> String {
        match self.direction {
            Direction::Up => format!("up {}", self.percent),
            Direction::Down => format!("down {}", self.percent),
            Direction::Same => "no change".to_owned(),
            Direction::New => "new".to_owned(),
        }
    }

    /// The arrow drawn before the words; hidden from screen readers.
    pub fn arrow(&self) -> &'static str {
        match self.direction {
            Direction::Up => "▲",
            Direction::Down => "▼",
            Direction::Same | Direction::New => "•",
        }
    }
}

/// "1 sale", "3 sales".
pub fn plural(count: u64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ghs(minor: i64) -> String {
        Money::new(minor, Currency::Ghs).to_string()
    }

    #[test]
    fn counts_read_with_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(300), "300");
        assert_eq!(count(3_000), "3,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn money_reads_in_the_shops_currency() {
        assert_eq!(ghs(123_450), "GHS 1,234.50");
        assert_eq!(ghs(0), "GHS 0.00");
        assert_eq!(ghs(5), "GHS 0.05");
        assert_eq!(ghs(100_000_000), "GHS 1,000,000.00");
        assert_eq!(ghs(99_999), "GHS 999.99");
        assert_eq!(ghs(-300), "-GHS 3.00");
        assert_eq!(ghs(-123_450), "-GHS 1,234.50");
        assert_eq!(
            Money::new(1_200, Currency::Xof).to_string(),
            "XOF 1 200",
            "XOF has no minor unit and groups with spaces"
        );
        assert_eq!(
            Money::new(-1_234_567, Currency::Xof).to_string(),
            "-XOF 1 234 567"
        );
        assert_eq!(Money::new(999, Currency::Xof).to_string(), "XOF 999");
        assert_eq!(Money::new(1_050, Currency::Ngn).to_string(), "NGN 10.50");
        // Never panics on the extremes.
        assert_eq!(ghs(i64::MIN), "-GHS 92,233,720,368,547,758.08");
        assert_eq!(ghs(i64::MAX), "GHS 92,233,720,368,547,758.07");
    }

    #[test]
    fn money_for_inputs_and_axes() {
        let price = Money::new(1_250, Currency::Ghs);
        assert_eq!(price.input_value(), "12.50");
        assert_eq!(
            Money::new(123_456_700, Currency::Ghs).input_value(),
            "1234567.00"
        );
        assert_eq!(Money::new(150_000, Currency::Ghs).short(), "1,500");
        assert_eq!(Money::new(150_050, Currency::Ghs).short(), "1,500.50");
        assert_eq!(Money::new(-50_000, Currency::Ghs).short(), "-500");
        assert_eq!(Money::new(25_000, Currency::Xof).short(), "25 000");
    }

    #[test]
    fn quantities_drop_trailing_zeros_and_group() {
        let qty = |milli| Qty(Quantity::from_milli(milli)).to_string();
        assert_eq!(qty(1_500), "1.5");
        assert_eq!(qty(24_000), "24");
        assert_eq!(qty(125), "0.125");
        assert_eq!(qty(0), "0");
        assert_eq!(qty(-3_000), "-3");
        assert_eq!(qty(1_200_000), "1,200");
        assert_eq!(qty(-1_234_567_250), "-1,234,567.25");
    }

    #[test]
    fn times_are_on_the_shops_wall_clock() {
        // 2026-12-01T14:05Z, a Tuesday.
        let at = 1_796_133_900_000;
        let accra = ShopLocale::new(Currency::Ghs, "Africa/Accra", at);
        assert_eq!(accra.time(at).to_string(), "Tue 1 Dec 2026, 14:05");
        assert_eq!(accra.time(at).machine(), "2026-12-01T14:05+00:00");
        let lagos = ShopLocale::new(Currency::Ngn, "Africa/Lagos", at);
        assert_eq!(lagos.time(at).to_string(), "Tue 1 Dec 2026, 15:05");
        assert_eq!(lagos.time(at).machine(), "2026-12-01T15:05+01:00");
        // 23:30 UTC is already the next day in Lagos.
        let late = at + (9 * 60 + 25) * MILLIS_PER_MINUTE;
        assert_eq!(accra.time(late).to_string(), "Tue 1 Dec 2026, 23:30");
        assert_eq!(lagos.time(late).to_string(), "Wed 2 Dec 2026, 00:30");
        assert_eq!(accra.time(late).date().iso(), "2026-12-01");
        assert_eq!(ShopDate(0).to_string(), "Thu 1 Jan 1970");
        assert_eq!(ShopDate(-1).to_string(), "Wed 31 Dec 1969");
        assert_eq!(accra.time(at).date().short(), "1 Dec");
        assert_eq!(accra.time(at).date().month(), "Dec 2026");
        // An unknown zone falls back to Accra rather than failing the page.
        assert_eq!(
            ShopLocale::new(Currency::Ghs, "Mars/Olympus", at).offset_minutes,
            0
        );
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = 1_796_133_900_000;
        let locale = ShopLocale::new(Currency::Ghs, "Africa/Accra", now);
        let ago = |millis: i64| locale.ago(Some(now - millis)).to_string();
        assert_eq!(locale.ago(None).to_string(), "never");
        assert!(locale.ago(None).is_never());
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(59_999), "just now");
        assert_eq!(ago(-5 * MILLIS_PER_MINUTE), "just now", "a clock ahead");
        assert_eq!(ago(2 * MILLIS_PER_MINUTE), "2 min ago");
        assert_eq!(ago(59 * MILLIS_PER_MINUTE), "59 min ago");
        assert_eq!(ago(3 * 60 * MILLIS_PER_MINUTE + 5), "3 h ago");
        assert_eq!(ago(30 * 60 * MILLIS_PER_MINUTE), "yesterday");
        assert_eq!(ago(3 * MILLIS_PER_DAY), "3 days ago");
        assert_eq!(
            ago(30 * MILLIS_PER_DAY),
            "1 Nov 2026",
            "reads after \"since\" too"
        );
        assert_eq!(
            locale.ago(Some(now)).exact().map(|time| time.to_string()),
            Some("Tue 1 Dec 2026, 14:05".to_owned())
        );
    }

    #[test]
    fn changes_against_the_previous_period() {
        let change = Change::between(11_200, 10_000);
        assert_eq!(
            (change.direction, change.percent.as_str()),
            (Direction::Up, "12%")
        );
        assert_eq!(change.words(), "up 12%");
        assert_eq!(change.class(), "up");
        let change = Change::between(9_500, 10_000);
        assert_eq!(change.words(), "down 5%");
        assert_eq!(Change::between(10_000, 10_000).words(), "no change");
        assert_eq!(
            Change::between(10_004, 10_000).words(),
            "no change",
            "rounds to 0%"
        );
        assert_eq!(
            Change::between(10_050, 10_000).words(),
            "up 1%",
            "half rounds up"
        );
        assert_eq!(Change::between(500, 0).words(), "new");
        assert_eq!(Change::between(0, 0).direction, Direction::Same);
        assert_eq!(Change::between(0, 800).words(), "down 100%");
        // A refund-heavy previous period (negative) still compares sensibly.
        assert_eq!(Change::between(1_000, -1_000).words(), "up 200%");
        assert_eq!(Change::between(i64::MAX, 1).direction, Direction::Up);
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "sale", "sales"), "1 sale");
        assert_eq!(plural(0, "sale", "sales"), "0 sales");
        assert_eq!(plural(12, "sale", "sales"), "12 sales");
    }
}
