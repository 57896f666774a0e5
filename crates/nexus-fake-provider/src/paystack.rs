//! The Paystack subset Nexus uses: customers, transaction initialize and verify, and
//! subscription disable under `/paystack`, plus the checkout page a customer is sent to.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::time::iso8601;
use crate::{Core, Delivered, Gate, Outgoing, PERIOD_SECONDS, Provider};
use crate::{escape, is_url, new_id, page, see_other};

/// The channels Paystack accepts in `channels`.
const CHANNELS: [&str; 8] = [
    "card",
    "bank",
    "ussd",
    "qr",
    "mobile_money",
    "bank_transfer",
    "eft",
    "apple_pay",
];

#[derive(Default)]
pub(crate) struct Data {
    last_id: i64,
    customers: Vec<Customer>,
    transactions: Vec<Transaction>,
    subscriptions: Vec<Subscription>,
}

struct Customer {
    id: i64,
    code: String,
    email: String,
    first_name: Option<String>,
    metadata: Value,
}

#[derive(Clone)]
struct Transaction {
    id: i64,
    reference: String,
    amount: i64,
    currency: String,
    customer_code: String,
    email: String,
    callback_url: Option<String>,
    plan: Option<String>,
    channel: String,
    metadata: Value,
    status: &'static str,
    paid_at: Option<i64>,
    created_at: i64,
}

struct Subscription {
    id: i64,
    code: String,
    email_token: String,
    status: &'static str,
    plan: String,
    amount: i64,
    customer_code: String,
    email: String,
    next_payment_date: i64,
    created_at: i64,
}

impl Data {
    /// Paystack's integer ids, one sequence for everything since nothing relies on their gaps.
    fn next_id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    /// The customer with this email, made if new, as Paystack does on initialize too.
    fn customer(&mut self, email: &str, first_name: Option<&str>, metadata: Value) -> &Customer {
        let index = match self.customers.iter().position(|c| c.email == email) {
            Some(index) => index,
            None => {
                let id = self.next_id();
                self.customers.push(Customer {
                    id,
                    code: new_id("CUS_"),
                    email: email.to_owned(),
                    first_name: first_name.map(str::to_owned),
                    metadata,
                });
                self.customers.len() - 1
            }
        };
        &self.customers[index]
    }

    pub(crate) fn transactions(&self) -> Vec<Value> {
        self.transactions.iter().map(Transaction::json).collect()
    }

    fn subscription(&mut self, code: &str) -> Option<&mut Subscription> {
        self.subscriptions.iter_mut().find(|s| s.code == code)
    }
}

impl Transaction {
    /// As `GET /transaction/verify/{reference}` answers it, and as `charge.success` carries it.
    fn json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status,
            "reference": self.reference,
            "amount": self.amount,
            "currency": self.currency,
            "channel": self.channel,
            "gateway_response": match self.status { "success" => "Successful", "failed" => "Declined", _ => "The transaction was not completed" },
            "paid_at": self.paid_at.map(iso8601),
            "created_at": iso8601(self.created_at),
            "customer": {"customer_code": self.customer_code, "email": self.email},
            "plan": self.plan,
            "metadata": self.metadata,
        })
    }
}

impl Subscription {
    fn json(&self) -> Value {
        json!({
            "id": self.id,
            "subscription_code": self.code,
            "email_token": self.email_token,
            "status": self.status,
            "amount": self.amount,
            "plan": {"plan_code": self.plan, "interval": "monthly"},
            "customer": {"customer_code": self.customer_code, "email": self.email},
            "next_payment_date": iso8601(self.next_payment_date),
            "createdAt": iso8601(self.created_at),
        })
    }
}

pub(crate) fn router(core: Arc<Core>) -> Router<Arc<Core>> {
    let api = Router::new()
        .route("/customer", endpoint("Customer created", customer))
        .route(
            "/transaction/initialize",
            endpoint("Authorization URL created", initialize),
        )
        .route("/transaction/verify/{reference}", get(verify))
        .route("/subscription/disable", post(disable))
        .fallback(unknown)
        .layer(from_fn_with_state(core, gate));
    Router::new()
        .route("/pay/{reference}", get(pay_page).post(pay))
        .merge(api)
}

struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"status": false, "message": self.1}))).into_response()
    }
}

fn bad(message: &str) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, message.to_owned())
}

fn success(message: &str, data: Value) -> Response {
    Json(json!({"status": true, "message": message, "data": data})).into_response()
}

type Action = fn(&Core, &[u8]) -> Result<Value, Refusal>;

fn endpoint(message: &'static str, act: Action) -> MethodRouter<Arc<Core>> {
    post(
        move |State(core): State<Arc<Core>>, body: Bytes| async move {
            match act(&core, &body) {
                Ok(data) => success(message, data),
                Err(refusal) => refusal.into_response(),
            }
        },
    )
}

async fn gate(State(core): State<Arc<Core>>, request: Request, next: Next) -> Response {
    match core
        .gate(&core.config.paystack_secret_key, request.headers())
        .await
    {
        Gate::Open => next.run(request).await,
        Gate::Outage => Refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An error occurred (the fake was told to fail)".to_owned(),
        )
        .into_response(),
        Gate::BadKey => Refusal(StatusCode::UNAUTHORIZED, "Invalid key".to_owned()).into_response(),
    }
}

async fn unknown(method: Method, uri: Uri) -> Response {
    let message = format!("No route for {method} {}", uri.path());
    Refusal(StatusCode::NOT_FOUND, message).into_response()
}

fn object(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(bad("Invalid JSON body")),
    }
}

/// An optional string field; anything but a string or null is refused, not guessed at.
fn text<'a>(input: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, Refusal> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(bad(&format!("{key} must be a string"))),
    }
}

fn email(input: &Map<String, Value>) -> Result<String, Refusal> {
    match text(input, "email")? {
        Some(email) if email.contains('@') => Ok(email.to_lowercase()),
        _ => Err(bad("Invalid Email Address Passed")),
    }
}

/// Paystack takes metadata as an object or as the JSON text of one.
fn metadata(input: &Map<String, Value>) -> Result<Value, Refusal> {
    match input.get("metadata") {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::Object(object)) => Ok(Value::Object(object.clone())),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(object @ Value::Object(_)) => Ok(object),
            _ => Err(bad("Invalid metadata")),
        },
        Some(_) => Err(bad("Invalid metadata")),
    }
}

/// Minor units, sent as a JSON integer or a string of digits.
fn amount(input: &Map<String, Value>) -> Result<i64, Refusal> {
    let amount = match input.get("amount") {
        Some(Value::Number(number)) => number.as_i64(),
        Some(Value::String(digits)) if digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse().ok()
        }
        _ => None,
    };
    amount
        .filter(|a| *a > 0)
        .ok_or_else(|| bad("Invalid Amount Sent"))
}

fn channel(input: &Map<String, Value>) -> Result<String, Refusal> {
    let channels = match input.get("channels") {
        None | Some(Value::Null) => return Ok("card".to_owned()),
        Some(Value::Array(channels)) => channels,
        Some(_) => return Err(bad("channels must be an array")),
    };
    let known = |channel: &Value| channel.as_str().is_some_and(|c| CHANNELS.contains(&c));
    if !channels.iter().all(known) {
        return Err(bad("Invalid channel"));
    }
    Ok(channels
        .first()
        .and_then(Value::as_str)
        .unwrap_or("card")
        .to_owned())
}

fn customer(core: &Core, body: &[u8]) -> Result<Value, Refusal> {
    let input = object(body)?;
    let email = email(&input)?;
    let first_name = text(&input, "first_name")?;
    let metadata = metadata(&input)?;
    let mut ledger = core.lock();
    let customer = ledger.paystack.customer(&email, first_name, metadata);
    Ok(json!({
        "id": customer.id,
        "customer_code": customer.code,
        "email": customer.email,
        "first_name": customer.first_name,
        "metadata": customer.metadata,
    }))
}

fn initialize(core: &Core, body: &[u8]) -> Result<Value, Refusal> {
    let input = object(body)?;
    let email = email(&input)?;
    let amount = amount(&input)?;
    let currency = text(&input, "currency")?.unwrap_or("GHS");
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad("Currency not supported by merchant"));
    }
    let reference = text(&input, "reference")?;
    // Paystack's own rule; it also keeps the reference safe inside the checkout URL.
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '=' | '_');
    if reference.is_some_and(|r| !r.chars().all(allowed)) {
        return Err(bad("Invalid transaction reference"));
    }
    let callback_url = text(&input, "callback_url")?.map(str::to_owned);
    if callback_url.as_deref().is_some_and(|url| !is_url(url)) {
        return Err(bad("Invalid callback_url"));
    }
    let plan = text(&input, "plan")?.map(str::to_owned);
    let channel = channel(&input)?;
    let metadata = metadata(&input)?;
    let mut ledger = core.lock();
    let paystack = &mut ledger.paystack;
    if reference.is_some_and(|r| paystack.transactions.iter().any(|t| t.reference == r)) {
        return Err(bad("Duplicate Transaction Reference"));
    }
    let reference = reference.map_or_else(|| new_id(""), str::to_owned);
    let customer_code = paystack.customer(&email, None, Value::Null).code.clone();
    let id = paystack.next_id();
    paystack.transactions.push(Transaction {
        id,
        reference: reference.clone(),
        amount,
        currency: currency.to_owned(),
        customer_code,
        email,
        callback_url,
        plan,
        channel,
        metadata,
        status: "abandoned",
        paid_at: None,
        created_at: core.now(),
    });
    Ok(json!({
        "authorization_url": core.url(&format!("/paystack/pay/{reference}")),
        "access_code": new_id("ac_"),
        "reference": reference,
    }))
}

fn not_found() -> Refusal {
    Refusal(
        StatusCode::NOT_FOUND,
        "Transaction reference not found".to_owned(),
    )
}

async fn verify(State(core): State<Arc<Core>>, Path(reference): Path<String>) -> Response {
    let ledger = core.lock();
    match ledger
        .paystack
        .transactions
        .iter()
        .find(|t| t.reference == reference)
    {
        Some(transaction) => success("Verification successful", transaction.json()),
        None => not_found().into_response(),
    }
}

/// Marks the subscription cancelled and makes its `subscription.disable` event; with a token,
/// only if the token is the subscription's, as the API demands.
fn disable_subscription(core: &Core, code: &str, token: Option<&str>) -> Result<Outgoing, Refusal> {
    let mut ledger = core.lock();
    let subscription = ledger
        .paystack
        .subscription(code)
        .filter(|s| token.is_none_or(|token| token == s.email_token))
        .ok_or_else(|| bad("Subscription with code not found"))?;
    if subscription.status == "cancelled" {
        return Err(bad("This subscription is already inactive"));
    }
    subscription.status = "cancelled";
    let event = json!({"event": "subscription.disable", "data": subscription.json()});
    Ok(Outgoing::new(Provider::Paystack, &event))
}

async fn disable(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    let disabled = object(&body).and_then(|input| {
        let code = text(&input, "code")?.ok_or_else(|| bad("Subscription code is required"))?;
        let token = text(&input, "token")?.ok_or_else(|| bad("Email token is required"))?;
        disable_subscription(&core, code, Some(token))
    });
    match disabled {
        Ok(event) => {
            // Paystack answers first and sends the webhook on its own time; waiting for Nexus
            // to take the webhook while Nexus waits for this answer could deadlock a test.
            let core = core.clone();
            tokio::spawn(async move {
                let _ = core.deliver(Provider::Paystack, vec![event]).await;
            });
            Json(json!({"status": true, "message": "Subscription disabled successfully"}))
                .into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}

const CHECKOUT: &str = "Fake Paystack checkout";

async fn pay_page(State(core): State<Arc<Core>>, Path(reference): Path<String>) -> Response {
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

async fn pay(
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

impl Core {
    pub(crate) async fn paystack_pay(
        &self,
        reference: &str,
        succeed: bool,
    ) -> Result<Vec<Delivered>, String> {
        let events = {
            let mut ledger = self.lock();
            let paystack = &mut ledger.paystack;
            let now = self.now();
            let transaction = paystack
                .transactions
                .iter_mut()
                .find(|t| t.reference == reference)
                .ok_or_else(|| format!("no Paystack transaction {reference}"))?;
            if transaction.status != "abandoned" {
                return Err(format!(
                    "Paystack transaction {reference} is already {}",
                    transaction.status
                ));
            }
            if !succeed {
                // Paystack sends no webhook for a declined first payment.
                transaction.status = "failed";
                return Ok(Vec::new());
            }
            transaction.status = "success";
            transaction.paid_at = Some(now);
            let transaction = transaction.clone();
            let charge = json!({"event": "charge.success", "data": transaction.json()});
            let mut events = vec![Outgoing::new(Provider::Paystack, &charge)];
            // Only a card can be charged again, so only a card payment starts a subscription.
            if let (Some(plan), "card") = (transaction.plan, transaction.channel.as_str()) {
                let subscription = Subscription {
                    id: paystack.next_id(),
                    code: new_id("SUB_"),
                    email_token: new_id("tok_"),
                    status: "active",
                    plan,
                    amount: transaction.amount,
                    customer_code: transaction.customer_code,
                    email: transaction.email,
                    next_payment_date: now + PERIOD_SECONDS,
                    created_at: now,
                };
                let created = json!({"event": "subscription.create", "data": subscription.json()});
                events.push(Outgoing::new(Provider::Paystack, &created));
                paystack.subscriptions.push(subscription);
            }
            events
        };
        self.deliver(Provider::Paystack, events).await
    }

    pub(crate) async fn paystack_renewal_failed(
        &self,
        code: &str,
    ) -> Result<Vec<Delivered>, String> {
        let event = {
            let mut ledger = self.lock();
            let paystack = &mut ledger.paystack;
            let id = paystack.next_id();
            let now = self.now();
            let subscription = paystack
                .subscription(code)
                .ok_or_else(|| format!("no Paystack subscription {code}"))?;
            if subscription.status == "cancelled" {
                return Err(format!("Paystack subscription {code} is cancelled"));
            }
            subscription.status = "attention";
            json!({"event": "invoice.payment_failed", "data": {
                "id": id,
                "invoice_code": new_id("INV_"),
                "amount": subscription.amount,
                "paid": false,
                "status": "failed",
                "created_at": iso8601(now),
                "subscription": {
                    "subscription_code": subscription.code,
                    "status": "attention",
                    "email_token": subscription.email_token,
                },
                "customer": {"customer_code": subscription.customer_code, "email": subscription.email},
            }})
        };
        let event = Outgoing::new(Provider::Paystack, &event);
        self.deliver(Provider::Paystack, vec![event]).await
    }

    pub(crate) async fn paystack_disable(&self, code: &str) -> Result<Vec<Delivered>, String> {
        let event = disable_subscription(self, code, None).map_err(|refusal| refusal.1)?;
        self.deliver(Provider::Paystack, vec![event]).await
    }
}
