//! Registration, sign-in, and the sessions they start: used by the JSON API (token pairs) and
//! by the dashboard (cookie sessions on the same session records).

use nexus_domain::{Email, NonEmptyText, Password, Role, SessionId, TenantId, UserId, throttle};
use nexus_store::{NewSession, NewTenant, NewUser, RefreshOutcome, RefreshRotation, UserRecord};
use serde::Serialize;

use crate::auth::{
    ACCESS_TOKEN_SECONDS, ClientAddress, REFRESH_TOKEN_SECONDS, RefreshToken, hash_secret,
    hash_token, refresh_token_tenant, verify_secret,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// A new session for `user`: the rows to store, and the refresh token to hand out once stored.
pub struct PendingSession {
    pub record: NewSession,
    refresh_token: String,
}

pub fn new_session(state: &AppState, tenant: TenantId, user: UserId) -> ApiResult<PendingSession> {
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
pub fn token_pair(
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

/// Starts and stores a session for `user`.
pub async fn start_session(
    state: &AppState,
    tenant: TenantId,
    user: &UserRecord,
) -> ApiResult<PendingSession> {
    let session = new_session(state, tenant, user.id)?;
    state
        .store
        .create_session(tenant, session.record.clone())
        .await?;
    Ok(session)
}

/// A new organisation as its owner typed it.
pub struct Registration<'a> {
    pub organisation: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    /// The part of the email before `@` when absent.
    pub name: Option<&'a str>,
}

/// A new organisation (tenant) with its owner, signed in: the owner's first session is stored
/// in the provisioning transaction, so a registration that fails part-way leaves neither.
pub async fn register(
    state: &AppState,
    client: ClientAddress,
    registration: Registration<'_>,
) -> ApiResult<(TenantId, UserRecord, PendingSession)> {
    let organisation = NonEmptyText::parse("organisation", registration.organisation, 200)?;
    let email = Email::parse(registration.email)
        .map_err(|error| ApiError::from(error).with_field("email"))?;
    let password = Password::parse(registration.password)?;
    let default_name = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or("owner")
        .to_owned();
    let name = NonEmptyText::parse("name", registration.name.unwrap_or(&default_name), 200)?;
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
    let session = new_session(state, tenant, owner.id)?;
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
    tracing::info!(%tenant, "organisation registered");
    Ok((tenant, owner_record, session))
}

/// Checks an email and password. Attempts are counted per account and client address, and per
/// account from anywhere, and reserved before the password is hashed, so that a thousand
/// guesses sent at once are a few checks and many refusals, never a thousand checks.
pub async fn check_password(
    state: &AppState,
    client: ClientAddress,
    email: &str,
    password: String,
) -> ApiResult<(TenantId, UserRecord)> {
    let wrong = || ApiError::unauthenticated("the email or password is wrong");
    let email = Email::parse(email).map_err(|_| wrong())?;
    let now = state.clock.now();
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
    let verified = verify_secret(password, stored_hash).await?;
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
    Ok((login.tenant, user))
}

/// Rotates a refresh token. A token that was already rotated revokes its whole session.
pub async fn refresh(state: &AppState, refresh_token: &str) -> ApiResult<TokenPair> {
    let tenant = refresh_token_tenant(refresh_token)?;
    let now = state.clock.now();
    let replacement = RefreshToken::generate(tenant)?;
    let outcome = state
        .store
        .rotate_refresh_token(
            tenant,
            RefreshRotation {
                presented_hash: hash_token(refresh_token),
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
    Ok(TokenPair {
        access_token: state
            .tokens
            .issue_access_token(tenant, &user, session, now)?,
        refresh_token: replacement.token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECONDS,
    })
}

/// Ends the session the refresh token belongs to; its access tokens stop working at once.
pub async fn sign_out(state: &AppState, refresh_token: &str) -> ApiResult<()> {
    let tenant = refresh_token_tenant(refresh_token)?;
    let revoked = state
        .store
        .revoke_session_by_token(tenant, &hash_token(refresh_token), state.clock.now())
        .await
        .or_else(|error| match error {
            nexus_store::StoreError::UnknownTenant(_) => Ok(false),
            other => Err(ApiError::from(other)),
        })?;
    if revoked {
        Ok(())
    } else {
        Err(ApiError::unauthenticated("the refresh token is invalid"))
    }
}
