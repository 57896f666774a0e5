//! Suppliers and purchase orders: an order received in parts, each receipt a stock receipt at the
//! order's branch and counted once however often it is retried, setting the cost of what arrived;
//! then closed.

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::json;
use uuid::Uuid;

use super::on_hand_at;

backend_tests!(an_order_is_received_in_parts_once_each_and_closed);

async fn an_order_is_received_in_parts_once_each_and_closed(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Order Traders").await;
    let token = owner.access_token.as_str();
    let osu = server.create_branch(token, "Osu").await;
    let product = |sku: &str, price: i64| json!({ "sku": sku, "name": sku, "price_minor": price });
    let rice = server
        .post("/api/v1/products", token, product("RICE", 1200))
        .await
        .id();
    let oil = server
        .post("/api/v1/products", token, product("OIL", 2500))
        .await
        .id();
    let supplier = server
        .post(
            "/api/v1/suppliers",
            token,
            json!({ "name": "Kasapreko Distributors", "phone": "0302123456" }),
        )
        .await;
    assert_eq!(supplier.status, 201, "{}", supplier.body);
    let supplier = supplier.id();
    let again = server
        .post(
            "/api/v1/suppliers",
            token,
            json!({ "name": "KASAPREKO distributors" }),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    let listed = server.get("/api/v1/suppliers", token).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));

    for (body, status) in [
        (
            json!({ "supplier_id": supplier, "branch_id": osu, "lines": [] }),
            422,
        ),
        (
            json!({ "supplier_id": supplier, "branch_id": osu, "lines": [
                { "product_id": rice, "quantity": 1, "cost_minor": 900 },
                { "product_id": rice, "quantity": 2, "cost_minor": 900 }] }),
            422,
        ),
        (
            json!({ "supplier_id": supplier, "branch_id": osu, "lines": [
                { "product_id": rice, "quantity": 0, "cost_minor": 900 }] }),
            422,
        ),
        (
            json!({ "supplier_id": Uuid::now_v7(), "branch_id": osu, "lines": [
                { "product_id": rice, "quantity": 1, "cost_minor": 900 }] }),
            422,
        ),
        (
            json!({ "supplier_id": supplier, "branch_id": Uuid::now_v7(), "lines": [
                { "product_id": rice, "quantity": 1, "cost_minor": 900 }] }),
            422,
        ),
    ] {
        let refused = server
            .post("/api/v1/purchase-orders", token, body.clone())
            .await;
        assert_eq!(refused.status, status, "{body}: {}", refused.body);
    }
    let order = server
        .post(
            "/api/v1/purchase-orders",
            token,
            json!({ "supplier_id": supplier, "branch_id": osu, "lines": [
                { "product_id": rice, "quantity": 10, "cost_minor": 900 },
                { "product_id": oil, "quantity": 5, "cost_minor": 2000 }] }),
        )
        .await;
    assert_eq!(order.status, 201, "{}", order.body);
    assert_eq!(order.body["status"], "open");
    let order = order.id();
    let receive = |id: Uuid, lines: serde_json::Value| json!({ "id": id, "lines": lines });
    let path = format!("/api/v1/purchase-orders/{order}/receive");

    // Part of the rice arrives; the request is retried after a lost answer: counted once.
    let first = Uuid::now_v7();
    let part = receive(first, json!([{ "product_id": rice, "quantity": 4 }]));
    let received = server.post(&path, token, part.clone()).await;
    assert_eq!(received.status, 201, "{}", received.body);
    assert_eq!(received.body["lines"][0]["received"], "4");
    let retried = server.post(&path, token, part).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(retried.body["lines"][0]["received"], "4");
    assert_eq!(retried.body["receipts"].as_array().map(Vec::len), Some(1));
    assert_eq!(on_hand_at(&server, token, &osu, &rice).await, "4");
    let costed = server.get(&format!("/api/v1/products/{rice}"), token).await;
    assert_eq!(costed.body["cost_minor"], 900, "{}", costed.body);

    // The rest, with the oil; a product not on the order is refused and moves nothing.
    let not_on_it = server
        .post(
            &path,
            token,
            receive(
                Uuid::now_v7(),
                json!([{ "product_id": rice, "quantity": 1 }, { "product_id": Uuid::now_v7(), "quantity": 1 }]),
            ),
        )
        .await;
    assert_eq!(not_on_it.status, 422, "{}", not_on_it.body);
    assert_eq!(on_hand_at(&server, token, &osu, &rice).await, "4");
    let rest = server
        .post(
            &path,
            token,
            receive(
                Uuid::now_v7(),
                json!([{ "product_id": rice, "quantity": 6 }, { "product_id": oil, "quantity": 5 }]),
            ),
        )
        .await;
    assert_eq!(rest.status, 201, "{}", rest.body);
    assert_eq!(on_hand_at(&server, token, &osu, &rice).await, "10");
    assert_eq!(on_hand_at(&server, token, &osu, &oil).await, "5");
    let oil_cost = server.get(&format!("/api/v1/products/{oil}"), token).await;
    assert_eq!(oil_cost.body["cost_minor"], 2000);

    // A sale now is costed at what the order said.
    let sale = server
        .post(
            "/api/v1/sales",
            token,
            json!({ "id": Uuid::now_v7(), "branch_id": osu,
                "lines": [{ "product_id": rice, "quantity": 2 }],
                "tenders": [{ "kind": "cash", "amount_minor": 2400 }] }),
        )
        .await;
    assert_eq!(sale.status, 201, "{}", sale.body);
    assert_eq!(sale.body["lines"][0]["cost_minor"], 1800);

    // One receipt id names one receipt: used on another order it clashes.
    let other = server
        .post(
            "/api/v1/purchase-orders",
            token,
            json!({ "supplier_id": supplier, "branch_id": osu, "lines": [
                { "product_id": rice, "quantity": 1, "cost_minor": 950 }] }),
        )
        .await
        .id();
    let clash = server
        .post(
            &format!("/api/v1/purchase-orders/{other}/receive"),
            token,
            receive(first, json!([{ "product_id": rice, "quantity": 1 }])),
        )
        .await;
    assert_eq!(clash.status, 409, "{}", clash.body);

    // Closed: nothing more is received against it.
    let closed = server
        .post(
            &format!("/api/v1/purchase-orders/{order}/close"),
            token,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    let late = server
        .post(
            &path,
            token,
            receive(
                Uuid::now_v7(),
                json!([{ "product_id": rice, "quantity": 1 }]),
            ),
        )
        .await;
    assert_eq!(late.status, 422, "{}", late.body);
    assert_eq!(on_hand_at(&server, token, &osu, &rice).await, "8");
    let orders = server.get("/api/v1/purchase-orders", token).await;
    assert_eq!(orders.status, 200, "{}", orders.body);
    assert_eq!(orders.body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        orders.body["items"][0]["id"],
        other.as_str(),
        "newest first"
    );
    let unknown = server
        .get(
            &format!("/api/v1/purchase-orders/{}", Uuid::now_v7()),
            token,
        )
        .await;
    assert_eq!(unknown.status, 404);
    server.stop().await;
}
