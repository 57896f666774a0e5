//! PostgreSQL: the `nexus_control` schema plus one schema per tenant (`t_<32 hex>`).
//!
//! Every tenant transaction opens with `BEGIN; SET LOCAL search_path TO "<schema>"`, sent as one
//! simple query (one round trip), so the setting dies with the transaction: safe behind PgBouncer
//! in transaction mode, and each tenant transaction touches one schema (Citus schema sharding).
//! Session-level `SET` is never used. Outside a tenant transaction the search path names no
//! schema with tables (control tables are always written `nexus_control.x`, and nothing is ever
//! created in `public`), so a query that forgot its tenant fails instead of reading another's rows.
//!
//! Behind PgBouncer in transaction mode each transaction may run on a different server
//! connection, so nothing may outlive a transaction: every query runs inside one (control
//! queries too, through `with_control`), and statements are never prepared under a name (see
//! `sql`).

pub(crate) mod citus;

use std::collections::HashSet;
use std::sync::RwLock;
use std::time::Duration;

use async_trait::async_trait;
use nexus_domain::throttle::{Attempts, Policy, RetryAt};
use nexus_domain::{Email, TenantId, UnixMillis};
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use crate::control::{
    apply_control_migrations, find_login, forget_attempts, insert_imported_logins, insert_login,
    insert_tenant_entry, insert_tenant_row, list_tenants, outdated_tenants, record_tenant_version,
    reserve_attempt, signing_secret, tenant_directory, tenant_version,
};
use crate::migrate::{Migration, latest_version, migrate_tenant_schema};
use crate::portable::{
    self, ExportCounts, ImportProgress, Imported, import_into, own_schema_version, read_header,
    write_export,
};
use crate::sql::{query, run_script};
use crate::tenant::TenantAccess;
use crate::tenant::staff::{insert_session, insert_user};
use crate::{
    BackendKind, ControlStore, LoginEntry, MigrationOutcome, NewTenant, NewUser, StoreError,
    StoreOptions, StoreResult, TenantSummary, UserRecord, redact_url,
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

/// The tenant schema's migrations, embedded in the binary.
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

/// Held for the length of a control-schema migration so that several servers starting at once
/// migrate it exactly once. An arbitrary constant, unique to Nexus in this database.
const CONTROL_MIGRATION_LOCK: i64 = 0x6e65_7875_7300_0001;

/// No idle timeout and no maximum lifetime: with neither, sqlx starts no pool-maintenance task,
/// the loop where sqlx-core 0.8.6 can spin a core forever once its idle count underflows (see the
/// SQLite store). Connections that break are found by the ping before each acquire and replaced.
pub(crate) fn server_pool(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(None)
        .max_lifetime(None)
}

pub struct PgStore {
    pool: PgPool,
    /// Tenants this process has seen at the current schema version. A tenant not in here is
    /// checked (and migrated if behind) before its first transaction, so no request is ever
    /// served on an old schema.
    current_tenants: RwLock<HashSet<TenantId>>,
}

impl PgStore {
    pub async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Self> {
        let pool = server_pool(options.max_connections)
            .connect(url)
            .await
            .map_err(|error| {
                StoreError::Config(format!(
                    "cannot connect to PostgreSQL at {}: {error}",
                    redact_url(url)
                ))
            })?;
        let store = Self {
            pool,
            current_tenants: RwLock::new(HashSet::new()),
        };
        store.migrate_control().await?;
        store.warn_if_default_search_path_has_tables().await?;
        Ok(store)
    }

    /// Fail-closed rests on the default search path (`"$user", public`) holding no tables, so
    /// that a query run outside a tenant transaction finds nothing. Nexus never creates tables
    /// there; if someone else did, say so loudly. (Pinning the search path with a startup
    /// parameter would break PgBouncer, which refuses unknown startup parameters by default.)
    async fn warn_if_default_search_path_has_tables(&self) -> StoreResult<()> {
        let exposed: Vec<String> = self
            .with_control(async |connection| {
                Ok(query::<Postgres>(
                    "SELECT schemaname || '.' || tablename FROM pg_tables \
                     WHERE schemaname = ANY (current_schemas(false)) ORDER BY 1 LIMIT 5",
                )
                .scalars(connection)
                .await?)
            })
            .await?;
        if !exposed.is_empty() {
            tracing::warn!(
                tables = %exposed.join(", "),
                "tables are visible on the default search path; a tenant query that lost its tenant would read them \
                 instead of failing. Move them out of the schemas on the default search path"
            );
        }
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn migrate_control(&self) -> StoreResult<()> {
        self.with_control(async |connection| {
            query::<Postgres>("SELECT pg_advisory_xact_lock($1)")
                .bind(CONTROL_MIGRATION_LOCK)
                .execute(connection)
                .await?;
            run_script::<Postgres>(connection, "CREATE SCHEMA IF NOT EXISTS nexus_control").await?;
            apply_control_migrations::<Postgres>(connection, CONTROL_MIGRATIONS).await
        })
        .await
    }

    /// Runs `work` in one transaction outside every tenant (the control schema is always
    /// named), committed when it returns `Ok`.
    async fn with_control<T>(
        &self,
        work: impl AsyncFnOnce(&mut PgConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut transaction = self.pool.begin().await?;
        let value = work(&mut transaction).await?;
        transaction.commit().await?;
        Ok(value)
    }

    fn begin_statement(tenant: TenantId) -> String {
        // The schema name is built from a parsed id (`t_` + 32 hex digits), never from client
        // text, so quoting it into the statement is safe.
        format!(
            "BEGIN; SET LOCAL search_path TO \"{}\"",
            tenant.storage_name()
        )
    }

    /// An empty tenant schema at version 0, ready for its migrations.
    fn bootstrap_schema(schema: &str) -> String {
        format!(
            "CREATE SCHEMA \"{schema}\"; \
             CREATE TABLE \"{schema}\".schema_version (version integer NOT NULL); \
             INSERT INTO \"{schema}\".schema_version (version) VALUES (0)"
        )
    }

    /// On Citus a new tenant's schema goes to a worker; if that fails the shop still works
    /// from the coordinator, and `nexus tenants distribute` moves it later.
    async fn distribute_new(&self, tenant: TenantId) {
        if self.citus_version().await.ok().flatten().is_some()
            && let Err(error) = crate::postgres::citus::distribute(&self.pool, tenant).await
        {
            tracing::warn!(tenant = %tenant, %error, "the new tenant's schema was not distributed; run `nexus tenants distribute`");
        }
    }

    fn mark_current(&self, tenant: TenantId) {
        if let Ok(mut set) = self.current_tenants.write() {
            set.insert(tenant);
        }
    }
}

impl TenantAccess for PgStore {
    type Db = Postgres;

    /// A transaction bound to `tenant`'s schema: one round trip, whatever tenant came before on
    /// this connection.
    async fn begin_tenant(&self, tenant: TenantId) -> StoreResult<Transaction<'static, Postgres>> {
        let known_current = self
            .current_tenants
            .read()
            .map(|set| set.contains(&tenant))
            .unwrap_or(false);
        if !known_current {
            self.migrate_tenant(tenant).await?;
        }
        Ok(self.pool.begin_with(Self::begin_statement(tenant)).await?)
    }
}

impl crate::billing::ControlAccess for PgStore {
    async fn begin_control(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }
}

#[async_trait]
impl ControlStore for PgStore {
    fn backend(&self) -> BackendKind {
        BackendKind::Postgres
    }

    fn pool_stats(&self) -> crate::PoolStats {
        let open = u64::from(self.pool.size());
        let idle = u64::try_from(self.pool.num_idle()).unwrap_or(u64::MAX);
        crate::PoolStats {
            in_use: open.saturating_sub(idle),
            idle,
            max: u64::from(self.pool.options().get_max_connections()),
            tenants_open: self
                .current_tenants
                .read()
                .map_or(0, |set| u64::try_from(set.len()).unwrap_or(u64::MAX)),
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        // A simple query: complete in itself, so it passes through PgBouncer's pooling.
        sqlx::Executor::execute(&self.pool, "SELECT 1").await?;
        Ok(())
    }

    async fn signing_secret(&self, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        self.with_control(async |connection| {
            signing_secret::<Postgres>(connection, candidate).await
        })
        .await
    }

    async fn register_tenant(&self, tenant: NewTenant) -> StoreResult<UserRecord> {
        // One transaction holds the directory rows, the schema, its tables and the owner: DDL is
        // transactional in PostgreSQL, so a failure anywhere leaves nothing behind.
        let schema = tenant.id.storage_name();
        let mut transaction = self
            .pool
            .begin_with(Self::begin_statement(tenant.id))
            .await?;
        insert_tenant_row::<Postgres>(&mut transaction, &tenant, latest_version(TENANT_MIGRATIONS))
            .await?;
        insert_login::<Postgres>(
            &mut transaction,
            &tenant.owner.email,
            tenant.id,
            tenant.owner.id,
        )
        .await?;
        run_script::<Postgres>(&mut transaction, &Self::bootstrap_schema(&schema)).await?;
        migrate_tenant_schema::<Postgres>(&mut transaction, tenant.id, TENANT_MIGRATIONS).await?;
        let owner = insert_user::<Postgres>(&mut transaction, &tenant.owner, tenant.now).await?;
        insert_session::<Postgres>(&mut transaction, &tenant.owner_session).await?;
        transaction.commit().await?;
        self.mark_current(tenant.id);
        self.distribute_new(tenant.id).await;
        Ok(owner)
    }

    async fn export_tenant(
        &self,
        tenant: TenantId,
        now: UnixMillis,
        out: &mut (dyn std::io::Write + Send),
    ) -> StoreResult<ExportCounts> {
        // One snapshot for the directory rows and every table; read-only, so no writer waits.
        let mut transaction = self
            .pool
            .begin_with(format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL search_path TO \"{}\"",
                tenant.storage_name()
            ))
            .await?;
        let (entry, logins) = tenant_directory::<Postgres>(&mut transaction, tenant).await?;
        let version = own_schema_version::<Postgres>(&mut transaction).await?;
        let header = portable::header(entry, logins, version, now, BackendKind::Postgres);
        let counts = write_export::<Postgres>(&mut transaction, header, out).await?;
        transaction.commit().await?;
        Ok(counts)
    }

    async fn import_tenant(
        &self,
        input: &mut (dyn std::io::BufRead + Send),
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> StoreResult<Imported> {
        let header = read_header(input, latest_version(TENANT_MIGRATIONS))?;
        let tenant = TenantId::from_uuid(header.tenant.id);
        // Directory rows, schema and rows in one transaction: DDL is transactional here, so a
        // refusal or a crash part-way leaves nothing, and the next attempt starts clean.
        let mut transaction = self.pool.begin_with(Self::begin_statement(tenant)).await?;
        if tenant_version::<Postgres>(&mut transaction, tenant)
            .await?
            .is_some()
        {
            return Err(StoreError::Refused(format!(
                "the organisation {} ({tenant}) is already on this server; nothing was imported",
                header.tenant.name
            )));
        }
        insert_tenant_entry::<Postgres>(
            &mut transaction,
            &header.tenant,
            latest_version(TENANT_MIGRATIONS),
        )
        .await?;
        insert_imported_logins::<Postgres>(&mut transaction, tenant, &header.logins).await?;
        run_script::<Postgres>(
            &mut transaction,
            &Self::bootstrap_schema(&tenant.storage_name()),
        )
        .await?;
        let (counts, migrated_from) = import_into::<Postgres>(
            &mut transaction,
            tenant,
            &header,
            input,
            progress,
            TENANT_MIGRATIONS,
        )
        .await?;
        transaction.commit().await?;
        self.mark_current(tenant);
        self.distribute_new(tenant).await;
        Ok(Imported {
            tenant,
            name: header.tenant.name,
            counts,
            migrated_from,
        })
    }

    async fn list_tenants(&self) -> StoreResult<Vec<TenantSummary>> {
        self.with_control(async |connection| list_tenants::<Postgres>(connection).await)
            .await
    }

    async fn outdated_tenants(&self) -> StoreResult<Vec<TenantId>> {
        self.with_control(async |connection| {
            outdated_tenants::<Postgres>(connection, latest_version(TENANT_MIGRATIONS)).await
        })
        .await
    }

    async fn migrate_tenant(&self, tenant: TenantId) -> StoreResult<MigrationOutcome> {
        let mut transaction = self.pool.begin_with(Self::begin_statement(tenant)).await?;
        let recorded = tenant_version::<Postgres>(&mut transaction, tenant).await?;
        if recorded.is_none() {
            return Err(StoreError::UnknownTenant(tenant));
        }
        let outcome =
            migrate_tenant_schema::<Postgres>(&mut transaction, tenant, TENANT_MIGRATIONS).await?;
        if recorded != Some(latest_version(TENANT_MIGRATIONS)) {
            record_tenant_version::<Postgres>(
                &mut transaction,
                tenant,
                latest_version(TENANT_MIGRATIONS),
            )
            .await?;
        }
        transaction.commit().await?;
        self.mark_current(tenant);
        Ok(outcome)
    }

    async fn find_login(&self, email: &Email) -> StoreResult<Option<LoginEntry>> {
        self.with_control(async |connection| find_login::<Postgres>(connection, email).await)
            .await
    }

    async fn reserve_attempt(
        &self,
        key: &str,
        policy: Policy,
        now: UnixMillis,
    ) -> StoreResult<Result<Attempts, RetryAt>> {
        self.with_control(async |connection| {
            reserve_attempt::<Postgres>(connection, key, policy, now).await
        })
        .await
    }

    async fn announce(&self, texts: &[String]) -> StoreResult<()> {
        if texts.is_empty() {
            return Ok(());
        }
        self.with_control(async |connection| {
            query::<Postgres>("SELECT pg_notify($1, text) FROM UNNEST($2::text[]) AS text")
                .bind(crate::announcements::CHANNEL)
                .bind(texts)
                .execute(connection)
                .await?;
            Ok(())
        })
        .await
    }

    async fn citus_version(&self) -> StoreResult<Option<String>> {
        self.with_control(async |connection| {
            Ok(
                query::<Postgres>("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
                    .scalar_optional(connection)
                    .await?,
            )
        })
        .await
    }

    async fn distribute_tenant(&self, tenant: TenantId) -> StoreResult<bool> {
        if self.citus_version().await?.is_none() {
            return Err(StoreError::Refused(
                "this database has no citus extension: its tenants stay where they are (docs/scale-out.md says how to add Citus)"
                    .to_owned(),
            ));
        }
        crate::postgres::citus::distribute(&self.pool, tenant).await
    }

    async fn forget_attempts(&self, key: &str) -> StoreResult<()> {
        self.with_control(async |connection| forget_attempts::<Postgres>(connection, key).await)
            .await
    }

    async fn create_user(
        &self,
        tenant: TenantId,
        user: NewUser,
        now: UnixMillis,
    ) -> StoreResult<UserRecord> {
        // The login row (control schema) and the user (tenant schema) commit together.
        let mut transaction = self.begin_tenant(tenant).await?;
        insert_login::<Postgres>(&mut transaction, &user.email, tenant, user.id).await?;
        let record = insert_user::<Postgres>(&mut transaction, &user, now).await?;
        transaction.commit().await?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn server_pools_start_no_maintenance_task() {
        let options = super::server_pool(10);
        assert_eq!(options.get_idle_timeout(), None);
        assert_eq!(options.get_max_lifetime(), None);
        assert_eq!(options.get_min_connections(), 0);
    }
}
