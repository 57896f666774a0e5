//! Billing: the organisation's standing (plan, trial, grace, restriction) and its usage counted
//! from its own records; paying ([`checkout`]), the providers' webhooks ([`webhook`]), and
//! settling closed months ([`settle`]: usage reported or invoiced once, whatever is retried).
//!
//! Nothing here is on the sale or sync path: a till never stops because of billing. Billing
//! only refuses additions (tills, branches) past the plan or while restricted, with a 402 that
//! names the limit, and tells the dashboard when it is read-only.

mod checkout;
mod settle;
mod webhook;

use axum::http::StatusCode;
use nexus_domain::billing::{
    self, Account, Addition, BillingCurrency, BillingPeriod, Charge, PLANS, Standing, charge_for,
};
use nexus_domain::{Permission, TenantId, UnixMillis};
use nexus_store::{BillingRecord, UsageCounts};
use serde::Serialize;

pub use checkout::{Checkout, Started, manage_url, start_checkout};
pub use settle::{settle, settle_all, settle_every};
pub use webhook::{WebhookAnswer, take_webhook};

use crate::auth::Authenticated;
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

/// What a signed-in person may still change through the API while the organisation is
/// restricted: trading (sales, refunds, voids, a customer paying their account), signing in and
/// out, and paying Nexus. A till's own sync is not a person's request and is never refused.
fn allowed_while_read_only(path: &str) -> bool {
    // Adding a till or a branch is refused by its own check, which names the plan limit.
    path == "/api/v1/stations"
        || path == "/api/v1/branches"
        || path == "/api/v1/sales"
        || path.starts_with("/api/v1/sales/")
        || path.starts_with("/api/v1/auth/")
        || path.starts_with("/api/v1/billing/")
        || (path.starts_with("/api/v1/customers/") && path.ends_with("/payments"))
}

/// Refuses a change through the API while the organisation is restricted (a payment long
/// overdue), as the dashboard does: 402, saying what still works.
pub async fn refuse_while_read_only(
    state: &AppState,
    tenant: TenantId,
    path: &str,
) -> ApiResult<()> {
    if allowed_while_read_only(path) || !read_only(state, tenant).await? {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::PAYMENT_REQUIRED,
        "read_only",
        "The Nexus subscription is long overdue, so nothing can be changed until it is paid \
         (Billing). Selling, refunds and the tills' sync carry on, and every report and export \
         still opens.",
    ))
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
