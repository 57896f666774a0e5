//! Billing against the in-repo fake provider: trial, subscribing with Stripe and with Paystack
//! (card and mobile money), usage reported once a month whatever is retried, a failed payment,
//! grace, restriction (the till keeps syncing), payment, recovery, cancellation; and the
//! webhooks nobody can fool.

use std::time::Duration;

use nexus_domain::Clock as _;
use nexus_fake_provider::{Delivery, FakeConfig, FakeProvider};
use nexus_testkit::{Backend, TestServer, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

use crate::sync::{batch, push, sale_op, till};

backend_tests!(
    a_stripe_subscription_from_trial_to_cancellation,
    paystack_takes_mobile_money_by_pay_link_and_cards_by_subscription,
    a_paystack_card_pays_usage_above_the_allowance_by_invoice_and_changes_plan_without_paying_twice,
    mobile_money_is_invoiced_each_month_and_an_unpaid_renewal_restricts_until_paid,
    webhooks_that_cannot_be_fooled,
    with_no_provider_billing_is_off_and_nothing_is_limited
);

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

async fn billed_server(backend: &Backend) -> (TestServer, FakeProvider) {
    TestServer::start_billed(backend).await
}

async fn usage(server: &TestServer, token: &str) -> Value {
    let answer = server.get("/api/v1/billing/usage", token).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

fn all_taken(deliveries: &[nexus_fake_provider::Delivered]) {
    assert!(!deliveries.is_empty());
    for delivered in deliveries {
        assert_eq!(
            delivered.status, 200,
            "{} answered {}",
            delivered.kind, delivered.body
        );
    }
}

async fn checkout(server: &TestServer, token: &str, body: Value) -> nexus_testkit::Answer {
    server.post("/api/v1/billing/checkout", token, body).await
}

async fn add_till(server: &TestServer, token: &str, branch: &str) -> nexus_testkit::Answer {
    server
        .post(
            "/api/v1/stations",
            token,
            json!({ "branch_id": branch, "name": format!("Till {}", uuid::Uuid::now_v7()) }),
        )
        .await
}

async fn a_stripe_subscription_from_trial_to_cancellation(backend: &Backend) {
    let (server, fake) = billed_server(backend).await;
    let till = till(&server).await;
    let token = till.owner.access_token.as_str();

    let plans = server.get("/api/v1/billing/plans", "").await;
    assert_eq!(plans.status, 200);
    assert_eq!(plans.body[0]["code"], "free");

    let trial = usage(&server, token).await;
    assert_eq!(
        (trial["status"].as_str(), trial["plan"].as_str()),
        (Some("trialing"), Some("shop"))
    );
    assert_eq!(trial["tills"], 1);

    let started = checkout(
        &server,
        token,
        json!({ "plan": "shop", "provider": "stripe" }),
    )
    .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let sessions = fake.checkout_sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(started.body["url"], sessions[0]["url"]);
    let session = sessions[0]["id"].as_str().expect("session id").to_owned();
    // Delivered twice and last-first: the outcome is the same.
    fake.set_delivery(Delivery {
        duplicate: true,
        reverse_order: true,
        ..Delivery::default()
    });
    all_taken(&fake.complete_checkout(&session).await.expect("checkout"));
    fake.set_delivery(Delivery::default());
    let active = usage(&server, token).await;
    assert_eq!(
        (active["status"].as_str(), active["provider"].as_str()),
        (Some("active"), Some("stripe"))
    );
    let subscription = held(&server, &till.owner.tenant_id)
        .await
        .subscription_ref
        .expect("the subscription is held");
    assert!(subscription.starts_with("sub_"), "{subscription}");

    // Another plan moves the same subscription (prorated by Stripe); the same plan again, or
    // another provider while the card subscription runs, is refused: it would bill twice.
    let moved = checkout(
        &server,
        token,
        json!({ "plan": "business", "provider": "stripe" }),
    )
    .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(
        (
            moved.body["plan_changed"].as_bool(),
            moved.body["url"].is_null()
        ),
        (Some(true), true)
    );
    assert_eq!(fake.checkout_sessions().len(), 1, "no second checkout");
    assert_eq!(usage(&server, token).await["plan"], "business");
    assert_eq!(
        held(&server, &till.owner.tenant_id).await.subscription_ref,
        Some(subscription.clone()),
        "the same subscription"
    );
    for (plan, provider) in [("business", "stripe"), ("shop", "paystack")] {
        let refused = checkout(
            &server,
            token,
            json!({ "plan": plan, "provider": provider }),
        )
        .await;
        assert_eq!(
            (refused.status, refused.error_code()),
            (409, "already_subscribed"),
            "{plan} with {provider}: {:?}",
            refused.body
        );
    }
    let back = checkout(
        &server,
        token,
        json!({ "plan": "shop", "provider": "stripe" }),
    )
    .await;
    assert_eq!(back.body["plan_changed"], true, "{:?}", back.body);
    assert_eq!(usage(&server, token).await["plan"], "shop");

    // January: the Shop plan's 3,000 sales and 101 more.
    sell(&server, &till, 1, 3_101).await;
    let january = usage(&server, token).await;
    assert_eq!(january["sales"], 3_101);
    assert_eq!(january["charge"]["hundreds_over"], 2, "{january}");

    // February: January's usage is reported once, whatever is retried.
    server.clock.advance(31 * DAY);
    let fresh = signed_in_again(&server, &till.owner).await;
    let token = fresh.as_str();
    fake.fail_next_api_calls(1);
    usage(&server, token).await;
    assert_eq!(fake.meter_events().len(), 0, "the provider was down");
    usage(&server, token).await;
    usage(&server, token).await;
    let events = fake.meter_events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0].value, 2,
        "the meter is sent Nexus's count, started hundreds above the allowance, so Stripe's \
         invoice is the usage page's figure"
    );
    assert!(
        events[0].identifier.ends_with("-sales-2026-01"),
        "{}",
        events[0].identifier
    );
    assert_eq!(
        fake.meter_event_posts(),
        2,
        "one failed post, one that went through, no more"
    );

    // The renewal fails: past due, with 14 days of grace.
    all_taken(
        &fake
            .stripe_renewal(&subscription, false)
            .await
            .expect("renewal"),
    );
    let past_due = usage(&server, token).await;
    assert_eq!(past_due["status"], "past_due");
    assert!(past_due["grace_ends_at"].is_i64());
    assert_eq!(
        add_till(&server, token, &till.branch).await.status,
        201,
        "grace keeps everything"
    );

    // Grace runs out: restricted. Nothing can be added; the till keeps selling and syncing.
    server.clock.advance(15 * DAY);
    let fresh = signed_in_again(&server, &till.owner).await;
    let token = fresh.as_str();
    let restricted = usage(&server, token).await;
    assert_eq!(
        (
            restricted["status"].as_str(),
            restricted["read_only"].as_bool()
        ),
        (Some("restricted"), Some(true))
    );
    let refused = add_till(&server, token, &till.branch).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (402, "plan_limit"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["error"]["field"], "restricted");
    let refused = server
        .post("/api/v1/branches", token, json!({ "name": "Kejetia" }))
        .await;
    assert_eq!(refused.status, 402);
    // The API only reads, as the dashboard does, but trading carries on.
    let refused = server
        .patch(
            &format!("/api/v1/products/{}", till.rice),
            token,
            json!({ "price_minor": 1 }),
        )
        .await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (402, "read_only"),
        "{:?}",
        refused.body
    );
    let product = server
        .get(&format!("/api/v1/products/{}", till.rice), token)
        .await;
    assert_eq!(product.body["price_minor"], 1200, "nothing changed");
    let online = server
        .post(
            "/api/v1/sales",
            token,
            json!({
                "id": uuid::Uuid::now_v7(), "branch_id": till.branch,
                "lines": [{ "product_id": till.rice, "quantity": 1, "unit_price_minor": 1200 }],
                "tenders": [{ "kind": "cash", "amount_minor": 1200 }]
            }),
        )
        .await;
    assert_eq!(online.status, 201, "selling never stops: {:?}", online.body);
    let (status, answer) = push(
        &server,
        &till,
        batch(vec![sale_op(&till, 3_102, &till.cashier)]),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][0]["status"], "applied", "{answer}");

    // Paid: back to active.
    all_taken(
        &fake
            .stripe_renewal(&subscription, true)
            .await
            .expect("renewal"),
    );
    assert_eq!(usage(&server, token).await["status"], "active");
    assert_eq!(add_till(&server, token, &till.branch).await.status, 201);

    // Cancelled: the Free plan's limits, and the tills already there keep working.
    all_taken(&fake.stripe_cancel(&subscription).await.expect("cancel"));
    let cancelled = usage(&server, token).await;
    assert_eq!(
        (cancelled["status"].as_str(), cancelled["plan"].as_str()),
        (Some("cancelled"), Some("free"))
    );
    let refused = add_till(&server, token, &till.branch).await;
    assert_eq!(refused.status, 402);
    assert_eq!(refused.body["error"]["field"], "tills");
    let (status, _) = push(
        &server,
        &till,
        batch(vec![sale_op(&till, 3_103, &till.cashier)]),
    )
    .await;
    assert_eq!(status, 200);
    fake.stop().await;
    server.stop().await;
}

/// A month on, the owner's access token has long expired: they sign in again.
async fn signed_in_again(server: &TestServer, owner: &nexus_testkit::Owner) -> String {
    let answer = server.login(&owner.email, &owner.password).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// The provider's references the server holds for the organisation.
async fn held(server: &TestServer, tenant: &str) -> nexus_domain::billing::Account {
    server.billing_account(tenant).await
}

async fn paystack_takes_mobile_money_by_pay_link_and_cards_by_subscription(backend: &Backend) {
    let (server, fake) = billed_server(backend).await;
    // Mobile money: a pay link, confirmed with Paystack before it counts.
    let momo = server.register("Momo Shop").await;
    let token = momo.access_token.as_str();
    let started = checkout(
        &server,
        token,
        json!({ "plan": "shop", "provider": "paystack", "channel": "mobile_money" }),
    )
    .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let invoices = server.get("/api/v1/billing/invoices", token).await;
    assert_eq!(invoices.list_len(), 1);
    let reference = invoices.body[0]["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    assert_eq!(invoices.body[0]["status"], "open");
    assert_eq!(invoices.body[0]["amount_minor"], 15000);
    assert_eq!(invoices.body[0]["pay_url"], started.body["url"]);
    all_taken(&fake.paystack_pay(&reference, true).await.expect("pay"));
    let paid = usage(&server, token).await;
    assert_eq!(
        (
            paid["status"].as_str(),
            paid["provider"].as_str(),
            paid["channel"].as_str()
        ),
        (Some("active"), Some("paystack"), Some("mobile_money"))
    );
    let invoices = server.get("/api/v1/billing/invoices", token).await;
    assert_eq!(invoices.body[0]["status"], "paid");
    assert!(
        held(&server, &momo.tenant_id)
            .await
            .subscription_ref
            .is_none()
    );

    // A card: the payment names the plan, and Paystack's subscription follows.
    let card = server.register("Card Shop").await;
    let token = card.access_token.as_str();
    let started = checkout(
        &server,
        token,
        json!({ "plan": "business", "provider": "paystack", "channel": "card" }),
    )
    .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let reference = server.get("/api/v1/billing/invoices", token).await.body[0]["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    // A declined payment sends nothing and changes nothing.
    fake.paystack_pay(&reference, false).await.expect("decline");
    assert_eq!(usage(&server, token).await["status"], "trialing");
    let started = checkout(
        &server,
        token,
        json!({ "plan": "business", "provider": "paystack", "channel": "card" }),
    )
    .await;
    assert_eq!(started.status, 200);
    let reference = server.get("/api/v1/billing/invoices", token).await.body[0]["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    all_taken(&fake.paystack_pay(&reference, true).await.expect("pay"));
    let account = held(&server, &card.tenant_id).await;
    let code = account.subscription_ref.expect("a Paystack subscription");
    assert!(code.starts_with("SUB_"), "{code}");
    assert_eq!(usage(&server, token).await["plan"], "business");
    all_taken(&fake.paystack_renewal_failed(&code).await.expect("renewal"));
    assert_eq!(usage(&server, token).await["status"], "past_due");
    all_taken(&fake.paystack_disable(&code).await.expect("disable"));
    let cancelled = usage(&server, token).await;
    assert_eq!(
        (cancelled["status"].as_str(), cancelled["plan"].as_str()),
        (Some("cancelled"), Some("free"))
    );
    // The mobile-money shop is untouched by the other's events.
    assert_eq!(
        usage(&server, momo.access_token.as_str()).await["status"],
        "active"
    );
    fake.stop().await;
    server.stop().await;
}

/// Pushes `count` one-line sales from the till, 500 (the most a push takes) at a time.
async fn sell(server: &TestServer, till: &crate::sync::Till, first_seq: u64, count: u64) {
    let mut seq = first_seq;
    let end = first_seq + count;
    while seq < end {
        let upto = (seq + 500).min(end);
        let ops = (seq..upto)
            .map(|seq| sale_op(till, seq, &till.cashier))
            .collect();
        let (status, answer) = push(server, till, batch(ops)).await;
        assert_eq!(status, 200, "{answer}");
        seq = upto;
    }
}

/// Waits until the fake has delivered so many webhooks of each kind, and Nexus took them all.
async fn delivered(fake: &FakeProvider, kinds: &[(&str, usize)]) {
    for _ in 0..500 {
        let deliveries = fake.deliveries();
        let count = |kind: &str| deliveries.iter().filter(|sent| sent.kind == kind).count();
        if kinds.iter().all(|(kind, wanted)| count(kind) >= *wanted) {
            all_taken(&deliveries);
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the fake never delivered {kinds:?}");
}

async fn a_paystack_card_pays_usage_above_the_allowance_by_invoice_and_changes_plan_without_paying_twice(
    backend: &Backend,
) {
    let (server, fake) = billed_server(backend).await;
    let till = till(&server).await;
    let token = till.owner.access_token.as_str();
    let started = checkout(
        &server,
        token,
        json!({ "plan": "shop", "provider": "paystack", "channel": "card" }),
    )
    .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let first = server.get("/api/v1/billing/invoices", token).await.body[0]["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    all_taken(&fake.paystack_pay(&first, true).await.expect("pay"));
    let subscription = held(&server, &till.owner.tenant_id)
        .await
        .subscription_ref
        .expect("a Paystack subscription");

    // January: one sale more than the Shop plan's 3,000.
    sell(&server, &till, 1, 3_001).await;
    assert_eq!(usage(&server, token).await["sales"], 3_001);

    // February: Paystack has no meter, so Nexus invoices the hundred above the allowance. The
    // provider is down when the invoice is opened: it waits for its pay link, which a later
    // settling makes under a reference of its own.
    server.clock.advance(31 * DAY);
    let fresh = signed_in_again(&server, &till.owner).await;
    let token = fresh.as_str();
    fake.fail_next_api_calls(1);
    usage(&server, token).await;
    let invoices = server.get("/api/v1/billing/invoices", token).await;
    assert_eq!(invoices.list_len(), 2, "{:?}", invoices.body);
    let bill = &invoices.body[0];
    let reference = bill["reference"].as_str().expect("reference").to_owned();
    assert!(reference.ends_with("2026-01-usage"), "{reference}");
    assert_eq!(
        (
            bill["plan_minor"].as_i64(),
            bill["over_minor"].as_i64(),
            bill["amount_minor"].as_i64(),
            bill["status"].as_str()
        ),
        (Some(0), Some(500), Some(500), Some("open")),
        "one started hundred at GHS 5.00 on Shop: {bill}"
    );
    assert!(bill["pay_url"].is_null(), "the provider was down: {bill}");
    usage(&server, token).await;
    assert!(
        server.get("/api/v1/billing/invoices", token).await.body[0]["pay_url"].is_null(),
        "the process that opened it may still be asking"
    );
    server.clock.advance(Duration::from_secs(2 * 60));
    usage(&server, token).await;
    usage(&server, token).await;
    let invoices = server.get("/api/v1/billing/invoices", token).await;
    assert_eq!(invoices.list_len(), 2, "settling again opens nothing more");
    let pay_url = invoices.body[0]["pay_url"]
        .as_str()
        .expect("a pay link now");
    let asked: Vec<Value> = fake
        .transactions()
        .into_iter()
        .filter(|transaction| transaction["metadata"]["invoice"] == reference.as_str())
        .collect();
    assert_eq!(asked.len(), 1, "one transaction for the invoice: {asked:?}");
    let transaction = asked[0]["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    assert_ne!(transaction, reference);
    assert!(pay_url.ends_with(&transaction), "{pay_url}");
    assert_eq!(asked[0]["amount"], 500);
    assert!(
        asked[0]["metadata"]["plan"].is_null(),
        "paying usage subscribes to nothing: {}",
        asked[0]
    );
    assert_eq!(
        usage(&server, token).await["status"],
        "active",
        "not due yet"
    );

    // Unpaid past its due date: past due, as a declined renewal would make it.
    server.clock.advance(8 * DAY);
    let fresh = signed_in_again(&server, &till.owner).await;
    let token = fresh.as_str();
    assert_eq!(usage(&server, token).await["status"], "past_due");
    all_taken(&fake.paystack_pay(&transaction, true).await.expect("pay"));
    let paid = usage(&server, token).await;
    assert_eq!(
        (paid["status"].as_str(), paid["plan"].as_str()),
        (Some("active"), Some("shop"))
    );
    let invoices = server.get("/api/v1/billing/invoices", token).await;
    assert_eq!(invoices.body[0]["status"], "paid");
    assert_eq!(
        held(&server, &till.owner.tenant_id).await.subscription_ref,
        Some(subscription.clone()),
        "paying the invoice leaves the subscription as it was"
    );

    // Another plan: the subscription is moved, not doubled. Paystack cannot move one, so the
    // old one stops and a new one on the same card first charges when the old would renew.
    let same = checkout(
        &server,
        token,
        json!({ "plan": "shop", "provider": "paystack", "channel": "card" }),
    )
    .await;
    assert_eq!(same.status, 409, "{:?}", same.body);
    let moved = checkout(
        &server,
        token,
        json!({ "plan": "business", "provider": "paystack", "channel": "card" }),
    )
    .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["plan_changed"], true, "{:?}", moved.body);
    delivered(
        &fake,
        &[("subscription.disable", 1), ("subscription.create", 2)],
    )
    .await;
    let subscriptions = fake.paystack_subscriptions();
    let old = subscriptions
        .iter()
        .find(|held| held["subscription_code"] == subscription.as_str())
        .expect("the old subscription");
    let new: Vec<&Value> = subscriptions
        .iter()
        .filter(|held| held["status"] == "active")
        .collect();
    assert_eq!(old["status"], "cancelled");
    assert_eq!(new.len(), 1, "one running subscription: {subscriptions:?}");
    assert_eq!(new[0]["plan"]["plan_code"], "nexus_business_ghs");
    assert_eq!(
        new[0]["next_payment_date"], old["next_payment_date"],
        "the month paid for is not charged again"
    );
    assert_eq!(
        new[0]["authorization"]["authorization_code"],
        old["authorization"]["authorization_code"]
    );
    let account = held(&server, &till.owner.tenant_id).await;
    assert_eq!(
        account.subscription_ref.as_deref(),
        new[0]["subscription_code"].as_str()
    );
    let switched = usage(&server, token).await;
    assert_eq!(
        (switched["status"].as_str(), switched["plan"].as_str()),
        (Some("active"), Some("business")),
        "the old subscription's end does not cancel the new one: {switched}"
    );
    fake.stop().await;
    server.stop().await;
}

/// The organisation's invoices once the one for `period` is there: the service opens it by
/// itself, with nobody reading the usage or opening the Billing page.
async fn invoices_once_renewed(server: &TestServer, token: &str, period: &str) -> Value {
    for _ in 0..500 {
        let invoices = server.get("/api/v1/billing/invoices", token).await;
        assert_eq!(invoices.status, 200, "{:?}", invoices.body);
        // Opened first, then given its pay link: both, before anyone is shown it.
        let renewed = invoices.body.as_array().is_some_and(|all| {
            all.iter().any(|invoice| {
                invoice["period"] == period
                    && invoice["status"] == "open"
                    && invoice["pay_url"].is_string()
            })
        });
        if renewed {
            return invoices.body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no invoice for {period} was opened by the service's own settling");
}

async fn mobile_money_is_invoiced_each_month_and_an_unpaid_renewal_restricts_until_paid(
    backend: &Backend,
) {
    let (server, fake) = TestServer::start_billed_with(backend, |settings| {
        settings.billing.settle_every = Duration::from_millis(25);
    })
    .await;
    let till = till(&server).await;
    let token = till.owner.access_token.as_str();
    let started = checkout(
        &server,
        token,
        json!({ "plan": "shop", "provider": "paystack", "channel": "mobile_money" }),
    )
    .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let first = server.get("/api/v1/billing/invoices", token).await.body[0]["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    all_taken(&fake.paystack_pay(&first, true).await.expect("pay"));
    let january = usage(&server, token).await;
    assert_eq!(january["status"], "active");
    let (status, _) = push(
        &server,
        &till,
        batch(vec![sale_op(&till, 1, &till.cashier)]),
    )
    .await;
    assert_eq!(status, 200);

    // February: the month opens with Nexus's invoice and a Paystack pay link for mobile money.
    server.clock.advance(31 * DAY);
    let fresh = signed_in_again(&server, &till.owner).await;
    let token = fresh.as_str();
    let february = nexus_domain::billing::BillingPeriod::containing(server.clock.now()).key();
    let invoices = invoices_once_renewed(&server, token, &february).await;
    let invoices = invoices.as_array().expect("invoices");
    assert_eq!(invoices.len(), 2, "January's and February's: {invoices:?}");
    let renewal = &invoices[0];
    let reference = renewal["reference"].as_str().expect("reference").to_owned();
    assert!(
        reference.ends_with(&format!("{february}-renewal")),
        "{reference}"
    );
    assert_eq!(
        (
            renewal["amount_minor"].as_i64(),
            renewal["over_minor"].as_i64()
        ),
        (Some(15000), Some(0)),
        "the Shop plan in GHS; one sale in January is well inside the allowance"
    );
    let pay_url = renewal["pay_url"].as_str().expect("a pay link");
    assert!(pay_url.starts_with(&fake.paystack_api_base()), "{pay_url}");
    let asked = fake.transactions();
    let asked = asked
        .iter()
        .find(|transaction| transaction["reference"] == reference.as_str())
        .expect("Paystack was asked for the payment");
    assert_eq!(asked["channel"], "mobile_money", "{asked}");
    assert_eq!(asked["amount"], 15000, "{asked}");
    assert_eq!(
        asked["customer"]["email"],
        till.owner.email.as_str(),
        "{asked}"
    );
    // Settling again, as every read and every process does, opens no second invoice.
    usage(&server, token).await;
    usage(&server, token).await;
    assert_eq!(
        server
            .get("/api/v1/billing/invoices", token)
            .await
            .list_len(),
        2
    );
    assert_eq!(
        usage(&server, token).await["status"],
        "active",
        "not due yet"
    );

    // A week on, unpaid: past due from the due date, with the same grace as a card.
    server.clock.advance(8 * DAY);
    let fresh = signed_in_again(&server, &till.owner).await;
    let token = fresh.as_str();
    let past_due = usage(&server, token).await;
    assert_eq!(past_due["status"], "past_due", "{past_due}");
    assert_eq!(
        past_due["grace_ends_at"].as_i64(),
        renewal["due_at"]
            .as_i64()
            .map(|due| due + 14 * 24 * 60 * 60 * 1000)
    );
    server.clock.advance(15 * DAY);
    let fresh = signed_in_again(&server, &till.owner).await;
    let token = fresh.as_str();
    assert_eq!(usage(&server, token).await["status"], "restricted");
    assert_eq!(add_till(&server, token, &till.branch).await.status, 402);
    let (status, answer) = push(
        &server,
        &till,
        batch(vec![sale_op(&till, 2, &till.cashier)]),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["results"][0]["status"], "applied",
        "the till never stops"
    );

    // Paid from the link: active again, and the old failure stays in the past.
    all_taken(&fake.paystack_pay(&reference, true).await.expect("pay"));
    assert_eq!(usage(&server, token).await["status"], "active");
    assert_eq!(usage(&server, token).await["status"], "active");
    let invoices = server.get("/api/v1/billing/invoices", token).await;
    assert_eq!(invoices.body[0]["status"], "paid");
    assert_eq!(add_till(&server, token, &till.branch).await.status, 201);
    fake.stop().await;
    server.stop().await;
}

async fn post_webhook(
    server: &TestServer,
    provider: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/billing/webhooks/{provider}",
            server.base_url
        ))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("webhook");
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn webhooks_that_cannot_be_fooled(backend: &Backend) {
    let (server, fake) = billed_server(backend).await;
    let owner = server.register("Guarded Shop").await;
    let token = owner.access_token.as_str();
    let started = checkout(
        &server,
        token,
        json!({ "plan": "shop", "provider": "stripe" }),
    )
    .await;
    assert_eq!(started.status, 200);
    let session = fake.checkout_sessions()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    all_taken(&fake.complete_checkout(&session).await.expect("checkout"));
    let account = held(&server, &owner.tenant_id).await;
    let customer = account.customer_ref.clone().expect("customer");
    let subscription = account.subscription_ref.clone().expect("subscription");
    let now = server.clock.now().as_seconds();

    let cancel = fake.stripe_event(
        "customer.subscription.deleted",
        json!({ "id": subscription, "object": "subscription", "customer": customer, "status": "canceled" }),
    );
    let body = serde_json::to_vec(&cancel).expect("json");
    // No signature, a wrong one, one over another body, an old one: all refused, nothing changed.
    let wrong_key = {
        let other = FakeProvider::start(FakeConfig {
            stripe_webhook_secret: "whsec_other".to_owned(),
            ..FakeConfig::test()
        })
        .await
        .expect("another fake");
        let header = other.sign_stripe(&body, now);
        other.stop().await;
        header
    };
    let cases = [
        vec![],
        vec![("stripe-signature", wrong_key)],
        vec![("stripe-signature", fake.sign_stripe(b"{}", now))],
        vec![("stripe-signature", fake.sign_stripe(&body, now - 301))],
        vec![("stripe-signature", "t=abc,v1=zz".to_owned())],
    ];
    for headers in cases {
        let (status, answer) = post_webhook(&server, "stripe", &headers, &body).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some("bad_signature")),
            "{headers:?}"
        );
    }
    assert_eq!(usage(&server, token).await["status"], "active");

    // Signed but not an event: 400, nothing changed.
    let junk = b"{\"not\": \"an event\"";
    let (status, _) = post_webhook(
        &server,
        "stripe",
        &[("stripe-signature", fake.sign_stripe(junk, now))],
        junk,
    )
    .await;
    assert_eq!(status, 400);

    // An update older than the state held arrives late: taken, changes nothing.
    let mut stale = fake.stripe_event(
        "customer.subscription.updated",
        json!({ "id": subscription, "object": "subscription", "customer": customer, "status": "past_due" }),
    );
    stale["created"] = json!(now - 3600);
    let delivered = fake.send_stripe(&stale).await.expect("send");
    assert_eq!(delivered.status, 200);
    assert!(delivered.body.contains("older"), "{}", delivered.body);
    assert_eq!(usage(&server, token).await["status"], "active");

    // Another subscription's cancellation changes nothing; an unknown customer's neither.
    let other = fake.stripe_event(
        "customer.subscription.deleted",
        json!({ "id": "sub_someone_else", "object": "subscription", "customer": customer, "status": "canceled" }),
    );
    assert!(
        fake.send_stripe(&other)
            .await
            .expect("send")
            .body
            .contains("other_subscription")
    );
    let stranger = fake.stripe_event(
        "customer.subscription.deleted",
        json!({ "id": "sub_x", "object": "subscription", "customer": "cus_nobody", "status": "canceled" }),
    );
    let delivered = fake.send_stripe(&stranger).await.expect("send");
    assert_eq!(delivered.status, 200);
    assert!(
        delivered.body.contains("unknown_customer"),
        "{}",
        delivered.body
    );
    assert_eq!(usage(&server, token).await["status"], "active");

    // The real cancellation, then the same event replayed: taken once.
    let first = fake.send_stripe(&cancel).await.expect("send");
    assert!(first.body.contains("applied"), "{}", first.body);
    let replay = fake.send_stripe(&cancel).await.expect("send");
    assert!(replay.body.contains("duplicate"), "{}", replay.body);
    assert_eq!(usage(&server, token).await["status"], "cancelled");

    // Paystack: a bad signature is refused; a charge claimed paid that Paystack says is not
    // changes nothing.
    let claim = json!({ "event": "charge.success", "data": { "id": 99, "reference": "nx-claimed", "status": "success",
        "customer": { "customer_code": "CUS_x" } } });
    let body = serde_json::to_vec(&claim).expect("json");
    let (status, _) = post_webhook(
        &server,
        "paystack",
        &[("x-paystack-signature", "00".repeat(64))],
        &body,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post_webhook(&server, "paystack", &[], &body).await;
    assert_eq!(status, 400);
    let momo = server.register("Claimed Shop").await;
    let started = checkout(
        &server,
        momo.access_token.as_str(),
        json!({ "plan": "shop", "provider": "paystack", "channel": "mobile_money" }),
    )
    .await;
    assert_eq!(started.status, 200);
    let reference = server
        .get("/api/v1/billing/invoices", momo.access_token.as_str())
        .await
        .body[0]["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let claim = json!({ "event": "charge.success", "data": { "id": 7, "reference": reference, "status": "success",
        "customer": { "customer_code": "CUS_x" }, "metadata": { "plan": "business" } } });
    let delivered = fake.send_paystack(&claim).await.expect("send");
    assert_eq!(delivered.status, 200, "{}", delivered.body);
    assert_eq!(
        usage(&server, momo.access_token.as_str()).await["status"],
        "trialing"
    );
    assert_eq!(
        server
            .get("/api/v1/billing/invoices", momo.access_token.as_str())
            .await
            .body[0]["status"],
        "open"
    );
    fake.stop().await;
    server.stop().await;
}

async fn with_no_provider_billing_is_off_and_nothing_is_limited(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Self-hosted Shop").await;
    let token = owner.access_token.as_str();
    let off = usage(&server, token).await;
    assert_eq!(off["enabled"], false);
    let branch = server.create_branch(token, "Makola").await;
    for _ in 0..6 {
        assert_eq!(add_till(&server, token, &branch).await.status, 201);
    }
    let (status, _) = post_webhook(&server, "stripe", &[], b"{}").await;
    assert_eq!(status, 404);
    let checkout = server
        .call(
            Method::POST,
            "/api/v1/billing/checkout",
            Some(token),
            Some(json!({ "plan": "shop", "provider": "stripe" })),
        )
        .await;
    assert_eq!(checkout.status, 409);
    server.stop().await;
}
