//! Paystack: customers, `transaction/initialize` pay links (a card payment that names a plan
//! starts a subscription; mobile money, which Paystack cannot charge again unasked, is paid by
//! a link each month, as is a card month's usage above the allowance, Paystack having no
//! meters), moving a card subscription to another plan, and the webhooks. A webhook's word that money arrived is never taken
//! alone: the payment is looked up with `GET /transaction/verify/{reference}` first.

use async_trait::async_trait;
use axum::http::HeaderMap;
use nexus_domain::billing::{BillingCurrency, Channel, Event, PlanCode, ProviderKind};
use nexus_domain::calendar::day_of_date;
use nexus_domain::{TenantId, UnixMillis};
use nexus_store::UsageReport;
use serde_json::{Value, json};

use super::{
    Collector, PaymentStart, PaystackSettings, ProviderError, ProviderEvent, Purpose, WebhookError,
    plan_of_price, signature, stripe_price_key,
};

pub(super) struct Paystack {
    client: reqwest::Client,
    settings: PaystackSettings,
}

const KIND: ProviderKind = ProviderKind::Paystack;

impl Paystack {
    pub(super) fn new(client: reqwest::Client, settings: PaystackSettings) -> Self {
        Self { client, settings }
    }

    /// A subscription as Paystack holds it.
    async fn subscription(&self, code: &str) -> Result<Value, ProviderError> {
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ProviderError::new(KIND, "a malformed subscription code"));
        }
        self.call(
            self.client.get(self.url(&format!("/subscription/{code}"))),
            "reading the subscription",
        )
        .await
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<Value, ProviderError> {
        let response = request
            .bearer_auth(self.settings.secret_key.expose())
            .send()
            .await
            .map_err(|error| ProviderError::new(KIND, format!("{what}: {error}")))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|error| ProviderError::new(KIND, format!("{what}: {error}")))?;
        if status.is_success() && body.get("status").and_then(Value::as_bool) == Some(true) {
            Ok(body.get("data").cloned().unwrap_or(Value::Null))
        } else {
            Err(ProviderError::new(
                KIND,
                format!(
                    "{what} answered {status}: {}",
                    body.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("no message")
                ),
            ))
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.api_base.trim_end_matches('/'))
    }

    /// The transaction as Paystack holds it.
    async fn verify(&self, reference: &str) -> Result<Value, ProviderError> {
        // A reference is ours (letters, digits, dashes); anything else cannot be one of ours.
        if reference.is_empty()
            || !reference
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ProviderError::new(
                KIND,
                "a malformed transaction reference",
            ));
        }
        self.call(
            self.client
                .get(self.url(&format!("/transaction/verify/{reference}"))),
            "verifying a transaction",
        )
        .await
    }
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `2026-01-01T10:00:00.000Z` (UTC, as Paystack writes times) to milliseconds.
fn parse_time(text: &str) -> Option<UnixMillis> {
    let (date, time) = text.trim().trim_end_matches('Z').split_once('T')?;
    let mut date = date.splitn(3, '-');
    let year: i32 = date.next()?.parse().ok()?;
    let month: u32 = date.next()?.parse().ok()?;
    let day: u32 = date.next()?.parse().ok()?;
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut clock = clock.splitn(3, ':');
    let hours: i64 = clock.next()?.parse().ok()?;
    let minutes: i64 = clock.next()?.parse().ok()?;
    let seconds: i64 = clock.next().unwrap_or("0").parse().ok()?;
    let millis: i64 = format!("{fraction:0<3}").get(..3)?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hours > 23 || minutes > 59 {
        return None;
    }
    let days = i64::from(day_of_date(year, month, day));
    Some(UnixMillis::from_millis(
        ((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000 + millis,
    ))
}

#[async_trait]
impl Collector for Paystack {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    async fn create_customer(
        &self,
        tenant: TenantId,
        email: &str,
        name: &str,
    ) -> Result<String, ProviderError> {
        let body = json!({
            "email": email,
            "first_name": name,
            "metadata": {"tenant_id": tenant.as_uuid().to_string()},
        });
        let data = self
            .call(
                self.client.post(self.url("/customer")).json(&body),
                "creating a customer",
            )
            .await?;
        text(&data, "/customer_code")
            .ok_or_else(|| ProviderError::new(KIND, "the new customer has no customer_code"))
    }

    async fn start_payment(&self, start: &PaymentStart<'_>) -> Result<String, ProviderError> {
        let mut body = json!({
            "email": start.email,
            "amount": start.amount_minor,
            "currency": start.currency.code(),
            "reference": start.transaction,
            "callback_url": start.return_url,
            "channels": [start.channel.as_str()],
            "metadata": {
                "tenant_id": start.tenant.as_uuid().to_string(),
                "invoice": start.reference,
            },
        });
        match start.purpose {
            // A payment naming the plan in its metadata subscribes the organisation to it when
            // its webhook comes; a usage payment only pays its invoice.
            Purpose::Plan => {
                body["metadata"]["plan"] = json!(start.plan.as_str());
                if start.channel == Channel::Card {
                    // A card payment naming a plan becomes a subscription Paystack renews.
                    body["plan"] = json!(stripe_price_key(start.plan, start.currency));
                }
            }
            Purpose::Usage => {
                // Whatever the subscription is paid by, the owner may pay this either way.
                body["channels"] = json!([Channel::Card.as_str(), Channel::MobileMoney.as_str()]);
            }
        }
        let data = self
            .call(
                self.client
                    .post(self.url("/transaction/initialize"))
                    .json(&body),
                "starting a payment",
            )
            .await?;
        text(&data, "/authorization_url")
            .ok_or_else(|| ProviderError::new(KIND, "the payment has no authorization_url"))
    }

    async fn manage_url(
        &self,
        _customer: &str,
        _return_url: &str,
    ) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }

    /// Paystack has no call that moves a subscription to another plan, so the running one is
    /// stopped and a new one made on the same saved card, first charged when the old one
    /// would have renewed: the month paid for is not paid twice. Stopped first, so that a
    /// failure between the two leaves no subscription rather than two.
    async fn change_plan(
        &self,
        subscription: &str,
        plan: PlanCode,
        currency: BillingCurrency,
    ) -> Result<bool, ProviderError> {
        let held = self.subscription(subscription).await?;
        let (Some(token), Some(card), Some(customer)) = (
            text(&held, "/email_token"),
            text(&held, "/authorization/authorization_code"),
            text(&held, "/customer/customer_code"),
        ) else {
            return Err(ProviderError::new(
                KIND,
                "the subscription has no email token, saved card or customer",
            ));
        };
        let renews = text(&held, "/next_payment_date");
        self.call(
            self.client
                .post(self.url("/subscription/disable"))
                .json(&json!({"code": subscription, "token": token})),
            "stopping the subscription",
        )
        .await?;
        let mut body = json!({
            "customer": customer,
            "plan": stripe_price_key(plan, currency),
            "authorization": card,
        });
        if let Some(renews) = renews {
            body["start_date"] = json!(renews);
        }
        self.call(
            self.client.post(self.url("/subscription")).json(&body),
            "starting the subscription to the new plan",
        )
        .await
        .map_err(|error| ProviderError {
            detail: format!("{} (the old subscription is stopped)", error.detail),
            ..error
        })?;
        Ok(true)
    }

    fn meters_usage(&self) -> bool {
        false
    }

    async fn report_usage(
        &self,
        _customer: &str,
        _report: &UsageReport,
    ) -> Result<(), ProviderError> {
        // Paystack has no meters: usage above the allowance goes on Nexus's own invoice.
        Ok(())
    }

    async fn take_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        _now: UnixMillis,
    ) -> Result<ProviderEvent, WebhookError> {
        let header = headers
            .get("x-paystack-signature")
            .and_then(|value| value.to_str().ok());
        signature::verify_paystack(header, body, self.settings.secret_key.expose())?;
        let event: Value = serde_json::from_slice(body)
            .map_err(|error| WebhookError::Malformed(error.to_string()))?;
        let kind =
            text(&event, "/event").ok_or_else(|| WebhookError::Malformed("no event".to_owned()))?;
        let data = event
            .get("data")
            .ok_or_else(|| WebhookError::Malformed("no data".to_owned()))?;
        // Paystack sends no event id: the kind, its object and that object's state make one.
        let object = data
            .get("id")
            .map(Value::to_string)
            .or_else(|| text(data, "/reference"))
            .ok_or_else(|| WebhookError::Malformed("no data.id".to_owned()))?;
        let state = text(data, "/status").unwrap_or_default();
        let mut taken = ProviderEvent {
            event_id: format!("{kind}:{object}:{state}"),
            kind: kind.clone(),
            occurred_at: None,
            customer_ref: text(data, "/customer/customer_code"),
            change: None,
            paid_reference: None,
        };
        let subscription = text(data, "/subscription_code")
            .or_else(|| text(data, "/subscription/subscription_code"));
        match kind.as_str() {
            "charge.success" => {
                let reference = text(data, "/reference")
                    .ok_or_else(|| WebhookError::Malformed("no data.reference".to_owned()))?;
                let verified = self.verify(&reference).await?;
                if text(&verified, "/status").as_deref() != Some("success") {
                    // Claimed paid, not paid: nothing changes.
                    return Ok(taken);
                }
                taken.customer_ref = text(&verified, "/customer/customer_code");
                taken.occurred_at = text(&verified, "/paid_at").as_deref().and_then(parse_time);
                let channel = text(&verified, "/channel")
                    .as_deref()
                    .and_then(Channel::parse)
                    .unwrap_or(Channel::Card);
                taken.change = text(&verified, "/metadata/plan")
                    .as_deref()
                    .and_then(PlanCode::parse)
                    .map(|plan| Event::Subscribed {
                        plan,
                        provider: KIND,
                        channel,
                        subscription_ref: None,
                    })
                    .or(Some(Event::PaymentSucceeded {
                        subscription_ref: None,
                    }));
                // Our invoice, which a pay link made again after a failure names in its
                // metadata under a reference of its own.
                taken.paid_reference = text(&verified, "/metadata/invoice").or(Some(reference));
            }
            "subscription.create" => {
                taken.occurred_at = text(data, "/createdAt").as_deref().and_then(parse_time);
                // The plan is named by its Paystack code, `nexus_{plan}_{currency}`.
                let plan = text(data, "/plan/plan_code")
                    .as_deref()
                    .and_then(plan_of_price);
                taken.change = plan.map(|plan| Event::Subscribed {
                    plan,
                    provider: KIND,
                    channel: Channel::Card,
                    subscription_ref: subscription.clone(),
                });
            }
            "invoice.payment_failed" => {
                taken.occurred_at = text(data, "/created_at").as_deref().and_then(parse_time);
                taken.change = Some(Event::PaymentFailed {
                    subscription_ref: subscription,
                });
            }
            // `subscription.not_renew` only says the card will not be charged again: the month
            // paid for runs to its end, and `subscription.disable` follows then.
            "subscription.disable" => {
                taken.change = Some(Event::Cancelled {
                    subscription_ref: subscription,
                });
            }
            _ => {}
        }
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn paystack_times_are_read_as_utc() {
        assert_eq!(
            parse_time("2026-01-01T00:00:00.000Z").map(|at| at.as_millis()),
            Some(1_767_225_600_000)
        );
        assert_eq!(
            parse_time("2026-01-01T10:00:01.5Z").map(|at| at.as_millis()),
            Some(1_767_225_600_000 + 36_001_500)
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2026-13-01T00:00:00Z"), None);
    }
}
