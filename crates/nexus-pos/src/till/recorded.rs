//! The sales, refunds and voids this station recorded, with their receipts as printed.

use nexus_domain::ReceiptNumber;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::receipt::Receipt;
use crate::till::parse_uuid;
use crate::{Station, StationError, StationResult};

/// A sale, refund or void as this station recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRecord {
    pub id: Uuid,
    /// "sale", "refund" or "void".
    pub kind: String,
    pub refers_to: Option<Uuid>,
    pub cashier_id: Uuid,
    pub receipt: Receipt,
}

impl Station {
    /// A sale, refund or void this station recorded, with its receipt.
    pub async fn local_sale(&self, id: Uuid) -> StationResult<Option<LocalRecord>> {
        let mut connection = self.pool.acquire().await?;
        local_sale_on(&mut connection, id).await
    }

    /// The sale with this receipt number, for a refund at the counter.
    pub async fn sale_by_receipt(
        &self,
        receipt_number: &str,
    ) -> StationResult<Option<LocalRecord>> {
        let Ok(number) = receipt_number.parse::<ReceiptNumber>() else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT id, kind, refers_to, cashier_id, receipt FROM sales WHERE receipt_number = $1",
        )
        .bind(number.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(local_record_from_row).transpose()
    }

    /// The latest documents this station recorded, newest first.
    pub async fn recent_sales(&self, limit: u32) -> StationResult<Vec<LocalRecord>> {
        let rows = sqlx::query(
            "SELECT id, kind, refers_to, cashier_id, receipt FROM sales ORDER BY occurred_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(local_record_from_row).collect()
    }

    /// For a receipt on screen: its mobile money transaction ids that another sale here used
    /// too (the same SMS shown twice is the classic mistake, or the classic fraud).
    pub async fn momo_warnings(&self, record: &LocalRecord) -> StationResult<Vec<String>> {
        let mut connection = self.pool.acquire().await?;
        let mut warnings = Vec::new();
        for tender in record
            .receipt
            .tenders
            .iter()
            .filter(|tender| tender.kind == "momo")
        {
            let reference = tender.reference.as_deref().unwrap_or("");
            let others = momo_receipts_on(&mut connection, reference, Some(record.id)).await?;
            if !others.is_empty() {
                warnings.push(format!(
                    "mobile money transaction {reference} also appears on receipt {}: check the SMS",
                    others.join(", ")
                ));
            }
        }
        Ok(warnings)
    }

    /// The receipts here that took mobile-money transaction `reference`: for the payment
    /// screen, as the cashier types the id from the SMS.
    pub async fn momo_reference_receipts(&self, reference: &str) -> StationResult<Vec<String>> {
        let mut connection = self.pool.acquire().await?;
        momo_receipts_on(&mut connection, reference.trim(), None).await
    }
}

/// The receipt numbers of the sales here (other than `except`) with a mobile-money tender of
/// transaction id `reference`, oldest first.
pub(crate) async fn momo_receipts_on(
    connection: &mut sqlx::SqliteConnection,
    reference: &str,
    except: Option<Uuid>,
) -> StationResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT sales.receipt_number FROM tenders JOIN sales ON sales.id = tenders.sale_id \
         WHERE tenders.kind = 'momo' AND tenders.reference = $1 AND ($2 IS NULL OR tenders.sale_id <> $2) \
         ORDER BY sales.occurred_at",
    )
    .bind(reference)
    .bind(except.map(|id| id.to_string()))
    .fetch_all(&mut *connection)
    .await?)
}

pub(crate) fn local_record_from_row(row: &sqlx::sqlite::SqliteRow) -> StationResult<LocalRecord> {
    Ok(LocalRecord {
        id: parse_uuid(&row.try_get::<String, _>("id")?, "sale id")?,
        kind: row.try_get("kind")?,
        refers_to: row
            .try_get::<Option<String>, _>("refers_to")?
            .map(|text| parse_uuid(&text, "sale id"))
            .transpose()?,
        cashier_id: parse_uuid(&row.try_get::<String, _>("cashier_id")?, "cashier id")?,
        receipt: serde_json::from_str(&row.try_get::<String, _>("receipt")?)
            .map_err(|error| StationError::Damaged(format!("a stored receipt: {error}")))?,
    })
}

pub(crate) async fn local_sale_on(
    connection: &mut sqlx::SqliteConnection,
    id: Uuid,
) -> StationResult<Option<LocalRecord>> {
    let row =
        sqlx::query("SELECT id, kind, refers_to, cashier_id, receipt FROM sales WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *connection)
            .await?;
    row.as_ref().map(local_record_from_row).transpose()
}
