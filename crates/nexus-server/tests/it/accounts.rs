//! Customer accounts through the API: sales on credit within the limit (refused beyond it,
//! saying what is left), payments on account counted once per id, refunds of a sale on credit
//! back onto the account, the statement with its running balance, and who owes what.

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::{Value, json};
use uuid::Uuid;

use super::cashier_of;

backend_tests!(
    credit_sales_payments_and_refunds_keep_the_account,
    who_owes_what_lists_the_oldest_debt_first
);

fn credit_sale(branch: &str, product: &str, customer: Option<&str>, bags: i64) -> Value {
    let mut body = json!({ "id": Uuid::now_v7(), "branch_id": branch,
        "lines": [{ "product_id": product, "quantity": bags }],
        "tenders": [{ "kind": "credit", "amount_minor": bags * 1_200 }] });
    if let Some(customer) = customer {
        body["customer_id"] = json!(customer);
    }
    body
}

async fn account(server: &TestServer, token: &str, customer: &str) -> Value {
    let answer = server
        .get(&format!("/api/v1/customers/{customer}/account"), token)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

async fn credit_sales_payments_and_refunds_keep_the_account(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Credit Traders").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Osu").await;
    let rice = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "RICE", "name": "Rice 5kg", "price_minor": 1200, "tax_class": "exempt" }),
        )
        .await
        .id();
    let ama = server
        .post(
            "/api/v1/customers",
            token,
            json!({ "name": "Ama", "phone": "0244000111", "credit_limit_minor": 10_000 }),
        )
        .await
        .id();
    let no_credit = server
        .post("/api/v1/customers", token, json!({ "name": "Yaw" }))
        .await
        .id();
    let cashier = cashier_of(&server, token, &branch).await;

    // Five bags on account: 60.00 of a 100.00 limit.
    let sold = server
        .post(
            "/api/v1/sales",
            &cashier,
            credit_sale(&branch, &rice, Some(&ama), 5),
        )
        .await;
    assert_eq!(sold.status, 201, "{}", sold.body);
    assert_eq!(sold.body["tenders"][0]["kind"], "credit");
    let first = account(&server, token, &ama).await;
    assert_eq!(first["balance_minor"], 6_000, "{first}");
    assert_eq!(first["credit_left_minor"], 4_000, "{first}");

    // Beyond the limit, with no customer, or for a customer without credit: refused.
    let over = server
        .post(
            "/api/v1/sales",
            &cashier,
            credit_sale(&branch, &rice, Some(&ama), 4),
        )
        .await;
    assert_eq!(over.status, 422, "{}", over.body);
    assert_eq!(over.body["error"]["field"], "tenders");
    let message = over.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("40.00 more"), "{message}");
    let nobody = server
        .post(
            "/api/v1/sales",
            &cashier,
            credit_sale(&branch, &rice, None, 1),
        )
        .await;
    assert_eq!(nobody.status, 422, "{}", nobody.body);
    assert_eq!(nobody.body["error"]["field"], "customer_id");
    let yaw = server
        .post(
            "/api/v1/sales",
            &cashier,
            credit_sale(&branch, &rice, Some(&no_credit), 1),
        )
        .await;
    assert_eq!(yaw.status, 422, "{}", yaw.body);
    // Nothing of the refused sales reached the account.
    assert_eq!(account(&server, token, &ama).await["balance_minor"], 6_000);

    // A payment in cash, sent twice: counted once, 201 then 200 with the same entry.
    let payments = format!("/api/v1/customers/{ama}/payments");
    let payment = json!({ "id": Uuid::now_v7(), "kind": "cash", "amount_minor": 2_500 });
    let paid = server.post(&payments, &cashier, payment.clone()).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.body["amount_minor"], -2_500);
    let again = server.post(&payments, &cashier, payment.clone()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["id"], paid.body["id"]);
    // The same id with another amount is not the same payment.
    let mut clash = payment.clone();
    clash["amount_minor"] = json!(100);
    let clashed = server.post(&payments, &cashier, clash).await;
    assert_eq!(clashed.status, 409, "{}", clashed.body);
    // A sale's id is not a payment's.
    let sale_id = sold.id();
    let reused = server
        .post(
            &payments,
            &cashier,
            json!({ "id": sale_id, "kind": "cash", "amount_minor": 100 }),
        )
        .await;
    assert_eq!(reused.status, 409, "{}", reused.body);
    // Mobile money carries what a sale's tender does; card is not a payment on account.
    for (body, field) in [
        (
            json!({ "id": Uuid::now_v7(), "kind": "momo", "amount_minor": 500, "network": "mtn", "phone": "0244000111" }),
            "reference",
        ),
        (
            json!({ "id": Uuid::now_v7(), "kind": "card", "amount_minor": 500, "reference": "R1" }),
            "kind",
        ),
        (
            json!({ "id": Uuid::now_v7(), "kind": "cash", "amount_minor": 0 }),
            "amount_minor",
        ),
    ] {
        let refused = server.post(&payments, &cashier, body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.body);
        assert_eq!(refused.body["error"]["field"], field, "{}", refused.body);
    }
    let momo = server
        .post(
            &payments,
            token,
            json!({ "id": Uuid::now_v7(), "kind": "momo", "amount_minor": 500,
                "network": "mtn", "phone": "0244000111", "reference": "MP240101.1234.A5" }),
        )
        .await;
    assert_eq!(momo.status, 201, "{}", momo.body);
    assert_eq!(momo.body["verified"], false);
    let unknown = server
        .post(
            &format!("/api/v1/customers/{}/payments", Uuid::now_v7()),
            token,
            json!({ "id": Uuid::now_v7(), "kind": "cash", "amount_minor": 100 }),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    // Two bags back: the sale was on credit, so the refund goes back onto the account.
    let refund = server
        .post(
            &format!("/api/v1/sales/{sale_id}/refunds"),
            &cashier,
            json!({ "id": Uuid::now_v7(), "lines": [{ "line_no": 1, "quantity": "2" }] }),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    assert_eq!(refund.body["tenders"][0]["kind"], "credit");

    let statement = account(&server, token, &ama).await;
    assert_eq!(statement["balance_minor"], 6_000 - 2_500 - 500 - 2_400);
    let lines = statement["statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let kinds: Vec<&str> = lines
        .iter()
        .map(|line| line["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        ["sale", "payment", "payment", "refund"],
        "{statement}"
    );
    let running: Vec<i64> = lines
        .iter()
        .map(|line| line["balance_minor"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(running, [6_000, 3_500, 3_000, 600]);
    // The balance is the sum of the entries.
    let sum: i64 = lines
        .iter()
        .map(|line| line["amount_minor"].as_i64().unwrap_or_default())
        .sum();
    assert_eq!(statement["balance_minor"], sum);
    server.stop().await;
}

async fn who_owes_what_lists_the_oldest_debt_first(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Debt Traders").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Osu").await;
    let rice = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "RICE", "name": "Rice 5kg", "price_minor": 1200 }),
        )
        .await
        .id();
    let customer = |name: &'static str, phone: Option<&'static str>| {
        let server = &server;
        async move {
            server
                .post(
                    "/api/v1/customers",
                    token,
                    json!({ "name": name, "phone": phone, "credit_limit_minor": 100_000 }),
                )
                .await
                .id()
        }
    };
    let kofi = customer("Kofi", Some("0244111222")).await;
    let esi = customer("Esi", None).await;
    let paid_up = customer("Kwame", None).await;
    let sell = |who: String, bags: i64| {
        let server = &server;
        let (branch, rice) = (branch.clone(), rice.clone());
        async move {
            let sold = server
                .post(
                    "/api/v1/sales",
                    token,
                    credit_sale(&branch, &rice, Some(&who), bags),
                )
                .await;
            assert_eq!(sold.status, 201, "{}", sold.body);
        }
    };
    // Esi's debt is the oldest; Kofi paid off his first sale, so his debt dates from his
    // second; Kwame paid everything.
    sell(esi.clone(), 1).await;
    server.clock.advance(std::time::Duration::from_secs(60));
    sell(kofi.clone(), 2).await;
    sell(paid_up.clone(), 1).await;
    server.clock.advance(std::time::Duration::from_secs(60));
    sell(kofi.clone(), 3).await;
    for (who, amount) in [(&kofi, 2_400), (&paid_up, 1_200)] {
        let paid = server
            .post(
                &format!("/api/v1/customers/{who}/payments"),
                token,
                json!({ "id": Uuid::now_v7(), "kind": "cash", "amount_minor": amount }),
            )
            .await;
        assert_eq!(paid.status, 201, "{}", paid.body);
    }
    let listed = server.get("/api/v1/customers/debtors", token).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let items = listed.body["items"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = items
        .iter()
        .map(|item| item["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Esi", "Kofi"], "{}", listed.body);
    assert_eq!(items[1]["balance_minor"], 3_600);
    assert!(
        items[0]["oldest_unpaid_at"].as_i64() < items[1]["oldest_unpaid_at"].as_i64(),
        "{}",
        listed.body
    );
    let link = items[1]["whatsapp_reminder"].as_str().unwrap_or_default();
    assert!(
        link.starts_with("https://wa.me/233244111222?text="),
        "{link}"
    );
    assert!(link.contains("36.00"), "{link}");
    assert_eq!(
        items[0]["whatsapp_reminder"],
        Value::Null,
        "no phone, no link"
    );
    server.stop().await;
}
