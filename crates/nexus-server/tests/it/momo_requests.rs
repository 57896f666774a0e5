//! Request to pay through the in-repo fake MTN MoMo: a till asks, the customer approves (or
//! not) on their phone, and the service learns it from the callback or by asking. Nothing is
//! charged twice and a sale's tender is verified only by a payment the network confirmed.

use nexus_fake_provider::{FakeProvider, MomoFaults};
use nexus_testkit::{Answer, Backend, TestServer, backend_tests};
use serde_json::{Value, json};

use crate::sync::{Till, batch, push, till};

backend_tests!(
    a_request_is_paid_once_and_verifies_one_tender,
    lost_answers_and_lost_callbacks_never_charge_twice,
    a_request_nobody_waits_on_is_followed_up,
    refusals_failures_and_forged_callbacks_complete_nothing
);

async fn station_call(
    server: &TestServer,
    till: &Till,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    server
        .call_as_station(method, path, &till.credential, body)
        .await
}

async fn ask(server: &TestServer, till: &Till, id: uuid::Uuid, phone: &str, amount: i64) -> Answer {
    station_call(
        server,
        till,
        reqwest::Method::POST,
        "/api/v1/momo/requests",
        Some(json!({ "id": id, "network": "mtn", "phone": phone, "amount_minor": amount })),
    )
    .await
}

async fn look(server: &TestServer, till: &Till, id: uuid::Uuid) -> Answer {
    station_call(
        server,
        till,
        reqwest::Method::GET,
        &format!("/api/v1/momo/requests/{id}"),
        None,
    )
    .await
}

/// A fresh access token for the owner, after the clock moved past the last one's life.
async fn signed_in_again(server: &TestServer, till: &Till) -> String {
    let answer = server.login(&till.owner.email, &till.owner.password).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

/// The service asks the network again only after a couple of seconds.
fn later(server: &TestServer) {
    server.clock.advance(std::time::Duration::from_secs(3));
}

async fn ready(backend: &Backend) -> (TestServer, FakeProvider, Till) {
    let (server, fake) = TestServer::start_with_momo(backend).await;
    let till = till(&server).await;
    let saved = server
        .set_fake_momo_account(&till.owner.access_token, &fake)
        .await;
    assert_eq!(saved.status, 204, "{:?}", saved.body);
    (server, fake, till)
}

fn at_network(fake: &FakeProvider, id: uuid::Uuid) -> Vec<Value> {
    fake.momo_requests()
        .into_iter()
        .filter(|request| request["referenceId"] == id.to_string())
        .collect()
}

/// A synced sale of one rice (12.00) paid by mobile money under `reference`.
fn momo_sale(till: &Till, seq: u64, at: i64, reference: &str) -> (uuid::Uuid, Value) {
    let sale_id = uuid::Uuid::now_v7();
    let op = json!({
        "op_id": uuid::Uuid::now_v7(), "device_id": till.station, "seq": seq,
        "hlc": { "wall_millis": at, "counter": 0, "node": 7 },
        "entity": "sale", "entity_id": sale_id, "action": "create",
        "payload": { "cashier_id": till.cashier, "sale": {
            "id": sale_id, "branch_id": till.branch, "occurred_at": at,
            "lines": [{ "product_id": till.rice, "quantity": 1, "unit_price_minor": 1200 }],
            "tenders": [{ "kind": "momo", "amount_minor": 1200, "network": "mtn",
                          "phone": "0244123456", "reference": reference }] } }
    });
    (sale_id, op)
}

async fn verified(server: &TestServer, till: &Till, sale: uuid::Uuid) -> Value {
    let answer = server
        .get(&format!("/api/v1/sales/{sale}"), &till.owner.access_token)
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["tenders"][0]["verified"].clone()
}

async fn a_request_is_paid_once_and_verifies_one_tender(backend: &Backend) {
    let (server, fake, till) = ready(backend).await;
    let id = uuid::Uuid::new_v4();
    let asked = ask(&server, &till, id, "024 412 3456", 1200).await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);
    assert_eq!(asked.body["state"], "pending", "{:?}", asked.body);
    let sent = at_network(&fake, id);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["payer"]["partyId"], "233244123456");
    assert_eq!(sent[0]["amount"], "12.00");
    assert_eq!(sent[0]["currency"], "GHS");
    let callback = sent[0]["callbackUrl"].as_str().unwrap_or_default();
    assert!(
        callback.starts_with(&format!("{}/api/v1/momo/callbacks/mtn/", server.base_url)),
        "{callback}"
    );
    later(&server);
    assert_eq!(look(&server, &till, id).await.body["state"], "pending");
    later(&server);

    // The customer approves: MTN calls back once, and the service looks the request up.
    let delivered = fake.momo_approve(&id.to_string()).await.expect("approve");
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].status, 200, "{:?}", delivered[0].body);
    let paid = look(&server, &till, id).await;
    assert_eq!(paid.body["state"], "paid", "{:?}", paid.body);
    let transaction = paid.body["transaction_id"]
        .as_str()
        .expect("the network's transaction id")
        .to_owned();
    assert_eq!(
        Some(transaction.as_str()),
        at_network(&fake, id)[0]["financialTransactionId"].as_str()
    );

    // The till asks again (its answer lost): the same request, no second charge.
    let again = ask(&server, &till, id, "0244123456", 1200).await;
    assert_eq!(again.body["state"], "paid", "{:?}", again.body);
    assert_eq!(fake.momo_request_posts(), 1);
    let other = ask(&server, &till, id, "0244123456", 5000).await;
    assert_eq!(
        (other.status, other.error_code()),
        (409, "request_id_taken"),
        "{:?}",
        other.body
    );

    // The sale that took it is verified; the same transaction id on a second sale is not.
    let at = nexus_domain::Clock::now(server.clock.as_ref()).as_millis();
    let (first, op1) = momo_sale(&till, 1, at, &transaction);
    let (second, op2) = momo_sale(&till, 2, at, &format!(" {} ", transaction.to_uppercase()));
    let (status, answer) = push(&server, &till, batch(vec![op1, op2])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(verified(&server, &till, first).await, json!(true));
    assert_eq!(verified(&server, &till, second).await, json!(false));
    server
        .clock
        .advance(std::time::Duration::from_secs(60 * 60));
    let unclaimed = server
        .get(
            "/api/v1/momo/unclaimed-payments",
            &signed_in_again(&server, &till).await,
        )
        .await;
    assert_eq!(unclaimed.body, json!([]), "its sale claimed it");
}

async fn lost_answers_and_lost_callbacks_never_charge_twice(backend: &Backend) {
    let (server, fake, till) = ready(backend).await;

    // MTN takes the request, but its answer is lost on the way back.
    fake.set_momo_faults(MomoFaults {
        lose_next_answer: true,
        ..MomoFaults::default()
    });
    let lost = uuid::Uuid::new_v4();
    let asked = ask(&server, &till, lost, "0244123456", 1200).await;
    assert_eq!(asked.body["state"], "sending", "{:?}", asked.body);
    later(&server);
    let found = look(&server, &till, lost).await;
    assert_eq!(
        found.body["state"], "pending",
        "found, not sent again: {:?}",
        found.body
    );
    assert_eq!(fake.momo_request_posts(), 1, "looked up, never sent twice");

    // The network is down when the till asks: the request never arrived, so it is sent again
    // under the same reference once the network answers.
    fake.set_momo_faults(MomoFaults {
        drop_callbacks: true,
        ..MomoFaults::default()
    });
    fake.fail_next_api_calls(1);
    let unsent = uuid::Uuid::new_v4();
    let asked = ask(&server, &till, unsent, "0244123456", 800).await;
    assert_eq!(asked.body["state"], "sending", "{:?}", asked.body);
    assert!(at_network(&fake, unsent).is_empty());
    later(&server);
    assert_eq!(look(&server, &till, unsent).await.body["state"], "pending");
    assert_eq!(at_network(&fake, unsent).len(), 1);

    // Approved, but the callback never comes (MTN does not retry): polling finds it.
    let delivered = fake
        .momo_approve(&unsent.to_string())
        .await
        .expect("approve");
    assert!(delivered.is_empty(), "{delivered:?}");
    assert_eq!(
        look(&server, &till, unsent).await.body["state"],
        "pending",
        "not asked again within two seconds"
    );
    later(&server);
    let paid = look(&server, &till, unsent).await;
    assert_eq!(paid.body["state"], "paid", "{:?}", paid.body);

    // The first one too, and each was charged once.
    fake.momo_approve(&lost.to_string()).await.expect("approve");
    later(&server);
    assert_eq!(look(&server, &till, lost).await.body["state"], "paid");
    for id in [lost, unsent] {
        let charged = at_network(&fake, id);
        assert_eq!(charged.len(), 1, "{charged:?}");
        assert_eq!(charged[0]["status"], "SUCCESSFUL");
    }

    // No sale ever claimed them: after half an hour the owner is told, to ring up or refund.
    let token = till.owner.access_token.as_str();
    let fresh = server.get("/api/v1/momo/unclaimed-payments", token).await;
    assert_eq!(
        fresh.body,
        json!([]),
        "a till may still be syncing its sale"
    );
    server
        .clock
        .advance(std::time::Duration::from_secs(31 * 60));
    let token = signed_in_again(&server, &till).await;
    let unclaimed = server.get("/api/v1/momo/unclaimed-payments", &token).await;
    assert_eq!(unclaimed.status, 200, "{:?}", unclaimed.body);
    let listed: Vec<&str> = unclaimed
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|request| request["id"].as_str())
        .collect();
    assert_eq!(listed.len(), 2, "{:?}", unclaimed.body);
    assert!(listed.contains(&lost.to_string().as_str()));
    assert!(listed.contains(&unsent.to_string().as_str()));
}

/// A request the till stopped waiting for, whose callback never came, is still found paid by
/// the service's own follow-up.
async fn a_request_nobody_waits_on_is_followed_up(backend: &Backend) {
    let (server, fake) = TestServer::start_with_momo_and(backend, |settings| {
        settings.momo.follow_up_every = std::time::Duration::from_millis(100);
    })
    .await;
    let till = till(&server).await;
    let saved = server
        .set_fake_momo_account(&till.owner.access_token, &fake)
        .await;
    assert_eq!(saved.status, 204, "{:?}", saved.body);
    fake.set_momo_faults(MomoFaults {
        drop_callbacks: true,
        ..MomoFaults::default()
    });
    let id = uuid::Uuid::new_v4();
    assert_eq!(
        ask(&server, &till, id, "0244123456", 1500).await.body["state"],
        "pending"
    );
    fake.momo_approve(&id.to_string()).await.expect("approve");
    later(&server);
    let tenant: nexus_domain::TenantId = till.owner.tenant_id.parse().expect("tenant");
    // The follow-up runs on its own schedule: wait for it, up to ten seconds.
    let mut state = None;
    for _ in 0..100 {
        let kept = server
            .store
            .momo_request(tenant, id)
            .await
            .expect("read")
            .expect("kept");
        state = Some(kept.state);
        if kept.state == nexus_domain::momo::RequestState::Paid {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state, Some(nexus_domain::momo::RequestState::Paid));
}

async fn refusals_failures_and_forged_callbacks_complete_nothing(backend: &Backend) {
    let (server, fake) = TestServer::start_with_momo(backend).await;
    let till = till(&server).await;
    let token = till.owner.access_token.as_str();

    let unset = ask(&server, &till, uuid::Uuid::new_v4(), "0244123456", 1200).await;
    assert_eq!(
        (unset.status, unset.error_code()),
        (422, "momo_not_configured"),
        "{:?}",
        unset.body
    );
    let saved = server.set_fake_momo_account(token, &fake).await;
    assert_eq!(saved.status, 204, "{:?}", saved.body);
    let accounts = server.get("/api/v1/momo/accounts", token).await;
    assert_eq!(accounts.body[0]["api_key_set"], true, "{:?}", accounts.body);
    let shown = accounts.body.to_string();
    assert!(
        !shown.contains(&fake.config().mtn_api_key),
        "the key is never shown back: {shown}"
    );
    // A change that leaves the keys empty keeps them.
    let renamed = server
        .call(
            reqwest::Method::PUT,
            "/api/v1/momo/accounts/mtn",
            Some(token),
            Some(
                json!({ "api_user": fake.config().mtn_api_user, "target_environment": "sandbox" }),
            ),
        )
        .await;
    assert_eq!(renamed.status, 204, "{:?}", renamed.body);
    let no_user = server
        .call(
            reqwest::Method::PUT,
            "/api/v1/momo/accounts/mtn",
            Some(token),
            Some(json!({ "api_user": " ", "target_environment": "sandbox" })),
        )
        .await;
    assert_eq!(no_user.status, 422, "{:?}", no_user.body);

    for (body, field) in [
        (
            json!({ "id": uuid::Uuid::new_v4(), "network": "mtn", "phone": "12", "amount_minor": 100 }),
            "phone",
        ),
        (
            json!({ "id": uuid::Uuid::new_v4(), "network": "mtn", "phone": "0244123456", "amount_minor": 0 }),
            "amount_minor",
        ),
        (
            json!({ "id": uuid::Uuid::now_v7(), "network": "mtn", "phone": "0244123456", "amount_minor": 100 }),
            "id",
        ),
        (
            json!({ "id": uuid::Uuid::new_v4(), "network": "vodafone", "phone": "0244123456", "amount_minor": 100 }),
            "network",
        ),
    ] {
        let refused = station_call(
            &server,
            &till,
            reqwest::Method::POST,
            "/api/v1/momo/requests",
            Some(body),
        )
        .await;
        assert_eq!(refused.status, 422, "{:?}", refused.body);
        assert_eq!(refused.body["error"]["field"], field, "{:?}", refused.body);
    }
    let stranger = server
        .call(
            reqwest::Method::POST,
            "/api/v1/momo/requests",
            None,
            Some(json!({ "id": uuid::Uuid::new_v4(), "network": "mtn", "phone": "0244123456", "amount_minor": 100 })),
        )
        .await;
    assert_eq!(stranger.status, 401);
    assert_eq!(
        fake.momo_request_posts(),
        0,
        "nothing refused reached the network"
    );

    // A request the network never received is not sent once the till has long stopped
    // waiting: it would prompt a phone for a sale that is over.
    fake.fail_next_api_calls(1);
    let stale = uuid::Uuid::new_v4();
    let asked = ask(&server, &till, stale, "0244123456", 1200).await;
    assert_eq!(asked.body["state"], "sending", "{:?}", asked.body);
    server.clock.advance(std::time::Duration::from_secs(6 * 60));
    let given_up = look(&server, &till, stale).await;
    assert_eq!(
        (
            given_up.body["state"].as_str(),
            given_up.body["reason"].as_str()
        ),
        (Some("failed"), Some("GIVEN_UP")),
        "{:?}",
        given_up.body
    );
    assert!(at_network(&fake, stale).is_empty(), "never sent late");

    // The sandbox's number for a customer who declines.
    let declined = uuid::Uuid::new_v4();
    assert_eq!(
        ask(&server, &till, declined, "46733123451", 1200)
            .await
            .body["state"],
        "pending"
    );
    fake.momo_approve(&declined.to_string())
        .await
        .expect("decline");
    later(&server);
    let failed = look(&server, &till, declined).await;
    assert_eq!(failed.body["state"], "failed", "{:?}", failed.body);
    assert_eq!(failed.body["reason"], "APPROVAL_REJECTED");
    assert!(
        failed.body["message"]
            .as_str()
            .is_some_and(|message| message.contains("declined")),
        "{:?}",
        failed.body
    );

    // A callback is never believed: a forged "paid" for a request still pending changes nothing.
    let waiting = uuid::Uuid::new_v4();
    ask(&server, &till, waiting, "0244123456", 1200).await;
    let tenant = till.owner.tenant_id.replace('-', "");
    // Due for a look, so the callback is acted on: the network is asked, not the body believed.
    later(&server);
    let forged = server
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/momo/callbacks/mtn/{tenant}/{waiting}"),
            None,
            Some(json!({ "status": "SUCCESSFUL", "financialTransactionId": "999" })),
        )
        .await;
    assert_eq!(forged.status, 200, "{:?}", forged.body);
    assert_eq!(look(&server, &till, waiting).await.body["state"], "pending");
    for path in [
        format!(
            "/api/v1/momo/callbacks/mtn/{tenant}/{}",
            uuid::Uuid::new_v4()
        ),
        format!(
            "/api/v1/momo/callbacks/mtn/{}/{waiting}",
            uuid::Uuid::new_v4().simple()
        ),
        format!("/api/v1/momo/callbacks/mtn/not-a-tenant/{waiting}"),
    ] {
        let unknown = server
            .call(reqwest::Method::POST, &path, None, Some(json!({})))
            .await;
        assert_eq!(unknown.status, 404, "{path}: {:?}", unknown.body);
    }
}
