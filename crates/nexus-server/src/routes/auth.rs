use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::{Email, NonEmptyText, Password, Role, SessionId, TenantId, UserId, throttle};
use nexus_store::{NewSession, NewTenant, NewUser, RefreshOutcome, RefreshRotation, UserRecord};
use serde::{Deserialize, Serialize};

use crate::auth::{
    ACCESS_TOKEN_SECONDS, Authorized, ClientAddress, REFRESH_TOKEN_SECONDS, RefreshToken,
    hash_secret, hash_token, permits, refresh_token_tenant, verify_secret,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
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

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TokenPair {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
}

/// A new session for `user`: the rows to store, and the refresh token to hand out once stored.
struct PendingSession {
    record: NewSession,
    refresh_token: String,
}

fn new_session(state: &AppState, tenant: TenantId, user: UserId) -> ApiResult<PendingSession> {
    let now = state.clock.now();
    let refresh = RefreshToken::generate(tenant)?;
    Ok(PendingSession {
        record: NewSession {
            id: SessionId::generate(now),
            user,
            refresh_token_hash: refresh.hash,
            refresh_expires_at: now.plus_seconds(REFRESH_TOKEN_SECONDS),
            now,
        },
        refresh_token: refresh.token,
    })
}

/// The token pair of a session that has been stored.
fn token_pair(
    state: &AppState,
    tenant: TenantId,
    user: &UserRecord,
    session: &PendingSession,
) -> ApiResult<TokenPair> {
    Ok(TokenPair {
        access_token: state.tokens.issue_access_token(
            tenant,
            user,
            session.record.id,
            session.record.now,
        )?,
        refresh_token: session.refresh_token.clone(),
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECONDS,
    })
}

/// Starts a session for `user` and hands out its first token pair.
async fn start_session(
    state: &AppState,
    tenant: TenantId,
    user: &UserRecord,
) -> ApiResult<TokenPair> {
    let session = new_session(state, tenant, user.id)?;
    state
        .store
        .create_session(tenant, session.record.clone())
        .await?;
    token_pair(state, tenant, user, &session)
}

/// `POST /api/v1/auth/register`: a new organisation (tenant) with its owner, signed in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest, security(()), responses((status = 201, body = RegisterResponse), (status = 409, description = "The email is taken", body = crate::error::ApiErrorBody), (status = 422, body = crate::error::ApiErrorBody), (status = 429, description = "Too many registrations from this address; see Retry-After", body = crate::error::ApiErrorBody)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<RegisterResponse>)> {
    let organisation = NonEmptyText::parse("organisation", &request.organisation, 200)?;
    let email = Email::parse(&request.email)?;
    let password = Password::parse(&request.password)?;
    let default_name = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or("owner")
        .to_owned();
    let name = NonEmptyText::parse(
        "name",
        request.name.as_deref().unwrap_or(&default_name),
        200,
    )?;
    let now = state.clock.now();
    // Counted once the request is well-formed: a typo in the form costs no registration.
    let key = format!("register:{}", client.key());
    if let Err(retry) = state
        .store
        .reserve_attempt(&key, state.registration_limit, now)
        .await?
    {
        return Err(ApiError::too_many_registrations(retry.seconds_after(now)));
    }
    let tenant = TenantId::generate(now);
    let owner = NewUser {
        id: UserId::generate(now),
        email,
        name,
        role: Role::Owner,
        branch_ids: Vec::new(),
        password_hash: Some(hash_secret(password.expose().to_owned()).await?),
        pin_hash: None,
    };
    // The owner's first session is stored in the provisioning transaction: a registration that
    // fails part-way leaves neither tenant nor session, and one that succeeds is signed in.
    let session = new_session(&state, tenant, owner.id)?;
    let owner_id = owner.id;
    let owner_record = state
        .store
        .register_tenant(NewTenant {
            id: tenant,
            name: organisation,
            owner,
            owner_session: session.record.clone(),
            now,
        })
        .await?;
    let tokens = token_pair(&state, tenant, &owner_record, &session)?;
    tracing::info!(%tenant, "organisation registered");
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            tenant_id: tenant,
            user_id: owner_id,
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
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()), responses((status = 200, body = TokenPair), (status = 401, body = crate::error::ApiErrorBody), (status = 429, description = "Too many failed sign-ins; see Retry-After", body = crate::error::ApiErrorBody)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenPair>> {
    let wrong = || ApiError::unauthenticated("the email or password is wrong");
    let email = Email::parse(&request.email).map_err(|_| wrong())?;
    let now = state.clock.now();
    // Both attempts are reserved before the password is hashed, so that a thousand guesses sent
    // at once are a few checks and many refusals, never a thousand checks.
    let Some(_turn) = state.sign_ins.enter(client.key()) else {
        return Err(ApiError::too_many_sign_ins_at_once());
    };
    let from_address = format!("sign-in:{email}:{}", client.key());
    let to_account = format!("sign-in:{email}");
    for (key, policy) in [
        (&from_address, throttle::SIGN_IN_FROM_ONE_ADDRESS),
        (&to_account, throttle::SIGN_IN_TO_ONE_ACCOUNT),
    ] {
        if let Err(retry) = state.store.reserve_attempt(key, policy, now).await? {
            return Err(ApiError::too_many_attempts(retry.seconds_after(now)));
        }
    }
    let login = state.store.find_login(&email).await?;
    let credentials = match login {
        Some(login) => {
            state
                .store
                .user_credentials(login.tenant, login.user)
                .await?
        }
        None => None,
    };
    let stored_hash = credentials
        .as_ref()
        .filter(|credentials| credentials.active)
        .and_then(|c| c.password_hash.clone());
    let verified = verify_secret(request.password, stored_hash).await?;
    let (Some(login), true) = (login, verified) else {
        return Err(wrong());
    };
    state.store.forget_attempts(&from_address).await?;
    state.store.forget_attempts(&to_account).await?;
    let user = state
        .store
        .get_user(login.tenant, login.user)
        .await?
        .ok_or_else(wrong)?;
    Ok(Json(start_session(&state, login.tenant, &user).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    refresh_token: String,
}

/// `POST /api/v1/auth/refresh`: rotates the refresh token. A token that was already rotated
/// revokes its whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest, security(()), responses((status = 200, body = TokenPair), (status = 401, body = crate::error::ApiErrorBody)))]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    let tenant = refresh_token_tenant(&request.refresh_token)?;
    let now = state.clock.now();
    let replacement = RefreshToken::generate(tenant)?;
    let outcome = state
        .store
        .rotate_refresh_token(
            tenant,
            RefreshRotation {
                presented_hash: hash_token(&request.refresh_token),
                replacement_hash: replacement.hash,
                replacement_expires_at: now.plus_seconds(REFRESH_TOKEN_SECONDS),
                now,
            },
        )
        .await
        .map_err(|error| match error {
            nexus_store::StoreError::UnknownTenant(_) => {
                ApiError::unauthenticated("the refresh token is invalid")
            }
            other => other.into(),
        })?;
    let (user, session) = match outcome {
        RefreshOutcome::Rotated { user, session } => (user, session),
        RefreshOutcome::Unknown => {
            return Err(ApiError::unauthenticated("the refresh token is invalid"));
        }
        RefreshOutcome::Expired => {
            return Err(ApiError::unauthenticated(
                "the refresh token has expired; sign in again",
            ));
        }
        RefreshOutcome::Revoked => {
            return Err(ApiError::unauthenticated(
                "this session has ended; sign in again",
            ));
        }
        RefreshOutcome::ReuseDetected => {
            tracing::warn!(%tenant, "a rotated refresh token was presented again; its session is revoked");
            return Err(ApiError::unauthenticated(
                "this refresh token was already used; the session has been ended for safety, sign in again",
            ));
        }
    };
    let user = state
        .store
        .authenticated_user(tenant, user, session)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("this session has ended; sign in again"))?;
    Ok(Json(TokenPair {
        access_token: state
            .tokens
            .issue_access_token(tenant, &user, session, now)?,
        refresh_token: replacement.token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECONDS,
    }))
}

/// `POST /api/v1/auth/logout`: ends the session the refresh token belongs to; its access
/// tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest, security(()), responses((status = 204, description = "The session has ended"), (status = 401, body = crate::error::ApiErrorBody)))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    let tenant = refresh_token_tenant(&request.refresh_token)?;
    let revoked = state
        .store
        .revoke_session_by_token(
            tenant,
            &hash_token(&request.refresh_token),
            state.clock.now(),
        )
        .await
        .or_else(|error| match error {
            nexus_store::StoreError::UnknownTenant(_) => Ok(false),
            other => Err(ApiError::from(other)),
        })?;
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::unauthenticated("the refresh token is invalid"))
    }
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
