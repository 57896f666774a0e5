//! Suppliers and purchase orders.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::{BranchId, ProductId, Quantity};
use nexus_store::{PurchaseOrder, Supplier};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::services::purchasing::{self, OrderLineInput};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SupplierList {
    /// By name.
    items: Vec<Supplier>,
}

/// `GET /api/v1/suppliers`
#[utoipa::path(get, path = "/api/v1/suppliers", tag = "stock", security(("bearer" = ["view_stock"])),
    responses((status = 200, body = SupplierList), crate::error::CommonErrors))]
pub(crate) async fn list_suppliers(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStock>,
) -> ApiResult<Json<SupplierList>> {
    Ok(Json(SupplierList {
        items: purchasing::suppliers(&state, &auth).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateSupplierRequest {
    /// Unique whatever the letter case.
    name: String,
    phone: Option<String>,
}

/// `POST /api/v1/suppliers`
#[utoipa::path(post, path = "/api/v1/suppliers", tag = "stock", request_body = CreateSupplierRequest, security(("bearer" = ["manage_stock"])),
    responses((status = 201, body = Supplier), crate::error::CommonErrors))]
pub(crate) async fn create_supplier(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStock>,
    ApiJson(request): ApiJson<CreateSupplierRequest>,
) -> ApiResult<(StatusCode, Json<Supplier>)> {
    let created =
        purchasing::create_supplier(&state, &auth, &request.name, request.phone.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PurchaseOrderList {
    /// Newest first, of the branches you see.
    items: Vec<PurchaseOrder>,
}

/// `GET /api/v1/purchase-orders`
#[utoipa::path(get, path = "/api/v1/purchase-orders", tag = "stock", security(("bearer" = ["view_stock"])),
    responses((status = 200, body = PurchaseOrderList), crate::error::CommonErrors))]
pub(crate) async fn list_orders(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStock>,
) -> ApiResult<Json<PurchaseOrderList>> {
    Ok(Json(PurchaseOrderList {
        items: purchasing::purchase_orders(&state, &auth).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrderLineRequest {
    product_id: ProductId,
    quantity: Quantity,
    /// What one unit costs on this order; receiving it makes it the product's cost.
    cost_minor: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateOrderRequest {
    supplier_id: Uuid,
    branch_id: BranchId,
    lines: Vec<OrderLineRequest>,
}

/// `POST /api/v1/purchase-orders`
#[utoipa::path(post, path = "/api/v1/purchase-orders", tag = "stock", request_body = CreateOrderRequest, security(("bearer" = ["manage_stock"])),
    responses((status = 201, body = PurchaseOrder), crate::error::CommonErrors))]
pub(crate) async fn create_order(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStock>,
    ApiJson(request): ApiJson<CreateOrderRequest>,
) -> ApiResult<(StatusCode, Json<PurchaseOrder>)> {
    let lines = request
        .lines
        .into_iter()
        .map(|line| OrderLineInput {
            product_id: line.product_id,
            quantity: line.quantity,
            cost_minor: line.cost_minor,
        })
        .collect();
    let created = purchasing::create_purchase_order(
        &state,
        &auth,
        request.supplier_id,
        request.branch_id,
        lines,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/v1/purchase-orders/{id}`
#[utoipa::path(get, path = "/api/v1/purchase-orders/{id}", tag = "stock", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_stock"])),
    responses((status = 200, body = PurchaseOrder), crate::error::CommonErrors))]
pub(crate) async fn get_order(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStock>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<PurchaseOrder>> {
    Ok(Json(purchasing::purchase_order(&state, &auth, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceiptLineRequest {
    product_id: ProductId,
    /// What arrived.
    quantity: Quantity,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceiveRequest {
    /// Made by the client: sending the same receipt again counts it once.
    id: Uuid,
    lines: Vec<ReceiptLineRequest>,
}

/// `POST /api/v1/purchase-orders/{id}/receive`: what arrived, in part or in full; each line a
/// stock receipt at the order's branch, and its order cost the product's cost from now on.
/// `201` when recorded, `200` with the order unchanged when this receipt's id was recorded.
#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/receive", tag = "stock", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = ReceiveRequest, security(("bearer" = ["manage_stock"])),
    responses((status = 201, body = PurchaseOrder), (status = 200, body = PurchaseOrder, description = "The receipt was recorded before"), crate::error::CommonErrors))]
pub(crate) async fn receive(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStock>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<ReceiveRequest>,
) -> ApiResult<(StatusCode, Json<PurchaseOrder>)> {
    let lines = request
        .lines
        .into_iter()
        .map(|line| (line.product_id, line.quantity))
        .collect();
    let (order, created) = purchasing::receive(&state, &auth, id, request.id, lines).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(order)))
}

/// `POST /api/v1/purchase-orders/{id}/close`: nothing more is received against it.
#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/close", tag = "stock", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["manage_stock"])),
    responses((status = 200, body = PurchaseOrder), crate::error::CommonErrors))]
pub(crate) async fn close(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStock>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<PurchaseOrder>> {
    Ok(Json(purchasing::close(&state, &auth, id).await?))
}
