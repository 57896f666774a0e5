//! Categories and the item report from the dashboard: a category made, a product put in it
//! with its cost, the profit of its sales by product and by category as the API sums them, the
//! CSV, and the category archived.

use nexus_testkit::{Backend, TestServer, backend_tests};

use crate::client::Browser;
use crate::shop::{sell, shop};

backend_tests!(
    a_product_put_in_a_category_with_its_cost_shows_its_profit,
    a_trader_is_put_on_the_wholesale_list_from_the_customers_page,
    an_order_is_placed_received_once_and_closed_from_the_inventory_pages,
);

fn cedis(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

async fn a_product_put_in_a_category_with_its_cost_shows_its_profit(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Profit").await;
    let owner = Browser::signed_in(&server, &shop.owner).await;

    let page = owner.get("/products/categories").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("No categories yet"), "{}", page.text());
    let made = owner
        .follow(
            owner
                .post("/products/categories", &[("name", "Provisions")])
                .await,
        )
        .await;
    assert_eq!(made.status, 200);
    assert!(made.text().contains("Provisions added."), "{}", made.text());
    let again = owner
        .post("/products/categories", &[("name", "provisions")])
        .await;
    assert_eq!(again.status, 422);
    assert!(
        again.text().contains("This name is already used."),
        "{}",
        again.text()
    );
    let listed = server
        .get("/api/v1/categories", &shop.owner.access_token)
        .await;
    let category = listed.body["items"][0]["id"]
        .as_str()
        .expect("category")
        .to_owned();

    // The product form offers the category and takes the cost in cedis.
    let edit = owner.get(&format!("/products/{}/edit", shop.rice)).await;
    assert_eq!(edit.status, 200);
    assert!(
        edit.body
            .contains(&format!("<option value=\"{category}\">Provisions</option>")),
        "{}",
        edit.body
    );
    let action = format!("/products/{}", shop.rice);
    let wrong = owner
        .submit(&action, edit.form(&action), &[("cost", "ninety")])
        .await;
    assert_eq!(wrong.status, 422);
    let saved = owner
        .submit(
            &action,
            edit.form(&action),
            &[("category", category.as_str()), ("cost", "95.00")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let product = server
        .get(
            &format!("/api/v1/products/{}", shop.rice),
            &shop.owner.access_token,
        )
        .await;
    assert_eq!(product.body["cost_minor"], 9500, "{}", product.body);
    assert_eq!(product.body["category_id"], category.as_str());

    // A pack row: the bag of 5 is kept with its barcode and price; a wrong row is said so.
    let edit = owner.get(&format!("/products/{}/edit", shop.rice)).await;
    let bag = [
        ("pack_name_0", "bag of 5"),
        ("pack_units_0", "5"),
        ("pack_barcode_0", "7001"),
        ("pack_price_0", "590.00"),
    ];
    let mut wrong = bag.to_vec();
    wrong[1] = ("pack_units_0", "five");
    let refused = owner.submit(&action, edit.form(&action), &wrong).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.text().contains("as a whole number such as 24"),
        "{}",
        refused.text()
    );
    let packed = owner.submit(&action, edit.form(&action), &bag).await;
    assert_eq!(packed.status, 303, "{}", packed.text());
    let product = server
        .get(
            &format!("/api/v1/products/{}", shop.rice),
            &shop.owner.access_token,
        )
        .await;
    assert_eq!(
        product.body["packs"],
        serde_json::json!([{ "name": "bag of 5", "units": 5, "barcode": "7001", "price_minor": 59_000 }]),
        "{}",
        product.body
    );
    let again = owner.get(&format!("/products/{}/edit", shop.rice)).await;
    assert_eq!(
        again.input_value("pack_name_0").as_deref(),
        Some("bag of 5")
    );
    assert_eq!(again.input_value("pack_name_1").as_deref(), Some(""));

    sell(&server, &shop, &shop.osu, 2).await;
    sell(&server, &shop, &shop.makola, 1).await;
    let api = server
        .get("/api/v1/reports/items", &shop.owner.access_token)
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    let totals = &api.body["totals"];
    assert_eq!(totals["cost_minor"], 3 * 9500, "{totals}");
    let page = owner.get("/sales/items").await;
    assert_eq!(page.status, 200);
    let text = page.text();
    for key in ["net_minor", "cost_minor", "gross_profit_minor"] {
        let amount = totals[key].as_i64().expect("amount");
        assert!(text.contains(&cedis(amount)), "{key} {amount}: {text}");
    }
    assert!(
        text.contains("Profit Rice 5kg") && text.contains("Provisions"),
        "{text}"
    );
    let by_category = owner.get("/sales/items?group=category").await.text();
    assert!(by_category.contains("Provisions"), "{by_category}");
    assert!(!by_category.contains("Profit Rice 5kg"), "{by_category}");
    let csv = owner.get("/sales/items/export?group=product").await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body
            .starts_with("sku,name,category,quantity,net,cost,gross_profit"),
        "{}",
        csv.body
    );
    assert!(
        csv.body.contains(&format!(",{},", cedis(3 * 9500))),
        "{}",
        csv.body
    );
    let bad = owner.get("/sales/items?from=2026-02-30").await;
    assert_eq!(bad.status, 200);
    assert!(bad.text().contains("date like"), "{}", bad.text());

    // A manager of Osu sees their branch's profit only.
    let manager = Browser::new(&server);
    manager
        .sign_in(&shop.manager.email, &shop.manager.password)
        .await;
    let theirs = manager.get("/sales/items").await.text();
    assert!(theirs.contains(&cedis(2 * 9500)), "{theirs}");
    assert!(!theirs.contains(&cedis(3 * 9500)), "{theirs}");

    // Archived: marked so, and it can be brought back.
    let archived = owner
        .follow(
            owner
                .post(
                    &format!("/products/categories/{category}"),
                    &[("archived", "true")],
                )
                .await,
        )
        .await;
    assert!(
        archived.text().contains("Provisions archived."),
        "{}",
        archived.text()
    );
    let back = owner
        .follow(
            owner
                .post(
                    &format!("/products/categories/{category}"),
                    &[("archived", "false")],
                )
                .await,
        )
        .await;
    assert!(
        back.text().contains("Provisions is back."),
        "{}",
        back.text()
    );
    server.stop().await;
}

async fn a_trader_is_put_on_the_wholesale_list_from_the_customers_page(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Trader").await;
    let owner = Browser::signed_in(&server, &shop.owner).await;
    let page = owner.get("/customers").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("No customers yet"), "{}", page.text());
    let wrong = owner
        .post(
            "/customers",
            &[
                ("name", "Auntie Akos"),
                ("phone", "12"),
                ("price_list", "wholesale"),
                ("credit_limit", ""),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.text().contains("9 to 15 digits"), "{}", wrong.text());
    let added = owner
        .follow(
            owner
                .post(
                    "/customers",
                    &[
                        ("name", "Auntie Akos"),
                        ("phone", "0244000111"),
                        ("price_list", "wholesale"),
                        ("credit_limit", "5000.00"),
                    ],
                )
                .await,
        )
        .await;
    assert!(
        added.text().contains("Auntie Akos added."),
        "{}",
        added.text()
    );
    assert!(added.text().contains("wholesale"), "{}", added.text());
    let listed = server
        .get("/api/v1/customers?q=akos", &shop.owner.access_token)
        .await;
    let customer = &listed.body["items"][0];
    assert_eq!(customer["price_list"], "wholesale", "{}", listed.body);
    assert_eq!(customer["credit_limit_minor"], 500_000);
    let id = customer["id"].as_str().expect("id").to_owned();
    let edit = owner.get(&format!("/customers/{id}")).await;
    assert_eq!(edit.status, 200);
    let action = format!("/customers/{id}");
    let saved = owner
        .submit(
            &action,
            edit.form(&action),
            &[("price_list", "retail"), ("credit_limit", "")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let after = server
        .get(&format!("/api/v1/customers/{id}"), &shop.owner.access_token)
        .await;
    assert_eq!(after.body["price_list"], "retail", "{}", after.body);
    assert!(after.body["credit_limit_minor"].is_null(), "{}", after.body);
    assert_eq!(after.body["phone"], "0244000111");
    // A sale to them at wholesale: its receipt page names them and says so.
    let wholesale = server
        .patch(
            &format!("/api/v1/customers/{id}"),
            &shop.owner.access_token,
            serde_json::json!({ "price_list": "wholesale" }),
        )
        .await;
    assert_eq!(wholesale.status, 200, "{}", wholesale.body);
    let sold = server
        .post(
            "/api/v1/sales",
            &shop.owner.access_token,
            serde_json::json!({ "id": uuid::Uuid::now_v7(), "branch_id": shop.osu,
                "customer_id": id, "price_list": "wholesale",
                "lines": [{ "product_id": shop.rice, "quantity": 1 }],
                "tenders": [{ "kind": "cash", "amount_minor": 12_000 }] }),
        )
        .await;
    assert_eq!(sold.status, 201, "{}", sold.body);
    let receipt = owner
        .get(&format!(
            "/receipts/{}",
            sold.body["id"].as_str().expect("id")
        ))
        .await
        .text();
    assert!(
        receipt.contains("Auntie Akos (0244000111)") && receipt.contains("Wholesale prices"),
        "{receipt}"
    );
    // A cashier finds customers but neither adds nor edits them.
    let cashier = Browser::new(&server);
    cashier
        .sign_in(&shop.cashier.email, &shop.cashier.password)
        .await;
    let theirs = cashier.get("/customers").await;
    assert_eq!(theirs.status, 200);
    assert!(
        !theirs.text().contains("Add a customer"),
        "{}",
        theirs.text()
    );
    assert_eq!(cashier.get(&format!("/customers/{id}")).await.status, 403);
    let refused = cashier.post("/customers", &[("name", "Mine")]).await;
    assert_eq!(refused.status, 403);
    server.stop().await;
}

async fn an_order_is_placed_received_once_and_closed_from_the_inventory_pages(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Orders").await;
    let owner = Browser::signed_in(&server, &shop.owner).await;
    let page = owner.get("/inventory/orders").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("Add a supplier first"),
        "{}",
        page.text()
    );
    let added = owner
        .follow(
            owner
                .post(
                    "/inventory/suppliers",
                    &[("name", "Olam Ghana"), ("phone", "")],
                )
                .await,
        )
        .await;
    assert!(
        added.text().contains("Olam Ghana added."),
        "{}",
        added.text()
    );
    let form = added.form("/inventory/orders");
    let wrong = owner
        .submit(
            "/inventory/orders",
            form.clone(),
            &[
                ("branch", shop.osu.as_str()),
                ("product_0", "NOPE"),
                ("quantity_0", "1"),
                ("cost_0", "1"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong.text().contains("No product has the SKU or barcode"),
        "{}",
        wrong.text()
    );
    let placed = owner
        .submit(
            "/inventory/orders",
            form,
            &[
                ("branch", shop.osu.as_str()),
                ("product_0", "ORDERS-RICE"),
                ("quantity_0", "10"),
                ("cost_0", "95.00"),
            ],
        )
        .await;
    assert_eq!(placed.status, 303, "{}", placed.text());
    let order_page = owner.follow(placed).await;
    assert!(
        order_page.text().contains("Order from Olam Ghana"),
        "{}",
        order_page.text()
    );
    let order_path = order_page
        .body
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|action| action.trim_end_matches("/receive").to_owned())
        .expect("the receive form");
    let receive = format!("{order_path}/receive");
    let fields = order_page.form(&receive);
    let first = owner
        .submit(&receive, fields.clone(), &[("receive_1", "4")])
        .await;
    assert_eq!(first.status, 303, "{}", first.text());
    // The same form sent again (a double tap, a resend after a lost answer): counted once.
    let again = owner
        .follow(owner.submit(&receive, fields, &[("receive_1", "4")]).await)
        .await;
    assert!(
        again.text().contains("recorded already"),
        "{}",
        again.text()
    );
    let stock = server
        .get(
            &format!("/api/v1/branches/{}/stock", shop.osu),
            &shop.owner.access_token,
        )
        .await;
    let on_hand = stock.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| item["product_id"] == shop.rice.as_str())
        .and_then(|item| item["on_hand"].as_str())
        .unwrap_or("none")
        .to_owned();
    assert_eq!(on_hand, "54", "50 before and 4 received once");
    let product = server
        .get(
            &format!("/api/v1/products/{}", shop.rice),
            &shop.owner.access_token,
        )
        .await;
    assert_eq!(product.body["cost_minor"], 9500);
    let closed = owner
        .follow(owner.post(&format!("{order_path}/close"), &[]).await)
        .await;
    assert!(closed.text().contains("Order closed."), "{}", closed.text());
    assert!(
        !closed.body.contains("Receive what arrived"),
        "a closed order offers no receiving: {}",
        closed.text()
    );
    server.stop().await;
}
