//! Exceptions of sales that arrived by sync: the sale happened and is kept, and what was
//! beyond the named staff member's rights is recorded for the owner to see.

use std::collections::HashSet;

use nexus_domain::{SaleId, UnixMillis, UserId};
use serde::Serialize;

use crate::StoreResult;
use crate::sql::{Backend, Conn, RowExt, query, rows_per_statement, values};

/// A sale that arrived by sync although its price or discount was beyond what the staff member
/// named in it may give: recorded (the sale happened) and flagged for the owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaleException {
    pub id: uuid::Uuid,
    pub sale_id: SaleId,
    pub station_id: Option<uuid::Uuid>,
    pub op_id: Option<uuid::Uuid>,
    pub staff_id: UserId,
    /// `price_override` or `discount_over_limit`.
    pub kind: String,
    /// For people: what was beyond the rights, e.g. "line 2: sold at 8.00, catalogue price 12.00".
    pub detail: String,
    pub detected_at: UnixMillis,
}

/// Writes the exceptions of those sales that `created` says were written now (a redelivered
/// sale's exceptions were written the first time).
pub(crate) async fn insert_exceptions<B: Backend>(
    connection: &mut Conn<B>,
    exceptions: &[SaleException],
    created: &HashSet<SaleId>,
) -> StoreResult<()> {
    let fresh: Vec<&SaleException> = exceptions
        .iter()
        .filter(|exception| created.contains(&exception.sale_id))
        .collect();
    for chunk in fresh.chunks(rows_per_statement(8)) {
        let sql = format!(
            "INSERT INTO sale_exceptions (id, sale_id, station_id, op_id, staff_id, kind, detail, \
             detected_at) VALUES {} ON CONFLICT (id) DO NOTHING",
            values("(?, ?, ?, ?, ?, ?, ?, ?)", chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for exception in chunk {
            statement = statement
                .bind(exception.id)
                .bind(exception.sale_id.as_uuid())
                .bind(exception.station_id)
                .bind(exception.op_id)
                .bind(exception.staff_id.as_uuid())
                .bind(exception.kind.as_str())
                .bind(exception.detail.as_str())
                .bind(exception.detected_at.as_millis());
        }
        statement.execute(connection).await?;
    }
    Ok(())
}

pub(crate) async fn exceptions_page<B: Backend>(
    connection: &mut Conn<B>,
    before: Option<(UnixMillis, uuid::Uuid)>,
    limit: u32,
) -> StoreResult<Vec<SaleException>> {
    let (before_at, before_id) = before.map_or((i64::MAX, uuid::Uuid::max()), |(at, id)| {
        (at.as_millis(), id)
    });
    let rows = query::<B>(
        "SELECT id, sale_id, station_id, op_id, staff_id, kind, detail, detected_at \
         FROM sale_exceptions WHERE detected_at < $1 OR (detected_at = $1 AND id < $2) \
         ORDER BY detected_at DESC, id DESC LIMIT $3",
    )
    .bind(before_at)
    .bind(before_id)
    .bind(i64::from(limit))
    .fetch_all(connection)
    .await?;
    let mut exceptions = Vec::with_capacity(rows.len());
    for row in &rows {
        exceptions.push(SaleException {
            id: row.field("id")?,
            sale_id: SaleId::from_uuid(row.field("sale_id")?),
            station_id: row.field("station_id")?,
            op_id: row.field("op_id")?,
            staff_id: UserId::from_uuid(row.field("staff_id")?),
            kind: row.field("kind")?,
            detail: row.field("detail")?,
            detected_at: UnixMillis::from_millis(row.field("detected_at")?),
        });
    }
    Ok(exceptions)
}
