//! Request to pay: a till that is online asks the network to collect the amount from the
//! customer's wallet, and completes the sale only once the network says it was paid. These are
//! the states such a request passes through, the reasons a network gives for refusing, said for
//! the cashier, and the rules on when to ask the network again.

use serde::{Deserialize, Serialize};

/// Where a request to pay stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Recorded, but the network has not (yet) acknowledged it: the answer was lost or never
    /// came. It is sent again under the same reference, which the network takes only once.
    Sending,
    /// The network took it; the customer has not yet approved or declined.
    Pending,
    Paid,
    Failed,
}

impl RequestState {
    pub const ALL: [RequestState; 4] = [
        RequestState::Sending,
        RequestState::Pending,
        RequestState::Paid,
        RequestState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Sending => "sending",
            RequestState::Pending => "pending",
            RequestState::Paid => "paid",
            RequestState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<RequestState> {
        RequestState::ALL
            .into_iter()
            .find(|state| state.as_str() == text.trim())
    }

    /// Paid and failed are final: nothing the network says later changes them.
    pub fn is_final(self) -> bool {
        matches!(self, RequestState::Paid | RequestState::Failed)
    }
}

/// What a network says of a request when asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetworkAnswer {
    /// It has no such request: it never arrived.
    Unknown,
    Pending,
    Paid {
        /// The network's own id of the payment, which its statement lists.
        transaction_id: String,
    },
    Failed {
        /// The network's reason code, e.g. `APPROVAL_REJECTED`.
        reason: String,
    },
}

/// A request that never reached the network is not sent any more after this long: the till has
/// stopped waiting, and a prompt on the customer's phone now would be for a sale that is over.
pub const REQUEST_EXPIRY_MILLIS: i64 = 5 * 60 * 1000;

/// The network is asked about a pending request at most this often, however often the till
/// asks the service: a till polling every second must not become a second of load upstream.
pub const RECHECK_MILLIS: i64 = 2_000;

/// Whether a request last checked at `checked_at` may be checked again at `now`.
pub fn due_for_check(state: RequestState, checked_at: i64, now: i64) -> bool {
    !state.is_final() && now.saturating_sub(checked_at) >= RECHECK_MILLIS
}

/// A failure reason code, as the cashier should hear it.
pub fn failure_message(reason: &str) -> String {
    let said = match reason.trim().to_ascii_uppercase().as_str() {
        "APPROVAL_REJECTED" | "REJECTED" => "The customer declined the payment on their phone.",
        "EXPIRED" | "TIMEOUT" | "TIMED_OUT" => {
            "The customer did not approve the payment in time. Ask again, or take another tender."
        }
        "NOT_ENOUGH_FUNDS" => "The customer's wallet does not hold enough money.",
        "PAYER_NOT_FOUND" | "PAYEE_NOT_FOUND" => {
            "That number has no mobile-money wallet on this network. Check the number."
        }
        "PAYER_LIMIT_REACHED" => "The customer's wallet has reached its limit for today.",
        "NOT_ALLOWED" | "NOT_ALLOWED_TARGET_ENVIRONMENT" => {
            "The network does not allow this shop's account to collect: check the settings."
        }
        "GIVEN_UP" => {
            "No answer came from the network in time: the payment was not taken. Ask again, or take another tender."
        }
        _ => "The network could not take the payment. Ask again, or take another tender.",
    };
    said.to_owned()
}

/// A payer's number as the networks want it: the international digits without `+`, a Ghanaian
/// number written from its leading 0 (`024 412 3456`) given its country code. `None` when it is
/// not a phone number at all.
pub fn msisdn(phone: &str) -> Option<String> {
    let packed: String = phone
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let digits = packed.strip_prefix('+').unwrap_or(&packed);
    let digits = digits.strip_prefix("00").unwrap_or(digits);
    if !(9..=15).contains(&digits.len()) || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some(match digits.strip_prefix('0') {
        Some(national) if national.len() == 9 => format!("233{national}"),
        _ => digits.to_owned(),
    })
}
