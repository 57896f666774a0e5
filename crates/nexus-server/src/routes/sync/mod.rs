//! The sync endpoints a shop station talks to. Ops are planned by `nexus_sync` (order, gaps,
//! retries) and applied through the same code paths the API uses, so a sale that arrives by
//! sync is recorded exactly as one posted by the API.

use axum::Json;
use axum::extract::State;
use nexus_domain::UnixMillis;
use serde::Deserialize;

use crate::auth::{Authorized, PresentedStation, StationAuthenticated, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

use crate::services::sync;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PullQuery {
    protocol_version: u32,
    /// The `next_cursor` of the previous page; 0 for everything.
    #[serde(default)]
    cursor: u64,
    /// 1 to 1000; 500 by default.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// The station's oldest unsynced write (Unix milliseconds), or `none` when nothing waits to
    /// be pushed; what the tills page shows.
    unsynced_since: Option<String>,
    /// How many of the station's writes wait to be pushed.
    #[param(minimum = 0)]
    unsynced_ops: Option<i64>,
    /// When there is nothing after `cursor`, wait up to this many seconds (0 to 60) for a
    /// change before answering, and answer as soon as one comes (a long poll). 0 by default.
    #[param(minimum = 0, maximum = 60)]
    wait_seconds: Option<u64>,
}

/// `GET /api/v1/sync/pull`: the changes for this station's scope (the tenant's catalogue and
/// settings, its branch's stock movements) after `cursor`, in order. The station stores a page
/// and its `next_cursor` in one transaction, so it never shows half an update.
#[utoipa::path(get, path = "/api/v1/sync/pull", tag = "sync", params(PullQuery), security(("station" = [])),
    responses((status = 200, body = nexus_sync::PullResponse), (status = 401, description = "Unknown or revoked station", body = crate::error::ApiErrorBody),
              (status = 426, description = "Protocol version not spoken: update the station", body = crate::error::ApiErrorBody),
              (status = 400, description = "A malformed or unknown query parameter", body = crate::error::ApiErrorBody),
              (status = 422, description = "A parameter out of range", body = crate::error::ApiErrorBody)))]
pub(crate) async fn pull(
    State(state): State<AppState>,
    station: PresentedStation,
    stopping: Option<axum::Extension<crate::Stopping>>,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<PullQuery>,
) -> ApiResult<Json<nexus_sync::PullResponse>> {
    let wait_seconds = query.wait_seconds.unwrap_or(0);
    if wait_seconds > nexus_sync::LONGEST_PULL_WAIT_SECONDS {
        return Err(ApiError::validation(format!(
            "wait_seconds must be 0 to {}",
            nexus_sync::LONGEST_PULL_WAIT_SECONDS
        ))
        .with_field("wait_seconds"));
    }
    let unsynced = match query.unsynced_since.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("none") => Some(None),
        Some(text) => Some(Some(UnixMillis::from_millis(text.parse().map_err(
            |_| {
                ApiError::validation("unsynced_since must be Unix milliseconds or none")
                    .with_field("unsynced_since")
            },
        )?))),
    };
    let unsynced = unsynced.map(|since| nexus_store::Unsynced {
        since,
        ops: query.unsynced_ops.unwrap_or(0).max(0),
    });
    let request = sync::PullRequest {
        protocol_version: query.protocol_version,
        cursor: query.cursor,
        limit: query.limit,
        unsynced,
        wait: std::time::Duration::from_secs(wait_seconds).min(state.longest_pull_wait),
        stopping: stopping.map(|axum::Extension(stopping)| stopping),
    };
    Ok(Json(sync::pull(&state, &station, request).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct HighWaterQuery {
    protocol_version: u32,
}

/// `GET /api/v1/sync/high-water`: what the service already holds of this station (its ops up to
/// `acknowledged_seq`, its receipts up to `receipt_seq`). A station restored from a backup asks
/// before it sells again, so that it reuses no number the service holds.
#[utoipa::path(get, path = "/api/v1/sync/high-water", tag = "sync", params(HighWaterQuery), security(("station" = [])),
    responses((status = 200, body = nexus_sync::HighWater), (status = 401, description = "Unknown or revoked station", body = crate::error::ApiErrorBody),
              (status = 426, description = "Protocol version not spoken: update the station", body = crate::error::ApiErrorBody),
              (status = 400, description = "A malformed or unknown query parameter", body = crate::error::ApiErrorBody)))]
pub(crate) async fn high_water(
    State(state): State<AppState>,
    station: StationAuthenticated,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<HighWaterQuery>,
) -> ApiResult<Json<nexus_sync::HighWater>> {
    Ok(Json(
        sync::high_water(&state, &station, query.protocol_version).await?,
    ))
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
    let (items, next_before) =
        sync::conflicts(&state, &auth, query.before.as_deref(), query.limit).await?;
    Ok(Json(ConflictPage { items, next_before }))
}

/// `POST /api/v1/sync/push`: a station's ops, in seq order, applied once each.
#[utoipa::path(post, path = "/api/v1/sync/push", tag = "sync", request_body = nexus_sync::PushRequest, security(("station" = [])),
    responses((status = 200, body = nexus_sync::PushResponse), (status = 401, description = "Unknown or revoked station", body = crate::error::ApiErrorBody),
              (status = 426, description = "Protocol version not spoken: update the station", body = crate::error::ApiErrorBody), crate::error::BodyErrors))]
pub(crate) async fn push(
    State(state): State<AppState>,
    station: PresentedStation,
    ApiJson(request): ApiJson<nexus_sync::PushRequest>,
) -> ApiResult<Json<nexus_sync::PushResponse>> {
    Ok(Json(
        crate::services::sync::push(&state, &station, request).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExceptionQuery {
    /// The `next_before` of the previous page.
    before: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<u32>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ExceptionPage {
    items: Vec<nexus_store::SaleException>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    next_before: Option<String>,
}

/// `GET /api/v1/sync/exceptions`: sales that arrived by sync with a price or discount beyond
/// what the staff member named in them may give. They are recorded (the sale happened) and
/// listed here, newest first.
#[utoipa::path(get, path = "/api/v1/sync/exceptions", tag = "sync", params(ExceptionQuery), security(("bearer" = ["manage_settings"])),
    responses((status = 200, body = ExceptionPage), crate::error::CommonErrors))]
pub(crate) async fn exceptions(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageSettings>,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<ExceptionQuery>,
) -> ApiResult<Json<ExceptionPage>> {
    let (items, next_before) =
        sync::exceptions(&state, &auth, query.before.as_deref(), query.limit).await?;
    Ok(Json(ExceptionPage { items, next_before }))
}
