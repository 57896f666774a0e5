//! Signed webhook fixtures, one for each event type Nexus reads from Stripe and from Paystack
//! and for each way a delivery is forged, signed with Python's `hmac` rather than our own code
//! so that a mistake shared by our signer and our verifier cannot hide. Each is taken by the
//! provider's real collector, as the webhook route takes it, and must mean exactly what its
//! `expect` says (or be refused for the reason it names).
//!
//! Paystack's `charge.success` is not here: it is confirmed with Paystack before it means
//! anything, which the journeys in `billing.rs` drive through the fake.

use axum::http::{HeaderMap, HeaderValue};
use nexus_domain::UnixMillis;
use nexus_domain::billing::{Channel, Event, PlanCode, ProviderKind};
use nexus_server::SecretString;
use nexus_server::billing::{
    Billing, BillingSettings, PaystackSettings, SignatureError, StripeSettings, WebhookError,
};
use serde_json::Value;

fn fixtures(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/webhooks/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn expected_change(kind: ProviderKind, expect: &Value) -> Option<Event> {
    let change = expect.get("change").filter(|change| !change.is_null())?;
    let subscription_ref = change["subscription"].as_str().map(str::to_owned);
    Some(match change["type"].as_str() {
        Some("subscribed") => Event::Subscribed {
            plan: PlanCode::parse(change["plan"].as_str().expect("plan")).expect("a plan"),
            provider: kind,
            channel: Channel::Card,
            subscription_ref,
        },
        Some("payment_succeeded") => Event::PaymentSucceeded { subscription_ref },
        Some("payment_failed") => Event::PaymentFailed { subscription_ref },
        Some("cancelled") => Event::Cancelled { subscription_ref },
        other => panic!("no such change in the fixtures: {other:?}"),
    })
}

fn refusal(error: &WebhookError) -> &'static str {
    match error {
        WebhookError::Signature(SignatureError::Missing) => "missing",
        WebhookError::Signature(SignatureError::Malformed) => "malformed",
        WebhookError::Signature(SignatureError::Stale) => "stale",
        WebhookError::Signature(SignatureError::Mismatch) => "mismatch",
        WebhookError::Malformed(_) => "not an event",
        WebhookError::Unconfirmed(_) => "unconfirmed",
    }
}

async fn take_all(kind: ProviderKind, file: &str, header: &'static str) {
    let fixtures = fixtures(file);
    let secret = fixtures["secret"].as_str().expect("secret").to_owned();
    // Nothing here may call the provider: an address that refuses at once says so loudly.
    let nowhere = "http://127.0.0.1:9".to_owned();
    let settings = match kind {
        ProviderKind::Stripe => BillingSettings {
            stripe: Some(StripeSettings {
                secret_key: SecretString::new("sk_test_unused".to_owned()),
                webhook_secret: Some(SecretString::new(secret)),
                api_base: nowhere,
            }),
            ..BillingSettings::default()
        },
        ProviderKind::Paystack => BillingSettings {
            paystack: Some(PaystackSettings {
                secret_key: SecretString::new(secret),
                api_base: nowhere,
            }),
            ..BillingSettings::default()
        },
    };
    let billing = Billing::from_settings(&settings);
    let collector = billing.provider(kind).expect("configured");
    let events = fixtures["events"].as_array().expect("events");
    assert!(events.len() >= 8, "{file}: {} fixtures", events.len());
    for fixture in events {
        let name = fixture["name"].as_str().expect("name");
        let body = fixture["body"].as_str().expect("body");
        let mut headers = HeaderMap::new();
        let signature = fixture["signature"].as_str().expect("signature");
        if !signature.is_empty() {
            headers.insert(header, HeaderValue::from_str(signature).expect("header"));
        }
        // Paystack signs no time; Stripe's fixtures say when they arrived.
        let received = fixture["received_at"].as_i64().unwrap_or(1_767_312_000);
        let now = UnixMillis::from_millis(received * 1000);
        let taken = collector.take_webhook(&headers, body.as_bytes(), now).await;
        let expect = &fixture["expect"];
        if let Some(reason) = expect["refused"].as_str() {
            let error = taken
                .err()
                .unwrap_or_else(|| panic!("{file}: {name} was taken"));
            assert_eq!(refusal(&error), reason, "{file}: {name}");
            continue;
        }
        let event = taken.unwrap_or_else(|error| panic!("{file}: {name}: {error}"));
        assert_eq!(
            event.change,
            expected_change(kind, expect),
            "{file}: {name}"
        );
        assert_eq!(
            event.customer_ref.as_deref(),
            expect["customer"].as_str(),
            "{file}: {name}"
        );
        assert!(!event.event_id.is_empty(), "{file}: {name}");
        if let Some(at) = expect["occurred_at"].as_i64() {
            assert_eq!(
                event.occurred_at.map(|at| at.as_millis()),
                Some(at),
                "{file}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn stripe_fixtures_mean_what_they_say_and_forgeries_are_refused() {
    take_all(ProviderKind::Stripe, "stripe", "stripe-signature").await;
}

#[tokio::test]
async fn paystack_fixtures_mean_what_they_say_and_forgeries_are_refused() {
    take_all(ProviderKind::Paystack, "paystack", "x-paystack-signature").await;
}
