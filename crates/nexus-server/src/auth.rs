//! Passwords, tokens and the authenticated-request extractor.
//!
//! - Passwords and PINs: argon2id with the crate's default (OWASP) parameters, hashed on a
//!   blocking thread.
//! - Access tokens: HS256 JWTs, 15 minutes, carrying user, tenant, session, role and branches.
//!   Expiry is checked against the injected clock, not the machine's.
//! - Refresh tokens: `<tenant hex>.<32 random bytes, base64url>`, opaque to clients; only their
//!   SHA-256 is stored. The tenant prefix routes the token to the tenant's store.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use nexus_domain::roles::Actor;
use nexus_domain::secrets::{SecretError, SecretHasher};
use nexus_domain::{BranchId, Permission, Role, SessionId, TenantId, UnixMillis, UserId};
use nexus_store::UserRecord;
use ring::rand::SecureRandom as _;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
pub const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 60 * 60;

pub fn random_bytes(length: usize) -> ApiResult<Vec<u8>> {
    let mut bytes = vec![0_u8; length];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::internal("the system random number generator failed"))?;
    Ok(bytes)
}

/// Hashes run on blocking threads, one per working area of the hasher: a flood of sign-ins
/// queues here instead of starting hundreds of 19 MiB hashes (see `nexus_domain::secrets`). As
/// many as the machine has cores, at most four.
static HASHER: std::sync::LazyLock<HashingQueue> = std::sync::LazyLock::new(|| {
    let slots = std::thread::available_parallelism().map_or(2, |cores| cores.get().min(4));
    HashingQueue {
        hasher: std::sync::Arc::new(SecretHasher::new(slots)),
        permits: std::sync::Arc::new(tokio::sync::Semaphore::new(slots)),
    }
});

struct HashingQueue {
    hasher: std::sync::Arc<SecretHasher>,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

/// Runs `work` on the shared hasher once a working area is free.
async fn with_hasher<T: Send + 'static>(
    work: impl FnOnce(&SecretHasher) -> Result<T, SecretError> + Send + 'static,
) -> ApiResult<T> {
    let permit = HASHER
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::internal("the hashing queue was closed"))?;
    let hasher = HASHER.hasher.clone();
    // The permit goes with the work: a client that hangs up mid-hash must not free its place
    // while the blocking thread still holds the working area.
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work(&hasher)
    })
    .await
    .map_err(|error| ApiError::internal(format!("hashing task: {error}")))?
    .map_err(|error| ApiError::internal(error.to_string()))
}

pub async fn hash_secret(secret: String) -> ApiResult<String> {
    let salt: [u8; 16] = random_bytes(16)?
        .try_into()
        .map_err(|_| ApiError::internal("a salt of the wrong length"))?;
    with_hasher(move |hasher| hasher.hash(secret.as_bytes(), &salt)).await
}

/// A well-formed argon2id hash with the default parameters that matches no password: checked
/// when there is no real hash, so that unknown emails cost the same time as known ones.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3Y6tCKnkV2bq2cJ5Ma2gQo3jZsGm4kBc5FyC0YUk0wI";

/// Checks `secret` against a stored hash. With no hash (unknown email, user without a
/// password) a dummy hash is checked instead, so that the answer takes the same time either way.
pub async fn verify_secret(secret: String, stored_hash: Option<String>) -> ApiResult<bool> {
    let real = stored_hash.is_some();
    let hash = stored_hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
    let matches = with_hasher(move |hasher| hasher.verify(secret.as_bytes(), &hash)).await?;
    Ok(matches && real)
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
        if !parts.method.is_safe() {
            crate::services::billing::refuse_while_read_only(state, claims.tid, parts.uri.path())
                .await?;
        }
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
        // A dummy the hasher could not use would be answered at once, and the time taken would
        // tell an unknown email from a known one.
        let parsed =
            argon2::password_hash::PasswordHash::new(DUMMY_HASH).expect("well-formed PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let params = argon2::Params::try_from(&parsed).expect("params");
        let default = argon2::Params::default();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (default.m_cost(), default.t_cost(), default.p_cost())
        );
        assert_eq!(parsed.hash.map(|hash| hash.len()), Some(32));
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
    pub station: nexus_store::StationRecord,
}

/// The credential a request says it comes from, read from `Authorization: Station <credential>`
/// but not yet looked up. Push and pull look it up in their first transaction and pass what
/// they found to [`PresentedStation::admit`]; everything else extracts [`StationAuthenticated`].
#[derive(Clone, Debug)]
pub struct PresentedStation {
    pub tenant: TenantId,
    pub credential_hash: Vec<u8>,
}

impl PresentedStation {
    /// The station the credential named, if it may sync: none means the credential is unknown.
    pub fn admit(
        &self,
        found: Option<nexus_store::StationRecord>,
    ) -> ApiResult<StationAuthenticated> {
        let found = found.ok_or_else(|| {
            ApiError::unauthenticated("the station credential is invalid; enrol the station again")
        })?;
        if found.is_revoked() {
            return Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "station_revoked",
                "this station was revoked from the dashboard; enrol it again to sync",
            ));
        }
        tracing::Span::current().record("tenant", tracing::field::display(self.tenant));
        Ok(StationAuthenticated {
            tenant: self.tenant,
            station: found,
        })
    }
}

/// A store error of a lookup by a station's credential: a tenant that does not exist is a
/// credential that is not valid, not a fault.
pub(crate) fn station_lookup_error(error: nexus_store::StoreError) -> ApiError {
    match error {
        nexus_store::StoreError::UnknownTenant(_) => {
            ApiError::unauthenticated("the station credential is invalid")
        }
        other => other.into(),
    }
}

impl FromRequestParts<AppState> for PresentedStation {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
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
        Ok(Self {
            tenant,
            credential_hash: hash_token(credential),
        })
    }
}

impl FromRequestParts<AppState> for StationAuthenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let presented = PresentedStation::from_request_parts(parts, state).await?;
        let found = state
            .store
            .authenticate_station(presented.tenant, &presented.credential_hash)
            .await
            .map_err(station_lookup_error)?;
        presented.admit(found)
    }
}

/// Where a request comes from: the socket's peer, or, when that peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not one (a client cannot choose its address by
/// sending the header itself: from anyone else the header is ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl ClientAddress {
    /// For keys and logs; "unknown" when the server was reached without a socket (never over
    /// HTTP).
    pub fn key(self) -> String {
        self.0
            .map_or_else(|| "unknown".to_owned(), |address| address.to_string())
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(peer) = crate::peer_address(parts).map(|address| address.ip()) else {
            return Ok(Self(None));
        };
        if !state.trusted_proxies.contains(peer) {
            return Ok(Self(Some(peer)));
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|hop| hop.trim().parse::<std::net::IpAddr>().ok())
            .collect::<Vec<_>>();
        // Walk back from the proxy: each trusted hop vouches for the one before it.
        let client = forwarded
            .iter()
            .rev()
            .find(|hop| !state.trusted_proxies.contains(**hop))
            .copied()
            .unwrap_or(peer);
        Ok(Self(Some(client)))
    }
}

/// Sign-ins being checked per client address, in this process. The hashing queue is first come,
/// first served; without a cap one address's flood would stand in front of everyone else's
/// sign-in. A few at once from one address is plenty for a shop behind one router.
#[derive(Default)]
pub struct SignInsInFlight {
    by_address: std::sync::Mutex<std::collections::HashMap<String, usize>>,
}

/// How many sign-ins one address may have waiting for or in the hasher at once.
pub const SIGN_INS_AT_ONCE_PER_ADDRESS: usize = 4;

impl SignInsInFlight {
    /// A place in the queue for `address`, or `None` when it already has its share.
    pub fn enter(self: &std::sync::Arc<Self>, address: String) -> Option<SignInTurn> {
        let mut by_address = self.by_address.lock().ok()?;
        let count = by_address.entry(address.clone()).or_default();
        if *count >= SIGN_INS_AT_ONCE_PER_ADDRESS {
            return None;
        }
        *count += 1;
        Some(SignInTurn {
            queue: self.clone(),
            address,
        })
    }
}

/// Held while a sign-in is checked; gives its place back when dropped.
pub struct SignInTurn {
    queue: std::sync::Arc<SignInsInFlight>,
    address: String,
}

impl Drop for SignInTurn {
    fn drop(&mut self) {
        if let Ok(mut by_address) = self.queue.by_address.lock()
            && let Some(count) = by_address.get_mut(&self.address)
        {
            *count -= 1;
            if *count == 0 {
                by_address.remove(&self.address);
            }
        }
    }
}
