//! The catalogue of one tenant: products, their search, and CSV imports.

use std::collections::HashMap;

use async_trait::async_trait;
use nexus_domain::cost::CostHistory;
use nexus_domain::ids::ProductId;
use nexus_domain::{CategoryId, Quantity, TaxClass, TenantId, UnixMillis};

use super::categories::check_category_usable;
use super::changes::log_change;
use super::stock::follow_reorder_levels;
use super::{TenantAccess, with_tenant};

use crate::retail::{
    ImportColumns, ImportCounts, NewProduct, Pack, Product, ProductChange, ProductQuery,
};
use crate::sql::{
    Backend, Conn, RowExt, contains_pattern, parse_column, placeholders, query, rows_per_statement,
};
use crate::{StoreError, StoreResult};

#[async_trait]
pub trait CatalogueStore: Send + Sync + 'static {
    /// A clash of SKU or barcode is `Conflict` naming the field.
    async fn create_product(&self, tenant: TenantId, product: NewProduct) -> StoreResult<Product>;
    async fn get_product(
        &self,
        tenant: TenantId,
        product: ProductId,
    ) -> StoreResult<Option<Product>>;
    /// The product, archived or not, whose SKU or barcode is exactly `code`.
    async fn product_by_code(&self, tenant: TenantId, code: &str) -> StoreResult<Option<Product>>;
    /// The products that exist among `products`, in the same order.
    async fn products_by_ids(
        &self,
        tenant: TenantId,
        products: &[ProductId],
    ) -> StoreResult<Vec<Product>>;
    async fn update_product(
        &self,
        tenant: TenantId,
        product: ProductId,
        change: ProductChange,
        now: UnixMillis,
    ) -> StoreResult<Option<Product>>;
    async fn archive_product(
        &self,
        tenant: TenantId,
        product: ProductId,
        now: UnixMillis,
    ) -> StoreResult<Option<Product>>;
    async fn list_products(
        &self,
        tenant: TenantId,
        query: &ProductQuery,
    ) -> StoreResult<Vec<Product>>;
    /// Creates or (matching on SKU) updates every row, in one transaction: all or nothing. An
    /// update changes name and price, and the optional fields whose column the file has.
    async fn import_products(
        &self,
        tenant: TenantId,
        rows: Vec<NewProduct>,
        columns: ImportColumns,
        now: UnixMillis,
    ) -> StoreResult<ImportCounts>;
    /// (barcode, SKU of the product holding it) for those of `barcodes` that are taken.
    /// Who holds each of `barcodes`: (barcode, the product's SKU, the pack's name when it is a
    /// pack's barcode rather than the product's own).
    async fn barcode_owners(
        &self,
        tenant: TenantId,
        barcodes: &[String],
    ) -> StoreResult<Vec<(String, String, Option<String>)>>;
}

const PRODUCT_COLUMNS: &str = "id, sku, barcode, name, price_minor, tax_class, reorder_level_milli, \
                               category_id, cost_minor, wholesale_price_minor, created_at, updated_at, \
                               archived_at";

fn product_from_row<R: RowExt>(row: &R) -> sqlx::Result<Product>
where
    R::Database: Backend,
{
    let tax_class: String = row.field("tax_class")?;
    Ok(Product {
        id: ProductId::from_uuid(row.field("id")?),
        sku: row.field("sku")?,
        barcode: row.field("barcode")?,
        name: row.field("name")?,
        price_minor: row.field("price_minor")?,
        tax_class: parse_column(&tax_class, "tax class")?,
        reorder_level: row
            .field::<Option<i64>>("reorder_level_milli")?
            .map(Quantity::from_milli),
        category_id: row
            .field::<Option<uuid::Uuid>>("category_id")?
            .map(CategoryId::from_uuid),
        cost_minor: row.field("cost_minor")?,
        // Read apart, by `attach_packs`.
        packs: Vec::new(),
        wholesale_price_minor: row.field("wholesale_price_minor")?,
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        updated_at: UnixMillis::from_millis(row.field("updated_at")?),
        archived_at: row
            .field::<Option<i64>>("archived_at")?
            .map(UnixMillis::from_millis),
    })
}

pub(crate) async fn read_product<B: Backend>(
    connection: &mut Conn<B>,
    product: ProductId,
) -> sqlx::Result<Option<Product>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1");
    let row = query::<B>(&sql)
        .bind(product.as_uuid())
        .fetch_optional(&mut *connection)
        .await?;
    let mut found: Vec<Product> = row
        .as_ref()
        .map(product_from_row)
        .transpose()?
        .into_iter()
        .collect();
    attach_packs::<B>(connection, &mut found).await?;
    Ok(found.pop())
}

/// Fills in each product's packs, in their order.
pub(crate) async fn attach_packs<B: Backend>(
    connection: &mut Conn<B>,
    products: &mut [Product],
) -> sqlx::Result<()> {
    let mut index: HashMap<ProductId, usize> = HashMap::with_capacity(products.len());
    for (position, product) in products.iter().enumerate() {
        index.insert(product.id, position);
    }
    let ids: Vec<ProductId> = index.keys().copied().collect();
    for chunk in ids.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT product_id, name, units, barcode, price_minor, wholesale_price_minor \
             FROM product_packs \
             WHERE product_id IN ({}) ORDER BY product_id, position",
            placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for product in chunk {
            statement = statement.bind(product.as_uuid());
        }
        for row in statement.fetch_all(&mut *connection).await? {
            let product = ProductId::from_uuid(row.field("product_id")?);
            let units: i32 = row.field("units")?;
            if let Some(position) = index.get(&product) {
                products[*position].packs.push(Pack {
                    name: row.field("name")?,
                    units: u32::try_from(units).unwrap_or(0),
                    barcode: row.field("barcode")?,
                    price_minor: row.field("price_minor")?,
                    wholesale_price_minor: row.field("wholesale_price_minor")?,
                });
            }
        }
    }
    Ok(())
}

/// Replaces the packs of `product`. A pack barcode that another pack holds is `Conflict` on
/// `packs`; one that a product holds as its own barcode likewise.
async fn replace_packs<B: Backend>(
    connection: &mut Conn<B>,
    product: ProductId,
    packs: &[Pack],
) -> StoreResult<()> {
    query::<B>("DELETE FROM product_packs WHERE product_id = $1")
        .bind(product.as_uuid())
        .execute(&mut *connection)
        .await?;
    let barcodes: Vec<&str> = packs
        .iter()
        .filter_map(|pack| pack.barcode.as_deref())
        .collect();
    if !barcodes.is_empty() {
        let sql = format!(
            "SELECT id FROM products WHERE barcode IN ({}) LIMIT 1",
            placeholders(barcodes.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for barcode in &barcodes {
            statement = statement.bind(*barcode);
        }
        if statement
            .scalar_optional::<uuid::Uuid>(&mut *connection)
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict { field: "packs" });
        }
    }
    for (position, pack) in packs.iter().enumerate() {
        query::<B>(
            "INSERT INTO product_packs (product_id, position, name, units, barcode, price_minor, \
             wholesale_price_minor) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(product.as_uuid())
        .bind(i32::try_from(position).unwrap_or(i32::MAX))
        .bind(pack.name.as_str())
        .bind(i32::try_from(pack.units).unwrap_or(i32::MAX))
        .bind(pack.barcode.as_deref())
        .bind(pack.price_minor)
        .bind(pack.wholesale_price_minor)
        .execute(&mut *connection)
        .await
        .map_err(|error| StoreError::unique_as_conflict(error, "packs"))?;
    }
    Ok(())
}

/// A product's own barcode may not be a pack's: a scan must name one thing.
async fn check_barcode_not_a_packs<B: Backend>(
    connection: &mut Conn<B>,
    barcode: Option<&str>,
) -> StoreResult<()> {
    let Some(barcode) = barcode else {
        return Ok(());
    };
    let held: Option<uuid::Uuid> =
        query::<B>("SELECT product_id FROM product_packs WHERE barcode = $1 LIMIT 1")
            .bind(barcode)
            .scalar_optional(connection)
            .await?;
    match held {
        Some(_) => Err(StoreError::Conflict { field: "barcode" }),
        None => Ok(()),
    }
}

/// The product's row, locked until commit: concurrent edits of one product are applied one
/// after the other. `false` when it does not exist.
pub(crate) async fn lock_product<B: Backend>(
    connection: &mut Conn<B>,
    product: ProductId,
) -> sqlx::Result<bool> {
    let sql = format!("SELECT id FROM products WHERE id = $1{}", B::LOCK_ROWS);
    let found: Option<uuid::Uuid> = query::<B>(&sql)
        .bind(product.as_uuid())
        .scalar_optional(connection)
        .await?;
    Ok(found.is_some())
}

pub(crate) async fn check_product_exists<B: Backend>(
    connection: &mut Conn<B>,
    product: ProductId,
) -> StoreResult<()> {
    let found: Option<uuid::Uuid> = query::<B>("SELECT id FROM products WHERE id = $1")
        .bind(product.as_uuid())
        .scalar_optional(connection)
        .await?;
    found.map(|_| ()).ok_or(StoreError::UnknownProduct(product))
}

/// Those of `products` that exist.
pub(crate) async fn existing_products<B: Backend>(
    connection: &mut Conn<B>,
    products: &[ProductId],
) -> StoreResult<std::collections::HashSet<ProductId>> {
    let mut known = std::collections::HashSet::with_capacity(products.len());
    for chunk in products.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT id FROM products WHERE id IN ({})",
            placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for product in chunk {
            statement = statement.bind(product.as_uuid());
        }
        known.extend(
            statement
                .scalars::<uuid::Uuid>(connection)
                .await?
                .into_iter()
                .map(ProductId::from_uuid),
        );
    }
    Ok(known)
}

/// A unique violation on products names the field that clashed.
fn product_conflict(error: sqlx::Error) -> StoreError {
    let field = match &error {
        sqlx::Error::Database(database_error)
            if database_error.message().contains("barcode")
                || database_error
                    .constraint()
                    .is_some_and(|name| name.contains("barcode")) =>
        {
            "barcode"
        }
        _ => "sku",
    };
    StoreError::unique_as_conflict(error, field)
}

async fn log_product<B: Backend>(connection: &mut Conn<B>, product: ProductId) -> StoreResult<()> {
    if let Some(current) = read_product::<B>(connection, product).await? {
        log_change::<B>(
            connection,
            "product",
            current.id.as_uuid(),
            None,
            &current,
            current.updated_at,
        )
        .await?;
    }
    Ok(())
}

/// Keeps the cost history a sale is costed from: `cost` is the unit cost from `now` on.
pub(crate) async fn record_cost<B: Backend>(
    connection: &mut Conn<B>,
    product: ProductId,
    cost: i64,
    now: UnixMillis,
) -> StoreResult<()> {
    query::<B>(
        "INSERT INTO product_costs (product_id, effective_at, cost_minor) VALUES ($1, $2, $3) \
         ON CONFLICT (product_id, effective_at) DO UPDATE SET cost_minor = excluded.cost_minor",
    )
    .bind(product.as_uuid())
    .bind(now.as_millis())
    .bind(cost)
    .execute(connection)
    .await?;
    Ok(())
}

/// The cost history of each of `products` that has one.
pub(crate) async fn cost_histories<B: Backend>(
    connection: &mut Conn<B>,
    products: &[ProductId],
) -> StoreResult<HashMap<ProductId, CostHistory>> {
    let mut entries: HashMap<ProductId, Vec<(UnixMillis, i64)>> = HashMap::new();
    for chunk in products.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT product_id, effective_at, cost_minor FROM product_costs WHERE product_id IN ({})",
            placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for product in chunk {
            statement = statement.bind(product.as_uuid());
        }
        for row in statement.fetch_all(connection).await? {
            entries
                .entry(ProductId::from_uuid(row.field("product_id")?))
                .or_default()
                .push((
                    UnixMillis::from_millis(row.field("effective_at")?),
                    row.field("cost_minor")?,
                ));
        }
    }
    Ok(entries
        .into_iter()
        .map(|(product, entries)| (product, CostHistory::new(entries)))
        .collect())
}

async fn insert_product<B: Backend>(
    connection: &mut Conn<B>,
    product: &NewProduct,
) -> StoreResult<()> {
    if let Some(category) = product.category_id {
        check_category_usable::<B>(connection, category).await?;
    }
    check_barcode_not_a_packs::<B>(connection, product.barcode.as_deref()).await?;
    query::<B>(
        "INSERT INTO products (id, sku, barcode, name, search_name, price_minor, tax_class, \
         reorder_level_milli, category_id, cost_minor, wholesale_price_minor, created_at, updated_at, \
         archived_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $11, $12, $9, $9, NULL)",
    )
    .bind(product.id.as_uuid())
    .bind(product.sku.as_str())
    .bind(product.barcode.as_deref())
    .bind(product.name.as_str())
    .bind(product.name.as_str().to_lowercase())
    .bind(product.price_minor)
    .bind(product.tax_class.as_str())
    .bind(product.reorder_level.map(Quantity::milli))
    .bind(product.now.as_millis())
    .bind(product.category_id.map(|category| category.as_uuid()))
    .bind(product.cost_minor)
    .bind(product.wholesale_price_minor)
    .execute(connection)
    .await
    .map_err(product_conflict)?;
    if let Some(cost) = product.cost_minor {
        record_cost::<B>(connection, product.id, cost, product.now).await?;
    }
    if !product.packs.is_empty() {
        replace_packs::<B>(connection, product.id, &product.packs).await?;
    }
    log_product::<B>(connection, product.id).await?;
    if product.reorder_level.is_some() {
        follow_reorder_levels::<B>(connection, &[product.id], product.now).await?;
    }
    Ok(())
}

pub(crate) async fn apply_product_change<B: Backend>(
    connection: &mut Conn<B>,
    product: ProductId,
    change: &ProductChange,
    now: UnixMillis,
) -> StoreResult<Option<Product>> {
    if let Some(Some(category)) = change.category_id {
        check_category_usable::<B>(connection, category).await?;
    }
    if let Some(Some(barcode)) = &change.barcode {
        check_barcode_not_a_packs::<B>(connection, Some(barcode)).await?;
    }
    // `$N IS NOT NULL`-style flags keep "absent" and "clear" apart for optional fields.
    let updated = query::<B>(
        "UPDATE products SET sku = COALESCE($2, sku), \
         barcode = CASE WHEN $4 THEN $3 ELSE barcode END, \
         name = COALESCE($5, name), search_name = COALESCE($6, search_name), \
         price_minor = COALESCE($7, price_minor), tax_class = COALESCE($8, tax_class), \
         reorder_level_milli = CASE WHEN $10 THEN $9 ELSE reorder_level_milli END, \
         category_id = CASE WHEN $13 THEN $12 ELSE category_id END, \
         cost_minor = COALESCE($14, cost_minor), \
         wholesale_price_minor = CASE WHEN $16 THEN $15 ELSE wholesale_price_minor END, \
         updated_at = $11 WHERE id = $1",
    )
    .bind(product.as_uuid())
    .bind(change.sku.as_deref())
    .bind(
        change
            .barcode
            .as_ref()
            .and_then(|barcode| barcode.as_deref()),
    )
    .bind(change.barcode.is_some())
    .bind(change.name.as_ref().map(|name| name.as_str()))
    .bind(
        change
            .name
            .as_ref()
            .map(|name| name.as_str().to_lowercase()),
    )
    .bind(change.price_minor)
    .bind(change.tax_class.map(TaxClass::as_str))
    .bind(
        change
            .reorder_level
            .and_then(|level| level.map(Quantity::milli)),
    )
    .bind(change.reorder_level.is_some())
    .bind(now.as_millis())
    .bind(
        change
            .category_id
            .and_then(|category| category.map(|category| category.as_uuid())),
    )
    .bind(change.category_id.is_some())
    .bind(change.cost_minor)
    .bind(change.wholesale_price_minor.flatten())
    .bind(change.wholesale_price_minor.is_some())
    .execute(connection)
    .await
    .map_err(product_conflict)?;
    if updated == 0 {
        return Ok(None);
    }
    if let Some(cost) = change.cost_minor {
        record_cost::<B>(connection, product, cost, now).await?;
    }
    if let Some(packs) = &change.packs {
        replace_packs::<B>(connection, product, packs).await?;
    }
    log_product::<B>(connection, product).await?;
    if change.reorder_level.is_some() {
        follow_reorder_levels::<B>(connection, &[product], now).await?;
    }
    Ok(read_product::<B>(connection, product).await?)
}

pub(crate) async fn by_ids<B: Backend>(
    connection: &mut Conn<B>,
    products: &[ProductId],
) -> StoreResult<Vec<Product>> {
    let mut found = HashMap::with_capacity(products.len());
    for chunk in products.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id IN ({})",
            placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for product in chunk {
            statement = statement.bind(product.as_uuid());
        }
        for row in statement.fetch_all(&mut *connection).await? {
            let product = product_from_row(&row)?;
            found.insert(product.id, product);
        }
    }
    let mut ordered: Vec<Product> = products
        .iter()
        .filter_map(|product| found.remove(product))
        .collect();
    attach_packs::<B>(connection, &mut ordered).await?;
    Ok(ordered)
}

async fn list<B: Backend>(
    connection: &mut Conn<B>,
    wanted: &ProductQuery,
) -> StoreResult<Vec<Product>> {
    let search = wanted
        .search
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty());
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE ($1 OR archived_at IS NULL) AND ($2 IS NULL OR id > $2) \
         AND ($3 IS NULL OR barcode = $3 OR sku = $4 OR search_name LIKE $5 ESCAPE '\\') ORDER BY id LIMIT $6"
    );
    let rows = query::<B>(&sql)
        .bind(wanted.include_archived)
        .bind(wanted.after.map(|after| after.as_uuid()))
        .bind(search)
        .bind(search.map(str::to_uppercase))
        .bind(search.map(contains_pattern))
        .bind(i64::from(wanted.limit))
        .fetch_all(&mut *connection)
        .await?;
    let mut products: Vec<Product> = rows
        .iter()
        .map(product_from_row)
        .collect::<Result<_, _>>()?;
    attach_packs::<B>(connection, &mut products).await?;
    Ok(products)
}

/// Creates or (matching on SKU) updates `rows`, set-based: a few multi-row statements per
/// chunk however many rows. An update changes name and price, and the optional fields whose
/// column the file has; a new product gets them all. Every product written is logged for
/// stations.
pub(crate) async fn upsert_products<B: Backend>(
    connection: &mut Conn<B>,
    rows: &[NewProduct],
    columns: ImportColumns,
    now: UnixMillis,
) -> StoreResult<ImportCounts> {
    let mut counts = ImportCounts::default();
    let optional = [
        (columns.barcode, "barcode"),
        (columns.tax_class, "tax_class"),
        (columns.reorder_level, "reorder_level_milli"),
    ];
    let mut updates = vec![
        "name = excluded.name".to_owned(),
        "search_name = excluded.search_name".to_owned(),
        "price_minor = excluded.price_minor".to_owned(),
        "updated_at = excluded.updated_at".to_owned(),
    ];
    updates.extend(
        optional
            .iter()
            .filter(|(present, _)| *present)
            .map(|(_, column)| format!("{column} = excluded.{column}")),
    );
    let updates = updates.join(", ");
    for chunk in rows.chunks(rows_per_statement(10)) {
        let skus: Vec<&str> = chunk.iter().map(|row| row.sku.as_str()).collect();
        let existing = skus_present::<B>(connection, &skus).await?;
        counts.updated += existing.len();
        counts.created += chunk.len() - existing.len();
        let sql = format!(
            "INSERT INTO products (id, sku, barcode, name, search_name, price_minor, tax_class, \
             reorder_level_milli, created_at, updated_at, archived_at) VALUES {} \
             ON CONFLICT (sku) DO UPDATE SET {updates} RETURNING {PRODUCT_COLUMNS}",
            crate::sql::values("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)", chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for row in chunk {
            statement = statement
                .bind(row.id.as_uuid())
                .bind(row.sku.as_str())
                .bind(row.barcode.as_deref())
                .bind(row.name.as_str())
                .bind(row.name.as_str().to_lowercase())
                .bind(row.price_minor)
                .bind(row.tax_class.as_str())
                .bind(row.reorder_level.map(Quantity::milli))
                .bind(now.as_millis())
                .bind(now.as_millis());
        }
        // What each row now holds, new or updated, is what stations pull.
        let written = statement
            .fetch_all(&mut *connection)
            .await
            .map_err(product_conflict)?;
        let mut products: Vec<Product> = written
            .iter()
            .map(product_from_row)
            .collect::<Result<_, _>>()?;
        // An updated product keeps its packs, and the tills must keep them too.
        attach_packs::<B>(connection, &mut products).await?;
        let mut changes = Vec::with_capacity(written.len());
        let mut ids = Vec::with_capacity(written.len());
        for product in &products {
            ids.push(product.id);
            changes.push(super::changes::pending_change(
                "product",
                product.id.as_uuid(),
                None,
                product,
                product.updated_at,
            )?);
        }
        super::changes::log_changes::<B>(connection, &changes).await?;
        // A new product without the column has no reorder level, and needs no level rows.
        if columns.reorder_level {
            follow_reorder_levels::<B>(connection, &ids, now).await?;
        }
    }
    Ok(counts)
}

/// Those of `skus` that name a product.
async fn skus_present<B: Backend>(
    connection: &mut Conn<B>,
    skus: &[&str],
) -> StoreResult<std::collections::HashSet<String>> {
    let sql = format!(
        "SELECT sku FROM products WHERE sku IN ({})",
        placeholders(skus.len(), 1)
    );
    let mut statement = query::<B>(&sql);
    for sku in skus {
        statement = statement.bind(*sku);
    }
    Ok(statement
        .scalars::<String>(connection)
        .await?
        .into_iter()
        .collect())
}

#[async_trait]
impl<S: TenantAccess> CatalogueStore for S {
    async fn create_product(&self, tenant: TenantId, product: NewProduct) -> StoreResult<Product> {
        with_tenant(self, tenant, async |connection| {
            insert_product::<S::Db>(connection, &product).await?;
            read_product::<S::Db>(connection, product.id)
                .await?
                .ok_or(StoreError::UnknownProduct(product.id))
        })
        .await
    }

    async fn get_product(
        &self,
        tenant: TenantId,
        product: ProductId,
    ) -> StoreResult<Option<Product>> {
        with_tenant(self, tenant, async |connection| {
            Ok(read_product::<S::Db>(connection, product).await?)
        })
        .await
    }

    async fn product_by_code(&self, tenant: TenantId, code: &str) -> StoreResult<Option<Product>> {
        with_tenant(self, tenant, async |connection| {
            // The SKU first: a barcode that is also another product's SKU names that product.
            let sql = format!(
                "SELECT {PRODUCT_COLUMNS} FROM products WHERE sku = $1 OR barcode = $1 \
                 ORDER BY CASE WHEN sku = $1 THEN 0 ELSE 1 END LIMIT 1"
            );
            let row = query::<S::Db>(&sql)
                .bind(code)
                .fetch_optional(&mut *connection)
                .await?;
            let mut found: Vec<Product> = row
                .as_ref()
                .map(product_from_row)
                .transpose()?
                .into_iter()
                .collect();
            attach_packs::<S::Db>(connection, &mut found).await?;
            Ok(found.pop())
        })
        .await
    }

    async fn products_by_ids(
        &self,
        tenant: TenantId,
        products: &[ProductId],
    ) -> StoreResult<Vec<Product>> {
        with_tenant(self, tenant, async |connection| {
            by_ids::<S::Db>(connection, products).await
        })
        .await
    }

    async fn update_product(
        &self,
        tenant: TenantId,
        product: ProductId,
        change: ProductChange,
        now: UnixMillis,
    ) -> StoreResult<Option<Product>> {
        with_tenant(self, tenant, async |connection| {
            apply_product_change::<S::Db>(connection, product, &change, now).await
        })
        .await
    }

    async fn archive_product(
        &self,
        tenant: TenantId,
        product: ProductId,
        now: UnixMillis,
    ) -> StoreResult<Option<Product>> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "UPDATE products SET archived_at = COALESCE(archived_at, $2), updated_at = $2 WHERE id = $1",
            )
            .bind(product.as_uuid())
            .bind(now.as_millis())
            .execute(connection)
            .await?;
            log_product::<S::Db>(connection, product).await?;
            Ok(read_product::<S::Db>(connection, product).await?)
        })
        .await
    }

    async fn list_products(
        &self,
        tenant: TenantId,
        wanted: &ProductQuery,
    ) -> StoreResult<Vec<Product>> {
        with_tenant(self, tenant, async |connection| {
            list::<S::Db>(connection, wanted).await
        })
        .await
    }

    async fn import_products(
        &self,
        tenant: TenantId,
        rows: Vec<NewProduct>,
        columns: ImportColumns,
        now: UnixMillis,
    ) -> StoreResult<ImportCounts> {
        // One transaction: either every row lands or none does.
        with_tenant(self, tenant, async |connection| {
            upsert_products::<S::Db>(connection, &rows, columns, now).await
        })
        .await
    }

    async fn barcode_owners(
        &self,
        tenant: TenantId,
        barcodes: &[String],
    ) -> StoreResult<Vec<(String, String, Option<String>)>> {
        with_tenant(self, tenant, async |connection| {
            let mut owners = Vec::new();
            for chunk in barcodes.chunks(rows_per_statement(2)) {
                let marks = placeholders(chunk.len(), 1);
                let sql = format!(
                    "SELECT barcode, sku, NULL AS pack FROM products WHERE barcode IN ({marks}) \
                     UNION ALL SELECT product_packs.barcode, products.sku, product_packs.name \
                     FROM product_packs JOIN products ON products.id = product_packs.product_id \
                     WHERE product_packs.barcode IN ({marks})"
                );
                let mut statement = query::<S::Db>(&sql);
                for barcode in chunk {
                    statement = statement.bind(barcode.as_str());
                }
                for row in statement.fetch_all(&mut *connection).await? {
                    owners.push((row.field("barcode")?, row.field("sku")?, row.field("pack")?));
                }
            }
            Ok(owners)
        })
        .await
    }
}
