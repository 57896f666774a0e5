//! Stripe: customers, Checkout Sessions for the subscription, the Customer Portal, Billing
//! Meter events and the webhooks. Form-encoded requests with Stripe's bracket keys; every POST
//! carries an `Idempotency-Key`, so a retried request acts once.

use async_trait::async_trait;
use axum::http::HeaderMap;
use nexus_domain::billing::{BillingCurrency, Channel, Event, PlanCode, ProviderKind};
use nexus_domain::{TenantId, UnixMillis};
use nexus_store::UsageReport;
use serde_json::Value;

use super::{
    Collector, PaymentStart, ProviderError, ProviderEvent, Purpose, SALES_METER, StripeSettings,
    WebhookError, plan_of_price, signature, stripe_price_key, stripe_sales_price_key,
};

pub(super) struct Stripe {
    client: reqwest::Client,
    settings: StripeSettings,
}

const KIND: ProviderKind = ProviderKind::Stripe;

impl Stripe {
    pub(super) fn new(client: reqwest::Client, settings: StripeSettings) -> Self {
        Self { client, settings }
    }

    async fn post(
        &self,
        path: &str,
        idempotency_key: &str,
        form: &[(&str, String)],
    ) -> Result<Result<Value, Value>, ProviderError> {
        let url = format!("{}{path}", self.settings.api_base.trim_end_matches('/'));
        let response = self
            .client
            .post(&url)
            .bearer_auth(self.settings.secret_key.expose())
            .header("Idempotency-Key", idempotency_key)
            .form(form)
            .send()
            .await
            .map_err(|error| ProviderError::new(KIND, format!("POST {path}: {error}")))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|error| ProviderError::new(KIND, format!("POST {path}: {error}")))?;
        if status.is_success() {
            Ok(Ok(body))
        } else if status.is_client_error() && status.as_u16() != 401 && status.as_u16() != 429 {
            Ok(Err(body))
        } else {
            Err(ProviderError::new(
                KIND,
                format!("POST {path} answered {status}: {}", error_message(&body)),
            ))
        }
    }

    async fn get(&self, path: &str) -> Result<Value, ProviderError> {
        let url = format!("{}{path}", self.settings.api_base.trim_end_matches('/'));
        let failed = |error: String| ProviderError::new(KIND, format!("GET {path}: {error}"));
        let response = self
            .client
            .get(&url)
            .bearer_auth(self.settings.secret_key.expose())
            .send()
            .await
            .map_err(|error| failed(error.to_string()))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|error| failed(error.to_string()))?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(failed(format!("{status}: {}", error_message(&body))))
        }
    }

    async fn created(
        &self,
        path: &str,
        key: &str,
        form: &[(&str, String)],
        field: &str,
    ) -> Result<String, ProviderError> {
        match self.post(path, key, form).await? {
            Ok(body) => text(&body, field)
                .ok_or_else(|| ProviderError::new(KIND, format!("POST {path}: no {field}"))),
            Err(body) => Err(ProviderError::new(
                KIND,
                format!("POST {path} refused: {}", error_message(&body)),
            )),
        }
    }
}

fn text(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn error_message(body: &Value) -> String {
    body.pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_owned()
}

#[async_trait]
impl Collector for Stripe {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    async fn create_customer(
        &self,
        tenant: TenantId,
        email: &str,
        name: &str,
    ) -> Result<String, ProviderError> {
        let form = [
            ("email", email.to_owned()),
            ("name", name.to_owned()),
            ("metadata[tenant_id]", tenant.as_uuid().to_string()),
        ];
        self.created(
            "/v1/customers",
            &format!("customer-{}", tenant.as_uuid().simple()),
            &form,
            "id",
        )
        .await
    }

    async fn start_payment(&self, start: &PaymentStart<'_>) -> Result<String, ProviderError> {
        if start.purpose != Purpose::Plan {
            return Err(ProviderError::new(
                KIND,
                "Stripe bills usage from its meter, not by a payment of its own",
            ));
        }
        let tenant = start.tenant.as_uuid().to_string();
        let mut form = vec![
            ("mode", "subscription".to_owned()),
            ("customer", start.customer.to_owned()),
            ("client_reference_id", tenant.clone()),
            ("success_url", start.return_url.to_owned()),
            ("cancel_url", start.return_url.to_owned()),
            (
                "line_items[0][price]",
                stripe_price_key(start.plan, start.currency),
            ),
            ("line_items[0][quantity]", "1".to_owned()),
            ("metadata[tenant_id]", tenant.clone()),
            ("metadata[plan]", start.plan.as_str().to_owned()),
            ("subscription_data[metadata][tenant_id]", tenant),
            (
                "subscription_data[metadata][plan]",
                start.plan.as_str().to_owned(),
            ),
        ];
        if nexus_domain::billing::plan(start.plan)
            .over_in(start.currency)
            .is_some()
        {
            // Metered: no quantity; Stripe bills what the meter holds at the period's end.
            form.push((
                "line_items[1][price]",
                stripe_sales_price_key(start.plan, start.currency),
            ));
        }
        self.created(
            "/v1/checkout/sessions",
            &format!("checkout-{}", start.reference),
            &form,
            "url",
        )
        .await
    }

    async fn change_plan(
        &self,
        subscription: &str,
        plan: PlanCode,
        currency: BillingCurrency,
    ) -> Result<bool, ProviderError> {
        let path = format!("/v1/subscriptions/{subscription}");
        let held = self.get(&path).await?;
        let items = held
            .pointer("/items/data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut owned: Vec<(String, String)> = vec![
            (
                "proration_behavior".to_owned(),
                "create_prorations".to_owned(),
            ),
            ("metadata[plan]".to_owned(), plan.as_str().to_owned()),
        ];
        for (index, item) in items.iter().enumerate() {
            let (Some(id), Some(price)) = (
                item.get("id").and_then(Value::as_str),
                item.pointer("/price/id").and_then(Value::as_str),
            ) else {
                continue;
            };
            // Each line moves to the new plan's price of the same kind: the month, the sales.
            let new_price = if price.ends_with("_sales") {
                stripe_sales_price_key(plan, currency)
            } else {
                stripe_price_key(plan, currency)
            };
            owned.push((format!("items[{index}][id]"), id.to_owned()));
            owned.push((format!("items[{index}][price]"), new_price));
        }
        let form: Vec<(&str, String)> = owned
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect();
        let key = format!("plan-{subscription}-{}", uuid::Uuid::now_v7().simple());
        match self.post(&path, &key, &form).await? {
            Ok(_) => Ok(true),
            Err(body) => Err(ProviderError::new(
                KIND,
                format!("changing the plan refused: {}", error_message(&body)),
            )),
        }
    }

    async fn manage_url(
        &self,
        customer: &str,
        return_url: &str,
    ) -> Result<Option<String>, ProviderError> {
        let form = [
            ("customer", customer.to_owned()),
            ("return_url", return_url.to_owned()),
        ];
        let key = format!("portal-{customer}-{}", uuid::Uuid::now_v7().simple());
        self.created("/v1/billing_portal/sessions", &key, &form, "url")
            .await
            .map(Some)
    }

    fn meters_usage(&self) -> bool {
        true
    }

    async fn report_usage(
        &self,
        customer: &str,
        report: &UsageReport,
    ) -> Result<(), ProviderError> {
        let form = [
            ("event_name", SALES_METER.to_owned()),
            ("payload[stripe_customer_id]", customer.to_owned()),
            ("payload[value]", report.value.to_string()),
            ("identifier", report.identifier.clone()),
            (
                "timestamp",
                report
                    .period
                    .end()
                    .plus_millis(-1000)
                    .as_seconds()
                    .to_string(),
            ),
        ];
        match self
            .post("/v1/billing/meter_events", &report.identifier, &form)
            .await?
        {
            Ok(_) => Ok(()),
            // Stripe already holds an event of this identifier: this report was sent before
            // (the answer was lost, or another process sent it) and must not count twice.
            Err(body)
                if body.pointer("/error/code").and_then(Value::as_str)
                    == Some("resource_already_exists") =>
            {
                Ok(())
            }
            Err(body) => Err(ProviderError::new(
                KIND,
                format!("meter event refused: {}", error_message(&body)),
            )),
        }
    }

    async fn take_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: UnixMillis,
    ) -> Result<ProviderEvent, WebhookError> {
        let secret = self
            .settings
            .webhook_secret
            .as_ref()
            .ok_or(WebhookError::Signature(signature::SignatureError::Missing))?;
        let header = headers
            .get("stripe-signature")
            .and_then(|value| value.to_str().ok());
        signature::verify_stripe(header, body, secret.expose(), now.as_seconds())?;
        let event: Value = serde_json::from_slice(body)
            .map_err(|error| WebhookError::Malformed(error.to_string()))?;
        read_event(&event)
    }
}

/// What a Stripe event means for the account.
fn read_event(event: &Value) -> Result<ProviderEvent, WebhookError> {
    let malformed = |what: &str| WebhookError::Malformed(format!("no {what}"));
    let event_id = text(event, "id").ok_or_else(|| malformed("id"))?;
    let kind = text(event, "type").ok_or_else(|| malformed("type"))?;
    let created = event
        .get("created")
        .and_then(Value::as_i64)
        .ok_or_else(|| malformed("created"))?;
    let object = event
        .pointer("/data/object")
        .ok_or_else(|| malformed("data.object"))?;
    let customer = text(object, "customer");
    // The subscription's own price names its plan (the Customer Portal changes the price and
    // leaves the metadata); the metadata is for objects that carry no price.
    let plan = || {
        object
            .pointer("/items/data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| item.pointer("/price/id").and_then(Value::as_str))
            .find_map(plan_of_price)
            .or_else(|| {
                object
                    .pointer("/metadata/plan")
                    .and_then(Value::as_str)
                    .and_then(PlanCode::parse)
            })
    };
    // API versions from 2025 name an invoice's subscription under `parent`; older ones at the top.
    let subscription_of_invoice = text(object, "subscription").or_else(|| {
        object
            .pointer("/parent/subscription_details/subscription")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let change = match kind.as_str() {
        "checkout.session.completed" => plan().map(|plan| Event::Subscribed {
            plan,
            provider: KIND,
            channel: Channel::Card,
            subscription_ref: text(object, "subscription"),
        }),
        "customer.subscription.created" | "customer.subscription.updated" => {
            let subscription = text(object, "id");
            match object.get("status").and_then(Value::as_str) {
                Some("active" | "trialing") => plan().map(|plan| Event::Subscribed {
                    plan,
                    provider: KIND,
                    channel: Channel::Card,
                    subscription_ref: subscription,
                }),
                Some("past_due" | "unpaid") => Some(Event::PaymentFailed {
                    subscription_ref: subscription,
                }),
                Some("canceled" | "incomplete_expired") => Some(Event::Cancelled {
                    subscription_ref: subscription,
                }),
                _ => None,
            }
        }
        "customer.subscription.deleted" => Some(Event::Cancelled {
            subscription_ref: text(object, "id"),
        }),
        "invoice.paid" => Some(Event::PaymentSucceeded {
            subscription_ref: subscription_of_invoice,
        }),
        "invoice.payment_failed" => Some(Event::PaymentFailed {
            subscription_ref: subscription_of_invoice,
        }),
        _ => None,
    };
    Ok(ProviderEvent {
        event_id,
        kind,
        occurred_at: Some(UnixMillis::from_millis(created.saturating_mul(1000))),
        customer_ref: customer,
        change,
        paid_reference: None,
    })
}
