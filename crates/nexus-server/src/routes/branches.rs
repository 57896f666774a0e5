use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_store::Branch;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::services::branches;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    #[serde(default)]
    include_archived: bool,
}

/// `GET /api/v1/branches`: owners see every branch, others their own. Archived branches only
/// with `?include_archived=true`.
#[utoipa::path(get, path = "/api/v1/branches", tag = "branches", params(ListQuery), security(("bearer" = ["view_branches"])), responses((status = 200, body = Vec<nexus_store::Branch>), crate::error::CommonErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewBranches>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<Branch>>> {
    Ok(Json(
        branches::branches(&state, &auth, query.include_archived).await?,
    ))
}

/// `GET /api/v1/branches/{id}`
#[utoipa::path(get, path = "/api/v1/branches/{id}", tag = "branches", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_branches"])), responses((status = 200, body = nexus_store::Branch), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewBranches>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Branch>> {
    Ok(Json(branches::branch(&state, &auth, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBranchRequest {
    name: String,
    address: Option<String>,
}

/// `POST /api/v1/branches`
#[utoipa::path(post, path = "/api/v1/branches", tag = "branches", request_body = CreateBranchRequest, security(("bearer" = ["manage_branches"])), responses((status = 201, body = nexus_store::Branch), crate::error::CommonErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageBranches>,
    ApiJson(request): ApiJson<CreateBranchRequest>,
) -> ApiResult<(StatusCode, Json<Branch>)> {
    let branch =
        branches::create_branch(&state, &auth, &request.name, request.address.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(branch)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBranchRequest {
    name: Option<String>,
    #[serde(default, deserialize_with = "nexus_domain::values::present")]
    address: Option<Option<String>>,
}

/// `PATCH /api/v1/branches/{id}`: rename, or set or clear (`null`) the address.
#[utoipa::path(patch, path = "/api/v1/branches/{id}", tag = "branches", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = UpdateBranchRequest, security(("bearer" = ["manage_branches"])), responses((status = 200, body = nexus_store::Branch), crate::error::CommonErrors))]
pub(crate) async fn update(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageBranches>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateBranchRequest>,
) -> ApiResult<Json<Branch>> {
    let address = request.address.as_ref().map(Option::as_deref);
    Ok(Json(
        branches::update_branch(&state, &auth, id, request.name.as_deref(), address).await?,
    ))
}

/// `POST /api/v1/branches/{id}/archive`: the branch leaves the lists; its history stays.
#[utoipa::path(post, path = "/api/v1/branches/{id}/archive", tag = "branches", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["manage_branches"])), responses((status = 200, body = nexus_store::Branch), crate::error::CommonErrors))]
pub(crate) async fn archive(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageBranches>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Branch>> {
    Ok(Json(branches::archive_branch(&state, &auth, id).await?))
}
