//! Versioned, embedded migrations and the run that brings every tenant up to date.

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use nexus_domain::TenantId;

use crate::sql::{Backend, Conn, query, run_script};
use crate::{MigrationOutcome, Store, StoreError, StoreResult};

/// One schema change. Versions start at 1 and increase by one; the SQL may hold several
/// statements and runs inside the tenant's transaction.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i32,
    pub sql: &'static str,
}

pub fn latest_version(migrations: &[Migration]) -> i32 {
    migrations
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0)
}

/// Applies the migrations this tenant lacks, on its own connection. The tenant's own
/// `schema_version` row is the truth; the control directory's copy is updated by the caller in
/// the same transaction (PostgreSQL) or right after (SQLite), and only ever lags behind.
pub(crate) async fn migrate_tenant_schema<B: Backend>(
    connection: &mut Conn<B>,
    tenant: TenantId,
    migrations: &'static [Migration],
) -> StoreResult<MigrationOutcome> {
    let sql = format!("SELECT version FROM schema_version{}", B::LOCK_ROWS);
    let found: i32 = query::<B>(&sql).scalar(connection).await?;
    let known = latest_version(migrations);
    if found > known {
        return Err(StoreError::TenantSchemaTooNew {
            tenant,
            found,
            known,
        });
    }
    if found == known {
        return Ok(MigrationOutcome::AlreadyCurrent);
    }
    for migration in migrations {
        if migration.version > found {
            run_script::<B>(connection, migration.sql).await?;
        }
    }
    query::<B>("UPDATE schema_version SET version = $1")
        .bind(known)
        .execute(connection)
        .await?;
    Ok(MigrationOutcome::Migrated {
        from: found,
        to: known,
    })
}

/// Where a migration run is, for a progress display.
#[derive(Clone, Copy, Debug)]
pub struct MigrateProgress {
    pub done: usize,
    pub total: usize,
    pub failed: usize,
    pub elapsed: Duration,
}

#[derive(Debug, Default)]
pub struct MigrateReport {
    pub total: usize,
    pub migrated: usize,
    pub already_current: usize,
    pub failures: Vec<(TenantId, StoreError)>,
    /// The run was stopped before every tenant was tried; running again picks up the rest.
    pub interrupted: bool,
    pub elapsed: Duration,
}

/// Migrates every tenant that is behind, `concurrency` at a time, one transaction each. A
/// tenant that fails is reported and the others go on. When `stop` completes, no new tenant is
/// started and the ones in flight are abandoned (their transactions roll back), so a run can be
/// interrupted at any moment and simply run again.
pub async fn migrate_all_tenants(
    store: &dyn Store,
    concurrency: usize,
    mut on_progress: impl FnMut(MigrateProgress),
    stop: impl Future<Output = ()>,
) -> StoreResult<MigrateReport> {
    let started = Instant::now();
    let outdated = store.outdated_tenants().await?;
    let mut report = MigrateReport {
        total: outdated.len(),
        ..MigrateReport::default()
    };
    let mut runs = futures_util::stream::iter(outdated)
        .map(|tenant| async move { (tenant, store.migrate_tenant(tenant).await) })
        .buffer_unordered(concurrency.max(1));
    tokio::pin!(stop);
    loop {
        let next = tokio::select! {
            // A stop request wins over work that is also ready.
            biased;
            () = &mut stop => {
                report.interrupted = true;
                break;
            }
            next = runs.next() => next,
        };
        let Some((tenant, outcome)) = next else { break };
        match outcome {
            Ok(MigrationOutcome::Migrated { .. }) => report.migrated += 1,
            Ok(MigrationOutcome::AlreadyCurrent) => report.already_current += 1,
            Err(error) => report.failures.push((tenant, error)),
        }
        on_progress(MigrateProgress {
            done: report.migrated + report.already_current + report.failures.len(),
            total: report.total,
            failed: report.failures.len(),
            elapsed: started.elapsed(),
        });
    }
    report.elapsed = started.elapsed();
    Ok(report)
}
