use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::BranchId;
use nexus_store::StationRecord;
use nexus_sync::{EnrolRequest, Enrolled};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::services::stations;
use crate::state::AppState;

/// How long an enrolment code works.

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateStationRequest {
    branch_id: BranchId,
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedStation {
    #[serde(flatten)]
    station: StationRecord,
    /// One-time code for `nexus pos enroll`; shown once, valid until `enrolment_expires_at`.
    enrolment_code: String,
}

/// `POST /api/v1/stations`: a station for one branch, and the code it enrols with.
#[utoipa::path(post, path = "/api/v1/stations", tag = "stations", request_body = CreateStationRequest, security(("bearer" = ["manage_stations"])), responses((status = 201, body = CreatedStation), crate::error::CommonErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStations>,
    ApiJson(request): ApiJson<CreateStationRequest>,
) -> ApiResult<(StatusCode, Json<CreatedStation>)> {
    let (station, enrolment_code) =
        stations::create_station(&state, &auth, request.branch_id, &request.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedStation {
            station,
            enrolment_code,
        }),
    ))
}

/// `GET /api/v1/stations`: stations with their sync health (owners: all; managers: their branches).
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations", security(("bearer" = ["manage_stations"])), responses((status = 200, body = Vec<StationRecord>), crate::error::CommonErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStations>,
) -> ApiResult<Json<Vec<StationRecord>>> {
    Ok(Json(stations::stations(&state, &auth).await?))
}

/// `DELETE /api/v1/stations/{id}`: revokes the station; its next push or pull is refused.
#[utoipa::path(delete, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["manage_stations"])), responses((status = 200, body = StationRecord), crate::error::CommonErrors))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStations>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<StationRecord>> {
    Ok(Json(stations::revoke_station(&state, &auth, id).await?))
}

/// `POST /api/v1/stations/enroll`: a station trades its one-time code for its credential.
#[utoipa::path(post, path = "/api/v1/stations/enroll", tag = "stations", request_body = EnrolRequest, security(()), responses((status = 200, body = Enrolled), (status = 401, description = "Unknown, used, expired or revoked code", body = crate::error::ApiErrorBody), crate::error::BodyErrors))]
pub(crate) async fn enroll(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<EnrolRequest>,
) -> ApiResult<Json<Enrolled>> {
    Ok(Json(stations::enrol(&state, request).await?))
}
