//! `sync_wire` and `catalogue_pull`: what sync costs on the wire and in time.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use nexus_domain::SystemClock;
use nexus_server::{App, Settings};
use nexus_sync::{Action, Entity, Hlc, Op, PushRequest};

use crate::service::BenchService;
use serde_json::{Value, json};

/// Compressed push bytes per 5-line sale, as a station sends them: a batch of `sales` ops of
/// realistic sales (fresh ids, the same branch, cashier and a few products), JSON, gzip.
pub(crate) fn sync_wire(sales: usize) -> Result<String, String> {
    let device = uuid::Uuid::now_v7();
    let branch = uuid::Uuid::now_v7();
    let cashier = uuid::Uuid::now_v7();
    let products: Vec<uuid::Uuid> = (0..40).map(|_| uuid::Uuid::now_v7()).collect();
    let start = 1_767_225_600_000_i64;
    let ops: Vec<Op> = (0..sales)
        .map(|index| {
            // Ids carry their sale's time, as a station's would over a trading day.
            let at = nexus_domain::UnixMillis::from_millis(start + index as i64 * 45_000);
            let sale_id = nexus_domain::SaleId::generate(at).as_uuid();
            let lines: Vec<Value> = (0..5)
                .map(|line| json!({ "product_id": products[(index * 7 + line * 3) % products.len()], "quantity": (1 + line % 3).to_string(), "unit_price_minor": 450 + 125 * line }))
                .collect();
            Op {
                op_id: nexus_domain::SaleId::generate(at).as_uuid(),
                device_id: device,
                seq: index as u64 + 1,
                hlc: Hlc { wall_millis: start + index as i64 * 45_000, counter: 0, node: 7 },
                entity: Entity::Sale,
                entity_id: sale_id,
                action: Action::Create,
                payload: json!({ "cashier_id": cashier, "sale": { "id": sale_id, "branch_id": branch, "occurred_at": start + index as i64 * 45_000,
                    "receipt_number": format!("OSU-01-{:06}", index + 1), "lines": lines,
                    "tenders": [{ "kind": "cash", "amount_minor": 10_000 }] } }),
            }
        })
        .collect();
    // The ops are written by hand, as a station's first release wrote them; they must still be
    // what the protocol reads.
    for op in &ops {
        op.read_payload::<nexus_sync::SaleOp>()
            .map_err(|error| error.to_string())?;
    }
    let request = PushRequest {
        protocol_version: nexus_sync::PROTOCOL_VERSION,
        ops,
        unsynced_since: Some(start),
        app_version: "0.1.0".to_owned(),
        sent_at: None,
    };
    let json = serde_json::to_vec(&request).map_err(|error| error.to_string())?;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&json)
        .map_err(|error| error.to_string())?;
    let compressed = encoder.finish().map_err(|error| error.to_string())?;
    eprintln!(
        "{sales} sales: {} bytes of JSON, {} gzip-compressed",
        json.len(),
        compressed.len()
    );
    Ok(format!(
        "sync_wire bytes_per_sale={} lines_per_sale=5",
        compressed.len() / sales.max(1)
    ))
}

/// A fresh station's first sync of a catalogue of `products` over loopback: the real server
/// (embedded SQLite), the real station client, the time until its replica holds everything.
pub(crate) async fn catalogue_pull(products: usize) -> Result<String, String> {
    let scratch = std::env::temp_dir().join(format!(
        "nexus-bench-pull-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let mut settings = Settings::defaults();
    settings.data_dir = scratch.join("server");
    let app = App::open(settings, Arc::new(SystemClock))
        .await
        .map_err(|error| error.to_string())?;
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
    let registered: Value = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({ "organisation": "Pull Bench", "email": "bench@pull.example", "password": "bench password" }))
        .send()
        .await
        .map_err(|error| error.to_string())?
        .json()
        .await
        .map_err(|error| error.to_string())?;
    let token = registered["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let branch: Value = client
        .post(format!("{base}/api/v1/branches"))
        .bearer_auth(&token)
        .json(&json!({ "name": "Makola" }))
        .send()
        .await
        .map_err(|error| error.to_string())?
        .json()
        .await
        .map_err(|error| error.to_string())?;
    eprintln!("importing {products} products…");
    let mut csv = String::from("sku,name,price,barcode\n");
    for index in 0..products {
        csv.push_str(&format!(
            "SKU-{index:06},Product number {index} of the shop,{}.{:02},600{index:010}\n",
            1 + index % 500,
            index % 100
        ));
    }
    let imported = client
        .post(format!("{base}/api/v1/products/import"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .map_err(|error| error.to_string())?;
    if !imported.status().is_success() {
        return Err(format!(
            "import: {}",
            imported.text().await.unwrap_or_default()
        ));
    }
    let created: Value = client
        .post(format!("{base}/api/v1/stations"))
        .bearer_auth(&token)
        .json(&json!({ "branch_id": branch["id"], "name": "Till 1" }))
        .send()
        .await
        .map_err(|error| error.to_string())?
        .json()
        .await
        .map_err(|error| error.to_string())?;
    let code = created["enrolment_code"].as_str().ok_or("no code")?;
    let station = nexus_pos::Station::open(&scratch.join("station"))
        .await
        .map_err(|error| error.to_string())?;
    station
        .enroll(&base, code)
        .await
        .map_err(|error| error.to_string())?;

    let started = Instant::now();
    let report = station
        .sync(&SystemClock)
        .await
        .map_err(|error| error.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    if report.pulled < products {
        return Err(format!(
            "only {} changes pulled for {products} products",
            report.pulled
        ));
    }
    // The bytes a station receives: the same pages again, compressed as the server sends them.
    let credential = station_credential(&station).await?;
    let raw = reqwest::Client::builder()
        .no_gzip()
        .build()
        .map_err(|error| error.to_string())?;
    let (mut bytes, mut cursor) = (0_usize, 0_u64);
    loop {
        let response = raw
            .get(format!(
                "{base}/api/v1/sync/pull?protocol_version=1&cursor={cursor}&limit=500"
            ))
            .header("authorization", format!("Station {credential}"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let body = response.bytes().await.map_err(|error| error.to_string())?;
        bytes += body.len();
        let mut decoder = flate2::read::GzDecoder::new(&body[..]);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut decoder, &mut text)
            .map_err(|error| format!("not gzip: {error}"))?;
        let page: Value = serde_json::from_str(&text).map_err(|error| error.to_string())?;
        cursor = page["next_cursor"].as_u64().unwrap_or(cursor);
        if page["has_more"] != true {
            break;
        }
    }
    let _ = stop.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(format!(
        "catalogue_pull products={products} seconds={seconds:.2} bytes={bytes}"
    ))
}

async fn station_credential(station: &nexus_pos::Station) -> Result<String, String> {
    station
        .credential()
        .await
        .map_err(|error| error.to_string())
}

/// `sync_ingest`: `ops` sale ops pushed through the real endpoint in batches of 500 on
/// PostgreSQL, and in the same run the same rows inserted raw with batched
/// `INSERT … ON CONFLICT DO NOTHING` (see `raw_insert_same_rows`). Each pushed op is a whole
/// 5-line sale: the sale, its lines, levies and tender, its ledger movements and their
/// change-log rows, the op's record, and the stock levels and daily rollups it updates.
pub(crate) async fn sync_ingest(database_url: String, ops: usize) -> Result<String, String> {
    let service = BenchService::start(&database_url, "ingest").await?;
    let shop = service.shop("Ingest", "ingest@bench.example", 20).await?;
    let (token, cashier, branch, products) = (shop.token, shop.owner, shop.branch, shop.products);
    let code = service
        .call(
            reqwest::Method::POST,
            "/api/v1/stations",
            Some(&token),
            json!({ "branch_id": branch, "name": "Till" }),
        )
        .await?["enrolment_code"]
        .clone();
    let enrolled = service
        .call(
            reqwest::Method::POST,
            "/api/v1/stations/enroll",
            None,
            json!({ "enrolment_code": code }),
        )
        .await?;
    let credential = enrolled["credential"]
        .as_str()
        .ok_or("no credential")?
        .to_owned();
    let device: uuid::Uuid = enrolled["station_id"]
        .as_str()
        .ok_or("no station")?
        .parse()
        .map_err(|_| "bad station id")?;

    let start = 1_767_225_600_000_i64 - 86_400_000;
    let make_op = |index: usize| {
        let at = nexus_domain::UnixMillis::from_millis(start + index as i64 * 300);
        let sale_id = nexus_domain::SaleId::generate(at).as_uuid();
        let lines: Vec<Value> = (0..5)
            .map(|line| json!({ "product_id": products[(index + line * 3) % products.len()], "quantity": 1, "unit_price_minor": 500 }))
            .collect();
        Op {
            op_id: nexus_domain::SaleId::generate(at).as_uuid(),
            device_id: device,
            seq: index as u64 + 1,
            hlc: Hlc {
                wall_millis: at.as_millis(),
                counter: 0,
                node: 1,
            },
            entity: Entity::Sale,
            entity_id: sale_id,
            action: Action::Create,
            payload: json!({ "cashier_id": cashier, "sale": { "id": sale_id, "branch_id": branch, "occurred_at": at.as_millis(),
                "lines": lines, "tenders": [{ "kind": "cash", "amount_minor": 2500 }] } }),
        }
    };
    eprintln!("pushing {ops} sale ops through the endpoint…");
    let started = Instant::now();
    let mut sent = 0;
    while sent < ops {
        let batch: Vec<Op> = (sent..(sent + 500).min(ops)).map(make_op).collect();
        let count = batch.len();
        let request = PushRequest {
            protocol_version: nexus_sync::PROTOCOL_VERSION,
            ops: batch,
            unsynced_since: None,
            app_version: "bench".to_owned(),
            sent_at: None,
        };
        let response = service
            .client
            .post(format!("{}/api/v1/sync/push", service.base))
            .header("authorization", format!("Station {credential}"))
            .json(&request)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let answer: Value = response.json().await.map_err(|error| error.to_string())?;
        let applied = answer["results"].as_array().map_or(0, |results| {
            results
                .iter()
                .filter(|result| result["status"] == "applied")
                .count()
        });
        if applied != count {
            return Err(format!(
                "a batch was not applied whole: {}",
                answer["results"][0]
            ));
        }
        sent += count;
        if sent % 5000 == 0 || sent == ops {
            eprintln!("  {sent}/{ops} in {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    let pushed_per_second = ops as f64 / started.elapsed().as_secs_f64();

    let raw_seconds = raw_insert_same_rows(&database_url, &service, "raw", 1).await?;
    let raw_per_second = ops as f64 / raw_seconds;
    // For orientation, not the contract: the same rows committed as rarely as the endpoint
    // commits (one transaction per push of 500 sales, about 33 statements of 500 rows).
    let grouped_seconds = raw_insert_same_rows(&database_url, &service, "grouped", 33).await?;
    eprintln!(
        "raw floor with one commit per 33 statements: {:.0} ops/s (ratio {:.3})",
        ops as f64 / grouped_seconds,
        pushed_per_second * grouped_seconds / ops as f64
    );
    service.stop().await;
    Ok(format!(
        "sync_ingest backend=postgres ops_per_s={pushed_per_second:.0} raw_insert_ops_per_s={raw_per_second:.0} ratio={:.3}",
        pushed_per_second / raw_per_second
    ))
}

/// The tables a pushed sale writes, parents first.
const INGEST_TABLES: &[&str] = &[
    "sales",
    "sale_lines",
    "sale_levies",
    "sale_tenders",
    "stock_movements",
    "stock_levels",
    "changes",
    "sync_ops",
    "daily_sales",
    "daily_levies",
    "daily_cashiers",
    "daily_tenders",
];

/// One column value of a copied row, bound with its own type.
enum Cell {
    Uuid(Option<uuid::Uuid>),
    BigInt(Option<i64>),
    Int(Option<i32>),
    Text(Option<String>),
    Bool(Option<bool>),
}

/// The floor `sync_ingest` is measured against: every row the pushes wrote (read back from the
/// ingest tenant's tables), inserted into a freshly provisioned tenant's identical tables (same
/// indexes, same foreign keys) with 500-row `INSERT … ON CONFLICT DO NOTHING` statements, values
/// bound in binary, committed every `statements_per_commit` statements (1: each statement its
/// own transaction, the DESIGN.md method). Only the inserts and commits are timed; reading the
/// rows back is not. Returns the seconds they took.
async fn raw_insert_same_rows(
    database_url: &str,
    service: &BenchService,
    name: &str,
    statements_per_commit: usize,
) -> Result<f64, String> {
    use sqlx::Connection as _;
    let text = |error: sqlx::Error| error.to_string();
    let email = format!("{name}@bench.example");
    service
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/register",
            None,
            json!({ "organisation": name, "email": email, "password": "bench password" }),
        )
        .await?;
    let mut reader = sqlx::PgConnection::connect(database_url)
        .await
        .map_err(text)?;
    let mut writer = sqlx::PgConnection::connect(database_url)
        .await
        .map_err(text)?;
    let mut schema_of = async |email: &str| -> Result<String, String> {
        let tenant: uuid::Uuid =
            sqlx::query_scalar("SELECT tenant_id FROM nexus_control.logins WHERE email = $1")
                .bind(email)
                .fetch_one(&mut reader)
                .await
                .map_err(text)?;
        Ok(format!("t_{}", tenant.simple()))
    };
    let source = schema_of("ingest@bench.example").await?;
    let target = schema_of(&email).await?;
    // Untimed: what the rows refer to.
    for table in ["branches", "users", "products", "stations"] {
        sqlx::Executor::execute(
            &mut writer,
            format!(
                "INSERT INTO {target}.{table} SELECT * FROM {source}.{table} ON CONFLICT DO NOTHING"
            )
            .as_str(),
        )
        .await
        .map_err(text)?;
    }
    let mut inserting = std::time::Duration::ZERO;
    let mut rows_written = 0_u64;
    let mut statements = 0_usize;
    let grouped = statements_per_commit > 1;
    for table in INGEST_TABLES {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
        )
        .bind(&source)
        .bind(table)
        .fetch_all(&mut reader)
        .await
        .map_err(text)?;
        let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
        let mut transaction = reader.begin().await.map_err(text)?;
        sqlx::Executor::execute(
            &mut *transaction,
            format!(
                "DECLARE copy_{table} NO SCROLL CURSOR FOR SELECT {} FROM {source}.{table}",
                names.join(", ")
            )
            .as_str(),
        )
        .await
        .map_err(text)?;
        loop {
            // A cursor per table: sqlx caches a statement's row shape by its text.
            let fetch = format!("FETCH 500 FROM copy_{table}");
            let rows = sqlx::query(&fetch)
                .fetch_all(&mut *transaction)
                .await
                .map_err(text)?;
            if rows.is_empty() {
                break;
            }
            let mut batch = Vec::with_capacity(rows.len());
            for row in &rows {
                use sqlx::Row as _;
                let mut cells = Vec::with_capacity(columns.len());
                for (position, (name, data_type)) in columns.iter().enumerate() {
                    cells.push(match data_type.as_str() {
                        "uuid" => Cell::Uuid(row.try_get(position).map_err(text)?),
                        "bigint" => Cell::BigInt(row.try_get(position).map_err(text)?),
                        "integer" => Cell::Int(row.try_get(position).map_err(text)?),
                        "text" => Cell::Text(row.try_get(position).map_err(text)?),
                        "boolean" => Cell::Bool(row.try_get(position).map_err(text)?),
                        other => {
                            return Err(format!(
                                "{table}.{name} has type {other}, which the copy does not handle"
                            ));
                        }
                    });
                }
                batch.push(cells);
            }
            rows_written += batch.len() as u64;
            let mut builder = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!(
                "INSERT INTO {target}.{table} ({}) ",
                names.join(", ")
            ));
            builder.push_values(batch, |mut row, cells| {
                for cell in cells {
                    match cell {
                        Cell::Uuid(value) => row.push_bind(value),
                        Cell::BigInt(value) => row.push_bind(value),
                        Cell::Int(value) => row.push_bind(value),
                        Cell::Text(value) => row.push_bind(value),
                        Cell::Bool(value) => row.push_bind(value),
                    };
                }
            });
            builder.push(" ON CONFLICT DO NOTHING");
            let started = Instant::now();
            if grouped && statements.is_multiple_of(statements_per_commit) {
                sqlx::Executor::execute(&mut writer, "BEGIN")
                    .await
                    .map_err(text)?;
            }
            builder.build().execute(&mut writer).await.map_err(text)?;
            statements += 1;
            if grouped && statements.is_multiple_of(statements_per_commit) {
                sqlx::Executor::execute(&mut writer, "COMMIT")
                    .await
                    .map_err(text)?;
            }
            inserting += started.elapsed();
        }
        transaction.rollback().await.map_err(text)?;
    }
    if grouped && !statements.is_multiple_of(statements_per_commit) {
        let started = Instant::now();
        sqlx::Executor::execute(&mut writer, "COMMIT")
            .await
            .map_err(text)?;
        inserting += started.elapsed();
    }
    eprintln!(
        "raw floor ({name}): {rows_written} rows in {:.1} s of inserts ({:.0} rows/s)",
        inserting.as_secs_f64(),
        rows_written as f64 / inserting.as_secs_f64()
    );
    Ok(inserting.as_secs_f64())
}
