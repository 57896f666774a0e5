//! An organisation's subscription from trial to cancellation, moved only by the provider's
//! events (in the order they happened, not the order they arrived) and read at a moment by
//! [`standing`]: what applies now, with the grace period and the restriction worked out from
//! the clock rather than stored, so a replayed clock gives the same answer.

use serde::Serialize;

use super::plans::{BillingCurrency, Plan, PlanCode, plan};
use crate::time::UnixMillis;

/// Days a past-due organisation keeps everything before the dashboard turns read-only.
pub const GRACE_DAYS: i64 = 14;
const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

/// Who collects the money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProviderKind {
    Stripe,
    Paystack,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Stripe => "stripe",
            ProviderKind::Paystack => "paystack",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "stripe" => Some(ProviderKind::Stripe),
            "paystack" => Some(ProviderKind::Paystack),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Stripe => "Stripe",
            ProviderKind::Paystack => "Paystack",
        }
    }
}

/// How the organisation pays: a card the provider charges again each month, or mobile money,
/// which no provider can charge again unasked, so each month brings an invoice with a pay link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    Card,
    MobileMoney,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Card => "card",
            Channel::MobileMoney => "mobile_money",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "card" => Some(Channel::Card),
            "mobile_money" | "momo" => Some(Channel::MobileMoney),
            _ => None,
        }
    }
}

/// Where a subscription stands. `Restricted` is never stored: it is a past-due subscription
/// whose grace has run out, as [`standing`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    Trialing,
    Active,
    PastDue,
    Restricted,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Trialing => "trialing",
            Status::Active => "active",
            Status::PastDue => "past_due",
            Status::Restricted => "restricted",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Status::Trialing,
            Status::Active,
            Status::PastDue,
            Status::Restricted,
            Status::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text.trim())
    }

    /// For people: "Trial", "Past due".
    pub fn label(self) -> &'static str {
        match self {
            Status::Trialing => "Trial",
            Status::Active => "Active",
            Status::PastDue => "Past due",
            Status::Restricted => "Restricted",
            Status::Cancelled => "Cancelled",
        }
    }
}

/// An organisation's billing record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub plan: PlanCode,
    pub status: Status,
    pub currency: BillingCurrency,
    pub provider: Option<ProviderKind>,
    pub channel: Option<Channel>,
    /// The provider's customer (`cus_…`, `CUS_…`).
    pub customer_ref: Option<String>,
    /// The provider's subscription (`sub_…`, `SUB_…`); none for mobile money.
    pub subscription_ref: Option<String>,
    pub trial_ends_at: Option<UnixMillis>,
    pub past_due_since: Option<UnixMillis>,
    /// When the latest event applied happened, by the provider's clock: an event older than
    /// this arrived late and changes nothing.
    pub state_at: UnixMillis,
}

impl Account {
    /// A new organisation: a trial of the first paid plan that has one, else Free.
    pub fn new_trial(currency: BillingCurrency, now: UnixMillis) -> Self {
        let trial = super::PLANS.iter().find(|plan| plan.trial_days > 0);
        Self {
            plan: trial.map_or(PlanCode::FREE, |plan| plan.code),
            status: if trial.is_some() {
                Status::Trialing
            } else {
                Status::Active
            },
            currency,
            provider: None,
            channel: None,
            customer_ref: None,
            subscription_ref: None,
            trial_ends_at: trial
                .map(|plan| now.plus_millis(i64::from(plan.trial_days) * MILLIS_PER_DAY)),
            past_due_since: None,
            state_at: now,
        }
    }
}

/// What the provider said happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A subscription to `plan` started or changed (checkout completed, a first payment).
    Subscribed {
        plan: PlanCode,
        provider: ProviderKind,
        channel: Channel,
        subscription_ref: Option<String>,
    },
    /// A payment went through.
    PaymentSucceeded { subscription_ref: Option<String> },
    /// A renewal could not be charged, or a month's invoice went unpaid past its due date.
    PaymentFailed { subscription_ref: Option<String> },
    /// The subscription ended.
    Cancelled { subscription_ref: Option<String> },
}

/// Why an event changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// It happened before the state held (it arrived late, out of order).
    Older,
    /// It is about a subscription the organisation no longer has.
    OtherSubscription,
}

/// The account after `event`, which happened at `at`.
pub fn apply(account: &Account, at: UnixMillis, event: &Event) -> Result<Account, Ignored> {
    // Events of the same second are applied in any order: each moves toward the same state.
    if at < account.state_at {
        return Err(Ignored::Older);
    }
    let about_other = |named: &Option<String>| matches!((named, &account.subscription_ref), (Some(named), Some(held)) if named != held);
    let mut next = account.clone();
    next.state_at = at;
    match event {
        Event::Subscribed {
            plan,
            provider,
            channel,
            subscription_ref,
        } => {
            next.plan = *plan;
            next.status = Status::Active;
            next.provider = Some(*provider);
            next.channel = Some(*channel);
            next.subscription_ref = subscription_ref.clone();
            next.past_due_since = None;
        }
        Event::PaymentSucceeded { subscription_ref } => {
            if about_other(subscription_ref) {
                return Err(Ignored::OtherSubscription);
            }
            if matches!(account.status, Status::PastDue | Status::Restricted) {
                next.status = Status::Active;
                next.past_due_since = None;
            }
        }
        Event::PaymentFailed { subscription_ref } => {
            if about_other(subscription_ref) {
                return Err(Ignored::OtherSubscription);
            }
            if account.status == Status::Active {
                next.status = Status::PastDue;
                next.past_due_since = Some(at);
            }
        }
        Event::Cancelled { subscription_ref } => {
            if about_other(subscription_ref) {
                return Err(Ignored::OtherSubscription);
            }
            next.plan = PlanCode::FREE;
            next.status = Status::Cancelled;
            next.subscription_ref = None;
            next.past_due_since = None;
        }
    }
    Ok(next)
}

/// What applies to an organisation at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub status: Status,
    /// The plan whose limits apply now: Free once a trial has ended or a subscription was
    /// cancelled.
    pub plan: &'static Plan,
    /// The plan subscribed to (or tried).
    pub subscribed: &'static Plan,
    pub trial_ends_at: Option<UnixMillis>,
    /// Past due: when the dashboard turns read-only.
    pub grace_ends_at: Option<UnixMillis>,
}

/// What can be added, and refused on a plan's limit or a restriction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addition {
    Till,
    Branch,
}

/// An addition refused, with the reason written for the owner.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AdditionRefused {
    pub message: String,
    /// The limit named (`tills`, `branches`), or `restricted`.
    pub limit: &'static str,
}

impl Standing {
    /// The dashboard is read-only: only looking, exporting and paying are allowed.
    pub fn read_only(&self) -> bool {
        self.status == Status::Restricted
    }

    /// Whether one more till or branch may be added when `existing` are in use.
    pub fn allows(&self, addition: Addition, existing: u64) -> Result<(), AdditionRefused> {
        let (what, one, limit) = match addition {
            Addition::Till => ("tills", "till", self.plan.included.tills),
            Addition::Branch => ("branches", "branch", self.plan.included.branches),
        };
        if self.read_only() {
            return Err(AdditionRefused {
                message: format!(
                    "The payment for the {} plan is overdue and the {GRACE_DAYS} days of grace have ended, so no {what} can be added: pay on the Billing page. Tills keep selling and syncing meanwhile.",
                    self.subscribed.name
                ),
                limit: "restricted",
            });
        }
        if existing >= u64::from(limit) {
            let noun = if limit == 1 { one } else { what };
            return Err(AdditionRefused {
                message: format!(
                    "The {} plan includes {limit} {noun} and this organisation has {existing}: change plan on the Billing page to add another {one}.",
                    self.plan.name
                ),
                limit: what,
            });
        }
        Ok(())
    }
}

/// The account as it applies at `now`.
pub fn standing(account: &Account, now: UnixMillis) -> Standing {
    let subscribed = plan(account.plan);
    let free = plan(PlanCode::FREE);
    let (status, applies, grace_ends_at) = match account.status {
        Status::Trialing => match account.trial_ends_at {
            Some(end) if now < end => (Status::Trialing, subscribed, None),
            // The trial ran out without a subscription: the shop carries on, on Free.
            _ => (Status::Active, free, None),
        },
        Status::Active => (Status::Active, subscribed, None),
        Status::PastDue | Status::Restricted => {
            let since = account.past_due_since.unwrap_or(account.state_at);
            let end = since.plus_millis(GRACE_DAYS * MILLIS_PER_DAY);
            if now < end {
                (Status::PastDue, subscribed, Some(end))
            } else {
                (Status::Restricted, subscribed, Some(end))
            }
        }
        Status::Cancelled => (Status::Cancelled, free, None),
    };
    Standing {
        status,
        plan: applies,
        subscribed,
        trial_ends_at: account.trial_ends_at,
        grace_ends_at,
    }
}
