//! Shop stations of one tenant: enrolment, credentials, what each one pushed, the change log
//! it pulls, and the conflict log of catalogue edits made at once in two places.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use nexus_domain::ids::new_v7;
use nexus_domain::{BranchId, Quantity, TenantId, UnixMillis, UserId};
use nexus_sync::is_concurrent_edit;

use super::branches::check_branch_open;
use super::catalogue::{apply_product_change, lock_product, read_product};
use super::{TenantAccess, with_tenant};
use crate::retail::Product;
use crate::sql::{Backend, Conn, RowExt, Rows, placeholders, query, rows_per_statement};
use crate::stations::{
    CatalogueEdit, ChangeRecord, Conflict, EnrolOutcome, NewStation, PullContact, Pulled,
    PushReads, StationContact, StationRecord, SyncOpRecord, Unsynced,
};
use crate::{StoreError, StoreResult};

#[async_trait]
pub trait StationStore: Send + Sync + 'static {
    async fn create_station(
        &self,
        tenant: TenantId,
        station: NewStation,
    ) -> StoreResult<StationRecord>;
    async fn list_stations(&self, tenant: TenantId) -> StoreResult<Vec<StationRecord>>;
    async fn get_station(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
    ) -> StoreResult<Option<StationRecord>>;
    /// Revokes the station (and any unused enrolment code); its next push or pull is refused.
    async fn revoke_station(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
        now: UnixMillis,
    ) -> StoreResult<Option<StationRecord>>;
    /// Trades a one-time enrolment code for a credential, in one transaction: a code works once.
    async fn enrol_station(
        &self,
        tenant: TenantId,
        code_hash: &[u8],
        credential_hash: &[u8],
        app_version: Option<String>,
        now: UnixMillis,
    ) -> StoreResult<EnrolOutcome>;
    /// The station whose credential hashes to `credential_hash`, revoked or not; `None` when no
    /// station has it.
    async fn authenticate_station(
        &self,
        tenant: TenantId,
        credential_hash: &[u8],
    ) -> StoreResult<Option<StationRecord>>;
    /// Records the ops of one push and the station's report of itself; returns the new
    /// acknowledged high-water mark.
    async fn record_push(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
        ops: &[SyncOpRecord],
        contact: &StationContact,
    ) -> StoreResult<i64>;
    /// The change log after `cursor`, for a station of `branch`: tenant-wide changes and that
    /// branch's, in seq order, at most `limit`.
    async fn changes_since(
        &self,
        tenant: TenantId,
        branch: BranchId,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChangeRecord>>;
    /// A push that ends on a run of sales: `record_sales` of them, then `record_push`, in one
    /// transaction, so that the sales and the answers the station is given commit together.
    /// A refusal of the sales (`record_sales`'s) records nothing; returns the high-water mark.
    async fn record_sales_and_push(
        &self,
        tenant: TenantId,
        sales: &[(crate::Sale, i32)],
        exceptions: &[crate::SaleException],
        station: uuid::Uuid,
        ops: &[SyncOpRecord],
        contact: &StationContact,
    ) -> StoreResult<i64>;
    /// What a push reads before it applies anything, in one transaction: the station that
    /// `credential_hash` names (as `authenticate_station`), then, for one not revoked, those of
    /// `op_ids` already received (from any station of the tenant) and the records of `staff`
    /// (`None`: no such user).
    async fn push_reads(
        &self,
        tenant: TenantId,
        credential_hash: &[u8],
        op_ids: &[uuid::Uuid],
        staff: &[UserId],
    ) -> StoreResult<PushReads>;
    /// Applies a station's catalogue edit in one transaction: the edited fields take the new
    /// values (the server's arrival order decides; device clocks never do), every field that no
    /// longer held what the station saw is written to the conflict log, and the product is
    /// logged for stations to pull. `None` when the product does not exist.
    async fn record_catalogue_edit(
        &self,
        tenant: TenantId,
        edit: &CatalogueEdit,
    ) -> StoreResult<Option<(Product, Vec<Conflict>)>>;
    /// The highest receipt number (its last part) among the sales and refunds that `station`
    /// recorded, 0 when there are none: what a station restored from a backup must number above.
    async fn highest_receipt_seq(&self, tenant: TenantId, station: uuid::Uuid) -> StoreResult<u64>;
    /// A pull, or any contact that pushed nothing: when, and what the station said of its
    /// unsynced writes (`Some(None)`: none wait; `None`: it did not say).
    async fn record_contact(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
        now: UnixMillis,
        unsynced: Option<Unsynced>,
    ) -> StoreResult<()>;
    /// A pull's first transaction: the station that `credential_hash` names (as
    /// `authenticate_station`), then, for one not revoked, what `record_contact` and
    /// `changes_since` do for its branch; one commit instead of three.
    async fn pull_changes(
        &self,
        tenant: TenantId,
        credential_hash: &[u8],
        pull: &PullContact,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<Pulled>;
    /// The conflict log, newest first; `before` pages by (detected_at, id).
    async fn list_conflicts(
        &self,
        tenant: TenantId,
        before: Option<(UnixMillis, uuid::Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<Conflict>>;
}

const STATION_COLUMNS: &str = "id, branch_id, name, enrolled_at, enrolment_expires_at, revoked_at, \
                               created_at, last_sync_at, last_contact_at, unsynced_since, unsynced_ops, \
                               app_version, acknowledged_seq";

fn station_from_row<R: RowExt>(row: &R) -> sqlx::Result<StationRecord>
where
    R::Database: Backend,
{
    let millis = |column: &str| -> sqlx::Result<Option<UnixMillis>> {
        Ok(row
            .field::<Option<i64>>(column)?
            .map(UnixMillis::from_millis))
    };
    Ok(StationRecord {
        id: row.field("id")?,
        branch_id: BranchId::from_uuid(row.field("branch_id")?),
        name: row.field("name")?,
        enrolled_at: millis("enrolled_at")?,
        enrolment_expires_at: millis("enrolment_expires_at")?,
        revoked_at: millis("revoked_at")?,
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        last_sync_at: millis("last_sync_at")?,
        last_contact_at: millis("last_contact_at")?,
        unsynced_since: millis("unsynced_since")?,
        unsynced_ops: row.field("unsynced_ops")?,
        app_version: row.field("app_version")?,
        acknowledged_seq: row.field("acknowledged_seq")?,
    })
}

/// The hash is unique and indexed; the lookup by it is the comparison.
async fn station_by_credential<B: Backend>(
    connection: &mut Conn<B>,
    credential_hash: &[u8],
) -> StoreResult<Option<StationRecord>> {
    let sql = format!("SELECT {STATION_COLUMNS} FROM stations WHERE credential_hash = $1");
    let row = query::<B>(&sql)
        .bind(credential_hash)
        .fetch_optional(connection)
        .await?;
    Ok(row.as_ref().map(station_from_row).transpose()?)
}

async fn read_station<B: Backend>(
    connection: &mut Conn<B>,
    station: uuid::Uuid,
) -> StoreResult<Option<StationRecord>> {
    let sql = format!("SELECT {STATION_COLUMNS} FROM stations WHERE id = $1");
    let row = query::<B>(&sql)
        .bind(station)
        .fetch_optional(connection)
        .await?;
    Ok(row.as_ref().map(station_from_row).transpose()?)
}

async fn read_existing_station<B: Backend>(
    connection: &mut Conn<B>,
    station: uuid::Uuid,
) -> StoreResult<StationRecord> {
    read_station::<B>(connection, station)
        .await?
        .ok_or(StoreError::Refused("station vanished".into()))
}

async fn create<B: Backend>(
    connection: &mut Conn<B>,
    station: &NewStation,
) -> StoreResult<StationRecord> {
    check_branch_open::<B>(connection, station.branch).await?;
    query::<B>(
        "INSERT INTO stations (id, branch_id, name, enrolment_code_hash, enrolment_expires_at, \
         credential_hash, enrolled_at, revoked_at, created_by, created_at, last_sync_at, \
         unsynced_since, app_version, acknowledged_seq) \
         VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL, $6, $7, NULL, NULL, NULL, 0)",
    )
    .bind(station.id)
    .bind(station.branch.as_uuid())
    .bind(station.name.as_str())
    .bind(station.enrolment_code_hash.as_slice())
    .bind(station.enrolment_expires_at.as_millis())
    .bind(station.created_by.as_uuid())
    .bind(station.now.as_millis())
    .execute(connection)
    .await?;
    read_existing_station::<B>(connection, station.id).await
}

async fn enrol<B: Backend>(
    connection: &mut Conn<B>,
    code_hash: &[u8],
    credential_hash: &[u8],
    app_version: Option<String>,
    now: UnixMillis,
) -> StoreResult<EnrolOutcome> {
    let sql = format!(
        "SELECT id, enrolment_expires_at, revoked_at FROM stations WHERE enrolment_code_hash = $1{}",
        B::LOCK_ROWS
    );
    let Some(row) = query::<B>(&sql)
        .bind(code_hash)
        .fetch_optional(connection)
        .await?
    else {
        return Ok(EnrolOutcome::UnknownCode);
    };
    let station: uuid::Uuid = row.field("id")?;
    if row.field::<Option<i64>>("revoked_at")?.is_some() {
        return Ok(EnrolOutcome::Revoked);
    }
    if row
        .field::<Option<i64>>("enrolment_expires_at")?
        .is_some_and(|expires| expires <= now.as_millis())
    {
        return Ok(EnrolOutcome::Expired);
    }
    // The code is spent in the same transaction that stores the credential: a code works once,
    // even when two stations race with it.
    query::<B>(
        "UPDATE stations SET enrolment_code_hash = NULL, enrolment_expires_at = NULL, \
         credential_hash = $2, enrolled_at = $3, app_version = $4 WHERE id = $1",
    )
    .bind(station)
    .bind(credential_hash)
    .bind(now.as_millis())
    .bind(app_version)
    .execute(connection)
    .await?;
    Ok(EnrolOutcome::Enrolled(Box::new(
        read_existing_station::<B>(connection, station).await?,
    )))
}

async fn push<B: Backend>(
    connection: &mut Conn<B>,
    station: uuid::Uuid,
    ops: &[SyncOpRecord],
    contact: &StationContact,
) -> StoreResult<i64> {
    let lock = format!(
        "SELECT acknowledged_seq FROM stations WHERE id = $1{}",
        B::LOCK_ROWS
    );
    let acknowledged: i64 = query::<B>(&lock).bind(station).scalar(connection).await?;
    let stored: Vec<&SyncOpRecord> = ops.iter().filter(|op| op.status != "duplicate").collect();
    let mut rows = Rows::new(
        "sync_ops",
        &[
            "station_id",
            "seq",
            "op_id",
            "entity",
            "entity_id",
            "status",
            "code",
            "message",
            "received_at",
        ],
    );
    for op in stored {
        rows.push([
            station.into(),
            op.seq.into(),
            op.op_id.into(),
            op.entity.as_str().into(),
            op.entity_id.into(),
            op.status.into(),
            op.code.as_deref().into(),
            op.message.as_deref().into(),
            contact.now.as_millis().into(),
        ]);
    }
    rows.insert::<B>(connection, "ON CONFLICT DO NOTHING")
        .await?;
    // The high-water mark only moves over consecutive seqs.
    let mut high = acknowledged;
    for op in ops {
        if op.seq == high + 1 {
            high = op.seq;
        }
    }
    // A push that carried nothing is a contact, not a sync.
    query::<B>(
        "UPDATE stations SET acknowledged_seq = $2, \
         last_sync_at = CASE WHEN $6 THEN $3 ELSE last_sync_at END, last_contact_at = $3, \
         unsynced_since = $4, app_version = $5 WHERE id = $1",
    )
    .bind(station)
    .bind(high)
    .bind(contact.now.as_millis())
    .bind(contact.unsynced_since.map(UnixMillis::as_millis))
    .bind(contact.app_version.as_str())
    .bind(!ops.is_empty())
    .execute(connection)
    .await?;
    Ok(high)
}

async fn changes<B: Backend>(
    connection: &mut Conn<B>,
    branch: BranchId,
    cursor: i64,
    limit: u32,
) -> StoreResult<Vec<ChangeRecord>> {
    let rows = query::<B>(
        "SELECT seq, entity, entity_id, payload FROM changes \
         WHERE seq > $1 AND (branch_id IS NULL OR branch_id = $2) ORDER BY seq LIMIT $3",
    )
    .bind(cursor)
    .bind(branch.as_uuid())
    .bind(i64::from(limit))
    .fetch_all(connection)
    .await?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in &rows {
        changes.push(ChangeRecord {
            seq: row.field("seq")?,
            entity: row.field("entity")?,
            entity_id: row.field("entity_id")?,
            payload: row.field("payload")?,
        });
    }
    Ok(changes)
}

/// The fields of `edit` that someone else changed since the station saw them.
fn concurrent_fields(edit: &CatalogueEdit, current: &Product) -> Vec<Conflict> {
    let mut conflicts = Vec::new();
    let mut note =
        |field: &str, seen: serde_json::Value, lost: serde_json::Value, won: serde_json::Value| {
            if is_concurrent_edit(&seen, &lost, &won) {
                conflicts.push(Conflict {
                    id: new_v7(edit.now),
                    entity: "product".to_owned(),
                    entity_id: edit.product.as_uuid(),
                    field: field.to_owned(),
                    base_value: seen,
                    lost_value: lost,
                    won_value: won,
                    station_id: edit.station,
                    op_id: edit.op_id,
                    actor_id: edit.actor,
                    detected_at: edit.now,
                });
            }
        };
    if let (Some(name), Some(seen)) = (&edit.change.name, &edit.seen.name) {
        note(
            "name",
            seen.as_str().into(),
            current.name.as_str().into(),
            name.as_str().into(),
        );
    }
    if let (Some(price), Some(seen)) = (edit.change.price_minor, edit.seen.price_minor) {
        note(
            "price_minor",
            seen.into(),
            current.price_minor.into(),
            price.into(),
        );
    }
    if let (Some(level), Some(seen)) = (edit.change.reorder_level, edit.seen.reorder_level) {
        let encode = |level: Option<Quantity>| serde_json::to_value(level).unwrap_or_default();
        note(
            "reorder_level",
            encode(seen),
            encode(current.reorder_level),
            encode(level),
        );
    }
    conflicts
}

async fn catalogue_edit<B: Backend>(
    connection: &mut Conn<B>,
    edit: &CatalogueEdit,
) -> StoreResult<Option<(Product, Vec<Conflict>)>> {
    // The row lock orders concurrent edits of one product: each compares against the value the
    // previous one committed.
    if !lock_product::<B>(connection, edit.product).await? {
        return Ok(None);
    }
    let Some(current) = read_product::<B>(connection, edit.product).await? else {
        return Ok(None);
    };
    let conflicts = concurrent_fields(edit, &current);
    let updated =
        apply_product_change::<B>(connection, edit.product, &edit.change, edit.now).await?;
    for conflict in &conflicts {
        query::<B>(
            "INSERT INTO sync_conflicts (id, entity, entity_id, field, base_value, lost_value, \
             won_value, station_id, op_id, actor_id, detected_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(conflict.id)
        .bind(conflict.entity.as_str())
        .bind(conflict.entity_id)
        .bind(conflict.field.as_str())
        .bind(conflict.base_value.to_string())
        .bind(conflict.lost_value.to_string())
        .bind(conflict.won_value.to_string())
        .bind(conflict.station_id)
        .bind(conflict.op_id)
        .bind(conflict.actor_id.as_uuid())
        .bind(conflict.detected_at.as_millis())
        .execute(connection)
        .await?;
    }
    Ok(updated.map(|product| (product, conflicts)))
}

async fn conflicts<B: Backend>(
    connection: &mut Conn<B>,
    before: Option<(UnixMillis, uuid::Uuid)>,
    limit: u32,
) -> StoreResult<Vec<Conflict>> {
    let (before_at, before_id) = before.map_or((i64::MAX, uuid::Uuid::max()), |(at, id)| {
        (at.as_millis(), id)
    });
    let rows = query::<B>(
        "SELECT id, entity, entity_id, field, base_value, lost_value, won_value, station_id, op_id, \
         actor_id, detected_at FROM sync_conflicts \
         WHERE detected_at < $1 OR (detected_at = $1 AND id < $2) \
         ORDER BY detected_at DESC, id DESC LIMIT $3",
    )
    .bind(before_at)
    .bind(before_id)
    .bind(i64::from(limit))
    .fetch_all(connection)
    .await?;
    let json = |text: String| -> sqlx::Result<serde_json::Value> {
        serde_json::from_str(&text).map_err(|error| sqlx::Error::Decode(Box::new(error)))
    };
    let mut conflicts = Vec::with_capacity(rows.len());
    for row in &rows {
        conflicts.push(Conflict {
            id: row.field("id")?,
            entity: row.field("entity")?,
            entity_id: row.field("entity_id")?,
            field: row.field("field")?,
            base_value: json(row.field("base_value")?)?,
            lost_value: json(row.field("lost_value")?)?,
            won_value: json(row.field("won_value")?)?,
            station_id: row.field("station_id")?,
            op_id: row.field("op_id")?,
            actor_id: UserId::from_uuid(row.field("actor_id")?),
            detected_at: UnixMillis::from_millis(row.field("detected_at")?),
        });
    }
    Ok(conflicts)
}

async fn seen<B: Backend>(
    connection: &mut Conn<B>,
    op_ids: &[uuid::Uuid],
) -> StoreResult<HashSet<uuid::Uuid>> {
    let mut seen = HashSet::new();
    for chunk in op_ids.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT op_id FROM sync_ops WHERE op_id IN ({})",
            placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for op_id in chunk {
            statement = statement.bind(*op_id);
        }
        seen.extend(statement.scalars::<uuid::Uuid>(connection).await?);
    }
    Ok(seen)
}

async fn highest_receipt_seq<B: Backend>(
    connection: &mut Conn<B>,
    station: uuid::Uuid,
) -> StoreResult<u64> {
    // Parsed here rather than ordered in SQL: the number's width grows past six digits, and
    // a renamed branch or till changes the prefix, so neither text nor length order is safe.
    let numbers: Vec<String> = query::<B>(
        "SELECT receipt_number FROM sales WHERE device_id = $1 AND receipt_number IS NOT NULL",
    )
    .bind(station)
    .scalars(connection)
    .await?;
    Ok(numbers
        .iter()
        .filter_map(|number| number.parse::<nexus_domain::ReceiptNumber>().ok())
        .map(|number| number.seq())
        .max()
        .unwrap_or(0))
}

#[async_trait]
impl<S: TenantAccess> StationStore for S {
    async fn create_station(
        &self,
        tenant: TenantId,
        station: NewStation,
    ) -> StoreResult<StationRecord> {
        with_tenant(self, tenant, async |connection| {
            create::<S::Db>(connection, &station).await
        })
        .await
    }

    async fn list_stations(&self, tenant: TenantId) -> StoreResult<Vec<StationRecord>> {
        with_tenant(self, tenant, async |connection| {
            let sql = format!("SELECT {STATION_COLUMNS} FROM stations ORDER BY created_at, id");
            let rows = query::<S::Db>(&sql).fetch_all(connection).await?;
            Ok(rows
                .iter()
                .map(station_from_row)
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn get_station(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
    ) -> StoreResult<Option<StationRecord>> {
        with_tenant(self, tenant, async |connection| {
            read_station::<S::Db>(connection, station).await
        })
        .await
    }

    async fn revoke_station(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
        now: UnixMillis,
    ) -> StoreResult<Option<StationRecord>> {
        with_tenant(self, tenant, async |connection| {
            // Revoking also kills an unused enrolment code.
            query::<S::Db>(
                "UPDATE stations SET revoked_at = COALESCE(revoked_at, $2), enrolment_code_hash = NULL \
                 WHERE id = $1",
            )
            .bind(station)
            .bind(now.as_millis())
            .execute(connection)
            .await?;
            read_station::<S::Db>(connection, station).await
        })
        .await
    }

    async fn enrol_station(
        &self,
        tenant: TenantId,
        code_hash: &[u8],
        credential_hash: &[u8],
        app_version: Option<String>,
        now: UnixMillis,
    ) -> StoreResult<EnrolOutcome> {
        with_tenant(self, tenant, async |connection| {
            enrol::<S::Db>(connection, code_hash, credential_hash, app_version, now).await
        })
        .await
    }

    async fn authenticate_station(
        &self,
        tenant: TenantId,
        credential_hash: &[u8],
    ) -> StoreResult<Option<StationRecord>> {
        with_tenant(self, tenant, async |connection| {
            station_by_credential::<S::Db>(connection, credential_hash).await
        })
        .await
    }

    async fn record_push(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
        ops: &[SyncOpRecord],
        contact: &StationContact,
    ) -> StoreResult<i64> {
        with_tenant(self, tenant, async |connection| {
            push::<S::Db>(connection, station, ops, contact).await
        })
        .await
    }

    async fn changes_since(
        &self,
        tenant: TenantId,
        branch: BranchId,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChangeRecord>> {
        with_tenant(self, tenant, async |connection| {
            changes::<S::Db>(connection, branch, cursor, limit).await
        })
        .await
    }

    async fn record_sales_and_push(
        &self,
        tenant: TenantId,
        sales: &[(crate::Sale, i32)],
        exceptions: &[crate::SaleException],
        station: uuid::Uuid,
        ops: &[SyncOpRecord],
        contact: &StationContact,
    ) -> StoreResult<i64> {
        with_tenant(self, tenant, async |connection| {
            // The station's own row first: the sales take the rows other tills of the shop
            // share (stock levels, rollups) last, so that they are held for the least time.
            let high = push::<S::Db>(connection, station, ops, contact).await?;
            super::sales::write_batch::<S::Db>(connection, sales, exceptions).await?;
            Ok(high)
        })
        .await
    }

    async fn push_reads(
        &self,
        tenant: TenantId,
        credential_hash: &[u8],
        op_ids: &[uuid::Uuid],
        staff: &[UserId],
    ) -> StoreResult<PushReads> {
        with_tenant(self, tenant, async |connection| {
            let station = station_by_credential::<S::Db>(connection, credential_hash).await?;
            let mut reads = PushReads {
                station,
                seen: HashSet::new(),
                staff: HashMap::with_capacity(staff.len()),
            };
            // An unknown or revoked station is refused by the caller; it reads nothing more.
            if reads.station.as_ref().is_none_or(StationRecord::is_revoked) {
                return Ok(reads);
            }
            for user in staff {
                reads.staff.insert(
                    *user,
                    super::staff::read_user::<S::Db>(connection, *user).await?,
                );
            }
            if !op_ids.is_empty() {
                reads.seen = seen::<S::Db>(connection, op_ids).await?;
            }
            Ok(reads)
        })
        .await
    }

    async fn highest_receipt_seq(&self, tenant: TenantId, station: uuid::Uuid) -> StoreResult<u64> {
        with_tenant(self, tenant, async |connection| {
            highest_receipt_seq::<S::Db>(connection, station).await
        })
        .await
    }

    async fn record_catalogue_edit(
        &self,
        tenant: TenantId,
        edit: &CatalogueEdit,
    ) -> StoreResult<Option<(Product, Vec<Conflict>)>> {
        with_tenant(self, tenant, async |connection| {
            catalogue_edit::<S::Db>(connection, edit).await
        })
        .await
    }

    async fn record_contact(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
        now: UnixMillis,
        unsynced: Option<Unsynced>,
    ) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            contact::<S::Db>(connection, station, now, unsynced).await
        })
        .await
    }

    async fn pull_changes(
        &self,
        tenant: TenantId,
        credential_hash: &[u8],
        pull: &PullContact,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<Pulled> {
        with_tenant(self, tenant, async |connection| {
            let station = station_by_credential::<S::Db>(connection, credential_hash).await?;
            let changes = match &station {
                Some(found) if !found.is_revoked() => {
                    contact::<S::Db>(connection, found.id, pull.now, pull.unsynced).await?;
                    changes::<S::Db>(connection, found.branch_id, cursor, limit).await?
                }
                _ => Vec::new(),
            };
            Ok(Pulled { station, changes })
        })
        .await
    }

    async fn list_conflicts(
        &self,
        tenant: TenantId,
        before: Option<(UnixMillis, uuid::Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<Conflict>> {
        with_tenant(self, tenant, async |connection| {
            conflicts::<S::Db>(connection, before, limit).await
        })
        .await
    }
}

async fn contact<B: Backend>(
    connection: &mut Conn<B>,
    station: uuid::Uuid,
    now: UnixMillis,
    unsynced: Option<Unsynced>,
) -> StoreResult<()> {
    query::<B>(
        "UPDATE stations SET last_contact_at = $2, \
         unsynced_since = CASE WHEN $3 THEN $4 ELSE unsynced_since END, \
         unsynced_ops = CASE WHEN $3 THEN $5 ELSE unsynced_ops END WHERE id = $1",
    )
    .bind(station)
    .bind(now.as_millis())
    .bind(unsynced.is_some())
    .bind(
        unsynced
            .and_then(|unsynced| unsynced.since)
            .map(UnixMillis::as_millis),
    )
    .bind(unsynced.map(|unsynced| unsynced.ops))
    .execute(connection)
    .await?;
    Ok(())
}
