//! The fake against a small webhook receiver standing in for Nexus.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::routing::post;
use nexus_fake_provider::{Delivered, Delivery, FakeConfig, FakeProvider};
use ring::hmac;
use serde_json::{Value, json};

/// 2026-01-01T10:00:00Z, the manual clock every test runs on.
const NOW: i64 = 1_767_261_600;

#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

type Inbox = Arc<Mutex<Vec<Received>>>;

async fn take(
    State(inbox): State<Inbox>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let received = Received {
        path: uri.path().to_owned(),
        headers,
        body: body.to_vec(),
    };
    inbox.lock().expect("inbox").push(received);
    "{\"received\":true}"
}

struct Setup {
    fake: FakeProvider,
    inbox: Inbox,
    http: reqwest::Client,
    /// `http://127.0.0.1:N`, where the webhooks are received.
    receiver: String,
}

impl Setup {
    async fn new() -> Self {
        let inbox = Inbox::default();
        let app = Router::new()
            .route("/stripe", post(take))
            .route("/paystack", post(take))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let receiver = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut config = FakeConfig::test();
        config.now = Some(Arc::new(|| NOW));
        let fake = FakeProvider::start(config).await.expect("start the fake");
        fake.set_webhook_targets(
            Some(format!("http://{receiver}/stripe")),
            Some(format!("http://{receiver}/paystack")),
        );
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        Setup {
            fake,
            inbox,
            http,
            receiver: format!("http://{receiver}"),
        }
    }

    fn received(&self) -> Vec<Received> {
        self.inbox.lock().expect("inbox").clone()
    }

    async fn stripe(
        &self,
        path: &str,
        form: &[(&str, &str)],
        key: Option<&str>,
    ) -> (u16, Value, HeaderMap) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.fake.stripe_api_base()))
            .bearer_auth("sk_test_nexus")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).expect("form"));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.expect("stripe call");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, response.json().await.expect("stripe JSON"), headers)
    }

    async fn paystack(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.fake.paystack_api_base());
        let request = match body {
            Some(body) => self.http.post(url).body(body.to_string()),
            None => self.http.get(url),
        };
        let response = request
            .bearer_auth("sk_test_paystack_nexus")
            .header("content-type", "application/json")
            .send()
            .await
            .expect("paystack call");
        let status = response.status().as_u16();
        (status, response.json().await.expect("paystack JSON"))
    }

    async fn customer(&self) -> String {
        let (status, customer, _) = self
            .stripe("/v1/customers", &[("email", "a@shop.test")], None)
            .await;
        assert_eq!(status, 200, "{customer}");
        customer["id"].as_str().expect("id").to_owned()
    }

    async fn session(&self, customer: &str) -> Value {
        let form = [
            ("mode", "subscription"),
            ("customer", customer),
            (
                "success_url",
                "http://nexus.test/ok?session={CHECKOUT_SESSION_ID}",
            ),
            ("cancel_url", "http://nexus.test/cancel"),
            ("line_items[0][price]", "price_pro"),
            ("line_items[0][quantity]", "1"),
            ("client_reference_id", "tenant-1"),
            ("metadata[tenant_id]", "tenant-1"),
            ("metadata[plan]", "basic"),
            ("subscription_data[metadata][plan]", "pro"),
        ];
        let (status, session, _) = self.stripe("/v1/checkout/sessions", &form, None).await;
        assert_eq!(status, 200, "{session}");
        session
    }

    async fn form(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body = serde_urlencoded::to_string(form).expect("form");
        let request = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded");
        request.body(body).send().await.expect("form post")
    }
}

fn kinds(delivered: &[Delivered]) -> Vec<&str> {
    delivered.iter().map(|d| d.kind.as_str()).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Verifies as a Stripe library does: HMAC-SHA256 over `"{t}.{body}"` keyed by the secret.
fn assert_stripe_signed(received: &Received) {
    let header = received.header("stripe-signature");
    let (t, v1) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .unwrap_or_else(|| panic!("bad Stripe-Signature {header}"));
    assert_eq!(t, NOW.to_string());
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"whsec_nexus_test");
    let mut message = format!("{t}.").into_bytes();
    message.extend_from_slice(&received.body);
    hmac::verify(&key, &message, &unhex(v1)).expect("the Stripe signature verifies");
    assert_eq!(received.header("content-type"), "application/json");
}

fn assert_paystack_signed(received: &Received) {
    let key = hmac::Key::new(hmac::HMAC_SHA512, b"sk_test_paystack_nexus");
    let signature = unhex(received.header("x-paystack-signature"));
    hmac::verify(&key, &received.body, &signature).expect("the Paystack signature verifies");
    assert_eq!(received.header("content-type"), "application/json");
}

#[tokio::test]
async fn stripe_checkout_renewal_and_portal_send_signed_webhooks() {
    let setup = Setup::new().await;
    let customer = setup.customer().await;
    let session = setup.session(&customer).await;
    let id = session["id"].as_str().expect("session id");
    assert_eq!(session["status"], "open");
    assert_eq!(
        session["url"],
        format!("{}/pay/{id}", setup.fake.stripe_api_base())
    );

    let page = setup
        .http
        .get(session["url"].as_str().expect("url"))
        .send()
        .await
        .expect("page");
    let page = page.text().await.expect("page text");
    assert!(
        page.contains("Fake Stripe Checkout") && page.contains(">Pay<") && page.contains("Cancel")
    );
    let paid = setup.form(session["url"].as_str().expect("url"), &[]).await;
    assert_eq!(paid.status(), 303);
    assert_eq!(
        paid.headers()["location"],
        format!("http://nexus.test/ok?session={id}")
    );

    let received = setup.received();
    let events: Vec<Value> = received.iter().map(Received::json).collect();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "checkout.session.completed",
            "customer.subscription.created",
            "invoice.paid"
        ]
    );
    received.iter().for_each(assert_stripe_signed);
    assert!(received.iter().all(|r| r.path == "/stripe"));
    let subscription = &events[1]["data"]["object"];
    let subscription_id = subscription["id"].as_str().expect("sub id");
    assert_eq!(events[0]["data"]["object"]["status"], "complete");
    assert_eq!(events[0]["data"]["object"]["subscription"], subscription_id);
    assert_eq!(
        subscription["metadata"],
        json!({"tenant_id": "tenant-1", "plan": "pro"})
    );
    assert_eq!(subscription["items"]["data"][0]["price"]["id"], "price_pro");
    assert_eq!(subscription["current_period_end"], NOW + 30 * 86_400);
    assert_eq!(events[2]["data"]["object"]["status"], "paid");
    assert_eq!(events[0]["created"], NOW);
    assert_eq!(setup.fake.checkout_sessions()[0]["status"], "open");

    let renewed = setup
        .fake
        .stripe_renewal(subscription_id, false)
        .await
        .expect("renewal");
    assert_eq!(
        kinds(&renewed),
        ["invoice.payment_failed", "customer.subscription.updated"]
    );
    let updated = setup.received()[4].json();
    assert_eq!(updated["data"]["object"]["status"], "past_due");
    assert_eq!(updated["data"]["previous_attributes"]["status"], "active");
    assert_eq!(
        updated["data"]["object"]["current_period_end"],
        NOW + 60 * 86_400
    );

    let form = [
        ("customer", customer.as_str()),
        ("return_url", "http://nexus.test/billing"),
    ];
    let (_, portal, _) = setup
        .stripe("/v1/billing_portal/sessions", &form, None)
        .await;
    let url = portal["url"].as_str().expect("portal url");
    let page = setup
        .http
        .get(url)
        .send()
        .await
        .expect("portal")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Cancel subscription"));
    let cancelled = setup.form(url, &[]).await;
    assert_eq!(cancelled.headers()["location"], "http://nexus.test/billing");
    let deleted = setup.received()[5].json();
    assert_eq!(deleted["type"], "customer.subscription.deleted");
    assert_eq!(deleted["data"]["object"]["status"], "canceled");
    assert_eq!(deleted["data"]["object"]["canceled_at"], NOW);
    assert_eq!(setup.fake.deliveries().len(), 6);
    assert!(setup.fake.stripe_cancel(subscription_id).await.is_err());
    setup.fake.stop().await;
}

#[tokio::test]
async fn duplicate_and_reverse_order_delivery() {
    let setup = Setup::new().await;
    let customer = setup.customer().await;
    let session = setup.session(&customer).await;
    setup.fake.set_delivery(Delivery {
        duplicate: true,
        reverse_order: true,
        delay: Duration::from_millis(5),
    });
    let delivered = setup
        .fake
        .complete_checkout(session["id"].as_str().expect("id"))
        .await
        .expect("paid");
    assert_eq!(
        kinds(&delivered),
        [
            "invoice.paid",
            "invoice.paid",
            "customer.subscription.created",
            "customer.subscription.created",
            "checkout.session.completed",
            "checkout.session.completed",
        ]
    );
    assert!(
        delivered
            .iter()
            .all(|d| d.status == 200 && d.provider == "stripe")
    );
    let received = setup.received();
    assert_eq!(received.len(), 6);
    for pair in received.chunks(2) {
        assert_eq!(pair[0].body, pair[1].body, "a duplicate is the same event");
        assert_stripe_signed(&pair[1]);
    }
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer() {
    let setup = Setup::new().await;
    let form = [("email", "b@shop.test"), ("metadata[tenant_id]", "t-2")];
    let (first_status, first, first_headers) =
        setup.stripe("/v1/customers", &form, Some("key-1")).await;
    let (again_status, again, again_headers) =
        setup.stripe("/v1/customers", &form, Some("key-1")).await;
    assert_eq!((first_status, again_status), (200, 200));
    assert_eq!(first, again);
    assert_eq!(first["metadata"]["tenant_id"], "t-2");
    assert!(first_headers.get("idempotent-replayed").is_none());
    assert_eq!(again_headers["idempotent-replayed"], "true");
    let (status, refused, _) = setup
        .stripe("/v1/customers", &[("email", "c@shop.test")], Some("key-1"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["type"], "idempotency_error");

    let customer = first["id"].as_str().expect("id");
    let form = [
        ("mode", "subscription"),
        ("customer", customer),
        ("success_url", "http://nexus.test/ok"),
        ("cancel_url", "http://nexus.test/no"),
        ("line_items[0][price]", "price_a"),
    ];
    let (_, one, _) = setup
        .stripe("/v1/checkout/sessions", &form, Some("key-2"))
        .await;
    let (_, two, _) = setup
        .stripe("/v1/checkout/sessions", &form, Some("key-2"))
        .await;
    assert_eq!(one["id"], two["id"]);
    assert_eq!(setup.fake.checkout_sessions().len(), 1);
}

#[tokio::test]
async fn meter_events_are_kept_once_per_identifier() {
    let setup = Setup::new().await;
    let customer = setup.customer().await;
    let timestamp = NOW.to_string();
    let event = |identifier: &'static str, value: &'static str| {
        vec![
            ("event_name", "nexus_orders"),
            ("payload[stripe_customer_id]", customer.as_str()),
            ("payload[value]", value),
            ("identifier", identifier),
            ("timestamp", timestamp.as_str()),
        ]
    };
    let path = "/v1/billing/meter_events";
    let (status, first, _) = setup
        .stripe(path, &event("t1-2026-01-01", "42"), Some("m-1"))
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["payload"]["value"], "42");
    let (status, replay, _) = setup
        .stripe(path, &event("t1-2026-01-01", "42"), Some("m-1"))
        .await;
    assert_eq!((status, &replay), (200, &first));
    let (status, duplicate, _) = setup
        .stripe(path, &event("t1-2026-01-01", "42"), Some("m-2"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(duplicate["error"]["code"], "resource_already_exists");
    assert_eq!(
        duplicate["error"]["message"],
        "An event already exists with identifier t1-2026-01-01."
    );
    let (status, negative, _) = setup.stripe(path, &event("t1-x", "-1"), None).await;
    assert_eq!(
        (status, negative["error"]["param"].as_str()),
        (400, Some("payload[value]"))
    );
    let mut stranger = event("t1-y", "1");
    stranger[1].1 = "cus_nobody";
    let (status, unknown, _) = setup.stripe(path, &stranger, None).await;
    assert_eq!(status, 400);
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("No such customer")
    );
    let (status, _, _) = setup.stripe(path, &event("t1-2026-01-02", "7"), None).await;
    assert_eq!(status, 200);

    let events = setup.fake.meter_events();
    assert_eq!(events.len(), 2);
    assert_eq!((events[0].value, events[0].timestamp), (42, NOW));
    assert_eq!(events[0].customer, customer);
    assert_eq!(setup.fake.meter_event_posts(), 6);
}

#[tokio::test]
async fn failed_api_calls_answer_500_and_change_nothing() {
    let setup = Setup::new().await;
    setup.fake.fail_next_api_calls(2);
    setup.fake.set_api_delay(Duration::from_millis(5));
    let (status, failed, _) = setup
        .stripe("/v1/customers", &[("email", "a@shop.test")], Some("k"))
        .await;
    assert_eq!(
        (status, failed["error"]["type"].as_str()),
        (500, Some("api_error"))
    );
    let body = json!({"email": "a@shop.test", "amount": 5000});
    let (status, failed) = setup.paystack("/transaction/initialize", Some(body)).await;
    assert_eq!((status, &failed["status"]), (500, &json!(false)));
    assert!(setup.fake.transactions().is_empty());
    // The key of a failed call is not used up, so Nexus's retry goes through.
    let (status, made, headers) = setup
        .stripe("/v1/customers", &[("email", "a@shop.test")], Some("k"))
        .await;
    assert_eq!(status, 200, "{made}");
    assert!(headers.get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn paystack_checkout_subscribes_card_plans_only() {
    let setup = Setup::new().await;
    let (status, customer) = setup
        .paystack("/customer", Some(json!({"email": "Ama@Shop.test"})))
        .await;
    assert_eq!(status, 200);
    let (_, same) = setup
        .paystack("/customer", Some(json!({"email": "ama@shop.test"})))
        .await;
    assert_eq!(
        customer["data"]["customer_code"],
        same["data"]["customer_code"]
    );

    let body = json!({
        "email": "ama@shop.test", "amount": "15000", "currency": "GHS", "reference": "nx-card-1",
        "callback_url": "http://nexus.test/paystack/back", "plan": "PLN_pro", "channels": ["card"],
        "metadata": {"tenant_id": "t-9"},
    });
    let (status, initialized) = setup
        .paystack("/transaction/initialize", Some(body.clone()))
        .await;
    assert_eq!(status, 200, "{initialized}");
    let url = initialized["data"]["authorization_url"]
        .as_str()
        .expect("url");
    assert_eq!(
        url,
        format!("{}/pay/nx-card-1", setup.fake.paystack_api_base())
    );
    let (status, duplicate) = setup.paystack("/transaction/initialize", Some(body)).await;
    assert_eq!(
        (status, duplicate["message"].as_str()),
        (400, Some("Duplicate Transaction Reference"))
    );
    let (_, verified) = setup.paystack("/transaction/verify/nx-card-1", None).await;
    assert_eq!(verified["data"]["status"], "abandoned");
    assert_eq!(verified["data"]["paid_at"], Value::Null);

    let page = setup
        .http
        .get(url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("Fake Paystack checkout")
            && page.contains(">Pay<")
            && page.contains(">Decline<")
    );
    let paid = setup.form(url, &[("outcome", "pay")]).await;
    assert_eq!(paid.status(), 303);
    assert_eq!(
        paid.headers()["location"],
        "http://nexus.test/paystack/back?reference=nx-card-1"
    );
    let received = setup.received();
    received.iter().for_each(assert_paystack_signed);
    let events: Vec<Value> = received.iter().map(Received::json).collect();
    assert_eq!(events[0]["event"], "charge.success");
    assert_eq!(events[0]["data"]["amount"], 15000);
    assert_eq!(events[0]["data"]["paid_at"], "2026-01-01T10:00:00.000Z");
    assert_eq!(events[0]["data"]["metadata"]["tenant_id"], "t-9");
    assert_eq!(events[1]["event"], "subscription.create");
    let subscription = &events[1]["data"];
    assert_eq!(subscription["plan"]["plan_code"], "PLN_pro");
    assert_eq!(
        subscription["next_payment_date"],
        "2026-01-31T10:00:00.000Z"
    );
    let (_, verified) = setup.paystack("/transaction/verify/nx-card-1", None).await;
    assert_eq!(verified["data"]["status"], "success");
    assert_eq!(verified["data"]["channel"], "card");

    let code = subscription["subscription_code"].as_str().expect("code");
    let token = subscription["email_token"].as_str().expect("token");
    let failed = setup
        .fake
        .paystack_renewal_failed(code)
        .await
        .expect("renewal");
    assert_eq!(kinds(&failed), ["invoice.payment_failed"]);
    assert_eq!(
        setup.received()[2].json()["data"]["subscription"]["status"],
        "attention"
    );
    let (status, _) = setup
        .paystack(
            "/subscription/disable",
            Some(json!({"code": code, "token": "tok_wrong"})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, disabled) = setup
        .paystack(
            "/subscription/disable",
            Some(json!({"code": code, "token": token})),
        )
        .await;
    assert_eq!(
        (status, disabled["message"].as_str()),
        (200, Some("Subscription disabled successfully"))
    );
    for _ in 0..200 {
        if setup.received().len() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let disable = setup.received()[3].json();
    assert_eq!(
        (
            disable["event"].as_str(),
            disable["data"]["status"].as_str()
        ),
        (Some("subscription.disable"), Some("cancelled"))
    );
    assert!(setup.fake.paystack_disable(code).await.is_err());

    let body = json!({"email": "ama@shop.test", "amount": 15000, "plan": "PLN_pro", "channels": ["mobile_money"]});
    let (_, momo) = setup.paystack("/transaction/initialize", Some(body)).await;
    let reference = momo["data"]["reference"].as_str().expect("reference");
    let delivered = setup
        .fake
        .paystack_pay(reference, true)
        .await
        .expect("momo");
    assert_eq!(kinds(&delivered), ["charge.success"]);
    assert_eq!(
        setup.received()[4].json()["data"]["channel"],
        "mobile_money"
    );

    let (_, declined) = setup
        .paystack(
            "/transaction/initialize",
            Some(json!({"email": "k@shop.test", "amount": 900})),
        )
        .await;
    let url = declined["data"]["authorization_url"].as_str().expect("url");
    let reference = declined["data"]["reference"].as_str().expect("reference");
    let done = setup.form(url, &[("outcome", "decline")]).await;
    assert_eq!(done.status(), 200);
    assert_eq!(
        setup.received().len(),
        5,
        "no webhook for a declined first payment"
    );
    let (_, verified) = setup
        .paystack(&format!("/transaction/verify/{reference}"), None)
        .await;
    assert_eq!(verified["data"]["status"], "failed");
    assert!(setup.fake.paystack_pay(reference, true).await.is_err());
    assert_eq!(setup.fake.transactions().len(), 3);
    let (status, missing) = setup.paystack("/transaction/verify/nope", None).await;
    assert_eq!(
        (status, missing["message"].as_str()),
        (404, Some("Transaction reference not found"))
    );
}

#[tokio::test]
async fn bad_keys_are_refused() {
    let setup = Setup::new().await;
    let stripe = setup
        .http
        .post(format!("{}/v1/customers", setup.fake.stripe_api_base()))
        .bearer_auth("sk_test_wrong")
        .send()
        .await
        .expect("call");
    assert_eq!(stripe.status(), 401);
    let body: Value = stripe.json().await.expect("json");
    assert_eq!(
        body,
        json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
    );
    let paystack = setup
        .http
        .get(format!(
            "{}/transaction/verify/x",
            setup.fake.paystack_api_base()
        ))
        .send()
        .await
        .expect("call");
    assert_eq!(paystack.status(), 401);
    let body: Value = paystack.json().await.expect("json");
    assert_eq!(body, json!({"status": false, "message": "Invalid key"}));
}

#[tokio::test]
async fn malformed_requests_get_400_not_a_panic() {
    let setup = Setup::new().await;
    let url = format!("{}/transaction/initialize", setup.fake.paystack_api_base());
    for body in [
        "not json",
        "[1,2]",
        "{\"email\":7}",
        "{\"email\":\"a@b.c\",\"amount\":\"12a\"}",
        "{\"email\":\"a@b.c\",\"amount\":0}",
        "{\"email\":\"a@b.c\",\"amount\":5,\"channels\":\"card\"}",
        "{\"email\":\"a@b.c\",\"amount\":5,\"reference\":\"a b\"}",
        "{\"email\":\"a@b.c\",\"amount\":5,\"callback_url\":\"http://x/\\r\\nSet-Cookie: a\"}",
    ] {
        let response = setup
            .http
            .post(&url)
            .bearer_auth("sk_test_paystack_nexus")
            .body(body)
            .send()
            .await
            .expect("call");
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.expect("json");
        assert_eq!(answer["status"], false);
    }
    let (status, missing, _) = setup
        .stripe("/v1/checkout/sessions", &[("customer", "cus_x")], None)
        .await;
    assert_eq!(
        (status, missing["error"]["param"].as_str()),
        (400, Some("mode"))
    );
    let customer = setup.customer().await;
    let form = [
        ("mode", "subscription"),
        ("customer", &customer),
        ("success_url", "http://nexus.test/s"),
        ("cancel_url", "http://nexus.test/c"),
        ("line_items[x][price]", "p"),
    ];
    let (status, _, _) = setup.stripe("/v1/checkout/sessions", &form, None).await;
    assert_eq!(status, 400);
    let form = [
        ("mode", "subscription"),
        ("customer", &customer),
        ("success_url", "http://x/\r\nSet-Cookie: a"),
        ("cancel_url", "http://nexus.test/c"),
        ("line_items[0][price]", "p"),
    ];
    let (status, bad_url, _) = setup.stripe("/v1/checkout/sessions", &form, None).await;
    assert_eq!(
        (status, bad_url["error"]["param"].as_str()),
        (400, Some("success_url"))
    );
    let (status, _, _) = setup.stripe("/v1/nothing", &[], None).await;
    assert_eq!(status, 404);
    let response = setup
        .form(
            &format!("{}/pay/nope", setup.fake.paystack_api_base()),
            &[("outcome", "maybe")],
        )
        .await;
    assert_eq!(response.status(), 400);
    // Still serving.
    assert_eq!(setup.stripe("/v1/customers", &[], None).await.0, 200);
}

#[tokio::test]
async fn events_wait_for_a_target_and_raw_events_are_signed() {
    let setup = Setup::new().await;
    let customer = setup.customer().await;
    let session = setup.session(&customer).await;
    let targets = (
        Some(format!("{}/stripe", setup.receiver)),
        Some(format!("{}/paystack", setup.receiver)),
    );
    setup.fake.set_webhook_targets(None, None);
    let event = setup
        .fake
        .stripe_event("invoice.paid", json!({"id": "in_x"}));
    assert!(setup.fake.send_stripe(&event).await.is_err());
    let delivered = setup
        .fake
        .complete_checkout(session["id"].as_str().expect("id"))
        .await
        .expect("paid");
    assert!(delivered.is_empty());
    assert!(setup.received().is_empty());

    // A target that refuses connections: the events are kept for the next delivery.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let closed_url = format!("http://{}/stripe", closed.local_addr().expect("address"));
    drop(closed);
    setup.fake.set_webhook_targets(Some(closed_url), None);
    assert!(setup.fake.send_stripe(&event).await.is_err());

    setup.fake.set_webhook_targets(targets.0, targets.1);
    let answer = setup.fake.send_stripe(&event).await.expect("sent");
    assert_eq!((answer.status, answer.kind.as_str()), (200, "invoice.paid"));
    let received = setup.received();
    let types: Vec<Value> = received.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(
        types,
        [
            "checkout.session.completed",
            "customer.subscription.created",
            "invoice.paid",
            "invoice.paid",
            "invoice.paid"
        ]
    );
    let raw = received.last().expect("raw event");
    assert_eq!(raw.json(), event);
    assert_eq!(
        raw.header("stripe-signature"),
        setup.fake.sign_stripe(&raw.body, NOW)
    );

    let event = json!({"event": "charge.success", "data": {"reference": "r"}});
    setup.fake.send_paystack(&event).await.expect("sent");
    let raw = setup.received().pop().expect("raw event");
    assert_eq!(
        raw.header("x-paystack-signature"),
        setup.fake.sign_paystack(&raw.body)
    );
    assert_paystack_signed(&raw);

    let address = setup.fake.address();
    setup.fake.stop().await;
    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_server() {
    let fake = FakeProvider::start(FakeConfig::test())
        .await
        .expect("start");
    let address = fake.address();
    let other = fake.clone();
    drop(fake);
    assert!(
        tokio::net::TcpStream::connect(address).await.is_ok(),
        "a clone keeps it up"
    );
    drop(other);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(address).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the fake still listens after its last handle was dropped");
}
