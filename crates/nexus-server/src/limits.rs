//! Bounds on what a request may say, so that every sum the service keeps (a sale's totals, a
//! day's rollup, a branch's on-hand) stays far inside 64 bits: an absurd amount is a clear 422,
//! never an overflow that PostgreSQL answers with an error and SQLite stores as a float.

use nexus_domain::{Quantity, UnixMillis};

use crate::error::{ApiError, ApiResult};

/// A unit price or a discount: a billion cedis in pesewas.
pub const MAX_PRICE_MINOR: i64 = 100_000_000_000;
/// A sale's total, and any single tender: ten billion cedis in pesewas.
pub const MAX_SALE_TOTAL_MINOR: i64 = 1_000_000_000_000;
/// A quantity on one line or movement: a billion units, in thousandths.
pub const MAX_QUANTITY_MILLI: i64 = 1_000_000_000_000;
/// How far back a till or a stock movement may date something: a till offline for months still
/// syncs, but a clock reset to 1970 is refused rather than filed before every count.
pub const MAX_PAST_MILLIS: i64 = 400 * 24 * 60 * 60 * 1000;
/// How far ahead of the server's clock: a till's clock running a little fast.
pub const MAX_FUTURE_MILLIS: i64 = 5 * 60 * 1000;

pub fn check_price(price_minor: i64, field: &'static str) -> ApiResult<i64> {
    if !(0..=MAX_PRICE_MINOR).contains(&price_minor) {
        return Err(ApiError::validation(format!(
            "{field} must be from 0 to {MAX_PRICE_MINOR} minor units"
        ))
        .with_field(field));
    }
    Ok(price_minor)
}

pub fn check_quantity(quantity: Quantity, field: &'static str) -> ApiResult<Quantity> {
    if quantity.milli().abs() > MAX_QUANTITY_MILLI {
        return Err(ApiError::validation(format!("{field} is too large")).with_field(field));
    }
    Ok(quantity)
}

/// `requested` (or `now`), refused when implausibly far in the past or future.
pub fn check_occurred_at(requested: Option<i64>, now: UnixMillis) -> ApiResult<UnixMillis> {
    let at = requested.unwrap_or(now.as_millis());
    if at > now.as_millis().saturating_add(MAX_FUTURE_MILLIS) {
        return Err(
            ApiError::validation("occurred_at is in the future; check the till's clock")
                .with_field("occurred_at"),
        );
    }
    if at < now.as_millis().saturating_sub(MAX_PAST_MILLIS) {
        return Err(ApiError::validation(
            "occurred_at is more than 400 days ago; check the till's clock",
        )
        .with_field("occurred_at"));
    }
    Ok(UnixMillis::from_millis(at))
}
