use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::roles::may_manage_staff_member;
use nexus_domain::{BranchId, Email, NonEmptyText, Password, Pin, Role, UserId};
use nexus_store::{NewUser, UserChange, UserRecord};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{Authenticated, Authorized, hash_secret, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Owners see everyone; managers see themselves and the staff who share a branch with them.
fn can_see(auth: &Authenticated, member: &UserRecord) -> bool {
    auth.user.role == Role::Owner
        || member.id == auth.user.id
        || member
            .branch_ids
            .iter()
            .any(|branch| auth.user.branch_ids.contains(branch))
}

/// Managers and cashiers work in branches; only an owner may belong to none.
fn check_has_branch(role: Role, branches: &[BranchId]) -> ApiResult<()> {
    if role != Role::Owner && branches.is_empty() {
        return Err(
            ApiError::validation(format!("a {role} must belong to at least one branch"))
                .with_field("branch_ids"),
        );
    }
    Ok(())
}

async fn visible_member(state: &AppState, auth: &Authenticated, id: Uuid) -> ApiResult<UserRecord> {
    state
        .store
        .get_user(auth.tenant, UserId::from_uuid(id))
        .await?
        .filter(|member| can_see(auth, member))
        .ok_or_else(|| ApiError::not_found("staff member"))
}

/// `GET /api/v1/staff`
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", security(("bearer" = ["view_staff"])), responses((status = 200, body = Vec<nexus_store::UserRecord>), crate::error::CommonErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStaff>,
) -> ApiResult<Json<Vec<UserRecord>>> {
    let mut staff = state.store.list_users(auth.tenant).await?;
    staff.retain(|member| can_see(&auth, member));
    Ok(Json(staff))
}

/// `GET /api/v1/staff/{id}`
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_staff"])), responses((status = 200, body = nexus_store::UserRecord), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStaff>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<UserRecord>> {
    Ok(Json(visible_member(&state, &auth, id).await?))
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
    let role = request.role;
    let email = Email::parse(&request.email)?;
    let name = NonEmptyText::parse("name", &request.name, 200)?;
    let password = request
        .password
        .as_deref()
        .map(Password::parse)
        .transpose()?;
    let pin = request.pin.as_deref().map(Pin::parse).transpose()?;
    check_has_branch(role, &request.branch_ids)?;
    if !may_manage_staff_member(&auth.actor(), &[role], &request.branch_ids) {
        return Err(ApiError::forbidden(
            "a manager may only add cashiers to their own branches",
        ));
    }
    let password_hash = match password {
        Some(password) => Some(hash_secret(password.expose().to_owned()).await?),
        None => None,
    };
    let pin_hash = match pin {
        Some(pin) => Some(hash_secret(pin.expose().to_owned()).await?),
        None => None,
    };
    let now = state.clock.now();
    let user = NewUser {
        id: UserId::generate(now),
        email,
        name,
        role,
        branch_ids: request.branch_ids,
        password_hash,
        pin_hash,
    };
    let created = state.store.create_user(auth.tenant, user, now).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateStaffRequest {
    role: Option<Role>,
    branch_ids: Option<Vec<BranchId>>,
    active: Option<bool>,
}

async fn apply_change(
    state: &AppState,
    auth: &Authenticated,
    id: Uuid,
    change: UserChange,
) -> ApiResult<UserRecord> {
    let member = visible_member(state, auth, id).await?;
    let new_role = change.role.unwrap_or(member.role);
    let new_branches = change
        .branch_ids
        .clone()
        .unwrap_or_else(|| member.branch_ids.clone());
    let mut touched_branches = member.branch_ids.clone();
    touched_branches.extend(new_branches.iter().copied());
    if !may_manage_staff_member(&auth.actor(), &[member.role, new_role], &touched_branches) {
        return Err(ApiError::forbidden(
            "a manager may only manage cashiers of their own branches",
        ));
    }
    check_has_branch(new_role, &new_branches)?;
    state
        .store
        .update_user(auth.tenant, &member, change, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("staff member"))
}

/// `PATCH /api/v1/staff/{id}`: change role, branches or active state.
#[utoipa::path(patch, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = UpdateStaffRequest, security(("bearer" = ["manage_staff"])), responses((status = 200, body = nexus_store::UserRecord), crate::error::CommonErrors))]
pub(crate) async fn update(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStaff>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateStaffRequest>,
) -> ApiResult<Json<UserRecord>> {
    if request.role.is_none() && request.branch_ids.is_none() && request.active.is_none() {
        return Err(ApiError::validation(
            "nothing to change: send role, branch_ids or active",
        ));
    }
    let role = request.role;
    let change = UserChange {
        role,
        branch_ids: request.branch_ids,
        active: request.active,
    };
    Ok(Json(apply_change(&state, &auth, id, change).await?))
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
    Ok(Json(apply_change(&state, &auth, id, change).await?))
}
