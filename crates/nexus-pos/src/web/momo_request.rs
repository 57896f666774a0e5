//! Asking the customer's phone for the payment (request to pay): the cashier enters the
//! payer's number, the service asks the network, and the waiting screen asks the service every
//! two seconds until the customer approves or declines. The tender is taken only when the
//! network says it was paid, with the network's transaction id; a failure says why.
//!
//! The request's id is chosen here before anything is sent, and kept until it ends: a lost
//! answer is asked about again under that id, so a flaky connection never charges twice.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use nexus_sync::momo::RequestStatus;
use uuid::Uuid;

use super::extract::TillForm;
use super::pay::{TenderForm, pay_response, still_due, typed_amount};
use super::{BannerView, PageResult, ScreenState, is_htmx, money, page, to, to_sign_in};
use crate::StationError;
use crate::till::TenderInput;

/// A request the till is waiting on.
#[derive(Clone, Debug)]
pub(super) struct Waiting {
    id: Uuid,
    network: String,
    phone: String,
    amount_minor: i64,
    /// The service has answered at least once: the request is known there.
    acknowledged: bool,
    /// Why the last look did not get an answer, for the screen.
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "momo_request.html")]
struct WaitingTemplate {
    banner: BannerView,
    view: WaitingView,
}

#[derive(Template)]
#[template(path = "momo_request_status.html")]
struct StatusTemplate {
    view: WaitingView,
}

struct WaitingView {
    amount: String,
    phone: String,
    network: &'static str,
    /// `sending`, `pending` or `failed`.
    state: &'static str,
    problem: Option<String>,
    failure: Option<String>,
}

fn network_name(network: &str) -> &'static str {
    nexus_domain::momo::Network::parse(network).map_or("mobile money", |network| network.name())
}

/// `POST /pay/momo-request`: asks the customer's phone for the amount typed (or all that is
/// due).
pub(super) async fn start(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<TenderForm>,
) -> PageResult {
    let currency = screen.station.till_settings().await?.currency;
    let Some(due) = still_due(&screen, &headers).await? else {
        return Ok(to_sign_in());
    };
    let refuse = |message: String| pay_response(&screen, &headers, Some(message), None);
    let amount_minor = match typed_amount(currency, form.amount(), due) {
        Ok(amount) => amount,
        Err(mistake) => return refuse(mistake).await,
    };
    if amount_minor > due {
        return refuse(format!(
            "A phone is asked for at most what is still due, {}: take the rest in cash.",
            money(currency, due)
        ))
        .await;
    }
    if form.phone().is_empty() {
        return refuse(
            "Enter the payer's phone number, then ask their phone for the payment.".to_owned(),
        )
        .await;
    }
    if nexus_domain::momo::msisdn(form.phone()).is_none() {
        return refuse(format!(
            "The till cannot read {:?} as a phone number: type the payer's mobile-money number, \
             such as 024 412 3456.",
            form.phone()
        ))
        .await;
    }
    let waiting = Waiting {
        id: Uuid::new_v4(),
        network: form.network().to_owned(),
        phone: form.phone().to_owned(),
        amount_minor,
        acknowledged: false,
        problem: None,
    };
    let started = screen.with_session(&headers, |session| {
        if session.momo_request.is_some() {
            return false;
        }
        session.momo_request = Some(waiting.clone());
        true
    });
    match started {
        None => return Ok(to_sign_in()),
        // A second press while one is waiting: show the one already asked.
        Some(false) => return Ok(to("/pay/momo-request")),
        Some(true) => {}
    }
    let answer = screen
        .station
        .request_momo(
            waiting.id,
            &waiting.network,
            &waiting.phone,
            waiting.amount_minor,
        )
        .await;
    match settle(&screen, &headers, answer)? {
        Settled::Paid(reference) => {
            confirmed(&screen, &reference).await?;
            Ok(to("/pay/momo-request"))
        }
        Settled::Waiting => Ok(to("/pay/momo-request")),
        Settled::Refused(message) => refuse(message).await,
        Settled::SignedOut => Ok(to_sign_in()),
    }
}

/// `GET /pay/momo-request`: the waiting screen; to htmx, only its status, polled.
pub(super) async fn waiting_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
) -> PageResult {
    let Some(waiting) = screen.with_session(&headers, |session| session.momo_request.clone())
    else {
        return Ok(to_sign_in());
    };
    let Some(waiting) = waiting else {
        return Ok(done(&headers, "/pay"));
    };
    let answer = if waiting.acknowledged {
        screen.station.momo_request(waiting.id).await
    } else {
        // Never answered: the same request again, which the service keeps once.
        screen
            .station
            .request_momo(
                waiting.id,
                &waiting.network,
                &waiting.phone,
                waiting.amount_minor,
            )
            .await
    };
    let outcome = settle(&screen, &headers, answer)?;
    let currency = screen.station.till_settings().await?.currency;
    let view =
        |state: &'static str, problem: Option<String>, failure: Option<String>| WaitingView {
            amount: money(currency, waiting.amount_minor),
            phone: waiting.phone.clone(),
            network: network_name(&waiting.network),
            state,
            problem,
            failure,
        };
    let view = match outcome {
        Settled::Paid(reference) => {
            confirmed(&screen, &reference).await?;
            return Ok(done(&headers, "/pay"));
        }
        Settled::SignedOut => return Ok(to_sign_in()),
        Settled::Refused(message) => view("failed", None, Some(message)),
        Settled::Waiting => {
            let now = screen.with_session(&headers, |session| session.momo_request.clone());
            let Some(Some(now)) = now else {
                return Ok(done(&headers, "/pay"));
            };
            let state = if now.acknowledged {
                "pending"
            } else {
                "sending"
            };
            view(state, now.problem, None)
        }
    };
    if is_htmx(&headers) {
        page(&StatusTemplate { view })
    } else {
        let cashier = screen.cashier(&headers);
        page(&WaitingTemplate {
            banner: screen.banner(cashier.as_ref()).await?,
            view,
        })
    }
}

/// `POST /pay/momo-request/stop`: the cashier stops waiting (the customer will not approve).
pub(super) async fn stop(State(screen): State<ScreenState>, headers: HeaderMap) -> Response {
    match screen.with_session(&headers, |session| session.momo_request = None) {
        Some(()) => to("/pay"),
        None => to_sign_in(),
    }
}

enum Settled {
    /// Paid: the tender is on the payment, under the network's transaction id.
    Paid(String),
    /// Still open, or no answer yet.
    Waiting,
    /// Failed or refused: the request is over, with what to tell the cashier.
    Refused(String),
    SignedOut,
}

/// Takes the service's answer into the session: a paid request becomes a tender with the
/// network's transaction id, a failed one ends the wait.
fn settle(
    screen: &ScreenState,
    headers: &HeaderMap,
    answer: Result<RequestStatus, StationError>,
) -> Result<Settled, super::PageError> {
    let settled = screen.with_session(headers, |session| {
        let Some(waiting) = session.momo_request.as_mut() else {
            return Settled::Waiting;
        };
        match &answer {
            Ok(request) if request.id != waiting.id => Settled::Waiting,
            Ok(request) if request.is_paid() => {
                let reference = request.transaction_id.clone().unwrap_or_default();
                // The number as the network was given it: digits only, which a tender needs.
                session.tenders.push(TenderInput::Momo {
                    amount_minor: waiting.amount_minor,
                    network: waiting.network.clone(),
                    phone: request.phone.clone(),
                    reference: reference.clone(),
                });
                session.paid_requests.push(reference.clone());
                session.momo_request = None;
                Settled::Paid(reference)
            }
            Ok(request) if request.is_failed() => {
                session.momo_request = None;
                Settled::Refused(
                    request
                        .message
                        .clone()
                        .unwrap_or_else(|| "The network could not take the payment.".to_owned()),
                )
            }
            Ok(_) => {
                waiting.acknowledged = true;
                waiting.problem = None;
                Settled::Waiting
            }
            Err(StationError::Unreachable { .. }) => {
                waiting.problem = Some(
                    "No answer from the service: still asking. The customer is never charged twice."
                        .to_owned(),
                );
                Settled::Waiting
            }
            // Once the network has the request, only its own word ends the wait: a refusal of
            // one look (a credential changed, a limit) leaves the prompt live on the phone.
            Err(StationError::Refused(message)) if waiting.acknowledged => {
                waiting.problem = Some(format!(
                    "The service refused to say how the payment stands ({}): still asking.",
                    message.trim_end_matches('.')
                ));
                Settled::Waiting
            }
            Err(StationError::Refused(message)) => {
                session.momo_request = None;
                Settled::Refused(sentence(message))
            }
            Err(_) => Settled::Waiting,
        }
    });
    match (settled, answer) {
        (None, _) => Ok(Settled::SignedOut),
        (Some(Settled::Waiting), Err(error @ StationError::Database(_))) => Err(error.into()),
        (Some(settled), _) => Ok(settled),
    }
}

async fn confirmed(screen: &ScreenState, reference: &str) -> Result<(), super::PageError> {
    screen
        .station
        .note_momo_confirmed(reference, screen.clock.as_ref())
        .await?;
    Ok(())
}

/// Leaves the waiting screen for `path`: htmx follows `HX-Redirect`, a browser a 303.
fn done(headers: &HeaderMap, path: &str) -> Response {
    if is_htmx(headers) {
        ([("HX-Redirect", path)], "").into_response()
    } else {
        to(path)
    }
}

/// The service's message as a sentence for the screen.
fn sentence(message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => "The service refused the request.".to_owned(),
    }
}
