//! Passwords, tokens and the authenticated-request extractor.
//!
//! - Passwords and PINs: argon2id with the crate's default (OWASP) parameters, hashed on a
//!   blocking thread.
//! - Access tokens: HS256 JWTs, 15 minutes, carrying user, tenant, session, role and branches.
//!   Expiry is checked against the injected clock, not the machine's.
//! - Refresh tokens: `<tenant hex>.<32 random bytes, base64url>`, opaque to clients; only their
//!   SHA-256 is stored. The tenant prefix routes the token to the tenant's store.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use nexus_domain::roles::Actor;
use nexus_domain::{BranchId, Permission, Role, SessionId, TenantId, UnixMillis, UserId};
use nexus_store::UserRecord;
use ring::rand::SecureRandom as _;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
pub const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 60 * 60;

/// After this many failed sign-ins in a row, each further failure doubles the wait.
const FREE_LOGIN_FAILURES: i32 = 5;
const MAX_LOGIN_WAIT_SECONDS: i64 = 15 * 60;

pub fn random_bytes(length: usize) -> ApiResult<Vec<u8>> {
    let mut bytes = vec![0_u8; length];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::internal("the system random number generator failed"))?;
    Ok(bytes)
}

/// argon2id takes about 19 MiB and tens of milliseconds per hash. A flood of sign-ins must queue
/// here rather than start hundreds of hashes at once and exhaust memory.
static HASHING_PERMITS: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(4));

async fn hashing_permit() -> ApiResult<tokio::sync::SemaphorePermit<'static>> {
    HASHING_PERMITS
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the hashing semaphore was closed"))
}

pub async fn hash_secret(secret: String) -> ApiResult<String> {
    let _permit = hashing_permit().await?;
    tokio::task::spawn_blocking(move || {
        let salt_bytes = random_bytes(16)?;
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|error| ApiError::internal(error.to_string()))?;
        Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| ApiError::internal(format!("argon2: {error}")))
    })
    .await
    .map_err(|error| ApiError::internal(format!("hashing task: {error}")))?
}

/// A well-formed argon2id hash with the default parameters that matches no password: checked
/// when there is no real hash, so that unknown emails cost the same time as known ones.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3Y6tCKnkV2bq2cJ5Ma2gQo3jZsGm4kBc5FyC0YUk0wI";

/// Checks `secret` against a stored hash. With no hash (unknown email, user without a
/// password) a dummy hash is checked instead, so that the answer takes the same time either way.
pub async fn verify_secret(secret: String, stored_hash: Option<String>) -> ApiResult<bool> {
    let _permit = hashing_permit().await?;
    tokio::task::spawn_blocking(move || {
        let hash_text = stored_hash.as_deref().unwrap_or(DUMMY_HASH);
        let Ok(parsed) = PasswordHash::new(hash_text) else {
            return Ok(false);
        };
        let matches = Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok();
        Ok(matches && stored_hash.is_some())
    })
    .await
    .map_err(|error| ApiError::internal(format!("hashing task: {error}")))?
}

/// How long an email must wait after its `failures`-th failed sign-in in a row: nothing for the
/// first few, then doubling from one second up to a cap.
pub fn login_wait_seconds(failures: i32) -> i64 {
    if failures <= FREE_LOGIN_FAILURES {
        return 0;
    }
    let doublings = u32::try_from(failures - FREE_LOGIN_FAILURES - 1)
        .unwrap_or(u32::MAX)
        .min(20);
    (1_i64 << doublings).min(MAX_LOGIN_WAIT_SECONDS)
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user.
    pub sub: UserId,
    /// The tenant.
    pub tid: TenantId,
    /// The session (refresh-token family); revoking it ends this token too.
    pub sid: SessionId,
    pub role: Role,
    pub branches: Vec<BranchId>,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue_access_token(
        &self,
        tenant: TenantId,
        user: &UserRecord,
        session: SessionId,
        now: UnixMillis,
    ) -> ApiResult<String> {
        let claims = AccessClaims {
            sub: user.id,
            tid: tenant,
            sid: session,
            role: user.role,
            branches: user.branch_ids.clone(),
            iat: now.as_seconds(),
            exp: now.as_seconds() + ACCESS_TOKEN_SECONDS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| ApiError::internal(format!("signing a token: {error}")))
    }

    /// Verifies signature and algorithm, then expiry against `now`.
    pub fn verify_access_token(&self, token: &str, now: UnixMillis) -> ApiResult<AccessClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is ours to check, against the injected clock.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|_| ApiError::unauthenticated("the access token is invalid"))?;
        if data.claims.exp <= now.as_seconds() {
            return Err(ApiError::unauthenticated(
                "the access token has expired; refresh it",
            ));
        }
        Ok(data.claims)
    }
}

/// A refresh token as handed to the client, and the hash the store keeps.
pub struct RefreshToken {
    pub token: String,
    pub hash: Vec<u8>,
}

impl RefreshToken {
    pub fn generate(tenant: TenantId) -> ApiResult<Self> {
        let secret = URL_SAFE_NO_PAD.encode(random_bytes(32)?);
        let token = format!("{}.{secret}", tenant.as_uuid().simple());
        let hash = hash_token(&token);
        Ok(Self { token, hash })
    }
}

pub fn hash_token(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}

/// The tenant a refresh token belongs to, or an error for anything not of our shape.
pub fn refresh_token_tenant(token: &str) -> ApiResult<TenantId> {
    let invalid = || ApiError::unauthenticated("the refresh token is invalid");
    let (tenant_hex, secret) = token.split_once('.').ok_or_else(invalid)?;
    if tenant_hex.len() != 32 || secret.is_empty() || token.len() > 200 {
        return Err(invalid());
    }
    TenantId::from_storage_name(&format!("t_{tenant_hex}")).ok_or_else(invalid)
}

/// A verified, current member of staff, and the tenant every query of the request is bound to.
/// Handlers that take this cannot run without a tenant; there is no other way to get one.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub tenant: TenantId,
    pub session: SessionId,
    pub user: UserRecord,
}

impl Authenticated {
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            role: self.user.role,
            branches: &self.user.branch_ids,
        }
    }

    /// The permission-matrix check every route makes.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.user.role.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "a {} may not do this",
                self.user.role
            )))
        }
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthenticated("sign in first: send Authorization: Bearer <access token>")
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                ApiError::unauthenticated("the Authorization header must be: Bearer <access token>")
            })?;
        let claims = state.tokens.verify_access_token(token, state.clock.now())?;
        // Role, branches and active state are read fresh, so a change or a sign-out takes effect
        // at once rather than when the token expires.
        let user = state
            .store
            .authenticated_user(claims.tid, claims.sub, claims.sid)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("this session has ended; sign in again"))?;
        tracing::Span::current().record("tenant", tracing::field::display(claims.tid));
        Ok(Self {
            tenant: claims.tid,
            session: claims.sid,
            user,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_parses_so_unknown_emails_cost_a_real_check() {
        let parsed = PasswordHash::new(DUMMY_HASH).expect("well-formed PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(
            Argon2::default()
                .verify_password(b"anything", &parsed)
                .is_err()
        );
    }

    #[test]
    fn throttle_is_free_for_five_failures_then_doubles_up_to_a_cap() {
        let waits: Vec<i64> = (1..=40).map(login_wait_seconds).collect();
        assert_eq!(&waits[..9], &[0, 0, 0, 0, 0, 1, 2, 4, 8]);
        assert_eq!(waits.last().copied(), Some(MAX_LOGIN_WAIT_SECONDS));
        assert_eq!(login_wait_seconds(i32::MAX), MAX_LOGIN_WAIT_SECONDS);
    }

    #[test]
    fn tokens_expire_by_the_injected_clock_and_reject_tampering() {
        let keys = TokenKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let at = UnixMillis::from_millis(1_767_225_600_000);
        let user = UserRecord {
            id: UserId::generate(at),
            email: "ama@shop.gh".into(),
            name: "Ama".into(),
            role: Role::Owner,
            branch_ids: vec![],
            active: true,
            has_password: true,
            has_pin: false,
            created_at: at,
        };
        let token = keys
            .issue_access_token(TenantId::generate(at), &user, SessionId::generate(at), at)
            .expect("token");
        assert!(
            keys.verify_access_token(&token, at.plus_seconds(ACCESS_TOKEN_SECONDS - 1))
                .is_ok()
        );
        assert!(
            keys.verify_access_token(&token, at.plus_seconds(ACCESS_TOKEN_SECONDS))
                .is_err()
        );
        let other_keys = TokenKeys::from_secret(b"another-secret-another-secret-xx");
        assert!(other_keys.verify_access_token(&token, at).is_err());
    }

    #[test]
    fn refresh_tokens_name_their_tenant_and_nothing_else_parses() {
        let tenant = TenantId::generate(UnixMillis::from_millis(5));
        let refresh = RefreshToken::generate(tenant).expect("token");
        assert_eq!(refresh_token_tenant(&refresh.token).ok(), Some(tenant));
        assert_eq!(refresh.hash, hash_token(&refresh.token));
        for bad in [
            "",
            "abc",
            "nodot",
            ".secret",
            "0123456789abcdef0123456789abcdeg.x",
        ] {
            assert!(refresh_token_tenant(bad).is_err(), "{bad}");
        }
    }
}

// Handlers name what they need as `Authorized<permits::…>`; the markers come with the matrix.
pub use nexus_domain::roles::{PermissionMarker, permits};

/// An authenticated member of staff whose role has permission `P`, checked against the matrix
/// before anything else of the request is read: a denied role gets 403 whatever it sent.
#[derive(Debug)]
pub struct Authorized<P> {
    pub auth: Authenticated,
    permission: std::marker::PhantomData<P>,
}

impl<P> std::ops::Deref for Authorized<P> {
    type Target = Authenticated;

    fn deref(&self) -> &Authenticated {
        &self.auth
    }
}

impl<P: PermissionMarker> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = Authenticated::from_request_parts(parts, state).await?;
        auth.require(P::PERMISSION)?;
        Ok(Self {
            auth,
            permission: std::marker::PhantomData,
        })
    }
}

/// A station's credential: `<tenant hex>.<secret>`. The tenant part routes it to the tenant's
/// store; only the SHA-256 of the whole credential is stored, and a station is found by it.
pub struct StationCredential {
    pub credential: String,
    pub hash: Vec<u8>,
}

impl StationCredential {
    pub fn generate(tenant: TenantId) -> ApiResult<Self> {
        let secret = URL_SAFE_NO_PAD.encode(random_bytes(32)?);
        let credential = format!("{}.{secret}", tenant.as_uuid().simple());
        let hash = hash_token(&credential);
        Ok(Self { credential, hash })
    }
}

/// A request from an enrolled, not revoked shop station (`Authorization: Station <credential>`).
#[derive(Clone, Debug)]
pub struct StationAuthenticated {
    pub tenant: TenantId,
    pub station: nexus_store::Station,
}

impl FromRequestParts<AppState> for StationAuthenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let credential = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Station "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthenticated("a station sends Authorization: Station <credential>")
            })?;
        let tenant = refresh_token_tenant(credential).map_err(|_| {
            ApiError::unauthenticated("the station credential is invalid; enrol the station again")
        })?;
        let found = state
            .store
            .authenticate_station(tenant, &hash_token(credential))
            .await
            .map_err(|error| match error {
                nexus_store::StoreError::UnknownTenant(_) => {
                    ApiError::unauthenticated("the station credential is invalid")
                }
                other => other.into(),
            })?
            .ok_or_else(|| {
                ApiError::unauthenticated(
                    "the station credential is invalid; enrol the station again",
                )
            })?;
        if found.revoked_at.is_some() {
            return Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "station_revoked",
                "this station was revoked from the dashboard; enrol it again to sync",
            ));
        }
        tracing::Span::current().record("tenant", tracing::field::display(tenant));
        Ok(Self {
            tenant,
            station: found,
        })
    }
}
