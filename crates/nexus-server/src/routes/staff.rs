use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::{BranchId, Role};
use nexus_store::{UserChange, UserRecord};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::services::staff::{self, NewStaff};
use crate::state::AppState;

/// `GET /api/v1/staff`
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", security(("bearer" = ["view_staff"])), responses((status = 200, body = Vec<nexus_store::UserRecord>), crate::error::CommonErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStaff>,
) -> ApiResult<Json<Vec<UserRecord>>> {
    Ok(Json(staff::staff(&state, &auth).await?))
}

/// `GET /api/v1/staff/{id}`
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_staff"])), responses((status = 200, body = nexus_store::UserRecord), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStaff>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<UserRecord>> {
    Ok(Json(staff::member(&state, &auth, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateStaffRequest {
    email: String,
    name: String,
    role: Role,
    #[serde(default)]
    branch_ids: Vec<BranchId>,
    /// For signing in to the dashboard and API; cashiers who only use a till may have none.
    password: Option<String>,
    /// 4 to 8 digits, for signing in at a shop station.
    pin: Option<String>,
}

/// `POST /api/v1/staff`
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = CreateStaffRequest, security(("bearer" = ["manage_staff"])), responses((status = 201, body = nexus_store::UserRecord), crate::error::CommonErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStaff>,
    ApiJson(request): ApiJson<CreateStaffRequest>,
) -> ApiResult<(StatusCode, Json<UserRecord>)> {
    let new = NewStaff {
        email: request.email,
        name: request.name,
        role: request.role,
        branch_ids: request.branch_ids,
        password: request.password,
        pin: request.pin,
    };
    Ok((
        StatusCode::CREATED,
        Json(staff::add_member(&state, &auth, new).await?),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateStaffRequest {
    role: Option<Role>,
    branch_ids: Option<Vec<BranchId>>,
    active: Option<bool>,
}

/// `PATCH /api/v1/staff/{id}`: change role, branches or active state.
#[utoipa::path(patch, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = UpdateStaffRequest, security(("bearer" = ["manage_staff"])), responses((status = 200, body = nexus_store::UserRecord), crate::error::CommonErrors))]
pub(crate) async fn update(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStaff>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateStaffRequest>,
) -> ApiResult<Json<UserRecord>> {
    let change = UserChange {
        role: request.role,
        branch_ids: request.branch_ids,
        active: request.active,
        ..UserChange::default()
    };
    Ok(Json(staff::change_member(&state, &auth, id, change).await?))
}

/// `POST /api/v1/staff/{id}/deactivate`: the member can no longer sign in; their sessions end.
#[utoipa::path(post, path = "/api/v1/staff/{id}/deactivate", tag = "staff", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["manage_staff"])), responses((status = 200, body = nexus_store::UserRecord), crate::error::CommonErrors))]
pub(crate) async fn deactivate(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStaff>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<UserRecord>> {
    let change = UserChange {
        active: Some(false),
        ..UserChange::default()
    };
    Ok(Json(staff::change_member(&state, &auth, id, change).await?))
}
