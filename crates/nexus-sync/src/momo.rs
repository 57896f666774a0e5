//! Request to pay, between a till and the service: the till names the payer's number and the
//! amount under an id it chose, and asks where the request stands until it is paid or failed.
//! The till completes the sale only on paid.

use nexus_domain::UnixMillis;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /api/v1/momo/requests`, as the till sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestToPay {
    /// A random (version 4) UUID the till chose: sending the same request again, after a lost
    /// answer, is the same request and never a second charge.
    pub id: Uuid,
    pub network: String,
    /// The payer's number (`0244123456` or `233244123456`).
    pub phone: String,
    pub amount_minor: i64,
}

/// Where a request to pay stands, as the service answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestStatus {
    pub id: Uuid,
    /// When the network last changed its word on it (when it was paid, for a paid one).
    pub updated_at: UnixMillis,
    pub network: String,
    pub phone: String,
    pub amount_minor: i64,
    /// `sending` (not yet acknowledged by the network: asked again), `pending` (the customer
    /// has to approve on their phone), `paid` or `failed`.
    pub state: String,
    /// The network's reason code, when it failed.
    pub reason: Option<String>,
    /// What the cashier is told, when it failed.
    pub message: Option<String>,
    /// The network's id of the payment, when paid: the tender's transaction id.
    pub transaction_id: Option<String>,
}

impl RequestStatus {
    /// Paid, with the transaction id the tender is recorded under.
    pub fn is_paid(&self) -> bool {
        self.state == "paid" && self.transaction_id.is_some()
    }

    pub fn is_failed(&self) -> bool {
        self.state == "failed"
    }
}
