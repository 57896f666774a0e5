//! The owner's billing pages against the fake providers: the trial, paying by card with
//! Stripe and by mobile money with Paystack, the grace banner, the read-only dashboard of a
//! restricted organisation (exports still open, paying still works), and recovery.

use std::time::Duration;

use nexus_testkit::{Backend, TestServer, backend_tests};

use crate::client::{Browser, Page};
use crate::shop::shop;

backend_tests!(
    the_owner_pays_from_the_billing_page_and_a_late_payment_makes_the_dashboard_read_only,
    with_billing_off_the_page_says_so_and_nothing_is_limited,
);

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Where the page sends the browser on by itself, read from its refresh.
/// A pay button pressed on the Billing page.
async fn pay(owner: &Browser, plan: &str, provider: &str, channel: &str) -> Page {
    owner
        .post(
            "/billing/checkout",
            &[("plan", plan), ("provider", provider), ("channel", channel)],
        )
        .await
}

fn goes_on_to(page: &Page) -> String {
    let marker = "http-equiv=\"refresh\" content=\"0;url=";
    let at = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("the page goes nowhere: {}", page.text()))
        + marker.len();
    let end = at + page.body[at..].find('"').expect("the refresh ends");
    page.body[at..end].replace("&amp;", "&")
}

async fn the_owner_pays_from_the_billing_page_and_a_late_payment_makes_the_dashboard_read_only(
    backend: &Backend,
) {
    let (server, fake) = TestServer::start_billed(backend).await;
    let shop = shop(&server, "Billed").await;
    let owner = Browser::signed_in(&server, &shop.owner).await;

    let page = owner.get("/billing").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let text = page.text();
    assert!(text.contains("Free trial of the Shop plan until"), "{text}");
    assert!(text.contains("Branches open"), "{text}");
    for choice in [
        "value=\"stripe\"",
        "value=\"paystack\"",
        "value=\"mobile_money\"",
    ] {
        assert!(page.body.contains(choice), "a way to pay: {choice}");
    }
    let nav = owner.get("/").await;
    assert!(
        nav.body.contains("href=\"/billing\""),
        "the owner's menu has Billing"
    );

    // Card, with Stripe: the page hands over to the provider's checkout.
    let going = pay(&owner, "shop", "stripe", "card").await;
    assert_eq!(going.status, 200, "{}", going.text());
    let sessions = fake.checkout_sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        goes_on_to(&going),
        sessions[0]["url"].as_str().expect("url")
    );
    assert!(going.text().contains("Continue to Stripe"));
    let session = sessions[0]["id"].as_str().expect("session").to_owned();
    fake.complete_checkout(&session).await.expect("checkout");
    let paid = owner.get("/billing").await.text();
    assert!(
        paid.contains("Shop plan, paid by card through Stripe."),
        "{paid}"
    );
    assert!(paid.contains("Change card or cancel"), "{paid}");
    let portal = owner.post("/billing/manage", &[]).await;
    assert_eq!(portal.status, 200, "{}", portal.text());
    assert!(
        goes_on_to(&portal).contains("/stripe/portal/"),
        "{}",
        portal.body
    );

    // Another plan moves the running subscription rather than starting a second one.
    assert!(
        paid.contains("Switch to Business: Stripe charges the difference"),
        "{paid}"
    );
    assert!(
        !paid.contains("Pay for Business: card, with Stripe"),
        "a second subscription would bill twice: {paid}"
    );
    let sessions_before = fake.checkout_sessions().len();
    let switched = pay(&owner, "business", "stripe", "card").await;
    assert_eq!(switched.status, 303, "{}", switched.text());
    let switched = owner.follow(switched).await.text();
    assert!(
        switched.contains("You are on the Business plan now; Stripe charges the difference"),
        "{switched}"
    );
    assert!(
        switched.contains("Business plan, paid by card through Stripe."),
        "{switched}"
    );
    assert_eq!(fake.checkout_sessions().len(), sessions_before);

    // The renewal fails: every page carries the banner; only the owner's says where to pay.
    let subscription = server
        .billing_account(&shop.owner.tenant_id)
        .await
        .subscription_ref
        .expect("the subscription is held");
    fake.stripe_renewal(&subscription, false)
        .await
        .expect("renewal");
    let overview = owner.get("/products").await;
    let banner = overview.text();
    assert!(
        banner.contains("The last Nexus payment did not go through. Pay by"),
        "{banner}"
    );
    assert!(overview.body.contains("<a href=\"/billing\">Pay now</a>"));
    let manager = Browser::new(&server);
    manager
        .sign_in(&shop.manager.email, &shop.manager.password)
        .await;
    let seen = manager.get("/products").await;
    assert!(
        seen.text().contains("The owner needs to pay by"),
        "{}",
        seen.text()
    );
    assert!(!seen.body.contains("Pay now"));
    assert_eq!(manager.get("/billing").await.status, 403);

    // Fifteen days on: restricted. Pages and exports open; changes are refused with 402.
    server.clock.advance(15 * DAY);
    let owner = Browser::signed_in(&server, &shop.owner).await;
    let branches = owner.get("/branches").await;
    assert_eq!(branches.status, 200);
    assert!(
        branches.text().contains("the dashboard is read-only"),
        "{}",
        branches.text()
    );
    let rename = format!("/branches/{}", shop.osu);
    let refused = owner.post(&rename, &[("name", "Osu Central")]).await;
    assert_eq!(refused.status, 402, "{}", refused.text());
    assert!(
        refused
            .text()
            .contains("The dashboard is read-only until the overdue payment is made"),
        "{}",
        refused.text()
    );
    let export = owner.get("/products/export").await;
    assert_eq!(export.status, 200, "exports still work");
    let listed = server
        .get("/api/v1/branches", &shop.owner.access_token)
        .await;
    assert!(
        !listed.body.to_string().contains("Osu Central"),
        "nothing was changed"
    );

    // Paying another way while the card subscription runs is refused (it would bill twice),
    // and the page says why; the card paid at last reopens the dashboard.
    let elsewhere = pay(&owner, "shop", "paystack", "mobile_money").await;
    assert_eq!(elsewhere.status, 422, "{}", elsewhere.text());
    assert!(
        elsewhere.text().contains("cancel that subscription first"),
        "{}",
        elsewhere.text()
    );
    fake.stripe_renewal(&subscription, true)
        .await
        .expect("renewal");
    let reopened = owner.get("/branches").await;
    assert!(
        !reopened.text().contains("read-only"),
        "{}",
        reopened.text()
    );
    let renamed = owner.post(&rename, &[("name", "Osu Central")]).await;
    assert_eq!(renamed.status, 303, "{}", renamed.text());

    // Cancelled, then paid by mobile money with Paystack: an invoice with its pay link.
    fake.stripe_cancel(&subscription).await.expect("cancel");
    let going = pay(&owner, "shop", "paystack", "mobile_money").await;
    assert_eq!(going.status, 200, "{}", going.text());
    let pay_link = goes_on_to(&going);
    assert!(pay_link.contains("/paystack/pay/"), "{pay_link}");
    let invoices = owner.get("/billing").await;
    assert!(invoices.text().contains("Open"), "{}", invoices.text());
    assert!(
        invoices.body.contains(&format!("href=\"{pay_link}\"")),
        "the invoice links to its payment"
    );
    let reference = pay_link.rsplit('/').next().expect("reference").to_owned();
    fake.paystack_pay(&reference, true).await.expect("payment");
    let paid = owner.get("/billing").await.text();
    assert!(paid.contains("Paid on"), "{paid}");
    assert!(
        paid.contains("Shop plan, paid by mobile money through Paystack."),
        "{paid}"
    );

    fake.stop().await;
    server.stop().await;
}

async fn with_billing_off_the_page_says_so_and_nothing_is_limited(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Unbilled").await;
    let owner = Browser::signed_in(&server, &shop.owner).await;
    let page = owner.get("/billing").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("Billing is off on this server"),
        "{}",
        page.text()
    );
    assert!(!page.body.contains("/billing/checkout"), "nothing to pay");
    let overview = owner.get("/").await;
    assert!(
        !overview.body.contains("href=\"/billing\""),
        "no Billing in the menu"
    );
    server.stop().await;
}
