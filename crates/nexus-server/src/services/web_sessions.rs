//! The dashboard's sessions and password resets. A dashboard session is a cookie on top of an
//! API session record, so signing out, deactivation and revoking the session end both; the
//! cookie's token is kept hashed, and so is a reset token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nexus_domain::{Email, Password, TenantId, throttle};
use nexus_store::{ShopDetails, UserRecord};

use crate::auth::{Authenticated, ClientAddress, hash_secret, hash_token, random_bytes};
use crate::error::{ApiError, ApiResult};
use crate::mail::{Email as Message, Mailer};
use crate::state::AppState;

/// However active, a dashboard session ends this long after it started.
pub const SESSION_LONGEST_SECONDS: i64 = 7 * 24 * 60 * 60;
/// How long an emailed reset link works.
pub const RESET_VALID_SECONDS: i64 = 60 * 60;
/// Activity is written down at most this often, so that browsing costs no write per page.
const TOUCH_AFTER_MILLIS: i64 = 60_000;

/// A started dashboard session: the cookie's value and the session's CSRF token.
pub struct StartedSession {
    pub cookie: String,
    pub csrf: String,
}

/// A tenant-scoped random token, `<tenant>.<secret>`, so that the tenant to look in is known
/// without a directory read.
fn tenant_token(tenant: TenantId) -> ApiResult<String> {
    Ok(format!(
        "{}.{}",
        tenant.as_uuid().simple(),
        URL_SAFE_NO_PAD.encode(random_bytes(32)?)
    ))
}

/// The tenant a token names, or `None` for anything not of our shape.
fn token_tenant(token: &str) -> Option<TenantId> {
    let (tenant_hex, secret) = token.split_once('.')?;
    if tenant_hex.len() != 32 || secret.is_empty() || token.len() > 200 {
        return None;
    }
    TenantId::from_storage_name(&format!("t_{tenant_hex}"))
}

/// A session for `user`, who has just proved who they are.
pub async fn start(
    state: &AppState,
    tenant: TenantId,
    user: &UserRecord,
) -> ApiResult<StartedSession> {
    let session = super::auth::start_session(state, tenant, user).await?;
    attach(state, tenant, session.record.id).await
}

/// A cookie on the API session `session`, already stored (the one registration starts).
pub async fn attach(
    state: &AppState,
    tenant: TenantId,
    session: nexus_domain::SessionId,
) -> ApiResult<StartedSession> {
    let cookie = tenant_token(tenant)?;
    let csrf = URL_SAFE_NO_PAD.encode(random_bytes(24)?);
    state
        .store
        .create_web_session(
            tenant,
            &hash_token(&cookie),
            session,
            &csrf,
            state.clock.now(),
        )
        .await?;
    Ok(StartedSession { cookie, csrf })
}

/// The person a session cookie belongs to and the session's CSRF token, while the session is
/// live: not signed out, not idle longer than `idle`, its user active. An expired session is
/// ended here.
pub async fn resume(
    state: &AppState,
    cookie: &str,
    idle: std::time::Duration,
) -> ApiResult<Option<(Authenticated, String)>> {
    let Some(tenant) = token_tenant(cookie) else {
        return Ok(None);
    };
    let hash = hash_token(cookie);
    let found = match state.store.web_session(tenant, &hash).await {
        Ok(found) => found,
        Err(nexus_store::StoreError::UnknownTenant(_)) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let Some(found) = found else { return Ok(None) };
    let now = state.clock.now();
    let idle_millis = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
    let idle_for = now.as_millis() - found.last_seen_at.as_millis();
    let age = now.as_millis() - found.created_at.as_millis();
    if idle_for > idle_millis || age > SESSION_LONGEST_SECONDS * 1000 {
        state.store.end_web_session(tenant, &hash, now).await?;
        return Ok(None);
    }
    if idle_for > TOUCH_AFTER_MILLIS {
        state.store.touch_web_session(tenant, &hash, now).await?;
    }
    tracing::Span::current().record("tenant", tracing::field::display(tenant));
    Ok(Some((
        Authenticated {
            tenant,
            session: found.session,
            user: found.user,
        },
        found.csrf_token,
    )))
}

/// Ends the session the cookie names (and its API session); nothing for an unknown cookie.
pub async fn end(state: &AppState, cookie: &str) -> ApiResult<()> {
    let Some(tenant) = token_tenant(cookie) else {
        return Ok(());
    };
    match state
        .store
        .end_web_session(tenant, &hash_token(cookie), state.clock.now())
        .await
    {
        Ok(()) | Err(nexus_store::StoreError::UnknownTenant(_)) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Emails a reset link to `email` if it belongs to an active member of staff with a password.
/// Says nothing either way, so the answer never tells who has an account; the mail goes out
/// in the background for the same reason. Requests are limited per client address.
pub async fn request_reset(
    state: &AppState,
    mailer: &std::sync::Arc<Mailer>,
    client: ClientAddress,
    email: &str,
    public_url: &str,
) -> ApiResult<()> {
    let email = Email::parse(email).map_err(|error| ApiError::from(error).with_field("email"))?;
    let now = state.clock.now();
    if let Err(retry) = state
        .store
        .reserve_attempt(
            &format!("reset:{}", client.key()),
            throttle::SIGN_IN_FROM_ONE_ADDRESS,
            now,
        )
        .await?
    {
        return Err(ApiError::too_many_attempts(retry.seconds_after(now)));
    }
    let Some(login) = state.store.find_login(&email).await? else {
        return Ok(());
    };
    let Some(user) = state.store.get_user(login.tenant, login.user).await? else {
        return Ok(());
    };
    if !user.active {
        return Ok(());
    }
    let token = tenant_token(login.tenant)?;
    state
        .store
        .create_password_reset(
            login.tenant,
            &hash_token(&token),
            user.id,
            now,
            now.plus_seconds(RESET_VALID_SECONDS),
        )
        .await?;
    let message = Message {
        to: user.email.clone(),
        subject: "Reset your Nexus password".to_owned(),
        text: format!(
            "Hello {name},\n\nSomeone (we hope you) asked to reset the password of your Nexus \
             account. Open this link within an hour to choose a new one:\n\n\
             {public_url}/reset-password?token={token}\n\n\
             If it was not you, ignore this email: your password stays as it is.\n",
            name = user.name
        ),
    };
    let mailer = mailer.clone();
    tokio::spawn(async move {
        if let Err(error) = mailer.send(message).await {
            tracing::error!(%error, "the password reset email was not sent");
        }
    });
    Ok(())
}

/// Sets a new password with an emailed token and ends every session of its user. `Ok(false)`
/// when the token is unknown, used or expired.
pub async fn reset_password(state: &AppState, token: &str, password: &str) -> ApiResult<bool> {
    let password = Password::parse(password)?;
    let Some(tenant) = token_tenant(token) else {
        return Ok(false);
    };
    let hash = hash_secret(password.expose().to_owned()).await?;
    let used = state
        .store
        .use_password_reset(tenant, &hash_token(token), &hash, state.clock.now())
        .await;
    match used {
        Ok(user) => Ok(user.is_some()),
        Err(nexus_store::StoreError::UnknownTenant(_)) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// The shop's receipt header and the first-run steps set aside.
pub async fn shop_details(state: &AppState, auth: &Authenticated) -> ApiResult<ShopDetails> {
    Ok(state.store.shop_details(auth.tenant).await?)
}

/// Replaces the shop's details (owners); every text is checked like any other name.
pub async fn update_shop_details(
    state: &AppState,
    auth: &Authenticated,
    details: ShopDetails,
) -> ApiResult<ShopDetails> {
    auth.require(nexus_domain::Permission::ManageSettings)?;
    let check = |field: &'static str, text: Option<String>, longest: usize| -> ApiResult<_> {
        let Some(text) = text
            .map(|text| text.trim().to_owned())
            .filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        let lines = if field == "address" || field == "receipt_footer" {
            nexus_domain::values::Lines::Many
        } else {
            nexus_domain::values::Lines::One
        };
        nexus_domain::values::refuse_control_characters(field, &text, lines)?;
        if text.chars().count() > longest {
            return Err(
                ApiError::validation(format!("{field} is at most {longest} characters"))
                    .with_field(field),
            );
        }
        Ok(Some(text))
    };
    let details = ShopDetails {
        trading_name: check("trading_name", details.trading_name, 120)?,
        address: check("address", details.address, 300)?,
        phone: check("phone", details.phone, 40)?,
        tin: check("tin", details.tin, 40)?,
        receipt_footer: check("receipt_footer", details.receipt_footer, 300)?,
        skipped_steps: details.skipped_steps,
    };
    Ok(state
        .store
        .update_shop_details(auth.tenant, &details, state.clock.now())
        .await?)
}

/// Notes that a first-run step was set aside (owners, who run the first-run path).
pub async fn skip_step(state: &AppState, auth: &Authenticated, step: &str) -> ApiResult<()> {
    auth.require(nexus_domain::Permission::ManageSettings)?;
    let mut details = state.store.shop_details(auth.tenant).await?;
    if !details.skipped_steps.iter().any(|skipped| skipped == step) {
        details.skipped_steps.push(step.to_owned());
        state
            .store
            .update_shop_details(auth.tenant, &details, state.clock.now())
            .await?;
    }
    Ok(())
}
