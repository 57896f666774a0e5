//! The customer's side of a request to pay: they approve it on their phone, the payer's number
//! decides what comes of it, and MTN PUTs the outcome to the callback URL, once and unsigned.

use axum::http::header::CONTENT_TYPE;

use super::{FAILED, PENDING, SUCCESSFUL};
use crate::{Core, Delivered};

#[derive(Clone, Copy)]
enum Outcome {
    Successful,
    /// The phone never answers: the request stays PENDING, approved or not.
    Pending,
    Failed {
        code: &'static str,
        message: &'static str,
    },
}

/// MTN's sandbox test numbers and what a request to pay from each comes to; any other payer
/// pays. Tests and the demo choose an outcome by choosing the payer's number, as they would
/// against the sandbox, so no fake-only switch is needed on the Nexus side.
const TEST_NUMBERS: [(&str, Outcome); 7] = [
    (
        "46733123450",
        Outcome::Failed {
            code: "INTERNAL_PROCESSING_ERROR",
            message: "An internal error occurred while processing.",
        },
    ),
    (
        "46733123451",
        Outcome::Failed {
            code: "APPROVAL_REJECTED",
            message: "The payer rejected the request.",
        },
    ),
    (
        "46733123452",
        Outcome::Failed {
            code: "EXPIRED",
            message: "The payer did not approve the request in time.",
        },
    ),
    ("46733123453", Outcome::Pending),
    ("46733123454", Outcome::Pending),
    (
        "46733123455",
        Outcome::Failed {
            code: "NOT_ENOUGH_FUNDS",
            message: "The payer does not have enough funds.",
        },
    ),
    (
        "46733123456",
        Outcome::Failed {
            code: "PAYER_NOT_FOUND",
            message: "The payer is not registered for mobile money.",
        },
    ),
];

fn outcome(party_id: &str) -> Outcome {
    TEST_NUMBERS
        .iter()
        .find(|(number, _)| *number == party_id)
        .map_or(Outcome::Successful, |(_, outcome)| *outcome)
}

/// A callback to PUT, fixed under the lock so that a duplicate is the same bytes.
struct Callback {
    url: String,
    status: &'static str,
    body: Vec<u8>,
    copies: usize,
}

impl Core {
    pub(crate) async fn momo_approve(&self, reference_id: &str) -> Result<Vec<Delivered>, String> {
        let callback = {
            let mut ledger = self.lock();
            let mtn = &mut ledger.mtn;
            let index = mtn
                .index(reference_id)
                .ok_or_else(|| format!("no MTN MoMo request {reference_id}"))?;
            if mtn.requests[index].status != PENDING {
                return Ok(Vec::new());
            }
            match outcome(&mtn.requests[index].party_id) {
                Outcome::Pending => return Ok(Vec::new()),
                Outcome::Successful => {
                    let id = mtn.next_transaction_id();
                    let request = &mut mtn.requests[index];
                    request.status = SUCCESSFUL;
                    request.financial_transaction_id = Some(id);
                }
                Outcome::Failed { code, message } => {
                    let request = &mut mtn.requests[index];
                    request.status = FAILED;
                    request.reason = Some((code, message));
                }
            }
            let request = &mtn.requests[index];
            let faults = &mtn.faults;
            let copies = match (faults.drop_callbacks, faults.duplicate_callbacks) {
                (true, _) => 0,
                (false, true) => 2,
                (false, false) => 1,
            };
            request.callback_url.clone().map(|url| Callback {
                url,
                status: request.status,
                body: request.json().to_string().into_bytes(),
                copies,
            })
        };
        let Some(callback) = callback else {
            return Ok(Vec::new());
        };
        let mut delivered = Vec::new();
        for _ in 0..callback.copies {
            match self.put_callback(&callback).await {
                Ok(answer) => {
                    self.lock().deliveries.push(answer.clone());
                    delivered.push(answer);
                }
                Err(error) => {
                    // MTN gives up at once; the outcome waits for Nexus to poll.
                    tracing::warn!(%error, "fake MTN callback not delivered");
                    self.lock().mtn.callback_errors.push(error);
                    break;
                }
            }
        }
        Ok(delivered)
    }

    async fn put_callback(&self, callback: &Callback) -> Result<Delivered, String> {
        let url = &callback.url;
        let response = self
            .client
            .put(url)
            .header(CONTENT_TYPE, "application/json")
            .body(callback.body.clone())
            .send()
            .await
            .map_err(|error| format!("PUT {url}: {error}"))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|error| format!("reading the answer of {url}: {error}"))?;
        tracing::debug!(
            kind = callback.status,
            status,
            "fake MTN callback delivered"
        );
        Ok(Delivered {
            provider: "mtn",
            kind: callback.status.to_owned(),
            status,
            body,
        })
    }
}
