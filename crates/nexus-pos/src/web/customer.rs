//! Finding or recording a customer and attaching them to the cart.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{TillForm, TillPath, TillQuery};
use super::{
    BannerView, PageError, PageResult, ScreenState, amount_mistake, message_of, money, page, to,
    to_sign_in,
};
use crate::StationError;

#[derive(Template)]
#[template(path = "customer.html")]
pub(super) struct CustomerTemplate {
    banner: BannerView,
    error: Option<String>,
    query: String,
    found: Vec<crate::Customer>,
}

#[derive(Deserialize)]
pub(super) struct CustomerQuery {
    #[serde(default)]
    q: String,
}

pub(super) async fn customer_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillQuery(query): TillQuery<CustomerQuery>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let found = if query.q.trim().is_empty() {
        Vec::new()
    } else {
        screen.station.search_customers(&query.q, 10).await?
    };
    page(&CustomerTemplate {
        banner: screen.banner(Some(&cashier)).await?,
        error: None,
        query: query.q,
        found,
    })
}

#[derive(Deserialize)]
pub(super) struct CustomerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
}

pub(super) async fn create_customer(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<CustomerForm>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let phone = Some(form.phone.as_str()).filter(|phone| !phone.trim().is_empty());
    match screen
        .station
        .create_customer(screen.clock.as_ref(), &cashier, &form.name, phone)
        .await
    {
        Ok(customer) => {
            screen.with_session(&headers, |session| session.cart.customer = Some(customer));
            Ok(to("/"))
        }
        Err(StationError::Invalid(message)) => page(&CustomerTemplate {
            banner: screen.banner(Some(&cashier)).await?,
            error: Some(message),
            query: String::new(),
            found: Vec::new(),
        }),
        Err(error) => Err(error.into()),
    }
}

pub(super) async fn attach_customer(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(id): TillPath<Uuid>,
) -> PageResult {
    let Some(customer) = screen.station.customer(id).await? else {
        return Err(PageError::NotFound("no such customer here".to_owned()));
    };
    match screen.with_session(&headers, |session| session.cart.customer = Some(customer)) {
        Some(()) => Ok(to("/")),
        None => Ok(to_sign_in()),
    }
}

/// One line of the statement as the till shows it.
pub(super) struct StatementRow {
    when: String,
    what: &'static str,
    amount: String,
    balance: String,
}

#[derive(Template)]
#[template(path = "account.html")]
pub(super) struct AccountTemplate {
    banner: BannerView,
    error: Option<String>,
    /// Said after a payment was taken.
    taken: Option<String>,
    id: Uuid,
    name: String,
    owed: String,
    limit: Option<String>,
    left: String,
    currency: nexus_domain::Currency,
    statement: Vec<StatementRow>,
}

async fn account_response(
    screen: &ScreenState,
    headers: &HeaderMap,
    id: Uuid,
    error: Option<String>,
    taken: Option<String>,
) -> PageResult {
    let Some(cashier) = screen.cashier(headers) else {
        return Ok(to_sign_in());
    };
    let Some(account) = screen.station.account(id).await? else {
        return Err(PageError::NotFound("no such customer here".to_owned()));
    };
    let settings = screen.station.till_settings().await?;
    let currency = settings.currency;
    // The newest entries first, as a cashier looks for the last visit.
    let statement = account
        .statement
        .iter()
        .rev()
        .take(20)
        .map(|line| StatementRow {
            when: nexus_domain::calendar::format_local_minute(
                line.entry.occurred_at.as_millis(),
                settings.offset_minutes,
            ),
            what: match line.entry.kind {
                nexus_domain::account::EntryKind::Sale => "Sale on account",
                nexus_domain::account::EntryKind::Refund => "Refund to account",
                nexus_domain::account::EntryKind::Payment => "Payment",
            },
            amount: money(currency, line.entry.amount_minor),
            balance: money(currency, line.balance_minor),
        })
        .collect();
    page(&AccountTemplate {
        banner: screen.banner(Some(&cashier)).await?,
        error,
        taken,
        id,
        name: account.customer.name,
        owed: money(currency, account.balance_minor),
        limit: account
            .credit_limit_minor
            .map(|limit| money(currency, limit)),
        left: money(currency, account.credit_left_minor),
        currency,
        statement,
    })
}

/// The customer's account as this till knows it, and a payment form.
pub(super) async fn account_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(id): TillPath<Uuid>,
) -> PageResult {
    account_response(&screen, &headers, id, None, None).await
}

/// Takes a payment on account, offline as online.
pub(super) async fn take_payment(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(id): TillPath<Uuid>,
    TillForm(form): TillForm<super::pay::TenderForm>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let currency = screen.station.till_settings().await?.currency;
    let typed = form.amount();
    let amount_minor = match currency.parse_major(typed) {
        Ok(amount) if amount > 0 => amount,
        _ => {
            let mistake = amount_mistake("the amount paid", currency, typed);
            return account_response(&screen, &headers, id, Some(mistake), None).await;
        }
    };
    // The station refuses a card or credit on account with its own reason.
    let Some(tender) = form.tender(amount_minor) else {
        let choose = "Choose how it was paid: cash or mobile money.".to_owned();
        return account_response(&screen, &headers, id, Some(choose), None).await;
    };
    match screen
        .station
        .take_payment(screen.clock.as_ref(), &cashier, id, &tender)
        .await
    {
        Ok(taken) => {
            screen.wake.notify_one();
            let said = format!(
                "{} paid on account. Now owed: {}.",
                money(currency, taken.amount_minor),
                money(currency, taken.balance_minor)
            );
            account_response(&screen, &headers, id, None, Some(said)).await
        }
        Err(error @ StationError::Invalid(_)) => {
            account_response(&screen, &headers, id, Some(message_of(&error)), None).await
        }
        Err(error) => Err(error.into()),
    }
}
