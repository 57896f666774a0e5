//! What stations pull, and the logs of what sync decided: concurrent catalogue edits and sales
//! beyond their staff member's rights.

use nexus_domain::UnixMillis;

use super::server_hlc;
use crate::auth::{Authenticated, PresentedStation, station_lookup_error};
use crate::error::{ApiError, ApiResult};
use crate::events::Topic;
use crate::state::AppState;

/// A pull as a station asks for it.
pub(crate) struct PullRequest {
    pub(crate) protocol_version: u32,
    pub(crate) cursor: u64,
    pub(crate) limit: Option<u32>,
    /// What the station says of its unsynced writes; `None` when it did not say.
    pub(crate) unsynced: Option<nexus_store::Unsynced>,
    /// How long to wait for a change when there is none yet (zero: answer at once).
    pub(crate) wait: std::time::Duration,
    /// Ends the wait when the server shuts down.
    pub(crate) stopping: Option<crate::Stopping>,
}

/// What may bring a station's scope new changes. Sales reach it as stock; a till's contact
/// (which every pull announces) never does, so it cannot wake the tills that wait.
const STATION_TOPICS: [Topic; 3] = [Topic::Catalogue, Topic::Stock, Topic::Staff];

/// Waits until `tenant` announces something a station may pull, the deadline passes or the
/// server stops; true when it is worth looking again.
async fn wait_for_news(
    events: &mut tokio::sync::broadcast::Receiver<crate::events::Event>,
    tenant: nexus_domain::TenantId,
    deadline: tokio::time::Instant,
    stopping: Option<crate::Stopping>,
) -> bool {
    let stopped = async move {
        match stopping {
            Some(stopping) => stopping.wait().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return false,
            () = &mut stopped => return false,
            received = events.recv() => match received {
                Ok(event) if event.tenant == tenant && STATION_TOPICS.contains(&event.topic) => return true,
                Ok(_) => {}
                // Fell behind: something may have changed; look.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return true,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return false,
            },
        }
    }
}

/// A page cursor of a log kept newest first: "<detected_at>.<id>" of the last entry shown.
fn format_before(at: UnixMillis, id: uuid::Uuid) -> String {
    format!("{}.{id}", at.as_millis())
}

fn parse_before(text: &str) -> ApiResult<(UnixMillis, uuid::Uuid)> {
    text.split_once('.')
        .and_then(|(at, id)| Some((UnixMillis::from_millis(at.parse().ok()?), id.parse().ok()?)))
        .ok_or_else(|| {
            ApiError::validation("before is not a cursor this server gave").with_field("before")
        })
}

/// The changes for a station's scope (the tenant's catalogue and settings, its branch's stock
/// and staff) after `cursor`, in order. Counts as the station's contact. The station's
/// credential is looked up in the pull's first transaction.
pub(crate) async fn pull(
    state: &AppState,
    presented: &PresentedStation,
    query: PullRequest,
) -> ApiResult<nexus_sync::PullResponse> {
    super::speaks(query.protocol_version)?;
    let limit = query.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 1000").with_field("limit"));
    }
    let cursor = i64::try_from(query.cursor)
        .map_err(|_| ApiError::validation("cursor is out of range").with_field("cursor"))?;
    // Subscribed before the first read, so a change committed between the read and the wait is
    // still heard.
    let mut news = (!query.wait.is_zero()).then(|| state.events.subscribe());
    let deadline = tokio::time::Instant::now() + query.wait;
    // The contact is recorded with the first read, in its transaction; a pull that waited for
    // news records it again when it answers.
    let contact = nexus_store::PullContact {
        now: state.clock.now(),
        unsynced: query.unsynced,
    };
    let pulled = state
        .store
        .pull_changes(
            presented.tenant,
            &presented.credential_hash,
            &contact,
            cursor,
            limit,
        )
        .await
        .map_err(station_lookup_error)?;
    let station = &presented.admit(pulled.station)?;
    let mut records = pulled.changes;
    let mut waited = false;
    if let Some(events) = news.as_mut() {
        while records.is_empty() {
            waited = true;
            if !wait_for_news(events, station.tenant, deadline, query.stopping.clone()).await {
                break;
            }
            records = state
                .store
                .changes_since(station.tenant, station.station.branch_id, cursor, limit)
                .await?;
        }
    }
    let mut changes = Vec::with_capacity(records.len());
    for record in records {
        // Sent through the protocol's record types: a change a station could not read is the
        // server's fault, answered as such, never passed on.
        let payload =
            nexus_sync::change_payload(&record.entity, &record.payload).map_err(|error| {
                ApiError::internal(format!(
                    "change {} does not fit the protocol: {error}",
                    record.seq
                ))
            })?;
        changes.push(nexus_sync::Change {
            seq: u64::try_from(record.seq).unwrap_or(0),
            entity: record.entity,
            entity_id: record.entity_id,
            payload,
        });
    }
    let next_cursor = changes.last().map_or(query.cursor, |change| change.seq);
    let has_more = changes.len() == limit as usize;
    let now = state.clock.now();
    if waited {
        state
            .store
            .record_contact(station.tenant, station.station.id, now, query.unsynced)
            .await?;
    }
    state.events.publish(station.tenant, Topic::Tills).await;
    Ok(nexus_sync::PullResponse {
        protocol_version: nexus_sync::PROTOCOL_VERSION,
        changes,
        next_cursor,
        has_more,
        server_hlc: server_hlc(now),
    })
}

/// The conflict log, newest first, a page at a time; the cursor of the next (older) page.
pub async fn conflicts(
    state: &AppState,
    auth: &Authenticated,
    before: Option<&str>,
    limit: Option<u32>,
) -> ApiResult<(Vec<nexus_store::Conflict>, Option<String>)> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 200").with_field("limit"));
    }
    let before = before.map(parse_before).transpose()?;
    let items = state
        .store
        .list_conflicts(auth.tenant, before, limit)
        .await?;
    let next_before = (items.len() == limit as usize)
        .then(|| items.last())
        .flatten()
        .map(|last| format_before(last.detected_at, last.id));
    Ok((items, next_before))
}

/// Sales that arrived by sync beyond their staff member's rights, newest first.
pub(crate) async fn exceptions(
    state: &AppState,
    auth: &Authenticated,
    before: Option<&str>,
    limit: Option<u32>,
) -> ApiResult<(Vec<nexus_store::SaleException>, Option<String>)> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 200").with_field("limit"));
    }
    let before = before.map(parse_before).transpose()?;
    let items = state
        .store
        .list_sale_exceptions(auth.tenant, before, limit)
        .await?;
    let next_before = (items.len() == limit as usize)
        .then(|| items.last())
        .flatten()
        .map(|last| format_before(last.detected_at, last.id));
    Ok((items, next_before))
}
