//! Subscription billing's rules: the plans (data, not code paths), the billing period, what a
//! period's usage costs, and the lifecycle of an organisation's subscription (trial, active,
//! past due with grace, restricted, cancelled). No I/O: the service feeds in the clock's time,
//! the usage counted from the tenant's records and the provider's events, and stores what
//! these functions decide.
//!
//! Whatever billing decides, a till keeps selling and syncing: nothing here is consulted on the
//! sale path. Billing limits only what is *added* (tills, branches) and, once a payment is long
//! overdue, makes the dashboard read-only.

mod lifecycle;
mod period;
mod plans;
mod renewal;

pub use lifecycle::{
    Account, Addition, AdditionRefused, Channel, Event, GRACE_DAYS, Ignored, ProviderKind,
    Standing, Status, apply, standing,
};
pub use period::BillingPeriod;
pub use plans::{
    Allowance, BillingCurrency, Charge, PLANS, Plan, PlanCode, Price, charge_for, plan,
};
pub use renewal::{
    InvoiceSeen, RENEWAL_DUE_DAYS, overdue_monthly_invoices, renewal_due, renewal_reference,
    usage_reference,
};

/// The identifier a usage report carries: one per organisation, meter and period, so a report
/// sent twice (a retry, a second server process) is recognised by the provider and by Nexus as
/// the same one and billed once.
pub fn usage_identifier(tenant: crate::TenantId, meter: &str, period: BillingPeriod) -> String {
    format!(
        "nexus-{}-{meter}-{}",
        tenant.as_uuid().simple(),
        period.key()
    )
}

#[cfg(test)]
mod tests;
