use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::{TenantId, UserId};
use nexus_store::UserRecord;
use serde::{Deserialize, Serialize};

use crate::auth::{Authorized, ClientAddress, permits};
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::services::auth::{self, TokenPair};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    organisation: String,
    email: String,
    password: String,
    /// The owner's name; the part of the email before `@` when absent.
    name: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RegisterResponse {
    tenant_id: TenantId,
    user_id: UserId,
    #[serde(flatten)]
    tokens: TokenPair,
}

/// `POST /api/v1/auth/register`: a new organisation (tenant) with its owner, signed in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest, security(()), responses((status = 201, body = RegisterResponse), (status = 409, description = "The email is taken", body = crate::error::ApiErrorBody), (status = 429, description = "Too many registrations from this address; see Retry-After", body = crate::error::ApiErrorBody), crate::error::BodyErrors))]
pub(crate) async fn register(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<RegisterResponse>)> {
    let registration = auth::Registration {
        organisation: &request.organisation,
        email: &request.email,
        password: &request.password,
        name: request.name.as_deref(),
    };
    let (tenant, owner, session) = auth::register(&state, client, registration).await?;
    let tokens = auth::token_pair(&state, tenant, &owner, &session)?;
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            tenant_id: tenant,
            user_id: owner.id,
            tokens,
        }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    email: String,
    password: String,
}

/// `POST /api/v1/auth/login`. Attempts are counted per account and client address, and per
/// account from anywhere; past a few failures, each attempt must wait longer (429 with
/// Retry-After) before the password is even checked.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()), responses((status = 200, body = TokenPair), (status = 401, body = crate::error::ApiErrorBody), (status = 429, description = "Too many failed sign-ins; see Retry-After", body = crate::error::ApiErrorBody), crate::error::BodyErrors))]
pub(crate) async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenPair>> {
    let (tenant, user) =
        auth::check_password(&state, client, &request.email, request.password).await?;
    let session = auth::start_session(&state, tenant, &user).await?;
    Ok(Json(auth::token_pair(&state, tenant, &user, &session)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    refresh_token: String,
}

/// `POST /api/v1/auth/refresh`: rotates the refresh token. A token that was already rotated
/// revokes its whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest, security(()), responses((status = 200, body = TokenPair), (status = 401, body = crate::error::ApiErrorBody), crate::error::BodyErrors))]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(auth::refresh(&state, &request.refresh_token).await?))
}

/// `POST /api/v1/auth/logout`: ends the session the refresh token belongs to; its access
/// tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest, security(()), responses((status = 204, description = "The session has ended"), (status = 401, body = crate::error::ApiErrorBody), crate::error::BodyErrors))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    auth::sign_out(&state, &request.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct MeResponse {
    tenant_id: TenantId,
    #[serde(flatten)]
    user: UserRecord,
}

/// `GET /api/v1/me`: who is signed in.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = ["view_own_profile"])), responses((status = 200, body = MeResponse), crate::error::CommonErrors))]
pub(crate) async fn me(auth: Authorized<permits::ViewOwnProfile>) -> ApiResult<Json<MeResponse>> {
    let auth = auth.auth;
    Ok(Json(MeResponse {
        tenant_id: auth.tenant,
        user: auth.user,
    }))
}
