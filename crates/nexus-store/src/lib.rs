//! Server storage for Nexus.
//!
//! One [`Store`] trait, one implementation per backend: [`postgres::PgStore`] (a control schema
//! plus one schema per tenant) and [`sqlite::SqliteStore`] (a control database plus one database
//! file per tenant). Each backend owns its migrations. The backend is chosen once, at startup,
//! from the URL ([`StoreLocation::from_url`]).
//!
//! Tenant isolation is structural: every tenant method takes the [`TenantId`] and runs in a
//! transaction bound to that tenant's schema or file, so no query can reach another tenant's rows.

pub mod counter;
mod counter_queries;
mod error;
mod location;
pub mod migrate;
pub mod postgres;
mod records;
pub mod retail;
mod retail_queries;
pub mod sqlite;
mod station_queries;
pub mod stations;
mod tenant_queries;

use std::sync::Arc;

use async_trait::async_trait;
use nexus_domain::ids::{ProductId, SaleId};
use nexus_domain::{BranchId, Email, NonEmptyText, SessionId, TenantId, UnixMillis, UserId};

pub use counter::{
    CloseOutcome, Customer, NewCustomer, NewShift, Shift, ShiftClose, ShiftQuery, ShiftTender,
};
pub use error::StoreError;
pub use location::{StoreLocation, redact_url};
pub use records::*;
pub use retail::*;
pub use stations::{
    CatalogueEdit, Conflict, EnrolOutcome, NewStation, SeenFields, Station, StationContact,
    SyncOpRecord,
};

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
pub trait Store: ControlStore + TenantStore + RetailStore + StationStore + CounterStore {}

impl<T: ControlStore + TenantStore + RetailStore + StationStore + CounterStore> Store for T {}

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

/// The retail model of one tenant: settings, catalogue, stock ledger, sales and reports. Every
/// method runs in one transaction bound to the tenant. Implemented once, for both backends, by
/// `retail_queries`.
#[async_trait]
pub trait RetailStore: Send + Sync + 'static {
    async fn settings(&self, tenant: TenantId) -> StoreResult<TenantSettings>;
    /// Replaces the settings and tax levies. The currency cannot change once sales exist (`Refused`).
    async fn update_settings(
        &self,
        tenant: TenantId,
        settings: &TenantSettings,
        now: UnixMillis,
    ) -> StoreResult<TenantSettings>;

    /// A clash of SKU or barcode is `Conflict` naming the field.
    async fn create_product(&self, tenant: TenantId, product: NewProduct) -> StoreResult<Product>;
    async fn get_product(
        &self,
        tenant: TenantId,
        product: ProductId,
    ) -> StoreResult<Option<Product>>;
    /// The products that exist among `products`, in the same order.
    async fn products_by_ids(
        &self,
        tenant: TenantId,
        products: &[ProductId],
    ) -> StoreResult<Vec<Product>>;
    async fn update_product(
        &self,
        tenant: TenantId,
        product: ProductId,
        change: ProductChange,
        now: UnixMillis,
    ) -> StoreResult<Option<Product>>;
    async fn archive_product(
        &self,
        tenant: TenantId,
        product: ProductId,
        now: UnixMillis,
    ) -> StoreResult<Option<Product>>;
    async fn list_products(
        &self,
        tenant: TenantId,
        query: &ProductQuery,
    ) -> StoreResult<Vec<Product>>;
    /// Creates or (matching on SKU) updates every row, in one transaction: all or nothing. An
    /// update changes name and price, and the optional fields whose column the file has.
    async fn import_products(
        &self,
        tenant: TenantId,
        rows: Vec<NewProduct>,
        columns: ImportColumns,
        now: UnixMillis,
    ) -> StoreResult<ImportCounts>;
    /// (barcode, SKU of the product holding it) for those of `barcodes` that are taken.
    async fn barcode_owners(
        &self,
        tenant: TenantId,
        barcodes: &[String],
    ) -> StoreResult<Vec<(String, String)>>;

    /// Writes one ledger row and returns the branch's new on-hand for the product.
    async fn record_movement(
        &self,
        tenant: TenantId,
        movement: NewMovement,
    ) -> StoreResult<StockLevel>;
    /// Both sides of a transfer, every line, in one transaction.
    async fn record_transfer(&self, tenant: TenantId, transfer: NewTransfer) -> StoreResult<()>;
    async fn stock_levels(
        &self,
        tenant: TenantId,
        branch: BranchId,
    ) -> StoreResult<Vec<StockLevel>>;
    /// The ledger of one product at one branch, in ledger order.
    async fn movements(
        &self,
        tenant: TenantId,
        branch: BranchId,
        product: ProductId,
    ) -> StoreResult<Vec<Movement>>;
    /// Products at or below their reorder level, and every negative on-hand; with
    /// `negative_only`, only the latter (the reconciliation alerts).
    async fn stock_alerts(
        &self,
        tenant: TenantId,
        negative_only: bool,
    ) -> StoreResult<Vec<StockAlert>>;

    /// Records a finished sale with its stock movements and rollups in one transaction.
    /// Idempotent on the sale id: a second call writes nothing and returns the original with
    /// `false`.
    async fn record_sale(
        &self,
        tenant: TenantId,
        sale: &Sale,
        local_day: i32,
    ) -> StoreResult<(Sale, bool)>;
    /// Records many finished sales in one transaction, set-based (a few multi-row statements
    /// however many sales): what a station's push of many sales costs. Returns, per sale,
    /// whether it was created; `false` when its id was already recorded, and nothing is written
    /// for it. An unknown or archived branch, or an unknown product, refuses the whole call.
    async fn record_sales(&self, tenant: TenantId, sales: &[(Sale, i32)])
    -> StoreResult<Vec<bool>>;
    /// The kind and branch of those of `sales` that are recorded, in no particular order.
    async fn sale_heads(&self, tenant: TenantId, sales: &[SaleId]) -> StoreResult<Vec<SaleHead>>;
    async fn get_sale(&self, tenant: TenantId, sale: SaleId) -> StoreResult<Option<Sale>>;
    /// A refund or void of a sale, priced from the sale's own lines and checked against what
    /// was already returned, in one transaction. Idempotent on the return's id.
    async fn record_return(
        &self,
        tenant: TenantId,
        request: NewReturn,
    ) -> StoreResult<(Sale, bool)>;
    /// Recomputes the daily report rollups from the recorded sales, in one transaction: a repair
    /// for rollups suspected wrong, and what a bulk load runs afterwards.
    async fn rebuild_report_rollups(&self, tenant: TenantId) -> StoreResult<()>;
    /// The rollup rows for local days `from_day..=to_day`, for the given branches or all.
    async fn daily_report(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<DailyReportRows>;
}

/// Shop stations of one tenant, and the record of what they pushed. Implemented once, for both
/// backends, by `station_queries`.
#[async_trait]
pub trait StationStore: Send + Sync + 'static {
    async fn create_station(&self, tenant: TenantId, station: NewStation) -> StoreResult<Station>;
    async fn list_stations(&self, tenant: TenantId) -> StoreResult<Vec<Station>>;
    async fn get_station(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
    ) -> StoreResult<Option<Station>>;
    /// Revokes the station (and any unused enrolment code); its next push or pull is refused.
    async fn revoke_station(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
        now: UnixMillis,
    ) -> StoreResult<Option<Station>>;
    /// Trades a one-time enrolment code for a credential, in one transaction: a code works once.
    async fn enrol_station(
        &self,
        tenant: TenantId,
        code_hash: &[u8],
        credential_hash: &[u8],
        app_version: Option<String>,
        now: UnixMillis,
    ) -> StoreResult<EnrolOutcome>;
    /// The station whose credential hashes to `credential_hash`, revoked or not; `None` when
    /// no station has it.
    async fn authenticate_station(
        &self,
        tenant: TenantId,
        credential_hash: &[u8],
    ) -> StoreResult<Option<Station>>;
    /// Records the ops of one push and the station's report of itself; returns the new
    /// acknowledged high-water mark.
    async fn record_push(
        &self,
        tenant: TenantId,
        station: uuid::Uuid,
        ops: &[SyncOpRecord],
        contact: &StationContact,
    ) -> StoreResult<i64>;
    /// The change log after `cursor`, for a station of `branch`: tenant-wide changes and that
    /// branch's, in seq order, at most `limit`.
    async fn changes_since(
        &self,
        tenant: TenantId,
        branch: BranchId,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<Vec<stations::ChangeRecord>>;
    /// Those of `op_ids` already received (from any station of the tenant).
    async fn ops_seen(
        &self,
        tenant: TenantId,
        op_ids: &[uuid::Uuid],
    ) -> StoreResult<std::collections::HashSet<uuid::Uuid>>;
    /// Applies a station's catalogue edit in one transaction: the edited fields take the new
    /// values (the server's arrival order decides; device clocks never do), every field that no
    /// longer held what the station saw is written to the conflict log, and the product is
    /// logged for stations to pull. `None` when the product does not exist.
    async fn record_catalogue_edit(
        &self,
        tenant: TenantId,
        edit: &stations::CatalogueEdit,
    ) -> StoreResult<Option<(Product, Vec<stations::Conflict>)>>;
    /// The conflict log, newest first; `before` pages by (detected_at, id).
    async fn list_conflicts(
        &self,
        tenant: TenantId,
        before: Option<(UnixMillis, uuid::Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<stations::Conflict>>;
}

/// Shifts and customers of one tenant, as tills record them. Implemented once, for both
/// backends, by `counter_queries`.
#[async_trait]
pub trait CounterStore: Send + Sync + 'static {
    /// Opens a shift. Idempotent on the shift's id: when it exists, nothing is written and the
    /// recorded shift comes back with `false` (the caller judges whether it is the same one).
    async fn open_shift(&self, tenant: TenantId, shift: NewShift) -> StoreResult<(Shift, bool)>;
    async fn get_shift(&self, tenant: TenantId, shift: uuid::Uuid) -> StoreResult<Option<Shift>>;
    /// Closes a shift with its figures, in one transaction with the shift's row locked. A
    /// closed shift is never changed: closing it again says whether the figures were the same.
    async fn close_shift(&self, tenant: TenantId, close: ShiftClose) -> StoreResult<CloseOutcome>;
    /// Shifts with their close figures, newest opened first, at most `query.limit`.
    async fn list_shifts(&self, tenant: TenantId, query: &ShiftQuery) -> StoreResult<Vec<Shift>>;
    /// Idempotent on the customer's id: when it exists, the recorded customer comes back
    /// unchanged with `false`.
    async fn create_customer(
        &self,
        tenant: TenantId,
        customer: NewCustomer,
    ) -> StoreResult<(Customer, bool)>;
    /// Customers whose name or phone contains `search` (case-insensitive), by name.
    async fn list_customers(
        &self,
        tenant: TenantId,
        search: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Customer>>;
}
