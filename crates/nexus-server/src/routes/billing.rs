//! Billing: the plans, the organisation's usage and invoices, starting a payment, and the
//! providers' webhooks (raw bodies: a signature covers the exact bytes).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use nexus_domain::billing::{Channel, PlanCode, ProviderKind};
use serde::{Deserialize, Serialize};

use crate::auth::{Authorized, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::services::billing::{self, Checkout, PlanView, Started, UsageView, WebhookAnswer};
use crate::state::AppState;

/// `GET /api/v1/billing/plans`: every plan, its prices per currency and what it includes.
#[utoipa::path(get, path = "/api/v1/billing/plans", tag = "billing", responses((status = 200, body = [PlanView])))]
pub(crate) async fn plans() -> Json<Vec<PlanView>> {
    Json(billing::plans())
}

/// `GET /api/v1/billing/usage`: this month's usage, counted from the organisation's records,
/// against what its plan includes, and where the subscription stands.
#[utoipa::path(get, path = "/api/v1/billing/usage", tag = "billing", security(("bearer" = ["manage_billing"])), responses((status = 200, body = UsageView), crate::error::CommonErrors))]
pub(crate) async fn usage(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageBilling>,
) -> ApiResult<Json<UsageView>> {
    Ok(Json(billing::usage(&state, &auth).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct InvoiceView {
    reference: String,
    period: String,
    plan: String,
    currency: String,
    /// The plan's price for the month.
    plan_minor: i64,
    /// The sales above the allowance (of the month before, on a mobile-money renewal).
    over_minor: i64,
    amount_minor: i64,
    status: String,
    provider: String,
    pay_url: Option<String>,
    created_at: i64,
    due_at: i64,
    paid_at: Option<i64>,
}

/// `GET /api/v1/billing/invoices`: the organisation's invoices, newest first.
#[utoipa::path(get, path = "/api/v1/billing/invoices", tag = "billing", security(("bearer" = ["manage_billing"])), responses((status = 200, body = [InvoiceView]), crate::error::CommonErrors))]
pub(crate) async fn invoices(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageBilling>,
) -> ApiResult<Json<Vec<InvoiceView>>> {
    let invoices = billing::invoices(&state, &auth).await?;
    Ok(Json(
        invoices
            .into_iter()
            .map(|invoice| InvoiceView {
                reference: invoice.reference,
                period: invoice.period.key(),
                plan: invoice.plan.as_str().to_owned(),
                currency: invoice.currency.code().to_owned(),
                plan_minor: invoice.plan_minor,
                over_minor: invoice.over_minor,
                amount_minor: invoice.amount_minor,
                status: invoice.status.as_str().to_owned(),
                provider: invoice.provider.as_str().to_owned(),
                pay_url: invoice.pay_url,
                created_at: invoice.created_at.as_millis(),
                due_at: invoice.due_at.as_millis(),
                paid_at: invoice.paid_at.map(|at| at.as_millis()),
            })
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckoutRequest {
    /// `shop`, `business`.
    plan: String,
    /// `stripe` or `paystack`.
    provider: String,
    /// `card` (default) or `mobile_money` (Paystack).
    channel: Option<String>,
    /// Where the provider sends the owner back; the dashboard's billing page by default.
    return_url: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CheckoutAnswer {
    /// The provider's page where the owner pays; none when a card subscription was moved to
    /// the plan instead.
    url: Option<String>,
    /// A running card subscription now bills the plan asked for; the provider prorates it.
    plan_changed: bool,
}

/// Parses what the owner asked to pay for.
pub(crate) fn parse_checkout(
    plan: &str,
    provider: &str,
    channel: Option<&str>,
) -> ApiResult<Checkout> {
    Ok(Checkout {
        plan: PlanCode::parse(plan).ok_or_else(|| {
            ApiError::validation(format!("{plan:?} is not a plan")).with_field("plan")
        })?,
        provider: ProviderKind::parse(provider).ok_or_else(|| {
            ApiError::validation("provider must be stripe or paystack").with_field("provider")
        })?,
        channel: match channel {
            None => Channel::Card,
            Some(text) => Channel::parse(text).ok_or_else(|| {
                ApiError::validation("channel must be card or mobile_money").with_field("channel")
            })?,
        },
    })
}

/// `POST /api/v1/billing/checkout`: starts a payment; answers the provider's page to send the
/// owner to.
#[utoipa::path(post, path = "/api/v1/billing/checkout", tag = "billing", security(("bearer" = ["manage_billing"])), request_body = CheckoutRequest, responses((status = 200, body = CheckoutAnswer), crate::error::CommonErrors))]
pub(crate) async fn checkout(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageBilling>,
    ApiJson(request): ApiJson<CheckoutRequest>,
) -> ApiResult<Json<CheckoutAnswer>> {
    let checkout = parse_checkout(&request.plan, &request.provider, request.channel.as_deref())?;
    let fallback = format!("{}/billing", state.public_url);
    let return_url = request.return_url.unwrap_or(fallback);
    if !(return_url.starts_with("https://") || return_url.starts_with("http://"))
        || return_url.len() > 500
    {
        return Err(
            ApiError::validation("return_url must be an http(s) address").with_field("return_url"),
        );
    }
    Ok(Json(
        match billing::start_checkout(&state, &auth, checkout, &return_url).await? {
            Started::Pay(url) => CheckoutAnswer {
                url: Some(url),
                plan_changed: false,
            },
            Started::PlanChanged => CheckoutAnswer {
                url: None,
                plan_changed: true,
            },
        },
    ))
}

/// `POST /api/v1/billing/webhooks/stripe`: Stripe's events, signed (`Stripe-Signature`).
#[utoipa::path(post, path = "/api/v1/billing/webhooks/stripe", tag = "billing", request_body(content = String, content_type = "application/json"), responses((status = 200, body = WebhookAnswer), (status = 400, description = "bad or missing signature, or not an event"), (status = 404, description = "Stripe is not set up")))]
pub(crate) async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookAnswer>> {
    Ok(Json(
        billing::take_webhook(&state, ProviderKind::Stripe, &headers, &body).await?,
    ))
}

/// `POST /api/v1/billing/webhooks/paystack`: Paystack's events, signed
/// (`x-paystack-signature`); each payment is confirmed with Paystack before it counts.
#[utoipa::path(post, path = "/api/v1/billing/webhooks/paystack", tag = "billing", request_body(content = String, content_type = "application/json"), responses((status = 200, body = WebhookAnswer), (status = 400, description = "bad or missing signature, or not an event"), (status = 404, description = "Paystack is not set up")))]
pub(crate) async fn paystack_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookAnswer>> {
    Ok(Json(
        billing::take_webhook(&state, ProviderKind::Paystack, &headers, &body).await?,
    ))
}
