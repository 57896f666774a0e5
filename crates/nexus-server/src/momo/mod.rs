//! The mobile-money networks' collection APIs, behind one trait ([`Collections`]): MTN MoMo's
//! Open API first. Telecel Cash and AirtelTigo Money go through the same trait once their APIs
//! are configured; until then a request to pay on them is refused with a clear word and the till
//! takes the payment offline, as before.
//!
//! Each shop collects into its own merchant account: the credentials come with each call, from
//! the shop's settings, and only where each network is reached is the service's setting.

mod mtn;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use nexus_domain::TenantId;
use nexus_domain::momo::{Network, NetworkAnswer};
use nexus_store::MomoAccount;

/// Where each network's API is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MomoSettings {
    /// MTN MoMo Open API, e.g. `https://proxy.momoapi.mtn.com` (production) or
    /// `https://sandbox.momodeveloper.mtn.com`; Nexus appends `/collection/...`.
    pub mtn_api_base: String,
    /// How often requests that no till asks about any more are followed up with the network.
    pub follow_up_every: Duration,
}

impl MomoSettings {
    pub const MTN_API_BASE: &'static str = "https://proxy.momoapi.mtn.com";
    pub const FOLLOW_UP_EVERY: Duration = Duration::from_secs(30);
}

impl Default for MomoSettings {
    fn default() -> Self {
        Self {
            mtn_api_base: Self::MTN_API_BASE.to_owned(),
            follow_up_every: Self::FOLLOW_UP_EVERY,
        }
    }
}

/// One request to collect, as a network is asked.
#[derive(Clone, Debug)]
pub struct PayRequest<'a> {
    /// The till's reference for it: the network keeps one request per reference, so sending it
    /// again after a lost answer never charges twice.
    pub reference: uuid::Uuid,
    /// In major units, as the networks write it ("12.50").
    pub amount: String,
    pub currency: &'a str,
    /// International digits.
    pub msisdn: &'a str,
    /// Ours, shown in the shop's statement.
    pub external_id: &'a str,
    /// What the customer's phone shows.
    pub payer_message: &'a str,
    pub payee_note: &'a str,
    /// Where the network says the outcome, once; `None` where it could not reach us anyway.
    pub callback_url: Option<&'a str>,
}

/// A call to a network that did not go through.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// No answer, or a server error: whether the network took the request is not known, so it
    /// is asked again under the same reference, never made anew.
    #[error("{network}: no answer: {detail}")]
    Unanswered {
        network: &'static str,
        detail: String,
    },
    /// The network answered and refused: the request was not taken.
    #[error("{network} refused ({status} {code}): {detail}")]
    Refused {
        network: &'static str,
        status: u16,
        /// The network's code, e.g. `INVALID_INPUT`; said to the shop through
        /// [`nexus_domain::momo::failure_message`].
        code: String,
        detail: String,
    },
}

/// One network's collection API.
#[async_trait]
pub trait Collections: Send + Sync {
    /// Asks the network to collect. `Ok` when it took the request, or already had one under
    /// that reference.
    async fn request_to_pay(
        &self,
        account: &MomoAccount,
        request: &PayRequest<'_>,
    ) -> Result<(), CollectError>;
    /// What the network says of the request now.
    async fn status(
        &self,
        account: &MomoAccount,
        reference: uuid::Uuid,
    ) -> Result<NetworkAnswer, CollectError>;
}

/// The networks this service can ask, and the organisations with requests still open, which
/// [`crate::services::momo_requests::check_open_every`] follows up when no till is asking.
pub struct Networks {
    mtn: Arc<dyn Collections>,
    /// When each was last noted, so that a follow-up that found none open does not forget one
    /// noted while it looked.
    open: Mutex<HashMap<TenantId, std::time::Instant>>,
}

impl Networks {
    pub fn from_settings(settings: &MomoSettings) -> Self {
        let client = reqwest::Client::builder()
            // A till waits on this with a customer at the counter: better a quick "no answer,
            // asking again" than a long stall.
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            mtn: Arc::new(mtn::Mtn::new(client, settings.mtn_api_base.clone())),
            open: Mutex::default(),
        }
    }

    pub fn network(&self, network: Network) -> Option<&Arc<dyn Collections>> {
        match network {
            Network::Mtn => Some(&self.mtn),
            Network::Telecel | Network::AirtelTigo => None,
        }
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, std::time::Instant>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The organisation has a request that is not final yet.
    pub fn note_open(&self, tenant: TenantId) {
        self.open().insert(tenant, std::time::Instant::now());
    }

    /// The organisations with requests open, as last noted.
    pub fn open_tenants(&self) -> Vec<TenantId> {
        self.open().keys().copied().collect()
    }

    /// The organisation had none open when looked at `looked`; one noted since is kept.
    pub fn all_final(&self, tenant: TenantId, looked: std::time::Instant) {
        let mut open = self.open();
        if open.get(&tenant).is_some_and(|noted| *noted < looked) {
            open.remove(&tenant);
        }
    }
}
