use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::limits::{check_occurred_at, check_quantity};
use nexus_domain::roles::{Actor, may_return_sale};
use nexus_domain::values::optional_reason;
use nexus_domain::{Quantity, SaleId, TenantId};
use nexus_store::{NewReturn, Sale, SaleKind, TenderKind, UserRecord};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{Authenticated, Authorized, permits};
use crate::calendar;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::sales::record_sale;
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
    let (sale, created) = record_sale(
        state.store.as_ref(),
        state.clock.as_ref(),
        auth.tenant,
        auth.user.id,
        &auth.actor(),
        request,
    )
    .await?;
    Ok((created_or_existing(created), Json(sale)))
}

/// The sale `id`, if it exists and `actor` may see its branch.
async fn visible_sale(
    state: &AppState,
    tenant: TenantId,
    actor: &Actor<'_>,
    id: Uuid,
) -> ApiResult<Sale> {
    state
        .store
        .get_sale(tenant, SaleId::from_uuid(id))
        .await?
        .filter(|sale| actor.can_see_branch(sale.branch_id))
        .ok_or_else(|| ApiError::not_found("sale"))
}

/// `GET /api/v1/sales/{id}`
#[utoipa::path(get, path = "/api/v1/sales/{id}", tag = "sales", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_sales"])), responses((status = 200, body = nexus_store::Sale), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewSales>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Sale>> {
    Ok(Json(
        visible_sale(&state, auth.tenant, &auth.actor(), id).await?,
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

/// Records a refund or void of `original` (already read, and visible to `user`) by `user`:
/// the one path for the API and for stations' refund ops. Returns the return as stored and
/// whether this call created it (`false`: its id was recorded before; the original answer).
pub(crate) async fn record_return(
    state: &AppState,
    tenant: TenantId,
    user: &UserRecord,
    original: &Sale,
    request: NewReturnParts,
) -> ApiResult<(Sale, bool)> {
    may_return_sale(user.role, user.id, original.cashier_id)
        .map_err(|refused| ApiError::forbidden(refused.to_string()))?;
    for (_, quantity) in &request.lines {
        check_quantity(*quantity, "lines")?;
    }
    let settings = state.store.settings(tenant).await?;
    let now = state.clock.now();
    // A return comes after its sale. A till whose clock says otherwise is wrong, and dating the
    // return before the sale would file the goods before a later count, where the ledger rule
    // ignores them: so it is dated no earlier than the sale, and never far in the future.
    let requested = check_occurred_at(request.occurred_at, now)?.as_millis();
    let occurred_at =
        nexus_domain::UnixMillis::from_millis(requested.max(original.occurred_at.as_millis()));
    let offset = calendar::zone_offset_minutes(&settings.time_zone).unwrap_or(0);
    Ok(state
        .store
        .record_return(
            tenant,
            NewReturn {
                id: request.id,
                kind: request.kind,
                original: original.id,
                lines: request.lines,
                cashier: user.id,
                device_id: request.device_id,
                receipt_number: request.receipt_number,
                reason: request.reason,
                tender: request.tender,
                occurred_at,
                local_day: calendar::local_day(occurred_at.as_millis(), offset),
                recorded_at: now,
            },
        )
        .await?)
}

/// The API's answer to a return: 201 when recorded, 200 when the id was recorded before.
async fn answer_return(
    state: &AppState,
    auth: &Authenticated,
    original: Uuid,
    request: NewReturnParts,
) -> ApiResult<(StatusCode, Json<Sale>)> {
    let original = visible_sale(state, auth.tenant, &auth.actor(), original).await?;
    let (sale, created) = record_return(state, auth.tenant, &auth.user, &original, request).await?;
    Ok((created_or_existing(created), Json(sale)))
}

/// A refund or void as the API and sync both describe it.
pub(crate) struct NewReturnParts {
    pub(crate) id: SaleId,
    pub(crate) kind: SaleKind,
    pub(crate) lines: Vec<(i32, Quantity)>,
    pub(crate) reason: Option<String>,
    pub(crate) tender: Option<TenderKind>,
    pub(crate) occurred_at: Option<i64>,
    /// The station and its receipt number, for a return that came by sync.
    pub(crate) device_id: Option<Uuid>,
    pub(crate) receipt_number: Option<String>,
}

pub(crate) fn reason_text(reason: Option<&str>) -> ApiResult<Option<String>> {
    Ok(optional_reason(reason)?)
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
    };
    answer_return(&state, &auth, id, parts).await
}
