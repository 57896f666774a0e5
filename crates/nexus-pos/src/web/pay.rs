//! The payment screen: tenders with the keypad, and completing the sale.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use nexus_domain::Currency;
use nexus_domain::tender::tender_looks_mistyped;
use serde::Deserialize;

use super::extract::{TillForm, TillQuery};
use super::{
    BannerView, PageError, PageResult, ScreenState, amount_mistake, message_of, money, page, to,
    to_sign_in,
};
use crate::till::{Cart, TenderInput};
use crate::{Station, StationError};

pub(super) struct PayView {
    currency: Currency,
    total: String,
    tenders: Vec<(String, String)>,
    paid: String,
    remaining_minor: i64,
    remaining: String,
    remaining_plain: String,
    change_minor: i64,
    change: String,
    error: Option<String>,
    /// A tender far above what is due, to confirm before it is taken.
    confirm: Option<TenderCheck>,
    /// The cart's customer's account, when they have credit with the shop.
    account: Option<PayAccount>,
}

/// What the payment screen says of the customer's account.
pub(super) struct PayAccount {
    name: String,
    owed: String,
    /// What may still go on the account, less what this payment already puts there.
    left: String,
    left_minor: i64,
}

/// A tender the cashier is asked about, with what the confirming form posts back.
#[derive(Clone)]
pub(super) struct TenderCheck {
    /// The amount and what was due, as shown.
    amount: String,
    due: String,
    form: TenderForm,
}

#[derive(Template)]
#[template(path = "pay.html")]
pub(super) struct PayTemplate {
    banner: BannerView,
    pay: PayView,
}

pub(super) async fn pay_response(
    screen: &ScreenState,
    headers: &HeaderMap,
    error: Option<String>,
    confirm: Option<TenderCheck>,
) -> PageResult {
    let Some((cashier, cart, tenders, paid_requests)) = screen.with_session(headers, |session| {
        (
            session.cashier.clone(),
            session.cart.clone(),
            session.tenders.clone(),
            session.paid_requests.clone(),
        )
    }) else {
        return Ok(to_sign_in());
    };
    if cart.is_empty() {
        return Ok(to("/"));
    }
    let settings = screen.station.till_settings().await?;
    let currency = settings.currency;
    let total = Station::price(&settings, &cart)?.totals.total_minor;
    let paid: i64 = tenders.iter().map(TenderInput::amount_minor).sum();
    let remaining = (total - paid).max(0);
    let tender_rows = tenders
        .iter()
        .map(|tender| {
            let label = match tender {
                TenderInput::Cash { .. } => "Cash".to_owned(),
                TenderInput::Momo {
                    network, reference, ..
                } if paid_requests.contains(reference) => {
                    format!(
                        "Mobile money ({network}, txn {reference}, paid on the customer's phone)"
                    )
                }
                TenderInput::Momo {
                    network, reference, ..
                } => format!("Mobile money ({network}, txn {reference}, unverified)"),
                TenderInput::Card { reference, .. } => format!("Card (ref {reference})"),
                TenderInput::Credit { .. } => "On account".to_owned(),
            };
            (label, money(currency, tender.amount_minor()))
        })
        .collect();
    let account = match &cart.customer {
        Some(customer) => screen.station.account(customer.id).await?,
        None => None,
    }
    .filter(|account| account.credit_limit_minor.is_some())
    .map(|account| {
        let left = (account.credit_left_minor - on_account(&tenders)).max(0);
        PayAccount {
            name: account.customer.name,
            owed: money(currency, account.balance_minor),
            left: money(currency, left),
            left_minor: left,
        }
    });
    page(&PayTemplate {
        banner: screen.banner(Some(&cashier)).await?,
        pay: PayView {
            currency,
            total: money(currency, total),
            tenders: tender_rows,
            paid: money(currency, paid),
            remaining_minor: remaining,
            remaining: money(currency, remaining),
            remaining_plain: if remaining > 0 {
                currency.format_minor(remaining)
            } else {
                String::new()
            },
            change_minor: (paid - total).max(0),
            change: money(currency, (paid - total).max(0)),
            error,
            confirm,
            account,
        },
    })
}

/// What the tenders taken so far put on the customer's account.
fn on_account(tenders: &[TenderInput]) -> i64 {
    tenders
        .iter()
        .filter(|tender| matches!(tender, TenderInput::Credit { .. }))
        .map(TenderInput::amount_minor)
        .sum()
}

pub(super) async fn pay_page(State(screen): State<ScreenState>, headers: HeaderMap) -> PageResult {
    pay_response(&screen, &headers, None, None).await
}

#[derive(Clone, Deserialize)]
pub(super) struct TenderForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    network: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    card_reference: String,
    /// Set by the confirmation of a tender far above what is due.
    #[serde(default)]
    confirmed: bool,
}

impl TenderForm {
    /// The amount as typed.
    pub(super) fn amount(&self) -> &str {
        self.amount.trim()
    }

    pub(super) fn network(&self) -> &str {
        self.network.trim()
    }

    pub(super) fn phone(&self) -> &str {
        self.phone.trim()
    }

    /// The tender the form describes, for `amount_minor`; `None` for a kind the till does not
    /// take. The payment screen and a payment on account post the same fields.
    pub(super) fn tender(&self, amount_minor: i64) -> Option<TenderInput> {
        Some(match self.kind.as_str() {
            "cash" => TenderInput::Cash { amount_minor },
            "momo" => TenderInput::Momo {
                amount_minor,
                network: self.network.clone(),
                phone: self.phone.clone(),
                reference: self.reference.clone(),
            },
            "card" => TenderInput::Card {
                amount_minor,
                reference: self.card_reference.clone(),
            },
            "credit" => TenderInput::Credit { amount_minor },
            _ => return None,
        })
    }
}

/// What is still due on the cart in the session, in minor units; `None` when signed out.
pub(super) async fn still_due(
    screen: &ScreenState,
    headers: &HeaderMap,
) -> Result<Option<i64>, PageError> {
    let Some((cart, tenders)) = screen.with_session(headers, |session| {
        (session.cart.clone(), session.tenders.clone())
    }) else {
        return Ok(None);
    };
    let settings = screen.station.till_settings().await?;
    let total = Station::price(&settings, &cart)?.totals.total_minor;
    let paid: i64 = tenders.iter().map(TenderInput::amount_minor).sum();
    Ok(Some((total - paid).max(0)))
}

/// The amount of a tender as typed: the field starts empty with what is due as its hint, so
/// what the cashier types is the amount, and Enter on the empty field means the exact amount.
pub(super) fn typed_amount(currency: Currency, typed: &str, due: i64) -> Result<i64, String> {
    let typed = typed.trim();
    match currency.parse_major(typed) {
        _ if typed.is_empty() && due > 0 => Ok(due),
        _ if typed.is_empty() => Err("Nothing more is due: complete the sale.".to_owned()),
        Ok(amount) if amount > 0 => Ok(amount),
        Ok(_) => {
            Err("Type an amount above zero, or leave it empty for the exact amount.".to_owned())
        }
        Err(_) => Err(amount_mistake("the amount paid", currency, typed)),
    }
}

pub(super) async fn add_tender(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<TenderForm>,
) -> PageResult {
    let currency = screen.station.till_settings().await?.currency;
    let Some(due) = still_due(&screen, &headers).await? else {
        return Ok(to_sign_in());
    };
    let amount_minor = match typed_amount(currency, form.amount(), due) {
        Ok(amount) => amount,
        Err(mistake) => return pay_response(&screen, &headers, Some(mistake), None).await,
    };
    if !form.confirmed && tender_looks_mistyped(amount_minor, due) {
        let check = TenderCheck {
            amount: money(currency, amount_minor),
            due: money(currency, due),
            form: TenderForm {
                amount: currency.format_minor(amount_minor),
                ..form
            },
        };
        return pay_response(&screen, &headers, None, Some(check)).await;
    }
    let tender = match form.tender(amount_minor) {
        Some(TenderInput::Credit { amount_minor }) => {
            match credit_refusal(&screen, &headers, currency, amount_minor).await? {
                None => TenderInput::Credit { amount_minor },
                Some(refusal) => {
                    return pay_response(&screen, &headers, Some(refusal), None).await;
                }
            }
        }
        Some(tender) => tender,
        None => {
            return pay_response(
                &screen,
                &headers,
                Some(format!("{:?} is not a way to pay", form.kind)),
                None,
            )
            .await;
        }
    };
    if let Err(error) = tender.validate() {
        return pay_response(&screen, &headers, Some(message_of(&error)), None).await;
    }
    if screen
        .with_session(&headers, |session| session.tenders.push(tender))
        .is_none()
    {
        return Ok(to_sign_in());
    }
    Ok(to("/pay"))
}

/// Why `amount_minor` more cannot go on the cart's customer's account, said before the sale
/// (checkout checks again, in its transaction).
async fn credit_refusal(
    screen: &ScreenState,
    headers: &HeaderMap,
    currency: Currency,
    amount_minor: i64,
) -> Result<Option<String>, PageError> {
    let Some((customer, tenders)) = screen.with_session(headers, |session| {
        (session.cart.customer.clone(), session.tenders.clone())
    }) else {
        return Ok(Some("Sign in again.".to_owned()));
    };
    let Some(customer) = customer else {
        return Ok(Some(
            "Attach the customer first (F7): a sale on account goes on their account.".to_owned(),
        ));
    };
    let Some(account) = screen.station.account(customer.id).await? else {
        return Ok(Some("This till does not know that customer.".to_owned()));
    };
    Ok(nexus_domain::account::check_credit(
        &account.customer.name,
        currency,
        account.credit_limit_minor,
        account.balance_minor + on_account(&tenders),
        amount_minor,
    )
    .err()
    .map(|refused| format!("{}.", refused)))
}

#[derive(Deserialize)]
pub(super) struct ReferenceQuery {
    #[serde(default)]
    reference: String,
}

/// What the payment screen says under the mobile-money transaction id as it is typed.
#[derive(Template)]
#[template(path = "momo_check.html")]
pub(super) struct MomoCheckTemplate {
    warning: Option<String>,
}

/// Checks a mobile-money transaction id as the cashier types it: one already taken on a
/// receipt here, or on this payment, is flagged before the sale, not after.
pub(super) async fn momo_check(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillQuery(query): TillQuery<ReferenceQuery>,
) -> PageResult {
    let Some(tenders) = screen.with_session(&headers, |session| session.tenders.clone()) else {
        return Ok(to_sign_in());
    };
    let reference = query.reference.trim();
    let warning = if reference.is_empty() {
        None
    } else {
        let receipts = screen.station.momo_reference_receipts(reference).await?;
        let on_this_payment = tenders.iter().any(|tender| {
            matches!(tender, TenderInput::Momo { reference: taken, .. } if taken.trim() == reference)
        });
        if !receipts.is_empty() {
            Some(format!(
                "Transaction {reference} was already taken on receipt {}: check the customer's SMS before you go on.",
                receipts.join(", ")
            ))
        } else if on_this_payment {
            Some(format!(
                "Transaction {reference} is already on this payment: check the customer's SMS."
            ))
        } else {
            None
        }
    };
    page(&MomoCheckTemplate { warning })
}

pub(super) async fn clear_tenders(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
) -> Response {
    // A payment the customer approved on their phone has reached the shop's wallet: it stays.
    match screen.with_session(&headers, |session| {
        let paid = session.paid_requests.clone();
        session.tenders.retain(|tender| {
            matches!(tender, TenderInput::Momo { reference, .. } if paid.contains(reference))
        });
    }) {
        Some(()) => to("/pay"),
        None => to_sign_in(),
    }
}

pub(super) async fn complete(State(screen): State<ScreenState>, headers: HeaderMap) -> PageResult {
    let Some((cashier, cart, tenders, asking)) = screen.with_session(&headers, |session| {
        (
            session.cashier.clone(),
            session.cart.clone(),
            session.tenders.clone(),
            session.momo_request.is_some(),
        )
    }) else {
        return Ok(to_sign_in());
    };
    if asking {
        // Completed now, the customer could still approve on their phone and pay twice.
        let message = "The customer's phone is still being asked for a payment: wait for it, or \
                       stop waiting, before completing the sale."
            .to_owned();
        return pay_response(&screen, &headers, Some(message), None).await;
    }
    match screen
        .station
        .checkout(screen.clock.as_ref(), &cashier, &cart, &tenders)
        .await
    {
        Ok(sale) => {
            screen.with_session(&headers, |session| {
                session.cart = Cart::default();
                session.tenders.clear();
                session.paid_requests.clear();
            });
            screen.wake.notify_one();
            // The sale is recorded whatever the printer does; the receipt page says how the
            // print went and offers a reprint.
            let takes_cash = sale
                .receipt
                .tenders
                .iter()
                .any(|tender| tender.kind == "cash");
            match screen
                .station
                .print_receipt(&sale.receipt, takes_cash)
                .await?
            {
                Some(printed) => Ok(to(&super::receipts::after_printing(
                    sale.id, &printed, true,
                ))),
                None => Ok(to(&format!("/receipts/{}?new=1", sale.id))),
            }
        }
        Err(StationError::Invalid(message)) => {
            pay_response(&screen, &headers, Some(message), None).await
        }
        Err(error) => Err(error.into()),
    }
}
