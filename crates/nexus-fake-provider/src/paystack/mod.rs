//! The Paystack subset Nexus uses: customers, transaction initialize and verify, and
//! subscriptions (fetch, create on a saved card, disable) under `/paystack`, plus the checkout
//! page a customer is sent to.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::time::{iso8601, parse_iso8601};
use crate::{Core, Gate, Outgoing, Provider};
use crate::{is_url, new_id};

mod events;
mod pages;

use pages::{pay, pay_page};

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
    /// The saved card a successful card payment leaves, which a subscription charges.
    authorization_code: Option<String>,
}

/// As Paystack describes a saved card.
fn authorization(code: &str) -> Value {
    json!({
        "authorization_code": code,
        "channel": "card",
        "card_type": "visa",
        "last4": "4081",
        "exp_month": "12",
        "exp_year": "2030",
        "reusable": true,
    })
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
    authorization_code: String,
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

    pub(crate) fn subscriptions(&self) -> Vec<Value> {
        self.subscriptions.iter().map(Subscription::json).collect()
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
            "authorization": self.authorization_code.as_deref().map(authorization),
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
            "authorization": authorization(&self.authorization_code),
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
        .route("/subscription", post(create_subscription))
        .route("/subscription/{code}", get(fetch_subscription))
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
        authorization_code: None,
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

async fn fetch_subscription(State(core): State<Arc<Core>>, Path(code): Path<String>) -> Response {
    let mut ledger = core.lock();
    match ledger.paystack.subscription(&code) {
        Some(subscription) => success("Subscription retrieved successfully", subscription.json()),
        None => Refusal(StatusCode::NOT_FOUND, "Subscription not found".to_owned()).into_response(),
    }
}

/// `POST /subscription`: a subscription on a card the customer saved by paying before, first
/// charged on `start_date` (at once when there is none, as Paystack does).
async fn create_subscription(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    let created = object(&body).and_then(|input| {
        let customer = text(&input, "customer")?.ok_or_else(|| bad("Customer is required"))?;
        let plan = text(&input, "plan")?.ok_or_else(|| bad("Plan is required"))?;
        let card = text(&input, "authorization")?;
        let start = match text(&input, "start_date")? {
            Some(date) => Some(parse_iso8601(date).ok_or_else(|| bad("Invalid start_date"))?),
            None => None,
        };
        let now = core.now();
        let mut ledger = core.lock();
        let paystack = &mut ledger.paystack;
        let (customer_code, email) = paystack
            .customers
            .iter()
            .find(|c| c.code == customer || c.email == customer.to_lowercase())
            .map(|c| (c.code.clone(), c.email.clone()))
            .ok_or_else(|| bad("Customer not found"))?;
        // Only a card this customer paid with can be charged, and only the customer's own.
        let paid_with = |t: &&Transaction| {
            t.customer_code == customer_code
                && t.status == "success"
                && t.authorization_code.is_some()
                && card.is_none_or(|card| t.authorization_code.as_deref() == Some(card))
        };
        let last = paystack
            .transactions
            .iter()
            .rev()
            .find(paid_with)
            .ok_or_else(|| {
                bad("Authorization code is invalid or does not belong to this customer")
            })?;
        let authorization_code = last.authorization_code.clone().unwrap_or_default();
        // The fake has no plan objects: a plan costs what the last payment for it did.
        let amount = paystack
            .transactions
            .iter()
            .rev()
            .find(|t| t.plan.as_deref() == Some(plan) && t.status == "success")
            .map_or(last.amount, |t| t.amount);
        let subscription = Subscription {
            id: paystack.next_id(),
            code: new_id("SUB_"),
            email_token: new_id("tok_"),
            status: "active",
            plan: plan.to_owned(),
            amount,
            customer_code,
            email,
            next_payment_date: start.unwrap_or(now),
            created_at: now,
            authorization_code,
        };
        let data = subscription.json();
        paystack.subscriptions.push(subscription);
        Ok(data)
    });
    match created {
        Ok(data) => {
            let event = json!({"event": "subscription.create", "data": data.clone()});
            let event = Outgoing::new(Provider::Paystack, &event);
            // As with disable: the answer first, the webhook on Paystack's own time.
            let core = core.clone();
            tokio::spawn(async move {
                let _ = core.deliver(Provider::Paystack, vec![event]).await;
            });
            success("Subscription successfully created", data)
        }
        Err(refusal) => refusal.into_response(),
    }
}
