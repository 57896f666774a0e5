use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::{MovementId, ProductId, Quantity, TransferId};
use nexus_store::{MovementKind, StockAlert, StockLevel};
use nexus_sync::TransferLine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::services::stock::{self, MovementInput};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MovementRequest {
    /// The movement's own id, when the caller wants a retry to be recognised; new otherwise.
    id: Option<MovementId>,
    product_id: ProductId,
    /// receipt (goods in, positive), adjustment (signed, with a reason) or count (the level
    /// counted, zero or more).
    kind: String,
    quantity: Quantity,
    reason: Option<String>,
    /// When it happened (Unix milliseconds); now when absent. A count says "there were X at T".
    occurred_at: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct MovementAnswer {
    id: MovementId,
    kind: MovementKind,
    quantity: Quantity,
    on_hand: Quantity,
}

/// `POST /api/v1/branches/{id}/stock/movements`
#[utoipa::path(post, path = "/api/v1/branches/{id}/stock/movements", tag = "stock", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = MovementRequest, security(("bearer" = ["manage_stock"])), responses((status = 201, body = MovementAnswer), crate::error::CommonErrors))]
pub(crate) async fn record_movement(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStock>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<MovementRequest>,
) -> ApiResult<(StatusCode, Json<MovementAnswer>)> {
    let input = MovementInput {
        id: request.id,
        product_id: request.product_id,
        kind: request.kind,
        quantity: request.quantity,
        reason: request.reason,
        occurred_at: request.occurred_at,
    };
    let (movement, level) = stock::record_movement(&state, &auth, id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(MovementAnswer {
            id: movement.id,
            kind: movement.kind,
            quantity: movement.quantity,
            on_hand: level.on_hand,
        }),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StockItems {
    items: Vec<StockLevel>,
    /// Pass as `after` for the next page; absent on the last page.
    next_after: Option<ProductId>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AlertItems {
    items: Vec<StockAlert>,
    /// Pass as `after` for the next page; absent on the last page.
    next_after: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct LevelsQuery {
    /// The `next_after` of the previous page.
    after: Option<Uuid>,
    /// 1 to 1000; 200 by default.
    limit: Option<u32>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertsQuery {
    /// The `next_after` of the previous page.
    after: Option<String>,
    /// 1 to 1000; 200 by default.
    limit: Option<u32>,
}

/// `GET /api/v1/branches/{id}/stock`: on-hand of every product the branch has had, a page at
/// a time in product order.
#[utoipa::path(get, path = "/api/v1/branches/{id}/stock", tag = "stock", params(("id" = uuid::Uuid, Path, description = "The resource id"), LevelsQuery), security(("bearer" = ["view_stock"])), responses((status = 200, body = StockItems), crate::error::CommonErrors))]
pub(crate) async fn levels(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStock>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<LevelsQuery>,
) -> ApiResult<Json<StockItems>> {
    let (items, next_after) = stock::levels(
        &state,
        &auth,
        id,
        query.after.map(ProductId::from_uuid),
        query.limit,
    )
    .await?;
    Ok(Json(StockItems { items, next_after }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransferRequest {
    /// The transfer's own id, when the caller wants a retry to be recognised; new otherwise.
    id: Option<TransferId>,
    from_branch_id: Uuid,
    to_branch_id: Uuid,
    lines: Vec<TransferLine>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TransferAnswer {
    id: TransferId,
}

/// `POST /api/v1/stock/transfers`: out of one branch and into another, every line, atomically.
#[utoipa::path(post, path = "/api/v1/stock/transfers", tag = "stock", request_body = TransferRequest, security(("bearer" = ["manage_stock"])), responses((status = 201, body = TransferAnswer), crate::error::CommonErrors))]
pub(crate) async fn transfer(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageStock>,
    ApiJson(request): ApiJson<TransferRequest>,
) -> ApiResult<(StatusCode, Json<TransferAnswer>)> {
    let id = stock::transfer(
        &state,
        &auth,
        request.id,
        request.from_branch_id,
        request.to_branch_id,
        request.lines,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(TransferAnswer { id })))
}

/// `GET /api/v1/alerts/low-stock`: on-hand at or below the reorder level (negatives included).
#[utoipa::path(get, path = "/api/v1/alerts/low-stock", tag = "stock", params(AlertsQuery), security(("bearer" = ["view_stock"])), responses((status = 200, body = AlertItems), crate::error::CommonErrors))]
pub(crate) async fn low_stock(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStock>,
    ApiQuery(query): ApiQuery<AlertsQuery>,
) -> ApiResult<Json<AlertItems>> {
    let (items, next_after) = stock::alerts(
        &state,
        &auth,
        false,
        None,
        query.after.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(AlertItems { items, next_after }))
}

/// `GET /api/v1/alerts/reconciliation`: negative on-hand, which a count should reconcile.
#[utoipa::path(get, path = "/api/v1/alerts/reconciliation", tag = "stock", params(AlertsQuery), security(("bearer" = ["view_stock"])), responses((status = 200, body = AlertItems), crate::error::CommonErrors))]
pub(crate) async fn reconciliation(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStock>,
    ApiQuery(query): ApiQuery<AlertsQuery>,
) -> ApiResult<Json<AlertItems>> {
    let (items, next_after) = stock::alerts(
        &state,
        &auth,
        true,
        None,
        query.after.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(AlertItems { items, next_after }))
}
