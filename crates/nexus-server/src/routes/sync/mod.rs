//! The sync endpoints a shop station talks to. Ops are planned by `nexus_sync` (order, gaps,
//! retries) and applied through the same code paths the API uses, so a sale that arrives by
//! sync is recorded exactly as one posted by the API.

mod apply;
pub(crate) mod push;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::UnixMillis;
use nexus_sync::Hlc;
use serde::Deserialize;

use crate::auth::{Authorized, StationAuthenticated, permits};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn server_hlc(now: UnixMillis) -> Hlc {
    Hlc {
        wall_millis: now.as_millis(),
        counter: 0,
        node: 0,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PullQuery {
    protocol_version: u32,
    /// The `next_cursor` of the previous page; 0 for everything.
    #[serde(default)]
    cursor: u64,
    /// 1 to 1000; 500 by default.
    limit: Option<u32>,
}

/// `GET /api/v1/sync/pull`: the changes for this station's scope (the tenant's catalogue and
/// settings, its branch's stock movements) after `cursor`, in order. The station stores a page
/// and its `next_cursor` in one transaction, so it never shows half an update.
#[utoipa::path(get, path = "/api/v1/sync/pull", tag = "sync", params(PullQuery), security(("station" = [])),
    responses((status = 200, body = nexus_sync::PullResponse), (status = 401, description = "Unknown or revoked station", body = crate::error::ApiErrorBody),
              (status = 426, description = "Protocol version not spoken: update the station", body = crate::error::ApiErrorBody)))]
pub(crate) async fn pull(
    State(state): State<AppState>,
    station: StationAuthenticated,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<PullQuery>,
) -> ApiResult<Json<nexus_sync::PullResponse>> {
    if query.protocol_version != nexus_sync::PROTOCOL_VERSION {
        return Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "update_required",
            format!(
                "protocol version {} is not spoken here (this server speaks {}); update the station",
                query.protocol_version,
                nexus_sync::PROTOCOL_VERSION
            ),
        ));
    }
    let limit = query.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 1000").with_field("limit"));
    }
    let cursor = i64::try_from(query.cursor)
        .map_err(|_| ApiError::validation("cursor is out of range").with_field("cursor"))?;
    let records = state
        .store
        .changes_since(station.tenant, station.station.branch_id, cursor, limit)
        .await?;
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
    Ok(Json(nexus_sync::PullResponse {
        protocol_version: nexus_sync::PROTOCOL_VERSION,
        changes,
        next_cursor,
        has_more,
        server_hlc: server_hlc(state.clock.now()),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConflictQuery {
    /// The `next_before` of the previous page.
    before: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<u32>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ConflictPage {
    items: Vec<nexus_store::Conflict>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    next_before: Option<String>,
}

/// `GET /api/v1/sync/conflicts`: concurrent edits of the same catalogue field, newest first,
/// each with the value the station saw, the value it replaced and the value that won.
#[utoipa::path(get, path = "/api/v1/sync/conflicts", tag = "sync", params(ConflictQuery), security(("bearer" = ["manage_products"])),
    responses((status = 200, body = ConflictPage), crate::error::CommonErrors))]
pub(crate) async fn conflicts(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<ConflictQuery>,
) -> ApiResult<Json<ConflictPage>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 200").with_field("limit"));
    }
    // The cursor is "<detected_at>.<id>" of the last conflict of the previous page.
    let before = query
        .before
        .as_deref()
        .map(|text| {
            text.split_once('.')
                .and_then(|(at, id)| {
                    Some((UnixMillis::from_millis(at.parse().ok()?), id.parse().ok()?))
                })
                .ok_or_else(|| {
                    ApiError::validation("before is not a cursor this server gave")
                        .with_field("before")
                })
        })
        .transpose()?;
    let items = state
        .store
        .list_conflicts(auth.tenant, before, limit)
        .await?;
    let next_before = (items.len() == limit as usize)
        .then(|| items.last())
        .flatten()
        .map(|last| format!("{}.{}", last.detected_at.as_millis(), last.id));
    Ok(Json(ConflictPage { items, next_before }))
}
