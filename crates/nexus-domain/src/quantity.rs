//! Exact quantities of goods.
//!
//! Shops sell by the piece and by weight or volume (1.5 kg of rice, 0.25 l of oil), so a
//! quantity is an `i64` count of thousandths, never a float: three decimals are as fine as a
//! kitchen scale reads, and every sum of quantities stays exact.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::money::{
    DecimalError, divide_rounding_half_away_from_zero, format_scaled_decimal, parse_scaled_decimal,
};
use crate::values::ValueError;

/// How many decimals a quantity keeps: it counts thousandths.
const QUANTITY_DECIMALS: u32 = 3;
const MILLI_PER_UNIT: i64 = 1000;

/// An exact quantity in thousandths (goods sold by weight: 1.5 kg = 1500). Never a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(i64);

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);
    pub const ONE: Quantity = Quantity(MILLI_PER_UNIT);

    pub const fn from_milli(milli: i64) -> Self {
        Self(milli)
    }

    /// The quantity in thousandths.
    pub const fn milli(self) -> i64 {
        self.0
    }

    /// Whole units (pieces); None when `units * 1000` does not fit.
    pub fn from_whole(units: i64) -> Option<Self> {
        units.checked_mul(MILLI_PER_UNIT).map(Self)
    }

    /// Decimal text to a quantity: "2" is 2000, "1.5" is 1500, "0.125" is 125, "-3" is -3000.
    /// Same spelling rules as money (ASCII digits, optional leading '-', digits on both sides
    /// of a single '.', surrounding whitespace trimmed). More than 3 decimals is refused, even
    /// "1.0000", because silently rounding a weight would change what is charged.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        parse_scaled_decimal(text, QUANTITY_DECIMALS)
            .map(Self)
            .map_err(|error| match error {
                DecimalError::Empty => ValueError::Empty { field: "quantity" },
                DecimalError::Malformed => {
                    ValueError::Invalid("quantity must be a plain decimal number such as 1.5")
                }
                DecimalError::TooManyDecimals => {
                    ValueError::Invalid("quantity must have at most 3 decimal places")
                }
                DecimalError::Overflow => ValueError::Invalid("quantity is too large"),
            })
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    pub fn checked_neg(self) -> Option<Self> {
        self.0.checked_neg().map(Self)
    }
}

/// The shortest exact decimal: 2000 is "2", 1500 is "1.5", 125 is "0.125", -250 is "-0.25".
/// [`Quantity::parse`] reads it back to the same value.
impl fmt::Display for Quantity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&format_scaled_decimal(self.0, QUANTITY_DECIMALS, true))
    }
}

impl FromStr for Quantity {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Quantity::parse(text)
    }
}

/// Serialized as its exact decimal string ("1.5"), so no reader ever sees a float.
impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Accepts a decimal string ("1.5") or a JSON number (1.5, 2, -3). Clients in JavaScript send
/// numbers, so a float is accepted, but only through its shortest round-trip text: 1.5 reads
/// as "1.5" and is exact, while 0.1234 reads as "0.1234" and is refused like the string would be.
impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(
            "a quantity with at most 3 decimals, as a string such as \"1.5\" or a number",
        )
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Quantity, E> {
        Quantity::parse(text).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, units: i64) -> Result<Quantity, E> {
        Quantity::from_whole(units).ok_or_else(|| E::custom("quantity is too large"))
    }

    fn visit_u64<E: de::Error>(self, units: u64) -> Result<Quantity, E> {
        i64::try_from(units)
            .ok()
            .and_then(Quantity::from_whole)
            .ok_or_else(|| E::custom("quantity is too large"))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Quantity, E> {
        // Rust prints an f64 as the shortest text that reads back to the same f64, never in
        // exponent form; NaN and infinities print as words and are refused by the parser.
        Quantity::parse(&number.to_string()).map_err(E::custom)
    }
}

/// The amount for `quantity` units at `unit_price_minor` each, in minor units, rounded half
/// away from zero to a whole minor unit (1.5 kg at GHS 7.99 is 1198.5 pesewas, charged 1199).
/// The product is taken in i128 so it cannot overflow; None when the result does not fit i64.
pub fn line_amount(unit_price_minor: i64, quantity: Quantity) -> Option<i64> {
    let thousandths_of_minor = i128::from(unit_price_minor) * i128::from(quantity.milli());
    let amount =
        divide_rounding_half_away_from_zero(thousandths_of_minor, i128::from(MILLI_PER_UNIT))?;
    i64::try_from(amount).ok()
}

/// A line quantity above this many units is more likely a barcode typed into the quantity box,
/// or a key held down, than a sale: the cashier is asked before it goes in the cart.
pub const QUANTITY_CONFIRM_ABOVE_UNITS: i64 = 9_999;

/// Why a quantity the cashier typed is asked about before it goes in the cart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantityDoubt {
    /// Above [`QUANTITY_CONFIRM_ABOVE_UNITS`].
    Large,
    /// Above what the branch has on hand. Selling it still goes ahead when confirmed: stock
    /// may go negative, and a count later puts the ledger right.
    AboveOnHand(Quantity),
}

/// Whether `quantity` on a line should be confirmed first, given `on_hand` at the branch when
/// the branch keeps a count of the product (`None`: it never had a movement, so there is
/// nothing to compare with).
pub fn quantity_to_confirm(quantity: Quantity, on_hand: Option<Quantity>) -> Option<QuantityDoubt> {
    if quantity.milli() > QUANTITY_CONFIRM_ABOVE_UNITS.saturating_mul(MILLI_PER_UNIT) {
        return Some(QuantityDoubt::Large);
    }
    match on_hand {
        Some(on_hand) if quantity > on_hand => Some(QuantityDoubt::AboveOnHand(on_hand)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_quantities_and_more_than_on_hand_are_asked_about() {
        let units = |count: i64| Quantity::from_milli(count * 1000);
        assert_eq!(quantity_to_confirm(units(9_999), None), None);
        assert_eq!(
            quantity_to_confirm(Quantity::from_milli(9_999_001), None),
            Some(QuantityDoubt::Large)
        );
        assert_eq!(quantity_to_confirm(units(3), Some(units(3))), None);
        assert_eq!(
            quantity_to_confirm(units(4), Some(units(3))),
            Some(QuantityDoubt::AboveOnHand(units(3)))
        );
        assert_eq!(
            quantity_to_confirm(units(1), Some(units(-2))),
            Some(QuantityDoubt::AboveOnHand(units(-2)))
        );
        assert_eq!(
            quantity_to_confirm(units(20_000), Some(units(50_000))),
            Some(QuantityDoubt::Large)
        );
    }
    use crate::money::test_random::Xorshift64Star;

    #[test]
    fn constants_and_constructors() {
        assert_eq!(Quantity::ZERO.milli(), 0);
        assert_eq!(Quantity::ONE.milli(), 1000);
        assert_eq!(Quantity::default(), Quantity::ZERO);
        assert_eq!(Quantity::from_whole(3), Some(Quantity::from_milli(3000)));
        assert_eq!(Quantity::from_whole(i64::MAX / 999), None);
        assert!(Quantity::ONE.is_positive() && !Quantity::ONE.is_negative());
        assert!(!Quantity::ZERO.is_positive() && !Quantity::ZERO.is_negative());
        assert!(Quantity::from_milli(-1).is_negative());
    }

    #[test]
    fn checked_arithmetic() {
        let half = Quantity::from_milli(500);
        assert_eq!(half.checked_add(half), Some(Quantity::ONE));
        assert_eq!(
            half.checked_sub(Quantity::ONE),
            Some(Quantity::from_milli(-500))
        );
        assert_eq!(half.checked_neg(), Some(Quantity::from_milli(-500)));
        assert_eq!(Quantity::from_milli(i64::MAX).checked_add(half), None);
        assert_eq!(Quantity::from_milli(i64::MIN).checked_sub(half), None);
        assert_eq!(Quantity::from_milli(i64::MIN).checked_neg(), None);
    }

    #[test]
    fn parses_decimal_text() {
        let cases = [
            ("2", 2000),
            ("1.5", 1500),
            ("0.125", 125),
            ("-3", -3000),
            ("-0.25", -250),
            (" 1.000 ", 1000),
            ("0", 0),
            ("-0", 0),
            ("9223372036854775.807", i64::MAX),
            ("-9223372036854775.808", i64::MIN),
        ];
        for (text, milli) in cases {
            assert_eq!(
                Quantity::parse(text),
                Ok(Quantity::from_milli(milli)),
                "{text}"
            );
            assert_eq!(
                text.parse::<Quantity>(),
                Ok(Quantity::from_milli(milli)),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_an_exact_quantity() {
        assert_eq!(
            Quantity::parse(""),
            Err(ValueError::Empty { field: "quantity" })
        );
        assert_eq!(
            Quantity::parse("1.0000"),
            Err(ValueError::Invalid(
                "quantity must have at most 3 decimal places"
            ))
        );
        for bad in [
            "abc",
            "1e3",
            "1.2.3",
            "+1",
            "1,5",
            "1 5",
            ".5",
            "1.",
            "-",
            "NaN",
            "inf",
            "9223372036854775.808",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_the_shortest_exact_decimal() {
        let cases = [
            (2000, "2"),
            (1500, "1.5"),
            (125, "0.125"),
            (-250, "-0.25"),
            (0, "0"),
            (1, "0.001"),
            (-1, "-0.001"),
            (10_010, "10.01"),
            (i64::MIN, "-9223372036854775.808"),
        ];
        for (milli, text) in cases {
            assert_eq!(Quantity::from_milli(milli).to_string(), text, "{milli}");
        }
    }

    #[test]
    fn serde_uses_exact_strings_and_accepts_numbers() {
        let quantity = Quantity::from_milli(1500);
        assert_eq!(serde_json::to_string(&quantity).unwrap(), "\"1.5\"");
        let read = |json: &str| serde_json::from_str::<Quantity>(json).map(Quantity::milli);
        assert_eq!(read("\"1.5\"").unwrap(), 1500);
        assert_eq!(read("1.5").unwrap(), 1500);
        assert_eq!(read("2").unwrap(), 2000);
        assert_eq!(read("-3").unwrap(), -3000);
        assert_eq!(read("0.125").unwrap(), 125);
        assert_eq!(read("0.1").unwrap(), 100);
        assert_eq!(read("2.0").unwrap(), 2000);
        assert!(read("0.1234").is_err());
        assert!(read("\"0.1234\"").is_err());
        assert!(read("\"abc\"").is_err());
        assert!(read("true").is_err());
        assert!(read("null").is_err());
        assert!(read("18446744073709551615").is_err());
        assert!(read("9223372036854775807").is_err());
        let message = read("0.1234").unwrap_err().to_string();
        assert!(message.contains("at most 3 decimal places"), "{message}");
    }

    #[test]
    fn line_amounts_round_half_away_from_zero() {
        assert_eq!(line_amount(799, Quantity::from_milli(1500)), Some(1199));
        assert_eq!(line_amount(1200, Quantity::ONE), Some(1200));
        assert_eq!(line_amount(1, Quantity::from_milli(500)), Some(1));
        assert_eq!(line_amount(1, Quantity::from_milli(499)), Some(0));
        assert_eq!(line_amount(-1, Quantity::from_milli(500)), Some(-1));
        assert_eq!(line_amount(333, Quantity::from_milli(3)), Some(1));
        assert_eq!(line_amount(i64::MAX, Quantity::ONE), Some(i64::MAX));
        assert_eq!(line_amount(i64::MAX, Quantity::from_milli(1001)), None);
        assert_eq!(line_amount(i64::MIN, Quantity::from_milli(i64::MIN)), None);
    }

    #[test]
    fn property_display_and_parse_round_trip() {
        for seed in [7_u64, 0xBADC0DE, 0x5EED] {
            let mut random = Xorshift64Star::new(seed);
            for case in 0..20_000 {
                let quantity = Quantity::from_milli(random.any_i64());
                let text = quantity.to_string();
                assert_eq!(
                    Quantity::parse(&text),
                    Ok(quantity),
                    "seed {seed} case {case}: {quantity:?} displayed as {text:?}"
                );
                let json = serde_json::to_string(&quantity).unwrap();
                assert_eq!(
                    serde_json::from_str::<Quantity>(&json).ok(),
                    Some(quantity),
                    "seed {seed} case {case}: {json}"
                );
            }
        }
    }
}
