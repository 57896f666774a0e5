//! Server storage for Nexus.
//!
//! One [`Store`] trait, one implementation per backend: [`postgres::PgStore`] (a control schema
//! plus one schema per tenant) and [`sqlite::SqliteStore`] (a control database plus one database
//! file per tenant). Each backend owns its migrations. The backend is chosen once, at startup,
//! from the URL ([`StoreLocation::from_url`]).
//!
//! Tenant isolation is structural: every tenant method takes the [`TenantId`] and runs in a
//! transaction bound to that tenant's schema or file, so no query can reach another tenant's rows.

mod error;
mod location;
pub mod migrate;
pub mod postgres;
mod records;
pub mod sqlite;
mod tenant_queries;

use std::sync::Arc;

use async_trait::async_trait;
use nexus_domain::{BranchId, Email, NonEmptyText, SessionId, TenantId, UnixMillis, UserId};

pub use error::StoreError;
pub use location::{StoreLocation, redact_url};
pub use records::*;

pub type StoreResult<T> = Result<T, StoreError>;

/// Which backend a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    Postgres,
    Sqlite,
}

impl BackendKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            BackendKind::Postgres => "postgres",
            BackendKind::Sqlite => "sqlite",
        }
    }
}

/// Tuning that both backends understand.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Connections in the PostgreSQL pool.
    pub max_connections: u32,
    /// SQLite tenant databases kept open at once; the least recently used is closed past this.
    pub max_open_tenants: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            max_open_tenants: 256,
        }
    }
}

/// Opens the store named by `location`, creating the control schema or database and bringing it
/// to the current version.
pub async fn open(location: &StoreLocation, options: &StoreOptions) -> StoreResult<Arc<dyn Store>> {
    Ok(match location {
        StoreLocation::Postgres { url } => {
            Arc::new(postgres::PgStore::connect(url, options).await?)
        }
        StoreLocation::Sqlite { data_dir } => {
            Arc::new(sqlite::SqliteStore::open(data_dir, options).await?)
        }
    })
}

/// Everything the server keeps. Object-safe so that the backend is chosen at run time.
pub trait Store: ControlStore + TenantStore {}

impl<T: ControlStore + TenantStore> Store for T {}

/// The control side: the tenants directory, the login directory, and the operations that span
/// both the control data and one tenant. Written per backend.
#[async_trait]
pub trait ControlStore: Send + Sync + 'static {
    fn backend(&self) -> BackendKind;

    /// One cheap round trip to the database, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;

    /// The token-signing secret kept by the store. The first caller's `candidate` is kept; every
    /// later call (from any server process) returns that same secret.
    async fn signing_secret(&self, candidate: &[u8]) -> StoreResult<Vec<u8>>;

    /// Creates the tenant's schema or file, runs its migrations, creates its owner and the
    /// owner's first session. All or nothing: on any failure no trace of the tenant is left. An
    /// email already used anywhere is `Conflict { field: "email" }`.
    async fn register_tenant(&self, tenant: NewTenant) -> StoreResult<UserRecord>;
    async fn list_tenants(&self) -> StoreResult<Vec<TenantSummary>>;
    /// Tenants whose recorded schema version is older than this build's.
    async fn outdated_tenants(&self) -> StoreResult<Vec<TenantId>>;
    /// Brings one tenant to the current schema version in one transaction.
    async fn migrate_tenant(&self, tenant: TenantId) -> StoreResult<MigrationOutcome>;

    async fn find_login(&self, email: &Email) -> StoreResult<Option<LoginEntry>>;
    async fn login_throttle(&self, email: &Email) -> StoreResult<Option<LoginThrottle>>;
    /// Counts one more failed sign-in atomically (parallel failures each count) and blocks the
    /// email until `now + wait_seconds(failures)`, never shortening a block already in place.
    async fn record_login_failure(
        &self,
        email: &Email,
        now: UnixMillis,
        wait_seconds: &(dyn Fn(i32) -> i64 + Send + Sync),
    ) -> StoreResult<LoginThrottle>;
    /// Forgets the failures after a successful sign-in.
    async fn clear_login_failures(&self, email: &Email) -> StoreResult<()>;

    /// Adds a member of staff. Their email joins the login directory; a taken email is
    /// `Conflict { field: "email" }`, a branch that does not exist `UnknownBranch`.
    async fn create_user(
        &self,
        tenant: TenantId,
        user: NewUser,
        now: UnixMillis,
    ) -> StoreResult<UserRecord>;
}

/// One tenant's data. Every method runs in a transaction bound to that tenant's schema or file.
/// Implemented once, for both backends, by `tenant_queries`.
#[async_trait]
pub trait TenantStore: Send + Sync + 'static {
    async fn user_credentials(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> StoreResult<Option<UserCredentials>>;
    /// The signed-in user as of now, or `None` when the user is gone or inactive or the session
    /// was revoked.
    async fn authenticated_user(
        &self,
        tenant: TenantId,
        user: UserId,
        session: SessionId,
    ) -> StoreResult<Option<UserRecord>>;
    async fn create_session(&self, tenant: TenantId, session: NewSession) -> StoreResult<()>;
    /// Swaps a refresh token for a new one in the same session. Presenting a token that was
    /// already rotated revokes the whole session (the token was stolen or replayed).
    async fn rotate_refresh_token(
        &self,
        tenant: TenantId,
        rotation: RefreshRotation,
    ) -> StoreResult<RefreshOutcome>;
    /// Revokes the session that `token_hash` belongs to; `false` when no such token exists.
    async fn revoke_session_by_token(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        now: UnixMillis,
    ) -> StoreResult<bool>;

    async fn get_user(&self, tenant: TenantId, user: UserId) -> StoreResult<Option<UserRecord>>;
    async fn list_users(&self, tenant: TenantId) -> StoreResult<Vec<UserRecord>>;
    /// Changes role, branches or active state. Refuses (`LastOwner`) any change that would leave
    /// the tenant without an active owner; deactivating revokes the user's sessions.
    ///
    /// `checked` is the record the caller authorised the change against: if the user's role or
    /// branches differ from it inside the transaction, nothing changes and the answer is `Stale`,
    /// so a permission decision never applies to a record that moved underneath it.
    async fn update_user(
        &self,
        tenant: TenantId,
        checked: &UserRecord,
        change: UserChange,
        now: UnixMillis,
    ) -> StoreResult<Option<UserRecord>>;

    async fn create_branch(&self, tenant: TenantId, branch: NewBranch) -> StoreResult<Branch>;
    async fn list_branches(&self, tenant: TenantId) -> StoreResult<Vec<Branch>>;
    async fn get_branch(&self, tenant: TenantId, branch: BranchId) -> StoreResult<Option<Branch>>;
    /// Renames and, when `address` is `Some`, sets or clears the address.
    async fn update_branch(
        &self,
        tenant: TenantId,
        branch: BranchId,
        name: Option<NonEmptyText>,
        address: Option<Option<NonEmptyText>>,
    ) -> StoreResult<Option<Branch>>;
    async fn archive_branch(
        &self,
        tenant: TenantId,
        branch: BranchId,
        now: UnixMillis,
    ) -> StoreResult<Option<Branch>>;
}
