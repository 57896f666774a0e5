//! Forms send a wrong value back with its message and keep what was typed; no malformed query
//! string or form makes any page answer 500.

use nexus_testkit::{Backend, TestServer, backend_tests};

use crate::client::Browser;
use crate::roles_matrix_paths;
use crate::shop::{sell, shop};

backend_tests!(
    a_wrong_value_comes_back_on_the_form_with_its_message,
    no_malformed_query_or_form_makes_a_page_fail,
);

async fn a_wrong_value_comes_back_on_the_form_with_its_message(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Forms").await;
    let browser = Browser::signed_in(&server, &shop.owner).await;
    browser.get("/products/new").await;
    let refused = browser
        .post(
            "/products",
            &[
                ("sku", "SOAP-1"),
                ("name", "Key Soap"),
                ("price", "twelve cedis"),
                ("tax_class", "standard"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert_eq!(refused.input_value("name").as_deref(), Some("Key Soap"));
    assert_eq!(
        refused.input_value("price").as_deref(),
        Some("twelve cedis")
    );
    assert!(
        refused.body.contains("aria-invalid=\"true\""),
        "the field is marked"
    );
    let text = refused.text();
    assert!(text.to_lowercase().contains("price"), "{text}");

    // A SKU that exists already: the store's refusal, said on the form.
    let duplicate = browser
        .post(
            "/products",
            &[
                ("sku", "Forms-RICE"),
                ("name", "Another rice"),
                ("price", "1.00"),
                ("tax_class", "standard"),
            ],
        )
        .await;
    assert!(
        duplicate.status == 409 || duplicate.status == 422,
        "{} {}",
        duplicate.status,
        duplicate.text()
    );
    assert_eq!(
        duplicate.input_value("name").as_deref(),
        Some("Another rice")
    );

    // Receiving goods: a quantity that is not a number.
    browser
        .get(&format!("/inventory/receive?branch={}", shop.osu))
        .await;
    let bad_quantity = browser
        .post(
            "/inventory/receive",
            &[
                ("branch", &shop.osu),
                ("product_0", "Forms-RICE"),
                ("quantity_0", "lots"),
                ("reference", "INV-1"),
            ],
        )
        .await;
    assert_eq!(bad_quantity.status, 422, "{}", bad_quantity.text());
    assert_eq!(
        bad_quantity.input_value("quantity_0").as_deref(),
        Some("lots")
    );
    assert_eq!(
        bad_quantity.input_value("reference").as_deref(),
        Some("INV-1")
    );

    // A cashier with PINs that do not match.
    browser.get("/setup/cashier").await;
    let pins = browser
        .post(
            "/setup/cashier",
            &[
                ("name", "Yaw"),
                ("email", ""),
                ("branch", &shop.osu),
                ("pin", "1234"),
                ("pin_again", "4321"),
            ],
        )
        .await;
    assert_eq!(pins.status, 422, "{}", pins.text());
    assert_eq!(pins.input_value("name").as_deref(), Some("Yaw"));
    server.stop().await;
}

const HOSTILE_QUERIES: &[&str] = &[
    "?from=2026-13-45&to=yesterday&period=century",
    "?branch=not-a-uuid&cashier=%00&tender=bitcoin",
    "?before=%ZZ%ZZ&min=1e99&max=-&number=%FF%FE",
    "?q=%00%01%02&page=-1&file=..%2F..%2Fetc%2Fpasswd",
    "?branch=&branch=00000000-0000-0000-0000-000000000000&period=day&period=week",
    "?%%%%=%%%%&&&==",
    "?from=99999-01-01&to=0000-00-00&min=99999999999999999999999",
    "?tender=momo:nope&before=2026-01-01T00:00:00Z&min=-5",
];

async fn no_malformed_query_or_form_makes_a_page_fail(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Hostile").await;
    let sale = sell(&server, &shop, &shop.osu, 1).await;
    let browser = Browser::signed_in(&server, &shop.owner).await;
    let long = "x".repeat(20_000);
    let mut paths = roles_matrix_paths();
    let sale_id = sale["id"].as_str().expect("id").to_owned();
    paths.extend([
        format!("/receipts/{sale_id}"),
        format!("/products/{}/edit", shop.rice),
        format!("/inventory/products/{}", shop.rice),
        format!("/staff/{}/edit", shop.manager.id),
        "/receipts/not-a-uuid".to_owned(),
        "/products/%00/edit".to_owned(),
        "/sales/export/%FF".to_owned(),
        "/products/import/not-a-job".to_owned(),
    ]);
    let mut failures = Vec::new();
    for path in &paths {
        if path == "/sign-out" {
            continue;
        }
        let long_query = format!("?q={long}&from={long}");
        for query in HOSTILE_QUERIES.iter().copied().chain([long_query.as_str()]) {
            let page = browser.get(&format!("{path}{query}")).await;
            if page.status >= 500 {
                failures.push(format!(
                    "GET {path}{} -> {}",
                    &query[..query.len().min(60)],
                    page.status
                ));
            }
        }
    }

    // Every form, posted with the right token and nonsense in every field.
    browser.get("/").await;
    let posts = [
        "/products".to_owned(),
        format!("/products/{}", shop.rice),
        "/inventory/receive".to_owned(),
        "/inventory/adjust".to_owned(),
        "/inventory/count".to_owned(),
        "/inventory/transfer".to_owned(),
        "/staff".to_owned(),
        format!("/staff/{}", shop.manager.id),
        "/branches".to_owned(),
        format!("/branches/{}", shop.makola),
        "/tills".to_owned(),
        "/settings".to_owned(),
        format!("/receipts/{sale_id}/refund"),
        format!("/receipts/{sale_id}/void"),
        "/setup/shop".to_owned(),
        "/setup/branch".to_owned(),
        "/setup/products".to_owned(),
        "/setup/cashier".to_owned(),
        "/setup/till".to_owned(),
    ];
    let nonsense: Vec<(&str, &str)> = [
        "name",
        "sku",
        "price",
        "barcode",
        "reorder_level",
        "tax_class",
        "branch",
        "branches",
        "product",
        "product_0",
        "quantity",
        "quantity_0",
        "counted_0",
        "reason",
        "from",
        "to",
        "role",
        "pin",
        "pin_again",
        "password",
        "email",
        "currency",
        "time_zone",
        "price_mode",
        "tax_enabled",
        "levy_code_0",
        "levy_rate_0",
        "trading_name",
        "tin",
        "phone",
        "address",
        "receipt_footer",
        "line_0",
        "lines",
    ]
    .into_iter()
    .map(|field| (field, "\u{0}<>%ZZ-99999999999999999999"))
    .collect();
    for path in &posts {
        let page = browser.post(path, &nonsense).await;
        if page.status >= 500 {
            failures.push(format!("POST {path} (nonsense) -> {}", page.status));
        }
        let empty = browser.post(path, &[]).await;
        if empty.status >= 500 {
            failures.push(format!("POST {path} (empty) -> {}", empty.status));
        }
        // Not a form at all.
        let request = reqwest::Client::new()
            .post(format!("{}{path}", server.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-csrf-token", browser.csrf())
            .header(
                "cookie",
                format!(
                    "nexus_session={}",
                    browser.cookie("nexus_session").unwrap_or_default()
                ),
            )
            .body(vec![0xff, 0xfe, b'=', 0x00, b'&', b'%']);
        let status = request.send().await.expect("send").status().as_u16();
        if status >= 500 {
            failures.push(format!("POST {path} (bytes) -> {status}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // And the shop is as it was: the nonsense changed nothing it should not have.
    let products = browser.get("/products").await.text();
    assert!(products.contains("Hostile Rice 5kg"), "{products}");
    server.stop().await;
}
