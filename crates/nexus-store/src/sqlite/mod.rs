//! SQLite, the embedded default: `control.db` plus `tenants/t_<32 hex>.db` under the data
//! directory. Tenant files are opened on demand and at most `max_open_tenants` are kept open.
//!
//! Each database gets a pool of one connection: SQLite serialises writers anyway. Tenant
//! transactions begin `IMMEDIATE`, so that when a second connection does reach the same file (a
//! pool evicted while still in use, or `nexus tenants migrate` beside a running server) the
//! busy timeout makes it wait instead of failing mid-transaction. WAL with `synchronous=FULL`,
//! because the server is the final authority on money.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use nexus_domain::throttle::{Attempts, Policy, RetryAt};
use nexus_domain::{Email, TenantId, UnixMillis};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection, Transaction};

use crate::control::{
    apply_control_migrations, delete_login, find_login, forget_attempts, insert_imported_logins,
    insert_login, insert_tenant_entry, insert_tenant_row, list_tenants, outdated_tenants,
    record_tenant_version, reserve_attempt, signing_secret, tenant_directory, tenant_version,
};
use crate::migrate::{Migration, latest_version, migrate_tenant_schema};
use crate::portable::{
    self, ExportCounts, ExportHeader, ImportProgress, Imported, import_into, own_schema_version,
    read_header, write_export,
};
use crate::sql::run_script;
use crate::tenant::TenantAccess;
use crate::tenant::staff::{insert_session, insert_user};
use crate::{
    BackendKind, ControlStore, LoginEntry, MigrationOutcome, NewTenant, NewUser, StaffStore,
    StoreError, StoreOptions, StoreResult, TenantSummary, UserRecord,
};

const CONTROL_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("migrations/control_0001.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("migrations/control_0002.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("migrations/control_0003.sql"),
    },
];

/// The tenant database's migrations, embedded in the binary.
pub const TENANT_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("migrations/tenant_0001.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("migrations/tenant_0002.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("migrations/tenant_0003.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("migrations/tenant_0004.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("migrations/tenant_0005.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("migrations/tenant_0006.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("migrations/tenant_0007.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("migrations/tenant_0008.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("migrations/tenant_0009.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("migrations/tenant_0010.sql"),
    },
    Migration {
        version: 11,
        sql: include_str!("migrations/tenant_0011.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("migrations/tenant_0012.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("migrations/tenant_0013.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("migrations/tenant_0014.sql"),
    },
];

struct OpenTenant {
    pool: SqlitePool,
    last_used: u64,
}

pub struct SqliteStore {
    data_dir: PathBuf,
    control: SqlitePool,
    open_tenants: Mutex<HashMap<TenantId, OpenTenant>>,
    max_open_tenants: usize,
    use_counter: AtomicU64,
    /// Held while a tenant file is opened and checked, so that two first requests for one
    /// tenant do not open two pools on it.
    opening: tokio::sync::Mutex<()>,
}

/// An empty tenant file at version 0, ready for its migrations.
const TENANT_BOOTSTRAP: &str =
    "CREATE TABLE schema_version (version integer NOT NULL); INSERT INTO schema_version VALUES (0)";

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One connection per file, and no idle timeout or maximum lifetime: with neither, sqlx starts no
/// pool-maintenance task, and its maintenance loop is where sqlx-core 0.8.6 can spin a core
/// forever after many pools were opened and closed (its idle count underflows). Tenant pools
/// are opened and closed all day by the least-recently-used cache, so they must never start
/// one. A file pool has nothing to reap anyway.
fn file_pool() -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
}

async fn open_database(path: &Path, create: bool) -> StoreResult<SqlitePool> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    Ok(file_pool().connect_with(options).await?)
}

/// Removes a tenant file and its WAL companions; used to undo a registration that failed.
fn remove_database_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ignored_if_absent = std::fs::remove_file(PathBuf::from(name));
    }
}

impl SqliteStore {
    pub async fn open(data_dir: &Path, options: &StoreOptions) -> StoreResult<Self> {
        let tenants_dir = data_dir.join("tenants");
        std::fs::create_dir_all(&tenants_dir).map_err(io_error(&tenants_dir))?;
        let control = open_database(&data_dir.join("control.db"), true).await?;
        let store = Self {
            data_dir: data_dir.to_owned(),
            control,
            open_tenants: Mutex::new(HashMap::new()),
            max_open_tenants: options.max_open_tenants.max(1),
            use_counter: AtomicU64::new(0),
            opening: tokio::sync::Mutex::new(()),
        };
        store.migrate_control().await?;
        Ok(store)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Closes every open database, waiting for the requests that hold one.
    pub async fn close(&self) {
        let open: Vec<SqlitePool> = self
            .open_tenants
            .lock()
            .map(|mut open| open.drain().map(|(_, entry)| entry.pool).collect())
            .unwrap_or_default();
        for pool in open {
            pool.close().await;
        }
        self.control.close().await;
    }

    async fn migrate_control(&self) -> StoreResult<()> {
        self.with_control(async |control| {
            apply_control_migrations::<Sqlite>(control, CONTROL_MIGRATIONS).await
        })
        .await
    }

    /// Runs `work` in one transaction on control.db.
    async fn with_control<T>(
        &self,
        work: impl AsyncFnOnce(&mut SqliteConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut transaction = self.control.begin_with("BEGIN IMMEDIATE").await?;
        let value = work(&mut transaction).await?;
        transaction.commit().await?;
        Ok(value)
    }

    fn tenant_path(&self, tenant: TenantId) -> PathBuf {
        self.data_dir
            .join("tenants")
            .join(format!("{}.db", tenant.storage_name()))
    }

    fn cached_pool(&self, tenant: TenantId) -> Option<SqlitePool> {
        let stamp = self.use_counter.fetch_add(1, Ordering::Relaxed);
        let mut open = self.open_tenants.lock().ok()?;
        open.get_mut(&tenant).map(|entry| {
            entry.last_used = stamp;
            entry.pool.clone()
        })
    }

    fn remember_pool(&self, tenant: TenantId, pool: SqlitePool) {
        let stamp = self.use_counter.fetch_add(1, Ordering::Relaxed);
        let Ok(mut open) = self.open_tenants.lock() else {
            return;
        };
        open.insert(
            tenant,
            OpenTenant {
                pool,
                last_used: stamp,
            },
        );
        while open.len() > self.max_open_tenants {
            let Some(oldest) = open
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(id, _)| *id)
            else {
                break;
            };
            // Not closed, only forgotten: a request that took a clone of this pool a moment
            // ago has yet to begin its transaction, and `close` would refuse it (PoolClosed).
            // The file is closed when the last clone is dropped.
            open.remove(&oldest);
        }
    }

    /// Brings a known tenant to the current schema before it is used (so a tenant is never
    /// served on an old version) and repairs a lagging version record in control.db. Uses the
    /// open pool when there is one; otherwise opens the file, never creating it.
    async fn ensure_current(
        &self,
        tenant: TenantId,
        open_pool: Option<SqlitePool>,
    ) -> StoreResult<(SqlitePool, MigrationOutcome)> {
        let recorded = self
            .with_control(async |control| tenant_version::<Sqlite>(control, tenant).await)
            .await?;
        if recorded.is_none() {
            return Err(StoreError::UnknownTenant(tenant));
        }
        let pool = match open_pool {
            Some(pool) => pool,
            None => {
                let path = self.tenant_path(tenant);
                if !path.exists() {
                    return Err(StoreError::UnknownTenant(tenant));
                }
                open_database(&path, false).await?
            }
        };
        let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;
        let outcome =
            migrate_tenant_schema::<Sqlite>(&mut transaction, tenant, TENANT_MIGRATIONS).await?;
        transaction.commit().await?;
        let latest = latest_version(TENANT_MIGRATIONS);
        if recorded != Some(latest) {
            self.with_control(async |control| {
                record_tenant_version::<Sqlite>(control, tenant, latest).await
            })
            .await?;
        }
        self.remember_pool(tenant, pool.clone());
        Ok((pool, outcome))
    }

    async fn create_tenant_database(
        &self,
        tenant: &NewTenant,
        path: &Path,
    ) -> StoreResult<(SqlitePool, UserRecord)> {
        let pool = open_database(path, true).await?;
        let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;
        run_script::<Sqlite>(&mut transaction, TENANT_BOOTSTRAP).await?;
        migrate_tenant_schema::<Sqlite>(&mut transaction, tenant.id, TENANT_MIGRATIONS).await?;
        let owner = insert_user::<Sqlite>(&mut transaction, &tenant.owner, tenant.now).await?;
        insert_session::<Sqlite>(&mut transaction, &tenant.owner_session).await?;
        transaction.commit().await?;
        Ok((pool, owner))
    }

    /// Whether `email` may be claimed: it is free, or its login row is an orphan (its user does
    /// not exist, left by a crash between claiming the email and inserting the user), in which
    /// case the orphan is removed. Must not be called while holding a tenant transaction: it
    /// reads the tenant the login points at.
    async fn email_is_claimable(&self, email: &Email) -> StoreResult<bool> {
        let Some(entry) = self.find_login(email).await? else {
            return Ok(true);
        };
        let user_exists = match StaffStore::get_user(self, entry.tenant, entry.user).await {
            Ok(found) => found.is_some(),
            Err(StoreError::UnknownTenant(_)) => false,
            Err(other) => return Err(other),
        };
        if user_exists {
            return Ok(false);
        }
        tracing::warn!(%email, "removing a login left without its user by an earlier failure");
        self.release_login(email).await;
        Ok(true)
    }

    async fn try_create_user(
        &self,
        tenant: TenantId,
        user: &NewUser,
        now: UnixMillis,
    ) -> StoreResult<UserRecord> {
        // The login row goes in first, claiming the email; if the tenant insert then fails it is
        // taken back out. A crash in between leaves an orphan that `email_is_claimable` removes.
        let mut transaction = self.begin_tenant(tenant).await?;
        self.with_control(async |control| {
            insert_login::<Sqlite>(control, &user.email, tenant, user.id).await
        })
        .await?;
        match insert_user::<Sqlite>(&mut transaction, user, now).await {
            Ok(record) => match transaction.commit().await {
                Ok(()) => Ok(record),
                Err(error) => {
                    self.release_login(&user.email).await;
                    Err(error.into())
                }
            },
            Err(error) => {
                drop(transaction);
                self.release_login(&user.email).await;
                Err(error)
            }
        }
    }

    async fn insert_directory_rows(&self, tenant: &NewTenant) -> StoreResult<()> {
        self.with_control(async |control| {
            insert_tenant_row::<Sqlite>(control, tenant, latest_version(TENANT_MIGRATIONS)).await?;
            insert_login::<Sqlite>(control, &tenant.owner.email, tenant.id, tenant.owner.id).await
        })
        .await
    }

    /// Builds an imported tenant's file under a name no request opens, then moves it into
    /// place; the caller publishes it in control.db.
    async fn build_imported_file(
        &self,
        header: &ExportHeader,
        input: &mut (dyn std::io::BufRead + Send),
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> StoreResult<(ExportCounts, Option<i32>)> {
        let tenant = TenantId::from_uuid(header.tenant.id);
        let path = self.tenant_path(tenant);
        let staged = path.with_extension("importing");
        // Left by an import that stopped part-way: control.db never named this tenant, so no
        // request can have used either file.
        remove_database_files(&staged);
        remove_database_files(&path);
        let pool = open_database(&staged, true).await?;
        let built = async {
            let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await?;
            // References are checked at commit: an export from PostgreSQL, which keeps fewer
            // foreign keys (its migration 13), lists its tables in an order that satisfies
            // only its own.
            run_script::<Sqlite>(&mut transaction, "PRAGMA defer_foreign_keys = ON").await?;
            run_script::<Sqlite>(&mut transaction, TENANT_BOOTSTRAP).await?;
            let loaded = import_into::<Sqlite>(
                &mut transaction,
                tenant,
                header,
                input,
                progress,
                TENANT_MIGRATIONS,
            )
            .await?;
            transaction.commit().await?;
            // Everything into the main file before it is renamed: a WAL left beside the
            // staged name would not follow it.
            run_script::<Sqlite>(
                &mut *pool.acquire().await?,
                "PRAGMA wal_checkpoint(TRUNCATE)",
            )
            .await?;
            Ok::<_, StoreError>(loaded)
        }
        .await;
        pool.close().await;
        let loaded = match built {
            Ok(loaded) => loaded,
            Err(error) => {
                remove_database_files(&staged);
                return Err(error);
            }
        };
        std::fs::rename(&staged, &path).map_err(io_error(&path))?;
        remove_database_files(&staged);
        Ok(loaded)
    }

    async fn release_login(&self, email: &Email) {
        let released = self
            .with_control(async |control| delete_login::<Sqlite>(control, email).await)
            .await;
        if let Err(error) = released {
            tracing::error!(%error, %email, "could not release a login whose user was never created");
        }
    }
}

impl TenantAccess for SqliteStore {
    type Db = Sqlite;

    async fn begin_tenant(&self, tenant: TenantId) -> StoreResult<Transaction<'static, Sqlite>> {
        let pool = match self.cached_pool(tenant) {
            Some(pool) => pool,
            None => {
                let _opening = self.opening.lock().await;
                match self.cached_pool(tenant) {
                    Some(pool) => pool,
                    None => self.ensure_current(tenant, None).await?.0,
                }
            }
        };
        Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

impl crate::billing::ControlAccess for SqliteStore {
    async fn begin_control(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.control.begin_with("BEGIN IMMEDIATE").await?)
    }
}

#[async_trait]
impl ControlStore for SqliteStore {
    fn backend(&self) -> BackendKind {
        BackendKind::Sqlite
    }

    fn pool_stats(&self) -> crate::PoolStats {
        let mut stats = crate::PoolStats::default();
        let mut count = |pool: &SqlitePool| {
            let open = u64::from(pool.size());
            let idle = u64::try_from(pool.num_idle()).unwrap_or(u64::MAX);
            stats.in_use += open.saturating_sub(idle);
            stats.idle += idle;
            stats.max += 1;
        };
        count(&self.control);
        if let Ok(open_tenants) = self.open_tenants.lock() {
            for tenant in open_tenants.values() {
                count(&tenant.pool);
            }
            stats.tenants_open = u64::try_from(open_tenants.len()).unwrap_or(u64::MAX);
        }
        stats
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::Executor::execute(&self.control, "SELECT 1").await?;
        Ok(())
    }

    async fn signing_secret(&self, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        self.with_control(async |control| signing_secret::<Sqlite>(control, candidate).await)
            .await
    }

    async fn register_tenant(&self, tenant: NewTenant) -> StoreResult<UserRecord> {
        // Two files cannot share a transaction, so: check the email, build the tenant file
        // completely, then publish it in control.db. The tenant exists only once control.db
        // names it; any failure before that deletes the file, so nothing half-made is left.
        if !self.email_is_claimable(&tenant.owner.email).await? {
            return Err(StoreError::Conflict { field: "email" });
        }
        let path = self.tenant_path(tenant.id);
        let (pool, owner) = match self.create_tenant_database(&tenant, &path).await {
            Ok(created) => created,
            Err(error) => {
                remove_database_files(&path);
                return Err(error);
            }
        };
        if let Err(error) = self.insert_directory_rows(&tenant).await {
            pool.close().await;
            remove_database_files(&path);
            return Err(error);
        }
        self.remember_pool(tenant.id, pool);
        Ok(owner)
    }

    async fn export_tenant(
        &self,
        tenant: TenantId,
        now: UnixMillis,
        out: &mut (dyn std::io::Write + Send),
    ) -> StoreResult<ExportCounts> {
        let (entry, logins) = self
            .with_control(async |control| tenant_directory::<Sqlite>(control, tenant).await)
            .await?;
        let path = self.tenant_path(tenant);
        if !path.exists() {
            return Err(StoreError::UnknownTenant(tenant));
        }
        // A connection of the export's own, in a deferred transaction: a read snapshot in WAL
        // mode, so the server's writers carry on while it is read.
        let pool = open_database(&path, false).await?;
        let exported = async {
            let mut transaction = pool.begin_with("BEGIN DEFERRED").await?;
            let version = own_schema_version::<Sqlite>(&mut transaction).await?;
            let header = portable::header(entry, logins, version, now, BackendKind::Sqlite);
            let counts = write_export::<Sqlite>(&mut transaction, header, out).await?;
            transaction.commit().await?;
            Ok::<_, StoreError>(counts)
        }
        .await;
        pool.close().await;
        exported
    }

    async fn import_tenant(
        &self,
        input: &mut (dyn std::io::BufRead + Send),
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> StoreResult<Imported> {
        let header = read_header(input, latest_version(TENANT_MIGRATIONS))?;
        let tenant = TenantId::from_uuid(header.tenant.id);
        let known = self
            .with_control(async |control| tenant_version::<Sqlite>(control, tenant).await)
            .await?;
        if known.is_some() {
            return Err(StoreError::Refused(format!(
                "the organisation {} ({tenant}) is already on this server; nothing was imported",
                header.tenant.name
            )));
        }
        for login in &header.logins {
            let taken = match Email::parse(&login.email) {
                Ok(email) => !self.email_is_claimable(&email).await?,
                Err(_) => false,
            };
            if taken {
                return Err(StoreError::Refused(format!(
                    "{} already signs in to an organisation on this server; nothing was imported",
                    login.email
                )));
            }
        }
        // As with a registration: the file is built completely, then published in control.db;
        // the tenant exists only once control.db names it.
        let (counts, migrated_from) = self.build_imported_file(&header, input, progress).await?;
        let published = self
            .with_control(async |control| {
                insert_tenant_entry::<Sqlite>(
                    control,
                    &header.tenant,
                    latest_version(TENANT_MIGRATIONS),
                )
                .await?;
                insert_imported_logins::<Sqlite>(control, tenant, &header.logins).await
            })
            .await;
        if let Err(error) = published {
            remove_database_files(&self.tenant_path(tenant));
            return Err(error);
        }
        Ok(Imported {
            tenant,
            name: header.tenant.name,
            counts,
            migrated_from,
        })
    }

    async fn list_tenants(&self) -> StoreResult<Vec<TenantSummary>> {
        self.with_control(async |control| list_tenants::<Sqlite>(control).await)
            .await
    }

    async fn outdated_tenants(&self) -> StoreResult<Vec<TenantId>> {
        self.with_control(async |control| {
            outdated_tenants::<Sqlite>(control, latest_version(TENANT_MIGRATIONS)).await
        })
        .await
    }

    async fn migrate_tenant(&self, tenant: TenantId) -> StoreResult<MigrationOutcome> {
        let _opening = self.opening.lock().await;
        Ok(self
            .ensure_current(tenant, self.cached_pool(tenant))
            .await?
            .1)
    }

    async fn find_login(&self, email: &Email) -> StoreResult<Option<LoginEntry>> {
        self.with_control(async |control| find_login::<Sqlite>(control, email).await)
            .await
    }

    async fn reserve_attempt(
        &self,
        key: &str,
        policy: Policy,
        now: UnixMillis,
    ) -> StoreResult<Result<Attempts, RetryAt>> {
        self.with_control(async |control| {
            reserve_attempt::<Sqlite>(control, key, policy, now).await
        })
        .await
    }

    async fn announce(&self, _texts: &[String]) -> StoreResult<()> {
        Ok(())
    }

    async fn citus_version(&self) -> StoreResult<Option<String>> {
        Ok(None)
    }

    async fn distribute_tenant(&self, _tenant: TenantId) -> StoreResult<bool> {
        Err(StoreError::Refused(
            "tenants on SQLite are files on this machine; spreading them across nodes needs PostgreSQL with Citus"
                .to_owned(),
        ))
    }

    async fn forget_attempts(&self, key: &str) -> StoreResult<()> {
        self.with_control(async |control| forget_attempts::<Sqlite>(control, key).await)
            .await
    }

    async fn create_user(
        &self,
        tenant: TenantId,
        user: NewUser,
        now: UnixMillis,
    ) -> StoreResult<UserRecord> {
        match self.try_create_user(tenant, &user, now).await {
            Err(StoreError::Conflict { field: "email" })
                if self.email_is_claimable(&user.email).await? =>
            {
                self.try_create_user(tenant, &user, now).await
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_pools_start_no_maintenance_task() {
        let options = super::file_pool();
        assert_eq!(options.get_idle_timeout(), None);
        assert_eq!(options.get_max_lifetime(), None);
        assert_eq!(options.get_min_connections(), 0);
    }
}
