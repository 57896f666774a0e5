//! Nexus's own monthly invoices. No provider can take money from a wallet again unasked, so
//! each month of a mobile-money subscription opens with Nexus's own invoice and a pay link; and
//! a provider with no usage meter (Paystack) is sent the sales above the allowance as an
//! invoice of their own once the month has closed. Either left unpaid past its due date makes
//! the subscription past due from that date, as a declined card renewal does; the grace and the
//! restriction then follow as for a card.

use super::lifecycle::{Account, Channel, Event, Status};
use super::period::BillingPeriod;
use crate::TenantId;
use crate::time::UnixMillis;

/// Days from a renewal or usage invoice to its due date.
pub const RENEWAL_DUE_DAYS: i64 = 7;

/// The reference of the invoice renewing `period`: one per organisation and month, so two
/// server processes settling at once ask the provider for the same payment, which it refuses
/// to open twice.
pub fn renewal_reference(tenant: TenantId, period: BillingPeriod) -> String {
    format!("nx-{}-{}-renewal", tenant.as_uuid().simple(), period.key())
}

/// The reference of the invoice for the sales above the allowance in `period`, a closed
/// month: one per organisation and month, like a renewal's.
pub fn usage_reference(tenant: TenantId, period: BillingPeriod) -> String {
    format!("nx-{}-{}-usage", tenant.as_uuid().simple(), period.key())
}

/// Whether `reference` is one of the monthly invoices Nexus opens by itself (a renewal or a
/// month's usage), as against a payment the owner started.
fn opened_monthly(tenant: TenantId, reference: &str, period: BillingPeriod) -> bool {
    reference == renewal_reference(tenant, period) || reference == usage_reference(tenant, period)
}

/// What Nexus knows of one of the organisation's invoices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceSeen<'a> {
    pub reference: &'a str,
    pub period: BillingPeriod,
    pub paid: bool,
    pub due_at: UnixMillis,
}

/// The month a mobile-money subscription must be invoiced for at `now`, if any: the current
/// one, unless a payment of it went through (the first month is paid at checkout) or its
/// renewal is already out. A checkout left unpaid does not count: it may be a change of plan
/// the owner gave up on, and the month still needs paying.
pub fn renewal_due(
    tenant: TenantId,
    account: &Account,
    invoices: &[InvoiceSeen<'_>],
    now: UnixMillis,
) -> Option<BillingPeriod> {
    if account.channel != Some(Channel::MobileMoney)
        || !matches!(account.status, Status::Active | Status::PastDue)
    {
        return None;
    }
    let period = BillingPeriod::containing(now);
    let covered = invoices.iter().any(|invoice| {
        invoice.period == period
            && (invoice.paid || invoice.reference == renewal_reference(tenant, period))
    });
    (!covered).then_some(period)
}

/// The monthly invoices (renewals and usage) gone unpaid past their due date, each as the
/// failed payment it amounts to and the moment it happened. Applying one to an account paid
/// since changes nothing: the payment is newer.
pub fn overdue_monthly_invoices(
    tenant: TenantId,
    invoices: &[InvoiceSeen<'_>],
    now: UnixMillis,
) -> Vec<(UnixMillis, Event)> {
    invoices
        .iter()
        .filter(|invoice| {
            !invoice.paid
                && invoice.due_at <= now
                && opened_monthly(tenant, invoice.reference, invoice.period)
        })
        .map(|invoice| {
            (
                invoice.due_at,
                Event::PaymentFailed {
                    subscription_ref: None,
                },
            )
        })
        .collect()
}
