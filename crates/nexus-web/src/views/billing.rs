//! The owner's billing page: where the organisation stands, this month's usage against what
//! its plan includes, the plans with a way to pay for each, and the invoices.

use askama::Template;

use crate::forms::FieldErrors;
use crate::fragment;
use crate::paths;

/// One measure of the month: "Sales recorded: 2,140 of 3,000".
#[derive(Clone, Debug)]
pub struct UsageLine {
    pub label: &'static str,
    pub used: u64,
    /// What the plan includes; `None` when billing is off (nothing is limited).
    pub included: Option<u64>,
}

impl UsageLine {
    pub fn over(&self) -> bool {
        self.included.is_some_and(|included| self.used > included)
    }

    /// How full the allowance is, for the meter: 0 to 100.
    pub fn percent(&self) -> u64 {
        match self.included {
            Some(0) | None => 0,
            Some(included) => (self.used.saturating_mul(100) / included).min(100),
        }
    }
}

/// One way to pay for a plan: a provider and a channel the server has set up.
#[derive(Clone, Debug)]
pub struct PayChoice {
    pub provider: &'static str,
    pub channel: &'static str,
    /// The button: "Pay for Shop: card, with Stripe", "Switch to Business: Stripe charges the
    /// difference".
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct PlanCard {
    pub code: &'static str,
    pub name: &'static str,
    /// "GHS 150.00 a month", or "Free".
    pub price: String,
    /// "2 branches", "4 tills", "3,000 sales a month", "GHS 5.00 per 100 sales more".
    pub includes: Vec<String>,
    /// The plan the organisation is on (or trying).
    pub current: bool,
    /// Empty for Free, which needs no payment.
    pub choices: Vec<PayChoice>,
}

#[derive(Clone, Debug)]
pub struct InvoiceRow {
    pub month: String,
    pub plan: String,
    pub amount: String,
    pub status: &'static str,
    pub due: String,
    pub paid: Option<String>,
    /// The provider's page where an open invoice is paid.
    pub pay_url: Option<String>,
}

/// `GET /billing`.
#[derive(Template)]
#[template(path = "billing/billing.html")]
pub struct BillingContent {
    /// False on a server with no payment provider: nothing is billed or limited.
    pub enabled: bool,
    /// "Shop plan, trial until 15 Jan 2026".
    pub standing: String,
    /// Past due or restricted: the standing is shown as a warning.
    pub overdue: bool,
    /// "January 2026".
    pub month: String,
    pub usage: Vec<UsageLine>,
    /// "GHS 150.00 so far this month", with any sales above the allowance.
    pub charge: Option<String>,
    pub plans: Vec<PlanCard>,
    pub invoices: Vec<InvoiceRow>,
    /// A card subscription whose provider has a page for changing the card or cancelling.
    pub can_manage: bool,
    pub csrf: String,
    pub errors: FieldErrors,
}

impl BillingContent {
    pub fn checkout(&self) -> &'static str {
        paths::BILLING_CHECKOUT
    }

    pub fn manage(&self) -> &'static str {
        paths::BILLING_MANAGE
    }
}

fragment!(BillingContent, |_page| "Billing");

/// The page between a pay button and the provider's: it says where the browser goes, goes
/// there by itself, and has the link for a browser that does not.
#[derive(Template)]
#[template(path = "billing/going.html")]
pub struct GoingContent {
    /// "Stripe", "Paystack".
    pub provider: &'static str,
    /// What the owner is about to do there: "pay for the Shop plan".
    pub purpose: String,
    pub url: String,
}

fragment!(GoingContent, |page| format!("Going to {}", page.provider));
