//! Cashiers' shifts: a float at the open, expected against counted per tender at the close.

use std::collections::HashMap;

use async_trait::async_trait;
use nexus_domain::{BranchId, TenantId, UnixMillis, UserId};
use serde::Serialize;

use super::branches::check_branch_open;
use super::sales::tender_kind;
use super::{TenantAccess, with_tenant};
use crate::retail::TenderKind;
use crate::sql::{Backend, Conn, RowExt, placeholders, query, rows_per_statement, values};
use crate::{StoreError, StoreResult};

/// A shift being opened at a station. Its id comes from the till, so a retry names it again.
#[derive(Clone, Debug)]
pub struct NewShift {
    pub id: uuid::Uuid,
    pub branch: BranchId,
    pub station: uuid::Uuid,
    pub cashier: UserId,
    pub opened_at: UnixMillis,
    pub float_minor: i64,
    pub recorded_at: UnixMillis,
}

/// One tender's figures at a shift's close: what the till expected and what was counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShiftTender {
    pub tender: TenderKind,
    pub expected_minor: i64,
    pub counted_minor: i64,
}

/// The close of a shift.
#[derive(Clone, Debug)]
pub struct ShiftClose {
    pub id: uuid::Uuid,
    pub closed_by: UserId,
    pub closed_at: UnixMillis,
    /// At most one entry per tender kind.
    pub tenders: Vec<ShiftTender>,
}

/// What closing a shift did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseOutcome {
    Closed(ShiftRecord),
    /// It was already closed with these same figures: a retry of the same close.
    AlreadyClosed(ShiftRecord),
    /// It was already closed with other figures; nothing changed.
    ClosedDifferently(ShiftRecord),
    /// No shift has this id.
    UnknownShift,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Shift))]
pub struct ShiftRecord {
    pub id: uuid::Uuid,
    pub branch_id: BranchId,
    pub station_id: uuid::Uuid,
    pub cashier_id: UserId,
    pub opened_at: UnixMillis,
    pub float_minor: i64,
    /// `None` while the shift is open.
    pub closed_at: Option<UnixMillis>,
    pub closed_by: Option<UserId>,
    /// The close figures, in tender order (cash, momo, card); empty while open.
    pub tenders: Vec<ShiftTender>,
}

/// Which shifts to list: opened in `from..to` (Unix ms, `to` excluded), at the given branches
/// or all.
#[derive(Clone, Debug)]
pub struct ShiftQuery {
    pub branches: Option<Vec<BranchId>>,
    pub from: Option<UnixMillis>,
    pub to: Option<UnixMillis>,
    pub limit: u32,
}

#[async_trait]
pub trait ShiftStore: Send + Sync + 'static {
    /// Opens a shift. Idempotent on the shift's id: when it exists, nothing is written and the
    /// recorded shift comes back with `false` (the caller judges whether it is the same one).
    async fn open_shift(
        &self,
        tenant: TenantId,
        shift: NewShift,
    ) -> StoreResult<(ShiftRecord, bool)>;
    async fn get_shift(
        &self,
        tenant: TenantId,
        shift: uuid::Uuid,
    ) -> StoreResult<Option<ShiftRecord>>;
    /// Closes a shift with its figures, in one transaction with the shift's row locked. A
    /// closed shift is never changed: closing it again says whether the figures were the same.
    async fn close_shift(&self, tenant: TenantId, close: ShiftClose) -> StoreResult<CloseOutcome>;
    /// Shifts with their close figures, newest opened first, at most `query.limit`.
    async fn list_shifts(
        &self,
        tenant: TenantId,
        query: &ShiftQuery,
    ) -> StoreResult<Vec<ShiftRecord>>;
}

const SHIFT_COLUMNS: &str =
    "id, branch_id, station_id, cashier_id, opened_at, float_minor, closed_at, closed_by";

/// Close figures in one order (cash, momo, card), so that two closes compare equal whatever
/// order their tills listed the tenders in.
fn sort_shift_tenders(tenders: &mut [ShiftTender]) {
    tenders.sort_by_key(|tender| tender.tender as u8);
}

fn shift_from_row<R: RowExt>(row: &R, tenders: Vec<ShiftTender>) -> sqlx::Result<ShiftRecord>
where
    R::Database: Backend,
{
    Ok(ShiftRecord {
        id: row.field("id")?,
        branch_id: BranchId::from_uuid(row.field("branch_id")?),
        station_id: row.field("station_id")?,
        cashier_id: UserId::from_uuid(row.field("cashier_id")?),
        opened_at: UnixMillis::from_millis(row.field("opened_at")?),
        float_minor: row.field("float_minor")?,
        closed_at: row
            .field::<Option<i64>>("closed_at")?
            .map(UnixMillis::from_millis),
        closed_by: row
            .field::<Option<uuid::Uuid>>("closed_by")?
            .map(UserId::from_uuid),
        tenders,
    })
}

/// The close figures of the given shifts, by shift.
async fn read_shift_tenders<B: Backend>(
    connection: &mut Conn<B>,
    shifts: &[uuid::Uuid],
) -> StoreResult<HashMap<uuid::Uuid, Vec<ShiftTender>>> {
    let mut found: HashMap<uuid::Uuid, Vec<ShiftTender>> = HashMap::new();
    for chunk in shifts.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT shift_id, tender, expected_minor, counted_minor FROM shift_tenders WHERE shift_id IN ({})",
            placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for shift in chunk {
            statement = statement.bind(*shift);
        }
        for row in statement.fetch_all(connection).await? {
            let tender: String = row.field("tender")?;
            found
                .entry(row.field("shift_id")?)
                .or_default()
                .push(ShiftTender {
                    tender: tender_kind(&tender)?,
                    expected_minor: row.field("expected_minor")?,
                    counted_minor: row.field("counted_minor")?,
                });
        }
    }
    for tenders in found.values_mut() {
        sort_shift_tenders(tenders);
    }
    Ok(found)
}

/// One shift with its close figures; with `lock`, its row stays locked until commit (on
/// PostgreSQL; SQLite's writer lock covers the whole transaction anyway).
async fn read_shift<B: Backend>(
    connection: &mut Conn<B>,
    shift: uuid::Uuid,
    lock: bool,
) -> StoreResult<Option<ShiftRecord>> {
    let lock = if lock { B::LOCK_ROWS } else { "" };
    let sql = format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE id = $1{lock}");
    let Some(row) = query::<B>(&sql)
        .bind(shift)
        .fetch_optional(connection)
        .await?
    else {
        return Ok(None);
    };
    let tenders = read_shift_tenders::<B>(connection, &[shift])
        .await?
        .remove(&shift)
        .unwrap_or_default();
    Ok(Some(shift_from_row(&row, tenders)?))
}

async fn read_existing_shift<B: Backend>(
    connection: &mut Conn<B>,
    shift: uuid::Uuid,
) -> StoreResult<ShiftRecord> {
    read_shift::<B>(connection, shift, false)
        .await?
        .ok_or(StoreError::Refused("shift vanished".into()))
}

async fn open<B: Backend>(
    connection: &mut Conn<B>,
    shift: &NewShift,
) -> StoreResult<(ShiftRecord, bool)> {
    check_branch_open::<B>(connection, shift.branch).await?;
    let created: Option<uuid::Uuid> = query::<B>(
        "INSERT INTO shifts (id, branch_id, station_id, cashier_id, opened_at, float_minor, closed_at, \
         closed_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7) \
         ON CONFLICT (id) DO NOTHING RETURNING id",
    )
    .bind(shift.id)
    .bind(shift.branch.as_uuid())
    .bind(shift.station)
    .bind(shift.cashier.as_uuid())
    .bind(shift.opened_at.as_millis())
    .bind(shift.float_minor)
    .bind(shift.recorded_at.as_millis())
    .scalar_optional(connection)
    .await?;
    Ok((
        read_existing_shift::<B>(connection, shift.id).await?,
        created.is_some(),
    ))
}

async fn close<B: Backend>(
    connection: &mut Conn<B>,
    close: ShiftClose,
) -> StoreResult<CloseOutcome> {
    // Locked, so that a close and its own retry are judged one after the other.
    let Some(shift) = read_shift::<B>(connection, close.id, true).await? else {
        return Ok(CloseOutcome::UnknownShift);
    };
    let mut tenders = close.tenders;
    sort_shift_tenders(&mut tenders);
    if shift.closed_at.is_some() {
        // The time is not compared: a retry is corrected by another push's clock reading, so
        // only the figures say whether it is the same close.
        return Ok(if shift.tenders == tenders {
            CloseOutcome::AlreadyClosed(shift)
        } else {
            CloseOutcome::ClosedDifferently(shift)
        });
    }
    query::<B>("UPDATE shifts SET closed_at = $1, closed_by = $2 WHERE id = $3")
        .bind(close.closed_at.as_millis())
        .bind(close.closed_by.as_uuid())
        .bind(close.id)
        .execute(connection)
        .await?;
    if !tenders.is_empty() {
        let sql = format!(
            "INSERT INTO shift_tenders (shift_id, tender, expected_minor, counted_minor) VALUES {}",
            values("(?, ?, ?, ?)", tenders.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for tender in &tenders {
            statement = statement
                .bind(close.id)
                .bind(tender.tender.as_str())
                .bind(tender.expected_minor)
                .bind(tender.counted_minor);
        }
        statement.execute(connection).await?;
    }
    Ok(CloseOutcome::Closed(
        read_existing_shift::<B>(connection, close.id).await?,
    ))
}

async fn list<B: Backend>(
    connection: &mut Conn<B>,
    wanted: &ShiftQuery,
) -> StoreResult<Vec<ShiftRecord>> {
    let mut conditions = Vec::new();
    let mut next = 1;
    if let Some(branches) = &wanted.branches {
        conditions.push(format!(
            "branch_id IN ({})",
            placeholders(branches.len(), next)
        ));
        next += branches.len();
    }
    if wanted.from.is_some() {
        conditions.push(format!("opened_at >= ${next}"));
        next += 1;
    }
    if wanted.to.is_some() {
        conditions.push(format!("opened_at < ${next}"));
        next += 1;
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {SHIFT_COLUMNS} FROM shifts{filter} ORDER BY opened_at DESC, id DESC LIMIT ${next}"
    );
    let mut statement = query::<B>(&sql);
    for branch in wanted.branches.iter().flatten() {
        statement = statement.bind(branch.as_uuid());
    }
    if let Some(from) = wanted.from {
        statement = statement.bind(from.as_millis());
    }
    if let Some(to) = wanted.to {
        statement = statement.bind(to.as_millis());
    }
    let rows = statement
        .bind(i64::from(wanted.limit))
        .fetch_all(connection)
        .await?;
    let ids = rows
        .iter()
        .map(|row| row.field("id"))
        .collect::<Result<Vec<uuid::Uuid>, _>>()?;
    let mut tenders = read_shift_tenders::<B>(connection, &ids).await?;
    let mut shifts = Vec::with_capacity(rows.len());
    for (row, id) in rows.iter().zip(&ids) {
        shifts.push(shift_from_row(row, tenders.remove(id).unwrap_or_default())?);
    }
    Ok(shifts)
}

#[async_trait]
impl<S: TenantAccess> ShiftStore for S {
    async fn open_shift(
        &self,
        tenant: TenantId,
        shift: NewShift,
    ) -> StoreResult<(ShiftRecord, bool)> {
        with_tenant(self, tenant, async |connection| {
            open::<S::Db>(connection, &shift).await
        })
        .await
    }

    async fn get_shift(
        &self,
        tenant: TenantId,
        shift: uuid::Uuid,
    ) -> StoreResult<Option<ShiftRecord>> {
        with_tenant(self, tenant, async |connection| {
            read_shift::<S::Db>(connection, shift, false).await
        })
        .await
    }

    async fn close_shift(
        &self,
        tenant: TenantId,
        shift_close: ShiftClose,
    ) -> StoreResult<CloseOutcome> {
        with_tenant(self, tenant, async |connection| {
            close::<S::Db>(connection, shift_close).await
        })
        .await
    }

    async fn list_shifts(
        &self,
        tenant: TenantId,
        wanted: &ShiftQuery,
    ) -> StoreResult<Vec<ShiftRecord>> {
        if wanted.branches.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        with_tenant(self, tenant, async |connection| {
            list::<S::Db>(connection, wanted).await
        })
        .await
    }
}
