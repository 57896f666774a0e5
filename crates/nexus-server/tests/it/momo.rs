//! Reconciling mobile money taken offline: sales synced with unverified mobile-money tenders,
//! then the network's merchant statement uploaded, with each kind of match and exception.

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::{Value, json};

use crate::sync::{Till, batch, push, till};

backend_tests!(
    a_statement_verifies_what_it_lists_and_lists_the_rest_as_exceptions,
    a_statement_whose_columns_changed_is_refused_and_changes_nothing
);

/// 2025-12-31T23:00:00Z: the sales' time; the statement is written in Accra's local time (UTC).
const AT: i64 = 1_767_222_000_000;
const MINUTE: i64 = 60_000;

/// A synced sale of one rice (12.00) paid by `tenders`, at `at`.
fn sale(till: &Till, seq: u64, at: i64, tenders: Value) -> (uuid::Uuid, Value) {
    let sale_id = uuid::Uuid::now_v7();
    let op = json!({
        "op_id": uuid::Uuid::now_v7(), "device_id": till.station, "seq": seq,
        "hlc": { "wall_millis": at, "counter": 0, "node": 7 },
        "entity": "sale", "entity_id": sale_id, "action": "create",
        "payload": { "cashier_id": till.cashier, "sale": {
            "id": sale_id, "branch_id": till.branch, "occurred_at": at,
            "lines": [{ "product_id": till.rice, "quantity": 1, "unit_price_minor": 1200 }],
            "tenders": tenders } }
    });
    (sale_id, op)
}

fn momo(amount: i64, reference: &str) -> Value {
    json!({ "kind": "momo", "amount_minor": amount, "network": "mtn", "phone": "0244123456", "reference": reference })
}

/// An MTN-like export: the columns the portal writes, times as DD/MM/YYYY, with a failed attempt
/// that carries the reference a cashier typed for money that never came.
const STATEMENT: &str = "Transaction ID,Date,From,Amount,Status\n\
    MP001,31/12/2025 23:05:10,233244123456,GHS 12.00,Successful\n\
    MP002,31/12/2025 23:10:00,233244123456,GHS 10.00,Successful\n\
    FAKE99,31/12/2025 23:15:00,233244123456,12.00,Failed\n\
    MP005,31/12/2025 23:20:00,233244123456,12.00,Successful\n\
    MP006,31/12/2025 23:31:00,233244123456,\"GHS 10.00\",Successful\n\
    WD900,31/12/2025 23:40:00,,-50.00,Withdrawal\n\
    MP009,01/01/2026 01:00:00,233209999999,5.00,Successful\n";

async fn upload(server: &TestServer, token: &str, body: &str) -> nexus_testkit::Answer {
    post_csv(server, "/api/v1/momo/statements?network=mtn", token, body).await
}

async fn post_csv(
    server: &TestServer,
    path: &str,
    token: &str,
    body: &str,
) -> nexus_testkit::Answer {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.base_url))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body.to_owned())
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    nexus_testkit::Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    }
}

fn state_of(verdicts: &Value, sale: uuid::Uuid) -> Vec<String> {
    verdicts
        .as_array()
        .into_iter()
        .flatten()
        .filter(|verdict| verdict["sale_id"] == sale.to_string())
        .map(|verdict| verdict["state"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn tender_verified(server: &TestServer, token: &str, sale: uuid::Uuid) -> Vec<Value> {
    let answer = server.get(&format!("/api/v1/sales/{sale}"), token).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["tenders"]
        .as_array()
        .expect("tenders")
        .iter()
        .map(|tender| tender["verified"].clone())
        .collect()
}

async fn a_statement_verifies_what_it_lists_and_lists_the_rest_as_exceptions(backend: &Backend) {
    let server = TestServer::start(backend).await;
    // The till syncs the evening of 1 January; no till may stamp a time ahead of the service.
    server
        .clock
        .advance(std::time::Duration::from_secs(21 * 60 * 60));
    let till = till(&server).await;
    let token = till.owner.access_token.as_str();
    let (paid, op1) = sale(&till, 1, AT + 5 * MINUTE, json!([momo(1200, "MP001")]));
    let (short, op2) = sale(&till, 2, AT + 10 * MINUTE, json!([momo(1200, "mp002 ")]));
    let (made_up, op3) = sale(&till, 3, AT + 15 * MINUTE, json!([momo(1200, "FAKE99")]));
    let (first, op4) = sale(&till, 4, AT + 20 * MINUTE, json!([momo(1200, "MP005")]));
    let (second, op5) = sale(&till, 5, AT + 25 * MINUTE, json!([momo(1200, "MP005")]));
    let (split, op6) = sale(
        &till,
        6,
        AT + 30 * MINUTE,
        json!([{ "kind": "cash", "amount_minor": 200 }, momo(1000, "MP006")]),
    );
    // Twelve hours after the last payment the statement lists: a later statement will judge it.
    let (later, op7) = sale(
        &till,
        7,
        AT + 20 * 60 * MINUTE,
        json!([momo(1200, "MP007")]),
    );

    let (status, answer) = push(
        &server,
        &till,
        batch(vec![op1, op2, op3, op4, op5, op6, op7]),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        crate::sync::statuses(&answer)
            .iter()
            .filter(|(_, status)| status == "applied")
            .count(),
        7,
        "{answer}"
    );
    assert_eq!(tender_verified(&server, token, paid).await, [json!(false)]);

    // The first upload: the owner is asked to choose the columns, and shown them.
    let first_try = upload(&server, token, STATEMENT).await;
    assert_eq!(
        (first_try.status, first_try.error_code()),
        (422, "mapping_needed"),
        "{:?}",
        first_try.body
    );
    assert!(
        first_try.body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("Transaction ID, Date, From, Amount, Status")),
        "{:?}",
        first_try.body
    );
    let preview = post_csv(
        &server,
        "/api/v1/momo/statements/preview?network=mtn",
        token,
        STATEMENT,
    )
    .await;
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    assert_eq!(preview.body["saved"], false);
    let guessed = &preview.body["mapping"];
    assert_eq!(guessed["transaction_id"], "Transaction ID", "{guessed}");
    assert_eq!(guessed["amount"], "Amount", "{guessed}");
    assert_eq!(guessed["time"], "Date", "{guessed}");
    assert_eq!(guessed["time_format"], "DayMonthYear", "{guessed}");
    assert_eq!(guessed["status"], "Status", "{guessed}");
    assert_eq!(preview.body["rows"][0]["amount_minor"], 1200);
    assert_eq!(preview.body["rows"][0]["at"], AT + 5 * MINUTE + 10_000);
    let saved = server
        .call(
            reqwest::Method::PUT,
            "/api/v1/momo/mappings/mtn",
            Some(token),
            Some(json!({
                "transaction_id": "Transaction ID", "time": "Date", "amount": "Amount",
                "payer": "From", "status": "Status", "time_format": "DD/MM/YYYY HH:mm:ss"
            })),
        )
        .await;
    assert_eq!(saved.status, 204, "{:?}", saved.body);

    let taken = upload(&server, token, STATEMENT).await;
    assert_eq!(taken.status, 201, "{:?}", taken.body);
    let statement = &taken.body["statement"];
    assert_eq!(
        statement["payments"], 5,
        "neither the withdrawal nor the failed attempt is a payment: {statement}"
    );
    assert_eq!(
        (
            statement["matched"].as_i64(),
            statement["amount_differs"].as_i64(),
            statement["not_found"].as_i64(),
            statement["claimed_twice"].as_i64()
        ),
        (Some(2), Some(1), Some(1), Some(2)),
        "{statement}"
    );
    let verdicts = &taken.body["verdicts"];
    assert_eq!(state_of(verdicts, paid), ["matched"]);
    assert_eq!(state_of(verdicts, short), ["amount_differs"]);
    assert_eq!(state_of(verdicts, made_up), ["not_found"]);
    assert_eq!(state_of(verdicts, first), ["claimed_twice"]);
    assert_eq!(state_of(verdicts, second), ["claimed_twice"]);
    assert_eq!(state_of(verdicts, split), ["matched"]);
    assert!(
        state_of(verdicts, later).is_empty(),
        "outside what the statement covers: {verdicts}"
    );
    let short_verdict = verdicts
        .as_array()
        .and_then(|all| all.iter().find(|v| v["sale_id"] == short.to_string()))
        .expect("the short payment's verdict");
    assert_eq!(short_verdict["statement_amount_minor"], 1000);
    assert_eq!(
        short_verdict["cashier_id"],
        till.cashier.as_str(),
        "whose sale it was: {short_verdict}"
    );
    assert_eq!(tender_verified(&server, token, paid).await, [json!(true)]);
    assert_eq!(
        tender_verified(&server, token, split).await,
        [json!(true), json!(true)],
        "the cash and the matched mobile money"
    );
    assert_eq!(tender_verified(&server, token, short).await, [json!(false)]);

    // The same file again changes nothing.
    let again = upload(&server, token, STATEMENT).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["duplicate"], true);
    assert_eq!(again.body["statement"]["id"], statement["id"]);
    let history = server.get("/api/v1/momo/reconciliation", token).await;
    assert_eq!(history.status, 200, "{:?}", history.body);
    assert_eq!(history.body["statements"].as_array().map(Vec::len), Some(1));
    assert_eq!(history.body["verdicts"].as_array().map(Vec::len), Some(6));

    // The exceptions, and a manager's sign-off.
    let exceptions = server.get("/api/v1/momo/exceptions", token).await;
    assert_eq!(exceptions.list_len(), 4, "{:?}", exceptions.body);
    let path = format!("/api/v1/momo/exceptions/{short}/0/sign-off");
    let empty = server.post(&path, token, json!({ "note": "  " })).await;
    assert_eq!(
        (empty.status, empty.error_code()),
        (422, "validation_failed"),
        "{:?}",
        empty.body
    );
    let signed = server
        .post(
            &path,
            token,
            json!({ "note": "Customer paid GHS 2.00 more in cash on 2 Jan" }),
        )
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.body);
    assert!(signed.body["signed_off_at"].is_i64());
    let twice = server.post(&path, token, json!({ "note": "again" })).await;
    assert_eq!(twice.status, 404, "{:?}", twice.body);
    let matched = server
        .post(
            &format!("/api/v1/momo/exceptions/{paid}/0/sign-off"),
            token,
            json!({ "note": "nothing to sign" }),
        )
        .await;
    assert_eq!(matched.status, 404, "a match is no exception");
    assert_eq!(
        server
            .get("/api/v1/momo/exceptions", token)
            .await
            .list_len(),
        3
    );

    // The next statement lists the later sale: matched, and nothing judged before changes.
    let next = "Transaction ID,Date,From,Amount,Status\n\
        MP007,01/01/2026 19:01:00,233244123456,12.00,Successful\n";
    let taken = upload(&server, token, next).await;
    assert_eq!(taken.status, 201, "{:?}", taken.body);
    assert_eq!(
        state_of(&taken.body["verdicts"], later),
        ["matched"],
        "{:?}",
        taken.body
    );
    assert_eq!(taken.body["verdicts"].as_array().map(Vec::len), Some(1));
    assert_eq!(tender_verified(&server, token, later).await, [json!(true)]);
    let history = server.get("/api/v1/momo/reconciliation", token).await;
    assert_eq!(
        state_of(&history.body["verdicts"], short),
        ["amount_differs"]
    );
    // What the cashier took: 7 sales; cash 2.00; mobile money matched 12 + 10 + 12, the rest
    // (12 short, 12 made up, 12 + 12 claimed twice) still unverified.
    let takings = history.body["takings"].as_array().expect("takings");
    assert_eq!(takings.len(), 1, "{takings:?}");
    assert_eq!(
        (
            takings[0]["sales"].as_i64(),
            takings[0]["cash_minor"].as_i64(),
            takings[0]["momo_verified_minor"].as_i64(),
            takings[0]["momo_unverified_minor"].as_i64()
        ),
        (Some(7), Some(200), Some(3400), Some(4800)),
        "{takings:?}"
    );
    server.stop().await;
}

async fn a_statement_whose_columns_changed_is_refused_and_changes_nothing(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let token = till.owner.access_token.as_str();
    let (paid, op) = sale(&till, 1, AT + 5 * MINUTE, json!([momo(1200, "MP001")]));
    let (status, answer) = push(&server, &till, batch(vec![op])).await;
    assert_eq!(status, 200, "{answer}");
    let saved = server
        .call(
            reqwest::Method::PUT,
            "/api/v1/momo/mappings/mtn",
            Some(token),
            Some(json!({
                "transaction_id": "Transaction ID", "time": "Date", "amount": "Amount",
                "time_format": "DD/MM/YYYY HH:mm:ss"
            })),
        )
        .await;
    assert_eq!(saved.status, 204, "{:?}", saved.body);
    let renamed = "Txn Ref,Date,Amount\nMP001,31/12/2025 23:05:10,12.00\n";
    let refused = upload(&server, token, renamed).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (422, "columns_changed"),
        "{:?}",
        refused.body
    );
    let message = refused.body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("Txn Ref") && message.contains("Transaction ID"),
        "the columns found and expected: {message}"
    );
    let bad_amount = "Transaction ID,Date,Amount\nMP001,31/12/2025 23:05:10,twelve\n";
    let refused = upload(&server, token, bad_amount).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains('2')),
        "names the line: {:?}",
        refused.body
    );
    let unknown = post_csv(
        &server,
        "/api/v1/momo/statements?network=vodafone",
        token,
        renamed,
    )
    .await;
    assert_eq!(unknown.status, 422, "{:?}", unknown.body);
    let history = server.get("/api/v1/momo/reconciliation", token).await;
    assert_eq!(history.body["statements"].as_array().map(Vec::len), Some(0));
    assert_eq!(history.body["verdicts"].as_array().map(Vec::len), Some(0));
    assert_eq!(tender_verified(&server, token, paid).await, [json!(false)]);
    server.stop().await;
}
