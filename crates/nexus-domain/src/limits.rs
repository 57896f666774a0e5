//! Bounds on what anyone may record, so that every sum kept (a sale's totals, a day's rollup, a
//! branch's on-hand) stays far inside 64 bits: an absurd amount is a clear refusal, never an
//! overflow that PostgreSQL answers with an error and SQLite stores as a float. The service
//! refuses past them and the till refuses the same, before anything is recorded.

use crate::quantity::Quantity;
use crate::time::UnixMillis;

/// A unit price, a discount or a shift's float: a billion cedis in pesewas.
pub const MAX_PRICE_MINOR: i64 = 100_000_000_000;
/// A sale's total, and any single tender: ten billion cedis in pesewas.
pub const MAX_SALE_TOTAL_MINOR: i64 = 1_000_000_000_000;
/// A quantity on one line or movement: a billion units, in thousandths.
pub const MAX_QUANTITY_MILLI: i64 = 1_000_000_000_000;
/// How far back a till or a stock movement may date something: a till offline for months still
/// syncs, but a clock reset to 1970 is refused rather than filed before every count.
pub const MAX_PAST_MILLIS: i64 = 400 * 24 * 60 * 60 * 1000;
/// How far ahead of the recording side's clock: a till's clock running a little fast.
pub const MAX_FUTURE_MILLIS: i64 = 5 * 60 * 1000;

/// A value outside the bounds, naming the input field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("{field} must be from 0 to {MAX_PRICE_MINOR} minor units")]
    Price { field: &'static str },
    #[error("{field} is too large")]
    Quantity { field: &'static str },
    #[error(
        "expected_minor must be within {MAX_SALE_TOTAL_MINOR} either way, and counted_minor from 0 to {MAX_SALE_TOTAL_MINOR}"
    )]
    ShiftCount,
    #[error("occurred_at is in the future; check the till's clock")]
    Future,
    #[error("occurred_at is more than 400 days ago; check the till's clock")]
    Past,
}

impl LimitError {
    /// The input field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            LimitError::Price { field } | LimitError::Quantity { field } => field,
            LimitError::ShiftCount => "tenders",
            LimitError::Future | LimitError::Past => "occurred_at",
        }
    }
}

/// A price, discount or float from 0 to [`MAX_PRICE_MINOR`].
pub fn check_price(price_minor: i64, field: &'static str) -> Result<i64, LimitError> {
    if (0..=MAX_PRICE_MINOR).contains(&price_minor) {
        Ok(price_minor)
    } else {
        Err(LimitError::Price { field })
    }
}

/// A quantity, either sign, of at most [`MAX_QUANTITY_MILLI`] thousandths.
pub fn check_quantity(quantity: Quantity, field: &'static str) -> Result<Quantity, LimitError> {
    if quantity.milli().abs() > MAX_QUANTITY_MILLI {
        return Err(LimitError::Quantity { field });
    }
    Ok(quantity)
}

/// One tender's figures at a shift's close: what should be there (a shortfall of refunds can
/// make it negative) and what was counted (zero or more), each within a sale's total.
pub fn check_shift_count(expected_minor: i64, counted_minor: i64) -> Result<(), LimitError> {
    let limit = MAX_SALE_TOTAL_MINOR;
    if (-limit..=limit).contains(&expected_minor) && (0..=limit).contains(&counted_minor) {
        Ok(())
    } else {
        Err(LimitError::ShiftCount)
    }
}

/// `requested` (or `now`), refused when implausibly far in the past or future of `now`.
pub fn check_occurred_at(
    requested: Option<i64>,
    now: UnixMillis,
) -> Result<UnixMillis, LimitError> {
    let at = requested.unwrap_or(now.as_millis());
    if at > now.as_millis().saturating_add(MAX_FUTURE_MILLIS) {
        return Err(LimitError::Future);
    }
    if at < now.as_millis().saturating_sub(MAX_PAST_MILLIS) {
        return Err(LimitError::Past);
    }
    Ok(UnixMillis::from_millis(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_name_their_field() {
        assert_eq!(
            check_price(MAX_PRICE_MINOR, "float_minor"),
            Ok(MAX_PRICE_MINOR)
        );
        let refused = check_price(-1, "float_minor").expect_err("negative");
        assert_eq!(refused.field(), "float_minor");
        assert_eq!(
            refused.to_string(),
            "float_minor must be from 0 to 100000000000 minor units"
        );
        let huge = Quantity::from_milli(MAX_QUANTITY_MILLI + 1);
        assert_eq!(
            check_quantity(huge, "lines").map_err(|error| error.to_string()),
            Err("lines is too large".to_owned())
        );
        assert!(check_quantity(Quantity::from_milli(-MAX_QUANTITY_MILLI), "lines").is_ok());
        assert!(check_shift_count(-MAX_SALE_TOTAL_MINOR, 0).is_ok());
        assert!(check_shift_count(0, -1).is_err());
    }

    #[test]
    fn times_a_few_minutes_fast_pass_and_a_reset_clock_does_not() {
        let now = UnixMillis::from_millis(1_767_225_600_000);
        assert_eq!(check_occurred_at(None, now), Ok(now));
        let fast = now.as_millis() + MAX_FUTURE_MILLIS;
        assert!(check_occurred_at(Some(fast), now).is_ok());
        assert_eq!(
            check_occurred_at(Some(fast + 1), now),
            Err(LimitError::Future)
        );
        assert_eq!(check_occurred_at(Some(0), now), Err(LimitError::Past));
        assert_eq!(LimitError::Past.field(), "occurred_at");
    }
}
