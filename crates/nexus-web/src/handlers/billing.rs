//! The owner's billing page, and the two ways out of it to a provider: paying for a plan, and
//! the provider's own page for changing the card or cancelling. Everything billing decides is
//! in `nexus_server::services::billing`; this reads it and words it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::billing::{
    BillingCurrency, Channel, PLANS, Plan, PlanCode, ProviderKind, Standing, Status,
};
use nexus_domain::{Permission, UnixMillis};
use nexus_server::billing::Billing;
use nexus_server::services::billing::{self, Checkout, Started};
use nexus_server::state::AppState;
use nexus_store::InvoiceStatus;

use super::context::{PageError, Viewer};
use super::input::SignedPost;
use super::text::form_errors;
use crate::format::{ShopLocale, count};
use crate::forms::FieldErrors;
use crate::layout::Flash;
use crate::views::billing::{
    BillingContent, GoingContent, InvoiceRow, PayChoice, PlanCard, UsageLine,
};
use crate::{Section, paths};

fn date(locale: &ShopLocale, at: UnixMillis) -> String {
    locale.time(at.as_millis()).date().to_string()
}

/// The sentence at the top of the page: the plan, and what the organisation must know now.
fn standing_sentence(locale: &ShopLocale, standing: &Standing, paid_by: Option<String>) -> String {
    let plan = standing.subscribed.name;
    match standing.status {
        Status::Trialing => match standing.trial_ends_at {
            Some(ends) => format!(
                "Free trial of the {plan} plan until {}. Choose how to pay below to keep it; otherwise the shop moves to the Free plan, and its tills keep selling.",
                date(locale, ends)
            ),
            None => format!("Free trial of the {plan} plan."),
        },
        // A trial that ended unpaid: the Free plan applies.
        Status::Active if standing.plan.code != standing.subscribed.code => format!(
            "The trial of the {plan} plan has ended: the shop is on the {} plan. Choose a plan below to add more tills or branches.",
            standing.plan.name
        ),
        Status::Active => match paid_by {
            Some(paid_by) => format!("{plan} plan, paid {paid_by}."),
            None => format!("{plan} plan."),
        },
        Status::PastDue => format!(
            "{plan} plan: the last payment did not go through. Pay by {} to keep changing things in the dashboard.",
            standing
                .grace_ends_at
                .map_or_else(|| "soon".to_owned(), |ends| date(locale, ends))
        ),
        Status::Restricted => format!(
            "{plan} plan: a payment is overdue, so the dashboard is read-only and no till or branch can be added. Pay below and everything opens again at once."
        ),
        Status::Cancelled => format!(
            "The {plan} subscription was cancelled: the shop is on the Free plan, and the tills it has keep working."
        ),
    }
}

/// The ways this server takes payment for a paid plan.
fn pay_choices(billing: &Billing) -> Vec<PayChoice> {
    let mut choices = Vec::new();
    for kind in billing.kinds() {
        let channels: &[Channel] = match kind {
            ProviderKind::Stripe => &[Channel::Card],
            ProviderKind::Paystack => &[Channel::MobileMoney, Channel::Card],
        };
        for channel in channels {
            choices.push(PayChoice {
                provider: kind.as_str(),
                channel: channel.as_str(),
                label: format!(
                    "{}, with {}",
                    match channel {
                        Channel::Card => "card",
                        Channel::MobileMoney => "mobile money",
                    },
                    kind.name()
                ),
            });
        }
    }
    choices
}

/// What a plan's card offers.
enum Offer<'a> {
    /// Every way this server takes payment.
    Pay(&'a [PayChoice]),
    /// A card subscription runs with this provider, which moves it to another plan.
    Switch(ProviderKind),
}

/// How a provider bills a change of plan, as the owner is told before and after pressing.
fn switch_terms(provider: ProviderKind) -> &'static str {
    match provider {
        ProviderKind::Stripe => "Stripe charges the difference with the next payment",
        // Paystack cannot prorate: the new subscription begins when the old one would renew.
        ProviderKind::Paystack => "the card is charged the new price from the next renewal",
    }
}

fn offer_of<'a>(account: &nexus_domain::billing::Account, choices: &'a [PayChoice]) -> Offer<'a> {
    match (&account.subscription_ref, account.provider, account.channel) {
        (Some(_), Some(provider), Some(Channel::Card))
            if matches!(account.status, Status::Active | Status::PastDue) =>
        {
            Offer::Switch(provider)
        }
        _ => Offer::Pay(choices),
    }
}

fn plan_card(
    plan: &'static Plan,
    currency: BillingCurrency,
    current: bool,
    offer: &Offer<'_>,
) -> PlanCard {
    let price = match plan.monthly_in(currency) {
        _ if plan.is_free() => "Free".to_owned(),
        Some(minor) => format!("{} a month", currency.format_minor(minor)),
        None => format!("Not sold in {}", currency.code()),
    };
    let included = plan.included;
    let mut includes = vec![
        format!(
            "{} {}",
            included.branches,
            if included.branches == 1 {
                "branch"
            } else {
                "branches"
            }
        ),
        format!(
            "{} {}",
            included.tills,
            if included.tills == 1 { "till" } else { "tills" }
        ),
        format!("{} sales a month", count(included.sales_per_month)),
    ];
    if let Some(over) = plan.over_in(currency) {
        includes.push(format!(
            "{} per hundred sales more",
            currency.format_minor(over)
        ));
    }
    if plan.trial_days > 0 {
        includes.push(format!("{}-day free trial", plan.trial_days));
    }
    PlanCard {
        code: plan.code.as_str(),
        name: plan.name,
        price,
        includes,
        current,
        choices: match offer {
            _ if plan.is_free() || plan.monthly_in(currency).is_none() => Vec::new(),
            Offer::Pay(choices) => choices
                .iter()
                .map(|choice| PayChoice {
                    label: format!("Pay for {}: {}", plan.name, choice.label),
                    ..choice.clone()
                })
                .collect(),
            Offer::Switch(_) if current => Vec::new(),
            Offer::Switch(provider) => vec![PayChoice {
                provider: provider.as_str(),
                channel: Channel::Card.as_str(),
                label: format!("Switch to {}: {}", plan.name, switch_terms(*provider)),
            }],
        },
    }
}

async fn billing_content(
    state: &AppState,
    viewer: &Viewer,
    errors: FieldErrors,
) -> Result<BillingContent, PageError> {
    let usage = billing::usage(state, &viewer.auth).await?;
    let locale = &viewer.locale;
    let lines = |included: [Option<u64>; 3]| {
        vec![
            UsageLine {
                label: "Sales recorded",
                used: usage.sales,
                included: included[0],
            },
            UsageLine {
                label: "Tills enrolled",
                used: usage.tills,
                included: included[1],
            },
            UsageLine {
                label: "Branches open",
                used: usage.branches,
                included: included[2],
            },
        ]
    };
    let month = nexus_domain::billing::BillingPeriod::parse(&usage.period)
        .map_or_else(|| usage.period.clone(), |period| period.label());
    let (Some(standing), Some((record, _))) = (
        viewer.billing.as_ref(),
        billing::standing(state, viewer.auth.tenant).await?,
    ) else {
        return Ok(BillingContent {
            enabled: false,
            standing: String::new(),
            overdue: false,
            month,
            usage: lines([None, None, None]),
            charge: None,
            plans: Vec::new(),
            invoices: Vec::new(),
            can_manage: false,
            csrf: viewer.csrf.clone(),
            errors,
        });
    };
    let account = &record.account;
    let currency = account.currency;
    let paid_by = account.provider.map(|provider| {
        format!(
            "by {} through {}",
            match account.channel {
                Some(Channel::MobileMoney) => "mobile money",
                _ => "card",
            },
            provider.name()
        )
    });
    let included = standing.plan.included;
    let charge = usage.charge.as_ref().map(|charge| {
        let mut text = format!(
            "{} so far this month",
            currency.format_minor(charge.total_minor)
        );
        if charge.sales_over > 0 {
            text.push_str(&format!(
                ", of which {} for {} sales above the plan",
                currency.format_minor(charge.over_minor),
                count(charge.sales_over)
            ));
        }
        text.push('.');
        text
    });
    let choices = pay_choices(&state.billing);
    let offer = offer_of(account, &choices);
    let invoices = billing::invoices(state, &viewer.auth).await?;
    Ok(BillingContent {
        enabled: true,
        standing: standing_sentence(locale, standing, paid_by),
        overdue: matches!(standing.status, Status::PastDue | Status::Restricted),
        month,
        usage: lines([
            Some(included.sales_per_month),
            Some(u64::from(included.tills)),
            Some(u64::from(included.branches)),
        ]),
        charge: charge.filter(|_| !standing.plan.is_free()),
        plans: PLANS
            .iter()
            .map(|plan| {
                let current = if standing.status == Status::Cancelled {
                    plan.is_free()
                } else {
                    plan.code == standing.subscribed.code
                };
                plan_card(plan, currency, current, &offer)
            })
            .collect(),
        invoices: invoices
            .into_iter()
            .map(|invoice| InvoiceRow {
                month: invoice.period.label(),
                plan: nexus_domain::billing::plan(invoice.plan).name.to_owned(),
                amount: invoice.currency.format_minor(invoice.amount_minor),
                status: match invoice.status {
                    InvoiceStatus::Open => "Open",
                    InvoiceStatus::Paid => "Paid",
                    InvoiceStatus::Void => "Void",
                },
                due: date(locale, invoice.due_at),
                paid: invoice.paid_at.map(|at| date(locale, at)),
                pay_url: invoice
                    .pay_url
                    .filter(|_| invoice.status == InvoiceStatus::Open),
            })
            .collect(),
        can_manage: account.provider == Some(ProviderKind::Stripe)
            && account.subscription_ref.is_some(),
        csrf: viewer.csrf.clone(),
        errors,
    })
}

pub(crate) async fn billing_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageBilling)?;
    let content = billing_content(&state, &viewer, FieldErrors::new()).await?;
    Ok(viewer.page(Section::Billing, content))
}

/// Where the provider sends the owner back to.
fn return_url(viewer: &Viewer) -> String {
    format!(
        "{}{}",
        viewer.config.public_url.trim_end_matches('/'),
        paths::BILLING
    )
}

/// The page again with the service's refusal on it: 422 for a choice it would not take, 502
/// for a provider it could not reach (nothing was charged either way).
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    error: nexus_server::error::ApiError,
) -> Result<Response, PageError> {
    let status = if error.status() == StatusCode::BAD_GATEWAY {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let errors = FieldErrors::new().with(
        "",
        form_errors(&error, &[])
            .messages()
            .next()
            .unwrap_or("That payment could not be started.")
            .to_owned(),
    );
    let content = billing_content(state, viewer, errors).await?;
    Ok(viewer.page_with(status, Section::Billing, content))
}

fn goes_to_provider(error: &nexus_server::error::ApiError) -> bool {
    error.status().is_client_error() || error.status() == StatusCode::BAD_GATEWAY
}

/// `POST /billing/checkout`: starts the payment and sends the owner to the provider's page.
pub(crate) async fn checkout(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageBilling)?;
    let (Some(plan), Some(provider), Some(channel)) = (
        PlanCode::parse(form.text("plan")),
        ProviderKind::parse(form.text("provider")),
        Channel::parse(form.text("channel")),
    ) else {
        return Err(PageError::Invalid(
            "That plan or way of paying is not one this page offers.".to_owned(),
        ));
    };
    let checkout = Checkout {
        plan,
        provider,
        channel,
    };
    match billing::start_checkout(&state, &viewer.auth, checkout, &return_url(&viewer)).await {
        Ok(Started::PlanChanged) => Ok(viewer.redirect(
            paths::BILLING,
            Flash::success(format!(
                "You are on the {} plan now; {}.",
                nexus_domain::billing::plan(plan).name,
                switch_terms(provider)
            )),
        )),
        Ok(Started::Pay(url)) => {
            let content = GoingContent {
                provider: provider.name(),
                purpose: format!(
                    "pay for the {} plan",
                    nexus_domain::billing::plan(plan).name
                ),
                url: url.clone(),
            };
            Ok(viewer.page_going_to(Section::Billing, content, url))
        }
        Err(error) if goes_to_provider(&error) => refused(&state, &viewer, error).await,
        Err(error) => Err(error.into()),
    }
}

/// `POST /billing/manage`: the provider's page for the card and the subscription.
pub(crate) async fn manage(
    State(state): State<AppState>,
    SignedPost { viewer, form: _ }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageBilling)?;
    match billing::manage_url(&state, &viewer.auth, &return_url(&viewer)).await {
        Ok(Some(url)) => {
            let content = GoingContent {
                provider: "Stripe",
                purpose: "change the card or cancel the subscription".to_owned(),
                url: url.clone(),
            };
            Ok(viewer.page_going_to(Section::Billing, content, url))
        }
        Ok(None) => Err(PageError::Invalid(
            "There is no card subscription to change: choose a plan to pay for instead.".to_owned(),
        )),
        Err(error) if goes_to_provider(&error) => refused(&state, &viewer, error).await,
        Err(error) => Err(error.into()),
    }
}
