//! The catalogue: products, their search, and the CSV export (imports are in `imports`).

use nexus_domain::limits::{MAX_PRICE_MINOR, MAX_QUANTITY_MILLI};
use nexus_domain::{CategoryId, NonEmptyText, Permission, ProductId, Quantity, TaxClass};
use nexus_store::{NewProduct, Pack, Product, ProductChange, ProductQuery};

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::events::Topic;
use crate::state::AppState;

pub const NAME_MAX: usize = 200;
const CODE_MAX: usize = 64;

/// A spreadsheet would run a cell starting like this as a formula (CSV injection).
pub fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// SKUs are stored uppercase, so "abc-1" and "ABC-1" are one product.
pub fn parse_sku(text: &str) -> Result<String, String> {
    let sku = text.trim().to_uppercase();
    if sku.is_empty() || sku.chars().count() > CODE_MAX {
        return Err(format!("sku must be 1 to {CODE_MAX} characters"));
    }
    if looks_like_formula(&sku)
        || !sku
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_./".contains(character))
    {
        return Err(
            "sku may hold letters, digits and - _ . / only, and must not start with -".to_owned(),
        );
    }
    Ok(sku)
}

pub fn parse_barcode(text: &str) -> Result<Option<String>, String> {
    let barcode = text.trim();
    if barcode.is_empty() {
        return Ok(None);
    }
    if barcode.len() > CODE_MAX
        || !barcode
            .chars()
            .all(|character| character.is_ascii_alphanumeric())
    {
        return Err(format!("barcode must be 1 to {CODE_MAX} letters or digits"));
    }
    Ok(Some(barcode.to_owned()))
}

pub fn parse_name(text: &str) -> Result<NonEmptyText, String> {
    NonEmptyText::parse("name", text, NAME_MAX).map_err(|error| error.to_string())
}

pub fn check_price(price_minor: i64) -> Result<i64, String> {
    if !(0..=MAX_PRICE_MINOR).contains(&price_minor) {
        return Err(format!(
            "price must be from 0 to {} minor units",
            MAX_PRICE_MINOR
        ));
    }
    Ok(price_minor)
}

pub fn check_reorder_level(level: Quantity) -> Result<Quantity, String> {
    if level.is_negative() || level.milli() > MAX_QUANTITY_MILLI {
        return Err("reorder_level must be zero or more".to_owned());
    }
    Ok(level)
}

pub fn field_error(field: &'static str) -> impl Fn(String) -> ApiError {
    move |message| ApiError::validation(message).with_field(field)
}

/// A new product as typed.
pub struct ProductInput {
    pub sku: String,
    pub name: String,
    pub price_minor: i64,
    pub barcode: Option<String>,
    pub tax_class: Option<TaxClass>,
    pub reorder_level: Option<Quantity>,
    pub category_id: Option<CategoryId>,
    pub cost_minor: Option<i64>,
    pub packs: Vec<Pack>,
    pub wholesale_price_minor: Option<i64>,
}

fn check_packs(packs: &[Pack]) -> ApiResult<Vec<Pack>> {
    nexus_domain::pack::check_packs(packs, MAX_PRICE_MINOR)
        .map_err(|message| ApiError::validation(message).with_field("packs"))
}

/// A barcode that another product or pack holds: a scan must name one thing.
fn barcode_taken(error: ApiError) -> ApiError {
    match (error.code(), error.field()) {
        ("conflict", Some("packs")) => ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "conflict",
            "a pack's barcode is already another product's or another pack's",
        )
        .with_field("packs"),
        ("conflict", Some("barcode")) => ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "conflict",
            "that barcode is already another product's or a pack's",
        )
        .with_field("barcode"),
        _ => error,
    }
}

/// A product may go only in a category of the tenant that is not archived.
async fn check_category(
    state: &AppState,
    auth: &Authenticated,
    category: Option<CategoryId>,
) -> ApiResult<()> {
    let Some(category) = category else {
        return Ok(());
    };
    match state.store.get_category(auth.tenant, category).await? {
        Some(found) if found.archived_at.is_none() => Ok(()),
        Some(found) => Err(ApiError::validation(format!(
            "the category {:?} is archived; bring it back or choose another",
            found.name
        ))
        .with_field("category_id")),
        None => Err(
            ApiError::validation(format!("category {category} does not exist"))
                .with_field("category_id"),
        ),
    }
}

fn check_cost(cost_minor: i64) -> Result<i64, String> {
    check_price(cost_minor)
        .map_err(|_| format!("cost must be from 0 to {MAX_PRICE_MINOR} minor units"))
}

/// The product as `auth` may see it: what it costs the shop is for those who see the reports.
pub fn shown_to(auth: &Authenticated, mut product: Product) -> Product {
    if !auth.user.role.allows(Permission::ViewReports) {
        product.cost_minor = None;
    }
    product
}

pub async fn create_product(
    state: &AppState,
    auth: &Authenticated,
    input: ProductInput,
) -> ApiResult<Product> {
    let now = state.clock.now();
    let product = NewProduct {
        id: ProductId::generate(now),
        sku: parse_sku(&input.sku).map_err(field_error("sku"))?,
        barcode: parse_barcode(input.barcode.as_deref().unwrap_or(""))
            .map_err(field_error("barcode"))?,
        name: parse_name(&input.name).map_err(field_error("name"))?,
        price_minor: check_price(input.price_minor).map_err(field_error("price_minor"))?,
        tax_class: input.tax_class.unwrap_or(TaxClass::Standard),
        reorder_level: input
            .reorder_level
            .map(check_reorder_level)
            .transpose()
            .map_err(field_error("reorder_level"))?,
        category_id: input.category_id,
        cost_minor: input
            .cost_minor
            .map(check_cost)
            .transpose()
            .map_err(field_error("cost_minor"))?,
        packs: check_packs(&input.packs)?,
        wholesale_price_minor: input
            .wholesale_price_minor
            .map(check_price)
            .transpose()
            .map_err(field_error("wholesale_price_minor"))?,
        now,
    };
    check_category(state, auth, product.category_id).await?;
    let created = state
        .store
        .create_product(auth.tenant, product)
        .await
        .map_err(|error| barcode_taken(error.into()))?;
    state.events.publish(auth.tenant, Topic::Catalogue).await;
    Ok(created)
}

pub async fn product(state: &AppState, auth: &Authenticated, id: ProductId) -> ApiResult<Product> {
    state
        .store
        .get_product(auth.tenant, id)
        .await?
        .map(|product| shown_to(auth, product))
        .ok_or_else(|| ApiError::not_found("product"))
}

/// The product a SKU or barcode names, as someone types it at a stock form; archived
/// products are not offered.
pub async fn product_by_code(
    state: &AppState,
    auth: &Authenticated,
    code: &str,
) -> ApiResult<Option<Product>> {
    let code = code.trim();
    if code.is_empty() || code.chars().count() > 100 {
        return Ok(None);
    }
    Ok(state
        .store
        .product_by_code(auth.tenant, code)
        .await?
        .filter(|product| product.archived_at.is_none()))
}

/// A page of the catalogue.
pub struct ProductPage {
    pub items: Vec<Product>,
    /// Where the next page starts; `None` on the last page.
    pub next_after: Option<ProductId>,
}

pub async fn list_products(
    state: &AppState,
    auth: &Authenticated,
    search: Option<String>,
    after: Option<ProductId>,
    limit: Option<u32>,
    include_archived: bool,
) -> ApiResult<ProductPage> {
    let limit = limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 500").with_field("limit"));
    }
    let search = search
        .map(|text| nexus_domain::values::search_text("q", &text, NAME_MAX))
        .transpose()?;
    let items = state
        .store
        .list_products(
            auth.tenant,
            &ProductQuery {
                search,
                after,
                limit,
                include_archived,
            },
        )
        .await?;
    let next_after = if items.len() == limit as usize {
        items.last().map(|product| product.id)
    } else {
        None
    };
    let items = items
        .into_iter()
        .map(|product| shown_to(auth, product))
        .collect();
    Ok(ProductPage { items, next_after })
}

/// A change as typed; `Some(None)` clears barcode or reorder level.
#[derive(Default)]
pub struct ProductEdit {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub price_minor: Option<i64>,
    pub barcode: Option<Option<String>>,
    pub tax_class: Option<TaxClass>,
    pub reorder_level: Option<Option<Quantity>>,
    /// `Some(None)` takes the product out of its category.
    pub category_id: Option<Option<CategoryId>>,
    pub cost_minor: Option<i64>,
    /// Replaces every pack; an empty list removes them.
    pub packs: Option<Vec<Pack>>,
    /// `Some(None)`: sold at the retail price on the wholesale list too.
    pub wholesale_price_minor: Option<Option<i64>>,
}

pub async fn update_product(
    state: &AppState,
    auth: &Authenticated,
    id: ProductId,
    edit: ProductEdit,
) -> ApiResult<Product> {
    // Another tenant's product is not found, whatever else the request says.
    product(state, auth, id).await?;
    let change = ProductChange {
        sku: edit
            .sku
            .as_deref()
            .map(parse_sku)
            .transpose()
            .map_err(field_error("sku"))?,
        barcode: edit
            .barcode
            .map(|barcode| parse_barcode(barcode.as_deref().unwrap_or("")))
            .transpose()
            .map_err(field_error("barcode"))?,
        name: edit
            .name
            .as_deref()
            .map(parse_name)
            .transpose()
            .map_err(field_error("name"))?,
        price_minor: edit
            .price_minor
            .map(check_price)
            .transpose()
            .map_err(field_error("price_minor"))?,
        tax_class: edit.tax_class,
        reorder_level: edit
            .reorder_level
            .map(|level| level.map(check_reorder_level).transpose())
            .transpose()
            .map_err(field_error("reorder_level"))?,
        category_id: edit.category_id,
        cost_minor: edit
            .cost_minor
            .map(check_cost)
            .transpose()
            .map_err(field_error("cost_minor"))?,
        packs: edit.packs.as_deref().map(check_packs).transpose()?,
        wholesale_price_minor: edit
            .wholesale_price_minor
            .map(|price| price.map(check_price).transpose())
            .transpose()
            .map_err(field_error("wholesale_price_minor"))?,
    };
    let nothing = change.sku.is_none()
        && change.barcode.is_none()
        && change.name.is_none()
        && change.price_minor.is_none()
        && change.tax_class.is_none()
        && change.reorder_level.is_none()
        && change.category_id.is_none()
        && change.cost_minor.is_none()
        && change.packs.is_none()
        && change.wholesale_price_minor.is_none();
    if nothing {
        return Err(ApiError::validation("nothing to change"));
    }
    check_category(state, auth, change.category_id.flatten()).await?;
    let updated = state
        .store
        .update_product(auth.tenant, id, change, state.clock.now())
        .await
        .map_err(|error| barcode_taken(error.into()))?
        .ok_or_else(|| ApiError::not_found("product"))?;
    state.events.publish(auth.tenant, Topic::Catalogue).await;
    Ok(updated)
}

/// Out of the lists; its history stays. A till that still sells it offline is recorded as it
/// happened.
pub async fn archive_product(
    state: &AppState,
    auth: &Authenticated,
    id: ProductId,
) -> ApiResult<Product> {
    let archived = state
        .store
        .archive_product(auth.tenant, id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    state.events.publish(auth.tenant, Topic::Catalogue).await;
    Ok(archived)
}

/// Makes a cell safe to open in a spreadsheet: a leading formula character is quoted away.
pub fn spreadsheet_safe(text: &str) -> String {
    if looks_like_formula(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The catalogue as CSV, in the import's format.
pub async fn export_csv(state: &AppState, auth: &Authenticated) -> ApiResult<Vec<u8>> {
    let settings = state.store.settings(auth.tenant).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |error: csv::Error| ApiError::internal(format!("writing CSV: {error}"));
    writer
        .write_record(crate::services::imports::COLUMNS)
        .map_err(failed)?;
    let mut after = None;
    loop {
        let page = state
            .store
            .list_products(
                auth.tenant,
                &ProductQuery {
                    search: None,
                    after,
                    limit: 1000,
                    include_archived: false,
                },
            )
            .await?;
        for product in &page {
            let reorder = product
                .reorder_level
                .map(|level| level.to_string())
                .unwrap_or_default();
            writer
                .write_record([
                    spreadsheet_safe(&product.sku),
                    spreadsheet_safe(&product.name),
                    settings.currency.format_minor(product.price_minor),
                    spreadsheet_safe(product.barcode.as_deref().unwrap_or("")),
                    product.tax_class.as_str().to_owned(),
                    reorder,
                ])
                .map_err(failed)?;
        }
        match page.last() {
            Some(last) if page.len() == 1000 => after = Some(last.id),
            _ => break,
        }
    }
    writer
        .into_inner()
        .map_err(|error| ApiError::internal(format!("writing CSV: {error}")))
}
