//! `nexus tenants list|migrate|distribute`: administering the organisations a server holds.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;

use clap::Subcommand;
use nexus_store::StoreOptions;
use nexus_store::migrate::{MigrateProgress, migrate_all_tenants};

use crate::serve::StorageArgs;

#[derive(Subcommand)]
pub(crate) enum TenantsCommand {
    /// List every tenant with its schema version.
    List(StorageArgs),
    /// Bring every tenant to this build's schema version. Safe to interrupt and run again.
    Migrate {
        #[command(flatten)]
        storage: StorageArgs,
        /// Tenants migrated at the same time.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
    },
    /// On PostgreSQL with Citus: spread every tenant schema not yet distributed across the
    /// workers (schema-based sharding). New tenants are distributed as they sign up; this moves
    /// those made before Citus was added. Safe to run again.
    Distribute(StorageArgs),
}

async fn open_store(storage: &StorageArgs) -> Result<Arc<dyn nexus_store::Store>, String> {
    let settings = storage.settings(storage.layer())?;
    let location = settings
        .store_location()
        .map_err(|error| error.to_string())?;
    nexus_store::open(&location, &StoreOptions::default())
        .await
        .map_err(|error| error.to_string())
}

async fn list_tenants(storage: StorageArgs) -> Result<(), String> {
    let store = open_store(&storage).await?;
    let tenants = store
        .list_tenants()
        .await
        .map_err(|error| error.to_string())?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{:<36}  {:>6}  NAME", "TENANT", "SCHEMA");
    for tenant in &tenants {
        let _ = writeln!(
            out,
            "{:<36}  {:>6}  {}",
            tenant.id, tenant.schema_version, tenant.name
        );
    }
    let _ = writeln!(out, "{} tenant(s)", tenants.len());
    Ok(())
}

/// A progress bar on a terminal; a line every tenth of the way otherwise (logs, CI).
fn progress_printer() -> impl FnMut(MigrateProgress) {
    let on_terminal = std::io::stderr().is_terminal();
    let mut last_tenth = 0;
    move |progress: MigrateProgress| {
        let mut err = std::io::stderr().lock();
        let total = progress.total.max(1);
        if on_terminal {
            let width = 30;
            let filled = progress.done * width / total;
            let _ = write!(
                err,
                "\r[{}{}] {}/{} tenants, {} failed, {:.1} s ",
                "#".repeat(filled),
                " ".repeat(width - filled),
                progress.done,
                progress.total,
                progress.failed,
                progress.elapsed.as_secs_f64()
            );
            if progress.done == progress.total {
                let _ = writeln!(err);
            }
        } else {
            let tenth = progress.done * 10 / total;
            if tenth > last_tenth || progress.done == progress.total {
                last_tenth = tenth;
                let _ = writeln!(
                    err,
                    "migrated {}/{} tenants ({} failed)",
                    progress.done, progress.total, progress.failed
                );
            }
        }
    }
}

async fn migrate_tenants(storage: StorageArgs, concurrency: u16) -> Result<(), String> {
    let store = open_store(&storage).await?;
    let report = migrate_all_tenants(
        store.as_ref(),
        usize::from(concurrency),
        progress_printer(),
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await
    .map_err(|error| error.to_string())?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} tenant(s) needed migrating: {} migrated, {} already current, {} failed, in {:.1} s",
        report.total,
        report.migrated,
        report.already_current,
        report.failures.len(),
        report.elapsed.as_secs_f64()
    );
    for (tenant, error) in &report.failures {
        let _ = writeln!(out, "  {tenant}: {error}");
    }
    if report.interrupted {
        return Err("interrupted; run `nexus tenants migrate` again to finish".to_owned());
    }
    if !report.failures.is_empty() {
        return Err(format!(
            "{} tenant(s) failed to migrate",
            report.failures.len()
        ));
    }
    Ok(())
}

async fn distribute_tenants(storage: StorageArgs) -> Result<(), String> {
    let store = open_store(&storage).await?;
    let Some(version) = store
        .citus_version()
        .await
        .map_err(|error| error.to_string())?
    else {
        return Err(
            "this database has no citus extension: its tenants stay where they are (docs/scale-out.md says how to add Citus)"
                .to_owned(),
        );
    };
    let tenants = store
        .list_tenants()
        .await
        .map_err(|error| error.to_string())?;
    let (mut moved, mut already, mut failed) = (0_usize, 0_usize, Vec::new());
    let mut err = std::io::stderr().lock();
    for (done, tenant) in tenants.iter().enumerate() {
        match store.distribute_tenant(tenant.id).await {
            Ok(true) => moved += 1,
            Ok(false) => already += 1,
            Err(error) => failed.push((tenant.id, error.to_string())),
        }
        let _ = writeln!(err, "  {}/{} tenants", done + 1, tenants.len());
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Citus {version}: {moved} tenant schema(s) distributed, {already} already were, {} failed",
        failed.len()
    );
    for (tenant, error) in &failed {
        let _ = writeln!(out, "  {tenant}: {error}");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} tenant(s) were not distributed; run `nexus tenants distribute` again",
            failed.len()
        ))
    }
}

pub(crate) async fn run(command: TenantsCommand) -> Result<(), String> {
    match command {
        TenantsCommand::List(storage) => list_tenants(storage).await,
        TenantsCommand::Migrate {
            storage,
            concurrency,
        } => migrate_tenants(storage, concurrency).await,
        TenantsCommand::Distribute(storage) => distribute_tenants(storage).await,
    }
}
