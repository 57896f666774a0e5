//! Customer accounts in the dashboard: the statement of a customer who bought on account, a
//! payment taken from the page (the form posted twice counts once), wrong amounts refused with
//! the form kept, and who owes what with a WhatsApp reminder.

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::json;

use crate::client::Browser;
use crate::shop::shop;

backend_tests!(a_payment_on_account_is_taken_once_from_the_customer_s_account_page,);

async fn a_payment_on_account_is_taken_once_from_the_customer_s_account_page(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Account").await;
    let token = shop.owner.access_token.as_str();
    let customer = server
        .post(
            "/api/v1/customers",
            token,
            json!({ "name": "Akosua Mensah", "phone": "0244000111", "credit_limit_minor": 50_000 }),
        )
        .await
        .id();
    let sold = server
        .post(
            "/api/v1/sales",
            token,
            json!({ "id": uuid::Uuid::now_v7(), "branch_id": shop.osu, "customer_id": customer,
                "lines": [{ "product_id": shop.rice, "quantity": 1 }],
                "tenders": [{ "kind": "credit", "amount_minor": 12_000 }] }),
        )
        .await;
    assert_eq!(sold.status, 201, "{}", sold.body);

    let owner = Browser::signed_in(&server, &shop.owner).await;
    let listed = owner.get("/customers").await;
    assert!(listed.text().contains("GHS 120.00"), "{}", listed.text());
    let action = format!("/customers/{customer}/payments");
    let page = owner.get(&format!("/customers/{customer}/account")).await;
    assert_eq!(page.status, 200);
    let text = page.text();
    for said in ["Sale on account", "GHS 120.00", "GHS 380.00"] {
        assert!(text.contains(said), "{said}: {text}");
    }
    let form = page.form(&action);
    assert!(
        form.iter()
            .any(|(name, value)| name == "id" && !value.is_empty()),
        "the form carries the payment's id: {form:?}"
    );
    let wrong = owner
        .submit(&action, form.clone(), &[("amount", "fifty")])
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.text().contains("such as 12.50"), "{}", wrong.text());
    let momo = owner
        .submit(
            &action,
            form.clone(),
            &[("amount", "20"), ("kind", "momo"), ("phone", "0244000111")],
        )
        .await;
    assert_eq!(momo.status, 422);
    assert!(momo.text().contains("transaction id"), "{}", momo.text());

    // Posted, then posted again (a double tap, a resent form): one payment.
    let paid = owner
        .submit(&action, form.clone(), &[("amount", "50.00")])
        .await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    let shown = owner.follow(paid).await;
    assert!(
        shown.text().contains("GHS 50.00 recorded"),
        "{}",
        shown.text()
    );
    assert!(shown.text().contains("Payment (cash)"), "{}", shown.text());
    let again = owner
        .submit(&action, form.clone(), &[("amount", "50.00")])
        .await;
    assert_eq!(again.status, 303, "{}", again.body);
    let account = server
        .get(&format!("/api/v1/customers/{customer}/account"), token)
        .await;
    assert_eq!(account.body["balance_minor"], 7_000, "{}", account.body);
    assert_eq!(
        account.body["statement"].as_array().map(Vec::len),
        Some(2),
        "{}",
        account.body
    );

    let debtors = owner.get("/customers/debtors").await;
    assert_eq!(debtors.status, 200);
    assert!(
        debtors.text().contains("Akosua Mensah"),
        "{}",
        debtors.text()
    );
    assert!(
        debtors.body.contains("https://wa.me/233244000111?text="),
        "{}",
        debtors.body
    );
    // A cashier sees the account and may take a payment too; another tenant sees nothing.
    let cashier = Browser::new(&server);
    cashier
        .sign_in(&shop.cashier.email, &shop.cashier.password)
        .await;
    let theirs = cashier.get(&format!("/customers/{customer}/account")).await;
    assert_eq!(theirs.status, 200);
    let other = shop_elsewhere(&server).await;
    let stranger = Browser::signed_in(&server, &other).await;
    let hidden = stranger
        .get(&format!("/customers/{customer}/account"))
        .await;
    assert_eq!(hidden.status, 404);
    server.stop().await;
}

async fn shop_elsewhere(server: &TestServer) -> nexus_testkit::Owner {
    server.register("Elsewhere Traders").await
}
