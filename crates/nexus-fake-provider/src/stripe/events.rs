//! What happens at Stripe on its own time, and the events it sends about it: a checkout paid,
//! a subscription renewed (or its charge declined), a subscription cancelled.

use serde_json::{Value, json};

use crate::{Core, Delivered, Outgoing, PERIOD_SECONDS, Provider, new_id};

impl Core {
    pub(crate) fn stripe_event(&self, kind: &str, object: Value) -> Value {
        json!({
            "id": new_id("evt_"),
            "object": "event",
            "type": kind,
            "created": self.now(),
            "livemode": false,
            "api_version": "2024-06-20",
            "data": {"object": object},
        })
    }

    fn stripe_outgoing(&self, kind: &str, object: Value) -> Outgoing {
        Outgoing::new(Provider::Stripe, &self.stripe_event(kind, object))
    }

    pub(crate) async fn complete_checkout(
        &self,
        session_id: &str,
    ) -> Result<Vec<Delivered>, String> {
        let events = {
            let mut ledger = self.lock();
            let stripe = &mut ledger.stripe;
            let now = self.now();
            let session = stripe
                .sessions
                .iter_mut()
                .find(|s| s.current["id"] == session_id)
                .ok_or_else(|| format!("no checkout session {session_id}"))?;
            if session.current["status"] != "open" {
                return Err(format!("checkout session {session_id} is not open"));
            }
            let mut metadata = session.current["metadata"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            metadata.extend(session.subscription_metadata.clone());
            let items: Vec<Value> = session
                .items
                .iter()
                .map(|(price, quantity)| {
                    json!({"id": new_id("si_"), "object": "subscription_item", "price": {"id": price}, "quantity": quantity})
                })
                .collect();
            let subscription_id = new_id("sub_");
            let mut subscription = json!({
                "id": subscription_id,
                "object": "subscription",
                "customer": session.current["customer"],
                "status": "active",
                "current_period_start": now,
                "current_period_end": now + PERIOD_SECONDS,
                "items": {"object": "list", "data": items},
                "metadata": metadata,
                "cancel_at_period_end": false,
                "canceled_at": null,
                "created": now,
                "livemode": false,
            });
            session.current["status"] = json!("complete");
            session.current["payment_status"] = json!("paid");
            session.current["subscription"] = json!(subscription_id);
            let completed = session.current.clone();
            let invoice = stripe.invoice(self, &subscription, true);
            subscription["latest_invoice"] = invoice["id"].clone();
            stripe.subscriptions.push(subscription.clone());
            vec![
                self.stripe_outgoing("checkout.session.completed", completed),
                self.stripe_outgoing("customer.subscription.created", subscription),
                self.stripe_outgoing("invoice.paid", invoice),
            ]
        };
        self.deliver(Provider::Stripe, events).await
    }

    pub(crate) async fn stripe_renewal(
        &self,
        id: &str,
        paid: bool,
    ) -> Result<Vec<Delivered>, String> {
        let events = {
            let mut ledger = self.lock();
            let stripe = &mut ledger.stripe;
            let subscription = stripe.subscription(id)?;
            if subscription["status"] == "canceled" {
                return Err(format!("Stripe subscription {id} is canceled"));
            }
            let previous = json!({
                "status": subscription["status"],
                "current_period_start": subscription["current_period_start"],
                "current_period_end": subscription["current_period_end"],
            });
            let start = subscription["current_period_end"]
                .as_i64()
                .unwrap_or_else(|| self.now());
            subscription["current_period_start"] = json!(start);
            subscription["current_period_end"] = json!(start + PERIOD_SECONDS);
            subscription["status"] = json!(if paid { "active" } else { "past_due" });
            let snapshot = subscription.clone();
            let invoice = stripe.invoice(self, &snapshot, paid);
            let subscription = stripe.subscription(id)?;
            subscription["latest_invoice"] = invoice["id"].clone();
            let kind = if paid {
                "invoice.paid"
            } else {
                "invoice.payment_failed"
            };
            let mut updated =
                self.stripe_event("customer.subscription.updated", subscription.clone());
            updated["data"]["previous_attributes"] = previous;
            vec![
                self.stripe_outgoing(kind, invoice),
                Outgoing::new(Provider::Stripe, &updated),
            ]
        };
        self.deliver(Provider::Stripe, events).await
    }

    pub(crate) async fn stripe_cancel(&self, id: &str) -> Result<Vec<Delivered>, String> {
        let event = {
            let mut ledger = self.lock();
            let subscription = ledger.stripe.subscription(id)?;
            if subscription["status"] == "canceled" {
                return Err(format!("Stripe subscription {id} is already canceled"));
            }
            let now = self.now();
            subscription["status"] = json!("canceled");
            subscription["canceled_at"] = json!(now);
            subscription["ended_at"] = json!(now);
            self.stripe_outgoing("customer.subscription.deleted", subscription.clone())
        };
        self.deliver(Provider::Stripe, vec![event]).await
    }
}
