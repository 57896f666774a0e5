//! The pages a customer's browser is sent to: Checkout, where they pay or decline, the billing
//! portal, where they cancel, and the hosted invoice.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::{Core, escape, page, see_other};

fn not_found(title: &str, what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        page(title, &format!("<p>No such {}.</p>", escape(what))),
    )
        .into_response()
}

pub(super) async fn checkout_page(
    State(core): State<Arc<Core>>,
    Path(id): Path<String>,
) -> Response {
    const TITLE: &str = "Fake Stripe Checkout";
    let ledger = core.lock();
    let Some(session) = ledger
        .stripe
        .sessions
        .iter()
        .find(|s| s.current["id"] == id.as_str())
    else {
        return not_found(TITLE, "checkout session");
    };
    let current = &session.current;
    let mut body = format!(
        "<p>Checkout session <code>{}</code></p>\n<ul>\n",
        escape(&id)
    );
    for (price, quantity) in &session.items {
        body += &format!("<li>{} &times; {quantity}</li>\n", escape(price));
    }
    body += "</ul>\n";
    if current["status"] == "open" {
        body += &format!(
            "<form method=\"post\" action=\"/stripe/pay/{}\"><button type=\"submit\">Pay</button></form>\n",
            escape(&id)
        );
    } else {
        body += "<p>This session is complete.</p>\n";
    }
    let cancel = current["cancel_url"].as_str().unwrap_or_default();
    body += &format!("<p><a href=\"{}\">Cancel</a></p>", escape(cancel));
    page(TITLE, &body).into_response()
}

pub(super) async fn checkout_pay(
    State(core): State<Arc<Core>>,
    Path(id): Path<String>,
) -> Response {
    let outcome = core.complete_checkout(&id).await;
    let ledger = core.lock();
    let session = ledger
        .stripe
        .sessions
        .iter()
        .find(|s| s.current["id"] == id.as_str());
    match (session, outcome) {
        // Paid even if Nexus could not be reached: the events stay pending, as on Stripe.
        (Some(session), _) if session.current["status"] == "complete" => {
            let success = session.current["success_url"].as_str().unwrap_or_default();
            see_other(&success.replace("{CHECKOUT_SESSION_ID}", &id))
        }
        (None, _) => not_found("Fake Stripe Checkout", "checkout session"),
        (Some(_), outcome) => {
            let problem = outcome.err().unwrap_or_default();
            let body = format!("<p>{}</p>", escape(&problem));
            (StatusCode::BAD_REQUEST, page("Fake Stripe Checkout", &body)).into_response()
        }
    }
}

/// The portal session and the customer's subscription that is not yet canceled, if any.
fn portal(core: &Core, id: &str) -> Option<(Value, Option<String>)> {
    let ledger = core.lock();
    let portal = ledger.stripe.portals.get(id)?.clone();
    let live = ledger
        .stripe
        .subscriptions
        .iter()
        .rev()
        .find(|s| s["customer"] == portal["customer"] && s["status"] != "canceled")
        .and_then(|s| s["id"].as_str().map(str::to_owned));
    Some((portal, live))
}

pub(super) async fn portal_page(State(core): State<Arc<Core>>, Path(id): Path<String>) -> Response {
    const TITLE: &str = "Fake Stripe Customer Portal";
    let Some((portal, live)) = portal(&core, &id) else {
        return not_found(TITLE, "portal session");
    };
    let mut body = match live {
        Some(subscription) => format!(
            "<p>Subscription <code>{}</code></p>\n<form method=\"post\" action=\"/stripe/portal/{}\">\
             <button type=\"submit\">Cancel subscription</button></form>\n",
            escape(&subscription),
            escape(&id)
        ),
        None => "<p>No active subscription.</p>\n".to_owned(),
    };
    if let Some(back) = portal["return_url"].as_str() {
        body += &format!("<p><a href=\"{}\">Return</a></p>", escape(back));
    }
    page(TITLE, &body).into_response()
}

pub(super) async fn portal_cancel(
    State(core): State<Arc<Core>>,
    Path(id): Path<String>,
) -> Response {
    const TITLE: &str = "Fake Stripe Customer Portal";
    let Some((portal, live)) = portal(&core, &id) else {
        return not_found(TITLE, "portal session");
    };
    if let Some(subscription) = live
        && let Err(problem) = core.stripe_cancel(&subscription).await
    {
        tracing::warn!(%problem, "the fake portal's cancellation did not reach Nexus");
    }
    match portal["return_url"].as_str() {
        Some(back) => see_other(back),
        None => page(TITLE, "<p>Subscription canceled.</p>").into_response(),
    }
}

pub(super) async fn invoice_page(
    State(core): State<Arc<Core>>,
    Path(id): Path<String>,
) -> Response {
    const TITLE: &str = "Fake Stripe Invoice";
    let ledger = core.lock();
    let Some(invoice) = ledger.stripe.invoices.get(&id) else {
        return not_found(TITLE, "invoice");
    };
    let body = format!(
        "<p>Invoice {} for <code>{}</code>: {}</p>",
        escape(invoice["number"].as_str().unwrap_or_default()),
        escape(invoice["subscription"].as_str().unwrap_or_default()),
        escape(invoice["status"].as_str().unwrap_or_default()),
    );
    page(TITLE, &body).into_response()
}
