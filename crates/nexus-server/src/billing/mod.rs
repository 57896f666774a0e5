//! The payment providers, behind one trait ([`Collector`]): Stripe (Checkout, the Customer
//! Portal, Billing Meters, signed webhooks) and Paystack (cards by subscription, mobile money
//! by a monthly pay link, signed webhooks whose payments are re-verified). Each is a small
//! client of our own over reqwest. Nexus owns the plans, the usage and the invoices; a
//! provider only collects.
//!
//! With no provider configured billing is off: no plan limit applies and nothing is metered
//! (a self-hosted shop pays nobody).

mod paystack;
pub mod signature;
mod stripe;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use nexus_domain::billing::{BillingCurrency, Channel, Event, PlanCode, ProviderKind};
use nexus_domain::{TenantId, UnixMillis};
use nexus_store::UsageReport;

use crate::settings::SecretString;

pub use signature::SignatureError;

/// Where each provider is reached, and with what keys.
#[derive(Clone, Debug)]
pub struct BillingSettings {
    pub stripe: Option<StripeSettings>,
    pub paystack: Option<PaystackSettings>,
    /// How often the service settles every organisation (reports closed months, opens
    /// mobile-money renewals, marks renewals gone unpaid), besides on each usage read.
    pub settle_every: Duration,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            stripe: None,
            paystack: None,
            settle_every: Self::SETTLE_EVERY,
        }
    }
}

#[derive(Clone, Debug)]
pub struct StripeSettings {
    pub secret_key: SecretString,
    /// Unset: Stripe's webhooks are refused, since none could be verified.
    pub webhook_secret: Option<SecretString>,
    pub api_base: String,
}

#[derive(Clone, Debug)]
pub struct PaystackSettings {
    pub secret_key: SecretString,
    pub api_base: String,
}

impl BillingSettings {
    pub const STRIPE_API_BASE: &'static str = "https://api.stripe.com";
    pub const PAYSTACK_API_BASE: &'static str = "https://api.paystack.co";
    pub const SETTLE_EVERY: Duration = Duration::from_secs(60 * 60);

    /// Both providers under one root as the in-repo fake serves them (`{root}/stripe`,
    /// `{root}/paystack`), for tests and `nexus demo`.
    pub fn both_under(
        root: &str,
        stripe_secret_key: &str,
        stripe_webhook_secret: &str,
        paystack_secret_key: &str,
    ) -> Self {
        Self {
            stripe: Some(StripeSettings {
                secret_key: SecretString::new(stripe_secret_key.to_owned()),
                webhook_secret: Some(SecretString::new(stripe_webhook_secret.to_owned())),
                api_base: format!("{root}/stripe"),
            }),
            paystack: Some(PaystackSettings {
                secret_key: SecretString::new(paystack_secret_key.to_owned()),
                api_base: format!("{root}/paystack"),
            }),
            settle_every: Self::SETTLE_EVERY,
        }
    }

    pub fn enabled(&self) -> bool {
        self.stripe.is_some() || self.paystack.is_some()
    }
}

/// A provider call that did not go through, with what to tell the owner apart from what to
/// log.
#[derive(Debug, thiserror::Error)]
#[error("{provider}: {detail}")]
pub struct ProviderError {
    pub provider: &'static str,
    pub detail: String,
}

impl ProviderError {
    fn new(provider: ProviderKind, detail: impl Into<String>) -> Self {
        Self {
            provider: provider.name(),
            detail: detail.into(),
        }
    }
}

/// What a payment pays for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The plan: a first payment (by card, the start of a subscription the provider renews)
    /// or a mobile-money month.
    Plan,
    /// A closed month's sales above the allowance, once: it changes no subscription.
    Usage,
}

/// A payment to start: the owner is sent to the provider's page to make it.
#[derive(Clone, Debug)]
pub struct PaymentStart<'a> {
    pub tenant: TenantId,
    pub purpose: Purpose,
    pub plan: PlanCode,
    pub plan_name: &'a str,
    pub currency: BillingCurrency,
    pub amount_minor: i64,
    pub channel: Channel,
    pub customer: &'a str,
    pub email: &'a str,
    /// Ours, unique per invoice: the invoice's reference.
    pub reference: &'a str,
    /// The provider's reference for this attempt at paying the invoice: the invoice's own the
    /// first time, another when a pay link has to be made again (a provider keeps each
    /// reference for one transaction, even one that never went through).
    pub transaction: &'a str,
    pub return_url: &'a str,
}

/// What a verified webhook says, in Nexus's terms.
#[derive(Clone, Debug, Default)]
pub struct ProviderEvent {
    pub event_id: String,
    pub kind: String,
    pub occurred_at: Option<UnixMillis>,
    pub customer_ref: Option<String>,
    pub change: Option<Event>,
    /// A payment of one of our invoices (Paystack), checked with the provider.
    pub paid_reference: Option<String>,
}

/// A webhook that cannot be taken.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the body is not an event this endpoint understands: {0}")]
    Malformed(String),
    /// The provider could not be asked to confirm it; it will send it again.
    #[error(transparent)]
    Unconfirmed(#[from] ProviderError),
}

/// One payment provider.
#[async_trait]
pub trait Collector: Send + Sync {
    fn kind(&self) -> ProviderKind;
    /// Creates the provider's customer for the organisation; its reference.
    async fn create_customer(
        &self,
        tenant: TenantId,
        email: &str,
        name: &str,
    ) -> Result<String, ProviderError>;
    /// The provider's page where the owner pays (and, for a card, subscribes).
    async fn start_payment(&self, start: &PaymentStart<'_>) -> Result<String, ProviderError>;
    /// The provider's page where the owner changes card or cancels, where it has one.
    async fn manage_url(
        &self,
        customer: &str,
        return_url: &str,
    ) -> Result<Option<String>, ProviderError>;
    /// Moves a card subscription to another plan, where the provider can (the difference is
    /// prorated by the provider); `Ok(false)` where it cannot, and the owner must end the
    /// subscription before paying for another plan.
    async fn change_plan(
        &self,
        subscription: &str,
        plan: PlanCode,
        currency: BillingCurrency,
    ) -> Result<bool, ProviderError>;
    /// Whether the provider bills usage from meter reports ([`Collector::report_usage`]); one
    /// that does not is sent the usage above the allowance as Nexus's own invoice.
    fn meters_usage(&self) -> bool;
    /// Sends one month's usage; a report the provider already has counts as sent.
    async fn report_usage(&self, customer: &str, report: &UsageReport)
    -> Result<(), ProviderError>;
    /// Checks the signature, then reads the event (and confirms a payment with the provider).
    async fn take_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: UnixMillis,
    ) -> Result<ProviderEvent, WebhookError>;
}

/// The providers configured.
#[derive(Clone, Default)]
pub struct Billing {
    stripe: Option<Arc<dyn Collector>>,
    paystack: Option<Arc<dyn Collector>>,
}

impl Billing {
    pub fn from_settings(settings: &BillingSettings) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            stripe: settings.stripe.clone().map(|settings| {
                Arc::new(stripe::Stripe::new(client.clone(), settings)) as Arc<dyn Collector>
            }),
            paystack: settings.paystack.clone().map(|settings| {
                Arc::new(paystack::Paystack::new(client.clone(), settings)) as Arc<dyn Collector>
            }),
        }
    }

    pub fn enabled(&self) -> bool {
        self.stripe.is_some() || self.paystack.is_some()
    }

    pub fn provider(&self, kind: ProviderKind) -> Option<&Arc<dyn Collector>> {
        match kind {
            ProviderKind::Stripe => self.stripe.as_ref(),
            ProviderKind::Paystack => self.paystack.as_ref(),
        }
    }

    /// The providers configured, Paystack first: it takes mobile money.
    pub fn kinds(&self) -> Vec<ProviderKind> {
        [ProviderKind::Paystack, ProviderKind::Stripe]
            .into_iter()
            .filter(|kind| self.provider(*kind).is_some())
            .collect()
    }
}

/// The price a Stripe subscription line names: looked up in Stripe by this key, created by the
/// operator once per plan and currency (README, "Billing").
pub fn stripe_price_key(plan: PlanCode, currency: BillingCurrency) -> String {
    format!(
        "nexus_{}_{}",
        plan.as_str(),
        currency.code().to_ascii_lowercase()
    )
}

/// The plan a price or plan code names (`nexus_shop_ghs`); `None` for the metered sales price
/// and for anything else.
pub fn plan_of_price(code: &str) -> Option<PlanCode> {
    let (plan, currency) = code.strip_prefix("nexus_")?.rsplit_once('_')?;
    BillingCurrency::parse(currency)?;
    PlanCode::parse(plan)
}

/// The metered price a subscription's second line names, one unit per started hundred sales
/// above the allowance at the plan's price for a hundred, read from the [`SALES_METER`].
pub fn stripe_sales_price_key(plan: PlanCode, currency: BillingCurrency) -> String {
    format!("{}_sales", stripe_price_key(plan, currency))
}

/// The meter each closed month's started hundreds of sales above the allowance go to: Nexus
/// counts them (`Charge::hundreds_over`), so the provider's invoice is Nexus's figure.
pub const SALES_METER: &str = "nexus_sales_hundreds_over";
