//! A provider's webhook, taken once and in the order things happened: the signature first,
//! then the event, which the store applies to the account only if it is new and not older than
//! the state held.

use axum::http::{HeaderMap, StatusCode};
use nexus_domain::billing::{self, Account, BillingPeriod, ProviderKind};
use nexus_store::{EventOutcome, IncomingEvent};
use serde::Serialize;

use super::unavailable;
use crate::billing::{ProviderEvent, WebhookError};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a webhook's sender is told.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookAnswer {
    /// `applied`, `duplicate`, `older`, `other_subscription`, `unknown_customer`, `ignored`.
    pub outcome: String,
}

/// Takes one provider webhook: the signature first, then the event once, in the order
/// things happened. A bad signature is 400 (the sender is not the provider); an event that
/// changes nothing is still 200, so the provider stops sending it.
pub async fn take_webhook(
    state: &AppState,
    kind: ProviderKind,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<WebhookAnswer> {
    let provider = state
        .billing
        .provider(kind)
        .ok_or_else(|| ApiError::not_found(&format!("{} billing", kind.name())))?;
    let now = state.clock.now();
    let event: ProviderEvent = match provider.take_webhook(headers, body, now).await {
        Ok(event) => event,
        Err(WebhookError::Signature(error)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_signature",
                error.to_string(),
            ));
        }
        Err(WebhookError::Malformed(detail)) => {
            return Err(ApiError::bad_request(format!(
                "not a {} event: {detail}",
                kind.name()
            )));
        }
        Err(WebhookError::Unconfirmed(error)) => return Err(unavailable(&error.to_string())),
    };
    if let Some(reference) = &event.paid_reference {
        state.store.mark_invoice_paid(reference, now).await?;
    }
    let occurred_at = event.occurred_at.unwrap_or(now);
    let change = event.change.clone();
    let decide = move |account: &Account| match &change {
        Some(change) => billing::apply(account, occurred_at, change),
        // An event that means nothing for the account leaves it as it is.
        None => Ok(account.clone()),
    };
    let outcome = state
        .store
        .apply_billing_event(
            &IncomingEvent {
                provider: kind,
                event_id: event.event_id.clone(),
                kind: event.kind.clone(),
                occurred_at,
                customer_ref: event.customer_ref.clone(),
                now,
            },
            &decide,
        )
        .await?;
    if let EventOutcome::Applied(record) = &outcome
        && record.settled_through.is_none()
        && matches!(event.change, Some(billing::Event::Subscribed { .. }))
    {
        // Usage is billed from the month the subscription began: the months before it were
        // a trial or Free, and reporting them would bill the organisation for them.
        let before = BillingPeriod::containing(occurred_at).previous();
        state
            .store
            .set_settled_through(record.tenant, before)
            .await?;
    }
    let outcome = match outcome {
        EventOutcome::Applied(_) if event.change.is_none() => "ignored",
        EventOutcome::Applied(_) => "applied",
        EventOutcome::Duplicate => "duplicate",
        EventOutcome::Ignored(_, billing::Ignored::Older) => "older",
        EventOutcome::Ignored(_, billing::Ignored::OtherSubscription) => "other_subscription",
        EventOutcome::UnknownCustomer => "unknown_customer",
    };
    tracing::info!(provider = kind.as_str(), event = %event.event_id, kind = %event.kind, outcome, "billing webhook");
    Ok(WebhookAnswer {
        outcome: outcome.to_owned(),
    })
}
