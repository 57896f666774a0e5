use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::{BranchId, NonEmptyText};
use nexus_store::{Branch, NewBranch};
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use crate::auth::{Authenticated, Authorized, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

const NAME_MAX: usize = 120;
const ADDRESS_MAX: usize = 500;

/// Tells "absent" (`None`) from "null" (`Some(None)`) in a JSON patch.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn parse_address(address: Option<&str>) -> ApiResult<Option<NonEmptyText>> {
    Ok(address
        .filter(|text| !text.trim().is_empty())
        .map(|text| NonEmptyText::parse("address", text, ADDRESS_MAX))
        .transpose()?)
}

async fn visible_branch(state: &AppState, auth: &Authenticated, id: Uuid) -> ApiResult<Branch> {
    let branch = BranchId::from_uuid(id);
    if !auth.actor().can_see_branch(branch) {
        return Err(ApiError::not_found("branch"));
    }
    state
        .store
        .get_branch(auth.tenant, branch)
        .await?
        .ok_or_else(|| ApiError::not_found("branch"))
}

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
    let mut branches = state.store.list_branches(auth.tenant).await?;
    branches.retain(|branch| {
        auth.actor().can_see_branch(branch.id)
            && (query.include_archived || branch.archived_at.is_none())
    });
    Ok(Json(branches))
}

/// `GET /api/v1/branches/{id}`
#[utoipa::path(get, path = "/api/v1/branches/{id}", tag = "branches", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_branches"])), responses((status = 200, body = nexus_store::Branch), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewBranches>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Branch>> {
    Ok(Json(visible_branch(&state, &auth, id).await?))
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
    let name = NonEmptyText::parse("name", &request.name, NAME_MAX)?;
    let address = parse_address(request.address.as_deref())?;
    let now = state.clock.now();
    let branch = state
        .store
        .create_branch(
            auth.tenant,
            NewBranch {
                id: BranchId::generate(now),
                name,
                address,
                now,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(branch)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBranchRequest {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
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
    if request.name.is_none() && request.address.is_none() {
        return Err(ApiError::validation(
            "nothing to change: send name or address",
        ));
    }
    let name = request
        .name
        .as_deref()
        .map(|name| NonEmptyText::parse("name", name, NAME_MAX))
        .transpose()?;
    let address = request
        .address
        .map(|address| parse_address(address.as_deref()))
        .transpose()?;
    visible_branch(&state, &auth, id).await?;
    let updated = state
        .store
        .update_branch(auth.tenant, BranchId::from_uuid(id), name, address)
        .await?;
    Ok(Json(updated.ok_or_else(|| ApiError::not_found("branch"))?))
}

/// `POST /api/v1/branches/{id}/archive`: the branch leaves the lists; its history stays.
#[utoipa::path(post, path = "/api/v1/branches/{id}/archive", tag = "branches", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["manage_branches"])), responses((status = 200, body = nexus_store::Branch), crate::error::CommonErrors))]
pub(crate) async fn archive(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageBranches>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Branch>> {
    visible_branch(&state, &auth, id).await?;
    let archived = state
        .store
        .archive_branch(auth.tenant, BranchId::from_uuid(id), state.clock.now())
        .await?;
    Ok(Json(archived.ok_or_else(|| ApiError::not_found("branch"))?))
}
