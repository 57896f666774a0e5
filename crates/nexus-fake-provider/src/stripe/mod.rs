//! The Stripe subset Nexus uses: customers, subscription checkout, the billing portal and
//! meter events under `/stripe/v1`, plus the pages a customer's browser is sent to.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::{Core, Gate, Ledger, MeterEvent, Outgoing, Provider};
use crate::{is_url, new_id};

mod events;
mod pages;

use pages::{checkout_page, checkout_pay, invoice_page, portal_cancel, portal_page};

#[derive(Default)]
pub(crate) struct Data {
    idempotency: HashMap<String, Replay>,
    customers: HashMap<String, Value>,
    sessions: Vec<Session>,
    subscriptions: Vec<Value>,
    portals: HashMap<String, Value>,
    invoices: HashMap<String, Value>,
    pub(crate) meter_events: Vec<MeterEvent>,
}

/// A first answer, kept with what was asked so that a reused key with other parameters is
/// refused as Stripe refuses it.
struct Replay {
    path: String,
    request: Vec<u8>,
    answer: Value,
}

struct Session {
    created: Value,
    current: Value,
    items: Vec<(String, u64)>,
    subscription_metadata: Map<String, Value>,
}

impl Data {
    pub(crate) fn created_sessions(&self) -> Vec<Value> {
        self.sessions.iter().map(|s| s.created.clone()).collect()
    }

    fn subscription(&mut self, id: &str) -> Result<&mut Value, String> {
        self.subscriptions
            .iter_mut()
            .find(|s| s["id"] == id)
            .ok_or_else(|| format!("no Stripe subscription {id}"))
    }

    /// An invoice for the subscription's current period, kept for its hosted page.
    fn invoice(&mut self, core: &Core, subscription: &Value, paid: bool) -> Value {
        let id = new_id("in_");
        let invoice = json!({
            "id": id,
            "object": "invoice",
            "customer": subscription["customer"],
            "subscription": subscription["id"],
            "status": if paid { "paid" } else { "open" },
            "paid": paid,
            "amount_due": 0,
            "amount_paid": 0,
            "currency": "usd",
            "period_start": subscription["current_period_start"],
            "period_end": subscription["current_period_end"],
            "number": format!("FAKE-{:04}", self.invoices.len() + 1),
            "hosted_invoice_url": core.url(&format!("/stripe/invoice/{id}")),
            "created": core.now(),
        });
        self.invoices.insert(id, invoice.clone());
        invoice
    }
}

pub(crate) fn router(core: Arc<Core>) -> Router<Arc<Core>> {
    let api = Router::new()
        .route("/v1/customers", endpoint(customer))
        .route("/v1/checkout/sessions", endpoint(checkout_session))
        .route("/v1/billing_portal/sessions", endpoint(portal_session))
        .route("/v1/billing/meter_events", endpoint(meter_event))
        .route(
            "/v1/subscriptions/{id}",
            get(subscription_get).post(subscription_update),
        )
        .fallback(unknown)
        .layer(from_fn_with_state(core, gate));
    Router::new()
        .route("/pay/{id}", get(checkout_page).post(checkout_pay))
        .route("/portal/{id}", get(portal_page).post(portal_cancel))
        .route("/invoice/{id}", get(invoice_page))
        .merge(api)
}

struct StripeError {
    status: StatusCode,
    body: Value,
}

impl IntoResponse for StripeError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

fn error(status: StatusCode, kind: &str, message: &str, param: Option<&str>) -> StripeError {
    let mut detail = json!({"type": kind, "message": message});
    if let Some(param) = param {
        detail["param"] = json!(param);
    }
    StripeError {
        status,
        body: json!({ "error": detail }),
    }
}

fn invalid(message: &str, param: Option<&str>) -> StripeError {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        message,
        param,
    )
}

fn no_such_customer(id: &str, param: &str) -> StripeError {
    invalid(&format!("No such customer: '{id}'"), Some(param))
}

async fn gate(State(core): State<Arc<Core>>, request: Request, next: Next) -> Response {
    if request.method() == Method::POST && request.uri().path().ends_with("/billing/meter_events") {
        core.lock().meter_event_posts += 1;
    }
    match core
        .gate(&core.config.stripe_secret_key, request.headers())
        .await
    {
        Gate::Open => next.run(request).await,
        Gate::Outage => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "An unknown error occurred (the fake was told to fail).",
            None,
        )
        .into_response(),
        Gate::BadKey => {
            let body = json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}});
            (StatusCode::UNAUTHORIZED, Json(body)).into_response()
        }
    }
}

async fn unknown(method: Method, uri: Uri) -> Response {
    let message = format!("Unrecognized request URL ({method}: {}).", uri.path());
    let mut refusal = invalid(&message, None);
    refusal.status = StatusCode::NOT_FOUND;
    refusal.into_response()
}

/// A form body with Stripe's bracket keys, first value of a key winning.
struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    fn required(&self, key: &str) -> Result<&str, StripeError> {
        self.get(key)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| invalid(&format!("Missing required param: {key}."), Some(key)))
    }

    fn url(&self, key: &str) -> Result<&str, StripeError> {
        let url = self.required(key)?;
        if is_url(url) {
            Ok(url)
        } else {
            Err(invalid("Not a valid URL", Some(key)))
        }
    }

    /// `prefix[k]=v` pairs as a JSON object, as Stripe turns `metadata[…]` into a hash.
    fn hash(&self, prefix: &str) -> Map<String, Value> {
        let mut hash = Map::new();
        for (name, value) in &self.0 {
            let key = name
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('['))
                .and_then(|rest| rest.strip_suffix(']'))
                .filter(|key| !key.contains(['[', ']']));
            if let Some(key) = key {
                hash.insert(key.to_owned(), json!(value));
            }
        }
        hash
    }

    /// `line_items[i][price]` and `line_items[i][quantity]`, in index order.
    fn line_items(&self) -> Result<Vec<(String, u64)>, StripeError> {
        let mut items: BTreeMap<usize, (Option<&str>, Option<&str>)> = BTreeMap::new();
        for (name, value) in &self.0 {
            let Some(rest) = name.strip_prefix("line_items[") else {
                continue;
            };
            let parsed = rest
                .split_once("][")
                .and_then(|(index, field)| Some((index.parse::<usize>().ok()?, field)));
            let Some((index, field)) = parsed else {
                return Err(invalid(&format!("Invalid array: {name}."), Some(name)));
            };
            let item = items.entry(index).or_default();
            match field {
                "price]" => item.0 = Some(value),
                "quantity]" => item.1 = Some(value),
                _ => {}
            }
        }
        if items.is_empty() {
            return Err(invalid(
                "Missing required param: line_items.",
                Some("line_items"),
            ));
        }
        let mut line_items = Vec::new();
        for (index, (price, quantity)) in items {
            let price = price.filter(|p| !p.is_empty()).ok_or_else(|| {
                let param = format!("line_items[{index}][price]");
                invalid(&format!("Missing required param: {param}."), Some(&param))
            })?;
            let quantity = match quantity {
                None => 1,
                Some(text) => text.parse::<u64>().ok().filter(|q| *q > 0).ok_or_else(|| {
                    let param = format!("line_items[{index}][quantity]");
                    invalid(&format!("Invalid positive integer: {param}."), Some(&param))
                })?,
            };
            line_items.push((price.to_owned(), quantity));
        }
        Ok(line_items)
    }
}

fn endpoint(act: Action) -> MethodRouter<Arc<Core>> {
    post(
        move |State(core): State<Arc<Core>>, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            answer(&core, &headers, uri.path(), &body, act)
        },
    )
}

type Action = fn(&Core, &mut Ledger, &Form) -> Result<Value, StripeError>;

/// Runs a POST under the ledger lock, so that two requests with one `Idempotency-Key` cannot
/// both act; a success is kept under the key and replayed, a refusal is not (Stripe keeps no
/// result for a request that failed validation).
fn answer(
    core: &Core,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    act: impl FnOnce(&Core, &mut Ledger, &Form) -> Result<Value, StripeError>,
) -> Response {
    let form = match serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        Ok(pairs) => Form(pairs),
        Err(problem) => {
            return invalid(&format!("Invalid request body: {problem}."), None).into_response();
        }
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .filter(|key| !key.is_empty());
    let mut ledger = core.lock();
    if let Some(replay) = key.and_then(|key| ledger.stripe.idempotency.get(key)) {
        if replay.path != path || replay.request != body {
            let message = "Keys for idempotent requests can only be used with the same parameters they were first used with.";
            return error(StatusCode::BAD_REQUEST, "idempotency_error", message, None)
                .into_response();
        }
        return (
            [("idempotent-replayed", "true")],
            Json(replay.answer.clone()),
        )
            .into_response();
    }
    match act(core, &mut ledger, &form) {
        Ok(answer) => {
            if let Some(key) = key {
                let replay = Replay {
                    path: path.to_owned(),
                    request: body.to_vec(),
                    answer: answer.clone(),
                };
                ledger.stripe.idempotency.insert(key.to_owned(), replay);
            }
            Json(answer).into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}

fn customer(core: &Core, ledger: &mut Ledger, form: &Form) -> Result<Value, StripeError> {
    let id = new_id("cus_");
    let customer = json!({
        "id": id,
        "object": "customer",
        "email": form.get("email"),
        "name": form.get("name"),
        "metadata": form.hash("metadata"),
        "created": core.now(),
        "livemode": false,
    });
    ledger.stripe.customers.insert(id, customer.clone());
    Ok(customer)
}

fn checkout_session(core: &Core, ledger: &mut Ledger, form: &Form) -> Result<Value, StripeError> {
    let mode = form.required("mode")?;
    if mode != "subscription" {
        let message = format!("The fake only makes subscription sessions, not mode {mode}.");
        return Err(invalid(&message, Some("mode")));
    }
    let customer = form.required("customer")?;
    if !ledger.stripe.customers.contains_key(customer) {
        return Err(no_such_customer(customer, "customer"));
    }
    let success_url = form.url("success_url")?;
    let cancel_url = form.url("cancel_url")?;
    let items = form.line_items()?;
    let id = new_id("cs_");
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "mode": "subscription",
        "status": "open",
        "payment_status": "unpaid",
        "customer": customer,
        "client_reference_id": form.get("client_reference_id"),
        "metadata": form.hash("metadata"),
        "subscription": null,
        "url": core.url(&format!("/stripe/pay/{id}")),
        "success_url": success_url,
        "cancel_url": cancel_url,
        "created": core.now(),
        "livemode": false,
    });
    ledger.stripe.sessions.push(Session {
        created: session.clone(),
        current: session.clone(),
        items,
        subscription_metadata: form.hash("subscription_data[metadata]"),
    });
    Ok(session)
}

fn portal_session(core: &Core, ledger: &mut Ledger, form: &Form) -> Result<Value, StripeError> {
    let customer = form.required("customer")?;
    if !ledger.stripe.customers.contains_key(customer) {
        return Err(no_such_customer(customer, "customer"));
    }
    let return_url = match form.get("return_url") {
        Some(_) => Some(form.url("return_url")?),
        None => None,
    };
    let id = new_id("bps_");
    let portal = json!({
        "id": id,
        "object": "billing_portal.session",
        "customer": customer,
        "url": core.url(&format!("/stripe/portal/{id}")),
        "return_url": return_url,
        "created": core.now(),
    });
    ledger.stripe.portals.insert(id, portal.clone());
    Ok(portal)
}

fn meter_event(core: &Core, ledger: &mut Ledger, form: &Form) -> Result<Value, StripeError> {
    let event_name = form.required("event_name")?;
    let customer = form.required("payload[stripe_customer_id]")?;
    let value = form.required("payload[value]")?;
    let identifier = form.required("identifier")?;
    let timestamp = form.required("timestamp")?;
    let value = value
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| {
            invalid(
                "payload[value] must be a non-negative integer.",
                Some("payload[value]"),
            )
        })?;
    let timestamp = timestamp
        .parse::<i64>()
        .map_err(|_| invalid("Invalid integer: timestamp.", Some("timestamp")))?;
    if !ledger.stripe.customers.contains_key(customer) {
        return Err(no_such_customer(customer, "payload[stripe_customer_id]"));
    }
    let events = &mut ledger.stripe.meter_events;
    if events.iter().any(|event| event.identifier == identifier) {
        let body = json!({"error": {
            "type": "invalid_request_error",
            "code": "resource_already_exists",
            "message": format!("An event already exists with identifier {identifier}."),
            "param": "identifier",
        }});
        return Err(StripeError {
            status: StatusCode::BAD_REQUEST,
            body,
        });
    }
    events.push(MeterEvent {
        event_name: event_name.to_owned(),
        customer: customer.to_owned(),
        value,
        identifier: identifier.to_owned(),
        timestamp,
    });
    Ok(json!({
        "object": "billing.meter_event",
        "event_name": event_name,
        "identifier": identifier,
        "payload": {"stripe_customer_id": customer, "value": value.to_string()},
        "timestamp": timestamp,
        "created": core.now(),
        "livemode": false,
    }))
}

async fn subscription_get(State(core): State<Arc<Core>>, Path(id): Path<String>) -> Response {
    let mut ledger = core.lock();
    match ledger.stripe.subscription(&id) {
        Ok(subscription) => Json(subscription.clone()).into_response(),
        Err(_) => no_such_subscription(&id).into_response(),
    }
}

fn no_such_subscription(id: &str) -> StripeError {
    error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        &format!("No such subscription: '{id}'"),
        Some("id"),
    )
}

/// `POST /v1/subscriptions/{id}`: a change of the items' prices and of the metadata, as the
/// Customer Portal or an API call makes it. Stripe answers, and then sends
/// `customer.subscription.updated`; the fake sends it before answering, so that a test sees
/// the outcome as soon as the call returns.
async fn subscription_update(
    State(core): State<Arc<Core>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut updated = None;
    let response = answer(&core, &headers, uri.path(), &body, |core, ledger, form| {
        let (subscription, event) = update_items(core, ledger, form, &id)?;
        updated = Some(event);
        Ok(subscription)
    });
    if let Some(event) = updated
        && let Err(problem) = core.deliver(Provider::Stripe, vec![event]).await
    {
        tracing::warn!(%problem, "the subscription's update did not reach Nexus");
    }
    response
}

fn update_items(
    core: &Core,
    ledger: &mut Ledger,
    form: &Form,
    id: &str,
) -> Result<(Value, Outgoing), StripeError> {
    let subscription = ledger
        .stripe
        .subscription(id)
        .map_err(|_| no_such_subscription(id))?;
    if subscription["status"] == "canceled" {
        return Err(invalid(
            "A canceled subscription can only update its cancellation_details and metadata.",
            None,
        ));
    }
    let previous = json!({"items": subscription["items"].clone(), "metadata": subscription["metadata"].clone()});
    let mut changes: BTreeMap<usize, (Option<&str>, Option<&str>)> = BTreeMap::new();
    for (name, value) in &form.0 {
        let Some(rest) = name.strip_prefix("items[") else {
            continue;
        };
        let Some((index, field)) = rest
            .split_once("][")
            .and_then(|(index, field)| Some((index.parse::<usize>().ok()?, field)))
        else {
            return Err(invalid(&format!("Invalid array: {name}."), Some(name)));
        };
        let change = changes.entry(index).or_default();
        match field {
            "id]" => change.0 = Some(value),
            "price]" => change.1 = Some(value),
            _ => {
                return Err(invalid(
                    &format!("Received unknown parameter: {name}"),
                    Some(name),
                ));
            }
        }
    }
    let items = subscription["items"]["data"]
        .as_array_mut()
        .ok_or_else(|| invalid("The subscription has no items.", None))?;
    for (index, (item, price)) in changes {
        let param = format!("items[{index}][id]");
        let item = item
            .ok_or_else(|| invalid(&format!("Missing required param: {param}."), Some(&param)))?;
        let held = items
            .iter_mut()
            .find(|held| held["id"] == item)
            .ok_or_else(|| {
                invalid(
                    &format!("No such subscription item: '{item}'"),
                    Some(&param),
                )
            })?;
        if let Some(price) = price {
            held["price"] = json!({"id": price});
        }
    }
    let metadata = form.hash("metadata");
    if let Some(held) = subscription["metadata"].as_object_mut() {
        held.extend(metadata);
    }
    let mut event = core.stripe_event("customer.subscription.updated", subscription.clone());
    event["data"]["previous_attributes"] = previous;
    Ok((
        subscription.clone(),
        Outgoing::new(Provider::Stripe, &event),
    ))
}
