//! `report_month`: one tenant with a year of sales (1,000,000 by default), then the monthly sales
//! report of one branch, timed through the real HTTP endpoint.
//!
//! Loading a million sales through the API would take most of an hour, so the sales (with their
//! levies and tenders) are bulk-inserted with SQL, and the report rollups are then rebuilt from
//! them by the store's own `rebuild_report_rollups`, exactly as an operator's repair would. The
//! report reads what a live server reads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nexus_domain::{SystemClock, TenantId};
use nexus_server::{App, SecretString, Settings};
use serde_json::{Value, json};

use crate::{percentile, recreate_database};

/// A sale every so often over a year, spread over 365 local days from 2025-01-01.
const FIRST_DAY: i64 = 20_089; // 2025-01-01 as days since 1970-01-01
const DAY_MILLIS: i64 = 86_400_000;

fn load_sql(rows: u64, first_row: u64, series: &str, new_id: &str, schema: &str) -> String {
    // Totals cycle through 12.00 .. 60.00, inclusive of 20% tax: net 10.00 .. 50.00.
    format!(
        "{series} INSERT INTO {schema}sales (id, kind, refers_to, branch_id, cashier_id, device_id, receipt_number, currency, price_mode, \
         gross_minor, discount_minor, net_minor, tax_minor, total_minor, tendered_minor, change_minor, reason, occurred_at, local_day, recorded_at) \
         SELECT {new_id}, 'sale', NULL, $1, $2, NULL, NULL, 'GHS', 'inclusive', \
         1200 * (1 + i % 5), 0, 1000 * (1 + i % 5), 200 * (1 + i % 5), 1200 * (1 + i % 5), 1200 * (1 + i % 5), 0, NULL, \
         (CAST({FIRST_DAY} AS BIGINT) + i % 365) * {DAY_MILLIS} + (i % 36000) * 1000, {FIRST_DAY} + i % 365, (CAST({FIRST_DAY} AS BIGINT) + i % 365) * {DAY_MILLIS} + (i % 36000) * 1000 \
         FROM series WHERE i > {first_row} AND i <= {last_row}",
        last_row = first_row + rows,
    )
}

const DETAIL_SQL: &str = "INSERT INTO {schema}sale_levies (sale_id, line_no, code, amount_minor) \
     SELECT id, 1, 'VAT', net_minor * 15 / 100 FROM {schema}sales; \
     INSERT INTO {schema}sale_levies (sale_id, line_no, code, amount_minor) \
     SELECT id, 1, 'NHIL', net_minor * 25 / 1000 FROM {schema}sales; \
     INSERT INTO {schema}sale_levies (sale_id, line_no, code, amount_minor) \
     SELECT id, 1, 'GETFUND', net_minor * 25 / 1000 FROM {schema}sales; \
     INSERT INTO {schema}sale_tenders (sale_id, position, kind, amount_minor, network, phone, reference, verified) \
     SELECT id, 0, 'cash', total_minor, NULL, NULL, NULL, TRUE FROM {schema}sales";

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: Value,
) -> Result<Value, String> {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|error| error.to_string())?;
    let status = response.status();
    let value: Value = response.json().await.map_err(|error| error.to_string())?;
    if !status.is_success() {
        return Err(format!("{url}: {status} {value}"));
    }
    Ok(value)
}

pub(crate) async fn run(
    postgres: Option<String>,
    sales: u64,
    requests: usize,
) -> Result<String, String> {
    let scratch = std::env::temp_dir().join(format!(
        "nexus-bench-report-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut settings = Settings::defaults();
    settings.data_dir = scratch.clone();
    if let Some(url) = &postgres {
        recreate_database(url).await?;
        settings.database_url = Some(SecretString::new(url.clone()));
    }
    let app = App::open(settings, Arc::new(SystemClock))
        .await
        .map_err(|error| error.to_string())?;
    let store = app.store().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|error| error.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|error| error.to_string())?
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let registered = post(
        &client,
        &format!("{base}/api/v1/auth/register"),
        None,
        json!({ "organisation": "Report Bench", "email": format!("bench-{}@bench.example", uuid::Uuid::new_v4().simple()), "password": "bench password" }),
    )
    .await?;
    let token = registered["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let tenant: TenantId = registered["tenant_id"]
        .as_str()
        .ok_or("no tenant")?
        .parse()
        .map_err(|_| "bad tenant id")?;
    let cashier: uuid::Uuid = registered["user_id"]
        .as_str()
        .ok_or("no user")?
        .parse()
        .map_err(|_| "bad user id")?;
    let branch: uuid::Uuid = post(
        &client,
        &format!("{base}/api/v1/branches"),
        Some(&token),
        json!({ "name": "Makola" }),
    )
    .await?["id"]
        .as_str()
        .ok_or("no branch id")?
        .parse()
        .map_err(|_| "bad branch id")?;

    eprintln!("loading {sales} sales over 365 days…");
    let started = Instant::now();
    let batch = 100_000_u64;
    match &postgres {
        Some(url) => {
            use sqlx::Connection as _;
            let mut connection = sqlx::PgConnection::connect(url)
                .await
                .map_err(|error| error.to_string())?;
            let schema = format!("\"{}\".", tenant.storage_name());
            let mut first = 0;
            while first < sales {
                let rows = batch.min(sales - first);
                let sql = load_sql(
                    rows,
                    first,
                    &format!(
                        "WITH series(i) AS (SELECT generate_series({}, {}))",
                        first + 1,
                        first + rows
                    ),
                    "gen_random_uuid()",
                    &schema,
                );
                sqlx::query(&sql)
                    .bind(branch)
                    .bind(cashier)
                    .execute(&mut connection)
                    .await
                    .map_err(|error| error.to_string())?;
                first += rows;
                eprintln!(
                    "  {first}/{sales} sales in {:.0} s",
                    started.elapsed().as_secs_f64()
                );
            }
            sqlx::Executor::execute(
                &mut connection,
                DETAIL_SQL.replace("{schema}", &schema).as_str(),
            )
            .await
            .map_err(|error| error.to_string())?;
            sqlx::Executor::execute(&mut connection, format!("ANALYZE {schema}sales; ANALYZE {schema}sale_levies; ANALYZE {schema}sale_tenders").as_str())
                .await
                .map_err(|error| error.to_string())?;
        }
        None => {
            use sqlx::Connection as _;
            let path = scratch
                .join("tenants")
                .join(format!("{}.db", tenant.storage_name()));
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .busy_timeout(Duration::from_secs(30));
            let mut connection = sqlx::SqliteConnection::connect_with(&options)
                .await
                .map_err(|error| error.to_string())?;
            let mut first = 0;
            while first < sales {
                let rows = batch.min(sales - first);
                let series = format!(
                    "WITH RECURSIVE series(i) AS (SELECT {} UNION ALL SELECT i + 1 FROM series WHERE i < {})",
                    first + 1,
                    first + rows
                );
                let sql = load_sql(rows, first, &series, "randomblob(16)", "");
                sqlx::query(&sql)
                    .bind(branch)
                    .bind(cashier)
                    .execute(&mut connection)
                    .await
                    .map_err(|error| error.to_string())?;
                first += rows;
                eprintln!(
                    "  {first}/{sales} sales in {:.0} s",
                    started.elapsed().as_secs_f64()
                );
            }
            sqlx::Executor::execute(&mut connection, DETAIL_SQL.replace("{schema}", "").as_str())
                .await
                .map_err(|error| error.to_string())?;
        }
    }
    let loaded = started.elapsed();
    let rebuild_started = Instant::now();
    store
        .rebuild_report_rollups(tenant)
        .await
        .map_err(|error| error.to_string())?;
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
        let response = client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|error| error.to_string())?;
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
    let _ = stop.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(format!(
        "report_month backend={} sales={sales} p50_ms={:.2} p99_ms={:.2} rebuild_s={:.1}",
        if postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        percentile(&timings, 50),
        percentile(&timings, 99),
        rebuild.as_secs_f64()
    ))
}
