//! The mobile-money page: a network's first statement asks for its layout, shows the first
//! rows, and once saved checks the statement; a manager sees it, a cashier does not. The owner
//! saves the shop's MTN MoMo account there, and its keys are never shown again.

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::json;

use crate::client::Browser;
use crate::shop::shop;

backend_tests!(
    a_first_statement_is_confirmed_then_checks_the_sales,
    the_owner_saves_the_mtn_account_and_its_keys_never_come_back
);

const STATEMENT: &str = "Transaction ID,Date,From,Amount,Status\n\
    MP100,2026-01-01 00:01:00,233244123456,GHS 120.00,Successful\n";

async fn a_first_statement_is_confirmed_then_checks_the_sales(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Momo").await;
    let sale = server
        .post(
            "/api/v1/sales",
            &shop.owner.access_token,
            json!({ "id": uuid::Uuid::now_v7(), "branch_id": shop.osu,
                    "lines": [{ "product_id": shop.rice, "quantity": 1 }],
                    "tenders": [{ "kind": "momo", "amount_minor": 12_000, "network": "mtn",
                                  "phone": "0244123456", "reference": "MP100" }] }),
        )
        .await;
    assert_eq!(sale.status, 201, "{:?}", sale.body);
    assert_eq!(sale.body["tenders"][0]["verified"], false);

    let owner = Browser::signed_in(&server, &shop.owner).await;
    let page = owner.get("/mobile-money").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("Upload a statement"),
        "{}",
        page.text()
    );
    let missing = owner
        .post_file_with(
            "/mobile-money/statements",
            &[],
            "file",
            "s.csv",
            STATEMENT.as_bytes(),
        )
        .await;
    assert_eq!(missing.status, 422, "no network: {}", missing.text());

    let layout = owner
        .post_file_with(
            "/mobile-money/statements",
            &[("network", "mtn")],
            "file",
            "statement.csv",
            STATEMENT.as_bytes(),
        )
        .await;
    assert_eq!(layout.status, 200, "{}", layout.text());
    let text = layout.text();
    assert!(text.contains("MTN MoMo statement layout"), "{text}");
    assert!(text.contains("MP100"), "the first rows, as read: {text}");
    assert!(
        layout
            .body
            .contains(r#"<option value="Transaction ID" selected>"#),
        "the guess is chosen already: {}",
        layout.body
    );
    assert!(
        layout.body.contains(r#"<option value="Status" selected>"#),
        "failed attempts are left out by the guessed status column: {}",
        layout.body
    );

    let checked = owner
        .follow(
            owner
                .post(
                    "/mobile-money/layout",
                    &[
                        ("network", "mtn"),
                        ("statement", STATEMENT),
                        ("transaction_id", "Transaction ID"),
                        ("time", "Date"),
                        ("time_format", "YYYY-MM-DD HH:mm:ss"),
                        ("amount", "Amount"),
                        ("payer", "From"),
                        ("status", "Status"),
                    ],
                )
                .await,
        )
        .await;
    assert_eq!(checked.status, 200, "{}", checked.text());

    let text = checked.text();
    assert!(
        text.contains(
            "MTN MoMo statement checked: 1 payments listed, 1 sales matched, 0 to look into."
        ),
        "{text}"
    );
    assert!(text.contains("Nothing to look into"), "{text}");
    let sale_id = sale.body["id"].as_str().expect("id");
    let read = server
        .get(
            &format!("/api/v1/sales/{sale_id}"),
            &shop.owner.access_token,
        )
        .await;
    assert_eq!(read.body["tenders"][0]["verified"], true);

    let again = owner
        .follow(
            owner
                .post_file_with(
                    "/mobile-money/statements",
                    &[("network", "mtn")],
                    "file",
                    "statement.csv",
                    STATEMENT.as_bytes(),
                )
                .await,
        )
        .await;
    assert!(
        again.text().contains("This statement was uploaded before"),
        "{}",
        again.text()
    );

    let manager = Browser::new(&server);
    manager
        .sign_in(&shop.manager.email, &shop.manager.password)
        .await;
    assert_eq!(manager.get("/mobile-money").await.status, 200);
    let cashier = Browser::new(&server);
    cashier
        .sign_in(&shop.cashier.email, &shop.cashier.password)
        .await;
    assert_eq!(cashier.get("/mobile-money").await.status, 403);
    server.stop().await;
}

async fn the_owner_saves_the_mtn_account_and_its_keys_never_come_back(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "MomoAcct").await;
    let owner = Browser::signed_in(&server, &shop.owner).await;
    let page = owner.get("/mobile-money").await;
    assert!(
        page.text().contains("Nothing is saved yet"),
        "{}",
        page.text()
    );

    let missing = owner
        .post(
            "/mobile-money/account",
            &[
                ("api_user", "user-1"),
                ("api_key", ""),
                ("subscription_key", "sub-key-5521"),
                ("target_environment", "sandbox"),
            ],
        )
        .await;
    assert_eq!(missing.status, 422, "{}", missing.text());
    assert!(
        missing.body.contains(r#"id="momo-api-key-error""#),
        "the error is on the key's field: {}",
        missing.body
    );

    let fields = [
        ("api_user", "user-1"),
        ("api_key", "secret-key-7731"),
        ("subscription_key", "sub-key-5521"),
        ("target_environment", "sandbox"),
        ("currency_code", "eur"),
    ];
    let saved = owner
        .follow(owner.post("/mobile-money/account", &fields).await)
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert!(
        saved.text().contains("MTN MoMo account saved"),
        "{}",
        saved.text()
    );
    for secret in ["secret-key-7731", "sub-key-5521"] {
        assert!(
            !saved.body.contains(secret),
            "{secret} shown back: {}",
            saved.body
        );
    }
    let accounts = server
        .get("/api/v1/momo/accounts", &shop.owner.access_token)
        .await;
    assert_eq!(
        accounts.body[0]["currency_code"], "EUR",
        "{:?}",
        accounts.body
    );
    assert_eq!(accounts.body[0]["api_key_set"], true);

    // A manager reconciles, but the account is the owner's to change.
    let manager = Browser::new(&server);
    manager
        .sign_in(&shop.manager.email, &shop.manager.password)
        .await;
    let page = manager.get("/mobile-money").await;
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("Save the account"), "{}", page.text());
    assert_eq!(
        manager.post("/mobile-money/account", &fields).await.status,
        403
    );
    server.stop().await;
}
