//! Settling an organisation's closed months: each month's usage reported once to a provider
//! with a meter, or invoiced by Nexus where the provider has none; each mobile-money month
//! invoiced with a pay link; and an invoice of either kind left unpaid past its due date turned
//! into the failed payment it amounts to. Whatever is retried, by this process or another,
//! each report and each invoice is keyed per organisation and month and exists once.

use std::sync::Arc;

use nexus_domain::TenantId;
use nexus_domain::billing::{
    self, Account, BillingPeriod, Channel, Plan, charge_for, usage_identifier,
};
use nexus_store::{BillingRecord, InvoiceRecord, InvoiceStatus, UsageReport};

use super::{standing, unavailable};
use crate::billing::{Collector, PaymentStart, Purpose, SALES_METER};
use crate::error::ApiResult;
use crate::state::AppState;

/// How long an invoice may wait for its pay link before a settling process makes one: the
/// process that opened it may still be asking the provider, or may have died doing so.
const PAY_LINK_WAIT_MILLIS: i64 = 60 * 1000;

/// Settles the organisation: overdue invoices first, then missing pay links, then the months
/// that need billing.
pub async fn settle(state: &AppState, tenant: TenantId) -> ApiResult<()> {
    let Some((record, _)) = standing(state, tenant).await? else {
        return Ok(());
    };
    let (Some(kind), Some(customer)) = (record.account.provider, &record.account.customer_ref)
    else {
        return Ok(());
    };
    let Some(provider) = state.billing.provider(kind) else {
        return Ok(());
    };
    let biller = Biller {
        state,
        tenant,
        record: &record,
        provider,
        customer,
    };
    let invoices = state.store.invoices(tenant).await?;
    biller.mark_overdue(&invoices).await?;
    biller.complete_pay_links(&invoices).await?;
    if record.account.channel == Some(Channel::MobileMoney) {
        biller.renew_mobile_money(&invoices).await
    } else {
        biller.bill_closed_months().await
    }
}

/// One organisation's settling with its provider.
struct Biller<'a> {
    state: &'a AppState,
    tenant: TenantId,
    record: &'a BillingRecord,
    provider: &'a Arc<dyn Collector>,
    customer: &'a str,
}

impl Biller<'_> {
    fn plan(&self) -> &'static Plan {
        billing::plan(self.record.account.plan)
    }

    /// A monthly invoice unpaid past its due date makes the subscription past due from then.
    async fn mark_overdue(&self, invoices: &[InvoiceRecord]) -> ApiResult<()> {
        let now = self.state.clock.now();
        for (at, failed) in billing::overdue_monthly_invoices(self.tenant, &seen(invoices), now) {
            let decide = move |account: &Account| billing::apply(account, at, &failed);
            // A payment newer than the due date leaves the account as it is.
            let _ = self
                .state
                .store
                .update_billing_account(self.tenant, at, &decide)
                .await?;
        }
        Ok(())
    }

    /// Each card month after the last one settled: its usage reported to a provider that
    /// meters it, or invoiced where the provider has no meter and the month went over the
    /// allowance.
    async fn bill_closed_months(&self) -> ApiResult<()> {
        let account = &self.record.account;
        if account.subscription_ref.is_none() && account.channel != Some(Channel::Card) {
            return Ok(());
        }
        let last_closed = BillingPeriod::containing(self.state.clock.now()).previous();
        // The first month settled is the one before this; earlier ones predate the subscription.
        let mut period = self
            .record
            .settled_through
            .map_or(last_closed, BillingPeriod::next);
        while period <= last_closed {
            let sales = self
                .state
                .store
                .count_usage(self.tenant, period.start(), period.end())
                .await?
                .sales;
            let charge = charge_for(self.plan(), account.currency, sales);
            if self.provider.meters_usage() {
                let hundreds = charge.map_or(0, |charge| charge.hundreds_over);
                self.report(period, i64::try_from(hundreds).unwrap_or(i64::MAX))
                    .await?;
            } else if let Some(charge) = charge.filter(|charge| charge.over_minor > 0) {
                let reference = billing::usage_reference(self.tenant, period);
                self.open_invoice(&reference, period, 0, charge.over_minor)
                    .await?;
            }
            self.state
                .store
                .set_settled_through(self.tenant, period)
                .await?;
            period = period.next();
        }
        Ok(())
    }

    /// One month's usage to the provider's meter, once: the report carries an identifier per
    /// organisation, meter and month, kept by the provider and by us.
    async fn report(&self, period: BillingPeriod, value: i64) -> ApiResult<()> {
        let identifier = usage_identifier(self.tenant, "sales", period);
        if self.state.store.usage_reported(&identifier).await? {
            return Ok(());
        }
        let report = UsageReport {
            identifier,
            tenant: self.tenant,
            meter: SALES_METER.to_owned(),
            period,
            value,
            reported_at: self.state.clock.now(),
        };
        self.provider
            .report_usage(self.customer, &report)
            .await
            .map_err(|error| unavailable(&error.to_string()))?;
        self.state.store.record_usage_report(&report).await?;
        Ok(())
    }

    /// A mobile-money month not yet paid gets its invoice: the plan's price with the sales
    /// above the allowance in the month before, and a pay link on the Billing page.
    async fn renew_mobile_money(&self, invoices: &[InvoiceRecord]) -> ApiResult<()> {
        let now = self.state.clock.now();
        let Some(period) =
            billing::renewal_due(self.tenant, &self.record.account, &seen(invoices), now)
        else {
            return Ok(());
        };
        let before = period.previous();
        let sales_before = self
            .state
            .store
            .count_usage(self.tenant, before.start(), before.end())
            .await?
            .sales;
        let Some(charge) = charge_for(self.plan(), self.record.account.currency, sales_before)
        else {
            return Ok(());
        };
        let reference = billing::renewal_reference(self.tenant, period);
        self.open_invoice(&reference, period, charge.plan_minor, charge.over_minor)
            .await
    }

    /// Opens the invoice, then asks the provider for its pay link. The invoice comes first: of
    /// two processes opening the same one only the first asks, and an invoice whose pay link
    /// never came (the provider was down, the process died) gets one on a later settling.
    async fn open_invoice(
        &self,
        reference: &str,
        period: BillingPeriod,
        plan_minor: i64,
        over_minor: i64,
    ) -> ApiResult<()> {
        let now = self.state.clock.now();
        let invoice = InvoiceRecord {
            id: uuid::Uuid::now_v7(),
            tenant: self.tenant,
            reference: reference.to_owned(),
            period,
            plan: self.record.account.plan,
            currency: self.record.account.currency,
            plan_minor,
            over_minor,
            amount_minor: plan_minor.saturating_add(over_minor),
            status: InvoiceStatus::Open,
            provider: self.provider.kind(),
            pay_url: None,
            created_at: now,
            due_at: now.plus_millis(billing::RENEWAL_DUE_DAYS * 24 * 60 * 60 * 1000),
            paid_at: None,
        };
        if self.state.store.insert_invoice(&invoice).await? {
            self.pay_link(&invoice, reference).await?;
        }
        Ok(())
    }

    /// The pay links of invoices left without one long enough; each asked for under a new
    /// provider reference, since the provider may hold the first from the attempt that failed.
    async fn complete_pay_links(&self, invoices: &[InvoiceRecord]) -> ApiResult<()> {
        let now = self.state.clock.now();
        for invoice in invoices.iter().filter(|invoice| {
            invoice.status == InvoiceStatus::Open
                && invoice.pay_url.is_none()
                && invoice.created_at.plus_millis(PAY_LINK_WAIT_MILLIS) <= now
        }) {
            let transaction = format!("{}-{}", invoice.reference, now.as_millis());
            self.pay_link(invoice, &transaction).await?;
        }
        Ok(())
    }

    async fn pay_link(&self, invoice: &InvoiceRecord, transaction: &str) -> ApiResult<()> {
        let Some(owner) = self
            .state
            .store
            .list_users(self.tenant)
            .await?
            .into_iter()
            .find(|user| user.active && user.role == nexus_domain::Role::Owner)
        else {
            tracing::warn!(tenant = %self.tenant, "no active owner to send the invoice to");
            return Ok(());
        };
        let usage = invoice.reference == billing::usage_reference(self.tenant, invoice.period);
        let plan = billing::plan(invoice.plan);
        let return_url = format!("{}/billing", self.state.public_url);
        let start = PaymentStart {
            tenant: self.tenant,
            purpose: if usage { Purpose::Usage } else { Purpose::Plan },
            plan: plan.code,
            plan_name: plan.name,
            currency: invoice.currency,
            amount_minor: invoice.amount_minor,
            channel: if usage {
                Channel::Card
            } else {
                Channel::MobileMoney
            },
            customer: self.customer,
            email: &owner.email,
            reference: &invoice.reference,
            transaction,
            return_url: &return_url,
        };
        let url = self
            .provider
            .start_payment(&start)
            .await
            .map_err(|error| unavailable(&error.to_string()))?;
        self.state
            .store
            .set_invoice_pay_url(&invoice.reference, &url)
            .await?;
        Ok(())
    }
}

fn seen(invoices: &[InvoiceRecord]) -> Vec<billing::InvoiceSeen<'_>> {
    invoices
        .iter()
        .map(|invoice| billing::InvoiceSeen {
            reference: &invoice.reference,
            period: invoice.period,
            paid: invoice.status == InvoiceStatus::Paid,
            due_at: invoice.due_at,
        })
        .collect()
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
/// Several server processes may do so together: each report and invoice is keyed per
/// organisation and month, so the provider and the store keep one.
pub async fn settle_every(state: AppState, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every.max(std::time::Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        settle_all(&state).await;
    }
}
