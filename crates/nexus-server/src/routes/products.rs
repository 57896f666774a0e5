use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nexus_domain::{CategoryId, ProductId, Quantity, TaxClass};
use nexus_store::Product;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery};
use crate::services::catalogue::{self, ProductEdit, ProductInput};
use crate::services::imports::{self, ImportJob, ImportMode};
use crate::state::AppState;

pub(crate) use crate::services::imports::IMPORT_MAX_BYTES;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProductRequest {
    sku: String,
    name: String,
    price_minor: i64,
    barcode: Option<String>,
    tax_class: Option<TaxClass>,
    reorder_level: Option<Quantity>,
    category_id: Option<CategoryId>,
    /// What one unit costs the shop, in minor units.
    cost_minor: Option<i64>,
    /// Cartons and crates it is also sold by: `{"name", "units", "barcode"?, "price_minor"}`.
    #[serde(default)]
    packs: Vec<nexus_domain::pack::Pack>,
    /// Its price to customers on the wholesale list; the retail price when absent.
    wholesale_price_minor: Option<i64>,
}

/// `POST /api/v1/products`
#[utoipa::path(post, path = "/api/v1/products", tag = "products", request_body = CreateProductRequest, security(("bearer" = ["manage_products"])), responses((status = 201, body = nexus_store::Product), crate::error::CommonErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiJson(request): ApiJson<CreateProductRequest>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    let input = ProductInput {
        sku: request.sku,
        name: request.name,
        price_minor: request.price_minor,
        barcode: request.barcode,
        tax_class: request.tax_class,
        reorder_level: request.reorder_level,
        category_id: request.category_id,
        cost_minor: request.cost_minor,
        packs: request.packs,
        wholesale_price_minor: request.wholesale_price_minor,
    };
    let created = catalogue::create_product(&state, &auth, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/v1/products/{id}`
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_products"])), responses((status = 200, body = nexus_store::Product), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewProducts>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Product>> {
    Ok(Json(
        catalogue::product(&state, &auth, ProductId::from_uuid(id)).await?,
    ))
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
    let page = catalogue::list_products(
        &state,
        &auth,
        query.q,
        query.after.map(ProductId::from_uuid),
        query.limit,
        query.include_archived,
    )
    .await?;
    Ok(Json(ProductPage {
        items: page.items,
        next_after: page.next_after,
    }))
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
    /// `null` takes the product out of its category.
    #[serde(default, deserialize_with = "nexus_domain::values::present")]
    category_id: Option<Option<CategoryId>>,
    /// What one unit costs the shop from now on; sales already made keep the cost they were
    /// sold at.
    cost_minor: Option<i64>,
    /// Replaces every pack; `[]` removes them. Sales already made keep the pack they were sold by.
    packs: Option<Vec<nexus_domain::pack::Pack>>,
    /// `null`: the retail price on the wholesale list too.
    #[serde(default, deserialize_with = "nexus_domain::values::present")]
    wholesale_price_minor: Option<Option<i64>>,
}

/// `PATCH /api/v1/products/{id}`: `null` clears barcode, reorder level or category.
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "products", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = UpdateProductRequest, security(("bearer" = ["manage_products"])), responses((status = 200, body = nexus_store::Product), crate::error::CommonErrors))]
pub(crate) async fn update(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateProductRequest>,
) -> ApiResult<Json<Product>> {
    let edit = ProductEdit {
        sku: request.sku,
        name: request.name,
        price_minor: request.price_minor,
        barcode: request.barcode,
        tax_class: request.tax_class,
        reorder_level: request.reorder_level,
        category_id: request.category_id,
        cost_minor: request.cost_minor,
        packs: request.packs,
        wholesale_price_minor: request.wholesale_price_minor,
    };
    Ok(Json(
        catalogue::update_product(&state, &auth, ProductId::from_uuid(id), edit).await?,
    ))
}

/// `POST /api/v1/products/{id}/archive`: out of the lists; its history stays. A till that still
/// sells it offline is recorded as it happened.
#[utoipa::path(post, path = "/api/v1/products/{id}/archive", tag = "products", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["manage_products"])), responses((status = 200, body = nexus_store::Product), crate::error::CommonErrors))]
pub(crate) async fn archive(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Product>> {
    Ok(Json(
        catalogue::archive_product(&state, &auth, ProductId::from_uuid(id)).await?,
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

/// `POST /api/v1/products/import`: a CSV file (columns sku, name, price in major units, and
/// optionally barcode, tax_class, reorder_level); rows whose SKU exists update that product.
/// The file is checked at once; its rows are then written in the background, and the answer
/// (202) names the job to follow at `GET /api/v1/jobs/{id}`.
#[utoipa::path(post, path = "/api/v1/products/import", tag = "products", params(ImportQuery), request_body(content = String, content_type = "text/csv", description = "Header sku,name,price[,barcode,tax_class,reorder_level]; price in major units"), security(("bearer" = ["manage_products"])), responses((status = 202, description = "Checked; being written. Follow the job", body = ImportJob), (status = 413, description = "Over 16 MiB", body = crate::error::ApiErrorBody), crate::error::CommonErrors))]
pub(crate) async fn import(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Response> {
    let mode = ImportMode::parse(query.mode.as_deref())?;
    let job = imports::start_import(&state, &auth, &body, mode).await?;
    let location = format!("/api/v1/jobs/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(job),
    )
        .into_response())
}

/// `GET /api/v1/jobs/{id}`: a catalogue import's state, rows written so far, and every bad line.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "products", params(("id" = uuid::Uuid, Path, description = "The job's id")), security(("bearer" = ["manage_products"])), responses((status = 200, body = ImportJob), crate::error::CommonErrors))]
pub(crate) async fn job(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ImportJob>> {
    Ok(Json(imports::import_job(&state, &auth, id).await?))
}

/// `GET /api/v1/products/export`: the catalogue as CSV, in the import's format.
#[utoipa::path(get, path = "/api/v1/products/export", tag = "products", security(("bearer" = ["manage_products"])), responses((status = 200, content_type = "text/csv", body = String, description = "The catalogue in the import format"), crate::error::CommonErrors))]
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
) -> ApiResult<Response> {
    let bytes = catalogue::export_csv(&state, &auth).await?;
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
