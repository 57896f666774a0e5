//! What `report_month` and `dashboard_pages` share: the real service on loopback (embedded
//! SQLite in a scratch directory, or a freshly made PostgreSQL database) with one organisation
//! registered through the API and one branch, and a direct connection to that tenant's tables
//! for loading a year of sales by SQL.
//!
//! Loading a million sales through the API would take most of an hour, so the sales (with their
//! levies and tenders) are bulk-inserted with SQL; the benches then rebuild the report rollups
//! with the store's own `rebuild_report_rollups`, exactly as an operator's repair would.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nexus_domain::{SystemClock, TenantId};
use nexus_server::{App, SecretString, Settings};
use nexus_store::Store;
use serde_json::json;
use sqlx::Connection as _;

use crate::pos_benches::{api, text};
use crate::recreate_database;

const DAY_MILLIS: i64 = 86_400_000;
/// The owner's password, for the dashboard's sign-in.
pub(crate) const OWNER_PASSWORD: &str = "bench password";

/// Sales `first_row + 1 ..= first_row + rows`: sale `i` on local day `first_day + i % 365` at
/// second `i % 36000` of it (so no two of a million share a time), one branch and cashier.
fn load_sql(
    rows: u64,
    first_row: u64,
    first_day: i64,
    tenant: &TenantSql,
    branch: uuid::Uuid,
    cashier: uuid::Uuid,
) -> String {
    // Totals cycle through 12.00 .. 60.00, inclusive of 20% tax: net 10.00 .. 50.00.
    format!(
        "{series} INSERT INTO {{schema}}sales (id, kind, refers_to, branch_id, cashier_id, device_id, receipt_number, currency, price_mode, \
         gross_minor, discount_minor, net_minor, tax_minor, total_minor, tendered_minor, change_minor, reason, occurred_at, local_day, recorded_at) \
         SELECT {new_id}, 'sale', NULL, {branch}, {cashier}, NULL, NULL, 'GHS', 'inclusive', \
         1200 * (1 + i % 5), 0, 1000 * (1 + i % 5), 200 * (1 + i % 5), 1200 * (1 + i % 5), 1200 * (1 + i % 5), 0, NULL, \
         (CAST({first_day} AS BIGINT) + i % 365) * {DAY_MILLIS} + (i % 36000) * 1000, {first_day} + i % 365, (CAST({first_day} AS BIGINT) + i % 365) * {DAY_MILLIS} + (i % 36000) * 1000 \
         FROM series WHERE i > {first_row} AND i <= {last_row}",
        series = tenant.series(first_row + 1, first_row + rows),
        new_id = tenant.new_id(),
        branch = tenant.uuid(branch),
        cashier = tenant.uuid(cashier),
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

/// A direct connection to the tenant's tables, on either backend. Statements are written with
/// `{schema}` before each table name (the tenant's schema on PostgreSQL, nothing on SQLite).
pub(crate) enum TenantSql {
    Postgres {
        connection: sqlx::PgConnection,
        schema: String,
    },
    Sqlite(sqlx::SqliteConnection),
}

impl TenantSql {
    /// Runs `sql` (one statement or several separated by `;`), `{schema}` filled in.
    pub(crate) async fn execute(&mut self, sql: &str) -> Result<(), String> {
        match self {
            Self::Postgres { connection, schema } => {
                sqlx::Executor::execute(connection, sql.replace("{schema}", schema).as_str())
                    .await
                    .map_err(text)?;
            }
            Self::Sqlite(connection) => {
                sqlx::Executor::execute(connection, sql.replace("{schema}", "").as_str())
                    .await
                    .map_err(text)?;
            }
        }
        Ok(())
    }

    /// An id as an SQL literal: a uuid on PostgreSQL, the 16-byte blob the store keeps on SQLite.
    pub(crate) fn uuid(&self, id: uuid::Uuid) -> String {
        match self {
            Self::Postgres { .. } => format!("'{id}'"),
            Self::Sqlite(_) => format!("X'{}'", id.simple()),
        }
    }

    fn new_id(&self) -> &'static str {
        match self {
            Self::Postgres { .. } => "gen_random_uuid()",
            Self::Sqlite(_) => "randomblob(16)",
        }
    }

    /// `WITH series(i)`: the integers `first ..= last`.
    fn series(&self, first: u64, last: u64) -> String {
        match self {
            Self::Postgres { .. } => {
                format!("WITH series(i) AS (SELECT generate_series({first}, {last}))")
            }
            Self::Sqlite(_) => format!(
                "WITH RECURSIVE series(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM series WHERE i < {last})"
            ),
        }
    }

    /// The first row of `sql` (a query of a bigint and an id).
    pub(crate) async fn time_and_id(&mut self, sql: &str) -> Result<(i64, uuid::Uuid), String> {
        match self {
            Self::Postgres { connection, schema } => {
                sqlx::query_as(&sql.replace("{schema}", schema))
                    .fetch_one(connection)
                    .await
                    .map_err(text)
            }
            Self::Sqlite(connection) => sqlx::query_as(&sql.replace("{schema}", ""))
                .fetch_one(connection)
                .await
                .map_err(text),
        }
    }

    /// Loads `sales` sales over the 365 local days from `first_day` (days since 1970-01-01),
    /// with their levies and a cash tender each, in statements of 100,000 sales.
    pub(crate) async fn load_sales(
        &mut self,
        sales: u64,
        first_day: i64,
        branch: uuid::Uuid,
        cashier: uuid::Uuid,
    ) -> Result<(), String> {
        let started = Instant::now();
        let batch = 100_000_u64;
        let mut first = 0;
        while first < sales {
            let rows = batch.min(sales - first);
            let sql = load_sql(rows, first, first_day, self, branch, cashier);
            self.execute(&sql).await?;
            first += rows;
            eprintln!(
                "  {first}/{sales} sales in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
        self.execute(DETAIL_SQL).await?;
        if matches!(self, Self::Postgres { .. }) {
            self.execute(
                "ANALYZE {schema}sales; ANALYZE {schema}sale_levies; ANALYZE {schema}sale_tenders",
            )
            .await?;
        }
        Ok(())
    }
}

/// The service running on loopback with one organisation and one branch.
pub(crate) struct BenchService {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) client: reqwest::Client,
    /// The owner's API access token, email and id (the cashier of the loaded sales).
    pub(crate) token: String,
    pub(crate) email: String,
    pub(crate) owner: uuid::Uuid,
    pub(crate) tenant: TenantId,
    pub(crate) branch: uuid::Uuid,
    /// Leave the data directory behind (to look at the loaded database afterwards).
    pub(crate) keep: bool,
    postgres: Option<String>,
    scratch: PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), nexus_server::LaunchError>>,
}

impl BenchService {
    /// Starts the service (on PostgreSQL when `postgres` names a database, which is dropped and
    /// made afresh), with the dashboard mounted when `dashboard`, and registers an organisation
    /// with a branch through the API.
    pub(crate) async fn start(
        postgres: Option<String>,
        tag: &str,
        dashboard: bool,
    ) -> Result<Self, String> {
        let scratch = std::env::temp_dir().join(format!(
            "nexus-bench-{tag}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(text)?;
        let base = format!("http://{}", listener.local_addr().map_err(text)?);
        let mut settings = Settings::defaults();
        settings.data_dir = scratch.clone();
        settings.public_url = base.clone();
        if let Some(url) = &postgres {
            recreate_database(url).await?;
            settings.database_url = Some(SecretString::new(url.clone()));
        }
        let mut app = App::open(settings, Arc::new(SystemClock))
            .await
            .map_err(text)?;
        if dashboard {
            app = nexus_web::serve_dashboard(app).map_err(text)?;
        }
        let store = app.store().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, async {
            let _ = stopped.await;
        }));

        let client = reqwest::Client::new();
        let email = format!("bench-{}@bench.example", uuid::Uuid::new_v4().simple());
        let registered = api(
            &client,
            &base,
            "/api/v1/auth/register",
            None,
            json!({ "organisation": "Bench Shop", "email": email, "password": OWNER_PASSWORD }),
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
        let owner: uuid::Uuid = registered["user_id"]
            .as_str()
            .ok_or("no user")?
            .parse()
            .map_err(|_| "bad user id")?;
        let branch: uuid::Uuid = api(
            &client,
            &base,
            "/api/v1/branches",
            Some(&token),
            json!({ "name": "Makola" }),
        )
        .await?["id"]
            .as_str()
            .ok_or("no branch id")?
            .parse()
            .map_err(|_| "bad branch id")?;
        Ok(Self {
            base,
            store,
            client,
            token,
            email,
            owner,
            tenant,
            branch,
            keep: false,
            postgres,
            scratch,
            stop,
            server,
        })
    }

    pub(crate) fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// A connection of the bench's own to the tenant's tables.
    pub(crate) async fn tenant_sql(&self) -> Result<TenantSql, String> {
        match &self.postgres {
            Some(url) => Ok(TenantSql::Postgres {
                connection: sqlx::PgConnection::connect(url).await.map_err(text)?,
                schema: format!("\"{}\".", self.tenant.storage_name()),
            }),
            None => {
                let path = self
                    .scratch
                    .join("tenants")
                    .join(format!("{}.db", self.tenant.storage_name()));
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&path)
                    .busy_timeout(Duration::from_secs(30));
                Ok(TenantSql::Sqlite(
                    sqlx::SqliteConnection::connect_with(&options)
                        .await
                        .map_err(text)?,
                ))
            }
        }
    }

    /// Stops the service and removes the scratch directory (unless kept).
    pub(crate) async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        if self.keep {
            eprintln!(
                "kept the data directory {} (tenant {})",
                self.scratch.display(),
                self.tenant.storage_name()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.scratch);
        }
    }
}
