//! `nexus store copy`: every tenant of one store into another, for a shop that began on the
//! embedded SQLite store and moves to PostgreSQL (or back).

use std::collections::HashSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;
use nexus_store::{Store, StoreLocation, StoreOptions};

use crate::tenants::{Progress, export_to_file, import_from_file};

#[derive(Subcommand)]
pub(crate) enum StoreCommand {
    /// Copy every tenant from one store to another, one tenant at a time, each in full or not
    /// at all. Interrupted or failed part-way, run it again: the tenants already copied are
    /// skipped. Stop the service on the source first, or sales made during the copy stay behind.
    Copy {
        /// The source: a data directory of the embedded store, or a postgres:// URL.
        #[arg(long, value_name = "DIR|URL")]
        from: String,
        /// The target: a postgres:// URL, or a data directory (made if missing).
        #[arg(long, value_name = "URL|DIR")]
        to: String,
    },
}

/// `text` as a store location: a postgres:// URL, or else a data directory.
fn location(text: &str, must_exist: bool) -> Result<StoreLocation, String> {
    let trimmed = text.trim();
    if trimmed.contains("://") {
        return StoreLocation::from_url(Some(trimmed), PathBuf::new())
            .map_err(|error| error.to_string());
    }
    let data_dir = PathBuf::from(trimmed);
    if must_exist && !data_dir.join("control.db").exists() {
        return Err(format!(
            "{} holds no Nexus store (it has no control.db); name the data directory that `nexus serve --data` uses",
            data_dir.display()
        ));
    }
    Ok(StoreLocation::Sqlite { data_dir })
}

async fn open(location: &StoreLocation) -> Result<Arc<dyn Store>, String> {
    nexus_store::open(location, &StoreOptions::default())
        .await
        .map_err(|error| error.to_string())
}

fn describe(location: &StoreLocation) -> String {
    match location {
        StoreLocation::Sqlite { data_dir } => data_dir.display().to_string(),
        StoreLocation::Postgres { url } => nexus_store::redact_url(url),
    }
}

async fn copy(from: &str, to: &str) -> Result<(), String> {
    let source = location(from, true)?;
    let target = location(to, false)?;
    if source == target {
        return Err("the source and the target are the same store".to_owned());
    }
    let source_store = open(&source).await?;
    let target_store = open(&target).await?;
    let tenants = source_store
        .list_tenants()
        .await
        .map_err(|error| error.to_string())?;
    let present: HashSet<_> = target_store
        .list_tenants()
        .await
        .map_err(|error| error.to_string())?
        .into_iter()
        .map(|tenant| tenant.id)
        .collect();
    let total = u64::try_from(tenants.len()).unwrap_or(u64::MAX);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "copying {total} tenant(s) from {} to {}",
        describe(&source),
        describe(&target)
    );
    drop(err);
    let scratch = std::env::temp_dir().join(format!(
        "nexus-store-copy-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&scratch)
        .map_err(|error| format!("cannot make {}: {error}", scratch.display()))?;
    let mut tenants_bar = Progress::new("tenants", "copied");
    let (mut copied, mut skipped, mut rows, mut failed) = (0_u64, 0_u64, 0_u64, Vec::new());
    let mut interrupted = false;
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    for (index, tenant) in tenants.iter().enumerate() {
        if present.contains(&tenant.id) {
            skipped += 1;
        } else {
            let file = scratch.join(format!("{}.jsonl", tenant.id));
            let one = async {
                export_to_file(source_store.as_ref(), tenant.id, &file).await?;
                let mut quiet = Progress::new("rows", "loaded");
                // One bar at a time: the tenants' bar is the one shown.
                let imported = import_from_file(target_store.as_ref(), &file, &mut quiet).await;
                let _ = std::fs::remove_file(&file);
                imported
            };
            tokio::select! {
                outcome = one => match outcome {
                    Ok(imported) => {
                        copied += 1;
                        rows += imported.counts.rows;
                    }
                    Err(error) => failed.push((tenant.id, tenant.name.clone(), error)),
                },
                _ = &mut stop => {
                    // The tenant in flight was not committed: the next run copies it whole.
                    interrupted = true;
                }
            }
        }
        if interrupted {
            break;
        }
        let done = u64::try_from(index + 1).unwrap_or(u64::MAX);
        tenants_bar.show(
            done,
            total,
            &format!(
                "{rows} rows, {skipped} already there, {} failed",
                failed.len()
            ),
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{copied} tenant(s) copied ({rows} rows), {skipped} already there, {} failed",
        failed.len()
    );
    for (tenant, name, error) in &failed {
        let _ = writeln!(out, "  {name} ({tenant}): {error}");
    }
    if interrupted {
        return Err("interrupted; run the same `nexus store copy` again to finish".to_owned());
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} tenant(s) were not copied; run the same `nexus store copy` again once the cause is fixed",
            failed.len()
        ))
    }
}

pub(crate) async fn run(command: StoreCommand) -> Result<(), String> {
    match command {
        StoreCommand::Copy { from, to } => copy(&from, &to).await,
    }
}
