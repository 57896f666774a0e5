//! Every page for every role, branch scoping for managers and cashiers, and tenant isolation
//! through every page and export.

use nexus_testkit::{Backend, TestServer, backend_tests};

use crate::client::Browser;
use crate::shop::{sell, shop};

backend_tests!(
    every_page_answers_each_role_as_its_permissions_say,
    a_manager_sees_only_their_branch_and_a_cashier_only_their_own,
    another_tenant_sees_nothing_of_this_one_in_any_page_or_export,
);

/// What each role gets on each page: 200 (shown), 303 (sent elsewhere) or 403.
pub const MATRIX: &[(&str, [u16; 3])] = &[
    //                                owner manager cashier
    ("/", [200, 200, 303]),
    ("/setup", [200, 403, 403]),
    ("/setup/shop", [200, 403, 403]),
    ("/setup/branch", [200, 403, 403]),
    ("/setup/products", [200, 200, 403]),
    ("/setup/cashier", [200, 200, 403]),
    ("/setup/till", [200, 200, 403]),
    ("/overview/live", [200, 200, 403]),
    ("/sales", [200, 200, 403]),
    ("/sales/export/periods", [200, 200, 403]),
    ("/sales/export/branches", [200, 200, 403]),
    ("/sales/export/cashiers", [200, 200, 403]),
    ("/sales/export/tenders", [200, 200, 403]),
    ("/sales/export/products", [200, 200, 403]),
    ("/sales/vat", [200, 200, 403]),
    ("/sales/vat/export", [200, 200, 403]),
    ("/sales/items", [200, 200, 403]),
    ("/sales/items/export", [200, 200, 403]),
    ("/receipts", [200, 200, 200]),
    ("/products", [200, 200, 200]),
    ("/products/new", [200, 200, 403]),
    ("/products/categories", [200, 200, 200]),
    ("/customers", [200, 200, 200]),
    ("/customers/debtors", [200, 200, 200]),
    ("/products/import", [200, 200, 403]),
    ("/products/export", [200, 200, 200]),
    ("/inventory", [200, 200, 200]),
    ("/inventory/receive", [200, 200, 403]),
    ("/inventory/adjust", [200, 200, 403]),
    ("/inventory/count", [200, 200, 403]),
    ("/inventory/transfer", [200, 200, 403]),
    ("/inventory/orders", [200, 200, 200]),
    ("/staff", [200, 200, 403]),
    ("/staff/new", [200, 200, 403]),
    ("/shifts", [200, 200, 200]),
    ("/shifts/performance", [200, 200, 403]),
    ("/shifts/performance/export", [200, 200, 403]),
    ("/branches", [200, 200, 200]),
    ("/tills", [200, 200, 403]),
    ("/billing", [200, 403, 403]),
    ("/tills/live", [200, 200, 403]),
    ("/tills/new", [200, 200, 403]),
    ("/conflicts", [200, 200, 403]),
    ("/settings", [200, 200, 200]),
    ("/sign-out", [200, 200, 200]),
];

async fn every_page_answers_each_role_as_its_permissions_say(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Matrix").await;
    sell(&server, &shop, &shop.osu, 1).await;
    let owner = Browser::signed_in(&server, &shop.owner).await;
    let manager = Browser::new(&server);
    manager
        .sign_in(&shop.manager.email, &shop.manager.password)
        .await;
    let cashier = Browser::new(&server);
    cashier
        .sign_in(&shop.cashier.email, &shop.cashier.password)
        .await;
    let mut wrong = Vec::new();
    for (path, expected) in MATRIX {
        for (index, browser) in [&owner, &manager, &cashier].into_iter().enumerate() {
            let page = browser.get(path).await;
            if page.status != expected[index] {
                wrong.push(format!(
                    "{path} as {}: {} (expected {})",
                    ["owner", "manager", "cashier"][index],
                    page.status,
                    expected[index]
                ));
            }
            if page.status == 403 {
                assert!(
                    page.text().contains("have access to this page"),
                    "a 403 says why: {}",
                    page.text()
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // State-changing forms are held to the same permissions as the pages.
    cashier.get("/receipts").await;
    let refused = cashier
        .post(
            "/products",
            &[
                ("sku", "C1"),
                ("name", "Cashier's product"),
                ("price", "1.00"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    let refused = cashier
        .post("/branches", &[("name", "Cashier branch")])
        .await;
    assert_eq!(refused.status, 403);
    manager.get("/").await;
    let refused = manager
        .post(
            "/settings",
            &[("currency", "NGN"), ("time_zone", "Africa/Lagos")],
        )
        .await;
    assert_eq!(refused.status, 403);
    server.stop().await;
}

async fn a_manager_sees_only_their_branch_and_a_cashier_only_their_own(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Scope").await;
    // Osu sells one bag (GHS 120.00), Makola three (GHS 360.00).
    let osu_sale = sell(&server, &shop, &shop.osu, 1).await;
    let makola_sale = sell(&server, &shop, &shop.makola, 3).await;
    let owner = Browser::signed_in(&server, &shop.owner).await;
    let manager = Browser::new(&server);
    manager
        .sign_in(&shop.manager.email, &shop.manager.password)
        .await;

    let owners_sales = owner.get("/sales").await.text();
    assert!(
        owners_sales.contains("480.00"),
        "the owner sees both: {owners_sales}"
    );
    for path in [
        "/",
        "/sales",
        "/receipts",
        "/inventory",
        "/sales/export/branches",
        "/sales/export/periods",
    ] {
        let page = manager.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        let text = page.text();
        assert!(
            !text.contains("Scope Makola"),
            "{path}: a manager at Osu sees Makola: {text}"
        );
        assert!(
            !text.contains("360.00") && !text.contains("480.00"),
            "{path}: Makola's figures reach an Osu manager: {text}"
        );
    }
    assert!(manager.get("/sales").await.text().contains("120.00"));
    let makola_receipt = format!("/receipts/{}", makola_sale["id"].as_str().expect("sale id"));
    assert_eq!(manager.get(&makola_receipt).await.status, 404);
    let stock_elsewhere = manager
        .get(&format!("/inventory?branch={}", shop.makola))
        .await;
    assert!(
        stock_elsewhere.status == 403 || stock_elsewhere.status == 404,
        "another branch's stock: {}",
        stock_elsewhere.status
    );
    let elsewhere = manager.get(&format!("/sales?branch={}", shop.makola)).await;
    // Refused, or the page of their own branch with the branch field marked wrong.
    assert!(
        elsewhere.status == 403
            || elsewhere.status == 404
            || elsewhere
                .body
                .contains("id=\"filter-branch\" name=\"branch\" aria-invalid=\"true\""),
        "another branch's sales: {} {}",
        elsewhere.status,
        elsewhere.text()
    );
    assert!(!elsewhere.text().contains("360.00"));
    let osu_receipt = format!("/receipts/{}", osu_sale["id"].as_str().expect("sale id"));
    assert_eq!(manager.get(&osu_receipt).await.status, 200);

    // A cashier sees only the sales they rang up (none here: the owner rang both).
    let cashier = Browser::new(&server);
    cashier
        .sign_in(&shop.cashier.email, &shop.cashier.password)
        .await;
    let receipts = cashier.get("/receipts").await;
    assert_eq!(receipts.status, 200);
    let number = osu_sale["receipt_number"].as_str().unwrap_or("no number");
    assert!(
        !receipts.text().contains(number),
        "a cashier sees another's receipt: {}",
        receipts.text()
    );
    assert_eq!(cashier.get(&osu_receipt).await.status, 404);
    server.stop().await;
}

async fn another_tenant_sees_nothing_of_this_one_in_any_page_or_export(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let victim = shop(&server, "Victim").await;
    let sale = sell(&server, &victim, &victim.osu, 2).await;
    let intruder = shop(&server, "Intruder").await;
    let browser = Browser::signed_in(&server, &intruder.owner).await;
    let mut paths: Vec<String> = MATRIX.iter().map(|(path, _)| (*path).to_owned()).collect();
    let sale_id = sale["id"].as_str().expect("id");
    paths.extend([
        format!("/receipts/{sale_id}"),
        format!("/products/{}/edit", victim.rice),
        format!("/inventory/products/{}", victim.rice),
        format!("/inventory?branch={}", victim.osu),
        format!("/sales?branch={}", victim.osu),
        format!("/receipts?branch={}", victim.osu),
        format!("/staff/{}/edit", victim.manager.id),
        "/products?q=Victim".to_owned(),
        "/inventory?q=Victim".to_owned(),
    ]);
    for path in &paths {
        let page = browser.get(path).await;
        // What only the other tenant has: its product, branches, staff and receipt.
        let number = sale["receipt_number"]
            .as_str()
            .unwrap_or("no receipt number");
        for secret in [
            "Victim Rice",
            "Victim Osu",
            "Victim Makola",
            "Victim manager",
            "victim.example",
            number,
        ] {
            assert!(
                !page.body.contains(secret),
                "{path} ({}) shows the other tenant's {secret}: {}",
                page.status,
                page.text()
            );
        }
        assert!(page.status < 500, "{path}: {}", page.status);
    }
    for path in [
        format!("/receipts/{sale_id}"),
        format!("/products/{}/edit", victim.rice),
        format!("/staff/{}/edit", victim.manager.id),
    ] {
        assert_eq!(browser.get(&path).await.status, 404, "{path}");
    }
    // Nor can it change anything of the other tenant's.
    browser.get("/products").await;
    let archive = browser
        .post(&format!("/products/{}/archive", victim.rice), &[])
        .await;
    assert_eq!(archive.status, 404);
    let void = browser
        .post(
            &format!("/receipts/{sale_id}/void"),
            &[("reason", "mine now")],
        )
        .await;
    assert_eq!(void.status, 404);
    let victim_browser = Browser::signed_in(&server, &victim.owner).await;
    let still = victim_browser.get("/products").await.text();
    assert!(still.contains("Victim Rice 5kg"), "{still}");
    server.stop().await;
}
