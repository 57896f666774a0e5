//! `pos_sale_commit`, `pos_search` and `pos_rss`: the shop station (`nexus-pos`) at the till.
//!
//! Each starts the real server (embedded SQLite, scratch directory) on loopback, registers an
//! organisation, adds a branch, products and a cashier with a PIN, enrols a real station and
//! syncs it, then measures the station engine itself.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nexus_domain::{Quantity, SystemClock, ean13};
use nexus_pos::{Cart, Station, TenderInput};
use nexus_server::{App, Settings};
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection as _, Row as _};

pub(crate) const CASHIER_PIN: &str = "4821";

/// A running server with an enrolled, synced station.
pub(crate) struct Prepared {
    scratch: PathBuf,
    pub(crate) station_dir: PathBuf,
    pub(crate) station: Station,
    cashier: uuid::Uuid,
    /// Barcodes of the products created through the API.
    pub(crate) codes: Vec<String>,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), nexus_server::LaunchError>>,
}

impl Prepared {
    pub(crate) async fn finish(self) {
        self.station.close().await;
        let _ = self.stop.send(());
        let _ = self.server.await;
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

pub(crate) fn text<E: std::fmt::Display>(error: E) -> String {
    error.to_string()
}

pub(crate) async fn api(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Result<Value, String> {
    let mut request = client.post(format!("{base}{path}")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(text)?;
    let status = response.status();
    let value: Value = response.json().await.map_err(text)?;
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!("POST {path}: {status}: {value}"))
    }
}

/// Server, organisation, branch, `products` products (with EAN-13 barcodes), a cashier with a
/// PIN, and a station enrolled and synced in `<scratch>/station`.
pub(crate) async fn prepare(tag: &str, products: usize) -> Result<Prepared, String> {
    let scratch = std::env::temp_dir().join(format!(
        "nexus-bench-{tag}-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let mut settings = Settings::defaults();
    settings.data_dir = scratch.join("server");
    let app = App::open(settings, Arc::new(SystemClock))
        .await
        .map_err(text)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(text)?;
    let base = format!("http://{}", listener.local_addr().map_err(text)?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let registered = api(
        &client,
        &base,
        "/api/v1/auth/register",
        None,
        json!({ "organisation": "Till Bench", "email": "owner@till.example", "password": "bench password" }),
    )
    .await?;
    let token = registered["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let branch = api(
        &client,
        &base,
        "/api/v1/branches",
        Some(&token),
        json!({ "name": "Makola" }),
    )
    .await?["id"]
        .clone();
    let mut random = XorShift::new(0x5eed_0001);
    let mut codes = Vec::with_capacity(products);
    for index in 0..products {
        let barcode = ean13(600_000_000_000 + index as u64);
        api(
            &client,
            &base,
            "/api/v1/products",
            Some(&token),
            json!({ "sku": format!("SKU-{index:06}"), "name": product_name(&mut random),
                "price_minor": 250 + (index as i64 % 40) * 75, "barcode": barcode }),
        )
        .await?;
        codes.push(barcode);
    }
    let cashier: uuid::Uuid = api(
        &client,
        &base,
        "/api/v1/staff",
        Some(&token),
        json!({ "email": "efua@till.example", "name": "Efua Mensah", "role": "cashier",
            "branch_ids": [branch], "pin": CASHIER_PIN }),
    )
    .await?["id"]
        .as_str()
        .ok_or("no staff id")?
        .parse()
        .map_err(|_| "bad staff id")?;
    let code = api(
        &client,
        &base,
        "/api/v1/stations",
        Some(&token),
        json!({ "branch_id": branch, "name": "Till 1" }),
    )
    .await?["enrolment_code"]
        .as_str()
        .ok_or("no enrolment code")?
        .to_owned();
    let station_dir = scratch.join("station");
    let station = Station::open(&station_dir).await.map_err(text)?;
    station.enroll(&base, &code).await.map_err(text)?;
    let report = station.sync(&SystemClock).await.map_err(text)?;
    if report.pulled < products {
        return Err(format!(
            "the first sync pulled {} changes for {products} products",
            report.pulled
        ));
    }
    Ok(Prepared {
        scratch,
        station_dir,
        station,
        cashier,
        codes,
        stop,
        server,
    })
}

/// A 5-line cart of distinct products (sale `index` of a day), and cash covering it.
pub(crate) async fn five_line_cart(
    station: &Station,
    settings: &nexus_pos::till::TillSettings,
    codes: &[String],
    index: usize,
) -> Result<(Cart, TenderInput), String> {
    let mut cart = Cart::default();
    for line in 0..5 {
        let code = &codes[(index * 7 + line * 11) % codes.len()];
        let quantity = Quantity::from_whole(1 + (index + line) as i64 % 3).ok_or("quantity")?;
        station
            .add_to_cart(&mut cart, code, quantity)
            .await
            .map_err(text)?;
    }
    let total = Station::price(settings, &cart)
        .map_err(text)?
        .totals
        .total_minor;
    // Cash rounded up to the next 10.00, as customers hand it over.
    let amount_minor = (total / 1000 + 1) * 1000;
    Ok((cart, TenderInput::Cash { amount_minor }))
}

/// The rows one checkout wrote, read back from the station's database (untimed), for the floor
/// to write again.
struct SaleRows {
    sale: Vec<Cell>,
    tender: Vec<Cell>,
    outbox: Vec<Cell>,
    receipt_seq: String,
    hlc: String,
}

enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

fn cells(row: &sqlx::sqlite::SqliteRow, kinds: &str) -> Result<Vec<Cell>, String> {
    kinds
        .bytes()
        .enumerate()
        .map(|(position, kind)| {
            Ok(if kind == b't' {
                Cell::Text(row.try_get(position).map_err(text)?)
            } else {
                Cell::Int(row.try_get(position).map_err(text)?)
            })
        })
        .collect()
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    values: &'q [Cell],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for value in values {
        query = match value {
            Cell::Text(value) => query.bind(value.as_deref()),
            Cell::Int(value) => query.bind(*value),
        };
    }
    query
}

const SALE_COLUMNS: &str = "id, receipt_number, kind, refers_to, cashier_id, shift_id, customer_id, occurred_at, total_minor, change_minor, receipt";
const SALE_KINDS: &str = "tttttttiiit";
const TENDER_COLUMNS: &str =
    "sale_id, position, kind, amount_minor, network, phone, reference, shift_id";
const TENDER_KINDS: &str = "tititttt";
const OUTBOX_COLUMNS: &str = "seq, op_id, entity, entity_id, op, created_at, status";
const OUTBOX_KINDS: &str = "ittttit";

async fn read_sale_rows(
    reader: &mut SqliteConnection,
    sale_id: uuid::Uuid,
) -> Result<SaleRows, String> {
    let id = sale_id.to_string();
    let sale = sqlx::query(&format!("SELECT {SALE_COLUMNS} FROM sales WHERE id = $1"))
        .bind(&id)
        .fetch_one(&mut *reader)
        .await
        .map_err(text)?;
    let tender = sqlx::query(&format!(
        "SELECT {TENDER_COLUMNS} FROM tenders WHERE sale_id = $1"
    ))
    .bind(&id)
    .fetch_one(&mut *reader)
    .await
    .map_err(text)?;
    let outbox = sqlx::query(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE entity_id = $1"
    ))
    .bind(&id)
    .fetch_one(&mut *reader)
    .await
    .map_err(text)?;
    let meta = |key: &'static str| {
        sqlx::query_scalar::<_, String>("SELECT value FROM meta WHERE key = $1").bind(key)
    };
    let receipt_seq = meta("receipt_seq")
        .fetch_one(&mut *reader)
        .await
        .map_err(text)?;
    let hlc = meta("hlc").fetch_one(&mut *reader).await.map_err(text)?;
    Ok(SaleRows {
        sale: cells(&sale, SALE_KINDS)?,
        tender: cells(&tender, TENDER_KINDS)?,
        outbox: cells(&outbox, OUTBOX_KINDS)?,
        receipt_seq,
        hlc,
    })
}

/// The tables a checkout writes, as `nexus-pos` declares them (same columns, keys, indexes).
const FLOOR_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq integer PRIMARY KEY,
    op_id text NOT NULL UNIQUE,
    entity text NOT NULL,
    entity_id text NOT NULL,
    op text NOT NULL,
    created_at integer NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'acknowledged', 'rejected')),
    settled integer NOT NULL DEFAULT 0,
    code text,
    message text
);
CREATE INDEX IF NOT EXISTS outbox_entity ON outbox (entity_id);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status, seq);
CREATE TABLE IF NOT EXISTS sales (
    id text PRIMARY KEY,
    receipt_number text NOT NULL UNIQUE,
    kind text NOT NULL CHECK (kind IN ('sale', 'refund', 'void')),
    refers_to text,
    cashier_id text NOT NULL,
    shift_id text,
    customer_id text,
    occurred_at integer NOT NULL,
    total_minor integer NOT NULL,
    change_minor integer NOT NULL,
    receipt text NOT NULL
);
CREATE INDEX IF NOT EXISTS sales_shift ON sales (shift_id);
CREATE INDEX IF NOT EXISTS sales_time ON sales (occurred_at);
CREATE TABLE IF NOT EXISTS tenders (
    sale_id text NOT NULL,
    position integer NOT NULL,
    kind text NOT NULL,
    amount_minor integer NOT NULL,
    network text,
    phone text,
    reference text,
    shift_id text,
    PRIMARY KEY (sale_id, position)
);
CREATE INDEX IF NOT EXISTS tenders_reference ON tenders (kind, reference);
CREATE INDEX IF NOT EXISTS tenders_shift ON tenders (shift_id);
";

/// The floor: the same rows in one durable transaction, nothing else.
async fn floor_commit(floor: &mut SqliteConnection, rows: &SaleRows) -> Result<(), String> {
    let mut transaction = floor.begin().await.map_err(text)?;
    bind_all(
        sqlx::query(
            "INSERT INTO sales (id, receipt_number, kind, refers_to, cashier_id, shift_id, customer_id, \
             occurred_at, total_minor, change_minor, receipt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        ),
        &rows.sale,
    )
    .execute(&mut *transaction)
    .await
    .map_err(text)?;
    bind_all(
        sqlx::query(
            "INSERT INTO tenders (sale_id, position, kind, amount_minor, network, phone, reference, shift_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        ),
        &rows.tender,
    )
    .execute(&mut *transaction)
    .await
    .map_err(text)?;
    bind_all(
        sqlx::query(
            "INSERT INTO outbox (seq, op_id, entity, entity_id, op, created_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        ),
        &rows.outbox,
    )
    .execute(&mut *transaction)
    .await
    .map_err(text)?;
    for (key, value) in [("receipt_seq", &rows.receipt_seq), ("hlc", &rows.hlc)] {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut *transaction)
            .await
            .map_err(text)?;
    }
    transaction.commit().await.map_err(text)?;
    Ok(())
}

fn micros(sorted: &[Duration], percent: usize) -> f64 {
    crate::percentile(sorted, percent) * 1000.0
}

/// `pos_sale_commit`: each 5-line checkout timed, against a bare SQLite transaction writing the
/// same rows (read back from the station after each checkout) with the same pragmas. The two
/// alternate sale by sale, so both see the same machine.
pub(crate) async fn pos_sale_commit(sales: usize) -> Result<String, String> {
    let prepared = prepare("commit", 50).await?;
    let station = &prepared.station;
    let clock = SystemClock;
    let cashier = station
        .sign_in(&clock, Some(prepared.cashier), CASHIER_PIN)
        .await
        .map_err(text)?;
    let settings = station.till_settings().await.map_err(text)?;
    let mut reader = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(prepared.station_dir.join("station.db"))
            .read_only(true),
    )
    .await
    .map_err(text)?;
    let mut floor = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(prepared.scratch.join("floor.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full),
    )
    .await
    .map_err(text)?;
    sqlx::raw_sql(FLOOR_SCHEMA)
        .execute(&mut floor)
        .await
        .map_err(text)?;
    eprintln!("{sales} checkouts, each followed by the floor writing its rows…");
    let mut engine = Vec::with_capacity(sales);
    let mut bare = Vec::with_capacity(sales);
    let (mut receipt_bytes, mut op_bytes) = (0_usize, 0_usize);
    let started = Instant::now();
    for index in 0..sales {
        let (cart, tender) = five_line_cart(station, &settings, &prepared.codes, index).await?;
        let begun = Instant::now();
        let committed = station
            .checkout(&clock, &cashier, &cart, std::slice::from_ref(&tender))
            .await
            .map_err(text)?;
        engine.push(begun.elapsed());
        let rows = read_sale_rows(&mut reader, committed.id).await?;
        if let (Some(Cell::Text(Some(receipt))), Some(Cell::Text(Some(op)))) =
            (rows.sale.get(10), rows.outbox.get(4))
        {
            receipt_bytes += receipt.len();
            op_bytes += op.len();
        }
        let begun = Instant::now();
        floor_commit(&mut floor, &rows).await?;
        bare.push(begun.elapsed());
        if (index + 1) % 2000 == 0 {
            eprintln!(
                "  {}/{sales} in {:.0} s",
                index + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!(
        "rows per sale: 1 sale (receipt {} bytes), 1 tender, 1 outbox op ({} bytes), 2 meta upserts",
        receipt_bytes / sales.max(1),
        op_bytes / sales.max(1)
    );
    let engine_total: Duration = engine.iter().sum();
    let bare_total: Duration = bare.iter().sum();
    eprintln!(
        "mean: engine {:.0} µs, floor {:.0} µs",
        engine_total.as_secs_f64() * 1e6 / sales.max(1) as f64,
        bare_total.as_secs_f64() * 1e6 / sales.max(1) as f64
    );
    engine.sort();
    bare.sort();
    for percent in [90, 95, 98, 99] {
        eprintln!(
            "  p{percent}: engine {:.0} µs, floor {:.0} µs",
            micros(&engine, percent),
            micros(&bare, percent)
        );
    }
    let slow = |samples: &[Duration]| {
        samples
            .iter()
            .filter(|sample| **sample > Duration::from_millis(5))
            .count()
    };
    eprintln!(
        "commits over 5 ms: engine {}, floor {}",
        slow(&engine),
        slow(&bare)
    );
    // Orientation for the gap: one read through the station's pool (its tax settings: one
    // replica row and a JSON parse), and one bare statement on the floor's connection.
    let mut reads = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let begun = Instant::now();
        station.till_settings().await.map_err(text)?;
        reads.push(begun.elapsed());
    }
    let mut meta_reads = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let begun = Instant::now();
        station.credential().await.map_err(text)?;
        meta_reads.push(begun.elapsed());
    }
    meta_reads.sort();
    let mut trips = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let begun = Instant::now();
        sqlx::query_scalar::<_, String>("SELECT value FROM meta WHERE key = 'hlc'")
            .fetch_one(&mut floor)
            .await
            .map_err(text)?;
        trips.push(begun.elapsed());
    }
    reads.sort();
    trips.sort();
    eprintln!(
        "one station read p50: till_settings {:.0} µs, a meta row (credential) {:.0} µs; one bare meta read on the floor connection p50 {:.0} µs",
        micros(&reads, 50),
        micros(&meta_reads, 50),
        micros(&trips, 50)
    );
    let line = format!(
        "pos_sale_commit p50_us={:.0} p99_us={:.0} floor_p50_us={:.0} floor_p99_us={:.0} ratio_p99={:.2}",
        micros(&engine, 50),
        micros(&engine, 99),
        micros(&bare, 50),
        micros(&bare, 99),
        micros(&engine, 99) / micros(&bare, 99)
    );
    drop(reader);
    floor.close().await.map_err(text)?;
    prepared.finish().await;
    Ok(line)
}

/// `pos_search`: `products` products loaded into a station's replica, then 10,000 lookups:
/// half barcode scans of random existing products, half name searches by the first 2-4 letters
/// of a word of a product's name (its first word half the time, a later one the other half).
pub(crate) async fn pos_search(products: usize) -> Result<String, String> {
    if products == 0 {
        return Err("--products must be at least 1".to_owned());
    }
    // One product through the API: the replica record the generated ones are modelled on (the
    // first generated product replaces it, so the station holds exactly `products`).
    let prepared = prepare("search", 1).await?;
    let station = &prepared.station;
    let template = station
        .replica_all("product")
        .await
        .map_err(text)?
        .into_iter()
        .next()
        .ok_or("no product pulled")?;
    let template_id: uuid::Uuid = template["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .ok_or("the pulled product has no id")?;
    eprintln!("loading {products} products in batches of 5,000…");
    let started = Instant::now();
    let mut random = XorShift::new(0x5eed_0002);
    let mut barcodes = Vec::with_capacity(products);
    let mut names = Vec::with_capacity(products);
    let mut batch = Vec::with_capacity(5000);
    for index in 0..products {
        let id = if index == 0 {
            template_id
        } else {
            nexus_domain::ids::new_v7(nexus_domain::Clock::now(&SystemClock))
        };
        let barcode = ean13(600_000_000_000 + (index as u64 * 7_919) % 1_000_000_000);
        let name = product_name(&mut random);
        let mut payload = template.clone();
        payload["id"] = json!(id);
        payload["sku"] = json!(format!("SKU-{index:06}"));
        payload["barcode"] = json!(barcode);
        payload["name"] = json!(name);
        payload["price_minor"] = json!(100 + random.below(50_000));
        payload["tax_class"] = json!("standard");
        payload["archived_at"] = Value::Null;
        batch.push(nexus_sync::Change {
            seq: index as u64 + 1,
            entity: "product".to_owned(),
            entity_id: id,
            payload,
        });
        barcodes.push(barcode);
        names.push(name);
        if batch.len() == 5000 || index + 1 == products {
            station.load_changes(&batch).await.map_err(text)?;
            batch.clear();
        }
    }
    eprintln!(
        "loaded in {:.1} s; timing 10,000 lookups (200 untimed first)…",
        started.elapsed().as_secs_f64()
    );
    // The first name search after the catalogue changed builds the search index: said apart,
    // since a till pays it once after each sync that brings products.
    let begun = Instant::now();
    station.search_products("mi", 20).await.map_err(text)?;
    eprintln!(
        "the first name search (it builds the index) took {:.1} ms",
        begun.elapsed().as_secs_f64() * 1000.0
    );
    let mut timings = Vec::with_capacity(10_000);
    let mut found_by_name = 0_usize;
    for index in 0..10_200 {
        let scan = index % 2 == 0;
        let pick = random.below(products as u64) as usize;
        if scan {
            let begun = Instant::now();
            let product = station.find_product(&barcodes[pick]).await.map_err(text)?;
            let elapsed = begun.elapsed();
            if product.is_none() {
                return Err(format!("barcode {} not found", barcodes[pick]));
            }
            if index >= 200 {
                timings.push(elapsed);
            }
        } else {
            // Half of the name searches start the name, half start a later word of it
            // ("milk" for "Peak Milk 400g"), 2 to 4 letters either way.
            let length = 2 + random.below(3) as usize;
            let words: Vec<&str> = names[pick].split(' ').collect();
            let word = if index % 4 == 1 {
                words[0]
            } else {
                words[1 + random.below(words.len() as u64 - 1) as usize]
            };
            let prefix: String = word.chars().take(length).collect();
            let begun = Instant::now();
            let found = station.search_products(&prefix, 20).await.map_err(text)?;
            let elapsed = begun.elapsed();
            if found.is_empty() {
                return Err(format!("nothing found for {prefix:?}"));
            }
            found_by_name += found.len();
            if index >= 200 {
                timings.push(elapsed);
            }
        }
    }
    timings.sort();
    eprintln!(
        "name searches returned {:.1} products on average",
        found_by_name as f64 / 5100.0
    );
    let line = format!(
        "pos_search products={products} p50_us={:.0} p99_us={:.0}",
        micros(&timings, 50),
        micros(&timings, 99)
    );
    prepared.finish().await;
    Ok(line)
}

/// Xorshift64: a small seeded generator, so every run builds the same catalogue.
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..bound` (`bound` > 0).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

const BRANDS: &[&str] = &[
    "Milo",
    "Peak",
    "Ideal",
    "Nido",
    "Golden",
    "Tasty",
    "Royal",
    "Fresh",
    "Kasapreko",
    "Gino",
    "Frytol",
    "Titus",
    "Sunlight",
    "Key",
    "Omo",
    "Geisha",
    "Pepsodent",
    "Close",
    "Lipton",
    "Nescafe",
    "Cowbell",
    "Onga",
    "Maggi",
    "Remie",
    "Tom",
    "Bel",
    "Verna",
    "Voltic",
    "Malta",
    "Coca",
    "Fanta",
    "Sprite",
    "Alvaro",
    "Happy",
    "Ashanti",
    "Gold",
    "Blue",
    "Star",
    "Club",
    "Guinness",
];
const ITEMS: &[&str] = &[
    "Milk",
    "Cocoa",
    "Rice",
    "Sardines",
    "Tomato Paste",
    "Cooking Oil",
    "Soap",
    "Detergent",
    "Toothpaste",
    "Tea",
    "Coffee",
    "Sugar",
    "Seasoning",
    "Biscuits",
    "Water",
    "Juice",
    "Beer",
    "Corned Beef",
    "Spaghetti",
    "Noodles",
    "Mackerel",
    "Margarine",
    "Flour",
    "Salt",
    "Candles",
    "Matches",
    "Tissue",
    "Pomade",
    "Lotion",
    "Shampoo",
];
const SIZES: &[&str] = &[
    "50g",
    "100g",
    "200g",
    "400g",
    "500g",
    "1kg",
    "2kg",
    "5kg",
    "250ml",
    "330ml",
    "500ml",
    "750ml",
    "1L",
    "1.5L",
    "5L",
    "Pack of 6",
    "Pack of 12",
    "Sachet",
    "Tin",
    "Carton",
];

/// A product name such as "Peak Milk 400g" (sometimes with a variant word).
pub(crate) fn product_name(random: &mut XorShift) -> String {
    let brand = BRANDS[random.below(BRANDS.len() as u64) as usize];
    let item = ITEMS[random.below(ITEMS.len() as u64) as usize];
    let size = SIZES[random.below(SIZES.len() as u64) as usize];
    match random.below(4) {
        0 => format!("{brand} {item} Original {size}"),
        1 => format!("{brand} Extra {item} {size}"),
        _ => format!("{brand} {item} {size}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_seeded_and_bounded() {
        let (mut first, mut second) = (XorShift::new(7), XorShift::new(7));
        for _ in 0..1000 {
            let value = first.below(13);
            assert_eq!(value, second.below(13));
            assert!(value < 13);
        }
        assert!(!product_name(&mut first).is_empty());
    }
}
