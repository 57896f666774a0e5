//! A fake Stripe, Paystack and MTN MoMo Collections for tests and `nexus demo`: one HTTP
//! server on 127.0.0.1 that answers the part of each API Nexus calls, signs its webhooks as the
//! real provider does (MTN signs nothing), and can be told to fail, slow down, duplicate and
//! reorder, which the real ones do on their own schedule and which Nexus must survive.
//!
//! The customer's side (paying, declining, cancelling, approving on the phone) and the
//! provider's own schedule (renewals) are methods here and small HTML pages a browser can open.

mod mtn;
mod paystack;
mod sign;
mod stripe;
mod time;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use mtn::MomoFaults;

/// A billing period, as both fakes renew: 30 days rather than a calendar month, because Nexus
/// takes period ends from the provider and never computes them itself.
const PERIOD_SECONDS: i64 = 30 * 86_400;

/// The keys the fake expects and signs with, and its clock.
#[derive(Clone)]
pub struct FakeConfig {
    /// The Bearer key Stripe calls must carry.
    pub stripe_secret_key: String,
    /// `whsec_…`; signs Stripe webhooks.
    pub stripe_webhook_secret: String,
    /// The Bearer key Paystack calls must carry; it also signs Paystack webhooks, as on Paystack.
    pub paystack_secret_key: String,
    /// The MTN API user (a UUID) whose key is exchanged for access tokens.
    pub mtn_api_user: String,
    /// The MTN API user's key, sent with the user as `Basic` credentials for a token.
    pub mtn_api_key: String,
    /// The `Ocp-Apim-Subscription-Key` every MTN call must carry, token calls included.
    pub mtn_subscription_key: String,
    /// The `X-Target-Environment` MTN collection calls must name.
    pub mtn_target_environment: String,
    /// Unix seconds "now" for event timestamps and signatures (tests pass a manual clock);
    /// None = system time.
    pub now: Option<Arc<dyn Fn() -> i64 + Send + Sync>>,
}

impl FakeConfig {
    /// Fixed test keys and the system clock.
    pub fn test() -> Self {
        Self {
            stripe_secret_key: "sk_test_nexus".to_owned(),
            stripe_webhook_secret: "whsec_nexus_test".to_owned(),
            paystack_secret_key: "sk_test_paystack_nexus".to_owned(),
            mtn_api_user: "6f1c6a3e-2b1d-4e7a-9a53-5b0c8d7e4f10".to_owned(),
            mtn_api_key: "mtn_test_api_key".to_owned(),
            mtn_subscription_key: "mtn_test_subscription_key".to_owned(),
            mtn_target_environment: "sandbox".to_owned(),
            now: None,
        }
    }
}

impl std::fmt::Debug for FakeConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FakeConfig")
            .field("stripe_secret_key", &self.stripe_secret_key)
            .field("stripe_webhook_secret", &self.stripe_webhook_secret)
            .field("paystack_secret_key", &self.paystack_secret_key)
            .field("mtn_api_user", &self.mtn_api_user)
            .field("mtn_api_key", &self.mtn_api_key)
            .field("mtn_subscription_key", &self.mtn_subscription_key)
            .field("mtn_target_environment", &self.mtn_target_environment)
            .field("now", &self.now.as_ref().map(|_| "manual"))
            .finish()
    }
}

/// How Stripe and Paystack webhooks are delivered; MTN callbacks have their own faults in
/// [`MomoFaults`], since MTN neither queues nor retries them.
#[derive(Clone, Debug, Default)]
pub struct Delivery {
    /// Every webhook is POSTed twice.
    pub duplicate: bool,
    /// The webhooks of one action are sent last-first.
    pub reverse_order: bool,
    /// Waited before each POST.
    pub delay: Duration,
}

/// One webhook POST (or MTN callback PUT) and Nexus's answer to it.
#[derive(Clone, Debug)]
pub struct Delivered {
    /// `"stripe"`, `"paystack"` or `"mtn"`.
    pub provider: &'static str,
    /// The event type; for MTN, the request's status (`"SUCCESSFUL"` or `"FAILED"`).
    pub kind: String,
    /// Nexus's HTTP status.
    pub status: u16,
    /// Nexus's answer body.
    pub body: String,
}

/// A Stripe meter event as accepted.
#[derive(Clone, Debug)]
pub struct MeterEvent {
    pub event_name: String,
    pub customer: String,
    pub value: i64,
    pub identifier: String,
    pub timestamp: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Provider {
    Stripe,
    Paystack,
}

impl Provider {
    fn name(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Paystack => "paystack",
        }
    }
}

/// A webhook waiting to be sent: the body is fixed once so that what is signed, what is sent
/// and what is sent again when duplicating are the same bytes.
#[derive(Clone, Debug)]
struct Outgoing {
    provider: Provider,
    kind: String,
    body: Vec<u8>,
}

impl Outgoing {
    fn new(provider: Provider, event: &Value) -> Self {
        let kind_field = match provider {
            Provider::Stripe => "type",
            Provider::Paystack => "event",
        };
        Self {
            provider,
            kind: event[kind_field].as_str().unwrap_or_default().to_owned(),
            body: event.to_string().into_bytes(),
        }
    }
}

/// Everything the fake remembers, behind one lock that is never held across an `.await`.
#[derive(Default)]
struct Ledger {
    fail_next: usize,
    api_delay: Duration,
    delivery: Delivery,
    stripe_target: Option<String>,
    paystack_target: Option<String>,
    /// Events made while no target was set, or whose POST could not connect: a real provider
    /// keeps retrying those, so they go out first with the next delivery.
    stripe_pending: VecDeque<Outgoing>,
    paystack_pending: VecDeque<Outgoing>,
    deliveries: Vec<Delivered>,
    meter_event_posts: usize,
    stripe: stripe::Data,
    paystack: paystack::Data,
    mtn: mtn::Data,
}

impl Ledger {
    fn target(&self, provider: Provider) -> Option<String> {
        match provider {
            Provider::Stripe => self.stripe_target.clone(),
            Provider::Paystack => self.paystack_target.clone(),
        }
    }

    fn pending(&mut self, provider: Provider) -> &mut VecDeque<Outgoing> {
        match provider {
            Provider::Stripe => &mut self.stripe_pending,
            Provider::Paystack => &mut self.paystack_pending,
        }
    }
}

/// What an API call meets before its handler.
enum Gate {
    Open,
    Outage,
    BadKey,
}

/// The part the server's handlers share; kept apart from the handles so that dropping the last
/// `FakeProvider` stops the server even though the server holds this.
struct Core {
    config: FakeConfig,
    address: SocketAddr,
    client: reqwest::Client,
    ledger: Mutex<Ledger>,
}

impl Core {
    fn lock(&self) -> MutexGuard<'_, Ledger> {
        // A test that panicked elsewhere must not hide what the fake recorded.
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> i64 {
        match &self.config.now {
            Some(clock) => clock(),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
                }),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Waits the API delay, then uses up one planned failure if any is left: what every
    /// provider's calls meet before their keys are looked at. True when this call fails.
    async fn outage(&self) -> bool {
        let delay = self.lock().api_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut ledger = self.lock();
        if ledger.fail_next > 0 {
            ledger.fail_next -= 1;
            return true;
        }
        false
    }

    async fn gate(&self, key: &str, headers: &HeaderMap) -> Gate {
        if self.outage().await {
            return Gate::Outage;
        }
        let expected = format!("Bearer {key}");
        match headers.get(AUTHORIZATION) {
            Some(value) if value.as_bytes() == expected.as_bytes() => Gate::Open,
            _ => Gate::BadKey,
        }
    }

    /// Sends one action's events (after any still pending) as the delivery options say.
    async fn deliver(
        &self,
        provider: Provider,
        mut events: Vec<Outgoing>,
    ) -> Result<Vec<Delivered>, String> {
        let (target, delivery, mut queue) = {
            let mut ledger = self.lock();
            let delivery = ledger.delivery.clone();
            if delivery.reverse_order {
                events.reverse();
            }
            ledger.pending(provider).extend(events);
            let Some(target) = ledger.target(provider) else {
                return Ok(Vec::new());
            };
            (target, delivery, std::mem::take(ledger.pending(provider)))
        };
        let copies = if delivery.duplicate { 2 } else { 1 };
        let mut delivered = Vec::new();
        while let Some(event) = queue.front() {
            for _ in 0..copies {
                if !delivery.delay.is_zero() {
                    tokio::time::sleep(delivery.delay).await;
                }
                match self.post(&target, event).await {
                    Ok(answer) => {
                        self.lock().deliveries.push(answer.clone());
                        delivered.push(answer);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "fake {} webhook not delivered", provider.name());
                        let mut ledger = self.lock();
                        let pending = ledger.pending(provider);
                        queue.extend(pending.drain(..));
                        *pending = queue;
                        return Err(error);
                    }
                }
            }
            queue.pop_front();
        }
        Ok(delivered)
    }

    async fn post(&self, target: &str, event: &Outgoing) -> Result<Delivered, String> {
        let (header, signature) = match event.provider {
            Provider::Stripe => (
                "stripe-signature",
                sign::stripe(&self.config.stripe_webhook_secret, &event.body, self.now()),
            ),
            Provider::Paystack => (
                "x-paystack-signature",
                sign::paystack(&self.config.paystack_secret_key, &event.body),
            ),
        };
        let response = self
            .client
            .post(target)
            .header(CONTENT_TYPE, "application/json")
            .header(header, signature)
            .body(event.body.clone())
            .send()
            .await
            .map_err(|error| format!("POST {target}: {error}"))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|error| format!("reading the answer of {target}: {error}"))?;
        tracing::debug!(kind = %event.kind, status, "fake {} webhook delivered", event.provider.name());
        Ok(Delivered {
            provider: event.provider.name(),
            kind: event.kind.clone(),
            status,
            body,
        })
    }

    async fn send(&self, provider: Provider, event: &Value) -> Result<Delivered, String> {
        if self.lock().target(provider).is_none() {
            return Err(format!("no {} webhook target is set", provider.name()));
        }
        let mut delivered = self
            .deliver(provider, vec![Outgoing::new(provider, event)])
            .await?;
        delivered
            .pop()
            .ok_or_else(|| format!("no {} webhook target is set", provider.name()))
    }
}

struct Inner {
    core: Arc<Core>,
    /// Dropped with the last handle, which ends the server as `stop` does.
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// A running fake; clones share it.
#[derive(Clone)]
pub struct FakeProvider {
    inner: Arc<Inner>,
}

impl FakeProvider {
    /// Serves on a free port of 127.0.0.1 until `stop` or the last handle drops.
    pub async fn start(config: FakeConfig) -> std::io::Result<FakeProvider> {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await?, config).await
    }

    pub async fn start_on(
        listener: TcpListener,
        config: FakeConfig,
    ) -> std::io::Result<FakeProvider> {
        let address = listener.local_addr()?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            // Nexus is on loopback; a proxy from the environment would only get in the way.
            .no_proxy()
            .build()
            .map_err(std::io::Error::other)?;
        let core = Arc::new(Core {
            config,
            address,
            client,
            ledger: Mutex::default(),
        });
        let app = Router::new()
            .nest("/stripe", stripe::router(core.clone()))
            .nest("/paystack", paystack::router(core.clone()))
            .nest("/mtn", mtn::router(core.clone()))
            .with_state(core.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "the fake provider stopped serving");
            }
        });
        Ok(FakeProvider {
            inner: Arc::new(Inner {
                core,
                shutdown: Mutex::new(Some(shutdown)),
                task: Mutex::new(Some(task)),
            }),
        })
    }

    fn core(&self) -> &Core {
        &self.inner.core
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.core().lock()
    }

    pub fn address(&self) -> SocketAddr {
        self.core().address
    }

    pub fn config(&self) -> &FakeConfig {
        &self.core().config
    }

    /// `http://127.0.0.1:PORT/stripe`; Nexus appends `/v1/…`.
    pub fn stripe_api_base(&self) -> String {
        self.core().url("/stripe")
    }

    /// `http://127.0.0.1:PORT/paystack`; Nexus appends `/transaction/…`.
    pub fn paystack_api_base(&self) -> String {
        self.core().url("/paystack")
    }

    /// `http://127.0.0.1:PORT/mtn`; Nexus appends `/collection/…`.
    pub fn mtn_api_base(&self) -> String {
        self.core().url("/mtn")
    }

    /// Full URLs the webhooks are POSTed to. Until one is set, that provider's events are kept
    /// and go out, oldest first, with its next delivery after it is set.
    pub fn set_webhook_targets(&self, stripe: Option<String>, paystack: Option<String>) {
        let mut ledger = self.ledger();
        ledger.stripe_target = stripe;
        ledger.paystack_target = paystack;
    }

    /// The next `count` API calls (any provider, MTN token calls included) answer 500 with the provider's error JSON,
    /// changing nothing.
    pub fn fail_next_api_calls(&self, count: usize) {
        self.ledger().fail_next = count;
    }

    /// Waited before each API call is answered.
    pub fn set_api_delay(&self, delay: Duration) {
        self.ledger().api_delay = delay;
    }

    pub fn set_delivery(&self, delivery: Delivery) {
        self.ledger().delivery = delivery;
    }

    /// Accepted meter events, one per identifier, oldest first.
    pub fn meter_events(&self) -> Vec<MeterEvent> {
        self.ledger().stripe.meter_events.clone()
    }

    /// Every POST to `/v1/billing/meter_events`, duplicates, replays and failures included.
    pub fn meter_event_posts(&self) -> usize {
        self.ledger().meter_event_posts
    }

    /// Checkout sessions as answered at creation, oldest first.
    pub fn checkout_sessions(&self) -> Vec<Value> {
        self.ledger().stripe.created_sessions()
    }

    /// Paystack transactions in their current state, as verify would answer, oldest first.
    pub fn transactions(&self) -> Vec<Value> {
        self.ledger().paystack.transactions()
    }

    /// Paystack subscriptions in their current state, as fetch would answer, oldest first.
    pub fn paystack_subscriptions(&self) -> Vec<Value> {
        self.ledger().paystack.subscriptions()
    }

    /// Every webhook POST and MTN callback PUT made, in order, with Nexus's answer.
    pub fn deliveries(&self) -> Vec<Delivered> {
        self.ledger().deliveries.clone()
    }

    /// MTN requests to pay in their current state, as the status call answers each, with its
    /// `"referenceId"` and `"callbackUrl"` (null when none was given), oldest first.
    pub fn momo_requests(&self) -> Vec<Value> {
        self.ledger().mtn.requests()
    }

    /// Every POST to MTN's requesttopay, refused, failed and duplicated ones included.
    pub fn momo_request_posts(&self) -> usize {
        self.ledger().mtn.posts
    }

    /// Each MTN callback PUT that could not reach its URL, as the error, oldest first: MTN
    /// does not try again, so these outcomes reach Nexus only by polling.
    pub fn momo_callback_errors(&self) -> Vec<String> {
        self.ledger().mtn.callback_errors.clone()
    }

    pub fn set_momo_faults(&self, faults: MomoFaults) {
        self.ledger().mtn.faults = faults;
    }

    /// Each request to pay made from now on approves itself (as [`Self::momo_approve`]) after
    /// `after`, on its own task: for the demo and browser tests, where nobody calls approve.
    /// None (the default) leaves requests pending until approved.
    pub fn set_momo_auto_approve(&self, after: Option<Duration>) {
        self.ledger().mtn.auto_approve = after;
    }

    /// The customer pays a Stripe checkout session.
    pub async fn complete_checkout(&self, session_id: &str) -> Result<Vec<Delivered>, String> {
        self.core().complete_checkout(session_id).await
    }

    /// Stripe's schedule renews a subscription, the charge succeeding or not.
    pub async fn stripe_renewal(
        &self,
        subscription_id: &str,
        paid: bool,
    ) -> Result<Vec<Delivered>, String> {
        self.core().stripe_renewal(subscription_id, paid).await
    }

    pub async fn stripe_cancel(&self, subscription_id: &str) -> Result<Vec<Delivered>, String> {
        self.core().stripe_cancel(subscription_id).await
    }

    /// The customer pays (or declines) a Paystack transaction.
    pub async fn paystack_pay(
        &self,
        reference: &str,
        succeed: bool,
    ) -> Result<Vec<Delivered>, String> {
        self.core().paystack_pay(reference, succeed).await
    }

    pub async fn paystack_renewal_failed(
        &self,
        subscription_code: &str,
    ) -> Result<Vec<Delivered>, String> {
        self.core().paystack_renewal_failed(subscription_code).await
    }

    /// The customer (or Paystack) disables a subscription without Nexus calling the API.
    pub async fn paystack_disable(
        &self,
        subscription_code: &str,
    ) -> Result<Vec<Delivered>, String> {
        self.core().paystack_disable(subscription_code).await
    }

    /// The customer approves an MTN request to pay on their phone: it takes the outcome its
    /// payer's number decides (a new `financialTransactionId` when it succeeds) and, when it
    /// was given an `X-Callback-Url`, MTN PUTs the outcome there once. An unreachable callback
    /// is recorded in [`Self::momo_callback_errors`], not retried, and is still Ok. Approving a
    /// request that is no longer pending, or whose number never answers, does nothing.
    pub async fn momo_approve(&self, reference_id: &str) -> Result<Vec<Delivered>, String> {
        self.core().momo_approve(reference_id).await
    }

    /// A Stripe event envelope around `object`, created now.
    pub fn stripe_event(&self, kind: &str, object: Value) -> Value {
        self.core().stripe_event(kind, object)
    }

    /// The `Stripe-Signature` header value for `body` at `timestamp`.
    pub fn sign_stripe(&self, body: &[u8], timestamp: i64) -> String {
        sign::stripe(&self.config().stripe_webhook_secret, body, timestamp)
    }

    /// The `x-paystack-signature` header value for `body`.
    pub fn sign_paystack(&self, body: &[u8]) -> String {
        sign::paystack(&self.config().paystack_secret_key, body)
    }

    /// POSTs `event`, signed now, through the delivery options; with `duplicate`, the answer
    /// to the second POST.
    pub async fn send_stripe(&self, event: &Value) -> Result<Delivered, String> {
        self.core().send(Provider::Stripe, event).await
    }

    pub async fn send_paystack(&self, event: &Value) -> Result<Delivered, String> {
        self.core().send(Provider::Paystack, event).await
    }

    /// Stops listening and waits (up to five seconds) for open connections to finish.
    pub async fn stop(&self) {
        let shutdown = lock(&self.inner.shutdown).take();
        if let Some(shutdown) = shutdown {
            let _ = shutdown.send(());
        }
        let task = lock(&self.inner.task).take();
        if let Some(mut task) = task
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A provider-style identifier: time-ordered, so listings sort as they were made.
fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::now_v7().simple())
}

/// Whether `text` can be sent back as a `Location`: checked when a URL is given, so that a
/// redirect built from it later cannot fail.
fn is_url(text: &str) -> bool {
    (text.starts_with("http://") || text.starts_with("https://"))
        && !text.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// A 303 to `location`, or a page saying why not.
fn see_other(location: &str) -> Response {
    match HeaderValue::try_from(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(LOCATION, value)]).into_response(),
        Err(_) => {
            let body = "<p>The return address is not a URL.</p>";
            (StatusCode::BAD_REQUEST, page("Redirect", body)).into_response()
        }
    }
}

const PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n{body}\n</body></html>\n";

/// A page around `body`, which must already be escaped HTML.
fn page(title: &str, body: &str) -> Html<String> {
    Html(
        PAGE.replace("{title}", &escape(title))
            .replace("{body}", body),
    )
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
