//! The sync client: pushes the outbox in batches, pulls the changes for the station's scope
//! page by page, and tells an unreachable server from a refusal.

use std::time::Duration;

use nexus_domain::Clock;
use nexus_sync::{Op, OpStatus, PullResponse, PushRequest, PushResponse};
use serde::Serialize;
use sqlx::Row as _;

use crate::{Station, StationError, StationResult};

/// Most ops sent in one push (the server's limit).
pub(crate) const PUSH_BATCH: usize = nexus_sync::MAX_PUSH_OPS;

pub(crate) const PULL_PAGE: u32 = 500;

/// How long a request to the service may take, a long pull's wait aside.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A page of changes a long pull brought, not yet stored.
#[derive(Debug)]
pub struct PendingChanges {
    page: PullResponse,
}

/// What one sync did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: usize,
    pub rejected: usize,
    pub pulled: usize,
}

impl Station {
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
                // The clock the ops were stamped with, so the server can correct a wrong one.
                sent_at: Some(clock.now().as_millis()),
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

    pub(crate) async fn pull(&self, server: &str, credential: &str) -> StationResult<usize> {
        let mut pulled = 0;
        loop {
            let page = self.pull_page(server, credential, Duration::ZERO).await?;
            let more = page.has_more;
            pulled += self.store_page(&page).await?;
            if !more {
                return Ok(pulled);
            }
        }
    }

    /// A long pull: the next page of changes, the server waiting up to `wait` for one when it
    /// has none. Only reads, so it may be abandoned at any point (the worker does, when a
    /// local write wants a sync); [`Station::take_changes`] stores what it brought.
    pub async fn wait_for_changes(&self, wait: Duration) -> StationResult<PendingChanges> {
        let server = self.required("server").await?;
        let credential = self.required("credential").await?;
        let page = self.pull_page(&server, &credential, wait).await?;
        Ok(PendingChanges { page })
    }

    /// Stores the page a long pull brought and pulls whatever follows it; how many changes.
    pub async fn take_changes(&self, pending: PendingChanges) -> StationResult<usize> {
        let mut pulled = self.store_page(&pending.page).await?;
        if pending.page.has_more {
            let server = self.required("server").await?;
            let credential = self.required("credential").await?;
            pulled += self.pull(&server, &credential).await?;
        }
        Ok(pulled)
    }

    async fn pull_page(
        &self,
        server: &str,
        credential: &str,
        wait: Duration,
    ) -> StationResult<PullResponse> {
        let cursor = self
            .meta("pull_cursor")
            .await?
            .and_then(|text| text.parse::<u64>().ok())
            .unwrap_or(0);
        // Told with every pull, so the dashboard shows whether anything still waits here.
        let (oldest, waiting): (Option<i64>, i64) =
            sqlx::query_as("SELECT MIN(created_at), COUNT(*) FROM outbox WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        let unsynced = oldest.map_or_else(|| "none".to_owned(), |oldest| oldest.to_string());
        let wait_seconds = wait.as_secs().min(nexus_sync::LONGEST_PULL_WAIT_SECONDS);
        let response = self
            .http
            .get(format!(
                "{server}/api/v1/sync/pull?protocol_version={}&cursor={cursor}&limit={PULL_PAGE}&unsynced_since={unsynced}&unsynced_ops={waiting}&wait_seconds={wait_seconds}",
                nexus_sync::PROTOCOL_VERSION
            ))
            .header("authorization", format!("Station {credential}"))
            // The server's wait, and the usual allowance for the answer on top.
            .timeout(REQUEST_TIMEOUT + Duration::from_secs(wait_seconds))
            .send()
            .await
            .map_err(|error| unreachable(server, &error))?;
        answer_or_refusal(server, response).await
    }

    /// Stores one page and its cursor; how many changes it had.
    async fn store_page(&self, page: &PullResponse) -> StationResult<usize> {
        let branch = self.required("branch_id").await?;
        // The page and its cursor commit together: the replica never shows half an update.
        let mut transaction = self.pool.begin().await?;
        Self::store_changes(&mut transaction, &branch, &page.changes).await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('pull_cursor', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(page.next_cursor.to_string())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(page.changes.len())
    }

    /// What the service already holds of this station (see [`nexus_sync::HighWater`]).
    pub(crate) async fn high_water(&self) -> StationResult<nexus_sync::HighWater> {
        let server = self.required("server").await?;
        let credential = self.required("credential").await?;
        let response = self
            .http
            .get(format!(
                "{server}/api/v1/sync/high-water?protocol_version={}",
                nexus_sync::PROTOCOL_VERSION
            ))
            .header("authorization", format!("Station {credential}"))
            .send()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        answer_or_refusal(&server, response).await
    }

    /// Whether the server answers at all (its health check), within a few seconds.
    pub async fn probe(&self) -> StationResult<()> {
        let server = self.required("server").await?;
        let response = self
            .http
            .get(format!("{server}/healthz"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(StationError::Unreachable {
                url: server,
                reason: format!("the health check answered {}", response.status()),
            })
        }
    }
}

pub(crate) fn unreachable(server: &str, error: &reqwest::Error) -> StationError {
    StationError::Unreachable {
        url: server.to_owned(),
        reason: error.to_string(),
    }
}

pub(crate) async fn answer_or_refusal<T: serde::de::DeserializeOwned>(
    server: &str,
    response: reqwest::Response,
) -> StationResult<T> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|error| unreachable(server, &error))?;
    if status.is_server_error() {
        // A gateway or a server in trouble: like no answer at all, try again later.
        return Err(StationError::Unreachable {
            url: server.to_owned(),
            reason: format!("the server answered {status}"),
        });
    }
    if !status.is_success() {
        let message = refusal_message(&bytes).unwrap_or_else(|| format!("status {status}"));
        return Err(StationError::Refused(message));
    }
    serde_json::from_slice(&bytes)
        .map_err(|error| StationError::Refused(format!("its answer could not be read: {error}")))
}

/// The message of the service's error answer, `{"error": {"message": ...}}`.
pub(crate) fn refusal_message(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value["error"]["message"].as_str().map(str::to_owned))
}
