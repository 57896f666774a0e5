use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::limits::{check_occurred_at, check_quantity};
use nexus_domain::values::optional_reason;
use nexus_domain::{BranchId, MovementId, ProductId, Quantity, TransferId, UnixMillis};
use nexus_store::{MovementKind, NewMovement, NewTransfer, StockAlert, StockLevel};
use nexus_sync::TransferLine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authenticated, Authorized, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

const MAX_TRANSFER_LINES: usize = 500;

fn visible_branch(auth: &Authenticated, id: Uuid) -> ApiResult<BranchId> {
    let branch = BranchId::from_uuid(id);
    if auth.actor().can_see_branch(branch) {
        Ok(branch)
    } else {
        Err(ApiError::not_found("branch"))
    }
}

fn occurred_at(requested: Option<i64>, now: UnixMillis) -> ApiResult<UnixMillis> {
    Ok(check_occurred_at(requested, now)?)
}

/// A stock movement's kind and reason, checked the same way for the API and for station ops.
pub(crate) fn movement_kind(
    kind: &str,
    quantity: Quantity,
    reason: Option<String>,
) -> ApiResult<(MovementKind, Option<String>)> {
    let reason = optional_reason(reason.as_deref())?;
    check_quantity(quantity, "quantity")?;
    let kind = match kind {
        "receipt" if quantity.is_positive() => MovementKind::Receipt,
        "receipt" => {
            return Err(
                ApiError::validation("a receipt of goods has a positive quantity")
                    .with_field("quantity"),
            );
        }
        "adjustment" if quantity == Quantity::ZERO => {
            return Err(
                ApiError::validation("an adjustment changes the quantity").with_field("quantity")
            );
        }
        "adjustment" if reason.is_none() => {
            return Err(ApiError::validation("an adjustment needs a reason").with_field("reason"));
        }
        "adjustment" => MovementKind::Adjustment,
        "count" if quantity.is_negative() => {
            return Err(ApiError::validation("a count is zero or more").with_field("quantity"));
        }
        "count" => MovementKind::Count,
        other => {
            return Err(ApiError::validation(format!(
                "kind {other:?}: expected receipt, adjustment or count"
            ))
            .with_field("kind"));
        }
    };
    Ok((kind, reason))
}

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
    let branch = visible_branch(&auth, id)?;
    // The branch in the path is looked up before the body is judged: a branch of another
    // organisation is a 404 whatever was sent.
    if state.store.get_branch(auth.tenant, branch).await?.is_none() {
        return Err(ApiError::not_found("branch"));
    }
    let (kind, reason) = movement_kind(&request.kind, request.quantity, request.reason)?;
    let now = state.clock.now();
    let movement = NewMovement {
        id: request.id.unwrap_or_else(|| MovementId::generate(now)),
        branch,
        product: request.product_id,
        kind,
        quantity: request.quantity,
        reason,
        source: None,
        actor: Some(auth.user.id),
        occurred_at: occurred_at(request.occurred_at, now)?,
        recorded_at: now,
    };
    let id = movement.id;
    let level = state.store.record_movement(auth.tenant, movement).await?;
    Ok((
        StatusCode::CREATED,
        Json(MovementAnswer {
            id,
            kind,
            quantity: request.quantity,
            on_hand: level.on_hand,
        }),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StockItems {
    items: Vec<StockLevel>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AlertItems {
    items: Vec<StockAlert>,
}

/// `GET /api/v1/branches/{id}/stock`: on-hand of every product the branch has had.
#[utoipa::path(get, path = "/api/v1/branches/{id}/stock", tag = "stock", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_stock"])), responses((status = 200, body = StockItems), crate::error::CommonErrors))]
pub(crate) async fn levels(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStock>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<StockItems>> {
    let branch = visible_branch(&auth, id)?;
    if state.store.get_branch(auth.tenant, branch).await?.is_none() {
        return Err(ApiError::not_found("branch"));
    }
    Ok(Json(StockItems {
        items: state.store.stock_levels(auth.tenant, branch).await?,
    }))
}

/// A transfer's lines: 1 to MAX_TRANSFER_LINES, each quantity positive and in range.
pub(crate) fn check_transfer_lines(lines: &[TransferLine]) -> ApiResult<()> {
    if lines.is_empty() || lines.len() > MAX_TRANSFER_LINES {
        return Err(ApiError::validation(format!(
            "a transfer has 1 to {MAX_TRANSFER_LINES} lines"
        ))
        .with_field("lines"));
    }
    for line in lines {
        check_quantity(line.quantity, "lines")?;
    }
    if lines.iter().any(|line| !line.quantity.is_positive()) {
        return Err(
            ApiError::validation("every transfer quantity must be positive").with_field("lines"),
        );
    }
    Ok(())
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
    let from = visible_branch(&auth, request.from_branch_id)?;
    let to = visible_branch(&auth, request.to_branch_id)?;
    if from == to {
        return Err(
            ApiError::validation("a transfer goes between two different branches")
                .with_field("to_branch_id"),
        );
    }
    check_transfer_lines(&request.lines)?;
    let now = state.clock.now();
    let id = request.id.unwrap_or_else(|| TransferId::generate(now));
    let lines = request
        .lines
        .into_iter()
        .map(|line| (line.product_id, line.quantity))
        .collect();
    state
        .store
        .record_transfer(
            auth.tenant,
            NewTransfer {
                id,
                from,
                to,
                lines,
                actor: auth.user.id,
                occurred_at: now,
                recorded_at: now,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(TransferAnswer { id })))
}

async fn alerts(
    state: &AppState,
    auth: &Authenticated,
    negative_only: bool,
) -> ApiResult<Json<AlertItems>> {
    let mut items = state.store.stock_alerts(auth.tenant, negative_only).await?;
    items.retain(|alert| auth.actor().can_see_branch(alert.branch_id));
    Ok(Json(AlertItems { items }))
}

/// `GET /api/v1/alerts/low-stock`: on-hand at or below the reorder level (negatives included).
#[utoipa::path(get, path = "/api/v1/alerts/low-stock", tag = "stock", security(("bearer" = ["view_stock"])), responses((status = 200, body = AlertItems), crate::error::CommonErrors))]
pub(crate) async fn low_stock(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStock>,
) -> ApiResult<Json<AlertItems>> {
    alerts(&state, &auth, false).await
}

/// `GET /api/v1/alerts/reconciliation`: negative on-hand, which a count should reconcile.
#[utoipa::path(get, path = "/api/v1/alerts/reconciliation", tag = "stock", security(("bearer" = ["view_stock"])), responses((status = 200, body = AlertItems), crate::error::CommonErrors))]
pub(crate) async fn reconciliation(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewStock>,
) -> ApiResult<Json<AlertItems>> {
    alerts(&state, &auth, true).await
}
