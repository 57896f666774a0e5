//! The station's own SQLite database: its layout, and opening it (WAL, `synchronous=FULL`),
//! bringing an older layout up to this one.

use std::path::Path;
use std::time::Duration;

use nexus_sync::ProductRecord;
use sqlx::Executor as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::catalogue::upsert_products;
use crate::{StationError, StationResult};

/// The station database's layout; `PRAGMA user_version` records it.
const SCHEMA_VERSION: i64 = 5;

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
    archived integer NOT NULL DEFAULT 0,
    wholesale_price_minor integer,
    category_id text
);
CREATE INDEX IF NOT EXISTS products_sku ON products (sku);
CREATE INDEX IF NOT EXISTS products_barcode ON products (barcode);
CREATE INDEX IF NOT EXISTS products_name ON products (name_key);
CREATE INDEX IF NOT EXISTS products_category ON products (category_id, name_key);
-- Layout 3: packs, the cartons and crates a product is also sold by, found by their barcode.
CREATE TABLE IF NOT EXISTS product_packs (
    product_id text NOT NULL,
    position integer NOT NULL,
    name text NOT NULL,
    units integer NOT NULL,
    barcode text,
    price_minor integer NOT NULL,
    wholesale_price_minor integer,
    PRIMARY KEY (product_id, position)
);
CREATE INDEX IF NOT EXISTS product_packs_barcode ON product_packs (barcode);
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
    created_at integer NOT NULL,
    price_list text NOT NULL DEFAULT 'retail',
    -- What they may owe the shop; NULL: no credit.
    credit_limit_minor integer
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
-- Customer accounts: the entries pulled from the server and this till's own, synced or not,
-- one row per entry id (a sale's, refund's or payment's), so that the server's copy of this
-- till's entry is the same row. What a customer owes is their sum.
CREATE TABLE IF NOT EXISTS account_entries (
    id text PRIMARY KEY,
    customer_id text NOT NULL,
    kind text NOT NULL,
    amount_minor integer NOT NULL,
    occurred_at integer NOT NULL,
    -- For payments taken here: the shift whose drawer holds the money, and how it was paid.
    shift_id text,
    payment_kind text
);
CREATE INDEX IF NOT EXISTS account_entries_customer ON account_entries (customer_id, occurred_at);
CREATE INDEX IF NOT EXISTS account_entries_shift ON account_entries (shift_id);
-- Wrong PINs in a row per member of staff ('*' for PIN-only sign-in), and any lock.
CREATE TABLE IF NOT EXISTS pin_attempts (
    staff_key text PRIMARY KEY,
    failures integer NOT NULL,
    locked_until integer
);
-- Layout 5: the mobile-money transaction ids a network confirmed through a request to pay; a
-- tender under one of them is verified, the others wait for the statement.
CREATE TABLE IF NOT EXISTS momo_confirmed (
    reference text PRIMARY KEY,
    confirmed_at integer NOT NULL
);
";

/// One connection to the local file, never tested, idled out or recycled.
fn pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(1)
        // A local file connection does not go stale; pinging it on every acquire doubled
        // the cost of each read the till makes.
        .test_before_acquire(false)
        // Nor does it need closing when idle or old. With neither (and no minimum of
        // connections) sqlx starts no pool-maintenance task, whose loop in sqlx-core 0.8.6 can
        // spin a core forever once the pool's idle count underflows; the station reopens its
        // database many times (the crash and simulation tests do so in one process).
        .idle_timeout(None)
        .max_lifetime(None)
}

/// Opens (creating if needed) the database under `data_dir` and brings its layout to
/// [`SCHEMA_VERSION`]; a database another version of Nexus wrote is refused, never changed.
pub(crate) async fn open(data_dir: &Path) -> StationResult<SqlitePool> {
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
    let pool = pool_options().connect_with(options).await?;
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&pool)
        .await?;
    let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
        .fetch_one(&pool)
        .await?;
    if version > SCHEMA_VERSION || (version == 0 && tables > 0) {
        return Err(StationError::Invalid(format!(
            "{} was written by another version of Nexus (layout {version}, this one reads {SCHEMA_VERSION}); \
             keep it and use a new data directory, or run the version that wrote it",
            data_dir.display()
        )));
    }
    if version == 2 {
        // Layout 3 prices by list: the columns layout 2's tables lack (layout 1 had neither
        // table, and gets them whole from the schema below).
        pool.execute(
            "ALTER TABLE products ADD COLUMN wholesale_price_minor integer; \
             ALTER TABLE products ADD COLUMN category_id text; \
             ALTER TABLE customers ADD COLUMN price_list text NOT NULL DEFAULT 'retail';",
        )
        .await?;
    }
    if version == 2 || version == 3 {
        // Layout 4 keeps customer accounts: the credit limit beside the customer, filled from
        // the customer records already pulled (which carried it).
        pool.execute(
            "ALTER TABLE customers ADD COLUMN credit_limit_minor integer; \
             UPDATE customers SET credit_limit_minor = (SELECT json_extract(payload, '$.credit_limit_minor') \
             FROM replica WHERE entity = 'customer' AND entity_id = customers.id);",
        )
        .await?;
    }
    pool.execute(SCHEMA).await?;
    // Layout 2 had no packs table; no record it kept had packs, so there is nothing to fill.
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
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_starts_no_maintenance_task() {
        let options = pool_options();
        assert_eq!(options.get_idle_timeout(), None);
        assert_eq!(options.get_max_lifetime(), None);
        assert_eq!(options.get_min_connections(), 0);
        assert_eq!(options.get_max_connections(), 1);
        assert!(!options.get_test_before_acquire());
    }
}
