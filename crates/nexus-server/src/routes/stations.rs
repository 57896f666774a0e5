use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use nexus_domain::{BranchId, NonEmptyText, TenantId};
use nexus_store::{EnrolOutcome, NewStation, StationRecord};
use nexus_sync::{EnrolRequest, Enrolled};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, StationCredential, hash_token, permits, random_bytes};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// How long an enrolment code works.
const ENROLMENT_CODE_SECONDS: i64 = 24 * 60 * 60;

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

/// An enrolment code: the tenant (so the code routes itself) and a random secret.
fn new_enrolment_code(tenant: TenantId) -> ApiResult<String> {
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(15)?);
    Ok(format!("{}-{secret}", tenant.as_uuid().simple()))
}

fn enrolment_code_tenant(code: &str) -> Option<TenantId> {
    let (tenant_hex, secret) = code.trim().split_once('-')?;
    if secret.is_empty() || code.len() > 100 {
        return None;
    }
    TenantId::from_storage_name(&format!("t_{tenant_hex}"))
}

/// `POST /api/v1/stations`: a station for one branch, and the code it enrols with.
#[utoipa::path(post, path = "/api/v1/stations", tag = "stations", request_body = CreateStationRequest, security(("bearer" = ["manage_stations"])), responses((status = 201, body = CreatedStation), crate::error::CommonErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStations>,
    ApiJson(request): ApiJson<CreateStationRequest>,
) -> ApiResult<(StatusCode, Json<CreatedStation>)> {
    if !auth.actor().can_see_branch(request.branch_id) {
        return Err(ApiError::validation(format!(
            "branch {} does not exist or is not yours",
            request.branch_id
        ))
        .with_field("branch_id"));
    }
    let name = NonEmptyText::parse("name", &request.name, 100)?;
    let now = state.clock.now();
    let enrolment_code = new_enrolment_code(auth.tenant)?;
    let station = state
        .store
        .create_station(
            auth.tenant,
            NewStation {
                id: Uuid::now_v7(),
                branch: request.branch_id,
                name,
                enrolment_code_hash: hash_token(&enrolment_code),
                enrolment_expires_at: now.plus_seconds(ENROLMENT_CODE_SECONDS),
                created_by: auth.user.id,
                now,
            },
        )
        .await?;
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
    let mut stations = state.store.list_stations(auth.tenant).await?;
    stations.retain(|station| auth.actor().can_see_branch(station.branch_id));
    Ok(Json(stations))
}

/// `DELETE /api/v1/stations/{id}`: revokes the station; its next push or pull is refused.
#[utoipa::path(delete, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["manage_stations"])), responses((status = 200, body = StationRecord), crate::error::CommonErrors))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStations>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<StationRecord>> {
    let visible = state
        .store
        .get_station(auth.tenant, id)
        .await?
        .filter(|station| auth.actor().can_see_branch(station.branch_id));
    if visible.is_none() {
        return Err(ApiError::not_found("station"));
    }
    let revoked = state
        .store
        .revoke_station(auth.tenant, id, state.clock.now())
        .await?;
    Ok(Json(revoked.ok_or_else(|| ApiError::not_found("station"))?))
}

/// `POST /api/v1/stations/enroll`: a station trades its one-time code for its credential.
#[utoipa::path(post, path = "/api/v1/stations/enroll", tag = "stations", request_body = EnrolRequest, security(()), responses((status = 200, body = Enrolled), (status = 401, description = "Unknown, used, expired or revoked code", body = crate::error::ApiErrorBody)))]
pub(crate) async fn enroll(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<EnrolRequest>,
) -> ApiResult<Json<Enrolled>> {
    let invalid = || {
        ApiError::unauthenticated(
            "the enrolment code is not valid or was already used; ask for a new one",
        )
    };
    let code = request.enrolment_code.trim();
    let tenant = enrolment_code_tenant(code).ok_or_else(invalid)?;
    let app_version = request
        .app_version
        .map(|version| version.chars().take(40).collect::<String>());
    let credential = StationCredential::generate(tenant)?;
    let outcome = state
        .store
        .enrol_station(
            tenant,
            &hash_token(code),
            &credential.hash,
            app_version,
            state.clock.now(),
        )
        .await
        .map_err(|error| match error {
            nexus_store::StoreError::UnknownTenant(_) => invalid(),
            other => other.into(),
        })?;
    match outcome {
        EnrolOutcome::Enrolled(station) => {
            tracing::info!(%tenant, station = %station.id, "station enrolled");
            let branch_name = state
                .store
                .get_branch(tenant, station.branch_id)
                .await?
                .map(|branch| branch.name)
                .unwrap_or_default();
            Ok(Json(Enrolled {
                station_id: station.id,
                tenant_id: tenant,
                branch_id: station.branch_id,
                credential: credential.credential,
                station_name: station.name,
                branch_name,
            }))
        }
        EnrolOutcome::UnknownCode => Err(invalid()),
        EnrolOutcome::Expired => Err(ApiError::unauthenticated(
            "the enrolment code has expired; ask for a new one",
        )),
        EnrolOutcome::Revoked => Err(ApiError::unauthenticated(
            "this station was revoked; ask for a new one",
        )),
    }
}
