//! `nexus tenants list|migrate|distribute`: administering the organisations a server holds.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;

use std::path::{Path, PathBuf};

use clap::Subcommand;
use nexus_domain::{Clock as _, SystemClock, TenantId};
use nexus_store::migrate::{MigrateProgress, migrate_all_tenants};
use nexus_store::portable::{ExportCounts, ImportProgress, Imported};
use nexus_store::{Store, StoreOptions};

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
    /// Write one tenant (its staff, catalogue, stock, sales, tills, everything) to a file that
    /// `nexus tenants import` loads on either backend: a backup, or a move from the embedded
    /// store to PostgreSQL. Reads a snapshot; the service may keep running.
    Export {
        #[command(flatten)]
        storage: StorageArgs,
        /// The tenant's id, as `nexus tenants list` shows it.
        #[arg(long, value_name = "ID")]
        tenant: TenantId,
        /// The file to write (JSON lines); replaced only once the export is complete.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Add the tenant a `nexus tenants export` file holds to this store, at this build's
    /// schema version. All or nothing; refused when the tenant or one of its emails is already
    /// here.
    Import {
        #[command(flatten)]
        storage: StorageArgs,
        /// A file written by `nexus tenants export`.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
}

async fn open_store(storage: &StorageArgs) -> Result<Arc<dyn Store>, String> {
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
pub(crate) struct Progress {
    what: &'static str,
    verb: &'static str,
    on_terminal: bool,
    last_tenth: u64,
    started: std::time::Instant,
}

impl Progress {
    /// Counts `what` ("tenants", "rows"), saying `verb` ("migrated") on the plain lines.
    pub(crate) fn new(what: &'static str, verb: &'static str) -> Self {
        Self {
            what,
            verb,
            on_terminal: std::io::stderr().is_terminal(),
            last_tenth: 0,
            started: std::time::Instant::now(),
        }
    }

    /// Shows `done` of `total`; `extra` follows the count ("2 failed").
    pub(crate) fn show(&mut self, done: u64, total: u64, extra: &str) {
        let mut err = std::io::stderr().lock();
        let whole = total.max(1);
        let separator = if extra.is_empty() { "" } else { ", " };
        if self.on_terminal {
            let width = 30;
            let filled = usize::try_from(done.min(whole) * width / whole).unwrap_or(0);
            let _ = write!(
                err,
                "\r[{}{}] {done}/{total} {}{separator}{extra}, {:.1} s ",
                "#".repeat(filled),
                " ".repeat(30 - filled),
                self.what,
                self.started.elapsed().as_secs_f64()
            );
            if done >= total {
                let _ = writeln!(err);
            }
        } else {
            let tenth = done * 10 / whole;
            if tenth > self.last_tenth || done >= total {
                self.last_tenth = tenth;
                let _ = writeln!(
                    err,
                    "{} {done}/{total} {}{separator}{extra}",
                    self.verb, self.what
                );
            }
        }
    }
}

fn progress_printer() -> impl FnMut(MigrateProgress) {
    let mut progress = Progress::new("tenants", "migrated");
    move |step: MigrateProgress| {
        progress.show(
            u64::try_from(step.done).unwrap_or(u64::MAX),
            u64::try_from(step.total).unwrap_or(u64::MAX),
            &format!("{} failed", step.failed),
        );
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

/// Exports `tenant` to `out` by way of `out.partial`, so that a file under the asked name is
/// always a complete export.
pub(crate) async fn export_to_file(
    store: &dyn Store,
    tenant: TenantId,
    out: &Path,
) -> Result<ExportCounts, String> {
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = std::fs::File::create(&partial)
        .map_err(|error| format!("cannot write {}: {error}", partial.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let exported = store
        .export_tenant(tenant, SystemClock.now(), &mut writer)
        .await;
    let finished = exported
        .map_err(|error| error.to_string())
        .and_then(|counts| {
            let file = writer.into_inner().map_err(|error| {
                format!("cannot write {}: {}", partial.display(), error.error())
            })?;
            file.sync_all()
                .and_then(|()| std::fs::rename(&partial, out))
                .map_err(|error| format!("cannot write {}: {error}", out.display()))?;
            Ok(counts)
        });
    if finished.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    finished
}

/// Imports the export in `file`, showing the rows as they load.
pub(crate) async fn import_from_file(
    store: &dyn Store,
    file: &Path,
    progress: &mut Progress,
) -> Result<Imported, String> {
    let opened = std::fs::File::open(file)
        .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let mut reader = std::io::BufReader::new(opened);
    let mut show = |step: ImportProgress| progress.show(step.rows_done, step.rows_total, "");
    store
        .import_tenant(&mut reader, &mut show)
        .await
        .map_err(|error| format!("{}: {error}", file.display()))
}

async fn export_tenant(storage: StorageArgs, tenant: TenantId, out: PathBuf) -> Result<(), String> {
    let store = open_store(&storage).await?;
    let started = std::time::Instant::now();
    let counts = export_to_file(store.as_ref(), tenant, &out).await?;
    let _ = writeln!(
        std::io::stdout().lock(),
        "exported tenant {tenant}: {} tables, {} rows to {} in {:.2} s",
        counts.tables,
        counts.rows,
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn import_tenant(storage: StorageArgs, file: PathBuf) -> Result<(), String> {
    let store = open_store(&storage).await?;
    let started = std::time::Instant::now();
    let imported =
        import_from_file(store.as_ref(), &file, &mut Progress::new("rows", "loaded")).await?;
    let migrated = imported
        .migrated_from
        .map(|from| format!(", brought from schema version {from}"))
        .unwrap_or_default();
    let _ = writeln!(
        std::io::stdout().lock(),
        "imported {} ({}): {} tables, {} rows{migrated}, in {:.2} s",
        imported.name,
        imported.tenant,
        imported.counts.tables,
        imported.counts.rows,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub(crate) async fn run(command: TenantsCommand) -> Result<(), String> {
    match command {
        TenantsCommand::List(storage) => list_tenants(storage).await,
        TenantsCommand::Migrate {
            storage,
            concurrency,
        } => migrate_tenants(storage, concurrency).await,
        TenantsCommand::Distribute(storage) => distribute_tenants(storage).await,
        TenantsCommand::Export {
            storage,
            tenant,
            out,
        } => export_tenant(storage, tenant, out).await,
        TenantsCommand::Import { storage, file } => import_tenant(storage, file).await,
    }
}
