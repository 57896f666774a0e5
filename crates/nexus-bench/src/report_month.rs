//! `report_month`: one tenant with a year of sales (1,000,000 by default), then the monthly sales
//! report of one branch, timed through the real HTTP endpoint.
//!
//! The sales are bulk-loaded with SQL ([`crate::bulk_load`]) and the report rollups then rebuilt
//! from them by the store's own `rebuild_report_rollups`. The report reads what a live server
//! reads.

use std::time::Instant;

use serde_json::Value;

use crate::bulk_load::BenchService;
use crate::percentile;
use crate::pos_benches::text;

/// 2025-01-01 as days since 1970-01-01: the loaded year starts there.
const FIRST_DAY: i64 = 20_089;

pub(crate) async fn run(
    postgres: Option<String>,
    sales: u64,
    requests: usize,
) -> Result<String, String> {
    let service = BenchService::start(postgres, "report", false).await?;
    let (base, branch) = (service.base.clone(), service.branch);

    eprintln!("loading {sales} sales over 365 days…");
    let started = Instant::now();
    let mut tenant = service.tenant_sql().await?;
    tenant
        .load_sales(sales, FIRST_DAY, branch, service.owner)
        .await?;
    drop(tenant);
    let loaded = started.elapsed();
    let rebuild_started = Instant::now();
    service
        .store
        .rebuild_report_rollups(service.tenant)
        .await
        .map_err(text)?;
    let rebuild = rebuild_started.elapsed();
    eprintln!(
        "loaded in {:.1} s; rollups rebuilt in {:.1} s; timing {requests} monthly reports…",
        loaded.as_secs_f64(),
        rebuild.as_secs_f64()
    );

    // The months of the loaded year, one branch each time.
    let months = [
        "2025-01-01&to=2025-01-31",
        "2025-03-01&to=2025-03-31",
        "2025-06-01&to=2025-06-30",
        "2025-10-01&to=2025-10-31",
    ];
    let mut timings = Vec::with_capacity(requests);
    let mut checked_sales = 0;
    for index in 0..requests + 10 {
        let url = format!(
            "{base}/api/v1/reports/sales?period=month&branch={branch}&from={}",
            months[index % months.len()]
        );
        let started = Instant::now();
        let response = service
            .client
            .get(&url)
            .bearer_auth(&service.token)
            .send()
            .await
            .map_err(text)?;
        let status = response.status();
        let body: Value = response.json().await.map_err(text)?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            return Err(format!("report: {status} {body}"));
        }
        if index >= 10 {
            timings.push(elapsed);
        }
        checked_sales = body["totals"]["sales_count"].as_i64().unwrap_or(0);
    }
    if checked_sales == 0 {
        return Err("the report saw no sales".to_owned());
    }
    timings.sort();
    let backend = service.backend();
    service.finish().await;
    Ok(format!(
        "report_month backend={backend} sales={sales} p50_ms={:.2} p99_ms={:.2} rebuild_s={:.1}",
        percentile(&timings, 50),
        percentile(&timings, 99),
        rebuild.as_secs_f64()
    ))
}
