//! Billing: the organisation's standing (plan, trial, grace, restriction), its usage counted
//! from its own records, starting a payment with a provider, the providers' webhooks, and
//! settling closed months (usage reported once, whatever is retried).
//!
//! Nothing here is on the sale or sync path: a till never stops because of billing. Billing
//! only refuses additions (tills, branches) past the plan or while restricted, with a 402 that
//! names the limit, and tells the dashboard when it is read-only.

use axum::http::{HeaderMap, StatusCode};
use nexus_domain::billing::{
    self, Account, Addition, BillingCurrency, BillingPeriod, Channel, Charge, PLANS, Plan,
    PlanCode, ProviderKind, Standing, Status, charge_for, usage_identifier,
};
use nexus_domain::{Permission, TenantId, UnixMillis};
use nexus_store::{BillingRecord, EventOutcome, IncomingEvent, UsageCounts, UsageReport};
use serde::Serialize;

use crate::auth::Authenticated;
use crate::billing::{PaymentStart, ProviderEvent, SALES_METER, WebhookError};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The fresh account of an organisation billing has not seen: a trial, billed in the
/// currency the shop trades in.
async fn fresh_account(state: &AppState, tenant: TenantId, now: UnixMillis) -> ApiResult<Account> {
    let settings = state.store.settings(tenant).await?;
    Ok(Account::new_trial(
        BillingCurrency::of_shop(settings.currency),
        now,
    ))
}

/// The organisation's account and what applies now; `None` when billing is off.
pub async fn standing(
    state: &AppState,
    tenant: TenantId,
) -> ApiResult<Option<(BillingRecord, Standing)>> {
    if !state.billing.enabled() {
        return Ok(None);
    }
    let now = state.clock.now();
    let fresh = fresh_account(state, tenant, now).await?;
    let record = state.store.billing_account(tenant, &fresh, now).await?;
    let standing = billing::standing(&record.account, now);
    Ok(Some((record, standing)))
}

/// Refuses one more till or branch past the plan, or while restricted: 402, naming the limit.
pub async fn check_addition(
    state: &AppState,
    tenant: TenantId,
    addition: Addition,
) -> ApiResult<()> {
    let Some((_, standing)) = self::standing(state, tenant).await? else {
        return Ok(());
    };
    let period = BillingPeriod::containing(state.clock.now());
    let counts = state
        .store
        .count_usage(tenant, period.start(), period.end())
        .await?;
    let existing = match addition {
        Addition::Till => counts.tills,
        Addition::Branch => counts.branches,
    };
    standing.allows(addition, existing).map_err(|refused| {
        ApiError::new(StatusCode::PAYMENT_REQUIRED, "plan_limit", refused.message)
            .with_field(refused.limit)
    })
}

/// Whether the dashboard is read-only for the organisation (a payment long overdue).
pub async fn read_only(state: &AppState, tenant: TenantId) -> ApiResult<bool> {
    Ok(self::standing(state, tenant)
        .await?
        .is_some_and(|(_, standing)| standing.read_only()))
}

/// A plan as the API lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub code: String,
    pub name: String,
    /// Per currency, minor units.
    pub monthly: Vec<billing::Price>,
    pub included: billing::Allowance,
    /// Each started hundred sales above the allowance; empty on Free.
    pub per_hundred_sales_over: Vec<billing::Price>,
    pub trial_days: u32,
}

pub fn plans() -> Vec<PlanView> {
    PLANS
        .iter()
        .map(|plan| PlanView {
            code: plan.code.as_str().to_owned(),
            name: plan.name.to_owned(),
            monthly: plan.monthly.to_vec(),
            included: plan.included,
            per_hundred_sales_over: plan.per_hundred_sales_over.to_vec(),
            trial_days: plan.trial_days,
        })
        .collect()
}

/// The organisation's billing now: standing, this month's usage against what is included,
/// and what the month costs so far.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsageView {
    /// False on a server with no payment provider: nothing is billed, no plan limit applies.
    pub enabled: bool,
    pub period: String,
    pub period_start: i64,
    pub period_end: i64,
    pub status: Option<String>,
    pub plan: Option<String>,
    /// The plan subscribed to or tried (differs from `plan` once a trial ended).
    pub subscribed_plan: Option<String>,
    pub provider: Option<String>,
    pub channel: Option<String>,
    pub trial_ends_at: Option<i64>,
    pub grace_ends_at: Option<i64>,
    pub read_only: bool,
    pub sales: u64,
    pub tills: u64,
    pub branches: u64,
    pub included_sales: Option<u64>,
    pub included_tills: Option<u32>,
    pub included_branches: Option<u32>,
    pub charge: Option<Charge>,
}

/// The organisation's usage and standing, after settling any month that has closed.
pub async fn usage(state: &AppState, auth: &Authenticated) -> ApiResult<UsageView> {
    auth.require(Permission::ManageBilling)?;
    let now = state.clock.now();
    let period = BillingPeriod::containing(now);
    let counts = state
        .store
        .count_usage(auth.tenant, period.start(), period.end())
        .await?;
    let mut view = UsageView {
        enabled: false,
        period: period.key(),
        period_start: period.start().as_millis(),
        period_end: period.end().as_millis(),
        status: None,
        plan: None,
        subscribed_plan: None,
        provider: None,
        channel: None,
        trial_ends_at: None,
        grace_ends_at: None,
        read_only: false,
        sales: counts.sales,
        tills: counts.tills,
        branches: counts.branches,
        included_sales: None,
        included_tills: None,
        included_branches: None,
        charge: None,
    };
    // A provider that cannot be reached now is tried again on the next read or the next
    // periodic settling; the owner still sees the month.
    if let Err(error) = settle(state, auth.tenant).await {
        error.log();
    }
    let Some((record, standing)) = self::standing(state, auth.tenant).await? else {
        return Ok(view);
    };
    let plan = standing.plan;
    view.enabled = true;
    view.status = Some(standing.status.as_str().to_owned());
    view.plan = Some(plan.code.as_str().to_owned());
    view.subscribed_plan = Some(standing.subscribed.code.as_str().to_owned());
    view.provider = record.account.provider.map(|kind| kind.as_str().to_owned());
    view.channel = record
        .account
        .channel
        .map(|channel| channel.as_str().to_owned());
    view.trial_ends_at = standing.trial_ends_at.map(UnixMillis::as_millis);
    view.grace_ends_at = standing.grace_ends_at.map(UnixMillis::as_millis);
    view.read_only = standing.read_only();
    view.included_sales = Some(plan.included.sales_per_month);
    view.included_tills = Some(plan.included.tills);
    view.included_branches = Some(plan.included.branches);
    view.charge = charge_for(plan, record.account.currency, counts.sales);
    Ok(view)
}

/// Reports each closed month's sales to the organisation's provider, once: the report
/// carries an identifier per organisation, meter and month, kept by the provider and by us,
/// so a retry or a second server process never bills it twice.
pub async fn settle(state: &AppState, tenant: TenantId) -> ApiResult<()> {
    let Some((record, _)) = self::standing(state, tenant).await? else {
        return Ok(());
    };
    if record.account.channel == Some(Channel::MobileMoney) {
        return renew_mobile_money(state, tenant, &record).await;
    }
    let now = state.clock.now();
    let last_closed = BillingPeriod::containing(now).previous();
    let (Some(provider_kind), Some(customer)) =
        (record.account.provider, record.account.customer_ref.clone())
    else {
        return Ok(());
    };
    if record.account.subscription_ref.is_none() && record.account.channel != Some(Channel::Card) {
        return Ok(());
    }
    let Some(provider) = state.billing.provider(provider_kind) else {
        return Ok(());
    };
    // The first month settled is the one before this; earlier ones predate the subscription.
    let mut period = record
        .settled_through
        .map_or(last_closed, BillingPeriod::next);
    while period <= last_closed {
        let identifier = usage_identifier(tenant, "sales", period);
        if !state.store.usage_reported(&identifier).await? {
            let counts = state
                .store
                .count_usage(tenant, period.start(), period.end())
                .await?;
            let report = UsageReport {
                identifier,
                tenant,
                meter: SALES_METER.to_owned(),
                period,
                value: i64::try_from(counts.sales).unwrap_or(i64::MAX),
                reported_at: now,
            };
            provider
                .report_usage(&customer, &report)
                .await
                .map_err(|error| unavailable(&error.to_string()))?;
            state.store.record_usage_report(&report).await?;
        }
        state.store.set_settled_through(tenant, period).await?;
        period = period.next();
    }
    Ok(())
}

/// A mobile-money subscription's month: a renewal gone unpaid past its due date makes it past
/// due, and a month not yet paid gets its invoice, the plan's price with the sales above the
/// allowance in the month before, and a pay link the owner opens from the Billing page.
async fn renew_mobile_money(
    state: &AppState,
    tenant: TenantId,
    record: &BillingRecord,
) -> ApiResult<()> {
    let (Some(kind), Some(customer)) = (record.account.provider, &record.account.customer_ref)
    else {
        return Ok(());
    };
    let Some(provider) = state.billing.provider(kind) else {
        return Ok(());
    };
    let now = state.clock.now();
    let invoices = state.store.invoices(tenant).await?;
    let seen: Vec<billing::InvoiceSeen<'_>> = invoices
        .iter()
        .map(|invoice| billing::InvoiceSeen {
            reference: &invoice.reference,
            period: invoice.period,
            paid: invoice.status == nexus_store::InvoiceStatus::Paid,
            due_at: invoice.due_at,
        })
        .collect();
    for (at, failed) in billing::unpaid_renewals(tenant, &seen, now) {
        let decide = move |account: &Account| billing::apply(account, at, &failed);
        // A payment newer than the due date leaves the account as it is.
        let _ = state
            .store
            .update_billing_account(tenant, at, &decide)
            .await?;
    }
    let Some(period) = billing::renewal_due(tenant, &record.account, &seen, now) else {
        return Ok(());
    };
    let plan = billing::plan(record.account.plan);
    let currency = record.account.currency;
    let before = period.previous();
    let sales_before = state
        .store
        .count_usage(tenant, before.start(), before.end())
        .await?
        .sales;
    let Some(charge) = charge_for(plan, currency, sales_before) else {
        return Ok(());
    };
    let Some(owner) = state
        .store
        .list_users(tenant)
        .await?
        .into_iter()
        .find(|user| user.active && user.role == nexus_domain::Role::Owner)
    else {
        tracing::warn!(tenant = %tenant, "no active owner to send the mobile-money renewal to");
        return Ok(());
    };
    let reference = billing::renewal_reference(tenant, period);
    let return_url = format!("{}/billing", state.public_url);
    let amount_minor = charge.plan_minor.saturating_add(charge.over_minor);
    let start = PaymentStart {
        tenant,
        plan: plan.code,
        plan_name: plan.name,
        currency,
        amount_minor,
        channel: Channel::MobileMoney,
        customer,
        email: &owner.email,
        reference: &reference,
        return_url: &return_url,
    };
    let url = provider
        .start_payment(&start)
        .await
        .map_err(|error| unavailable(&error.to_string()))?;
    let due_at = now.plus_millis(billing::RENEWAL_DUE_DAYS * 24 * 60 * 60 * 1000);
    record_invoice(state, &start, kind, period, charge.over_minor, &url, due_at).await?;
    Ok(())
}

/// Settles every organisation; run now and then by the service, and on each usage read.
pub async fn settle_all(state: &AppState) {
    let tenants = match state.store.billing_tenants().await {
        Ok(tenants) => tenants,
        Err(error) => {
            tracing::warn!(%error, "listing billing accounts to settle");
            return;
        }
    };
    for tenant in tenants {
        if let Err(error) = settle(state, tenant).await {
            error.log();
        }
    }
}

/// Settles every organisation at once and then every `every`, for as long as the service runs.
/// Several server processes may do so together: each report and renewal is keyed per
/// organisation and month, so the provider and the store keep one.
pub async fn settle_every(state: AppState, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every.max(std::time::Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        settle_all(&state).await;
    }
}

fn unavailable(detail: &str) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::BAD_GATEWAY,
        "provider_unavailable",
        "the payment provider could not be reached; nothing was charged, try again in a moment",
    );
    tracing::warn!(detail, "payment provider call failed");
    error = error.with_field("provider");
    error
}

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
    let Some((record, _)) = self::standing(state, auth.tenant).await? else {
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
        plan: plan.code,
        plan_name: plan.name,
        currency,
        amount_minor,
        channel: checkout.channel,
        customer: &customer,
        email: &auth.user.email,
        reference: &reference,
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
    let Some((record, _)) = self::standing(state, auth.tenant).await? else {
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

/// The organisation's invoices, newest first.
pub async fn invoices(
    state: &AppState,
    auth: &Authenticated,
) -> ApiResult<Vec<nexus_store::InvoiceRecord>> {
    auth.require(Permission::ManageBilling)?;
    Ok(state.store.invoices(auth.tenant).await?)
}

/// This month's counts, for the dashboard's usage bars.
pub async fn counts(state: &AppState, tenant: TenantId) -> ApiResult<UsageCounts> {
    let period = BillingPeriod::containing(state.clock.now());
    Ok(state
        .store
        .count_usage(tenant, period.start(), period.end())
        .await?)
}
