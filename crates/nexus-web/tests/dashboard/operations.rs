//! The day's work through the pages, each checked through the API: receiving, adjusting,
//! counting and moving stock; refunding and voiding a receipt; changing someone's role;
//! settings; branches; enrolling and revoking a till; the CSV exports.

use nexus_testkit::{Backend, TestServer, backend_tests};

use crate::client::Browser;
use crate::shop::{Shop, sell, shop};

backend_tests!(
    stock_is_received_adjusted_counted_and_moved_from_the_inventory_pages,
    a_receipt_is_refunded_and_voided_from_its_page,
    staff_settings_branches_and_tills_are_managed_from_their_pages,
    receipts_page_through_every_sale_once_newest_first,
    the_vat_return_page_shows_the_months_receipts_and_exports_them,
    a_void_a_manager_approved_at_the_till_says_so_on_its_receipt,
);

async fn on_hand(server: &TestServer, shop: &Shop, branch: &str) -> String {
    let stock = server
        .get(
            &format!("/api/v1/branches/{branch}/stock"),
            &shop.owner.access_token,
        )
        .await;
    stock.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| item["product_id"] == shop.rice.as_str())
        .and_then(|item| item["on_hand"].as_str())
        .unwrap_or("0")
        .to_owned()
}

async fn stock_is_received_adjusted_counted_and_moved_from_the_inventory_pages(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Stock").await;
    let browser = Browser::signed_in(&server, &shop.owner).await;
    let osu = shop.osu.as_str();

    let page = browser
        .get(&format!("/inventory/receive?branch={osu}"))
        .await;
    let form = page.form("/inventory/receive");
    let received = browser
        .submit(
            "/inventory/receive",
            form,
            &[
                ("branch", osu),
                ("product_0", "STOCK-RICE"),
                ("quantity_0", "10"),
                ("reference", "Delivery note 881"),
            ],
        )
        .await;
    assert_eq!(received.status, 303, "{}", received.text());
    assert_eq!(on_hand(&server, &shop, osu).await, "60");

    let page = browser
        .get(&format!("/inventory/adjust?branch={osu}"))
        .await;
    let adjusted = browser
        .submit(
            "/inventory/adjust",
            page.form("/inventory/adjust"),
            &[
                ("branch", osu),
                ("product", "STOCK-RICE"),
                ("quantity", "-2"),
                ("reason", "damaged"),
                ("note", "rats"),
            ],
        )
        .await;
    assert_eq!(adjusted.status, 303, "{}", adjusted.text());
    assert_eq!(on_hand(&server, &shop, osu).await, "58");

    // A count: the form lists the products; the counted figure replaces what was on hand.
    let page = browser.get(&format!("/inventory/count?branch={osu}")).await;
    let form = page.form("/inventory/count");
    let index = form
        .iter()
        .find(|(name, value)| name.starts_with("product_") && *value == shop.rice)
        .map(|(name, _)| name.trim_start_matches("product_").to_owned())
        .expect("the rice is on the count sheet");
    let counted_field = format!("counted_{index}");
    let counted = browser
        .submit("/inventory/count", form, &[(counted_field.as_str(), "55")])
        .await;
    assert_eq!(counted.status, 303, "{}", counted.text());
    assert_eq!(on_hand(&server, &shop, osu).await, "55");

    let page = browser.get("/inventory/transfer").await;
    let moved = browser
        .submit(
            "/inventory/transfer",
            page.form("/inventory/transfer"),
            &[
                ("from", osu),
                ("to", &shop.makola),
                ("product_0", "STOCK-RICE"),
                ("quantity_0", "5"),
            ],
        )
        .await;
    assert_eq!(moved.status, 303, "{}", moved.text());
    assert_eq!(on_hand(&server, &shop, osu).await, "50");
    assert_eq!(on_hand(&server, &shop, &shop.makola).await, "55");

    // The product's history says what happened, with reasons, in the shop's terms.
    let history = browser
        .get(&format!("/inventory/products/{}?branch={osu}", shop.rice))
        .await;
    assert_eq!(history.status, 200);
    let text = history.text();
    for expected in ["Delivery note 881", "Damaged", "rats", "55", "50"] {
        assert!(text.contains(expected), "{expected} in the history: {text}");
    }
    let inventory = browser.get(&format!("/inventory?branch={osu}")).await;
    assert!(
        inventory.text().contains("Stock Rice 5kg"),
        "{}",
        inventory.text()
    );
    server.stop().await;
}

async fn a_receipt_is_refunded_and_voided_from_its_page(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Refund").await;
    let sale = sell(&server, &shop, &shop.osu, 3).await;
    let id = sale["id"].as_str().expect("id");
    let manager = Browser::new(&server);
    manager
        .sign_in(&shop.manager.email, &shop.manager.password)
        .await;
    let page = manager.get(&format!("/receipts/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("360.00"), "{}", page.text());
    let refund_url = format!("/receipts/{id}/refund");
    let no_reason = manager
        .submit(
            &refund_url,
            page.form(&refund_url),
            &[("qty_0", "1"), ("reason", "")],
        )
        .await;
    assert_eq!(no_reason.status, 422, "{}", no_reason.text());
    let refunded = manager
        .submit(
            &refund_url,
            page.form(&refund_url),
            &[("qty_0", "1"), ("reason", "torn bag")],
        )
        .await;
    assert_eq!(refunded.status, 303, "{}", refunded.text());
    let after = manager.follow(refunded).await;
    assert!(after.text().contains("torn bag"), "{}", after.text());
    assert!(after.text().contains("120.00"), "{}", after.text());
    // More than is left is refused, as at the till.
    let too_many = manager
        .submit(
            &refund_url,
            after.form(&refund_url),
            &[("qty_0", "5"), ("reason", "again")],
        )
        .await;
    assert_eq!(too_many.status, 422, "{}", too_many.text());

    let void_url = format!("/receipts/{id}/void");
    let voided = manager
        .submit(
            &void_url,
            after.form(&void_url),
            &[("reason", "customer changed their mind")],
        )
        .await;
    assert_eq!(voided.status, 303, "{}", voided.text());
    let receipt = manager.follow(voided).await.text();
    assert!(
        receipt.contains("torn bag") && receipt.contains("customer changed their mind"),
        "{receipt}"
    );
    // The refund brought one bag back and the void the other two: 50 on hand again.
    assert_eq!(on_hand(&server, &shop, &shop.osu).await, "50");

    // A cashier may not refund another person's sale, from the page as at the till.
    let other = sell(&server, &shop, &shop.osu, 1).await;
    let other_id = other["id"].as_str().expect("id");
    let cashier = Browser::new(&server);
    cashier
        .sign_in(&shop.cashier.email, &shop.cashier.password)
        .await;
    let refused = cashier
        .post(
            &format!("/receipts/{other_id}/refund"),
            &[("qty_0", "1"), ("reason", "mine")],
        )
        .await;
    assert!(
        refused.status == 403 || refused.status == 404,
        "{} {}",
        refused.status,
        refused.text()
    );
    server.stop().await;
}

async fn staff_settings_branches_and_tills_are_managed_from_their_pages(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Admin").await;
    let browser = Browser::signed_in(&server, &shop.owner).await;

    // A new member of staff with a PIN only, then made a manager.
    let page = browser.get("/staff/new").await;
    let added = browser
        .submit(
            "/staff",
            page.form("/staff"),
            &[
                ("name", "Akosua Darko"),
                ("email", ""),
                ("role", "cashier"),
                ("branches", &shop.osu),
                ("pin", "7391"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.text());
    let staff = server
        .get("/api/v1/staff", &shop.owner.access_token)
        .await
        .body;
    let akosua = staff
        .as_array()
        .into_iter()
        .flatten()
        .find(|member| member["name"] == "Akosua Darko")
        .expect("added")
        .clone();
    let id = akosua["id"].as_str().expect("id");
    let edit = browser.get(&format!("/staff/{id}/edit")).await;
    let changed = browser
        .submit(
            &format!("/staff/{id}"),
            edit.form(&format!("/staff/{id}")),
            &[("role", "manager")],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.text());
    let member = server
        .get(&format!("/api/v1/staff/{id}"), &shop.owner.access_token)
        .await
        .body;
    assert_eq!(member["role"], "manager", "{member}");

    // Settings: the time zone and the receipt footer.
    let page = browser.get("/settings").await;
    let saved = browser
        .submit(
            "/settings",
            page.form("/settings"),
            &[
                ("time_zone", "Africa/Lagos"),
                (
                    "receipt_footer",
                    "Goods sold are not returnable after 7 days",
                ),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let settings = server
        .get("/api/v1/settings", &shop.owner.access_token)
        .await
        .body;
    assert_eq!(settings["time_zone"], "Africa/Lagos", "{settings}");
    assert!(
        browser
            .get("/settings")
            .await
            .body
            .contains("not returnable after 7 days")
    );

    // A branch renamed.
    browser.get("/branches").await;
    let renamed = browser
        .post(
            &format!("/branches/{}", shop.makola),
            &[("name", "Makola Market")],
        )
        .await;
    assert_eq!(renamed.status, 303, "{}", renamed.text());
    assert!(
        browser
            .get("/branches")
            .await
            .text()
            .contains("Makola Market")
    );

    // A till: its code, then revoked.
    let page = browser.get("/tills/new").await;
    let created = browser
        .submit(
            "/tills",
            page.form("/tills"),
            &[("name", "Till 2"), ("branch", &shop.osu)],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    assert!(created.body.contains("id=\"enrolment-code\""));
    let tills = browser.get("/tills").await;
    let revoke = tills
        .body
        .split("action=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|action| action.ends_with("/revoke"))
        .expect("a revoke form")
        .to_owned();
    let revoked = browser.post(&revoke, &[]).await;
    assert_eq!(revoked.status, 303, "{}", revoked.text());
    let stations = server
        .get("/api/v1/stations", &shop.owner.access_token)
        .await
        .body;
    assert!(
        stations.to_string().contains("revoked_at\":\"")
            || stations.to_string().contains("revoked_at\":1")
            || stations
                .as_array()
                .into_iter()
                .flatten()
                .any(|station| !station["revoked_at"].is_null()),
        "{stations}"
    );

    // Exports: CSV with the figures as the table shows them.
    sell(&server, &shop, &shop.osu, 2).await;
    let products = browser.get("/sales/export/products").await;
    assert_eq!(products.status, 200);
    assert!(
        products.body.contains("Admin Rice 5kg"),
        "{}",
        products.body
    );
    assert!(products.body.contains("240.00"), "{}", products.body);
    let performance = browser.get("/shifts/performance/export").await;
    assert_eq!(performance.status, 200);
    assert!(
        performance
            .headers
            .get("content-disposition")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .contains(".csv")
    );
    server.stop().await;
}

/// The receipt list pages by a cursor (the last receipt shown): 60 sales in one clock tick
/// (the same time, so the order falls to the ids) come back as 50 and 10, each once.
async fn receipts_page_through_every_sale_once_newest_first(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Pager").await;
    let mut ids = Vec::new();
    for _ in 0..60 {
        let sale = sell(&server, &shop, &shop.osu, 1).await;
        ids.push(sale["id"].as_str().expect("id").to_owned());
    }
    let browser = Browser::signed_in(&server, &shop.owner).await;
    let mut seen = Vec::new();
    let mut path = "/receipts".to_owned();
    for _ in 0..5 {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text());
        seen.extend(
            page.body
                .split("href=\"/receipts/")
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .filter(|id| id.len() == 36)
                .map(str::to_owned),
        );
        let next = page
            .body
            .split("class=\"pager\"><a role=\"button\" class=\"secondary\" href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(|href| href.replace("&amp;", "&"));
        match next {
            Some(next) => path = next,
            None => break,
        }
    }
    seen.dedup();
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first, "every receipt once, newest first");
    server.stop().await;
}

/// The VAT return page: the month's supplies and levies as `GET /api/v1/reports/vat` sums them,
/// a manager's own branch only, and its CSV.
async fn the_vat_return_page_shows_the_months_receipts_and_exports_them(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Vat").await;
    sell(&server, &shop, &shop.osu, 2).await;
    sell(&server, &shop, &shop.makola, 1).await;
    let month = "2026-01";
    let api = server
        .get(
            &format!("/api/v1/reports/vat?month={month}"),
            &shop.owner.access_token,
        )
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    let owner = Browser::signed_in(&server, &shop.owner).await;
    let page = owner.get(&format!("/sales/vat?month={month}")).await;
    assert_eq!(page.status, 200);
    let text = page.text();
    // GHS 360.00 of standard-rated rice, tax-inclusive: its net and levies as the API has them.
    let cedis = |minor: i64| format!("{}.{:02}", minor / 100, minor % 100);
    for key in ["standard_rated_net_minor", "tax_minor"] {
        let amount = api.body["total"][key].as_i64().expect("amount");
        assert!(amount > 0, "{key}: {}", api.body);
        assert!(text.contains(&cedis(amount)), "{key} {amount}: {text}");
    }
    assert!(
        text.contains("Vat Osu") && text.contains("Vat Makola"),
        "{text}"
    );
    let csv = owner.get(&format!("/sales/vat/export?month={month}")).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.text().contains(&format!("{month},Total,300.00,")),
        "{}",
        csv.text()
    );
    // A manager of Osu sees Osu alone; a month that is not one is said so on its field.
    let manager = Browser::new(&server);
    manager
        .sign_in(&shop.manager.email, &shop.manager.password)
        .await;
    let theirs = manager
        .get(&format!("/sales/vat?month={month}"))
        .await
        .text();
    assert!(
        theirs.contains("Vat Osu") && !theirs.contains("Vat Makola"),
        "{theirs}"
    );
    let wrong = owner.get("/sales/vat?month=2026-13").await;
    assert_eq!(wrong.status, 200);
    assert!(
        wrong.text().contains("month like 2026-11"),
        "{}",
        wrong.text()
    );
}

/// A void from a till that a manager approved with their PIN (as the sync applies it) names
/// the manager on the receipt's page.
async fn a_void_a_manager_approved_at_the_till_says_so_on_its_receipt(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Approved").await;
    let sale = sell(&server, &shop, &shop.osu, 1).await;
    let id: uuid::Uuid = sale["id"].as_str().expect("id").parse().expect("uuid");
    let tenant: nexus_domain::TenantId = shop.owner.tenant_id.parse().expect("tenant");
    let user = |text: &str| nexus_domain::UserId::from_uuid(text.parse().expect("user id"));
    let now = nexus_domain::Clock::now(server.clock.as_ref());
    let (void, written) = server
        .store
        .record_return(
            tenant,
            nexus_store::NewReturn {
                id: nexus_domain::SaleId::from_uuid(uuid::Uuid::now_v7()),
                kind: nexus_store::SaleKind::Void,
                original: nexus_domain::SaleId::from_uuid(id),
                lines: vec![(1, nexus_domain::Quantity::ONE)],
                cashier: user(&shop.cashier.id),
                device_id: None,
                receipt_number: None,
                reason: Some("rang up twice".to_owned()),
                tender: None,
                approved_by: Some(user(&shop.manager.id)),
                occurred_at: now,
                local_day: nexus_domain::calendar::local_day(now.as_millis(), 0),
                recorded_at: now,
            },
        )
        .await
        .expect("the void");
    assert!(written);
    assert_eq!(void.approved_by, Some(user(&shop.manager.id)));
    let owner = Browser::signed_in(&server, &shop.owner).await;
    let page = owner.get(&format!("/receipts/{id}")).await.text();
    assert!(page.contains("(approved by Approved manager)"), "{page}");
}
