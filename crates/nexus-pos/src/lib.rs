//! The shop station: a local SQLite database holding the station's replica (settings,
//! catalogue, its branch's stock movements) and its outbox, and the client that syncs them.
//!
//! Every local write and its op commit in one SQLite transaction (WAL, `synchronous=FULL`), so a
//! crash at any instant loses nothing the station said it recorded. Ops carry a per-station,
//! gap-free `seq`; the server's answer moves them to acknowledged or quarantined (rejected, shown
//! to the user, never blocking the ops behind).

use std::path::{Path, PathBuf};
use std::time::Duration;

use nexus_domain::Clock;
use nexus_sync::{Action, Entity, HlcClock, Op, OpStatus, PullResponse, PushRequest, PushResponse};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Executor as _, Row as _};

/// Most ops sent in one push (the server's limit).
const PUSH_BATCH: usize = nexus_sync::MAX_PUSH_OPS;
const PULL_PAGE: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error("this station is not enrolled yet: run `nexus pos enroll --server URL --code CODE`")]
    NotEnrolled,
    #[error(
        "the server at {url} cannot be reached ({reason}); everything is kept and will sync when it is back"
    )]
    Unreachable { url: String, reason: String },
    #[error("the server refused the request: {0}")]
    Refused(String),
    #[error("local database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Invalid(String),
}

pub type StationResult<T> = Result<T, StationError>;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq integer PRIMARY KEY,
    op_id text NOT NULL UNIQUE,
    op text NOT NULL,
    created_at integer NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'acknowledged', 'rejected')),
    code text,
    message text
);
CREATE TABLE IF NOT EXISTS replica (
    entity text NOT NULL,
    entity_id text NOT NULL,
    payload text NOT NULL,
    PRIMARY KEY (entity, entity_id)
);
";

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

/// What one sync did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: usize,
    pub rejected: usize,
    pub pulled: usize,
}

pub struct Station {
    pool: SqlitePool,
    http: reqwest::Client,
    data_dir: PathBuf,
}

impl Station {
    /// Opens (creating if needed) the station's database under `data_dir`.
    pub async fn open(data_dir: &Path) -> StationResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(|error| {
            StationError::Invalid(format!("cannot create {}: {error}", data_dir.display()))
        })?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join("station.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Commits that record money survive a power cut.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        pool.execute(SCHEMA).await?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| StationError::Invalid(format!("http client: {error}")))?;
        Ok(Self {
            pool,
            http,
            data_dir: data_dir.to_owned(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    async fn meta(&self, key: &str) -> StationResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn required(&self, key: &str) -> StationResult<String> {
        self.meta(key).await?.ok_or(StationError::NotEnrolled)
    }

    /// Trades a one-time enrolment code for this station's credential.
    pub async fn enroll(&self, server: &str, code: &str) -> StationResult<String> {
        let server = server.trim_end_matches('/').to_owned();
        let url = format!("{server}/api/v1/stations/enroll");
        let body =
            serde_json::json!({ "enrolment_code": code, "app_version": env!("CARGO_PKG_VERSION") });
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        let status = response.status();
        let answer: serde_json::Value = response
            .json()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        if !status.is_success() {
            return Err(StationError::Refused(
                answer["error"]["message"]
                    .as_str()
                    .unwrap_or("enrolment refused")
                    .to_owned(),
            ));
        }
        let text = |key: &str| {
            answer[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| StationError::Refused(format!("no {key} in the answer")))
        };
        let station_id = text("station_id")?;
        let mut transaction = self.pool.begin().await?;
        for (key, value) in [
            ("server", server.clone()),
            ("station_id", station_id.clone()),
            ("tenant_id", text("tenant_id")?),
            ("branch_id", text("branch_id")?),
            ("credential", text("credential")?),
        ] {
            sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(station_id)
    }

    /// Records a sale locally, with its op, in one transaction. `sale` is the body the server's
    /// `POST /api/v1/sales` takes; `cashier_id` is who rang it up. Works with no network at all.
    pub async fn record_sale(
        &self,
        clock: &dyn Clock,
        cashier_id: uuid::Uuid,
        sale: serde_json::Value,
    ) -> StationResult<u64> {
        let device: uuid::Uuid =
            self.required("station_id").await?.parse().map_err(|_| {
                StationError::Invalid("the stored station id is not a UUID".to_owned())
            })?;
        let sale_id: uuid::Uuid = sale["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| StationError::Invalid("a sale needs its id".to_owned()))?;
        let now = clock.now();
        let mut transaction = self.pool.begin().await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM outbox")
            .fetch_one(&mut *transaction)
            .await?;
        let seq = u64::try_from(last.unwrap_or(0) + 1).unwrap_or(1);
        let hlc_text: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'hlc'")
                .fetch_optional(&mut *transaction)
                .await?;
        let node = u32::from_be_bytes([
            device.as_bytes()[12],
            device.as_bytes()[13],
            device.as_bytes()[14],
            device.as_bytes()[15],
        ]);
        let mut clock_state = match hlc_text.and_then(|text| serde_json::from_str(&text).ok()) {
            Some(last) => HlcClock::resume(node, last),
            None => HlcClock::new(node),
        };
        let hlc = clock_state
            .tick(now)
            .map_err(|error| StationError::Invalid(error.to_string()))?;
        let op = Op {
            op_id: uuid::Uuid::now_v7(),
            device_id: device,
            seq,
            hlc,
            entity: Entity::Sale,
            entity_id: sale_id,
            action: Action::Create,
            payload: serde_json::json!({ "cashier_id": cashier_id, "sale": sale }),
        };
        let encoded =
            serde_json::to_string(&op).map_err(|error| StationError::Invalid(error.to_string()))?;
        sqlx::query("INSERT INTO outbox (seq, op_id, op, created_at, status) VALUES ($1, $2, $3, $4, 'pending')")
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(op.op_id.to_string())
            .bind(encoded)
            .bind(now.as_millis())
            .execute(&mut *transaction)
            .await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('hlc', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(serde_json::to_string(&hlc).unwrap_or_default())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(seq)
    }

    /// One push of everything pending (in batches) and one pull of everything new.
    pub async fn sync(&self, clock: &dyn Clock) -> StationResult<SyncReport> {
        let server = self.required("server").await?;
        let credential = self.required("credential").await?;
        let mut report = SyncReport::default();
        loop {
            let rows = sqlx::query(
                "SELECT op, created_at FROM outbox WHERE status = 'pending' ORDER BY seq LIMIT $1",
            )
            .bind(i64::try_from(PUSH_BATCH).unwrap_or(500))
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut ops = Vec::with_capacity(rows.len());
            let mut oldest = None;
            for row in &rows {
                let text: String = row.try_get("op")?;
                ops.push(
                    serde_json::from_str::<Op>(&text)
                        .map_err(|error| StationError::Invalid(error.to_string()))?,
                );
                oldest = oldest.or(Some(row.try_get::<i64, _>("created_at")?));
            }
            let request = PushRequest {
                protocol_version: nexus_sync::PROTOCOL_VERSION,
                ops,
                unsynced_since: oldest,
                app_version: env!("CARGO_PKG_VERSION").to_owned(),
            };
            let response = self
                .http
                .post(format!("{server}/api/v1/sync/push"))
                .header("authorization", format!("Station {credential}"))
                .json(&request)
                .send()
                .await
                .map_err(|error| unreachable(&server, &error))?;
            let answer: PushResponse = answer_or_refusal(&server, response).await?;
            let mut transaction = self.pool.begin().await?;
            for result in &answer.results {
                let status = match result.status {
                    OpStatus::Applied | OpStatus::Duplicate => "acknowledged",
                    OpStatus::Rejected => {
                        report.rejected += 1;
                        "rejected"
                    }
                };
                sqlx::query("UPDATE outbox SET status = $2, code = $3, message = $4 WHERE seq = $1 AND status = 'pending'")
                    .bind(i64::try_from(result.seq).unwrap_or(i64::MAX))
                    .bind(status)
                    .bind(result.code.as_deref())
                    .bind(result.message.as_deref())
                    .execute(&mut *transaction)
                    .await?;
            }
            // Everything at or below the high-water mark is held by the server.
            sqlx::query(
                "UPDATE outbox SET status = 'acknowledged' WHERE seq <= $1 AND status = 'pending'",
            )
            .bind(i64::try_from(answer.acknowledged_seq).unwrap_or(0))
            .execute(&mut *transaction)
            .await?;
            transaction.commit().await?;
            report.pushed += answer.results.len();
            if answer.resend_from.is_some() || answer.results.is_empty() {
                // The server asked for ops we no longer have pending, or made no progress: stop
                // rather than loop; the next sync starts again from the outbox.
                break;
            }
        }
        report.pulled = self.pull(&server, &credential).await?;
        self.set_meta("last_sync_at", &clock.now().as_millis().to_string())
            .await?;
        Ok(report)
    }

    async fn pull(&self, server: &str, credential: &str) -> StationResult<usize> {
        let mut pulled = 0;
        loop {
            let cursor = self
                .meta("pull_cursor")
                .await?
                .and_then(|text| text.parse::<u64>().ok())
                .unwrap_or(0);
            let response = self
                .http
                .get(format!(
                    "{server}/api/v1/sync/pull?protocol_version={}&cursor={cursor}&limit={PULL_PAGE}",
                    nexus_sync::PROTOCOL_VERSION
                ))
                .header("authorization", format!("Station {credential}"))
                .send()
                .await
                .map_err(|error| unreachable(server, &error))?;
            let page: PullResponse = answer_or_refusal(server, response).await?;
            // The page and its cursor commit together: the replica never shows half an update.
            let mut transaction = self.pool.begin().await?;
            for change in &page.changes {
                sqlx::query(
                    "INSERT INTO replica (entity, entity_id, payload) VALUES ($1, $2, $3) \
                     ON CONFLICT (entity, entity_id) DO UPDATE SET payload = excluded.payload",
                )
                .bind(&change.entity)
                .bind(change.entity_id.to_string())
                .bind(change.payload.to_string())
                .execute(&mut *transaction)
                .await?;
            }
            sqlx::query("INSERT INTO meta (key, value) VALUES ('pull_cursor', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(page.next_cursor.to_string())
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            pulled += page.changes.len();
            if !page.has_more {
                return Ok(pulled);
            }
        }
    }

    async fn set_meta(&self, key: &str, value: &str) -> StationResult<()> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The station's credential (for tools that talk to the server on its behalf).
    pub async fn credential(&self) -> StationResult<String> {
        self.required("credential").await
    }

    /// The replica's copy of one entity, as the server last sent it.
    pub async fn replica(
        &self,
        entity: &str,
        entity_id: &str,
    ) -> StationResult<Option<serde_json::Value>> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT payload FROM replica WHERE entity = $1 AND entity_id = $2")
                .bind(entity)
                .bind(entity_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(text.and_then(|text| serde_json::from_str(&text).ok()))
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

fn unreachable(server: &str, error: &reqwest::Error) -> StationError {
    StationError::Unreachable {
        url: server.to_owned(),
        reason: error.to_string(),
    }
}

async fn answer_or_refusal<T: serde::de::DeserializeOwned>(
    server: &str,
    response: reqwest::Response,
) -> StationResult<T> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|error| unreachable(server, &error))?;
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|value| value["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("status {status}"));
        return Err(StationError::Refused(message));
    }
    serde_json::from_slice(&bytes).map_err(|error| {
        StationError::Invalid(format!("the server's answer could not be read: {error}"))
    })
}
