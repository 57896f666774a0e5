use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::SaleId;
use nexus_store::{Sale, SaleKind, TenderKind};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{Authenticated, Authorized, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::services::sales::{self, NewReturnParts, reason_text};
use crate::state::AppState;

fn created_or_existing(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// `POST /api/v1/sales`: a finished sale. 201 when recorded, 200 with the original when the id
/// was recorded before.
#[utoipa::path(post, path = "/api/v1/sales", tag = "sales", request_body = nexus_sync::NewSale, security(("bearer" = ["sell"])), responses((status = 201, description = "Recorded", body = nexus_store::Sale), (status = 200, description = "Already recorded: the original", body = nexus_store::Sale), crate::error::CommonErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<permits::Sell>,
    ApiJson(request): ApiJson<nexus_sync::NewSale>,
) -> ApiResult<(StatusCode, Json<Sale>)> {
    let (sale, created) = sales::sell(&state, &auth, request).await?;
    Ok((created_or_existing(created), Json(sale)))
}

/// `GET /api/v1/sales/{id}`
#[utoipa::path(get, path = "/api/v1/sales/{id}", tag = "sales", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_sales"])), responses((status = 200, body = nexus_store::Sale), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewSales>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Sale>> {
    Ok(Json(
        sales::visible_sale(&state, auth.tenant, &auth.actor(), id).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundRequest {
    /// The refund's own id, from the till: a retry returns the same refund.
    id: SaleId,
    lines: Vec<nexus_sync::ReturnLine>,
    reason: Option<String>,
    /// How the money goes back: cash when absent.
    tender: Option<TenderKind>,
    occurred_at: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VoidRequest {
    id: SaleId,
    reason: String,
    occurred_at: Option<i64>,
}

/// The API's answer to a return: 201 when recorded, 200 when the id was recorded before.
async fn answer_return(
    state: &AppState,
    auth: &Authenticated,
    original: Uuid,
    request: NewReturnParts,
) -> ApiResult<(StatusCode, Json<Sale>)> {
    let (sale, created) = sales::return_sale(state, auth, original, request).await?;
    Ok((created_or_existing(created), Json(sale)))
}

/// `POST /api/v1/sales/{id}/refunds`: returns part or all of a sale; each line at most what was
/// sold less what was already returned. The money back is priced from the sale's own lines.
#[utoipa::path(post, path = "/api/v1/sales/{id}/refunds", tag = "sales", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = RefundRequest, security(("bearer" = ["refund"])), responses((status = 201, body = nexus_store::Sale), (status = 200, description = "Already recorded: the original refund", body = nexus_store::Sale), crate::error::CommonErrors))]
pub(crate) async fn refund(
    State(state): State<AppState>,
    auth: Authorized<permits::Refund>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<RefundRequest>,
) -> ApiResult<(StatusCode, Json<Sale>)> {
    if request.lines.is_empty() {
        return Err(ApiError::validation("a refund names at least one line").with_field("lines"));
    }
    let tender = request.tender.unwrap_or(TenderKind::Cash);
    let parts = NewReturnParts {
        id: request.id,
        kind: SaleKind::Refund,
        lines: request
            .lines
            .iter()
            .map(|line| (line.line_no, line.quantity))
            .collect(),
        reason: reason_text(request.reason.as_deref())?,
        tender: Some(tender),
        occurred_at: request.occurred_at,
        device_id: None,
        receipt_number: None,
        approved_by: None,
    };
    answer_return(&state, &auth, id, parts).await
}

/// `POST /api/v1/sales/{id}/void`: cancels everything not yet returned, with a reason.
#[utoipa::path(post, path = "/api/v1/sales/{id}/void", tag = "sales", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = VoidRequest, security(("bearer" = ["refund"])), responses((status = 201, body = nexus_store::Sale), (status = 200, description = "Already recorded", body = nexus_store::Sale), crate::error::CommonErrors))]
pub(crate) async fn void(
    State(state): State<AppState>,
    auth: Authorized<permits::Refund>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<VoidRequest>,
) -> ApiResult<(StatusCode, Json<Sale>)> {
    let reason = reason_text(Some(&request.reason))?
        .ok_or_else(|| ApiError::validation("a void needs a reason").with_field("reason"))?;
    let parts = NewReturnParts {
        id: request.id,
        kind: SaleKind::Void,
        lines: Vec::new(),
        reason: Some(reason),
        tender: None,
        occurred_at: request.occurred_at,
        device_id: None,
        receipt_number: None,
        approved_by: None,
    };
    answer_return(&state, &auth, id, parts).await
}
