//! Request to pay, from the till while it is online: the service asks the network to collect
//! from the customer's wallet, and the till asks the service where that stands until it is paid
//! or failed. The till chooses each request's id, so asking again after a lost answer is the
//! same request and never a second charge.

use std::time::Duration;

use nexus_sync::momo::{RequestStatus, RequestToPay};

use crate::client::{answer_or_refusal, unreachable};
use crate::{Station, StationResult};

/// A request's answer from the service is waited for this long: the customer is at the
/// counter, and a request whose answer is lost is simply asked about again.
const MOMO_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

impl Station {
    /// Asks the service to collect `amount_minor` from `phone`'s wallet under `id` (sent again
    /// with the same id, it is the same request).
    pub async fn request_momo(
        &self,
        id: uuid::Uuid,
        network: &str,
        phone: &str,
        amount_minor: i64,
    ) -> StationResult<RequestStatus> {
        let server = self.required("server").await?;
        let credential = self.required("credential").await?;
        let response = self
            .http
            .post(format!("{server}/api/v1/momo/requests"))
            .header("authorization", format!("Station {credential}"))
            .timeout(MOMO_REQUEST_TIMEOUT)
            .json(&RequestToPay {
                id,
                network: network.to_owned(),
                phone: phone.to_owned(),
                amount_minor,
            })
            .send()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        answer_or_refusal(&server, response).await
    }

    /// Keeps the network's transaction id of a paid request: the tender taken under it is
    /// verified, and the shift's close counts it apart from the mobile money taken offline.
    pub async fn note_momo_confirmed(
        &self,
        reference: &str,
        clock: &dyn nexus_domain::Clock,
    ) -> StationResult<()> {
        sqlx::query(
            "INSERT INTO momo_confirmed (reference, confirmed_at) VALUES ($1, $2) \
             ON CONFLICT (reference) DO NOTHING",
        )
        .bind(reference)
        .bind(clock.now().as_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Where the request stands now.
    pub async fn momo_request(&self, id: uuid::Uuid) -> StationResult<RequestStatus> {
        let server = self.required("server").await?;
        let credential = self.required("credential").await?;
        let response = self
            .http
            .get(format!("{server}/api/v1/momo/requests/{id}"))
            .header("authorization", format!("Station {credential}"))
            .timeout(MOMO_REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        answer_or_refusal(&server, response).await
    }
}
