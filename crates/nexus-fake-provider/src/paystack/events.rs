//! What happens at Paystack on its own time, and the events it sends about it: a payment made
//! (and the subscription a card payment for a plan starts), a renewal declined, a subscription
//! disabled.

use serde_json::json;

use super::{Subscription, disable_subscription};
use crate::time::iso8601;
use crate::{Core, Delivered, Outgoing, PERIOD_SECONDS, Provider, new_id};

impl Core {
    pub(crate) async fn paystack_pay(
        &self,
        reference: &str,
        succeed: bool,
    ) -> Result<Vec<Delivered>, String> {
        let events = {
            let mut ledger = self.lock();
            let paystack = &mut ledger.paystack;
            let now = self.now();
            let transaction = paystack
                .transactions
                .iter_mut()
                .find(|t| t.reference == reference)
                .ok_or_else(|| format!("no Paystack transaction {reference}"))?;
            if transaction.status != "abandoned" {
                return Err(format!(
                    "Paystack transaction {reference} is already {}",
                    transaction.status
                ));
            }
            if !succeed {
                // Paystack sends no webhook for a declined first payment.
                transaction.status = "failed";
                return Ok(Vec::new());
            }
            transaction.status = "success";
            transaction.paid_at = Some(now);
            if transaction.channel == "card" {
                transaction.authorization_code = Some(new_id("AUTH_"));
            }
            let transaction = transaction.clone();
            let charge = json!({"event": "charge.success", "data": transaction.json()});
            let mut events = vec![Outgoing::new(Provider::Paystack, &charge)];
            // Only a card can be charged again, so only a card payment starts a subscription.
            if let (Some(plan), "card") = (transaction.plan, transaction.channel.as_str()) {
                let subscription = Subscription {
                    id: paystack.next_id(),
                    code: new_id("SUB_"),
                    email_token: new_id("tok_"),
                    status: "active",
                    plan,
                    amount: transaction.amount,
                    customer_code: transaction.customer_code,
                    email: transaction.email,
                    next_payment_date: now + PERIOD_SECONDS,
                    created_at: now,
                    authorization_code: transaction.authorization_code.unwrap_or_default(),
                };
                let created = json!({"event": "subscription.create", "data": subscription.json()});
                events.push(Outgoing::new(Provider::Paystack, &created));
                paystack.subscriptions.push(subscription);
            }
            events
        };
        self.deliver(Provider::Paystack, events).await
    }

    pub(crate) async fn paystack_renewal_failed(
        &self,
        code: &str,
    ) -> Result<Vec<Delivered>, String> {
        let event = {
            let mut ledger = self.lock();
            let paystack = &mut ledger.paystack;
            let id = paystack.next_id();
            let now = self.now();
            let subscription = paystack
                .subscription(code)
                .ok_or_else(|| format!("no Paystack subscription {code}"))?;
            if subscription.status == "cancelled" {
                return Err(format!("Paystack subscription {code} is cancelled"));
            }
            subscription.status = "attention";
            json!({"event": "invoice.payment_failed", "data": {
                "id": id,
                "invoice_code": new_id("INV_"),
                "amount": subscription.amount,
                "paid": false,
                "status": "failed",
                "created_at": iso8601(now),
                "subscription": {
                    "subscription_code": subscription.code,
                    "status": "attention",
                    "email_token": subscription.email_token,
                },
                "customer": {"customer_code": subscription.customer_code, "email": subscription.email},
            }})
        };
        let event = Outgoing::new(Provider::Paystack, &event);
        self.deliver(Provider::Paystack, vec![event]).await
    }

    pub(crate) async fn paystack_disable(&self, code: &str) -> Result<Vec<Delivered>, String> {
        let event = disable_subscription(self, code, None).map_err(|refusal| refusal.1)?;
        self.deliver(Provider::Paystack, vec![event]).await
    }
}
