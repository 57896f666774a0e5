//! `tenant_export`: `nexus tenants export` of one shop among many. The bench database keeps its
//! tenants between runs (as `tenant_provision` does); one shop with a catalogue and sales made
//! through the API is exported several times over, then loaded into an empty embedded store.

use std::path::Path;
use std::time::{Duration, Instant};

use nexus_domain::{Clock as _, SystemClock, TenantId};
use nexus_store::{StoreLocation, StoreOptions};
use serde_json::json;

use crate::service::BenchService;

/// Exports timed; the median and the slowest are reported.
const EXPORTS: usize = 5;

async fn export_once(
    store: &dyn nexus_store::Store,
    tenant: TenantId,
    file: &Path,
) -> Result<(Duration, u64), String> {
    let started = Instant::now();
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(file).map_err(|error| error.to_string())?);
    let counts = store
        .export_tenant(tenant, SystemClock.now(), &mut out)
        .await
        .map_err(|error| error.to_string())?;
    drop(out);
    Ok((started.elapsed(), counts.rows))
}

pub(crate) async fn tenant_export(
    database_url: String,
    tenants: usize,
    sales: usize,
) -> Result<String, String> {
    crate::ensure_database(&database_url).await?;
    let store = nexus_store::open(
        &StoreLocation::Postgres {
            url: database_url.clone(),
        },
        &StoreOptions::default(),
    )
    .await
    .map_err(|error| error.to_string())?;
    crate::fill_to(&store, &SystemClock, tenants).await?;
    let service = BenchService::serve(&database_url, "tenant-export").await?;
    let name = uuid::Uuid::now_v7().simple().to_string();
    let shop = service
        .shop(
            &format!("Export shop {name}"),
            &format!("export-{name}@bench.example"),
            50,
        )
        .await?;
    eprintln!("selling {sales} sales through the API (untimed)…");
    for index in 0..sales {
        let lines: Vec<_> = (0..5)
            .map(|line| json!({ "product_id": shop.products[(index + line * 7) % shop.products.len()], "quantity": 1 }))
            .collect();
        service
            .call(
                reqwest::Method::POST,
                "/api/v1/sales",
                Some(&shop.token),
                json!({ "id": uuid::Uuid::now_v7(), "branch_id": shop.branch, "lines": lines,
                        "tenders": [{ "kind": "cash", "amount_minor": 100_000 }] }),
            )
            .await?;
    }
    service.stop().await;
    let tenant: TenantId = shop
        .tenant
        .as_str()
        .and_then(|id| id.parse().ok())
        .ok_or("the registration named no tenant")?;
    let present = store
        .list_tenants()
        .await
        .map_err(|error| error.to_string())?
        .len();
    let scratch = std::env::temp_dir().join(format!("nexus-bench-export-{name}"));
    std::fs::create_dir_all(&scratch).map_err(|error| error.to_string())?;
    let file = scratch.join("export.jsonl");
    let mut timings = Vec::with_capacity(EXPORTS);
    let mut rows = 0;
    for _ in 0..EXPORTS {
        let (took, exported) = export_once(store.as_ref(), tenant, &file).await?;
        timings.push(took);
        rows = exported;
    }
    timings.sort();
    let bytes = std::fs::metadata(&file).map_or(0, |meta| meta.len());
    eprintln!(
        "{rows} rows, {} KiB; loading them into an empty embedded store…",
        bytes / 1024
    );
    let target = nexus_store::open(
        &StoreLocation::Sqlite {
            data_dir: scratch.join("target"),
        },
        &StoreOptions::default(),
    )
    .await
    .map_err(|error| error.to_string())?;
    let started = Instant::now();
    let mut input =
        std::io::BufReader::new(std::fs::File::open(&file).map_err(|error| error.to_string())?);
    target
        .import_tenant(&mut input, &mut |_| {})
        .await
        .map_err(|error| error.to_string())?;
    let import = started.elapsed();
    drop(target);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(format!(
        "tenant_export backend=postgres tenants={present} rows={rows} export_p50_ms={:.1} export_max_ms={:.1} import_sqlite_ms={:.0}",
        crate::percentile(&timings, 50),
        timings
            .last()
            .map_or(0.0, |took| took.as_secs_f64() * 1000.0),
        import.as_secs_f64() * 1000.0
    ))
}
