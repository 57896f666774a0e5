//! Server storage for Nexus.
//!
//! The store traits, one per area, and one implementation per backend: [`postgres::PgStore`] (a
//! control schema plus one schema per tenant) and [`sqlite::SqliteStore`] (a control database
//! plus one database file per tenant). Each backend owns its migrations. The backend is chosen
//! once, at startup, from the URL ([`StoreLocation::from_url`]).
//!
//! Every query is a plain function written once for both backends (`sql` states what they need
//! of a database). Tenant isolation is structural: a tenant query runs on the connection of a
//! transaction bound to that tenant's schema or file (`tenant::with_tenant`), so no query can
//! reach another tenant's rows.

pub mod announcements;
pub mod billing;
mod control;
mod error;
mod location;
pub mod migrate;
pub mod portable;
pub mod postgres;
mod records;
pub mod retail;
mod sql;
pub mod sqlite;
pub mod stations;
mod tenant;

use std::sync::Arc;

use async_trait::async_trait;
use nexus_domain::throttle::{Attempts, Policy, RetryAt};
use nexus_domain::{Email, TenantId, UnixMillis};

pub use billing::{
    BillingRecord, BillingStore, EventOutcome, IncomingEvent, InvoiceRecord, InvoiceStatus,
    UsageCounts, UsageReport,
};
pub use error::StoreError;
pub use location::{StoreLocation, redact_url};
pub use records::*;
pub use retail::*;
pub use stations::{
    CatalogueEdit, ChangeRecord, Conflict, EnrolOutcome, NewStation, PullContact, Pulled,
    PushReads, SeenFields, StationContact, StationRecord, SyncOpRecord, Unsynced,
};
pub use tenant::accounts::{AccountEntryRow, AccountStore, NewAccountPayment};
pub use tenant::branches::BranchStore;
pub use tenant::catalogue::CatalogueStore;
pub use tenant::categories::CategoryStore;
pub use tenant::customers::{CustomerChange, CustomerRecord, CustomerStore, NewCustomer};
pub use tenant::dashboard::{DashboardStore, ShopDetails, WebSession};
pub use tenant::exceptions::SaleException;
pub use tenant::jobs::{JobRecord, JobState, JobStore, NewJob};
pub use tenant::momo::{
    MomoClaim, MomoStore, StatementRecord, Takings, VerdictFilter, VerdictRecord,
};
pub use tenant::momo_requests::{MomoAccount, MomoRequestRecord, MomoRequestStore, RequestUpdate};
pub use tenant::purchasing::{
    NewOrderReceipt, NewPurchaseOrder, PurchaseOrder, PurchaseOrderLine, PurchaseOrderReceipt,
    PurchasingStore, Supplier,
};
pub use tenant::receipts::{CashierReturns, ReceiptQuery, ReceiptStore, ReceiptSummary};
pub use tenant::reports::{
    ItemTotal, LevyTotal, PaymentTotal, ProductSales, ReportStore, TaxClassTotal,
};
pub use tenant::sales::{BatchInputs, SaleInputs, SalesStore};
pub use tenant::settings::SettingsStore;
pub use tenant::shifts::{
    CloseOutcome, NewShift, ShiftClose, ShiftQuery, ShiftRecord, ShiftStore, ShiftTender,
};
pub use tenant::staff::StaffStore;
pub use tenant::stations::StationStore;
pub use tenant::stock::{AlertPosition, AlertQuery, StockStore};

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

/// The store's connections and open tenants, as the service's metrics show them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections lent out now.
    pub in_use: u64,
    /// Connections open and waiting.
    pub idle: u64,
    /// The most connections the store may open (on SQLite, one per open database).
    pub max: u64,
    /// SQLite: tenant files open now. PostgreSQL: tenants this process has served since it
    /// started (each checked once for its schema version).
    pub tenants_open: u64,
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
pub trait Store:
    ControlStore
    + StaffStore
    + BranchStore
    + SettingsStore
    + CatalogueStore
    + CategoryStore
    + StockStore
    + SalesStore
    + ReportStore
    + StationStore
    + ShiftStore
    + CustomerStore
    + JobStore
    + DashboardStore
    + ReceiptStore
    + PurchasingStore
    + AccountStore
    + BillingStore
    + MomoStore
    + MomoRequestStore
{
}

impl<T> Store for T where
    T: ControlStore
        + StaffStore
        + BranchStore
        + SettingsStore
        + CatalogueStore
        + CategoryStore
        + StockStore
        + SalesStore
        + ReportStore
        + StationStore
        + ShiftStore
        + CustomerStore
        + JobStore
        + DashboardStore
        + ReceiptStore
        + PurchasingStore
        + AccountStore
        + BillingStore
        + MomoStore
        + MomoRequestStore
{
}

/// The control side: the tenants directory, the login directory, and the operations that span
/// both the control data and one tenant. Written per backend.
#[async_trait]
pub trait ControlStore: Send + Sync + 'static {
    fn backend(&self) -> BackendKind;

    /// The connection pool as it is now; no I/O.
    fn pool_stats(&self) -> PoolStats;

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
    /// Reserves one attempt under `key` by `policy` before the work it guards, atomically
    /// across every server process: allowed (the record as it now stands), or when to retry.
    async fn reserve_attempt(
        &self,
        key: &str,
        policy: Policy,
        now: UnixMillis,
    ) -> StoreResult<Result<Attempts, RetryAt>>;
    /// Forgets the attempts under `key`.
    async fn forget_attempts(&self, key: &str) -> StoreResult<()>;

    /// Sends each of `texts` to every server process on this database (PostgreSQL `NOTIFY`,
    /// all in one transaction; see `announcements`). On SQLite there is only this process, and
    /// nothing is sent.
    async fn announce(&self, texts: &[String]) -> StoreResult<()>;

    /// The version of the `citus` extension when this database has it: tenants can then be
    /// spread across nodes by Citus schema-based sharding. `None` on SQLite and on PostgreSQL
    /// without Citus.
    async fn citus_version(&self) -> StoreResult<Option<String>>;

    /// Distributes the tenant's schema across the Citus workers (`citus_schema_distribute`);
    /// `false` when it already was. Refused (`Refused`) where there is no Citus. The control
    /// schema stays on the coordinator.
    async fn distribute_tenant(&self, tenant: TenantId) -> StoreResult<bool>;

    /// Writes the tenant (its directory entry, the emails that sign in to it, every row of its
    /// tables) to `out` as a portable export (see `portable`), from one consistent snapshot that
    /// holds back no writer. The rows stay at the tenant's own schema version.
    async fn export_tenant(
        &self,
        tenant: TenantId,
        now: UnixMillis,
        out: &mut (dyn std::io::Write + Send),
    ) -> StoreResult<portable::ExportCounts>;

    /// Adds the tenant an export holds and brings it to this build's schema version. All or
    /// nothing: refused (`Refused`, saying why) when the tenant or one of its emails is already
    /// here or the file is damaged or cut short, and then no trace of it is left.
    async fn import_tenant(
        &self,
        input: &mut (dyn std::io::BufRead + Send),
        progress: &mut (dyn FnMut(portable::ImportProgress) + Send),
    ) -> StoreResult<portable::Imported>;

    /// Adds a member of staff. Their email joins the login directory; a taken email is
    /// `Conflict { field: "email" }`, a branch that does not exist `UnknownBranch`.
    async fn create_user(
        &self,
        tenant: TenantId,
        user: NewUser,
        now: UnixMillis,
    ) -> StoreResult<UserRecord>;
}
