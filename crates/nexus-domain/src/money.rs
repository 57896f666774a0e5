//! Currencies and amounts of money.
//!
//! Money is always an `i64` count of the currency's minor unit (pesewas for GHS, kobo for NGN,
//! whole francs for XOF, which has no minor unit). Floats never touch money: text from outside
//! is parsed digit by digit into minor units, and shown again by the same fixed rule, so an
//! amount survives any number of round trips exactly.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::values::ValueError;

/// The currencies a shop may trade in. Serialized as the ISO 4217 code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Currency {
    /// Ghanaian cedi; 100 pesewas to the cedi.
    #[serde(rename = "GHS")]
    Ghs,
    /// Nigerian naira; 100 kobo to the naira.
    #[serde(rename = "NGN")]
    Ngn,
    /// West African CFA franc; ISO 4217 gives it no minor unit.
    #[serde(rename = "XOF")]
    Xof,
}

impl Currency {
    pub const ALL: [Currency; 3] = [Currency::Ghs, Currency::Ngn, Currency::Xof];

    /// The ISO 4217 code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Ghs => "GHS",
            Currency::Ngn => "NGN",
            Currency::Xof => "XOF",
        }
    }

    /// How many decimal places the minor unit has (ISO 4217 "minor unit").
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Ghs | Currency::Ngn => 2,
            Currency::Xof => 0,
        }
    }

    /// A currency from its code, ignoring case and surrounding whitespace.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let code = text.trim();
        if code.is_empty() {
            return Err(ValueError::Empty { field: "currency" });
        }
        Currency::ALL
            .into_iter()
            .find(|currency| currency.code().eq_ignore_ascii_case(code))
            .ok_or(ValueError::Invalid("currency must be one of GHS, NGN, XOF"))
    }

    /// Minor units as major-unit text with exactly `exponent` decimals and no grouping:
    /// GHS 1250 is "12.50", -5 is "-0.05"; XOF 1500 is "1500". [`Currency::parse_major`] reads
    /// it back to the same number.
    pub fn format_minor(self, minor: i64) -> String {
        format_scaled_decimal(minor, self.exponent(), false)
    }

    /// Major-unit text to minor units: GHS "12.5" is 1250, "-3.10" is -310; XOF "1500" is 1500.
    ///
    /// Deliberately strict, because a misread amount is money lost: only ASCII digits, one
    /// optional leading '-', at most one '.', with digits on both sides of it, and no more
    /// decimals than the currency has (so "12.505" GHS and "1.5" XOF are refused rather than
    /// rounded). Thousands separators, exponents, '+' and inner spaces are refused; surrounding
    /// whitespace is trimmed.
    pub fn parse_major(self, text: &str) -> Result<i64, ValueError> {
        parse_scaled_decimal(text, self.exponent()).map_err(|error| match error {
            DecimalError::Empty => ValueError::Empty { field: "amount" },
            DecimalError::Malformed => {
                ValueError::Invalid("amount must be a plain decimal number such as 12.50")
            }
            DecimalError::TooManyDecimals => match self {
                Currency::Xof => ValueError::Invalid("XOF amounts have no decimal places"),
                Currency::Ghs | Currency::Ngn => {
                    ValueError::Invalid("amount must have at most 2 decimal places")
                }
            },
            DecimalError::Overflow => ValueError::Invalid("amount is too large"),
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Currency::parse(text)
    }
}

/// Why decimal text could not be read; each caller turns it into its own message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DecimalError {
    Empty,
    Malformed,
    TooManyDecimals,
    Overflow,
}

/// Reads plain decimal text ("-12.5") as an integer count of `10^-scale` units (-1250 for
/// scale 2). Shared by money and quantities so both accept exactly the same spelling.
/// Never rounds: more than `scale` decimals is an error, even if they are zeros.
pub(crate) fn parse_scaled_decimal(text: &str, scale: u32) -> Result<i64, DecimalError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DecimalError::Empty);
    }
    let (negative, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let (whole_digits, fraction_digits) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (unsigned, ""),
    };
    let has_point = unsigned.contains('.');
    let all_digits = |digits: &str| digits.bytes().all(|byte| byte.is_ascii_digit());
    if whole_digits.is_empty()
        || !all_digits(whole_digits)
        || (has_point && fraction_digits.is_empty())
        || !all_digits(fraction_digits)
    {
        return Err(DecimalError::Malformed);
    }
    let scale_digits = scale as usize;
    if fraction_digits.len() > scale_digits {
        return Err(DecimalError::TooManyDecimals);
    }
    // Accumulate in i128 so that the magnitude of i64::MIN (one more than i64::MAX) still fits
    // before the sign is applied; the checked steps stop absurdly long digit strings.
    let padding = std::iter::repeat_n(b'0', scale_digits - fraction_digits.len());
    let mut magnitude: i128 = 0;
    for digit in whole_digits
        .bytes()
        .chain(fraction_digits.bytes())
        .chain(padding)
    {
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|shifted| shifted.checked_add(i128::from(digit - b'0')))
            .ok_or(DecimalError::Overflow)?;
    }
    let signed = if negative { -magnitude } else { magnitude };
    i64::try_from(signed).map_err(|_| DecimalError::Overflow)
}

/// Writes an integer count of `10^-scale` units as decimal text. With `shortest`, trailing zero
/// decimals (and a bare '.') are dropped; otherwise exactly `scale` decimals are written.
/// `scale` is one of the crate's own small constants (0, 2 or 3).
pub(crate) fn format_scaled_decimal(value: i64, scale: u32, shortest: bool) -> String {
    let sign = if value < 0 { "-" } else { "" };
    // unsigned_abs, because i64::MIN has no positive i64 counterpart.
    let magnitude = value.unsigned_abs();
    let divisor = 10_u64.pow(scale);
    let whole = magnitude / divisor;
    let fraction = magnitude % divisor;
    if scale == 0 {
        // Formatting the fraction with width 0 would still print a "0".
        return format!("{sign}{whole}");
    }
    let width = scale as usize;
    let fraction_text = format!("{fraction:0width$}");
    let fraction_text = if shortest {
        fraction_text.trim_end_matches('0')
    } else {
        fraction_text.as_str()
    };
    if fraction_text.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction_text}")
    }
}

/// `numerator / denominator` rounded to the nearest integer, halves away from zero (so 2.5 is 3
/// and -2.5 is -3): the rule used for every rounded amount in the crate. None when the
/// denominator is not positive.
pub(crate) fn divide_rounding_half_away_from_zero(
    numerator: i128,
    denominator: i128,
) -> Option<i128> {
    if denominator <= 0 {
        return None;
    }
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    // Compare remainder with half the denominator as `2 * remainder >= denominator`, using
    // `remainder >= denominator - remainder` so nothing can overflow.
    let magnitude = remainder.abs();
    if magnitude >= denominator - magnitude {
        Some(quotient + numerator.signum())
    } else {
        Some(quotient)
    }
}

/// A tiny deterministic random generator (xorshift64*) for the crate's property tests, so they
/// need no extra crate and every failure replays from the seed printed in its message.
#[cfg(test)]
pub(crate) mod test_random {
    pub(crate) struct Xorshift64Star {
        state: u64,
    }

    impl Xorshift64Star {
        pub(crate) fn new(seed: u64) -> Self {
            // A zero state would stay zero forever.
            Self {
                state: if seed == 0 {
                    0x9E37_79B9_7F4A_7C15
                } else {
                    seed
                },
            }
        }

        pub(crate) fn next_u64(&mut self) -> u64 {
            self.state ^= self.state >> 12;
            self.state ^= self.state << 25;
            self.state ^= self.state >> 27;
            self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// Uniform enough in `low..=high` for tests (the modulo bias is irrelevant here).
        pub(crate) fn between(&mut self, low: i64, high: i64) -> i64 {
            assert!(low <= high, "between({low}, {high})");
            let span = (i128::from(high) - i128::from(low) + 1) as u128;
            let offset = u128::from(self.next_u64()) % span;
            (i128::from(low) + offset as i128) as i64
        }

        pub(crate) fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
            self.next_u64() % denominator < numerator
        }

        /// Any i64, biased towards the edges and small numbers where bugs live.
        pub(crate) fn any_i64(&mut self) -> i64 {
            match self.next_u64() % 8 {
                0 => [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX]
                    [(self.next_u64() % 7) as usize],
                1 | 2 => self.between(-100_000, 100_000),
                _ => self.next_u64() as i64,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_random::Xorshift64Star;
    use super::*;

    #[test]
    fn codes_and_exponents() {
        assert_eq!(
            Currency::ALL.map(Currency::code),
            ["GHS", "NGN", "XOF"],
            "codes"
        );
        assert_eq!(Currency::ALL.map(Currency::exponent), [2, 2, 0]);
        assert_eq!(Currency::Ghs.to_string(), "GHS");
    }

    #[test]
    fn currency_codes_parse_ignoring_case_and_whitespace() {
        assert_eq!(Currency::parse(" ghs "), Ok(Currency::Ghs));
        assert_eq!("Ngn".parse::<Currency>(), Ok(Currency::Ngn));
        assert_eq!(Currency::parse("XOF"), Ok(Currency::Xof));
        assert_eq!(
            Currency::parse("  "),
            Err(ValueError::Empty { field: "currency" })
        );
        for bad in ["USD", "GH S", "GHS1", "cedi"] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currencies_serialize_as_codes() {
        for currency in Currency::ALL {
            let json = serde_json::to_string(&currency).unwrap();
            assert_eq!(json, format!("\"{}\"", currency.code()));
            assert_eq!(serde_json::from_str::<Currency>(&json).unwrap(), currency);
        }
        assert!(serde_json::from_str::<Currency>("\"ghs\"").is_err());
    }

    #[test]
    fn formatting_always_shows_the_minor_unit() {
        assert_eq!(Currency::Ghs.format_minor(1250), "12.50");
        assert_eq!(Currency::Ghs.format_minor(1200), "12.00");
        assert_eq!(Currency::Ghs.format_minor(5), "0.05");
        assert_eq!(Currency::Ghs.format_minor(-5), "-0.05");
        assert_eq!(Currency::Ghs.format_minor(0), "0.00");
        assert_eq!(Currency::Ngn.format_minor(-123_456), "-1234.56");
        assert_eq!(Currency::Xof.format_minor(1500), "1500");
        assert_eq!(Currency::Xof.format_minor(-1500), "-1500");
        assert_eq!(Currency::Xof.format_minor(0), "0");
        assert_eq!(
            Currency::Ghs.format_minor(i64::MIN),
            "-92233720368547758.08"
        );
        assert_eq!(Currency::Ghs.format_minor(i64::MAX), "92233720368547758.07");
    }

    #[test]
    fn major_text_parses_to_minor_units() {
        let ghs = Currency::Ghs;
        assert_eq!(ghs.parse_major("12.5"), Ok(1250));
        assert_eq!(ghs.parse_major("12"), Ok(1200));
        assert_eq!(ghs.parse_major("0.05"), Ok(5));
        assert_eq!(ghs.parse_major("-3.10"), Ok(-310));
        assert_eq!(ghs.parse_major("  7.99\n"), Ok(799));
        assert_eq!(ghs.parse_major("-0.00"), Ok(0));
        assert_eq!(ghs.parse_major("007"), Ok(700));
        assert_eq!(ghs.parse_major("92233720368547758.07"), Ok(i64::MAX));
        assert_eq!(ghs.parse_major("-92233720368547758.08"), Ok(i64::MIN));
        assert_eq!(Currency::Xof.parse_major("1500"), Ok(1500));
        assert_eq!(Currency::Ngn.parse_major("1234.56"), Ok(123_456));
    }

    #[test]
    fn major_text_is_refused_rather_than_guessed() {
        let ghs = Currency::Ghs;
        assert_eq!(
            ghs.parse_major(" "),
            Err(ValueError::Empty { field: "amount" })
        );
        for bad in [
            "12.505",
            "12.500",
            "1,000",
            "1 000",
            "1e3",
            "+5",
            "--5",
            "-",
            "- 5",
            "5-",
            ".5",
            "5.",
            "1.2.3",
            "abc",
            "١٢",
            "92233720368547758.08",
            "-92233720368547758.09",
            "99999999999999999999999999999999999999999999999",
        ] {
            assert!(ghs.parse_major(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Currency::Xof.parse_major("1.5"),
            Err(ValueError::Invalid("XOF amounts have no decimal places"))
        );
        assert!(Currency::Xof.parse_major("1500.0").is_err());
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        let cases = [
            (5, 2, 3),
            (-5, 2, -3),
            (4, 3, 1),
            (5, 3, 2),
            (-4, 3, -1),
            (-5, 3, -2),
            (0, 7, 0),
            (7, 7, 1),
            (14_999, 10_000, 1),
            (15_000, 10_000, 2),
        ];
        for (numerator, denominator, expected) in cases {
            assert_eq!(
                divide_rounding_half_away_from_zero(numerator, denominator),
                Some(expected),
                "{numerator}/{denominator}"
            );
        }
        assert_eq!(divide_rounding_half_away_from_zero(1, 0), None);
        assert_eq!(divide_rounding_half_away_from_zero(1, -1), None);
    }

    #[test]
    fn property_format_and_parse_round_trip() {
        for seed in [1_u64, 0xC0FFEE, 0xDEAD_BEEF] {
            let mut random = Xorshift64Star::new(seed);
            for case in 0..20_000 {
                let minor = random.any_i64();
                for currency in Currency::ALL {
                    let text = currency.format_minor(minor);
                    assert_eq!(
                        currency.parse_major(&text),
                        Ok(minor),
                        "seed {seed} case {case}: {currency} {minor} formatted as {text:?}"
                    );
                }
            }
        }
    }
}
