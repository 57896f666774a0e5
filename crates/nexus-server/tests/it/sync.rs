//! Push from a shop station: ops applied once, in seq order, through the same sale path as the
//! API; retries, gaps, reordering, refusals that do not block, revocation, compression.

use std::io::Write as _;

use nexus_testkit::{Backend, Owner, TestServer, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    pushed_sales_apply_once_in_seq_order,
    bad_pushes_are_refused_and_revoked_stations_stopped,
    a_station_pulls_its_scope_in_order_page_by_page,
    catalogue_edits_and_stock_ops_from_stations_with_the_conflict_log,
    a_run_of_sales_is_written_together_and_judged_op_by_op,
    refunds_and_voids_from_stations_apply_once,
    shifts_and_customers_from_stations
);

pub(crate) struct Till {
    pub(crate) owner: Owner,
    pub(crate) branch: String,
    pub(crate) rice: String,
    pub(crate) cashier: String,
    pub(crate) station: String,
    pub(crate) credential: String,
}

pub(crate) async fn till(server: &TestServer) -> Till {
    let owner = server.register("Sync Shop").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Makola").await;
    let rice = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "RICE", "name": "Rice", "price_minor": 1200 }),
        )
        .await
        .id();
    let cashier = server
        .post("/api/v1/staff", token, json!({ "email": format!("c-{}@x.gh", uuid::Uuid::new_v4().simple()), "name": "Efua", "role": "cashier", "branch_ids": [branch], "pin": "4821" }))
        .await
        .id();
    let created = server
        .post(
            "/api/v1/stations",
            token,
            json!({ "branch_id": branch, "name": "Till 1" }),
        )
        .await;
    let code = created.body["enrolment_code"].as_str().expect("code");
    let enrolled = server
        .call(
            Method::POST,
            "/api/v1/stations/enroll",
            None,
            Some(json!({ "enrolment_code": code })),
        )
        .await;
    assert_eq!(enrolled.status, 200, "{:?}", enrolled.body);
    Till {
        owner,
        branch,
        rice,
        cashier,
        station: created.id(),
        credential: enrolled.body["credential"]
            .as_str()
            .expect("credential")
            .to_owned(),
    }
}

pub(crate) fn sale_op(till: &Till, seq: u64, cashier: &str) -> Value {
    let sale_id = uuid::Uuid::now_v7();
    json!({
        "op_id": uuid::Uuid::now_v7(), "device_id": till.station, "seq": seq,
        "hlc": { "wall_millis": 1_767_225_500_000_i64 + seq as i64, "counter": 0, "node": 7 },
        "entity": "sale", "entity_id": sale_id, "action": "create",
        "payload": { "cashier_id": cashier, "sale": {
            "id": sale_id, "branch_id": till.branch, "occurred_at": 1_767_225_500_000_i64 + seq as i64,
            "lines": [{ "product_id": till.rice, "quantity": 1, "unit_price_minor": 1200 }], "tenders": [{ "kind": "cash", "amount_minor": 1200 }] } }
    })
}

pub(crate) fn batch(ops: Vec<Value>) -> Value {
    json!({ "protocol_version": 1, "ops": ops, "unsynced_since": 1_767_225_400_000_i64, "app_version": "0.1.0" })
}

pub(crate) async fn push(server: &TestServer, till: &Till, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/sync/push", server.base_url))
        .header("authorization", format!("Station {}", till.credential))
        .json(&body)
        .send()
        .await
        .expect("push");
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

pub(crate) fn statuses(answer: &Value) -> Vec<(u64, String)> {
    answer["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|result| {
            (
                result["seq"].as_u64().unwrap_or(0),
                result["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

pub(crate) async fn on_hand(server: &TestServer, till: &Till) -> String {
    let stock = server
        .get(
            &format!("/api/v1/branches/{}/stock", till.branch),
            &till.owner.access_token,
        )
        .await;
    stock.body["items"][0]["on_hand"]
        .as_str()
        .unwrap_or("0")
        .to_owned()
}

async fn pushed_sales_apply_once_in_seq_order(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let first = vec![
        sale_op(&till, 1, &till.cashier),
        sale_op(&till, 2, &till.cashier),
    ];
    let (status, answer) = push(&server, &till, batch(first.clone())).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        statuses(&answer),
        vec![(1, "applied".into()), (2, "applied".into())]
    );
    assert_eq!(answer["acknowledged_seq"], 2);
    let sale_id = first[0]["entity_id"].as_str().expect("id");
    let sale = server
        .get(
            &format!("/api/v1/sales/{sale_id}"),
            &till.owner.access_token,
        )
        .await;
    assert_eq!(
        (sale.status, sale.body["cashier_id"].as_str()),
        (200, Some(till.cashier.as_str())),
        "{:?}",
        sale.body
    );
    assert_eq!(on_hand(&server, &till).await, "-2");

    // The answer was lost; the station sends the same batch again: nothing happens twice.
    let (_, retry) = push(&server, &till, batch(first)).await;
    assert_eq!(
        statuses(&retry),
        vec![(1, "duplicate".into()), (2, "duplicate".into())]
    );
    assert_eq!(on_hand(&server, &till).await, "-2");

    // A gap: seq 4 without 3 is not applied; the server asks for 3.
    let four = sale_op(&till, 4, &till.cashier);
    let (_, gap) = push(&server, &till, batch(vec![four.clone()])).await;
    assert_eq!(
        (
            gap["resend_from"].as_u64(),
            gap["acknowledged_seq"].as_u64()
        ),
        (Some(3), Some(2)),
        "{gap}"
    );
    assert!(statuses(&gap).is_empty());
    // Reordered on the wire: taken in seq order.
    let (_, reordered) = push(
        &server,
        &till,
        batch(vec![four, sale_op(&till, 3, &till.cashier)]),
    )
    .await;
    assert_eq!(
        statuses(&reordered),
        vec![(3, "applied".into()), (4, "applied".into())],
        "{reordered}"
    );
    assert_eq!(reordered["acknowledged_seq"], 4);

    // An op the server refuses is quarantined, and does not block the ones behind it.
    let (_, mixed) = push(
        &server,
        &till,
        batch(vec![
            sale_op(&till, 5, &till.owner.user_id.replace('0', "1")),
            sale_op(&till, 6, &till.cashier),
        ]),
    )
    .await;
    let results = statuses(&mixed);
    assert_eq!(
        results,
        vec![(5, "rejected".into()), (6, "applied".into())],
        "{mixed}"
    );
    assert_eq!(mixed["results"][0]["code"], "unknown_staff");
    assert_eq!(mixed["acknowledged_seq"], 6);
    assert_eq!(on_hand(&server, &till).await, "-5");

    // Compressed on the wire.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(
            batch(vec![sale_op(&till, 7, &till.cashier)])
                .to_string()
                .as_bytes(),
        )
        .expect("gzip");
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/sync/push", server.base_url))
        .header("authorization", format!("Station {}", till.credential))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(encoder.finish().expect("gzip"))
        .send()
        .await
        .expect("push");
    assert_eq!(response.status(), 200);
    let compressed: Value = response.json().await.expect("json");
    assert_eq!(compressed["acknowledged_seq"], 7, "{compressed}");

    let stations = server
        .get("/api/v1/stations", &till.owner.access_token)
        .await;
    let listed = &stations.body[0];
    assert_eq!(
        (
            listed["acknowledged_seq"].as_i64(),
            listed["app_version"].as_str()
        ),
        (Some(7), Some("0.1.0"))
    );
    assert!(listed["last_sync_at"].is_i64() && listed["unsynced_since"].is_i64());
    server.stop().await;
}

async fn bad_pushes_are_refused_and_revoked_stations_stopped(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let mut old = batch(vec![sale_op(&till, 1, &till.cashier)]);
    old["protocol_version"] = json!(99);
    let (status, answer) = push(&server, &till, old).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (426, Some("update_required")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("update")
    );
    let too_many: Vec<Value> = (1..=501)
        .map(|seq| sale_op(&till, seq, &till.cashier))
        .collect();
    assert_eq!(push(&server, &till, batch(too_many)).await.0, 422);
    let mut foreign = sale_op(&till, 1, &till.cashier);
    foreign["device_id"] = json!(uuid::Uuid::now_v7());
    assert_eq!(
        push(&server, &till, batch(vec![foreign])).await.0,
        422,
        "an op of another device"
    );
    let no_credential = server
        .call(
            Method::POST,
            "/api/v1/sync/push",
            Some("x"),
            Some(batch(vec![])),
        )
        .await;
    assert_eq!(no_credential.status, 401);

    let revoked = server
        .call(
            Method::DELETE,
            &format!("/api/v1/stations/{}", till.station),
            Some(&till.owner.access_token),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200);
    let (status, answer) = push(
        &server,
        &till,
        batch(vec![sale_op(&till, 1, &till.cashier)]),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("station_revoked")),
        "{answer}"
    );
    server.stop().await;
}

pub(crate) async fn pull(server: &TestServer, till: &Till, query: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/sync/pull?{query}", server.base_url))
        .header("authorization", format!("Station {}", till.credential))
        .send()
        .await
        .expect("pull");
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

fn entities(page: &Value) -> Vec<String> {
    page["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|change| change["entity"].as_str().map(str::to_owned))
        .collect()
}

async fn a_station_pulls_its_scope_in_order_page_by_page(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let token = till.owner.access_token.as_str();
    let (status, first) = pull(&server, &till, "protocol_version=1&cursor=0").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        entities(&first),
        vec!["settings", "branch", "product", "staff"],
        "a new station gets the settings, the shop's branches, the catalogue and its branch's staff"
    );
    let branch = &first["changes"][1];
    assert_eq!(branch["entity_id"], branch["payload"]["id"], "{branch}");
    assert!(
        branch["payload"]["name"].is_string() && branch["payload"]["archived_at"].is_null(),
        "a branch by name, open: {branch}"
    );
    let staff = &first["changes"][3]["payload"];
    assert_eq!(staff["id"], till.cashier);
    assert!(
        staff["pin_hash"]
            .as_str()
            .is_some_and(|hash| hash.starts_with("$argon2id$")),
        "PIN sign-in works offline: {staff}"
    );
    assert_eq!(
        first["changes"][0]["payload"]["tax"]["levies"][0]["rate_basis_points"],
        1500
    );
    assert_eq!(first["changes"][2]["payload"]["sku"], "RICE");
    let cursor = first["next_cursor"].as_u64().expect("cursor");

    // A price change, a sale at the station's branch, and goods received at another branch.
    assert_eq!(
        server
            .patch(
                &format!("/api/v1/products/{}", till.rice),
                token,
                json!({ "price_minor": 1300 })
            )
            .await
            .status,
        200
    );
    let (_, pushed) = push(
        &server,
        &till,
        batch(vec![sale_op(&till, 1, &till.cashier)]),
    )
    .await;
    assert_eq!(pushed["acknowledged_seq"], 1);
    assert_eq!(pushed["results"][0]["status"], "applied", "{pushed}");
    let elsewhere = server.create_branch(token, "Elsewhere").await;
    let receipt = json!({ "product_id": till.rice, "kind": "receipt", "quantity": 9 });
    assert_eq!(
        server
            .post(
                &format!("/api/v1/branches/{elsewhere}/stock/movements"),
                token,
                receipt
            )
            .await
            .status,
        201
    );
    let (_, next) = pull(
        &server,
        &till,
        &format!("protocol_version=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(
        entities(&next),
        vec!["product", "stock_movement", "branch"],
        "another branch's stock is not this station's, the branch itself is: {next}"
    );
    assert_eq!(next["changes"][2]["payload"]["name"], "Elsewhere");
    assert_eq!(next["changes"][0]["payload"]["price_minor"], 1300);
    assert_eq!(next["changes"][1]["payload"]["quantity"], "-1");
    assert_eq!(next["has_more"], false);

    // Page by page, one change at a time, the same changes in the same order.
    let mut paged = Vec::new();
    let mut cursor = 0;
    loop {
        let (_, page) = pull(
            &server,
            &till,
            &format!("protocol_version=1&cursor={cursor}&limit=1"),
        )
        .await;
        paged.extend(entities(&page));
        cursor = page["next_cursor"].as_u64().expect("cursor");
        if page["has_more"] == false {
            break;
        }
    }
    assert_eq!(
        paged,
        vec![
            "settings",
            "branch",
            "product",
            "staff",
            "product",
            "stock_movement",
            "branch"
        ]
    );

    // Staff of another branch stay there; a change to this branch's cashier comes down.
    let other_cashier = json!({ "email": format!("o-{}@x.gh", uuid::Uuid::new_v4().simple()), "name": "Other", "role": "cashier", "branch_ids": [elsewhere], "pin": "1111" });
    assert_eq!(
        server
            .post("/api/v1/staff", token, other_cashier)
            .await
            .status,
        201
    );
    assert_eq!(
        server
            .post(
                &format!("/api/v1/staff/{}/deactivate", till.cashier),
                token,
                json!({})
            )
            .await
            .status,
        200
    );
    let (_, staff_changes) = pull(
        &server,
        &till,
        &format!("protocol_version=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(entities(&staff_changes), vec!["staff"], "{staff_changes}");
    assert_eq!(staff_changes["changes"][0]["payload"]["active"], false);
    let cursor = staff_changes["next_cursor"].as_u64().expect("cursor");
    let (_, end) = pull(
        &server,
        &till,
        &format!("protocol_version=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(
        (entities(&end).len(), end["next_cursor"].as_u64()),
        (0, Some(cursor)),
        "nothing new: the cursor stays"
    );

    assert_eq!(
        pull(&server, &till, "protocol_version=2&cursor=0").await.0,
        426
    );
    assert_eq!(
        pull(&server, &till, "protocol_version=1&limit=0").await.0,
        422
    );
    server.stop().await;
}

pub(crate) fn op(
    till: &Till,
    seq: u64,
    entity: &str,
    entity_id: &str,
    action: &str,
    payload: Value,
) -> Value {
    json!({
        "op_id": uuid::Uuid::now_v7(), "device_id": till.station, "seq": seq,
        "hlc": { "wall_millis": 1_767_225_500_000_i64 + seq as i64, "counter": 0, "node": 7 },
        "entity": entity, "entity_id": entity_id, "action": action, "payload": payload
    })
}

async fn catalogue_edits_and_stock_ops_from_stations_with_the_conflict_log(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let token = till.owner.access_token.clone();
    let manager = server
        .post("/api/v1/staff", &token, json!({ "email": "kwame@x.gh", "name": "Kwame", "role": "manager", "branch_ids": [till.branch] }))
        .await
        .id();
    let other_branch = server.create_branch(&token, "Kejetia").await;

    // The owner changes the price on the dashboard while the till, which still saw 1200,
    // changes it to 1500: the till's edit arrives later and wins, and the log keeps all three.
    let patched = server
        .patch(
            &format!("/api/v1/products/{}", till.rice),
            &token,
            json!({ "price_minor": 1300 }),
        )
        .await;
    assert_eq!(patched.status, 200);
    let edit = |seq, price: i64, seen: i64| {
        op(
            &till,
            seq,
            "product",
            &till.rice,
            "update",
            json!({ "actor_id": manager, "fields": { "price_minor": price }, "seen": { "price_minor": seen } }),
        )
    };
    let movement_id = uuid::Uuid::now_v7().to_string();
    let transfer_id = uuid::Uuid::now_v7().to_string();
    let (status, answer) = push(&server, &till, batch(vec![
        edit(1, 1500, 1200),
        // Seen 1500 (its own edit): not a conflict.
        edit(2, 1600, 1500),
        op(&till, 3, "stock_movement", &movement_id, "create",
           json!({ "actor_id": manager, "product_id": till.rice, "kind": "count", "quantity": "40", "reason": null, "occurred_at": 1_767_225_500_000_i64 })),
        op(&till, 4, "transfer", &transfer_id, "create",
           json!({ "actor_id": manager, "to_branch_id": other_branch, "lines": [{ "product_id": till.rice, "quantity": "5" }], "occurred_at": 1_767_225_500_001_i64 })),
        // A cashier may sell but not count stock: refused, and the op behind it still applies.
        op(&till, 5, "stock_movement", &uuid::Uuid::now_v7().to_string(), "create",
           json!({ "actor_id": till.cashier, "product_id": till.rice, "kind": "receipt", "quantity": "9", "reason": null, "occurred_at": 1_767_225_500_000_i64 })),
        sale_op(&till, 6, &till.cashier),
    ])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        statuses(&answer),
        vec![
            (1, "applied".into()),
            (2, "applied".into()),
            (3, "applied".into()),
            (4, "applied".into()),
            (5, "rejected".into()),
            (6, "applied".into())
        ],
        "{answer}"
    );
    assert_eq!(answer["results"][4]["code"], "not_allowed");
    assert!(
        answer["results"][4]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Efua"),
        "{answer}"
    );

    let product = server
        .get(&format!("/api/v1/products/{}", till.rice), &token)
        .await;
    assert_eq!(product.body["price_minor"], 1600);
    // Counted 40, sent 5 away, sold 1.
    assert_eq!(on_hand(&server, &till).await, "34");
    let elsewhere = server
        .get(&format!("/api/v1/branches/{other_branch}/stock"), &token)
        .await;
    assert_eq!(elsewhere.body["items"][0]["on_hand"], "5");

    let conflicts = server.get("/api/v1/sync/conflicts", &token).await;
    assert_eq!(conflicts.status, 200, "{}", conflicts.body);
    let items = conflicts.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(items.len(), 1, "{}", conflicts.body);
    assert_eq!(
        (
            &items[0]["field"],
            &items[0]["base_value"],
            &items[0]["lost_value"],
            &items[0]["won_value"]
        ),
        (
            &json!("price_minor"),
            &json!(1200),
            &json!(1300),
            &json!(1500)
        ),
    );
    assert_eq!(items[0]["station_id"], till.station.as_str());
    // A cursor this server never gave is a clear 422.
    let bad_cursor = server
        .get("/api/v1/sync/conflicts?before=yesterday", &token)
        .await;
    assert_eq!(bad_cursor.status, 422);

    // A till whose clock is a day fast: its sale is dated by the server's clock, not refused.
    let day = 86_400_000_i64;
    let now = nexus_domain::Clock::now(server.clock.as_ref()).as_millis();
    let mut skewed = sale_op(&till, 7, &till.cashier);
    skewed["hlc"]["wall_millis"] = json!(now + day);
    skewed["payload"]["sale"]["occurred_at"] = json!(now + day - 60_000);
    let sale_id = skewed["entity_id"].as_str().expect("id").to_owned();
    let mut body = batch(vec![skewed]);
    body["sent_at"] = json!(now + day);
    let (_, answer) = push(&server, &till, body).await;
    assert_eq!(statuses(&answer), vec![(7, "applied".into())], "{answer}");
    let sale = server
        .get(&format!("/api/v1/sales/{sale_id}"), &token)
        .await;
    assert_eq!(sale.body["occurred_at"], now - 60_000, "{}", sale.body);
    server.stop().await;
}

/// Consecutive sales of a push are written in one batch; each op is still judged alone.
async fn a_run_of_sales_is_written_together_and_judged_op_by_op(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let token = till.owner.access_token.clone();
    let first = sale_op(&till, 1, &till.cashier);
    let (_, answer) = push(&server, &till, batch(vec![first.clone()])).await;
    assert_eq!(statuses(&answer), vec![(1, "applied".into())], "{answer}");
    let refund_id = uuid::Uuid::now_v7();
    let refunded = server
        .post(
            &format!(
                "/api/v1/sales/{}/refunds",
                first["entity_id"].as_str().expect("id")
            ),
            &token,
            json!({ "id": refund_id, "lines": [{ "line_no": 1, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(refunded.status, 201, "{:?}", refunded.body);
    assert_eq!(on_hand(&server, &till).await, "0");

    let good = sale_op(&till, 2, &till.cashier);
    let mut unknown_product = sale_op(&till, 3, &till.cashier);
    unknown_product["payload"]["sale"]["lines"][0]["product_id"] = json!(uuid::Uuid::now_v7());
    // The same op id again, in the same push.
    let mut repeated_op = sale_op(&till, 4, &till.cashier);
    repeated_op["op_id"] = good["op_id"].clone();
    // An id that names the refund: refused, and nothing of the refund changes.
    let mut refund_clash = sale_op(&till, 5, &till.cashier);
    refund_clash["payload"]["sale"]["id"] = json!(refund_id);
    // The first sale again under a new op id: applied, written once.
    let mut same_sale = sale_op(&till, 6, &till.cashier);
    same_sale["payload"]["sale"]["id"] = first["entity_id"].clone();
    // Two lines of one product in one sale.
    let mut two_lines = sale_op(&till, 7, &till.cashier);
    two_lines["payload"]["sale"]["lines"] = json!([
        { "product_id": till.rice, "quantity": "1.5", "unit_price_minor": 1200 },
        { "product_id": till.rice, "quantity": 2, "unit_price_minor": 1200 }
    ]);
    two_lines["payload"]["sale"]["tenders"][0]["amount_minor"] = json!(5000);
    let (status, answer) = push(
        &server,
        &till,
        batch(vec![
            good,
            unknown_product,
            repeated_op,
            refund_clash,
            same_sale,
            two_lines,
        ]),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        statuses(&answer),
        vec![
            (2, "applied".into()),
            (3, "rejected".into()),
            (4, "duplicate".into()),
            (5, "rejected".into()),
            (6, "applied".into()),
            (7, "applied".into()),
        ],
        "{answer}"
    );
    assert_eq!(
        answer["results"][1]["code"], "validation_failed",
        "{answer}"
    );
    assert_eq!(answer["results"][3]["code"], "conflict", "{answer}");
    assert_eq!(answer["acknowledged_seq"], 7);
    // 1 sold and refunded, then 1 and 3.5: the ledger moved once per written sale line.
    assert_eq!(on_hand(&server, &till).await, "-4.5");
    let refund = server
        .get(&format!("/api/v1/sales/{refund_id}"), &token)
        .await;
    assert_eq!(refund.body["kind"], "refund", "{:?}", refund.body);
    server.stop().await;
}

/// A second cashier at the till's branch.
async fn another_cashier(server: &TestServer, till: &Till, name: &str) -> String {
    server
        .post("/api/v1/staff", &till.owner.access_token, json!({ "email": format!("c-{}@x.gh", uuid::Uuid::new_v4().simple()), "name": name, "role": "cashier", "branch_ids": [till.branch], "pin": "1357" }))
        .await
        .id()
}

fn return_op(
    till: &Till,
    seq: u64,
    return_id: &str,
    cashier: &str,
    sale_id: &str,
    payload: Value,
) -> Value {
    let mut body = json!({ "cashier_id": cashier, "sale_id": sale_id, "occurred_at": 1_767_225_500_000_i64 + seq as i64 });
    for (key, value) in payload.as_object().expect("object") {
        body[key] = value.clone();
    }
    op(till, seq, "refund", return_id, "create", body)
}

async fn sales_total(server: &TestServer, till: &Till) -> Value {
    let report = server
        .get(
            "/api/v1/reports/sales?from=2025-01-01&to=2027-12-31",
            &till.owner.access_token,
        )
        .await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    report.body["totals"].clone()
}

/// Refund and void ops go through the API's return path: stock comes back, the return is a
/// record referring to the sale, a retry under a new seq changes nothing, and a refusal does not
/// block the ops behind it.
async fn refunds_and_voids_from_stations_apply_once(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let token = till.owner.access_token.clone();
    let kofi = another_cashier(&server, &till, "Kofi").await;
    let sales = vec![
        sale_op(&till, 1, &till.cashier),
        sale_op(&till, 2, &till.cashier),
        sale_op(&till, 3, &till.cashier),
    ];
    let sale_id = |index: usize| sales[index]["entity_id"].as_str().expect("id").to_owned();
    let (_, answer) = push(&server, &till, batch(sales.clone())).await;
    assert_eq!(answer["acknowledged_seq"], 3, "{answer}");
    assert_eq!(on_hand(&server, &till).await, "-3");

    let refund_id = uuid::Uuid::now_v7().to_string();
    let void_id = uuid::Uuid::now_v7().to_string();
    let refund = return_op(
        &till,
        4,
        &refund_id,
        &till.cashier,
        &sale_id(0),
        json!({ "kind": "refund", "lines": [{ "line_no": 1, "quantity": "1" }], "reason": "torn bag", "tender": "cash", "receipt_number": "MAKOLA-TILL1-000004" }),
    );
    let (status, answer) = push(&server, &till, batch(vec![
        refund.clone(),
        return_op(&till, 5, &void_id, &till.cashier, &sale_id(1),
            json!({ "kind": "void", "lines": [], "reason": "rang up twice", "tender": null, "receipt_number": null })),
        // Kofi may refund, but not Efua's sale: refused, and the op behind it still applies.
        return_op(&till, 6, &uuid::Uuid::now_v7().to_string(), &kofi, &sale_id(2),
            json!({ "kind": "refund", "lines": [{ "line_no": 1, "quantity": "1" }], "reason": null, "tender": null, "receipt_number": null })),
        // A sale the server never had.
        return_op(&till, 7, &uuid::Uuid::now_v7().to_string(), &till.cashier, &uuid::Uuid::now_v7().to_string(),
            json!({ "kind": "refund", "lines": [{ "line_no": 1, "quantity": "1" }], "reason": null, "tender": null, "receipt_number": null })),
        // A void without a reason.
        return_op(&till, 8, &uuid::Uuid::now_v7().to_string(), &till.cashier, &sale_id(2),
            json!({ "kind": "void", "lines": [], "reason": null, "tender": null, "receipt_number": null })),
        sale_op(&till, 9, &till.cashier),
    ])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        statuses(&answer),
        vec![
            (4, "applied".into()),
            (5, "applied".into()),
            (6, "rejected".into()),
            (7, "rejected".into()),
            (8, "rejected".into()),
            (9, "applied".into()),
        ],
        "{answer}"
    );
    assert_eq!(answer["results"][2]["code"], "not_allowed", "{answer}");
    assert_eq!(answer["results"][3]["code"], "unknown_sale", "{answer}");
    assert_eq!(answer["results"][4]["code"], "validation", "{answer}");
    assert_eq!(answer["acknowledged_seq"], 9);
    // Sold 4; one refunded and one voided came back.
    assert_eq!(on_hand(&server, &till).await, "-2");

    let recorded = server
        .get(&format!("/api/v1/sales/{refund_id}"), &token)
        .await;
    assert_eq!(recorded.status, 200, "{:?}", recorded.body);
    assert_eq!(
        (
            &recorded.body["kind"],
            &recorded.body["refers_to"],
            &recorded.body["total_minor"],
            &recorded.body["receipt_number"],
            &recorded.body["device_id"],
            &recorded.body["cashier_id"],
        ),
        (
            &json!("refund"),
            &json!(sale_id(0)),
            &json!(-1200),
            &json!("MAKOLA-TILL1-000004"),
            &json!(till.station),
            &json!(till.cashier),
        ),
        "{:?}",
        recorded.body
    );
    let voided = server
        .get(&format!("/api/v1/sales/{void_id}"), &token)
        .await;
    assert_eq!(
        (
            &voided.body["kind"],
            &voided.body["reason"],
            &voided.body["total_minor"]
        ),
        (&json!("void"), &json!("rang up twice"), &json!(-1200)),
        "{:?}",
        voided.body
    );
    // Four sales of 12.00, two of them returned.
    let totals = sales_total(&server, &till).await;
    assert_eq!(totals["total_minor"], 2400, "{totals}");

    // The answer was lost and the station sends the refund again under a new seq (its outbox
    // was rebuilt): applied, and nothing is returned twice.
    let mut again = refund.clone();
    again["seq"] = json!(10);
    again["op_id"] = json!(uuid::Uuid::now_v7());
    let (_, answer) = push(&server, &till, batch(vec![again])).await;
    assert_eq!(statuses(&answer), vec![(10, "applied".into())], "{answer}");
    assert_eq!(on_hand(&server, &till).await, "-2");
    assert_eq!(sales_total(&server, &till).await["total_minor"], 2400);
    let recorded_again = server
        .get(&format!("/api/v1/sales/{refund_id}"), &token)
        .await;
    assert_eq!(recorded_again.body, recorded.body);
    server.stop().await;
}

fn shift_close(till: &Till, seq: u64, shift: &str, cashier: &str, counted_cash: i64) -> Value {
    op(
        till,
        seq,
        "shift",
        shift,
        "update",
        json!({
            "cashier_id": cashier, "closed_at": 1_767_225_500_000_i64 + seq as i64,
            "tenders": [
                { "tender": "momo", "expected_minor": 0, "counted_minor": 0 },
                { "tender": "cash", "expected_minor": 6200, "counted_minor": counted_cash }
            ]
        }),
    )
}

/// Shifts open and close by sync and show expected against counted; customers are recorded
/// once; a sale op names its shift and customer.
async fn shifts_and_customers_from_stations(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let token = till.owner.access_token.clone();
    let kofi = another_cashier(&server, &till, "Kofi").await;
    let shift = uuid::Uuid::now_v7().to_string();
    let kofi_shift = uuid::Uuid::now_v7().to_string();
    let customer = uuid::Uuid::now_v7().to_string();
    let open = |seq, id: &str, cashier: &str| {
        op(
            &till,
            seq,
            "shift",
            id,
            "create",
            json!({ "cashier_id": cashier, "opened_at": 1_767_225_500_000_i64, "float_minor": 5000 }),
        )
    };
    let new_customer = op(
        &till,
        2,
        "customer",
        &customer,
        "create",
        json!({ "actor_id": till.cashier, "name": " Abena Mensah ", "phone": "0244123456" }),
    );
    let mut sale = sale_op(&till, 3, &till.cashier);
    sale["payload"]["shift_id"] = json!(shift);
    sale["payload"]["customer_id"] = json!(customer);
    let sale_id = sale["entity_id"].as_str().expect("id").to_owned();
    let close = shift_close(&till, 4, &shift, &till.cashier, 6100);
    let mut close_again = close.clone();
    close_again["seq"] = json!(5);
    close_again["op_id"] = json!(uuid::Uuid::now_v7());
    let mut customer_again = new_customer.clone();
    customer_again["seq"] = json!(10);
    customer_again["op_id"] = json!(uuid::Uuid::now_v7());
    customer_again["payload"]["name"] = json!("Someone Else");
    let (status, answer) = push(
        &server,
        &till,
        batch(vec![
            open(1, &shift, &till.cashier),
            new_customer,
            sale,
            close,
            // The same close again: applied, nothing changes.
            close_again,
            // Other figures for a closed shift: refused.
            shift_close(&till, 6, &shift, &till.cashier, 6200),
            // A shift the server never saw opened.
            shift_close(
                &till,
                7,
                &uuid::Uuid::now_v7().to_string(),
                &till.cashier,
                6200,
            ),
            open(8, &kofi_shift, &kofi),
            // Efua may not close Kofi's shift.
            shift_close(&till, 9, &kofi_shift, &till.cashier, 6200),
            // The customer again under a new seq: the first record stays.
            customer_again,
        ]),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        statuses(&answer),
        vec![
            (1, "applied".into()),
            (2, "applied".into()),
            (3, "applied".into()),
            (4, "applied".into()),
            (5, "applied".into()),
            (6, "rejected".into()),
            (7, "rejected".into()),
            (8, "applied".into()),
            (9, "rejected".into()),
            (10, "applied".into()),
        ],
        "{answer}"
    );
    assert_eq!(answer["results"][5]["code"], "shift_closed", "{answer}");
    assert_eq!(answer["results"][6]["code"], "unknown_shift", "{answer}");
    assert_eq!(answer["results"][8]["code"], "not_allowed", "{answer}");

    let recorded = server
        .get(&format!("/api/v1/sales/{sale_id}"), &token)
        .await;
    assert_eq!(
        (&recorded.body["shift_id"], &recorded.body["customer_id"]),
        (&json!(shift), &json!(customer)),
        "{:?}",
        recorded.body
    );

    let shifts = server.get("/api/v1/shifts", &token).await;
    assert_eq!(shifts.status, 200, "{:?}", shifts.body);
    let items = shifts.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{:?}", shifts.body);
    let closed = items
        .iter()
        .find(|item| item["id"] == json!(shift))
        .expect("the closed shift");
    assert_eq!(
        (
            &closed["cashier_id"],
            &closed["station_id"],
            &closed["float_minor"],
            &closed["closed_at"],
        ),
        (
            &json!(till.cashier),
            &json!(till.station),
            &json!(5000),
            &json!(1_767_225_500_004_i64),
        ),
        "{closed}"
    );
    assert_eq!(
        closed["tenders"],
        json!([
            { "tender": "cash", "expected_minor": 6200, "counted_minor": 6100, "difference_minor": -100 },
            { "tender": "momo", "expected_minor": 0, "counted_minor": 0, "difference_minor": 0 }
        ]),
        "{closed}"
    );
    let open_one = items
        .iter()
        .find(|item| item["id"] == json!(kofi_shift))
        .expect("Kofi's shift");
    assert_eq!(
        (&open_one["closed_at"], &open_one["tenders"]),
        (&Value::Null, &json!([]))
    );

    // By branch and local day (Accra is UTC): opened on 2025-12-31.
    let on_the_day = server
        .get(
            &format!(
                "/api/v1/shifts?branch={}&from=2025-12-31&to=2025-12-31",
                till.branch
            ),
            &token,
        )
        .await;
    assert_eq!(
        on_the_day.body["items"].as_array().map(Vec::len),
        Some(2),
        "{:?}",
        on_the_day.body
    );
    let later = server.get("/api/v1/shifts?from=2026-01-01", &token).await;
    assert_eq!(later.body["items"], json!([]), "{:?}", later.body);
    let bad_day = server.get("/api/v1/shifts?from=yesterday", &token).await;
    assert_eq!(bad_day.status, 422);
    // A manager of another branch sees none of these.
    let elsewhere = server.create_branch(&token, "Kejetia").await;
    let manager_email = format!("m-{}@x.gh", uuid::Uuid::new_v4().simple());
    let created = server
        .post("/api/v1/staff", &token, json!({ "email": manager_email, "name": "Yaw", "role": "manager", "branch_ids": [elsewhere], "password": "manager password" }))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let manager = server.login(&manager_email, "manager password").await;
    let manager_token = manager.body["access_token"].as_str().expect("token");
    let theirs = server.get("/api/v1/shifts", manager_token).await;
    assert_eq!((theirs.status, &theirs.body["items"]), (200, &json!([])));
    let not_theirs = server
        .get(
            &format!("/api/v1/shifts?branch={}", till.branch),
            manager_token,
        )
        .await;
    assert_eq!(not_theirs.status, 404);

    let customers = server.get("/api/v1/customers?q=abena", &token).await;
    assert_eq!(customers.status, 200, "{:?}", customers.body);
    assert_eq!(
        customers.body["items"],
        json!([{ "id": customer, "name": "Abena Mensah", "phone": "0244123456",
                 "price_list": "retail", "credit_limit_minor": null,
                 "created_at": 1_767_225_500_002_i64, "created_by": till.cashier,
                 "updated_at": 1_767_225_500_002_i64 }]),
    );
    let by_phone = server.get("/api/v1/customers?q=0244", manager_token).await;
    assert_eq!(
        by_phone.body["items"].as_array().map(Vec::len),
        Some(1),
        "{:?}",
        by_phone.body
    );
    let nobody = server.get("/api/v1/customers?q=kwesi", &token).await;
    assert_eq!(nobody.body["items"], json!([]));
    server.stop().await;
}
