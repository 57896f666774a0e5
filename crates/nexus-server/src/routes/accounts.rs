//! Customer accounts: payments on account, the statement, and who owes what.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::BranchId;
use nexus_store::AccountEntryRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::services::accounts::{self, Account, Debtor, PaymentInput};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaymentRequest {
    /// Made by the client: sending the same payment again counts it once.
    id: Uuid,
    /// cash or momo.
    kind: String,
    amount_minor: i64,
    /// Mobile money: mtn, telecel or airteltigo.
    network: Option<String>,
    /// Mobile money: the payer's number.
    phone: Option<String>,
    /// Mobile money: the transaction id from the SMS.
    reference: Option<String>,
    /// The branch that took it, if any.
    branch_id: Option<BranchId>,
    /// When it was paid (Unix ms); now when absent.
    occurred_at: Option<i64>,
}

/// `POST /api/v1/customers/{id}/payments`: money paid on the account. `201` when recorded,
/// `200` with the payment as first recorded when its id was recorded before.
#[utoipa::path(post, path = "/api/v1/customers/{id}/payments", tag = "customers", params(("id" = uuid::Uuid, Path, description = "The customer's id")), request_body = PaymentRequest, security(("bearer" = ["sell"])),
    responses((status = 201, body = AccountEntryRow), (status = 200, body = AccountEntryRow, description = "The payment was recorded before"), crate::error::CommonErrors))]
pub(crate) async fn pay(
    State(state): State<AppState>,
    auth: Authorized<permits::Sell>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<PaymentRequest>,
) -> ApiResult<(StatusCode, Json<AccountEntryRow>)> {
    let input = PaymentInput {
        id: request.id,
        kind: request.kind,
        amount_minor: request.amount_minor,
        network: request.network,
        phone: request.phone,
        reference: request.reference,
        branch_id: request.branch_id,
        occurred_at: request.occurred_at,
    };
    let (entry, created) = accounts::take_payment(&state, &auth, id, input).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry)))
}

/// `GET /api/v1/customers/{id}/account`: what the customer owes and the statement, every sale
/// on credit, refund and payment with the running balance.
#[utoipa::path(get, path = "/api/v1/customers/{id}/account", tag = "customers", params(("id" = uuid::Uuid, Path, description = "The customer's id")), security(("bearer" = ["view_sales"])),
    responses((status = 200, body = Account), crate::error::CommonErrors))]
pub(crate) async fn account(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewSales>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Account>> {
    Ok(Json(accounts::account(&state, &auth, id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DebtorList {
    items: Vec<Debtor>,
}

/// `GET /api/v1/customers/debtors`: every customer who owes the shop, oldest debt first, each
/// with a WhatsApp reminder link.
#[utoipa::path(get, path = "/api/v1/customers/debtors", tag = "customers", security(("bearer" = ["view_sales"])),
    responses((status = 200, body = DebtorList), crate::error::CommonErrors))]
pub(crate) async fn debtors(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewSales>,
) -> ApiResult<Json<DebtorList>> {
    Ok(Json(DebtorList {
        items: accounts::debtors(&state, &auth).await?,
    }))
}
