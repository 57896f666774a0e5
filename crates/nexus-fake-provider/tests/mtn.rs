//! The fake MTN MoMo Collections API against a small callback receiver standing in for Nexus.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::routing::any;
use nexus_fake_provider::{FakeConfig, FakeProvider, MomoFaults};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// 2026-01-01T10:00:00Z, where the manual clock starts.
const NOW: i64 = 1_767_261_600;

const USER: &str = "6f1c6a3e-2b1d-4e7a-9a53-5b0c8d7e4f10";
const SUBSCRIPTION: &str = "mtn_test_subscription_key";

#[derive(Debug)]
struct Received {
    method: Method,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("callback body is JSON")
    }
}

async fn take(
    State(inbox): State<mpsc::UnboundedSender<Received>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let received = Received {
        method,
        headers,
        body: body.to_vec(),
    };
    let _ = inbox.send(received);
    ""
}

struct Setup {
    fake: FakeProvider,
    clock: Arc<AtomicI64>,
    inbox: mpsc::UnboundedReceiver<Received>,
    http: reqwest::Client,
    /// Where callbacks are received.
    callback: String,
    token: String,
}

impl Setup {
    async fn new() -> Self {
        let (sender, inbox) = mpsc::unbounded_channel();
        let app = Router::new()
            .route("/momo/callback", any(take))
            .with_state(sender);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let receiver = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let clock = Arc::new(AtomicI64::new(NOW));
        let mut config = FakeConfig::test();
        let reading = clock.clone();
        config.now = Some(Arc::new(move || reading.load(Ordering::SeqCst)));
        let fake = FakeProvider::start(config).await.expect("start the fake");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let mut setup = Setup {
            fake,
            clock,
            inbox,
            http,
            callback: format!("http://{receiver}/momo/callback"),
            token: String::new(),
        };
        let (status, token) = setup.token(USER, "mtn_test_api_key", SUBSCRIPTION).await;
        assert_eq!(status, 200, "{token}");
        setup.token = token["access_token"].as_str().expect("token").to_owned();
        setup
    }

    async fn token(&self, user: &str, key: &str, subscription: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/collection/token/", self.fake.mtn_api_base()))
            .basic_auth(user, Some(key))
            .header("Ocp-Apim-Subscription-Key", subscription)
            .send()
            .await
            .expect("token call");
        let status = response.status().as_u16();
        (status, response.json().await.expect("token JSON"))
    }

    /// A request to pay with the test headers, `headers` added or replacing them; the status
    /// and the body as text (202 has none).
    async fn post(&self, body: &Value, headers: &[(&str, &str)]) -> (u16, String) {
        let mut request = self
            .http
            .post(format!(
                "{}/collection/v1_0/requesttopay",
                self.fake.mtn_api_base()
            ))
            .header("content-type", "application/json")
            .body(body.to_string());
        let defaults = [
            ("Authorization", format!("Bearer {}", self.token)),
            ("Ocp-Apim-Subscription-Key", SUBSCRIPTION.to_owned()),
            ("X-Target-Environment", "sandbox".to_owned()),
        ];
        for (name, value) in defaults {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                request = request.header(name, value);
            }
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("requesttopay call");
        let status = response.status().as_u16();
        (status, response.text().await.expect("answer text"))
    }

    /// A request to pay from `party_id` with a new reference and the callback, which must be
    /// accepted; its reference.
    async fn request(&self, party_id: &str) -> String {
        let reference = uuid::Uuid::now_v7().to_string();
        let headers = [
            ("X-Reference-Id", reference.as_str()),
            ("X-Callback-Url", self.callback.as_str()),
        ];
        let (status, body) = self.post(&payment(party_id), &headers).await;
        assert_eq!((status, body.as_str()), (202, ""));
        reference
    }

    async fn get(&self, reference: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!(
                "{}/collection/v1_0/requesttopay/{reference}",
                self.fake.mtn_api_base()
            ))
            .bearer_auth(&self.token)
            .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION)
            .header("X-Target-Environment", "sandbox")
            .send()
            .await
            .expect("status call");
        let status = response.status().as_u16();
        (status, response.json().await.expect("status JSON"))
    }

    /// The next callback, waited for on the channel rather than by sleeping.
    async fn callback(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(5), self.inbox.recv())
            .await
            .expect("a callback within 5 s")
            .expect("the receiver runs")
    }

    /// Nothing more has arrived; callbacks are sent before approve returns, so no wait is
    /// needed to be sure.
    fn no_more_callbacks(&mut self) {
        if let Ok(extra) = self.inbox.try_recv() {
            panic!("an unexpected callback: {extra:?}");
        }
    }
}

fn payment(party_id: &str) -> Value {
    json!({
        "amount": "12.50",
        "currency": "GHS",
        "externalId": "sale-17",
        "payer": {"partyIdType": "MSISDN", "partyId": party_id},
        "payerMessage": "Nexus shop",
        "payeeNote": "Till 1",
    })
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}

#[tokio::test]
async fn tokens_need_the_user_key_and_the_subscription_key() {
    let setup = Setup::new().await;
    let (status, answer) = setup.token(USER, "mtn_test_api_key", SUBSCRIPTION).await;
    assert_eq!(status, 200);
    assert_eq!(answer["token_type"], "access_token");
    assert_eq!(answer["expires_in"], 3600);
    assert_ne!(answer["access_token"].as_str(), Some(setup.token.as_str()));

    let (status, answer) = setup.token(USER, "wrong", SUBSCRIPTION).await;
    assert_eq!((status, answer), (401, json!({"error": "login_failed"})));
    let (status, answer) = setup
        .token("someone-else", "mtn_test_api_key", SUBSCRIPTION)
        .await;
    assert_eq!((status, answer), (401, json!({"error": "login_failed"})));
    let (status, answer) = setup.token(USER, "mtn_test_api_key", "wrong").await;
    assert_eq!(
        (status, answer),
        (
            401,
            json!({"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."})
        )
    );
    let garbled = setup
        .http
        .post(format!("{}/collection/token/", setup.fake.mtn_api_base()))
        .header("Authorization", "Basic !!!")
        .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION)
        .send()
        .await
        .expect("call");
    assert_eq!(garbled.status(), 401);

    // An unknown token, then a real one after its hour.
    let reference = uuid::Uuid::now_v7().to_string();
    let unknown = [
        ("Authorization", "Bearer not-issued"),
        ("X-Reference-Id", reference.as_str()),
    ];
    let (status, body) = setup.post(&payment("233244123456"), &unknown).await;
    assert_eq!(
        (status, json_of(&body)["code"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );
    setup.clock.fetch_add(3600, Ordering::SeqCst);
    let (status, answer) = setup.get(&reference).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );
    assert!(setup.fake.momo_requests().is_empty());
    assert_eq!(setup.fake.momo_request_posts(), 1);
}

#[tokio::test]
async fn a_request_is_pending_until_approved_then_called_back_once() {
    let mut setup = Setup::new().await;
    let reference = setup.request("233244123456").await;
    let (status, pending) = setup.get(&reference).await;
    assert_eq!(status, 200);
    assert_eq!(
        pending,
        json!({
            "amount": "12.50",
            "currency": "GHS",
            "externalId": "sale-17",
            "payer": {"partyIdType": "MSISDN", "partyId": "233244123456"},
            "payerMessage": "Nexus shop",
            "payeeNote": "Till 1",
            "status": "PENDING",
        })
    );
    setup.no_more_callbacks();

    let delivered = setup.fake.momo_approve(&reference).await.expect("approve");
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        (
            delivered[0].provider,
            delivered[0].kind.as_str(),
            delivered[0].status
        ),
        ("mtn", "SUCCESSFUL", 200)
    );
    let (_, paid) = setup.get(&reference).await;
    assert_eq!(paid["status"], "SUCCESSFUL");
    let id = paid["financialTransactionId"].as_str().expect("an id");
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        "{id}"
    );
    assert!(paid.get("reason").is_none());

    let callback = setup.callback().await;
    assert_eq!(callback.method, Method::PUT);
    assert_eq!(callback.headers["content-type"], "application/json");
    assert_eq!(callback.json(), paid);
    setup.no_more_callbacks();

    // Approving again changes nothing and calls nobody.
    assert!(
        setup
            .fake
            .momo_approve(&reference)
            .await
            .expect("again")
            .is_empty()
    );
    setup.no_more_callbacks();
    assert_eq!(setup.get(&reference).await.1, paid);
    // The reference is a UUID, whatever its case.
    assert_eq!(setup.get(&reference.to_uppercase()).await.1, paid);

    let other = setup.request("233244000001").await;
    setup.fake.momo_approve(&other).await.expect("approve");
    let second = setup.get(&other).await.1;
    assert_ne!(
        second["financialTransactionId"],
        paid["financialTransactionId"]
    );
    setup.callback().await;

    let listed = setup.fake.momo_requests();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["referenceId"], reference);
    assert_eq!(listed[0]["callbackUrl"], setup.callback);
    assert_eq!(listed[0]["status"], "SUCCESSFUL");
    assert_eq!(setup.fake.momo_request_posts(), 2);
    assert_eq!(setup.fake.deliveries().len(), 2);
    assert!(setup.fake.momo_approve("nope").await.is_err());
    let unknown = uuid::Uuid::now_v7().to_string();
    assert!(setup.fake.momo_approve(&unknown).await.is_err());
}

#[tokio::test]
async fn test_numbers_fail_with_their_reason_or_never_answer() {
    let mut setup = Setup::new().await;
    for (number, code) in [
        ("46733123450", "INTERNAL_PROCESSING_ERROR"),
        ("46733123451", "APPROVAL_REJECTED"),
        ("46733123452", "EXPIRED"),
        ("46733123455", "NOT_ENOUGH_FUNDS"),
        ("46733123456", "PAYER_NOT_FOUND"),
    ] {
        let reference = setup.request(number).await;
        let delivered = setup.fake.momo_approve(&reference).await.expect("approve");
        assert_eq!(delivered[0].kind, "FAILED");
        let (_, failed) = setup.get(&reference).await;
        assert_eq!(failed["status"], "FAILED", "{number}");
        assert_eq!(failed["reason"]["code"], code, "{number}");
        assert!(failed["reason"]["message"].is_string());
        assert!(failed.get("financialTransactionId").is_none());
        assert_eq!(setup.callback().await.json(), failed);
    }
    for number in ["46733123453", "46733123454"] {
        let reference = setup.request(number).await;
        assert!(
            setup
                .fake
                .momo_approve(&reference)
                .await
                .expect("approve")
                .is_empty()
        );
        assert!(
            setup
                .fake
                .momo_approve(&reference)
                .await
                .expect("again")
                .is_empty()
        );
        let (_, pending) = setup.get(&reference).await;
        assert_eq!(pending["status"], "PENDING");
        assert!(pending.get("reason").is_none());
    }
    setup.no_more_callbacks();
}

#[tokio::test]
async fn a_duplicate_reference_is_409_and_changes_nothing() {
    let setup = Setup::new().await;
    let reference = setup.request("233244123456").await;
    let before = setup.fake.momo_requests();
    let mut changed = payment("233244999999");
    changed["amount"] = json!("99");
    let (status, body) = setup
        .post(&changed, &[("X-Reference-Id", &reference.to_uppercase())])
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        json_of(&body),
        json!({"code": "RESOURCE_ALREADY_EXIST", "message": "Duplicated reference id. Creation for resource failed."})
    );
    assert_eq!(setup.fake.momo_requests(), before);
    assert_eq!(setup.fake.momo_request_posts(), 2);
}

#[tokio::test]
async fn bad_headers_and_bodies_are_refused() {
    let setup = Setup::new().await;
    let reference = uuid::Uuid::now_v7().to_string();
    let with = |extra: &'static str| {
        [
            ("X-Reference-Id", reference.clone()),
            ("X-Target-Environment", extra.to_owned()),
        ]
    };
    let good = payment("233244123456");
    let code = |body: &str| json_of(body)["code"].as_str().map(str::to_owned);

    for bad in ["", "not-a-uuid", "6f1c6a3e2b1d4e7a9a535b0c8d7e4f10"] {
        let (status, body) = setup.post(&good, &[("X-Reference-Id", bad)]).await;
        assert_eq!(
            (status, code(&body)),
            (400, Some("INVALID_REFERENCE_ID".to_owned())),
            "{bad}"
        );
    }
    let headers = with("production");
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let (status, body) = setup.post(&good, &headers).await;
    assert_eq!(
        (status, code(&body)),
        (400, Some("INVALID_TARGET_ENVIRONMENT".to_owned()))
    );
    let (status, _) = setup
        .post(
            &good,
            &[
                ("X-Reference-Id", &reference),
                ("Ocp-Apim-Subscription-Key", "x"),
            ],
        )
        .await;
    assert_eq!(status, 401);

    let mut bodies = Vec::new();
    for amount in [
        json!("0"),
        json!("-5"),
        json!("12,50"),
        json!("abc"),
        json!(12.5),
        Value::Null,
    ] {
        let mut body = good.clone();
        body["amount"] = amount;
        bodies.push(body);
    }
    let mut no_payer = good.clone();
    no_payer.as_object_mut().expect("object").remove("payer");
    bodies.push(no_payer);
    let mut bad_number = good.clone();
    bad_number["payer"]["partyId"] = json!("+233 24");
    bodies.push(bad_number);
    let mut bad_kind = good.clone();
    bad_kind["payer"]["partyIdType"] = json!("PHONE");
    bodies.push(bad_kind);
    let mut bad_currency = good.clone();
    bad_currency["currency"] = json!("cedi");
    bodies.push(bad_currency);
    let mut bad_note = good.clone();
    bad_note["payeeNote"] = json!(7);
    bodies.push(bad_note);
    bodies.push(json!([1, 2]));
    for body in &bodies {
        let (status, answer) = setup.post(body, &[("X-Reference-Id", &reference)]).await;
        assert_eq!(
            (status, code(&answer)),
            (400, Some("INVALID_INPUT".to_owned())),
            "{body}"
        );
    }
    let (status, answer) = setup
        .post(
            &good,
            &[
                ("X-Reference-Id", &reference),
                ("X-Callback-Url", "not a url"),
            ],
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (400, Some("INVALID_INPUT".to_owned()))
    );

    assert!(setup.fake.momo_requests().is_empty());
    assert_eq!(
        setup.fake.momo_request_posts(),
        3 + 1 + 1 + bodies.len() + 1
    );
    let (status, missing) = setup.get(&reference).await;
    assert_eq!(
        (status, missing),
        (
            404,
            json!({"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."})
        )
    );
    assert_eq!(setup.get("not-a-uuid").await.0, 404);
    // A request without a callback URL is fine; approving it calls nobody.
    let (status, _) = setup.post(&good, &[("X-Reference-Id", &reference)]).await;
    assert_eq!(status, 202);
    assert!(
        setup
            .fake
            .momo_approve(&reference)
            .await
            .expect("approve")
            .is_empty()
    );
    assert_eq!(setup.fake.momo_requests()[0]["callbackUrl"], Value::Null);
}

#[tokio::test]
async fn outages_and_delays_apply_to_mtn_calls() {
    let setup = Setup::new().await;
    setup.fake.set_api_delay(Duration::from_millis(5));
    setup.fake.fail_next_api_calls(2);
    let outage = json!({"code": "INTERNAL_PROCESSING_ERROR", "message": "An internal error occurred while processing."});
    let (status, answer) = setup.token(USER, "mtn_test_api_key", SUBSCRIPTION).await;
    assert_eq!((status, answer), (500, outage.clone()));
    let reference = uuid::Uuid::now_v7().to_string();
    let headers = [("X-Reference-Id", reference.as_str())];
    let (status, body) = setup.post(&payment("233244123456"), &headers).await;
    assert_eq!((status, json_of(&body)), (500, outage));
    assert!(setup.fake.momo_requests().is_empty());
    assert_eq!(setup.fake.momo_request_posts(), 1);
    // Nexus's retry with the same reference goes through.
    assert_eq!(setup.post(&payment("233244123456"), &headers).await.0, 202);
}

#[tokio::test]
async fn a_lost_answer_is_still_recorded_and_approvable() {
    let mut setup = Setup::new().await;
    setup.fake.set_momo_faults(MomoFaults {
        lose_next_answer: true,
        ..MomoFaults::default()
    });
    let reference = uuid::Uuid::now_v7().to_string();
    let headers = [
        ("X-Reference-Id", reference.as_str()),
        ("X-Callback-Url", setup.callback.as_str()),
    ];
    let (status, body) = setup.post(&payment("233244123456"), &headers).await;
    assert_eq!(
        (status, json_of(&body)),
        (504, json!({"code": "GATEWAY_TIMEOUT"}))
    );
    assert_eq!(setup.get(&reference).await.1["status"], "PENDING");
    // Nexus's retry under the same reference finds it made.
    assert_eq!(setup.post(&payment("233244123456"), &headers).await.0, 409);
    setup.fake.momo_approve(&reference).await.expect("approve");
    assert_eq!(setup.callback().await.json()["status"], "SUCCESSFUL");
    assert_eq!(setup.get(&reference).await.1["status"], "SUCCESSFUL");
    // The fault cleared itself.
    setup.request("233244123456").await;
    assert_eq!(setup.fake.momo_requests().len(), 2);
}

#[tokio::test]
async fn callbacks_duplicated_dropped_or_unreachable() {
    let mut setup = Setup::new().await;
    setup.fake.set_momo_faults(MomoFaults {
        duplicate_callbacks: true,
        ..MomoFaults::default()
    });
    let reference = setup.request("233244123456").await;
    let delivered = setup.fake.momo_approve(&reference).await.expect("approve");
    assert_eq!(delivered.len(), 2);
    let (first, second) = (setup.callback().await, setup.callback().await);
    assert_eq!(first.body, second.body, "a duplicate is the same callback");
    setup.no_more_callbacks();

    setup.fake.set_momo_faults(MomoFaults {
        drop_callbacks: true,
        ..MomoFaults::default()
    });
    let reference = setup.request("46733123451").await;
    assert!(
        setup
            .fake
            .momo_approve(&reference)
            .await
            .expect("approve")
            .is_empty()
    );
    setup.no_more_callbacks();
    assert_eq!(setup.get(&reference).await.1["status"], "FAILED");

    // A callback URL nobody listens on: recorded, not retried, and still Ok.
    setup.fake.set_momo_faults(MomoFaults::default());
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let closed_url = format!("http://{}/momo", closed.local_addr().expect("address"));
    drop(closed);
    let reference = uuid::Uuid::now_v7().to_string();
    let headers = [
        ("X-Reference-Id", reference.as_str()),
        ("X-Callback-Url", closed_url.as_str()),
    ];
    assert_eq!(setup.post(&payment("233244123456"), &headers).await.0, 202);
    assert!(
        setup
            .fake
            .momo_approve(&reference)
            .await
            .expect("approve")
            .is_empty()
    );
    assert_eq!(setup.fake.momo_callback_errors().len(), 1);
    assert!(
        setup
            .fake
            .momo_approve(&reference)
            .await
            .expect("again")
            .is_empty()
    );
    assert_eq!(setup.fake.momo_callback_errors().len(), 1);
    assert_eq!(setup.get(&reference).await.1["status"], "SUCCESSFUL");
    assert_eq!(setup.fake.deliveries().len(), 2);
}

#[tokio::test]
async fn auto_approve_settles_new_requests_by_itself() {
    let mut setup = Setup::new().await;
    let before = setup.request("233244123456").await;
    setup
        .fake
        .set_momo_auto_approve(Some(Duration::from_millis(20)));
    let reference = setup.request("233244123456").await;
    let callback = setup.callback().await;
    assert_eq!(callback.json()["status"], "SUCCESSFUL");
    assert_eq!(setup.get(&reference).await.1["status"], "SUCCESSFUL");
    assert_eq!(setup.get(&before).await.1["status"], "PENDING");
    setup.fake.set_momo_auto_approve(None);
    let later = setup.request("233244123456").await;
    assert_eq!(setup.get(&later).await.1["status"], "PENDING");
}
