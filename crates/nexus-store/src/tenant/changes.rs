//! The change log stations pull: every change to what a station replicates (catalogue,
//! settings, staff, its branch's stock) appended with a per-tenant sequence number.

use nexus_domain::{BranchId, UnixMillis};

use crate::sql::{Backend, Conn, Rows, query};
use crate::{StoreError, StoreResult};

/// A change-log entry about to be written.
pub(crate) struct PendingChange {
    entity: &'static str,
    entity_id: uuid::Uuid,
    /// `None`: every station of the tenant pulls it; otherwise that branch's stations.
    branch: Option<uuid::Uuid>,
    payload: String,
    changed_at: i64,
}

pub(crate) fn pending_change(
    entity: &'static str,
    entity_id: uuid::Uuid,
    branch: Option<BranchId>,
    payload: &impl serde::Serialize,
    changed_at: UnixMillis,
) -> StoreResult<PendingChange> {
    Ok(PendingChange {
        entity,
        entity_id,
        branch: branch.map(|branch| branch.as_uuid()),
        payload: serde_json::to_string(payload)
            .map_err(|error| StoreError::Refused(format!("encoding a change: {error}")))?,
        changed_at: changed_at.as_millis(),
    })
}

/// Appends to the change log, in the order given. The seqs are reserved in one step on the
/// counter row, whose lock is held until commit, so no two writers of one tenant interleave and
/// seqs become visible in order.
pub(crate) async fn log_changes<B: Backend>(
    connection: &mut Conn<B>,
    changes: &[PendingChange],
) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let count =
        i64::try_from(changes.len()).map_err(|_| StoreError::Refused("too many changes".into()))?;
    let last: i64 = query::<B>(
        "UPDATE change_counter SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq",
    )
    .bind(count)
    .scalar(connection)
    .await?;
    let first_seq = last - count + 1;
    let mut rows = Rows::new(
        "changes",
        &[
            "seq",
            "entity",
            "entity_id",
            "branch_id",
            "payload",
            "changed_at",
        ],
    );
    for (seq, change) in (first_seq..).zip(changes) {
        rows.push([
            seq.into(),
            change.entity.into(),
            change.entity_id.into(),
            change.branch.into(),
            change.payload.as_str().into(),
            change.changed_at.into(),
        ]);
    }
    rows.insert::<B>(connection, "").await?;
    Ok(())
}

pub(crate) async fn log_change<B: Backend>(
    connection: &mut Conn<B>,
    entity: &'static str,
    entity_id: uuid::Uuid,
    branch: Option<BranchId>,
    payload: &impl serde::Serialize,
    changed_at: UnixMillis,
) -> StoreResult<()> {
    log_changes::<B>(
        connection,
        &[pending_change(
            entity, entity_id, branch, payload, changed_at,
        )?],
    )
    .await
}
