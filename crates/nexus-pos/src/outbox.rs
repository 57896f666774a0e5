//! The outbox: every local write as an op, gap-free by seq, committed in the transaction of the
//! write itself; what is unsynced and what the server refused.

use nexus_domain::Clock;
use nexus_sync::{HlcClock, Op, Payload};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;

use crate::{Station, StationError, StationResult};

/// What `nexus pos status` shows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StationStatus {
    pub enrolled: bool,
    pub server: Option<String>,
    pub station_id: Option<String>,
    pub unsynced_ops: i64,
    /// When the oldest unsynced op was written.
    pub unsynced_since: Option<i64>,
    pub last_sync_at: Option<i64>,
    pub quarantined: Vec<Quarantined>,
    pub pull_cursor: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Quarantined {
    pub seq: i64,
    pub code: Option<String>,
    pub message: Option<String>,
}

impl Station {
    /// Appends one op to the outbox inside `transaction`, with the next gap-free seq and a
    /// timestamp from the station's hybrid logical clock (persisted in the same transaction, so
    /// it never runs backwards across a restart).
    pub(crate) async fn append_op<P: Payload>(
        transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        device: uuid::Uuid,
        now: nexus_domain::UnixMillis,
        entity_id: uuid::Uuid,
        payload: &P,
    ) -> StationResult<u64> {
        // Above the outbox and above the floor a restore set (the service's high-water mark
        // then): a restored outbox lacks the ops written after its backup was taken.
        let last: i64 = sqlx::query_scalar(
            "SELECT MAX(COALESCE((SELECT MAX(seq) FROM outbox), 0), \
             COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = $1), 0))",
        )
        .bind(crate::backup::SEQ_FLOOR_KEY)
        .fetch_one(&mut **transaction)
        .await?;
        let seq = u64::try_from(last + 1).unwrap_or(1);
        let hlc_text: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'hlc'")
                .fetch_optional(&mut **transaction)
                .await?;
        let bytes = device.as_bytes();
        let node = u32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
        let mut clock_state = match hlc_text.and_then(|text| serde_json::from_str(&text).ok()) {
            Some(last) => HlcClock::resume(node, last),
            None => HlcClock::new(node),
        };
        let hlc = clock_state
            .tick(now)
            .map_err(|error| StationError::Invalid(error.to_string()))?;
        let op = Op::new(
            nexus_domain::ids::new_v7(now),
            device,
            seq,
            hlc,
            entity_id,
            payload,
        )
        .map_err(|error| StationError::Invalid(error.to_string()))?;
        let encoded =
            serde_json::to_string(&op).map_err(|error| StationError::Invalid(error.to_string()))?;
        sqlx::query(
            "INSERT INTO outbox (seq, op_id, entity, entity_id, op, created_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
        )
        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
        .bind(op.op_id.to_string())
        .bind(op.entity.as_str())
        .bind(entity_id.to_string())
        .bind(encoded)
        .bind(now.as_millis())
        .execute(&mut **transaction)
        .await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('hlc', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(serde_json::to_string(&hlc).unwrap_or_default())
            .execute(&mut **transaction)
            .await?;
        Ok(seq)
    }

    /// Writes one op in its own transaction; returns its seq.
    pub(crate) async fn write_op<P: Payload>(
        &self,
        clock: &dyn Clock,
        entity_id: uuid::Uuid,
        payload: &P,
    ) -> StationResult<u64> {
        let device = Self::device(&self.required("station_id").await?)?;
        let mut transaction = self.pool.begin().await?;
        let seq =
            Self::append_op(&mut transaction, device, clock.now(), entity_id, payload).await?;
        transaction.commit().await?;
        Ok(seq)
    }

    /// Sales (not other ops) not yet acknowledged by the server, and when the oldest was
    /// written: what the cashier screen's banner shows.
    pub async fn unsynced_sales(&self) -> StationResult<(i64, Option<i64>)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS count, MIN(created_at) AS oldest FROM outbox WHERE status = 'pending' AND entity = 'sale'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("count")?, row.try_get("oldest")?))
    }

    /// The ids of every sale this station committed locally, in seq order, with the status of
    /// its op (`pending`, `acknowledged` or `rejected`).
    pub async fn committed_sales(&self) -> StationResult<Vec<(uuid::Uuid, String)>> {
        let rows =
            sqlx::query("SELECT entity_id, status FROM outbox WHERE entity = 'sale' ORDER BY seq")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("entity_id")?;
                Ok((
                    id.parse()
                        .map_err(|_| StationError::Damaged("a stored sale id".to_owned()))?,
                    row.try_get("status")?,
                ))
            })
            .collect()
    }

    /// How many ops the outbox holds, whatever their state: it only ever grows.
    pub async fn outbox_len(&self) -> StationResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn status(&self) -> StationResult<StationStatus> {
        let pending = sqlx::query("SELECT COUNT(*) AS count, MIN(created_at) AS oldest FROM outbox WHERE status = 'pending'")
            .fetch_one(&self.pool)
            .await?;
        let quarantined = sqlx::query(
            "SELECT seq, code, message FROM outbox WHERE status = 'rejected' ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Quarantined {
                seq: row.try_get("seq")?,
                code: row.try_get("code")?,
                message: row.try_get("message")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(StationStatus {
            enrolled: self.meta("credential").await?.is_some(),
            server: self.meta("server").await?,
            station_id: self.meta("station_id").await?,
            unsynced_ops: pending.try_get("count")?,
            unsynced_since: pending.try_get("oldest")?,
            last_sync_at: self
                .meta("last_sync_at")
                .await?
                .and_then(|text| text.parse().ok()),
            quarantined,
            pull_cursor: self
                .meta("pull_cursor")
                .await?
                .and_then(|text| text.parse().ok())
                .unwrap_or(0),
        })
    }
}
