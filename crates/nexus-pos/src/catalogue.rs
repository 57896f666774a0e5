//! The catalogue as the till uses it: products in indexed columns (kept in step with the
//! replica) for scans and name searches, and edits of a product's catalogue fields.

use nexus_domain::pack::PackSold;
use nexus_domain::{Clock, TaxClass, UserId};
use nexus_sync::{CatalogueFields, CategoryRecord, ProductEditOp, ProductRecord};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::till::parse_uuid;
use crate::{Station, StationError, StationResult};

/// A product as the till finds it (by barcode, SKU or name). Found by a pack's barcode, it is
/// that pack: `price_minor` is the pack's price and a quantity of it counts packs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TillProduct {
    pub id: Uuid,
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub price_minor: i64,
    pub tax_class: TaxClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackSold>,
    /// Its (or its pack's) price on the wholesale list; the retail price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wholesale_price_minor: Option<i64>,
}

impl TillProduct {
    /// The name as the cart shows it: "Malta Guinness", or "Malta Guinness, carton (24)".
    pub fn shown_name(&self) -> String {
        match &self.pack {
            None => self.name.clone(),
            Some(pack) => format!("{}, {} ({})", self.name, pack.name, pack.units),
        }
    }

    /// Its price on `list`.
    pub fn price_on(&self, list: nexus_domain::PriceList) -> i64 {
        list.price(self.price_minor, self.wholesale_price_minor)
    }

    /// The base units `quantity` of it moves.
    pub fn base_quantity(&self, quantity: nexus_domain::Quantity) -> nexus_domain::Quantity {
        nexus_domain::pack::base_quantity(quantity, self.pack.as_ref()).unwrap_or(quantity)
    }
}

pub(crate) const PRODUCT_COLUMNS: &str =
    "id, sku, barcode, name, price_minor, tax_class, wholesale_price_minor";

impl Station {
    /// The product with this barcode or SKU (barcode first: that is what a scanner types), or
    /// the pack with this barcode.
    pub async fn find_product(&self, code: &str) -> StationResult<Option<TillProduct>> {
        let code = code.trim();
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE archived = 0 AND barcode = $1 \
             UNION ALL SELECT {PRODUCT_COLUMNS} FROM products WHERE archived = 0 AND sku = $2 LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(code)
            .bind(code.to_uppercase())
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = row {
            return product_from_row(&row).map(Some);
        }
        if code.is_empty() {
            return Ok(None);
        }
        let pack = sqlx::query(
            "SELECT products.id, products.sku, products.barcode, products.name, products.tax_class, \
             product_packs.name AS pack_name, product_packs.units, product_packs.price_minor, \
             product_packs.wholesale_price_minor \
             FROM product_packs JOIN products ON products.id = product_packs.product_id \
             WHERE product_packs.barcode = $1 AND products.archived = 0 LIMIT 1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        pack.as_ref().map(pack_from_row).transpose()
    }

    /// The product whose barcode or SKU is `query`, then those with every word of `query` at
    /// the start of a word of their name, SKU or barcode, best first (see [`crate::search`]).
    pub async fn search_products(
        &self,
        query: &str,
        limit: u32,
    ) -> StationResult<Vec<TillProduct>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut found: Vec<TillProduct> = self.find_product(query).await?.into_iter().collect();
        let index = self.search_index().await?;
        for product in index.search(query, limit) {
            if !found.iter().any(|known| known.id == product.id) {
                found.push(product);
            }
        }
        found.truncate(limit);
        Ok(found)
    }

    /// The categories a cashier browses by, by name (archived ones left out), each with how
    /// many products on sale it holds; empty ones are left out too.
    pub async fn categories(&self) -> StationResult<Vec<(CategoryRecord, i64)>> {
        let rows = sqlx::query(
            "SELECT replica.payload, COUNT(products.id) AS products FROM replica \
             JOIN products ON products.category_id = replica.entity_id AND products.archived = 0 \
             WHERE replica.entity = 'category' GROUP BY replica.entity_id, replica.payload",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut categories = Vec::with_capacity(rows.len());
        for row in &rows {
            let payload: String = row.try_get("payload")?;
            let category: CategoryRecord = serde_json::from_str(&payload)
                .map_err(|error| StationError::unreadable_record("category", error))?;
            if category.archived_at.is_none() {
                categories.push((category, row.try_get("products")?));
            }
        }
        categories.sort_by_key(|(category, _)| name_key(&category.name));
        Ok(categories)
    }

    /// The products on sale in a category, by name.
    pub async fn products_in_category(
        &self,
        category: Uuid,
        limit: u32,
    ) -> StationResult<Vec<TillProduct>> {
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE archived = 0 AND category_id = $1 \
             ORDER BY name_key LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(category.to_string())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(product_from_row).collect()
    }

    /// A product's name here, archived or not.
    pub async fn product_name(&self, id: Uuid) -> StationResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM products WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Every product on sale at this station, by SKU.
    pub async fn search_products_all(&self) -> StationResult<Vec<TillProduct>> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE archived = 0 ORDER BY sku");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(product_from_row).collect()
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
}

/// Keeps the till's product columns in step with a pulled (or, on upgrade, stored) product.
pub(crate) async fn upsert_products(
    connection: &mut sqlx::SqliteConnection,
    products: &[&ProductRecord],
) -> StationResult<()> {
    if products.is_empty() {
        return Ok(());
    }
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO products (id, sku, barcode, name, name_key, price_minor, tax_class, archived, \
         wholesale_price_minor, category_id) ",
    );
    insert.push_values(products, |mut row, product| {
        row.push_bind(product.id.to_string())
            .push_bind(product.sku.clone())
            .push_bind(product.barcode.clone())
            .push_bind(product.name.clone())
            .push_bind(name_key(&product.name))
            .push_bind(product.price_minor)
            .push_bind(product.tax_class.as_str())
            .push_bind(product.archived_at.is_some())
            .push_bind(product.wholesale_price_minor)
            .push_bind(product.category_id.map(|category| category.to_string()));
    });
    insert.push(
        " ON CONFLICT (id) DO UPDATE SET sku = excluded.sku, barcode = excluded.barcode, \
         name = excluded.name, name_key = excluded.name_key, price_minor = excluded.price_minor, \
         tax_class = excluded.tax_class, archived = excluded.archived, \
         wholesale_price_minor = excluded.wholesale_price_minor, category_id = excluded.category_id",
    );
    insert.build().execute(&mut *connection).await?;
    let mut stale = sqlx::QueryBuilder::new("DELETE FROM product_packs WHERE product_id IN (");
    let mut ids = stale.separated(", ");
    for product in products {
        ids.push_bind(product.id.to_string());
    }
    stale.push(")");
    stale.build().execute(&mut *connection).await?;
    let packs: Vec<(String, usize, &nexus_domain::pack::Pack)> = products
        .iter()
        .flat_map(|product| {
            product
                .packs
                .iter()
                .enumerate()
                .map(move |(position, pack)| (product.id.to_string(), position, pack))
        })
        .collect();
    if !packs.is_empty() {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO product_packs (product_id, position, name, units, barcode, price_minor, \
             wholesale_price_minor) ",
        );
        insert.push_values(&packs, |mut row, (product, position, pack)| {
            row.push_bind(product.clone())
                .push_bind(i64::try_from(*position).unwrap_or(0))
                .push_bind(pack.name.clone())
                .push_bind(i64::from(pack.units))
                .push_bind(pack.barcode.clone())
                .push_bind(pack.price_minor)
                .push_bind(pack.wholesale_price_minor);
        });
        insert.build().execute(&mut *connection).await?;
    }
    // In the same transaction: search sees the new rows as soon as they are committed, in this
    // process or another one on the same station.
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, '1') ON CONFLICT (key) \
         DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
    )
    .bind(crate::search::CATALOGUE_VERSION_KEY)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

pub(crate) fn product_from_row(row: &sqlx::sqlite::SqliteRow) -> StationResult<TillProduct> {
    let tax_class: String = row.try_get("tax_class")?;
    Ok(TillProduct {
        id: parse_uuid(&row.try_get::<String, _>("id")?, "product id")?,
        sku: row.try_get("sku")?,
        barcode: row.try_get("barcode")?,
        name: row.try_get("name")?,
        price_minor: row.try_get("price_minor")?,
        tax_class: tax_class
            .parse()
            .map_err(|_| StationError::Damaged(format!("a stored tax class {tax_class:?}")))?,
        pack: None,
        wholesale_price_minor: row.try_get("wholesale_price_minor")?,
    })
}

/// A pack found by its barcode, as the product sold by that pack.
fn pack_from_row(row: &sqlx::sqlite::SqliteRow) -> StationResult<TillProduct> {
    let tax_class: String = row.try_get("tax_class")?;
    let units: i64 = row.try_get("units")?;
    Ok(TillProduct {
        id: parse_uuid(&row.try_get::<String, _>("id")?, "product id")?,
        sku: row.try_get("sku")?,
        barcode: row.try_get("barcode")?,
        name: row.try_get("name")?,
        price_minor: row.try_get("price_minor")?,
        tax_class: tax_class
            .parse()
            .map_err(|_| StationError::Damaged(format!("a stored tax class {tax_class:?}")))?,
        pack: Some(PackSold {
            name: row.try_get("pack_name")?,
            units: u32::try_from(units)
                .map_err(|_| StationError::Damaged(format!("a stored pack of {units} units")))?,
        }),
        wholesale_price_minor: row.try_get("wholesale_price_minor")?,
    })
}

/// A search key for names: lower case, so a prefix search can use the index.
pub(crate) fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}
