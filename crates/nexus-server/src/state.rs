use std::sync::Arc;

use nexus_domain::Clock;
use nexus_store::Store;

use crate::auth::TokenKeys;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub tokens: TokenKeys,
    /// The OpenAPI document, rendered once at startup.
    pub openapi_json: Arc<String>,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<crate::settings::AddressRanges>,
    /// How many organisations one address may register, and in how long.
    pub registration_limit: nexus_domain::throttle::Policy,
    /// What changed, for live pages.
    pub events: crate::events::Events,
    /// Sign-ins being checked, per client address.
    pub sign_ins: Arc<crate::auth::SignInsInFlight>,
    /// The longest a station's pull may wait for changes: under the idle timeout, so the
    /// connection is not closed beneath it.
    pub longest_pull_wait: std::time::Duration,
    /// The address people reach the service at (the settings' `public_url`).
    pub public_url: Arc<str>,
    /// The payment providers configured (none: billing is off).
    pub billing: Arc<crate::billing::Billing>,
    /// The mobile-money networks that requests to pay go to.
    pub momo: Arc<crate::momo::Networks>,
    /// Counters for the metrics listener.
    pub metrics: Arc<crate::metrics::Metrics>,
}
