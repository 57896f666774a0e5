//! Paying for a plan: the provider's page the owner is sent to, or, while a card subscription
//! runs, moving it to the plan asked for (never a second subscription, which would bill the
//! organisation twice); and the provider's page for changing the card or cancelling.

use axum::http::StatusCode;
use nexus_domain::billing::{
    self, Account, BillingPeriod, Channel, Plan, PlanCode, ProviderKind, Status,
};
use nexus_domain::{Permission, UnixMillis};

use super::{standing, unavailable};
use crate::auth::Authenticated;
use crate::billing::{PaymentStart, Purpose};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What the owner asked to pay for.
#[derive(Clone, Copy, Debug)]
pub struct Checkout {
    pub plan: PlanCode,
    pub provider: ProviderKind,
    pub channel: Channel,
}

/// What asking for a plan led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Started {
    /// The provider's page where the owner pays.
    Pay(String),
    /// A card subscription was moved to the plan; the provider prorates the difference.
    PlanChanged,
}

fn already_subscribed(message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "already_subscribed", message)
}

/// A plan asked for while a card subscription runs: moved where the provider can, refused
/// otherwise, since a second subscription would bill the organisation twice.
async fn change_card_plan(
    state: &AppState,
    account: &Account,
    subscription: &str,
    held: ProviderKind,
    checkout: Checkout,
) -> ApiResult<Started> {
    let current = billing::plan(account.plan);
    let wanted = billing::plan(checkout.plan);
    if checkout.plan == account.plan {
        return Err(already_subscribed(format!(
            "The {} plan is already paid by card through {}. To change the card, use Change card or cancel.",
            current.name,
            held.name()
        )));
    }
    if checkout.provider != held || checkout.channel != Channel::Card {
        return Err(already_subscribed(format!(
            "The {} plan is paid by card through {}: cancel that subscription first, then pay for the {} plan another way.",
            current.name,
            held.name(),
            wanted.name
        )));
    }
    let Some(provider) = state.billing.provider(held) else {
        return Err(unavailable(&format!("{} is no longer set up", held.name())));
    };
    if wanted.is_free() {
        return Err(ApiError::validation(
            "To go back to the Free plan, cancel the card subscription (Change card or cancel).",
        )
        .with_field("plan"));
    }
    let moved = provider
        .change_plan(subscription, checkout.plan, account.currency)
        .await
        .map_err(|error| unavailable(&error.to_string()))?;
    if moved {
        Ok(Started::PlanChanged)
    } else {
        Err(already_subscribed(format!(
            "{name} cannot move a card subscription to another plan. Cancel it from the link in {name}'s emails, then pay for the {plan} plan here.",
            name = held.name(),
            plan = wanted.name
        )))
    }
}

/// Starts a payment (the provider's page the owner is sent to), or moves a running card
/// subscription to the plan asked for.
pub async fn start_checkout(
    state: &AppState,
    auth: &Authenticated,
    checkout: Checkout,
    return_url: &str,
) -> ApiResult<Started> {
    auth.require(Permission::ManageBilling)?;
    let Some((record, _)) = standing(state, auth.tenant).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "billing_off",
            "billing is off on this server: nothing needs paying",
        ));
    };
    let provider = state.billing.provider(checkout.provider).ok_or_else(|| {
        ApiError::validation(format!(
            "{} is not set up on this server",
            checkout.provider.name()
        ))
        .with_field("provider")
    })?;
    let account = &record.account;
    if let (Some(subscription), Some(held)) = (&account.subscription_ref, account.provider)
        && account.channel == Some(Channel::Card)
        && matches!(account.status, Status::Active | Status::PastDue)
    {
        return change_card_plan(state, account, subscription, held, checkout).await;
    }
    let plan: &Plan = billing::plan(checkout.plan);
    if plan.is_free() {
        return Err(ApiError::validation("the Free plan needs no payment").with_field("plan"));
    }
    if checkout.provider == ProviderKind::Stripe && checkout.channel != Channel::Card {
        return Err(
            ApiError::validation("Stripe takes cards; pay mobile money through Paystack")
                .with_field("channel"),
        );
    }
    let currency = record.account.currency;
    let amount_minor = plan.monthly_in(currency).ok_or_else(|| {
        ApiError::validation(format!(
            "the {} plan is not sold in {}",
            plan.name,
            currency.code()
        ))
    })?;
    let now = state.clock.now();
    let customer = match (&record.account.provider, &record.account.customer_ref) {
        (Some(kind), Some(customer)) if *kind == checkout.provider => customer.clone(),
        _ => {
            let customer = provider
                .create_customer(auth.tenant, &auth.user.email, &auth.user.name)
                .await
                .map_err(|error| unavailable(&error.to_string()))?;
            state
                .store
                .set_billing_customer(auth.tenant, checkout.provider, &customer, now)
                .await?;
            customer
        }
    };
    let period = BillingPeriod::containing(now);
    let reference = format!(
        "nx-{}-{}-{}",
        &auth.tenant.as_uuid().simple().to_string()[..12],
        period.key(),
        uuid::Uuid::now_v7().simple()
    );
    let start = PaymentStart {
        tenant: auth.tenant,
        purpose: Purpose::Plan,
        plan: plan.code,
        plan_name: plan.name,
        currency,
        amount_minor,
        channel: checkout.channel,
        customer: &customer,
        email: &auth.user.email,
        reference: &reference,
        transaction: &reference,
        return_url,
    };
    let url = provider
        .start_payment(&start)
        .await
        .map_err(|error| unavailable(&error.to_string()))?;
    if checkout.provider == ProviderKind::Paystack {
        record_invoice(
            state,
            &start,
            checkout.provider,
            period,
            0,
            &url,
            now.plus_seconds(7 * 24 * 60 * 60),
        )
        .await?;
    }
    Ok(Started::Pay(url))
}

/// Nexus's invoice for a payment started with a provider; the provider's webhook marks it
/// paid. `false` when one of that reference exists (another process opened it first).
async fn record_invoice(
    state: &AppState,
    start: &PaymentStart<'_>,
    provider: ProviderKind,
    period: BillingPeriod,
    over_minor: i64,
    pay_url: &str,
    due_at: UnixMillis,
) -> ApiResult<bool> {
    Ok(state
        .store
        .insert_invoice(&nexus_store::InvoiceRecord {
            id: uuid::Uuid::now_v7(),
            tenant: start.tenant,
            reference: start.reference.to_owned(),
            period,
            plan: start.plan,
            currency: start.currency,
            plan_minor: start.amount_minor.saturating_sub(over_minor),
            over_minor,
            amount_minor: start.amount_minor,
            status: nexus_store::InvoiceStatus::Open,
            provider,
            pay_url: Some(pay_url.to_owned()),
            created_at: state.clock.now(),
            due_at,
            paid_at: None,
        })
        .await?)
}

/// The provider's page for changing the card or cancelling, where it has one.
pub async fn manage_url(
    state: &AppState,
    auth: &Authenticated,
    return_url: &str,
) -> ApiResult<Option<String>> {
    auth.require(Permission::ManageBilling)?;
    let Some((record, _)) = standing(state, auth.tenant).await? else {
        return Ok(None);
    };
    let (Some(kind), Some(customer)) = (record.account.provider, &record.account.customer_ref)
    else {
        return Ok(None);
    };
    let Some(provider) = state.billing.provider(kind) else {
        return Ok(None);
    };
    provider
        .manage_url(customer, return_url)
        .await
        .map_err(|error| unavailable(&error.to_string()))
}
