//! Benchmarks that print the contract lines of DESIGN.md section 8: one `name key=value …` line,
//! last on stdout. Progress goes to stderr.
//!
//! `cargo run --release -p nexus-bench -- tenant_provision --backend postgres|sqlite`

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use nexus_domain::{Clock, Email, NonEmptyText, Role, SessionId, SystemClock, TenantId, UserId};
use nexus_store::{NewSession, NewTenant, NewUser, Store, StoreLocation, StoreOptions};
use sqlx::Connection as _;

mod api_sales;
mod auth_flood;
mod bulk_load;
mod catalogue_import;
mod dashboard_pages;
mod pos_benches;
mod pos_rss;
mod report_month;
mod service;
mod station_fleet;
mod sync_benches;
mod tenant_export;

#[derive(Parser)]
#[command(
    name = "nexus-bench",
    about = "Nexus benchmarks; each prints its contract line last"
)]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendChoice {
    Postgres,
    Sqlite,
}

#[derive(Subcommand)]
enum Bench {
    /// Provision tenants (schema or file, migrations, owner, directory rows) and time each.
    /// The owner's password hash is computed once beforehand: argon2 is deliberately slow and
    /// is not part of provisioning.
    #[command(name = "tenant_provision")]
    TenantProvision {
        #[arg(long, value_enum)]
        backend: BackendChoice,
        /// Tenants present before measuring starts; the bench adds what is missing (kept between
        /// runs on PostgreSQL, so later runs start at once).
        #[arg(long)]
        tenants: Option<usize>,
        /// Provisions timed.
        #[arg(long, default_value_t = 200)]
        measure: usize,
        /// PostgreSQL database for the bench (created if missing).
        #[arg(
            long,
            env = "NEXUS_BENCH_DATABASE_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/nexus_bench"
        )]
        database_url: String,
        /// Data directory for SQLite; a fresh temporary one when absent.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// `nexus tenants export` of one shop (a catalogue and `sales` sales made through the API)
    /// with `tenants` tenants present (PostgreSQL, kept between runs like `tenant_provision`'s),
    /// then that export loaded into an empty embedded store.
    #[command(name = "tenant_export")]
    TenantExport {
        #[arg(long, value_enum)]
        backend: BackendChoice,
        #[arg(long, default_value_t = 10_000)]
        tenants: usize,
        #[arg(long, default_value_t = 2_000)]
        sales: usize,
        #[arg(
            long,
            env = "NEXUS_BENCH_DATABASE_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/nexus_bench"
        )]
        database_url: String,
    },
    /// `stations` tills of shops of `per-shop` against one server process on a fresh
    /// PostgreSQL database (through PgBouncer with `--pgbouncer`), each selling every
    /// `sale-seconds` and syncing (push, then pull) every `cycle-seconds` for `minutes`.
    #[command(name = "station_fleet")]
    StationFleet {
        #[arg(long, value_enum)]
        backend: BackendChoice,
        #[arg(long, default_value_t = 1_000)]
        stations: usize,
        #[arg(long, default_value_t = 5.0)]
        minutes: f64,
        /// PgBouncer's address (postgres://user@host:6432); the server's pool goes through
        /// it, its LISTEN connection straight to PostgreSQL.
        #[arg(long, value_name = "URL")]
        pgbouncer: Option<String>,
        #[arg(long, default_value_t = 10)]
        per_shop: usize,
        #[arg(long, default_value_t = 5.0)]
        sale_seconds: f64,
        #[arg(long, default_value_t = 30.0)]
        cycle_seconds: f64,
        /// The server's PostgreSQL pool.
        #[arg(long, default_value_t = 20)]
        pool: u32,
        /// Connections the server serves at once (`NEXUS_HTTP_MAX_CONNECTIONS`); unset, the
        /// service's default. Each online till keeps one open between its syncs.
        #[arg(long)]
        max_connections: Option<usize>,
        #[arg(
            long,
            env = "NEXUS_BENCH_FLEET_DATABASE_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/nexus_bench_fleet"
        )]
        database_url: String,
    },
    /// The child of `station_fleet`: the service on PostgreSQL.
    #[command(name = "station_fleet_server", hide = true)]
    StationFleetServer {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        listen_url: String,
        #[arg(long)]
        pool: u32,
        #[arg(long)]
        max_connections: Option<usize>,
    },
    /// Sale ops pushed through the real endpoint against raw batched inserts (PostgreSQL).
    #[command(name = "sync_ingest")]
    SyncIngest {
        #[arg(long, value_enum)]
        backend: BackendChoice,
        #[arg(long, default_value_t = 200_000)]
        ops: usize,
        #[arg(
            long,
            env = "NEXUS_BENCH_INGEST_DATABASE_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/nexus_bench_ingest"
        )]
        database_url: String,
    },
    /// Online 5-line sales of one tenant through `POST /api/v1/sales` from `concurrency`
    /// clients at once (PostgreSQL): sales a second and the 99th-percentile answer time.
    #[command(name = "api_sales")]
    ApiSales {
        #[arg(long, value_enum)]
        backend: BackendChoice,
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        #[arg(
            long,
            env = "NEXUS_BENCH_API_SALES_DATABASE_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/nexus_bench_api_sales"
        )]
        database_url: String,
    },
    /// Compressed push bytes per 5-line sale.
    #[command(name = "sync_wire")]
    SyncWire {
        /// Sales in the measured batch.
        #[arg(long, default_value_t = 100)]
        sales: usize,
    },
    /// A fresh station's first sync of a catalogue over loopback (embedded SQLite server).
    #[command(name = "catalogue_pull")]
    CataloguePull {
        #[arg(long, default_value_t = 50_000)]
        products: usize,
    },
    /// A station's 5-line checkout (sale, tender, op in one transaction), each timed, against a
    /// bare SQLite transaction writing the same rows with the same pragmas.
    #[command(name = "pos_sale_commit")]
    PosSaleCommit {
        #[arg(long, default_value_t = 10_000)]
        sales: usize,
    },
    /// Barcode scans and name-prefix searches over a station's catalogue.
    #[command(name = "pos_search")]
    PosSearch {
        #[arg(long, default_value_t = 100_000)]
        products: usize,
    },
    /// Peak resident memory of a station process (cashier screen and sync worker, as `nexus pos
    /// serve`) while 10,000 sales are rung up through its screen (the server stays in this one).
    #[command(name = "pos_rss")]
    PosRss {
        #[arg(long, default_value_t = 10_000)]
        sales: usize,
    },
    /// Peak resident memory of a station process (as `pos_rss`) while `concurrency` connections
    /// send wrong PINs to its cashier screen's sign-in for `seconds`.
    #[command(name = "pos_pin_flood")]
    PosPinFlood {
        #[arg(long, default_value_t = 128)]
        concurrency: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// The child of `pos_rss`: serves an already prepared station's cashier screen.
    #[command(name = "pos_rss_child", hide = true)]
    PosRssChild {
        #[arg(long)]
        data: PathBuf,
    },
    /// A CSV import of `rows` products through the endpoint while sales go on: how long it takes
    /// and the longest a sale waited.
    #[command(name = "catalogue_import")]
    CatalogueImport {
        #[arg(long, value_enum)]
        backend: BackendChoice,
        #[arg(long, default_value_t = 50_000)]
        rows: usize,
        #[arg(
            long,
            env = "NEXUS_BENCH_IMPORT_DATABASE_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/nexus_bench_import"
        )]
        database_url: String,
    },
    /// Peak resident memory of a server process while `concurrency` connections send wrong
    /// passwords for `seconds`, and another user's sign-in time meanwhile.
    #[command(name = "auth_flood")]
    AuthFlood {
        #[arg(long, default_value_t = 128)]
        concurrency: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// The child of `auth_flood`: the service on an embedded store.
    #[command(name = "auth_flood_server", hide = true)]
    AuthFloodServer {
        #[arg(long)]
        data: PathBuf,
    },
    /// Load one tenant with a year of sales, then time the monthly sales report of one branch
    /// through the HTTP endpoint. On PostgreSQL the bench database is dropped and made afresh.
    #[command(name = "report_month")]
    ReportMonth {
        #[arg(long, value_enum)]
        backend: BackendChoice,
        #[arg(long, default_value_t = 1_000_000)]
        sales: u64,
        /// Reports timed.
        #[arg(long, default_value_t = 300)]
        requests: usize,
        #[arg(
            long,
            env = "NEXUS_BENCH_REPORT_DATABASE_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/nexus_bench_report"
        )]
        database_url: String,
    },
    /// Load one tenant with 100,000 products and a year of sales up to today, sign in to the
    /// dashboard and time its overview, sales, receipts (first and a deep page), products and
    /// inventory pages over HTTP. On PostgreSQL the bench database is dropped and made afresh.
    #[command(name = "dashboard_pages")]
    DashboardPages {
        #[arg(long, value_enum)]
        backend: BackendChoice,
        #[arg(long, default_value_t = 1_000_000)]
        sales: u64,
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        /// Requests timed per page (after 10 untimed).
        #[arg(long, default_value_t = 200)]
        requests: usize,
        #[arg(
            long,
            env = "NEXUS_BENCH_DASHBOARD_DATABASE_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/nexus_bench_dashboard"
        )]
        database_url: String,
        /// Leave the SQLite data directory behind, to look into the loaded tenant afterwards
        /// (the PostgreSQL database stays until the next run in any case).
        #[arg(long)]
        keep: bool,
    },
}

/// A precomputed argon2id hash; its value does not matter to provisioning.
const OWNER_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0YmVuY2g$1Y2x2MQ0Qp3bXgYw4tN0m6y3qfP0J4sV1s8yq3dX7fY";

fn new_tenant(clock: &dyn Clock, index: usize) -> Result<NewTenant, String> {
    let now = clock.now();
    let id = TenantId::generate(now);
    let owner_id = UserId::generate(now);
    let email = Email::parse(&format!("owner-{}@bench.example", id.as_uuid().simple()))
        .map_err(|error| error.to_string())?;
    Ok(NewTenant {
        id,
        name: NonEmptyText::parse("organisation", &format!("Bench shop {index}"), 200)
            .map_err(|error| error.to_string())?,
        owner: NewUser {
            id: owner_id,
            email,
            name: NonEmptyText::parse("name", "Bench Owner", 200)
                .map_err(|error| error.to_string())?,
            role: Role::Owner,
            branch_ids: Vec::new(),
            password_hash: Some(OWNER_PASSWORD_HASH.to_owned()),
            pin_hash: None,
        },
        // A registration signs the owner in inside the same transaction; so does the bench.
        owner_session: NewSession {
            id: SessionId::generate(now),
            user: owner_id,
            refresh_token_hash: id.as_uuid().as_bytes().to_vec(),
            refresh_expires_at: now.plus_seconds(30 * 24 * 60 * 60),
            now,
        },
        now,
    })
}

/// Drops and creates the database `url` names, for a bench that starts from nothing.
pub(crate) async fn recreate_database(url: &str) -> Result<(), String> {
    let (base, database) = url
        .rsplit_once('/')
        .ok_or("the bench URL must name a database")?;
    let database = database.split('?').next().unwrap_or(database);
    let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .map_err(|error| error.to_string())?;
    for statement in [
        format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{database}\""),
    ] {
        sqlx::Executor::execute(&mut admin, statement.as_str())
            .await
            .map_err(|error| error.to_string())?;
    }
    Ok(())
}

pub(crate) async fn ensure_database(url: &str) -> Result<(), String> {
    let (base, database) = url
        .rsplit_once('/')
        .ok_or("the bench URL must name a database")?;
    let database = database.split('?').next().unwrap_or(database);
    let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .map_err(|error| error.to_string())?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(database)
        .fetch_optional(&mut admin)
        .await
        .map_err(|error| error.to_string())?;
    if exists.is_none() {
        sqlx::Executor::execute(
            &mut admin,
            format!("CREATE DATABASE \"{database}\"").as_str(),
        )
        .await
        .map_err(|error| error.to_string())?;
    }
    Ok(())
}

pub(crate) fn percentile(sorted: &[Duration], percent: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (sorted.len() * percent)
        .div_ceil(100)
        .clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

/// Adds tenants until `target` exist, four at a time, untimed.
pub(crate) async fn fill_to(
    store: &Arc<dyn Store>,
    clock: &dyn Clock,
    target: usize,
) -> Result<usize, String> {
    let present = store
        .list_tenants()
        .await
        .map_err(|error| error.to_string())?
        .len();
    if present >= target {
        return Ok(present);
    }
    let missing = target - present;
    eprintln!("adding {missing} tenants to reach {target} (untimed)…");
    let started = Instant::now();
    let mut added = 0;
    while added < missing {
        let batch = (missing - added).min(4);
        let mut jobs = tokio::task::JoinSet::new();
        for offset in 0..batch {
            let tenant = new_tenant(clock, present + added + offset)?;
            let store = store.clone();
            jobs.spawn(async move { store.register_tenant(tenant).await });
        }
        while let Some(result) = jobs.join_next().await {
            result
                .map_err(|error| error.to_string())?
                .map_err(|error| error.to_string())?;
        }
        added += batch;
        if added % 1000 < 4 || added == missing {
            eprintln!(
                "  {added}/{missing} in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(target)
}

async fn tenant_provision(
    backend: BackendChoice,
    tenants: Option<usize>,
    measure: usize,
    database_url: String,
    data: Option<PathBuf>,
) -> Result<String, String> {
    let clock = SystemClock;
    let mut scratch = None;
    let (location, name, default_tenants) = match backend {
        BackendChoice::Postgres => {
            ensure_database(&database_url).await?;
            (
                StoreLocation::Postgres { url: database_url },
                "postgres",
                10_000,
            )
        }
        BackendChoice::Sqlite => {
            let dir = data.unwrap_or_else(|| {
                let dir = std::env::temp_dir()
                    .join(format!("nexus-bench-{}", uuid::Uuid::new_v4().simple()));
                scratch = Some(dir.clone());
                dir
            });
            (StoreLocation::Sqlite { data_dir: dir }, "sqlite", 1_000)
        }
    };
    let store = nexus_store::open(&location, &StoreOptions::default())
        .await
        .map_err(|error| error.to_string())?;
    let present = fill_to(&store, &clock, tenants.unwrap_or(default_tenants)).await?;
    eprintln!("timing {measure} provisions with {present} tenants present…");
    let mut timings = Vec::with_capacity(measure);
    for index in 0..measure {
        let tenant = new_tenant(&clock, present + index)?;
        let started = Instant::now();
        store
            .register_tenant(tenant)
            .await
            .map_err(|error| error.to_string())?;
        timings.push(started.elapsed());
    }
    timings.sort();
    if let Some(dir) = scratch {
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(format!(
        "tenant_provision backend={name} tenants={} p50_ms={:.2} p95_ms={:.2}",
        present + measure,
        percentile(&timings, 50),
        percentile(&timings, 95)
    ))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("nexus-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.bench {
            Bench::TenantProvision {
                backend,
                tenants,
                measure,
                database_url,
                data,
            } => tenant_provision(backend, tenants, measure, database_url, data).await,
            Bench::TenantExport {
                backend,
                tenants,
                sales,
                database_url,
            } => match backend {
                BackendChoice::Postgres => {
                    tenant_export::tenant_export(database_url, tenants, sales).await
                }
                BackendChoice::Sqlite => Err(
                    "tenant_export measures PostgreSQL with many schemas; use --backend postgres"
                        .to_owned(),
                ),
            },
            Bench::StationFleet {
                backend,
                stations,
                minutes,
                pgbouncer,
                per_shop,
                sale_seconds,
                cycle_seconds,
                pool,
                max_connections,
                database_url,
            } => match backend {
                BackendChoice::Postgres => {
                    let fleet = station_fleet::Fleet {
                        stations,
                        minutes,
                        per_shop,
                        sale_seconds,
                        cycle_seconds,
                        max_connections,
                    };
                    station_fleet::station_fleet(fleet, database_url, pgbouncer, pool).await
                }
                BackendChoice::Sqlite => {
                    Err("station_fleet measures PostgreSQL; use --backend postgres".to_owned())
                }
            },
            Bench::StationFleetServer {
                database_url,
                listen_url,
                pool,
                max_connections,
            } => {
                station_fleet::station_fleet_server(database_url, listen_url, pool, max_connections)
                    .await
            }
            Bench::SyncWire { sales } => sync_benches::sync_wire(sales),
            Bench::SyncIngest {
                backend,
                ops,
                database_url,
            } => match backend {
                BackendChoice::Postgres => sync_benches::sync_ingest(database_url, ops).await,
                BackendChoice::Sqlite => {
                    Err("sync_ingest measures PostgreSQL ingest; use --backend postgres".to_owned())
                }
            },
            Bench::ApiSales {
                backend,
                concurrency,
                seconds,
                database_url,
            } => match backend {
                BackendChoice::Postgres => {
                    api_sales::api_sales(database_url, concurrency, seconds).await
                }
                BackendChoice::Sqlite => {
                    Err("api_sales measures PostgreSQL; use --backend postgres".to_owned())
                }
            },
            Bench::CataloguePull { products } => sync_benches::catalogue_pull(products).await,
            Bench::PosSaleCommit { sales } => pos_benches::pos_sale_commit(sales).await,
            Bench::PosSearch { products } => pos_benches::pos_search(products).await,
            Bench::PosRss { sales } => pos_rss::pos_rss(sales).await,
            Bench::PosPinFlood {
                concurrency,
                seconds,
            } => pos_rss::pos_pin_flood(concurrency, seconds).await,
            Bench::PosRssChild { data } => pos_rss::pos_rss_child(&data).await,
            Bench::CatalogueImport {
                backend,
                rows,
                database_url,
            } => {
                let postgres = matches!(backend, BackendChoice::Postgres).then_some(database_url);
                catalogue_import::catalogue_import(postgres, rows).await
            }
            Bench::AuthFlood {
                concurrency,
                seconds,
            } => auth_flood::auth_flood(concurrency, seconds).await,
            Bench::AuthFloodServer { data } => auth_flood::auth_flood_server(&data).await,
            Bench::ReportMonth {
                backend,
                sales,
                requests,
                database_url,
            } => {
                let postgres = matches!(backend, BackendChoice::Postgres).then_some(database_url);
                report_month::run(postgres, sales, requests).await
            }
            Bench::DashboardPages {
                backend,
                sales,
                products,
                requests,
                database_url,
                keep,
            } => {
                let postgres = matches!(backend, BackendChoice::Postgres).then_some(database_url);
                dashboard_pages::run(postgres, sales, products, requests, keep).await
            }
        }
    });
    match result {
        Ok(line) => {
            let _ = writeln!(std::io::stdout(), "{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("nexus-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert!((percentile(&samples, 50) - 50.0).abs() < 1e-9);
        assert!((percentile(&samples, 95) - 95.0).abs() < 1e-9);
        assert!((percentile(&samples[..1], 95) - 1.0).abs() < 1e-9);
        assert!(percentile(&[], 50).abs() < 1e-9);
    }
}
