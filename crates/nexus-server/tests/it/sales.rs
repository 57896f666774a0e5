//! Sales, refunds and voids through the API: tax, tenders, idempotency, prices kept.

use nexus_testkit::{Backend, Owner, TestServer, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    a_cash_sale_is_taxed_the_ghana_way_and_gives_change,
    the_same_sale_posted_twice_is_recorded_once,
    a_sale_keeps_the_prices_actually_charged,
    tenders_discounts_and_weights,
    bad_sales_are_refused_and_record_nothing,
    refunds_in_steps_return_exactly_what_was_paid,
    voids_cancel_what_is_left,
    rebuilt_rollups_match_the_ones_kept_as_sales_happen,
    absurd_amounts_and_dates_are_refused_and_retries_move_nothing_twice,
);

struct Shop {
    owner: Owner,
    branch: String,
    rice: String,
    exempt: String,
}

async fn shop(server: &TestServer) -> Shop {
    let owner = server.register("Sales Shop").await;
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
    let exempt = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "BREAD", "name": "Bread", "price_minor": 500, "tax_class": "exempt" }),
        )
        .await
        .id();
    Shop {
        owner,
        branch,
        rice,
        exempt,
    }
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn sell(server: &TestServer, shop: &Shop, body: Value) -> nexus_testkit::Answer {
    server
        .post("/api/v1/sales", &shop.owner.access_token, body)
        .await
}

async fn on_hand(server: &TestServer, shop: &Shop, product: &str) -> String {
    let stock = server
        .get(
            &format!("/api/v1/branches/{}/stock", shop.branch),
            &shop.owner.access_token,
        )
        .await;
    stock.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["product_id"] == product)
        .map_or_else(
            || "0".to_owned(),
            |item| item["on_hand"].as_str().expect("on_hand").to_owned(),
        )
}

async fn a_cash_sale_is_taxed_the_ghana_way_and_gives_change(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let sale = sell(
        &server,
        &shop,
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 1 }, { "product_id": shop.exempt, "quantity": "2" }],
                "tenders": [{ "kind": "cash", "amount_minor": 5000 }] }),
    )
    .await;
    assert_eq!(sale.status, 201, "{:?}", sale.body);
    // GHS 12.00 inclusive of 20%: base 10.00, VAT 1.50, NHIL 0.25, GETFund 0.25. Bread is exempt.
    assert_eq!(sale.body["total_minor"], 1200 + 1000);
    assert_eq!(sale.body["tax_minor"], 200);
    assert_eq!(sale.body["net_minor"], 1000 + 1000);
    assert_eq!(
        sale.body["levies"],
        json!([["VAT", 150], ["NHIL", 25], ["GETFUND", 25]])
    );
    assert_eq!(
        sale.body["lines"][0]["levies"],
        json!([["VAT", 150], ["NHIL", 25], ["GETFUND", 25]])
    );
    assert_eq!(sale.body["lines"][1]["tax_minor"], 0);
    assert_eq!(
        (
            sale.body["tendered_minor"].as_i64(),
            sale.body["change_minor"].as_i64()
        ),
        (Some(5000), Some(2800))
    );
    assert_eq!(sale.body["cashier_id"], shop.owner.user_id);
    assert_eq!(
        on_hand(&server, &shop, &shop.rice).await,
        "-1",
        "stock may go negative: the sale happened"
    );
    let fetched = server
        .get(
            &format!("/api/v1/sales/{}", sale.id()),
            &shop.owner.access_token,
        )
        .await;
    assert_eq!(fetched.body, sale.body);

    // A tenant that is not VAT-registered turns tax off.
    let mut settings = server
        .get("/api/v1/settings", &shop.owner.access_token)
        .await
        .body;
    settings["tax"]["enabled"] = json!(false);
    assert_eq!(
        server
            .call(
                Method::PUT,
                "/api/v1/settings",
                Some(&shop.owner.access_token),
                Some(settings.clone())
            )
            .await
            .status,
        200
    );
    let untaxed = sell(&server, &shop, json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 1 }], "tenders": [{ "kind": "cash", "amount_minor": 1200 }] })).await;
    assert_eq!(
        (
            untaxed.body["tax_minor"].as_i64(),
            untaxed.body["total_minor"].as_i64()
        ),
        (Some(0), Some(1200))
    );
    settings["currency"] = json!("NGN");
    let currency_change = server
        .call(
            Method::PUT,
            "/api/v1/settings",
            Some(&shop.owner.access_token),
            Some(settings),
        )
        .await;
    assert_eq!(
        currency_change.status, 422,
        "no currency change once sales exist: {:?}",
        currency_change.body
    );
    server.stop().await;
}

async fn the_same_sale_posted_twice_is_recorded_once(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let id = new_id();
    let body = json!({ "id": id, "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 3 }], "tenders": [{ "kind": "cash", "amount_minor": 3600 }] });
    let first = sell(&server, &shop, body.clone()).await;
    assert_eq!(first.status, 201);
    let again = sell(&server, &shop, body).await;
    assert_eq!(again.status, 200, "a retry is answered with the original");
    assert_eq!(again.body, first.body);
    let different = sell(
        &server,
        &shop,
        json!({ "id": id, "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 9 }], "tenders": [{ "kind": "cash", "amount_minor": 99999 }] }),
    )
    .await;
    assert_eq!(
        (different.status, &different.body),
        (200, &first.body),
        "the first recording wins"
    );
    assert_eq!(
        on_hand(&server, &shop, &shop.rice).await,
        "-3",
        "stock moved once"
    );
    server.stop().await;
}

async fn a_sale_keeps_the_prices_actually_charged(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let token = shop.owner.access_token.as_str();
    assert_eq!(
        server
            .patch(
                &format!("/api/v1/products/{}", shop.rice),
                token,
                json!({ "price_minor": 1500 })
            )
            .await
            .status,
        200
    );
    // An offline till still charged the old price.
    let offline = sell(
        &server,
        &shop,
        json!({ "id": new_id(), "branch_id": shop.branch, "occurred_at": 1_767_225_000_000_i64,
                "lines": [{ "product_id": shop.rice, "quantity": 1, "unit_price_minor": 1200 }], "tenders": [{ "kind": "cash", "amount_minor": 1200 }] }),
    )
    .await;
    assert_eq!(
        (offline.status, offline.body["total_minor"].as_i64()),
        (201, Some(1200)),
        "{:?}",
        offline.body
    );
    assert_eq!(offline.body["occurred_at"], 1_767_225_000_000_i64);
    let current = sell(&server, &shop, json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 1 }], "tenders": [{ "kind": "cash", "amount_minor": 1500 }] })).await;
    assert_eq!(current.body["lines"][0]["unit_price_minor"], 1500);
    assert_eq!(
        server
            .patch(
                &format!("/api/v1/products/{}", shop.rice),
                token,
                json!({ "price_minor": 9999, "name": "Renamed" })
            )
            .await
            .status,
        200
    );
    let kept = server
        .get(&format!("/api/v1/sales/{}", offline.id()), token)
        .await;
    assert_eq!(
        kept.body, offline.body,
        "a recorded sale never changes with the catalogue"
    );
    assert_eq!(kept.body["lines"][0]["name"], "Rice");
    server.stop().await;
}

async fn tenders_discounts_and_weights(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let split = sell(
        &server,
        &shop,
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 2 }],
                "tenders": [{ "kind": "momo", "amount_minor": 1000, "network": "MTN", "phone": "0241234567", "reference": "TX123" },
                            { "kind": "card", "amount_minor": 400, "reference": "TERM-9" },
                            { "kind": "cash", "amount_minor": 2000 }] }),
    )
    .await;
    assert_eq!(split.status, 201, "{:?}", split.body);
    assert_eq!(split.body["change_minor"], 3400 - 2400);
    assert_eq!(
        split.body["tenders"][0]["verified"], false,
        "mobile money is unverified until checked"
    );
    assert_eq!(split.body["tenders"][0]["network"], "mtn");

    // GHS 12.00 per kg, 1.5 kg, less 1.00 on the line and 2.00 on the basket.
    let weighed = sell(
        &server,
        &shop,
        json!({ "id": new_id(), "branch_id": shop.branch, "discount_minor": 200,
                "lines": [{ "product_id": shop.rice, "quantity": 1.5, "discount_minor": 100 }, { "product_id": shop.exempt, "quantity": 1 }],
                "tenders": [{ "kind": "cash", "amount_minor": 5000 }] }),
    )
    .await;
    assert_eq!(weighed.status, 201, "{:?}", weighed.body);
    let lines = weighed.body["lines"].as_array().expect("lines");
    assert_eq!(lines[0]["quantity"], "1.5");
    assert_eq!(lines[0]["gross_minor"], 1800);
    let sum = |field: &str| {
        lines
            .iter()
            .map(|line| line[field].as_i64().unwrap_or(0))
            .sum::<i64>()
    };
    for field in [
        "gross_minor",
        "discount_minor",
        "net_minor",
        "tax_minor",
        "total_minor",
    ] {
        assert_eq!(
            weighed.body[field].as_i64(),
            Some(sum(field)),
            "{field}: totals are the sum of the lines"
        );
    }
    assert_eq!(weighed.body["discount_minor"], 300);
    assert_eq!(weighed.body["total_minor"], 1800 + 500 - 300);
    for line in lines {
        assert_eq!(
            line["net_minor"].as_i64().unwrap_or(0) + line["tax_minor"].as_i64().unwrap_or(0),
            line["total_minor"].as_i64().unwrap_or(-1)
        );
    }
    assert_eq!(on_hand(&server, &shop, &shop.rice).await, "-3.5");
    server.stop().await;
}

async fn bad_sales_are_refused_and_record_nothing(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let line = json!([{ "product_id": shop.rice, "quantity": 1 }]);
    let cash = json!([{ "kind": "cash", "amount_minor": 1200 }]);
    let future = 1_767_225_600_000_i64 + 3_600_000;
    let cases = [
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": line, "tenders": [{ "kind": "cash", "amount_minor": 1199 }] }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": line, "tenders": [{ "kind": "card", "amount_minor": 1300, "reference": "R" }] }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": line, "tenders": [{ "kind": "momo", "amount_minor": 1200, "network": "mtn", "phone": "0241234567" }] }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": line, "tenders": [{ "kind": "momo", "amount_minor": 1200, "network": "vodafone", "phone": "0241234567", "reference": "T" }] }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": line, "tenders": [{ "kind": "cheque", "amount_minor": 1200 }] }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [], "tenders": cash }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 0 }], "tenders": cash }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": "0.0001" }], "tenders": cash }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": new_id(), "quantity": 1 }], "tenders": cash }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 1, "discount_minor": 1300 }], "tenders": cash }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": line, "tenders": cash, "occurred_at": future }),
    ];
    for body in cases {
        let answer = sell(&server, &shop, body.clone()).await;
        assert_eq!(answer.status, 422, "{body}: {:?}", answer.body);
    }
    let elsewhere = server.register("Elsewhere").await;
    let other_branch = server
        .create_branch(&elsewhere.access_token, "Theirs")
        .await;
    let foreign = sell(
        &server,
        &shop,
        json!({ "id": new_id(), "branch_id": other_branch, "lines": line, "tenders": cash }),
    )
    .await;
    assert_eq!(
        foreign.status, 422,
        "another tenant's branch does not exist here: {:?}",
        foreign.body
    );
    assert!(
        foreign.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("branch")
    );
    assert_eq!(
        on_hand(&server, &shop, &shop.rice).await,
        "0",
        "nothing moved"
    );
    server.stop().await;
}

async fn refund(
    server: &TestServer,
    shop: &Shop,
    sale: &str,
    lines: Value,
) -> nexus_testkit::Answer {
    server
        .post(
            &format!("/api/v1/sales/{sale}/refunds"),
            &shop.owner.access_token,
            json!({ "id": new_id(), "lines": lines }),
        )
        .await
}

async fn refunds_in_steps_return_exactly_what_was_paid(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    // 7 at 3.33 with a basket discount: amounts that do not divide evenly.
    let sale = sell(
        &server,
        &shop,
        json!({ "id": new_id(), "branch_id": shop.branch, "discount_minor": 101,
                "lines": [{ "product_id": shop.rice, "quantity": 7, "unit_price_minor": 333 }], "tenders": [{ "kind": "cash", "amount_minor": 5000 }] }),
    )
    .await;
    assert_eq!(sale.status, 201, "{:?}", sale.body);
    let sale_id = sale.id();
    let mut returned_total = 0;
    let mut returned_tax = 0;
    for quantity in ["2", "1", "3"] {
        let step = refund(
            &server,
            &shop,
            &sale_id,
            json!([{ "line_no": 1, "quantity": quantity }]),
        )
        .await;
        assert_eq!(step.status, 201, "{:?}", step.body);
        assert_eq!(step.body["kind"], "refund");
        assert_eq!(step.body["refers_to"], sale_id);
        returned_total += step.body["total_minor"].as_i64().unwrap_or(0);
        returned_tax += step.body["tax_minor"].as_i64().unwrap_or(0);
    }
    let too_many = refund(
        &server,
        &shop,
        &sale_id,
        json!([{ "line_no": 1, "quantity": 2 }]),
    )
    .await;
    assert_eq!(
        (too_many.status, too_many.error_code()),
        (422, "refused"),
        "only 1 is left: {:?}",
        too_many.body
    );
    let last_id = new_id();
    let last = server
        .post(
            &format!("/api/v1/sales/{sale_id}/refunds"),
            &shop.owner.access_token,
            json!({ "id": last_id, "lines": [{ "line_no": 1, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(last.status, 201);
    returned_total += last.body["total_minor"].as_i64().unwrap_or(0);
    returned_tax += last.body["tax_minor"].as_i64().unwrap_or(0);
    assert_eq!(
        returned_total,
        -sale.body["total_minor"].as_i64().unwrap_or(0),
        "four refunds give back exactly what was paid"
    );
    assert_eq!(
        returned_tax,
        -sale.body["tax_minor"].as_i64().unwrap_or(0),
        "and exactly the tax"
    );
    let retry = server
        .post(
            &format!("/api/v1/sales/{sale_id}/refunds"),
            &shop.owner.access_token,
            json!({ "id": last_id, "lines": [{ "line_no": 1, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(
        (retry.status, &retry.body),
        (200, &last.body),
        "a retried refund is the same refund"
    );
    assert_eq!(
        on_hand(&server, &shop, &shop.rice).await,
        "0",
        "every unit came back"
    );
    assert_eq!(
        refund(
            &server,
            &shop,
            &sale_id,
            json!([{ "line_no": 9, "quantity": 1 }])
        )
        .await
        .status,
        422
    );
    assert_eq!(
        refund(
            &server,
            &shop,
            &new_id(),
            json!([{ "line_no": 1, "quantity": 1 }])
        )
        .await
        .status,
        404
    );
    let of_refund = refund(
        &server,
        &shop,
        &last_id,
        json!([{ "line_no": 1, "quantity": 1 }]),
    )
    .await;
    assert_eq!(of_refund.status, 422, "a refund cannot be refunded");
    server.stop().await;
}

async fn voids_cancel_what_is_left(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let sale = sell(
        &server,
        &shop,
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 4 }, { "product_id": shop.exempt, "quantity": 2 }],
                "tenders": [{ "kind": "cash", "amount_minor": 10000 }] }),
    )
    .await;
    let sale_id = sale.id();
    let partial = refund(
        &server,
        &shop,
        &sale_id,
        json!([{ "line_no": 1, "quantity": 1 }]),
    )
    .await;
    assert_eq!(partial.status, 201);
    let token = shop.owner.access_token.as_str();
    let no_reason = server
        .post(
            &format!("/api/v1/sales/{sale_id}/void"),
            token,
            json!({ "id": new_id(), "reason": " " }),
        )
        .await;
    assert_eq!(no_reason.status, 422);
    let void = server
        .post(
            &format!("/api/v1/sales/{sale_id}/void"),
            token,
            json!({ "id": new_id(), "reason": "customer changed mind" }),
        )
        .await;
    assert_eq!(void.status, 201, "{:?}", void.body);
    assert_eq!(void.body["kind"], "void");
    let quantities: Vec<&str> = void.body["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|line| line["quantity"].as_str())
        .collect();
    assert_eq!(
        quantities,
        vec!["-3", "-2"],
        "only what was not yet refunded"
    );
    let total = sale.body["total_minor"].as_i64().unwrap_or(0);
    assert_eq!(
        partial.body["total_minor"].as_i64().unwrap_or(0)
            + void.body["total_minor"].as_i64().unwrap_or(0),
        -total
    );
    let again = server
        .post(
            &format!("/api/v1/sales/{sale_id}/void"),
            token,
            json!({ "id": new_id(), "reason": "twice" }),
        )
        .await;
    assert_eq!(again.status, 422, "nothing is left to void");
    assert_eq!(on_hand(&server, &shop, &shop.rice).await, "0");
    server.stop().await;
}

async fn rebuilt_rollups_match_the_ones_kept_as_sales_happen(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let token = shop.owner.access_token.as_str();
    // Sales on three different days before the test clock's "now" (tokens last 15 minutes, so
    // the clock stays put and the sales are dated instead).
    let day = 86_400_000_i64;
    let now = 1_767_225_600_000_i64;
    let sales = [
        (
            now - 3 * day,
            "1",
            json!([{ "kind": "cash", "amount_minor": 1000 }, { "kind": "cash", "amount_minor": 500 }]),
        ),
        (
            now - 2 * day,
            "2",
            json!([{ "kind": "momo", "amount_minor": 2000, "network": "mtn", "phone": "0241234567", "reference": "T1" }, { "kind": "cash", "amount_minor": 1000 }]),
        ),
        (
            now - day,
            "3",
            json!([{ "kind": "card", "amount_minor": 3600, "reference": "C1" }]),
        ),
    ];
    for (occurred_at, quantity, tenders) in sales {
        let body = json!({ "id": new_id(), "branch_id": shop.branch, "occurred_at": occurred_at,
                           "lines": [{ "product_id": shop.rice, "quantity": quantity }], "tenders": tenders });
        let sale = sell(&server, &shop, body).await;
        assert_eq!(sale.status, 201, "{:?}", sale.body);
        if quantity == "3" {
            assert_eq!(
                refund(
                    &server,
                    &shop,
                    &sale.id(),
                    json!([{ "line_no": 1, "quantity": 1 }])
                )
                .await
                .status,
                201
            );
        }
    }
    let path = "/api/v1/reports/sales?period=day&from=2025-12-01&to=2026-01-31";
    let kept = server.get(path, token).await;
    assert_eq!(kept.status, 200, "{:?}", kept.body);
    let cash: i64 = kept.body["by_tender"]
        .as_array()
        .expect("tenders")
        .iter()
        .filter(|row| row["kind"] == "cash")
        .filter_map(|row| row["amount_minor"].as_i64())
        .sum();
    assert_eq!(
        cash,
        1200 + 400 - 1200,
        "cash kept net of change, once per sale, less the cash refund"
    );
    let tenant: nexus_domain::TenantId = shop.owner.tenant_id.parse().expect("tenant");
    server
        .store
        .rebuild_report_rollups(tenant)
        .await
        .expect("rebuild");
    let rebuilt = server.get(path, token).await;
    assert_eq!(
        rebuilt.body, kept.body,
        "the same figures from the sales themselves"
    );
    server.stop().await;
}

async fn absurd_amounts_and_dates_are_refused_and_retries_move_nothing_twice(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let token = shop.owner.access_token.as_str();
    let cash = json!([{ "kind": "cash", "amount_minor": 1200 }]);
    for body in [
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 1, "unit_price_minor": i64::MAX }], "tenders": cash }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": "9000000000000" }], "tenders": cash }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 1 }], "tenders": [{ "kind": "cash", "amount_minor": i64::MAX }, { "kind": "cash", "amount_minor": i64::MAX }] }),
        json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 1 }], "tenders": cash, "occurred_at": 0 }),
    ] {
        let answer = sell(&server, &shop, body.clone()).await;
        assert_eq!(answer.status, 422, "{body}: {:?}", answer.body);
    }
    let movements = format!("/api/v1/branches/{}/stock/movements", shop.branch);
    let huge = server
        .post(
            &movements,
            token,
            json!({ "product_id": shop.rice, "kind": "receipt", "quantity": "9000000000000" }),
        )
        .await;
    assert_eq!(huge.status, 422);

    // A receipt sent twice with its own id is counted once.
    let receipt =
        json!({ "id": new_id(), "product_id": shop.rice, "kind": "receipt", "quantity": 5 });
    assert_eq!(
        server.post(&movements, token, receipt.clone()).await.status,
        201
    );
    assert_eq!(server.post(&movements, token, receipt).await.status, 201);
    assert_eq!(on_hand(&server, &shop, &shop.rice).await, "5");
    let other = server.create_branch(token, "Other").await;
    let transfer = json!({ "id": new_id(), "from_branch_id": shop.branch, "to_branch_id": other, "lines": [{ "product_id": shop.rice, "quantity": 2 }] });
    assert_eq!(
        server
            .post("/api/v1/stock/transfers", token, transfer.clone())
            .await
            .status,
        201
    );
    assert_eq!(
        server
            .post("/api/v1/stock/transfers", token, transfer)
            .await
            .status,
        201
    );
    assert_eq!(
        on_hand(&server, &shop, &shop.rice).await,
        "3",
        "a retried transfer moves once"
    );

    // A cashier refunds their own sales only; a return's id that names another record clashes.
    let email = format!("c-{}@x.gh", uuid::Uuid::new_v4().simple());
    let body = json!({ "email": email, "name": "C", "role": "cashier", "branch_ids": [shop.branch], "password": "cashier password" });
    assert_eq!(server.post("/api/v1/staff", token, body).await.status, 201);
    let cashier = server.login(&email, "cashier password").await.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let owners_sale = sell(&server, &shop, json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 1 }], "tenders": cash })).await.id();
    let by_cashier = server
        .post(
            &format!("/api/v1/sales/{owners_sale}/refunds"),
            &cashier,
            json!({ "id": new_id(), "lines": [{ "line_no": 1, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(by_cashier.status, 403, "{:?}", by_cashier.body);
    let own = server.post("/api/v1/sales", &cashier, json!({ "id": new_id(), "branch_id": shop.branch, "lines": [{ "product_id": shop.rice, "quantity": 1 }], "tenders": cash })).await.id();
    let own_refund = server
        .post(
            &format!("/api/v1/sales/{own}/refunds"),
            &cashier,
            json!({ "id": new_id(), "lines": [{ "line_no": 1, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(own_refund.status, 201, "{:?}", own_refund.body);
    let clash = server
        .post(
            &format!("/api/v1/sales/{owners_sale}/refunds"),
            token,
            json!({ "id": own, "lines": [{ "line_no": 1, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(
        (clash.status, clash.body["error"]["field"].as_str()),
        (409, Some("id")),
        "{:?}",
        clash.body
    );
    server.stop().await;
}
