//! Customers made through the API, on the retail or the wholesale list, and sales priced on
//! their list: a trader on the wholesale list buys at wholesale; anyone else at wholesale needs
//! the right to set prices.

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::{Value, json};
use uuid::Uuid;

use super::cashier_of;

backend_tests!(
    customers_are_made_and_changed_through_the_api,
    a_trader_on_the_wholesale_list_buys_at_wholesale
);

async fn customers_are_made_and_changed_through_the_api(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Customer Traders").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Osu").await;
    let trader = server
        .post(
            "/api/v1/customers",
            token,
            json!({ "name": "  Auntie Akos Provisions ", "phone": "0244000111",
                "price_list": "wholesale", "credit_limit_minor": 500_000 }),
        )
        .await;
    assert_eq!(trader.status, 201, "{}", trader.body);
    assert_eq!(trader.body["name"], "Auntie Akos Provisions");
    assert_eq!(trader.body["price_list"], "wholesale");
    assert_eq!(trader.body["credit_limit_minor"], 500_000);
    let id = trader.id();
    let walk_in = server
        .post("/api/v1/customers", token, json!({ "name": "Yaw" }))
        .await;
    assert_eq!(walk_in.status, 201, "{}", walk_in.body);
    assert_eq!(walk_in.body["price_list"], "retail");
    assert_eq!(walk_in.body["credit_limit_minor"], Value::Null);
    for (body, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "A", "phone": "12" }), "phone"),
        (
            json!({ "name": "A", "credit_limit_minor": -1 }),
            "credit_limit_minor",
        ),
    ] {
        let refused = server.post("/api/v1/customers", token, body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.body);
        assert_eq!(refused.body["error"]["field"], field, "{}", refused.body);
    }
    let bad_list = server
        .post(
            "/api/v1/customers",
            token,
            json!({ "name": "A", "price_list": "vip" }),
        )
        .await;
    assert!(
        bad_list.status == 400 || bad_list.status == 422,
        "{}",
        bad_list.body
    );
    let changed = server
        .patch(
            &format!("/api/v1/customers/{id}"),
            token,
            json!({ "price_list": "retail", "credit_limit_minor": null, "phone": null }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["price_list"], "retail");
    assert_eq!(changed.body["credit_limit_minor"], Value::Null);
    assert_eq!(changed.body["phone"], Value::Null);
    let nothing = server
        .patch(&format!("/api/v1/customers/{id}"), token, json!({}))
        .await;
    assert_eq!(nothing.status, 422, "{}", nothing.body);
    let unknown = server
        .patch(
            &format!("/api/v1/customers/{}", Uuid::now_v7()),
            token,
            json!({ "name": "Ghost" }),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let got = server.get(&format!("/api/v1/customers/{id}"), token).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["name"], "Auntie Akos Provisions");
    // A cashier looks customers up, and records them at the till, but does not set their list.
    let cashier = cashier_of(&server, token, &branch).await;
    let made = server
        .post(
            "/api/v1/customers",
            &cashier,
            json!({ "name": "Mine", "price_list": "wholesale" }),
        )
        .await;
    assert_eq!(made.status, 403, "{}", made.body);
    let listed = server.get("/api/v1/customers?q=auntie", &cashier).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    server.stop().await;
}

async fn a_trader_on_the_wholesale_list_buys_at_wholesale(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Wholesale Traders").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Osu").await;
    let malt = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "MALT", "name": "Malta Guinness", "price_minor": 800,
                "wholesale_price_minor": 700,
                "packs": [{ "name": "carton", "units": 24, "price_minor": 18_000, "wholesale_price_minor": 16_000 }] }),
        )
        .await;
    assert_eq!(malt.status, 201, "{}", malt.body);
    assert_eq!(malt.body["wholesale_price_minor"], 700);
    let malt = malt.id();
    let soap = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "SOAP", "name": "Key soap", "price_minor": 500 }),
        )
        .await
        .id();
    let trader = server
        .post(
            "/api/v1/customers",
            token,
            json!({ "name": "Auntie Akos", "price_list": "wholesale" }),
        )
        .await
        .id();
    let walk_in = server
        .post("/api/v1/customers", token, json!({ "name": "Yaw" }))
        .await
        .id();
    let cashier = cashier_of(&server, token, &branch).await;
    let sale = |customer: Option<&str>, list: &str| {
        let mut body = json!({ "id": Uuid::now_v7(), "branch_id": branch, "price_list": list,
            "lines": [
                { "product_id": malt, "quantity": 2 },
                { "product_id": malt, "quantity": 1, "pack": { "name": "carton", "units": 24 } },
                { "product_id": soap, "quantity": 1 }
            ],
            "tenders": [{ "kind": "cash", "amount_minor": 100_000 }] });
        if let Some(customer) = customer {
            body["customer_id"] = json!(customer);
        }
        body
    };
    // The trader, rung up by a cashier: wholesale prices, soap (no wholesale price) at retail.
    let sold = server
        .post("/api/v1/sales", &cashier, sale(Some(&trader), "wholesale"))
        .await;
    assert_eq!(sold.status, 201, "{}", sold.body);
    assert_eq!(sold.body["price_list"], "wholesale");
    assert_eq!(sold.body["customer_id"], trader.as_str());
    assert_eq!(sold.body["total_minor"], 2 * 700 + 16_000 + 500);
    // Retail by default, for the trader too.
    let retail = server
        .post("/api/v1/sales", &cashier, sale(Some(&trader), "retail"))
        .await;
    assert_eq!(retail.status, 201, "{}", retail.body);
    assert_eq!(retail.body["total_minor"], 2 * 800 + 18_000 + 500);
    // Wholesale to a walk-in, or to a customer on the retail list, is a price the cashier may
    // not set; a manager or owner may.
    for customer in [None, Some(walk_in.as_str())] {
        let refused = server
            .post("/api/v1/sales", &cashier, sale(customer, "wholesale"))
            .await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert_eq!(refused.body["error"]["field"], "price_list");
    }
    let by_owner = server
        .post("/api/v1/sales", token, sale(None, "wholesale"))
        .await;
    assert_eq!(by_owner.status, 201, "{}", by_owner.body);
    assert_eq!(by_owner.body["total_minor"], 2 * 700 + 16_000 + 500);
    let unknown = server
        .post(
            "/api/v1/sales",
            token,
            sale(Some(&Uuid::now_v7().to_string()), "retail"),
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert_eq!(unknown.body["error"]["field"], "customer_id");
    // A refund keeps its sale's list and customer.
    let id = sold.id();
    let refund = server
        .post(
            &format!("/api/v1/sales/{id}/refunds"),
            &cashier,
            json!({ "id": Uuid::now_v7(), "lines": [{ "line_no": 1, "quantity": "1" }] }),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    assert_eq!(refund.body["price_list"], "wholesale");
    assert_eq!(refund.body["total_minor"], -700);
    server.stop().await;
}
