//! Shifts: a cashier opens with a float and closes with what was counted, expected against
//! counted per tender, offline.

use std::collections::BTreeMap;

use nexus_domain::limits::{check_price, check_shift_count};
use nexus_domain::{Clock, UserId};
use nexus_sync::{ShiftCloseOp, ShiftOpenOp, ShiftTenderCount};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::till::sign_in::SignedIn;
use crate::till::{invalid, parse_uuid};
use crate::{Station, StationError, StationResult};

/// The figures of one tender at a shift's close.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenderCount {
    /// "cash", "momo" or "card".
    pub tender: String,
    pub expected_minor: i64,
    pub counted_minor: i64,
    /// Counted less expected: negative is a shortage.
    pub difference_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub id: Uuid,
    pub cashier_id: Uuid,
    pub opened_at: i64,
    pub float_minor: i64,
    pub closed_at: Option<i64>,
    pub tenders: Vec<TenderCount>,
}

/// Without a setting of the station's own, a float above this many major units of the shop's
/// currency (GHS 2,000.00) is confirmed before the shift opens: more than a small shop's
/// drawer usually starts with, and what "200" typed onto "0.00" would make.
pub const DEFAULT_FLOAT_CONFIRM_ABOVE_MAJOR: i64 = 2_000;

/// Where the station keeps its own float limit, in minor units.
const FLOAT_CONFIRM_KEY: &str = "float_confirm_above_minor";

impl Station {
    /// The float above which opening a shift asks the cashier to confirm, in minor units of
    /// `currency`: the station's setting, or [`DEFAULT_FLOAT_CONFIRM_ABOVE_MAJOR`].
    pub async fn float_confirm_above(
        &self,
        currency: nexus_domain::Currency,
    ) -> StationResult<i64> {
        let set = self
            .meta(FLOAT_CONFIRM_KEY)
            .await?
            .and_then(|value| value.parse::<i64>().ok());
        Ok(set.unwrap_or_else(|| {
            DEFAULT_FLOAT_CONFIRM_ABOVE_MAJOR.saturating_mul(10_i64.pow(currency.exponent()))
        }))
    }

    /// Sets the station's float limit (minor units); `None` goes back to the default.
    pub async fn set_float_confirm_above(&self, minor: Option<i64>) -> StationResult<()> {
        match minor {
            Some(minor) if minor < 0 => Err(invalid("the float limit cannot be below zero")),
            Some(minor) => self.set_meta(FLOAT_CONFIRM_KEY, &minor.to_string()).await,
            None => self.clear_meta(FLOAT_CONFIRM_KEY).await,
        }
    }

    /// The cashier's open shift at this station, if any.
    pub async fn open_shift_of(&self, cashier: Uuid) -> StationResult<Option<Shift>> {
        let row = sqlx::query(
            "SELECT id, cashier_id, opened_at, float_minor, closed_at, close FROM shifts \
             WHERE cashier_id = $1 AND closed_at IS NULL",
        )
        .bind(cashier.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(shift_from_row).transpose()
    }

    /// Opens a shift with `float_minor` of cash in the drawer.
    pub async fn open_shift(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        float_minor: i64,
    ) -> StationResult<Shift> {
        check_price(float_minor, "float_minor")
            .map_err(|_| invalid("the float must be zero or more"))?;
        if self.open_shift_of(cashier.id).await?.is_some() {
            return Err(invalid(format!(
                "{} already has an open shift here; close it first",
                cashier.name
            )));
        }
        let now = clock.now();
        let id = nexus_domain::ids::new_v7(now);
        let device = Self::device(&self.required("station_id").await?)?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO shifts (id, cashier_id, opened_at, float_minor) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.to_string())
        .bind(cashier.id.to_string())
        .bind(now.as_millis())
        .bind(float_minor)
        .execute(&mut *transaction)
        .await?;
        let payload = ShiftOpenOp {
            cashier_id: UserId::from_uuid(cashier.id),
            opened_at: now.as_millis(),
            float_minor,
        };
        Self::append_op(&mut transaction, device, now, id, &payload).await?;
        transaction.commit().await?;
        Ok(Shift {
            id,
            cashier_id: cashier.id,
            opened_at: now.as_millis(),
            float_minor,
            closed_at: None,
            tenders: Vec::new(),
        })
    }

    /// The mobile money of a shift's sales that no network confirmed: taken offline with the
    /// SMS's transaction id, it is verified only when the owner uploads the statement.
    pub async fn unverified_momo_for_shift(&self, shift_id: Uuid) -> StationResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM tenders WHERE shift_id = $1 \
             AND kind = 'momo' AND (reference IS NULL \
             OR reference NOT IN (SELECT reference FROM momo_confirmed))",
        )
        .bind(shift_id.to_string())
        .fetch_one(&self.pool)
        .await?)
    }

    /// What the drawer and the other tenders should hold for a shift now: cash is the float
    /// plus cash taken less change given, less cash refunded, plus cash paid on account; mobile
    /// money and card are what was taken (on account too) less what went back that way.
    pub async fn expected_for_shift(&self, shift: &Shift) -> StationResult<BTreeMap<String, i64>> {
        let mut expected: BTreeMap<String, i64> = ["cash", "momo", "card"]
            .into_iter()
            .map(|kind| (kind.to_owned(), 0))
            .collect();
        // Credit is owed, not taken: nothing of it is in the drawer or the wallet.
        let rows = sqlx::query(
            "SELECT kind, SUM(amount_minor) AS amount FROM tenders \
             WHERE shift_id = $1 AND kind <> 'credit' GROUP BY kind",
        )
        .bind(shift.id.to_string())
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            *expected.entry(kind).or_insert(0) += row.try_get::<i64, _>("amount")?;
        }
        // Payments on account taken in the shift are in its drawer or wallet too.
        let mut connection = self.pool.acquire().await?;
        for (kind, paid) in
            crate::till::accounts::shift_payments_on(&mut connection, &shift.id.to_string()).await?
        {
            *expected.entry(kind).or_insert(0) += paid;
        }
        drop(connection);
        let change: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(change_minor), 0) FROM sales WHERE shift_id = $1",
        )
        .bind(shift.id.to_string())
        .fetch_one(&self.pool)
        .await?;
        *expected.entry("cash".to_owned()).or_insert(0) += shift.float_minor - change;
        Ok(expected)
    }

    /// Closes the cashier's open shift with what they counted per tender ("cash", "momo",
    /// "card"; a tender not given counts as zero). Works offline; the figures travel as an op.
    pub async fn close_shift(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        counted: &BTreeMap<String, i64>,
    ) -> StationResult<Shift> {
        let mut shift = self
            .open_shift_of(cashier.id)
            .await?
            .ok_or_else(|| invalid(format!("{} has no open shift here", cashier.name)))?;
        if let Some(unknown) = counted
            .keys()
            .find(|kind| !matches!(kind.as_str(), "cash" | "momo" | "card"))
        {
            return Err(invalid(format!(
                "{unknown:?} is not a tender: count cash, momo and card"
            )));
        }
        let expected = self.expected_for_shift(&shift).await?;
        for (tender, counted_minor) in counted {
            let expected_minor = expected.get(tender).copied().unwrap_or(0);
            check_shift_count(expected_minor, *counted_minor)
                .map_err(|_| invalid("counted amounts must be zero or more"))?;
        }
        shift.tenders = expected
            .iter()
            .map(|(tender, expected_minor)| {
                let counted_minor = counted.get(tender).copied().unwrap_or(0);
                TenderCount {
                    tender: tender.clone(),
                    expected_minor: *expected_minor,
                    counted_minor,
                    difference_minor: counted_minor - expected_minor,
                }
            })
            .collect();
        let now = clock.now();
        shift.closed_at = Some(now.as_millis());
        let device = Self::device(&self.required("station_id").await?)?;
        let close = serde_json::to_string(&shift.tenders)
            .map_err(|error| invalid(format!("shift close: {error}")))?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "UPDATE shifts SET closed_at = $2, close = $3 WHERE id = $1 AND closed_at IS NULL",
        )
        .bind(shift.id.to_string())
        .bind(now.as_millis())
        .bind(close)
        .execute(&mut *transaction)
        .await?;
        let payload = ShiftCloseOp {
            cashier_id: UserId::from_uuid(cashier.id),
            closed_at: now.as_millis(),
            tenders: shift
                .tenders
                .iter()
                .map(|count| {
                    Ok(ShiftTenderCount {
                        tender: count.tender.parse().map_err(|_| {
                            StationError::Damaged(format!("{:?} is not a tender", count.tender))
                        })?,
                        expected_minor: count.expected_minor,
                        counted_minor: count.counted_minor,
                    })
                })
                .collect::<StationResult<_>>()?,
        };
        Self::append_op(&mut transaction, device, now, shift.id, &payload).await?;
        transaction.commit().await?;
        Ok(shift)
    }
}

pub(crate) fn shift_from_row(row: &sqlx::sqlite::SqliteRow) -> StationResult<Shift> {
    Ok(Shift {
        id: parse_uuid(&row.try_get::<String, _>("id")?, "shift id")?,
        cashier_id: parse_uuid(&row.try_get::<String, _>("cashier_id")?, "cashier id")?,
        opened_at: row.try_get("opened_at")?,
        float_minor: row.try_get("float_minor")?,
        closed_at: row.try_get("closed_at")?,
        tenders: row
            .try_get::<Option<String>, _>("close")?
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|error| StationError::Damaged(format!("a stored shift close: {error}")))?
            .unwrap_or_default(),
    })
}
