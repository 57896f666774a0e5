use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nexus_domain::limits::{MAX_PRICE_MINOR, MAX_QUANTITY_MILLI};
use nexus_domain::{Currency, NonEmptyText, ProductId, Quantity, TaxClass};
use nexus_store::{ImportColumns, ImportCounts, NewProduct, Product, ProductChange, ProductQuery};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

const NAME_MAX: usize = 200;
const CODE_MAX: usize = 64;
/// Rows in one CSV import; a larger catalogue is imported in parts.
pub(crate) const IMPORT_MAX_ROWS: usize = 50_000;
/// Body size for a CSV import, above the API's usual limit.
pub(crate) const IMPORT_MAX_BYTES: usize = 16 * 1024 * 1024;

/// A spreadsheet would run a cell starting like this as a formula (CSV injection).
fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// SKUs are stored uppercase, so "abc-1" and "ABC-1" are one product.
fn parse_sku(text: &str) -> Result<String, String> {
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

fn parse_barcode(text: &str) -> Result<Option<String>, String> {
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

pub(crate) fn parse_name(text: &str) -> Result<NonEmptyText, String> {
    NonEmptyText::parse("name", text, NAME_MAX).map_err(|error| error.to_string())
}

pub(crate) fn check_price(price_minor: i64) -> Result<i64, String> {
    if !(0..=MAX_PRICE_MINOR).contains(&price_minor) {
        return Err(format!(
            "price must be from 0 to {} minor units",
            MAX_PRICE_MINOR
        ));
    }
    Ok(price_minor)
}

pub(crate) fn check_reorder_level(level: Quantity) -> Result<Quantity, String> {
    if level.is_negative() || level.milli() > MAX_QUANTITY_MILLI {
        return Err("reorder_level must be zero or more".to_owned());
    }
    Ok(level)
}

fn field_error(field: &'static str) -> impl Fn(String) -> ApiError {
    move |message| ApiError::validation(message).with_field(field)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProductRequest {
    sku: String,
    name: String,
    price_minor: i64,
    barcode: Option<String>,
    tax_class: Option<TaxClass>,
    reorder_level: Option<Quantity>,
}

/// `POST /api/v1/products`
#[utoipa::path(post, path = "/api/v1/products", tag = "products", request_body = CreateProductRequest, security(("bearer" = ["manage_products"])), responses((status = 201, body = nexus_store::Product), crate::error::CommonErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiJson(request): ApiJson<CreateProductRequest>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    let now = state.clock.now();
    let product = NewProduct {
        id: ProductId::generate(now),
        sku: parse_sku(&request.sku).map_err(field_error("sku"))?,
        barcode: parse_barcode(request.barcode.as_deref().unwrap_or(""))
            .map_err(field_error("barcode"))?,
        name: parse_name(&request.name).map_err(field_error("name"))?,
        price_minor: check_price(request.price_minor).map_err(field_error("price_minor"))?,
        tax_class: request.tax_class.unwrap_or(TaxClass::Standard),
        reorder_level: request
            .reorder_level
            .map(check_reorder_level)
            .transpose()
            .map_err(field_error("reorder_level"))?,
        now,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_product(auth.tenant, product).await?),
    ))
}

/// `GET /api/v1/products/{id}`
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_products"])), responses((status = 200, body = nexus_store::Product), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewProducts>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Product>> {
    let product = state
        .store
        .get_product(auth.tenant, ProductId::from_uuid(id))
        .await?;
    Ok(Json(product.ok_or_else(|| ApiError::not_found("product"))?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// A barcode or SKU (exact), or part of a name.
    q: Option<String>,
    /// The `next_after` of the previous page.
    after: Option<Uuid>,
    /// 1 to 500; 50 by default.
    limit: Option<u32>,
    #[serde(default)]
    include_archived: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProductPage {
    items: Vec<Product>,
    /// Pass as `after` for the next page; absent on the last page.
    next_after: Option<ProductId>,
}

/// `GET /api/v1/products`: search and keyset pagination.
#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(ListQuery), security(("bearer" = ["view_products"])), responses((status = 200, body = ProductPage), crate::error::CommonErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewProducts>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<ProductPage>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 500").with_field("limit"));
    }
    if query
        .q
        .as_ref()
        .is_some_and(|text| text.chars().count() > NAME_MAX)
    {
        return Err(ApiError::validation("q is too long").with_field("q"));
    }
    let items = state
        .store
        .list_products(
            auth.tenant,
            &ProductQuery {
                search: query.q,
                after: query.after.map(ProductId::from_uuid),
                limit,
                include_archived: query.include_archived,
            },
        )
        .await?;
    let next_after = if items.len() == limit as usize {
        items.last().map(|product| product.id)
    } else {
        None
    };
    Ok(Json(ProductPage { items, next_after }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateProductRequest {
    sku: Option<String>,
    name: Option<String>,
    price_minor: Option<i64>,
    #[serde(default, deserialize_with = "nexus_domain::values::present")]
    barcode: Option<Option<String>>,
    tax_class: Option<TaxClass>,
    #[serde(default, deserialize_with = "nexus_domain::values::present")]
    reorder_level: Option<Option<Quantity>>,
}

/// `PATCH /api/v1/products/{id}`: `null` clears barcode or reorder level.
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "products", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = UpdateProductRequest, security(("bearer" = ["manage_products"])), responses((status = 200, body = nexus_store::Product), crate::error::CommonErrors))]
pub(crate) async fn update(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateProductRequest>,
) -> ApiResult<Json<Product>> {
    let change = ProductChange {
        sku: request
            .sku
            .as_deref()
            .map(parse_sku)
            .transpose()
            .map_err(field_error("sku"))?,
        barcode: request
            .barcode
            .map(|barcode| parse_barcode(barcode.as_deref().unwrap_or("")))
            .transpose()
            .map_err(field_error("barcode"))?,
        name: request
            .name
            .as_deref()
            .map(parse_name)
            .transpose()
            .map_err(field_error("name"))?,
        price_minor: request
            .price_minor
            .map(check_price)
            .transpose()
            .map_err(field_error("price_minor"))?,
        tax_class: request.tax_class,
        reorder_level: request
            .reorder_level
            .map(|level| level.map(check_reorder_level).transpose())
            .transpose()
            .map_err(field_error("reorder_level"))?,
    };
    let nothing = change.sku.is_none()
        && change.barcode.is_none()
        && change.name.is_none()
        && change.price_minor.is_none()
        && change.tax_class.is_none()
        && change.reorder_level.is_none();
    if nothing {
        return Err(ApiError::validation("nothing to change"));
    }
    let updated = state
        .store
        .update_product(
            auth.tenant,
            ProductId::from_uuid(id),
            change,
            state.clock.now(),
        )
        .await?;
    Ok(Json(updated.ok_or_else(|| ApiError::not_found("product"))?))
}

/// `POST /api/v1/products/{id}/archive`: out of the lists; its history stays. A till that still
/// sells it offline is recorded as it happened.
#[utoipa::path(post, path = "/api/v1/products/{id}/archive", tag = "products", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["manage_products"])), responses((status = 200, body = nexus_store::Product), crate::error::CommonErrors))]
pub(crate) async fn archive(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Product>> {
    let archived = state
        .store
        .archive_product(auth.tenant, ProductId::from_uuid(id), state.clock.now())
        .await?;
    Ok(Json(
        archived.ok_or_else(|| ApiError::not_found("product"))?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportQuery {
    /// `all_or_nothing` (default): any bad row and nothing is imported.
    /// `valid_rows`: the good rows are imported and the bad ones reported.
    mode: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RowError {
    /// 1-based line of the file (the header is line 1).
    line: u64,
    reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ImportReport {
    imported: bool,
    #[serde(flatten)]
    counts: ImportCounts,
    errors: Vec<RowError>,
}

/// Reads the file as UTF-8 (a BOM is fine), or says how to save it.
fn decode_csv(body: &[u8]) -> ApiResult<&str> {
    if body.starts_with(&[0xff, 0xfe]) || body.starts_with(&[0xfe, 0xff]) {
        return Err(ApiError::validation(
            "the file is UTF-16; save it as \"CSV UTF-8\" and try again",
        ));
    }
    let body = body.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(body);
    std::str::from_utf8(body).map_err(|error| {
        ApiError::validation(format!(
            "the file is not UTF-8 (first bad byte at offset {}); save it as \"CSV UTF-8\" and try again",
            error.valid_up_to()
        ))
    })
}

const COLUMNS: [&str; 6] = [
    "sku",
    "name",
    "price",
    "barcode",
    "tax_class",
    "reorder_level",
];

/// Checks every row; returns the good ones and a reason for each bad one.
/// The good rows (with their line), the bad ones, and which optional columns the file has.
type ParsedImport = (Vec<(u64, NewProduct)>, Vec<RowError>, ImportColumns);

fn parse_import(
    text: &str,
    currency: Currency,
    now: nexus_domain::UnixMillis,
) -> ApiResult<ParsedImport> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|error| ApiError::validation(format!("cannot read the header line: {error}")))?
        .clone();
    let mut positions = [None; 6];
    for (index, header) in headers.iter().enumerate() {
        let name = header.trim().to_lowercase();
        match COLUMNS.iter().position(|column| *column == name) {
            Some(column) if positions[column].is_none() => positions[column] = Some(index),
            Some(_) => {
                return Err(ApiError::validation(format!(
                    "column {name:?} appears twice in the header"
                )));
            }
            None => {
                return Err(ApiError::validation(format!(
                    "unknown column {name:?}; the columns are {}",
                    COLUMNS.join(", ")
                )));
            }
        }
    }
    for required in 0..3 {
        if positions[required].is_none() {
            return Err(ApiError::validation(format!(
                "the header must name the columns sku, name and price (missing {})",
                COLUMNS[required]
            )));
        }
    }
    let mut good = Vec::new();
    let mut errors = Vec::new();
    let mut seen_skus = std::collections::HashMap::new();
    let mut seen_barcodes = std::collections::HashMap::new();
    for (index, record) in reader.records().enumerate() {
        if index >= IMPORT_MAX_ROWS {
            return Err(ApiError::validation(format!(
                "the file has more than {IMPORT_MAX_ROWS} rows; import it in parts"
            )));
        }
        let line = record
            .as_ref()
            .ok()
            .and_then(|record| record.position())
            .map_or(index as u64 + 2, |position| position.line());
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                errors.push(RowError {
                    line,
                    reason: format!("unreadable row: {error}"),
                });
                continue;
            }
        };
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.len() > headers.len() {
            errors.push(RowError {
                line,
                reason: format!(
                    "{} cells but the header names {}",
                    record.len(),
                    headers.len()
                ),
            });
            continue;
        }
        let cell = |column: usize| {
            positions[column]
                .and_then(|position| record.get(position))
                .unwrap_or("")
                .trim()
        };
        let parsed = (|| -> Result<NewProduct, String> {
            let sku = parse_sku(cell(0))?;
            // A name typed in the API may start with "@"; one arriving from a spreadsheet that
            // starts like a formula is more likely an injection than a product.
            if looks_like_formula(cell(1)) {
                return Err("name looks like a spreadsheet formula".to_owned());
            }
            let name = parse_name(cell(1))?;
            let price_text = cell(2);
            if looks_like_formula(price_text) {
                return Err("price looks like a spreadsheet formula".to_owned());
            }
            let price_minor = currency.parse_major(price_text).map_err(|_| {
                format!("price {price_text:?} is not an amount in {currency} (like 12.50)")
            })?;
            let price_minor = check_price(price_minor)?;
            let barcode = parse_barcode(cell(3))?;
            let tax_class = match cell(4) {
                "" => TaxClass::Standard,
                text => text.parse().map_err(|_| {
                    format!("tax_class {text:?}: expected standard, exempt or zero_rated")
                })?,
            };
            let reorder_level = match cell(5) {
                "" => None,
                text => Some(check_reorder_level(
                    Quantity::parse(text)
                        .map_err(|_| format!("reorder_level {text:?} is not a quantity"))?,
                )?),
            };
            Ok(NewProduct {
                id: ProductId::generate(now),
                sku,
                barcode,
                name,
                price_minor,
                tax_class,
                reorder_level,
                now,
            })
        })();
        match parsed {
            Err(reason) => errors.push(RowError { line, reason }),
            Ok(product) => {
                if let Some(first) = seen_skus.insert(product.sku.clone(), line) {
                    errors.push(RowError {
                        line,
                        reason: format!("sku {} already appears on line {first}", product.sku),
                    });
                    continue;
                }
                let repeated_barcode = product
                    .barcode
                    .as_ref()
                    .and_then(|barcode| seen_barcodes.insert(barcode.clone(), line));
                if let (Some(barcode), Some(first)) = (&product.barcode, repeated_barcode) {
                    errors.push(RowError {
                        line,
                        reason: format!("barcode {barcode} already appears on line {first}"),
                    });
                    continue;
                }
                good.push((line, product));
            }
        }
    }
    let columns = ImportColumns {
        barcode: positions[3].is_some(),
        tax_class: positions[4].is_some(),
        reorder_level: positions[5].is_some(),
    };
    Ok((good, errors, columns))
}

/// `POST /api/v1/products/import`: a CSV file (columns sku, name, price in major units, and
/// optionally barcode, tax_class, reorder_level). Rows whose SKU exists update that product.
#[utoipa::path(post, path = "/api/v1/products/import", tag = "products", params(ImportQuery), request_body(content = String, content_type = "text/csv", description = "Header sku,name,price[,barcode,tax_class,reorder_level]; price in major units"), security(("bearer" = ["manage_products"])), responses((status = 200, body = ImportReport), (status = 413, description = "Over 16 MiB", body = crate::error::ApiErrorBody), crate::error::CommonErrors))]
pub(crate) async fn import(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Response> {
    let valid_rows_only = match query.mode.as_deref() {
        None | Some("all_or_nothing") => false,
        Some("valid_rows") => true,
        Some(other) => {
            return Err(ApiError::validation(format!(
                "mode {other:?}: expected all_or_nothing or valid_rows"
            ))
            .with_field("mode"));
        }
    };
    let text = decode_csv(&body)?;
    let settings = state.store.settings(auth.tenant).await?;
    let now = state.clock.now();
    let (mut good, mut errors, columns) = parse_import(text, settings.currency, now)?;
    // A barcode held by another product is a row error too, found before anything is written,
    // so that it is reported with its line rather than failing the whole import.
    let barcodes: Vec<String> = good
        .iter()
        .filter_map(|(_, product)| product.barcode.clone())
        .collect();
    let owners: std::collections::HashMap<String, String> = state
        .store
        .barcode_owners(auth.tenant, &barcodes)
        .await?
        .into_iter()
        .collect();
    good.retain(|(line, product)| {
        match product
            .barcode
            .as_ref()
            .and_then(|barcode| owners.get(barcode).map(|owner| (barcode, owner)))
        {
            Some((barcode, owner)) if *owner != product.sku => {
                errors.push(RowError {
                    line: *line,
                    reason: format!("barcode {barcode} already belongs to product {owner}"),
                });
                false
            }
            _ => true,
        }
    });
    errors.sort_by_key(|error| error.line);
    if !errors.is_empty() && !valid_rows_only {
        let report = ImportReport {
            imported: false,
            counts: ImportCounts::default(),
            errors,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(report)).into_response());
    }
    let rows: Vec<NewProduct> = good.into_iter().map(|(_, product)| product).collect();
    let counts = if rows.is_empty() {
        ImportCounts::default()
    } else {
        state
            .store
            .import_products(auth.tenant, rows, columns, now)
            .await?
    };
    Ok((
        StatusCode::OK,
        Json(ImportReport {
            imported: true,
            counts,
            errors,
        }),
    )
        .into_response())
}

/// Makes a cell safe to open in a spreadsheet: a leading formula character is quoted away.
fn spreadsheet_safe(text: &str) -> String {
    if looks_like_formula(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// `GET /api/v1/products/export`: the catalogue as CSV, in the import's format.
#[utoipa::path(get, path = "/api/v1/products/export", tag = "products", security(("bearer" = ["manage_products"])), responses((status = 200, content_type = "text/csv", body = String, description = "The catalogue in the import format"), crate::error::CommonErrors))]
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
) -> ApiResult<Response> {
    let settings = state.store.settings(auth.tenant).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |error: csv::Error| ApiError::internal(format!("writing CSV: {error}"));
    writer.write_record(COLUMNS).map_err(failed)?;
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
    let bytes = writer
        .into_inner()
        .map_err(|error| ApiError::internal(format!("writing CSV: {error}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"products.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> nexus_domain::UnixMillis {
        nexus_domain::UnixMillis::from_millis(1_767_225_600_000)
    }

    #[test]
    fn csv_rows_are_checked_one_by_one_with_line_numbers() {
        let text = "sku,name,price,barcode\nA1,Rice 5kg,120.00,600100\n,No sku,1.00,\nB2,=HYPERLINK(\"x\"),1.00,\nC3,Oil,12.345,\nA1,Dup,1.00,\nD4,\"Milk, tin\",8.5,600100\n";
        let (good, errors, _) = parse_import(text, Currency::Ghs, now()).expect("readable");
        assert_eq!(
            good.len(),
            1,
            "{:?}",
            errors.iter().map(|error| &error.reason).collect::<Vec<_>>()
        );
        let lines: Vec<u64> = errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7]);
        assert!(errors[1].reason.contains("formula"));
        assert!(errors[2].reason.contains("12.345"));
        assert!(errors[3].reason.contains("line 2"));
        assert!(errors[4].reason.contains("barcode"));
    }

    #[test]
    fn bad_files_are_refused_with_a_way_out() {
        assert!(decode_csv(&[0xff, 0xfe, b'a', 0]).is_err());
        assert!(
            decode_csv(b"sku,name,price\nA,Caf\xe9,1.00\n").is_err(),
            "Windows-1252 is not UTF-8"
        );
        assert_eq!(decode_csv(b"\xef\xbb\xbfsku").ok(), Some("sku"));
        assert!(
            parse_import("name,price\nX,1\n", Currency::Ghs, now()).is_err(),
            "sku column missing"
        );
        assert!(
            parse_import("sku,name,price,colour\n", Currency::Ghs, now()).is_err(),
            "unknown column"
        );
    }

    #[test]
    fn export_cells_cannot_run_as_formulas() {
        assert_eq!(spreadsheet_safe("=1+1"), "'=1+1");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("Rice"), "Rice");
    }
}
