//! The shop station: a local SQLite database holding the station's replica (settings,
//! catalogue, its branch's stock movements) and its outbox, and the client that syncs them.
//!
//! Every local write and its op commit in one SQLite transaction (WAL, `synchronous=FULL`), so a
//! crash at any instant loses nothing the station said it recorded. Ops carry a per-station,
//! gap-free `seq`; the server's answer moves them to acknowledged or quarantined (rejected, shown
//! to the user, never blocking the ops behind).

pub mod receipt;
pub mod till;
pub mod web;
mod worker;

pub use till::{
    Cart, CartLine, Committed, Customer, Parked, Shift, SignedIn, TenderInput, TillProduct,
};
pub use worker::{Connectivity, SyncWorker, WorkerSettings, WorkerState, backoff};

use std::path::{Path, PathBuf};
use std::time::Duration;

use nexus_domain::Clock;
use nexus_domain::{BranchId, MovementKind, ProductId, SaleId, TenderKind, UserId};
use nexus_sync::{
    CatalogueFields, EnrolRequest, Enrolled, Entity, HlcClock, LedgerEntry, MovementOp,
    MovementRecord, NewSale, NewSaleLine, NewTender, Op, OpStatus, Payload, PayloadError,
    ProductEditOp, ProductRecord, PullResponse, PushRequest, PushResponse, Record, SaleOp,
    SettingsRecord, StaffRecord, TransferLine, TransferOp,
};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Executor as _, Row as _};

/// Most ops sent in one push (the server's limit).
const PUSH_BATCH: usize = nexus_sync::MAX_PUSH_OPS;
const PULL_PAGE: u32 = 500;
/// Rows in one multi-row statement when applying pulled products: 8 values a row stays far
/// below SQLite's 32,766 bound parameters.
const ROWS_PER_STATEMENT: usize = 250;

#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error("this station is not enrolled yet: run `nexus pos enroll --server URL --code CODE`")]
    NotEnrolled,
    #[error(
        "the server at {url} cannot be reached ({reason}); everything is kept and will sync when it is back"
    )]
    Unreachable { url: String, reason: String },
    #[error("the server refused the request: {0}")]
    Refused(String),
    #[error("local database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("wrong PIN ({attempts_left} more tries before a lock)")]
    WrongPin { attempts_left: i64 },
    #[error("too many wrong PINs: sign-in is locked; try again in {retry_after_seconds} s")]
    PinLocked { retry_after_seconds: i64 },
    /// One of the station's own ops does not read as the protocol's payload for its kind.
    #[error("op {seq} of the outbox cannot be read ({reason}); the station's database is damaged")]
    UnreadableOp { seq: u64, reason: String },
    /// A record from the server (as pulled, or as kept since) does not read as its kind.
    #[error("a {entity} record from the service cannot be read: {reason}")]
    UnreadableRecord {
        entity: &'static str,
        reason: String,
    },
}

impl StationError {
    fn unreadable_record(entity: &'static str, reason: impl ToString) -> Self {
        StationError::UnreadableRecord {
            entity,
            reason: reason.to_string(),
        }
    }
}

pub type StationResult<T> = Result<T, StationError>;

/// The station database's layout; `PRAGMA user_version` records it.
const SCHEMA_VERSION: i64 = 2;
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
-- Every local write as an op, gap-free by seq. `settled`: the server's ledger movements for this
-- op have been pulled, so its stock effect is no longer counted provisionally.
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
-- The server's records as last pulled (settings, products, staff, this branch's movements).
CREATE TABLE IF NOT EXISTS replica (
    entity text NOT NULL,
    entity_id text NOT NULL,
    payload text NOT NULL,
    PRIMARY KEY (entity, entity_id)
);
-- This branch's stock ledger as the server holds it, for on-hand by the ledger rule.
CREATE TABLE IF NOT EXISTS movements (
    id text PRIMARY KEY,
    product_id text NOT NULL,
    is_count integer NOT NULL,
    quantity_milli integer NOT NULL,
    occurred_at integer NOT NULL,
    source_id text
);
CREATE INDEX IF NOT EXISTS movements_product ON movements (product_id);
-- Layout 2: selling at the till.
-- The catalogue in columns, kept from the replica's product records as they are pulled, so that
-- a scan or a name prefix is one index lookup over 100,000 products.
CREATE TABLE IF NOT EXISTS products (
    id text PRIMARY KEY,
    sku text NOT NULL,
    barcode text,
    name text NOT NULL,
    name_key text NOT NULL,
    price_minor integer NOT NULL,
    tax_class text NOT NULL,
    archived integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS products_sku ON products (sku);
CREATE INDEX IF NOT EXISTS products_barcode ON products (barcode);
CREATE INDEX IF NOT EXISTS products_name ON products (name_key);
-- Sales, refunds and voids this station recorded, with their receipts as printed.
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
CREATE TABLE IF NOT EXISTS returned_lines (
    return_id text NOT NULL,
    position integer NOT NULL,
    sale_id text NOT NULL,
    line_no integer NOT NULL,
    product_id text NOT NULL,
    quantity_milli integer NOT NULL,
    PRIMARY KEY (return_id, position)
);
CREATE INDEX IF NOT EXISTS returned_lines_sale ON returned_lines (sale_id);
CREATE TABLE IF NOT EXISTS shifts (
    id text PRIMARY KEY,
    cashier_id text NOT NULL,
    opened_at integer NOT NULL,
    float_minor integer NOT NULL,
    closed_at integer,
    close text
);
-- One open shift per cashier at a station.
CREATE UNIQUE INDEX IF NOT EXISTS shifts_open ON shifts (cashier_id) WHERE closed_at IS NULL;
CREATE TABLE IF NOT EXISTS customers (
    id text PRIMARY KEY,
    name text NOT NULL,
    name_key text NOT NULL,
    phone text,
    created_at integer NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_name ON customers (name_key);
CREATE INDEX IF NOT EXISTS customers_phone ON customers (phone);
CREATE TABLE IF NOT EXISTS parked_carts (
    id text PRIMARY KEY,
    cashier_id text NOT NULL,
    parked_at integer NOT NULL,
    label text NOT NULL,
    cart text NOT NULL
);
-- Wrong PINs in a row per member of staff ('*' for PIN-only sign-in), and any lock.
CREATE TABLE IF NOT EXISTS pin_attempts (
    staff_key text PRIMARY KEY,
    failures integer NOT NULL,
    locked_until integer
);
";

/// What `nexus pos status` shows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StationStatus {
    pub enrolled: bool,
    pub server: Option<String>,
    pub station_id: Option<String>,
    pub unsynced_ops: i64,
    /// When the oldest unsynced op was written.
    pub unsynced_since: Option<i64>,
    pub last_sync_at: Option<i64>,
    pub quarantined: Vec<Quarantined>,
    pub pull_cursor: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Quarantined {
    pub seq: i64,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// What one sync did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: usize,
    pub rejected: usize,
    pub pulled: usize,
}

pub struct Station {
    pool: SqlitePool,
    http: reqwest::Client,
    data_dir: PathBuf,
}

impl Station {
    /// Opens (creating if needed) the station's database under `data_dir`.
    pub async fn open(data_dir: &Path) -> StationResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(|error| {
            StationError::Invalid(format!("cannot create {}: {error}", data_dir.display()))
        })?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join("station.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Commits that record money survive a power cut.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            // A local file connection does not go stale; pinging it on every acquire doubled
            // the cost of each read the till makes.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&pool)
            .await?;
        let tables: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
                .fetch_one(&pool)
                .await?;
        if version > SCHEMA_VERSION || (version == 0 && tables > 0) {
            return Err(StationError::Invalid(format!(
                "{} was written by another version of Nexus (layout {version}, this one reads {SCHEMA_VERSION}); \
                 keep it and use a new data directory, or run the version that wrote it",
                data_dir.display()
            )));
        }
        pool.execute(SCHEMA).await?;
        if version == 1 {
            // Layout 1 kept products only as replica records: fill the till's columns.
            let texts: Vec<String> =
                sqlx::query_scalar("SELECT payload FROM replica WHERE entity = 'product'")
                    .fetch_all(&pool)
                    .await?;
            let mut connection = pool.acquire().await?;
            for text in texts {
                let product: ProductRecord = serde_json::from_str(&text)
                    .map_err(|error| StationError::unreadable_record("product", error))?;
                upsert_products(&mut connection, &[&product]).await?;
            }
        }
        pool.execute(format!("PRAGMA user_version = {SCHEMA_VERSION}").as_str())
            .await?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| StationError::Invalid(format!("http client: {error}")))?;
        Ok(Self {
            pool,
            http,
            data_dir: data_dir.to_owned(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    async fn meta(&self, key: &str) -> StationResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn required(&self, key: &str) -> StationResult<String> {
        self.meta(key).await?.ok_or(StationError::NotEnrolled)
    }

    /// Trades a one-time enrolment code for this station's credential.
    pub async fn enroll(&self, server: &str, code: &str) -> StationResult<String> {
        let server = server.trim_end_matches('/').to_owned();
        let url = format!("{server}/api/v1/stations/enroll");
        let body = EnrolRequest {
            enrolment_code: code.to_owned(),
            app_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        };
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        if !status.is_success() {
            return Err(StationError::Refused(
                refusal_message(&bytes).unwrap_or_else(|| "enrolment refused".to_owned()),
            ));
        }
        let enrolled: Enrolled = serde_json::from_slice(&bytes).map_err(|error| {
            StationError::Refused(format!("the enrolment answer could not be read: {error}"))
        })?;
        let station_id = enrolled.station_id.to_string();
        let mut transaction = self.pool.begin().await?;
        for (key, value) in [
            ("server", server.clone()),
            ("station_id", station_id.clone()),
            ("tenant_id", enrolled.tenant_id.to_string()),
            ("branch_id", enrolled.branch_id.to_string()),
            ("credential", enrolled.credential),
            ("station_name", enrolled.station_name),
            ("branch_name", enrolled.branch_name),
        ] {
            sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(station_id)
    }

    fn device(text: &str) -> StationResult<uuid::Uuid> {
        text.parse()
            .map_err(|_| StationError::Invalid("the stored station id is not a UUID".to_owned()))
    }

    /// Appends one op to the outbox inside `transaction`, with the next gap-free seq and a
    /// timestamp from the station's hybrid logical clock (persisted in the same transaction, so
    /// it never runs backwards across a restart).
    async fn append_op<P: Payload>(
        transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        device: uuid::Uuid,
        now: nexus_domain::UnixMillis,
        entity_id: uuid::Uuid,
        payload: &P,
    ) -> StationResult<u64> {
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM outbox")
            .fetch_one(&mut **transaction)
            .await?;
        let seq = u64::try_from(last.unwrap_or(0) + 1).unwrap_or(1);
        let hlc_text: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'hlc'")
                .fetch_optional(&mut **transaction)
                .await?;
        let bytes = device.as_bytes();
        let node = u32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
        let mut clock_state = match hlc_text.and_then(|text| serde_json::from_str(&text).ok()) {
            Some(last) => HlcClock::resume(node, last),
            None => HlcClock::new(node),
        };
        let hlc = clock_state
            .tick(now)
            .map_err(|error| StationError::Invalid(error.to_string()))?;
        let op = Op::new(
            nexus_domain::ids::new_v7(now),
            device,
            seq,
            hlc,
            entity_id,
            payload,
        )
        .map_err(|error| StationError::Invalid(error.to_string()))?;
        let encoded =
            serde_json::to_string(&op).map_err(|error| StationError::Invalid(error.to_string()))?;
        sqlx::query(
            "INSERT INTO outbox (seq, op_id, entity, entity_id, op, created_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
        )
        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
        .bind(op.op_id.to_string())
        .bind(op.entity.as_str())
        .bind(entity_id.to_string())
        .bind(encoded)
        .bind(now.as_millis())
        .execute(&mut **transaction)
        .await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('hlc', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(serde_json::to_string(&hlc).unwrap_or_default())
            .execute(&mut **transaction)
            .await?;
        Ok(seq)
    }

    /// Writes one op in its own transaction; returns its seq.
    async fn write_op<P: Payload>(
        &self,
        clock: &dyn Clock,
        entity_id: uuid::Uuid,
        payload: &P,
    ) -> StationResult<u64> {
        let device = Self::device(&self.required("station_id").await?)?;
        let mut transaction = self.pool.begin().await?;
        let seq =
            Self::append_op(&mut transaction, device, clock.now(), entity_id, payload).await?;
        transaction.commit().await?;
        Ok(seq)
    }

    /// Records a sale locally, with its op, in one transaction. `sale` is what the server's
    /// `POST /api/v1/sales` takes; `cashier_id` is who rang it up. Works with no network at all.
    pub async fn record_sale(
        &self,
        clock: &dyn Clock,
        cashier_id: uuid::Uuid,
        sale: NewSale,
    ) -> StationResult<u64> {
        let sale_id = sale.id.as_uuid();
        let payload = SaleOp {
            cashier_id: UserId::from_uuid(cashier_id),
            shift_id: None,
            customer_id: None,
            sale,
        };
        self.write_op(clock, sale_id, &payload).await
    }

    /// Rings up a cash sale from the replica: each line is a product (by SKU or barcode) and a
    /// quantity at the catalogue's price, taxed by the tenant's rules exactly as the server taxes
    /// it, paid with exact cash. Returns the sale's id and total (minor units).
    pub async fn sell(
        &self,
        clock: &dyn Clock,
        cashier_id: uuid::Uuid,
        lines: &[(String, nexus_domain::Quantity)],
    ) -> StationResult<(uuid::Uuid, i64)> {
        let settings: SettingsRecord = self
            .replica_record(&uuid::Uuid::nil().to_string())
            .await?
            .ok_or_else(|| {
            StationError::Invalid(
                "no settings yet: run `nexus pos sync` once while online".to_owned(),
            )
        })?;
        let branch = self.required("branch_id").await?;
        let branch_id: BranchId = branch
            .parse()
            .map_err(|_| StationError::Invalid("the stored branch id is not a UUID".to_owned()))?;
        let cashier: Option<StaffRecord> = self.replica_record(&cashier_id.to_string()).await?;
        if !cashier.as_ref().is_some_and(|member| member.active) {
            return Err(StationError::Invalid(format!(
                "{cashier_id} is not active staff of this branch (as of the last sync)"
            )));
        }
        let mut inputs = Vec::with_capacity(lines.len());
        let mut requested = Vec::with_capacity(lines.len());
        for (code, quantity) in lines {
            let product = self.find_product(code).await?.ok_or_else(|| {
                StationError::Invalid(format!("no product with SKU or barcode {code:?}"))
            })?;
            let unit_price_minor = product.price_minor;
            let tax_class = product.tax_class;
            inputs.push(nexus_domain::LineInput {
                unit_price_minor,
                quantity: *quantity,
                discount_minor: 0,
                tax_class,
            });
            requested.push(NewSaleLine {
                product_id: ProductId::from_uuid(product.id),
                quantity: *quantity,
                unit_price_minor: Some(unit_price_minor),
                discount_minor: None,
            });
        }
        let (_, totals) = nexus_domain::compute_sale(&settings.tax, &inputs, 0)
            .map_err(|error| StationError::Invalid(error.to_string()))?;
        let now = clock.now();
        let sale_id = nexus_domain::ids::new_v7(now);
        let sale = NewSale {
            id: SaleId::from_uuid(sale_id),
            branch_id,
            occurred_at: Some(now.as_millis()),
            device_id: None,
            receipt_number: None,
            lines: requested,
            discount_minor: None,
            tenders: vec![NewTender {
                kind: TenderKind::Cash.as_str().to_owned(),
                amount_minor: totals.total_minor,
                network: None,
                phone: None,
                reference: None,
            }],
        };
        self.record_sale(clock, cashier_id, sale).await?;
        Ok((sale_id, totals.total_minor))
    }

    /// Edits catalogue fields of a product. The replica shows the new values at once; the op
    /// carries what the replica held before, so the server can log a concurrent edit by
    /// someone else.
    pub async fn edit_product(
        &self,
        clock: &dyn Clock,
        actor_id: uuid::Uuid,
        product_id: uuid::Uuid,
        fields: CatalogueFields,
    ) -> StationResult<u64> {
        if fields.is_empty() {
            return Err(StationError::Invalid(
                "a station edits a product's name, price_minor or reorder_level".to_owned(),
            ));
        }
        let device = Self::device(&self.required("station_id").await?)?;
        let mut transaction = self.pool.begin().await?;
        let current: Option<String> = sqlx::query_scalar(
            "SELECT payload FROM replica WHERE entity = 'product' AND entity_id = $1",
        )
        .bind(product_id.to_string())
        .fetch_optional(&mut *transaction)
        .await?;
        let text = current.ok_or_else(|| {
            StationError::Invalid("this station does not know that product".to_owned())
        })?;
        let mut product: ProductRecord = serde_json::from_str(&text)
            .map_err(|error| StationError::unreadable_record("product", error))?;
        let mut seen = CatalogueFields::default();
        if let Some(name) = &fields.name {
            seen.name = Some(std::mem::replace(&mut product.name, name.clone()));
        }
        if let Some(price_minor) = fields.price_minor {
            seen.price_minor = Some(std::mem::replace(&mut product.price_minor, price_minor));
        }
        if let Some(reorder_level) = fields.reorder_level {
            seen.reorder_level = Some(std::mem::replace(&mut product.reorder_level, reorder_level));
        }
        let updated = serde_json::to_value(&product)
            .map_err(|error| StationError::Invalid(error.to_string()))?;
        sqlx::query("UPDATE replica SET payload = $2 WHERE entity = 'product' AND entity_id = $1")
            .bind(product_id.to_string())
            .bind(updated.to_string())
            .execute(&mut *transaction)
            .await?;
        upsert_products(&mut transaction, &[&product]).await?;
        let payload = ProductEditOp {
            actor_id: UserId::from_uuid(actor_id),
            fields,
            seen,
        };
        let seq =
            Self::append_op(&mut transaction, device, clock.now(), product_id, &payload).await?;
        transaction.commit().await?;
        Ok(seq)
    }

    /// Records a receipt, adjustment or count at this station's branch. `kind` is `receipt`,
    /// `adjustment` (with a reason) or `count`; a count says "there were `quantity` now".
    pub async fn record_movement(
        &self,
        clock: &dyn Clock,
        actor_id: uuid::Uuid,
        product_id: uuid::Uuid,
        kind: &str,
        quantity: nexus_domain::Quantity,
        reason: Option<&str>,
    ) -> StationResult<uuid::Uuid> {
        let now = clock.now();
        let id = nexus_domain::ids::new_v7(now);
        let payload = MovementOp {
            actor_id: UserId::from_uuid(actor_id),
            product_id: ProductId::from_uuid(product_id),
            kind: kind.to_owned(),
            quantity,
            reason: reason.map(str::to_owned),
            occurred_at: now.as_millis(),
        };
        self.write_op(clock, id, &payload).await?;
        Ok(id)
    }

    /// Sends goods from this station's branch to `to_branch`.
    pub async fn record_transfer(
        &self,
        clock: &dyn Clock,
        actor_id: uuid::Uuid,
        to_branch: uuid::Uuid,
        lines: &[(uuid::Uuid, nexus_domain::Quantity)],
    ) -> StationResult<uuid::Uuid> {
        let now = clock.now();
        let id = nexus_domain::ids::new_v7(now);
        let payload = TransferOp {
            actor_id: UserId::from_uuid(actor_id),
            to_branch_id: BranchId::from_uuid(to_branch),
            lines: lines
                .iter()
                .map(|(product, quantity)| TransferLine {
                    product_id: ProductId::from_uuid(*product),
                    quantity: *quantity,
                })
                .collect(),
            occurred_at: now.as_millis(),
        };
        self.write_op(clock, id, &payload).await?;
        Ok(id)
    }

    /// One push of everything pending (in batches) and one pull of everything new.
    pub async fn sync(&self, clock: &dyn Clock) -> StationResult<SyncReport> {
        let server = self.required("server").await?;
        let credential = self.required("credential").await?;
        let mut report = SyncReport::default();
        loop {
            let rows = sqlx::query(
                "SELECT op, created_at FROM outbox WHERE status = 'pending' ORDER BY seq LIMIT $1",
            )
            .bind(i64::try_from(PUSH_BATCH).unwrap_or(500))
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut ops = Vec::with_capacity(rows.len());
            let mut oldest = None;
            for row in &rows {
                let text: String = row.try_get("op")?;
                ops.push(
                    serde_json::from_str::<Op>(&text)
                        .map_err(|error| StationError::Invalid(error.to_string()))?,
                );
                oldest = oldest.or(Some(row.try_get::<i64, _>("created_at")?));
            }
            let request = PushRequest {
                protocol_version: nexus_sync::PROTOCOL_VERSION,
                ops,
                unsynced_since: oldest,
                app_version: env!("CARGO_PKG_VERSION").to_owned(),
                // The clock the ops were stamped with, so the server can correct a wrong one.
                sent_at: Some(clock.now().as_millis()),
            };
            let response = self
                .http
                .post(format!("{server}/api/v1/sync/push"))
                .header("authorization", format!("Station {credential}"))
                .json(&request)
                .send()
                .await
                .map_err(|error| unreachable(&server, &error))?;
            let answer: PushResponse = answer_or_refusal(&server, response).await?;
            let mut transaction = self.pool.begin().await?;
            for result in &answer.results {
                let status = match result.status {
                    OpStatus::Applied | OpStatus::Duplicate => "acknowledged",
                    OpStatus::Rejected => {
                        report.rejected += 1;
                        "rejected"
                    }
                };
                sqlx::query("UPDATE outbox SET status = $2, code = $3, message = $4 WHERE seq = $1 AND status = 'pending'")
                    .bind(i64::try_from(result.seq).unwrap_or(i64::MAX))
                    .bind(status)
                    .bind(result.code.as_deref())
                    .bind(result.message.as_deref())
                    .execute(&mut *transaction)
                    .await?;
            }
            // Everything at or below the high-water mark is held by the server.
            sqlx::query(
                "UPDATE outbox SET status = 'acknowledged' WHERE seq <= $1 AND status = 'pending'",
            )
            .bind(i64::try_from(answer.acknowledged_seq).unwrap_or(0))
            .execute(&mut *transaction)
            .await?;
            transaction.commit().await?;
            report.pushed += answer.results.len();
            if answer.resend_from.is_some() || answer.results.is_empty() {
                // The server asked for ops we no longer have pending, or made no progress: stop
                // rather than loop; the next sync starts again from the outbox.
                break;
            }
        }
        report.pulled = self.pull(&server, &credential).await?;
        self.set_meta("last_sync_at", &clock.now().as_millis().to_string())
            .await?;
        Ok(report)
    }

    async fn pull(&self, server: &str, credential: &str) -> StationResult<usize> {
        let branch = self.required("branch_id").await?;
        let mut pulled = 0;
        loop {
            let cursor = self
                .meta("pull_cursor")
                .await?
                .and_then(|text| text.parse::<u64>().ok())
                .unwrap_or(0);
            let response = self
                .http
                .get(format!(
                    "{server}/api/v1/sync/pull?protocol_version={}&cursor={cursor}&limit={PULL_PAGE}",
                    nexus_sync::PROTOCOL_VERSION
                ))
                .header("authorization", format!("Station {credential}"))
                .send()
                .await
                .map_err(|error| unreachable(server, &error))?;
            let page: PullResponse = answer_or_refusal(server, response).await?;
            // The page and its cursor commit together: the replica never shows half an update.
            let mut transaction = self.pool.begin().await?;
            Self::store_changes(&mut transaction, &branch, &page.changes).await?;
            sqlx::query("INSERT INTO meta (key, value) VALUES ('pull_cursor', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(page.next_cursor.to_string())
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            pulled += page.changes.len();
            if !page.has_more {
                return Ok(pulled);
            }
        }
    }

    /// Applies changes to the replica in one transaction, as one pull page does, without
    /// moving the pull cursor: for loading a large catalogue in tools and benchmarks.
    pub async fn load_changes(&self, changes: &[nexus_sync::Change]) -> StationResult<()> {
        let branch = self.required("branch_id").await?;
        let mut transaction = self.pool.begin().await?;
        Self::store_changes(&mut transaction, &branch, changes).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Applies one page of changes. Products, nearly all of a first sync, go in multi-row
    /// statements (the last change of each product wins, as applying them in order would);
    /// everything else one by one, in order. Products touch only their own rows, so taking them
    /// out of order changes nothing else.
    async fn store_changes(
        transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        branch: &str,
        changes: &[nexus_sync::Change],
    ) -> StationResult<()> {
        let mut products: std::collections::BTreeMap<uuid::Uuid, &nexus_sync::Change> =
            std::collections::BTreeMap::new();
        for change in changes {
            if change.entity == ProductRecord::ENTITY {
                products.insert(change.entity_id, change);
            } else {
                Self::store_change(transaction, branch, change).await?;
            }
        }
        let products: Vec<&nexus_sync::Change> = products.into_values().collect();
        for batch in products.chunks(ROWS_PER_STATEMENT) {
            let records = batch
                .iter()
                .map(|change| change.read_record::<ProductRecord>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| StationError::unreadable_record("product", error))?;
            let mut replica =
                sqlx::QueryBuilder::new("INSERT INTO replica (entity, entity_id, payload) ");
            replica.push_values(batch, |mut row, change| {
                row.push_bind(ProductRecord::ENTITY)
                    .push_bind(change.entity_id.to_string())
                    .push_bind(change.payload.to_string());
            });
            replica
                .push(" ON CONFLICT (entity, entity_id) DO UPDATE SET payload = excluded.payload");
            replica.build().execute(&mut **transaction).await?;
            let records: Vec<&ProductRecord> = records.iter().collect();
            upsert_products(transaction, &records).await?;
        }
        Ok(())
    }

    async fn store_change(
        transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        branch: &str,
        change: &nexus_sync::Change,
    ) -> StationResult<()> {
        let entity_id = change.entity_id.to_string();
        if change.entity == StaffRecord::ENTITY {
            let member: StaffRecord = change
                .read_record()
                .map_err(|error| StationError::unreadable_record("staff", error))?;
            // A member of staff moved away from this branch is no longer signed in here.
            if !member.branch_ids.iter().any(|id| id.to_string() == branch) {
                sqlx::query("DELETE FROM replica WHERE entity = 'staff' AND entity_id = $1")
                    .bind(&entity_id)
                    .execute(&mut **transaction)
                    .await?;
                return Ok(());
            }
        }
        sqlx::query(
            "INSERT INTO replica (entity, entity_id, payload) VALUES ($1, $2, $3) \
             ON CONFLICT (entity, entity_id) DO UPDATE SET payload = excluded.payload",
        )
        .bind(&change.entity)
        .bind(&entity_id)
        .bind(change.payload.to_string())
        .execute(&mut **transaction)
        .await?;
        if change.entity == ProductRecord::ENTITY {
            let product: ProductRecord = change
                .read_record()
                .map_err(|error| StationError::unreadable_record("product", error))?;
            upsert_products(transaction, &[&product]).await?;
        }
        if change.entity == MovementRecord::ENTITY {
            let movement: MovementRecord = change
                .read_record()
                .map_err(|error| StationError::unreadable_record("stock movement", error))?;
            let source = movement.source_id.map(|source| source.to_string());
            sqlx::query(
                "INSERT INTO movements (id, product_id, is_count, quantity_milli, occurred_at, source_id) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&entity_id)
            .bind(movement.product_id.to_string())
            .bind(movement.kind == MovementKind::Count)
            .bind(movement.quantity.milli())
            .bind(movement.occurred_at.as_millis())
            .bind(source.as_deref())
            .execute(&mut **transaction)
            .await?;
            // The server's movements for one of our ops are here: stop counting it ourselves.
            sqlx::query("UPDATE outbox SET settled = 1 WHERE settled = 0 AND (entity_id = $1 OR entity_id = $2)")
                .bind(&entity_id)
                .bind(source.as_deref().unwrap_or(""))
                .execute(&mut **transaction)
                .await?;
        }
        Ok(())
    }

    /// On-hand at this station's branch, in thousandths, per product that has any movement: the
    /// server's ledger as pulled, plus this station's own writes the server has not sent back
    /// yet (rejected ones never count). Once everything is synced it equals the server's.
    pub async fn stock_levels(&self) -> StationResult<std::collections::BTreeMap<uuid::Uuid, i64>> {
        let mut ledgers: std::collections::BTreeMap<uuid::Uuid, Vec<LedgerEntry>> =
            std::collections::BTreeMap::new();
        let rows = sqlx::query(
            "SELECT id, product_id, is_count, quantity_milli, occurred_at FROM movements",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let parse = |column: &str| -> StationResult<uuid::Uuid> {
                row.try_get::<String, _>(column)?
                    .parse()
                    .map_err(|_| StationError::Invalid(format!("a stored {column} is not a UUID")))
            };
            ledgers
                .entry(parse("product_id")?)
                .or_default()
                .push(LedgerEntry {
                    occurred_at: row.try_get("occurred_at")?,
                    id: parse("id")?,
                    is_count: row.try_get("is_count")?,
                    quantity_milli: row.try_get("quantity_milli")?,
                });
        }
        let unsettled: Vec<String> = sqlx::query_scalar(
            "SELECT op FROM outbox WHERE status <> 'rejected' AND settled = 0 \
             AND entity IN ('sale', 'stock_movement', 'transfer') ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        for text in unsettled {
            let op: Op = serde_json::from_str(&text)
                .map_err(|error| StationError::Invalid(format!("a stored op: {error}")))?;
            for (product, entry) in provisional_entries(&op)? {
                ledgers.entry(product).or_default().push(entry);
            }
        }
        // Refunds and voids name the sale's lines, not products: their goods come back per
        // the lines this station recorded for them.
        let returns = sqlx::query(
            "SELECT outbox.entity_id, returned_lines.product_id, returned_lines.quantity_milli, outbox.created_at \
             FROM outbox JOIN returned_lines ON returned_lines.return_id = outbox.entity_id \
             WHERE outbox.entity = 'refund' AND outbox.status <> 'rejected' AND outbox.settled = 0",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in &returns {
            let parse = |column: &str| -> StationResult<uuid::Uuid> {
                row.try_get::<String, _>(column)?
                    .parse()
                    .map_err(|_| StationError::Invalid(format!("a stored {column} is not a UUID")))
            };
            ledgers
                .entry(parse("product_id")?)
                .or_default()
                .push(LedgerEntry {
                    occurred_at: row.try_get("created_at")?,
                    id: parse("entity_id")?,
                    is_count: false,
                    quantity_milli: row.try_get("quantity_milli")?,
                });
        }
        Ok(ledgers
            .into_iter()
            .map(|(product, entries)| (product, nexus_sync::on_hand_milli(&entries)))
            .collect())
    }

    /// Every replica record of one kind (`product`, `staff`, `settings`, `stock_movement`).
    pub async fn replica_all(&self, entity: &str) -> StationResult<Vec<serde_json::Value>> {
        let texts: Vec<String> =
            sqlx::query_scalar("SELECT payload FROM replica WHERE entity = $1 ORDER BY entity_id")
                .bind(entity)
                .fetch_all(&self.pool)
                .await?;
        texts
            .iter()
            .map(|text| {
                serde_json::from_str(text)
                    .map_err(|error| StationError::Invalid(format!("a stored record: {error}")))
            })
            .collect()
    }

    /// The ids of every sale this station committed locally, in seq order, with the status of
    /// its op (`pending`, `acknowledged` or `rejected`).
    pub async fn committed_sales(&self) -> StationResult<Vec<(uuid::Uuid, String)>> {
        let rows =
            sqlx::query("SELECT entity_id, status FROM outbox WHERE entity = 'sale' ORDER BY seq")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("entity_id")?;
                Ok((
                    id.parse()
                        .map_err(|_| StationError::Invalid("a stored sale id".to_owned()))?,
                    row.try_get("status")?,
                ))
            })
            .collect()
    }

    /// How many ops the outbox holds, whatever their state: it only ever grows.
    pub async fn outbox_len(&self) -> StationResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&self.pool)
            .await?)
    }

    /// SQLite's own check of the database file: `ok` when it is sound.
    pub async fn integrity_check(&self) -> StationResult<String> {
        let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?;
        Ok(lines.join("\n"))
    }

    /// Closes the database (waits for the connection to finish its work).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn set_meta(&self, key: &str, value: &str) -> StationResult<()> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the server answers at all (its health check), within a few seconds.
    pub async fn probe(&self) -> StationResult<()> {
        let server = self.required("server").await?;
        let response = self
            .http
            .get(format!("{server}/healthz"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(StationError::Unreachable {
                url: server,
                reason: format!("the health check answered {}", response.status()),
            })
        }
    }

    /// Points an enrolled station at the same service under a new address (it moved, or the
    /// demo was started on another port). The credential, outbox and replica stay as they are.
    pub async fn set_server(&self, server: &str) -> StationResult<()> {
        self.required("credential").await?;
        sqlx::query("UPDATE meta SET value = $1 WHERE key = 'server'")
            .bind(server.trim_end_matches('/'))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The station's credential (for tools that talk to the server on its behalf).
    pub async fn credential(&self) -> StationResult<String> {
        self.required("credential").await
    }

    /// The replica's copy of one entity, as the server last sent it.
    pub async fn replica(
        &self,
        entity: &str,
        entity_id: &str,
    ) -> StationResult<Option<serde_json::Value>> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT payload FROM replica WHERE entity = $1 AND entity_id = $2")
                .bind(entity)
                .bind(entity_id)
                .fetch_optional(&self.pool)
                .await?;
        text.map(|text| {
            serde_json::from_str(&text).map_err(|error| StationError::UnreadableRecord {
                entity: "replica",
                reason: error.to_string(),
            })
        })
        .transpose()
    }

    /// The replica's record of kind `R` with this id, as the server last sent it.
    async fn replica_record<R: Record>(&self, entity_id: &str) -> StationResult<Option<R>> {
        let mut connection = self.pool.acquire().await?;
        replica_record_on(&mut connection, entity_id).await
    }

    /// Every replica record of kind `R`.
    async fn replica_records<R: Record>(&self) -> StationResult<Vec<R>> {
        let texts: Vec<String> =
            sqlx::query_scalar("SELECT payload FROM replica WHERE entity = $1 ORDER BY entity_id")
                .bind(R::ENTITY)
                .fetch_all(&self.pool)
                .await?;
        texts.iter().map(|text| read_record(text)).collect()
    }

    pub async fn status(&self) -> StationResult<StationStatus> {
        let pending = sqlx::query("SELECT COUNT(*) AS count, MIN(created_at) AS oldest FROM outbox WHERE status = 'pending'")
            .fetch_one(&self.pool)
            .await?;
        let quarantined = sqlx::query(
            "SELECT seq, code, message FROM outbox WHERE status = 'rejected' ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Quarantined {
                seq: row.try_get("seq")?,
                code: row.try_get("code")?,
                message: row.try_get("message")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(StationStatus {
            enrolled: self.meta("credential").await?.is_some(),
            server: self.meta("server").await?,
            station_id: self.meta("station_id").await?,
            unsynced_ops: pending.try_get("count")?,
            unsynced_since: pending.try_get("oldest")?,
            last_sync_at: self
                .meta("last_sync_at")
                .await?
                .and_then(|text| text.parse().ok()),
            quarantined,
            pull_cursor: self
                .meta("pull_cursor")
                .await?
                .and_then(|text| text.parse().ok())
                .unwrap_or(0),
        })
    }
}

/// The stock effect of one of this station's own ops, as ledger entries per product, until the
/// server's real movements for it are pulled. Ids are the op's entity id: only their order
/// against counts matters, and a pending op sorts by its own time.
fn provisional_entries(op: &Op) -> StationResult<Vec<(uuid::Uuid, LedgerEntry)>> {
    let unreadable = |error: PayloadError| StationError::UnreadableOp {
        seq: op.seq,
        reason: error.to_string(),
    };
    let entry = |occurred_at: i64, is_count: bool, quantity: nexus_domain::Quantity| LedgerEntry {
        occurred_at,
        id: op.entity_id,
        is_count,
        quantity_milli: quantity.milli(),
    };
    let taken = |product: ProductId, at: i64, quantity: nexus_domain::Quantity| {
        let taken = nexus_domain::Quantity::from_milli(-quantity.milli());
        (product.as_uuid(), entry(at, false, taken))
    };
    Ok(match op.entity {
        Entity::Sale => {
            let sale = op.read_payload::<SaleOp>().map_err(unreadable)?.sale;
            // A sale without a time happened when it was written.
            let at = sale.occurred_at.unwrap_or(op.hlc.wall_millis);
            sale.lines
                .iter()
                .map(|line| taken(line.product_id, at, line.quantity))
                .collect()
        }
        Entity::StockMovement => {
            let movement = op.read_payload::<MovementOp>().map_err(unreadable)?;
            vec![(
                movement.product_id.as_uuid(),
                entry(movement.occurred_at, movement.is_count(), movement.quantity),
            )]
        }
        Entity::Transfer => {
            let transfer = op.read_payload::<TransferOp>().map_err(unreadable)?;
            transfer
                .lines
                .iter()
                .map(|line| taken(line.product_id, transfer.occurred_at, line.quantity))
                .collect()
        }
        _ => Vec::new(),
    })
}

/// The record of kind `R` with this id in the replica.
async fn replica_record_on<R: Record>(
    connection: &mut sqlx::SqliteConnection,
    entity_id: &str,
) -> StationResult<Option<R>> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT payload FROM replica WHERE entity = $1 AND entity_id = $2")
            .bind(R::ENTITY)
            .bind(entity_id)
            .fetch_optional(&mut *connection)
            .await?;
    text.map(|text| read_record(&text)).transpose()
}

fn read_record<R: Record>(text: &str) -> StationResult<R> {
    serde_json::from_str(text).map_err(|error| StationError::unreadable_record(R::ENTITY, error))
}

/// Keeps the till's product columns in step with a pulled (or, on upgrade, stored) product.
async fn upsert_products(
    connection: &mut sqlx::SqliteConnection,
    products: &[&ProductRecord],
) -> StationResult<()> {
    if products.is_empty() {
        return Ok(());
    }
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO products (id, sku, barcode, name, name_key, price_minor, tax_class, archived) ",
    );
    insert.push_values(products, |mut row, product| {
        row.push_bind(product.id.to_string())
            .push_bind(product.sku.clone())
            .push_bind(product.barcode.clone())
            .push_bind(product.name.clone())
            .push_bind(till::name_key(&product.name))
            .push_bind(product.price_minor)
            .push_bind(product.tax_class.as_str())
            .push_bind(product.archived_at.is_some());
    });
    insert.push(
        " ON CONFLICT (id) DO UPDATE SET sku = excluded.sku, barcode = excluded.barcode, \
         name = excluded.name, name_key = excluded.name_key, price_minor = excluded.price_minor, \
         tax_class = excluded.tax_class, archived = excluded.archived",
    );
    insert.build().execute(&mut *connection).await?;
    Ok(())
}

fn unreachable(server: &str, error: &reqwest::Error) -> StationError {
    StationError::Unreachable {
        url: server.to_owned(),
        reason: error.to_string(),
    }
}

async fn answer_or_refusal<T: serde::de::DeserializeOwned>(
    server: &str,
    response: reqwest::Response,
) -> StationResult<T> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|error| unreachable(server, &error))?;
    if status.is_server_error() {
        // A gateway or a server in trouble: like no answer at all, try again later.
        return Err(StationError::Unreachable {
            url: server.to_owned(),
            reason: format!("the server answered {status}"),
        });
    }
    if !status.is_success() {
        let message = refusal_message(&bytes).unwrap_or_else(|| format!("status {status}"));
        return Err(StationError::Refused(message));
    }
    serde_json::from_slice(&bytes).map_err(|error| {
        StationError::Invalid(format!("the server's answer could not be read: {error}"))
    })
}

/// The message of the service's error answer, `{"error": {"message": ...}}`.
fn refusal_message(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value["error"]["message"].as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(entity: Entity, payload: serde_json::Value) -> Op {
        Op {
            op_id: uuid::Uuid::now_v7(),
            device_id: uuid::Uuid::now_v7(),
            seq: 7,
            hlc: nexus_sync::Hlc::ZERO,
            entity,
            entity_id: uuid::Uuid::now_v7(),
            action: nexus_sync::Action::Create,
            payload,
        }
    }

    #[test]
    fn an_unreadable_op_of_the_outbox_is_reported_not_counted_as_zero() {
        let product = uuid::Uuid::now_v7();
        let movement = op(
            Entity::StockMovement,
            serde_json::json!({ "actor_id": uuid::Uuid::now_v7(), "product_id": product,
                "kind": "count", "quantity": "4", "reason": null, "occurred_at": 9 }),
        );
        let entries = provisional_entries(&movement).expect("reads");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, product);
        assert!(entries[0].1.is_count && entries[0].1.quantity_milli == 4000);

        let mut damaged = movement.clone();
        damaged.payload["quantity"] = serde_json::json!("four");
        assert!(matches!(
            provisional_entries(&damaged),
            Err(StationError::UnreadableOp { seq: 7, .. })
        ));
        let sale = op(Entity::Sale, serde_json::json!({ "cashier_id": "nobody" }));
        assert!(matches!(
            provisional_entries(&sale),
            Err(StationError::UnreadableOp { .. })
        ));
    }
}
