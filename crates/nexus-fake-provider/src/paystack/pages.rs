//! The checkout page a customer's browser is sent to, where they pay or decline.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::{Core, escape, page, see_other};

const CHECKOUT: &str = "Fake Paystack checkout";

pub(super) async fn pay_page(
    State(core): State<Arc<Core>>,
    Path(reference): Path<String>,
) -> Response {
    let ledger = core.lock();
    let Some(transaction) = ledger
        .paystack
        .transactions
        .iter()
        .find(|t| t.reference == reference)
    else {
        let body = "<p>No such transaction.</p>";
        return (StatusCode::NOT_FOUND, page(CHECKOUT, body)).into_response();
    };
    let mut body = format!(
        "<p>{} pays {} (minor units of {}) by {}.</p>\n",
        escape(&transaction.email),
        transaction.amount,
        escape(&transaction.currency),
        escape(&transaction.channel),
    );
    if transaction.status == "abandoned" {
        body += &format!(
            "<form method=\"post\" action=\"/paystack/pay/{}\">\
             <button type=\"submit\" name=\"outcome\" value=\"pay\">Pay</button> \
             <button type=\"submit\" name=\"outcome\" value=\"decline\">Decline</button></form>",
            escape(&reference)
        );
    } else {
        body += &format!("<p>This transaction is {}.</p>", transaction.status);
    }
    page(CHECKOUT, &body).into_response()
}

pub(super) async fn pay(
    State(core): State<Arc<Core>>,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let outcome = form
        .iter()
        .find(|(k, _)| k == "outcome")
        .map(|(_, v)| v.as_str());
    let succeed = match outcome {
        Some("pay") => true,
        Some("decline") => false,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                page(CHECKOUT, "<p>Choose Pay or Decline.</p>"),
            )
                .into_response();
        }
    };
    let outcome = core.paystack_pay(&reference, succeed).await;
    let settled = {
        let ledger = core.lock();
        let transaction = ledger
            .paystack
            .transactions
            .iter()
            .find(|t| t.reference == reference);
        transaction.map(|t| (t.status, t.callback_url.clone()))
    };
    match (settled, outcome) {
        // Settled even if Nexus could not be reached: the events stay pending, as on Paystack.
        (Some((status, callback)), _) if status != "abandoned" => match callback {
            Some(callback) => {
                let separator = if callback.contains('?') { '&' } else { '?' };
                let query =
                    serde_urlencoded::to_string([("reference", &reference)]).unwrap_or_default();
                see_other(&format!("{callback}{separator}{query}"))
            }
            None => {
                page(CHECKOUT, &format!("<p>Done: the payment is {status}.</p>")).into_response()
            }
        },
        (_, outcome) => {
            let problem = outcome
                .err()
                .unwrap_or_else(|| "No such transaction".to_owned());
            (
                StatusCode::BAD_REQUEST,
                page(CHECKOUT, &format!("<p>{}</p>", escape(&problem))),
            )
                .into_response()
        }
    }
}
