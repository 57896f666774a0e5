//! The MTN MoMo Collections subset Nexus uses, under `/mtn`, as MTN's sandbox answers it: an
//! access token for the API user, a request to pay and its status. What the customer does on
//! their phone, and the callback that follows, is in `customer`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{Core, is_url, new_id};

mod customer;

/// How long an access token works, in seconds, as MTN issues them.
const TOKEN_SECONDS: i64 = 3600;

const PENDING: &str = "PENDING";
const SUCCESSFUL: &str = "SUCCESSFUL";
const FAILED: &str = "FAILED";

/// The kinds of payer MTN takes; only an MSISDN has a shape the fake checks.
const PARTY_ID_TYPES: [&str; 3] = ["MSISDN", "EMAIL", "PARTY_CODE"];

/// What MTN's network does on its own, on demand. Each is read when it matters: at the next
/// request for `lose_next_answer`, at each approval for the callback ones.
#[derive(Clone, Debug, Default)]
pub struct MomoFaults {
    /// The next request to pay is recorded (and charges the customer once they approve) but is
    /// answered 504 `{"code":"GATEWAY_TIMEOUT"}`, as a proxy answers when MTN's answer is
    /// lost; the flag then clears itself. Nexus can only learn the request exists by asking
    /// for its status under the same reference.
    pub lose_next_answer: bool,
    /// Every callback is PUT twice, the same bytes both times.
    pub duplicate_callbacks: bool,
    /// No callback is sent: only polling finds the outcome.
    pub drop_callbacks: bool,
}

#[derive(Default)]
pub(crate) struct Data {
    /// Issued access tokens and the Unix second each stops working.
    tokens: HashMap<String, i64>,
    requests: Vec<RequestToPay>,
    pub(crate) posts: usize,
    pub(crate) faults: MomoFaults,
    pub(crate) auto_approve: Option<Duration>,
    pub(crate) callback_errors: Vec<String>,
    /// The last `financialTransactionId` given; 0 until the first, which starts at random so
    /// that two fakes (two tests sharing a database) do not hand out the same ids.
    last_transaction: u64,
}

struct RequestToPay {
    /// As Nexus sent it.
    reference_id: String,
    /// What the reference is matched by, so that its case does not matter, as for any UUID.
    uuid: Uuid,
    amount: String,
    currency: String,
    external_id: String,
    party_id_type: String,
    party_id: String,
    payer_message: String,
    payee_note: String,
    callback_url: Option<String>,
    status: &'static str,
    /// MTN's code and a message, when FAILED.
    reason: Option<(&'static str, &'static str)>,
    financial_transaction_id: Option<String>,
}

impl RequestToPay {
    /// As `GET /collection/v1_0/requesttopay/{referenceId}` answers it; the callback carries
    /// the same, since MTN sends the status object there too.
    fn json(&self) -> Value {
        let mut answer = json!({
            "amount": self.amount,
            "currency": self.currency,
            "externalId": self.external_id,
            "payer": {"partyIdType": self.party_id_type, "partyId": self.party_id},
            "payerMessage": self.payer_message,
            "payeeNote": self.payee_note,
            "status": self.status,
        });
        if let Some(id) = &self.financial_transaction_id {
            answer["financialTransactionId"] = json!(id);
        }
        if let Some((code, message)) = self.reason {
            answer["reason"] = json!({"code": code, "message": message});
        }
        answer
    }
}

impl Data {
    pub(crate) fn requests(&self) -> Vec<Value> {
        self.requests
            .iter()
            .map(|request| {
                let mut listed = request.json();
                listed["referenceId"] = json!(request.reference_id);
                listed["callbackUrl"] = json!(request.callback_url);
                listed
            })
            .collect()
    }

    fn index(&self, reference_id: &str) -> Option<usize> {
        let uuid = Uuid::try_parse(reference_id).ok()?;
        self.requests.iter().position(|r| r.uuid == uuid)
    }

    /// Digits, as MTN's ids are, one more than the last so none repeats within a fake.
    fn next_transaction_id(&mut self) -> String {
        if self.last_transaction == 0 {
            let random = Uuid::now_v7().as_u128() % 8_000_000_000;
            self.last_transaction = 1_000_000_000 + u64::try_from(random).unwrap_or(0);
        }
        self.last_transaction += 1;
        self.last_transaction.to_string()
    }
}

pub(crate) fn router(core: Arc<Core>) -> Router<Arc<Core>> {
    // The token call has its own credentials (Basic, the API user), so only the collection
    // calls go through the Bearer gate.
    let collection = Router::new()
        .route("/collection/v1_0/requesttopay", post(request_to_pay))
        .route("/collection/v1_0/requesttopay/{reference}", get(status))
        .fallback(unknown)
        .layer(from_fn_with_state(core, gate));
    Router::new()
        .route("/collection/token/", post(token))
        .route("/collection/token", post(token))
        .merge(collection)
}

struct Refusal(StatusCode, Value);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

/// MTN's usual error body.
fn refusal(status: StatusCode, code: &str, message: &str) -> Refusal {
    Refusal(status, json!({"code": code, "message": message}))
}

fn invalid(message: &str) -> Refusal {
    refusal(StatusCode::BAD_REQUEST, "INVALID_INPUT", message)
}

fn not_found() -> Refusal {
    refusal(
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        "Requested resource was not found.",
    )
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok()
}

/// What every MTN call meets first: the shared delay and planned outages, then MTN's API
/// gateway, which looks at the subscription key before anything behind it. MTN's three keys
/// are answered three ways, so the shared one-Bearer-key `Gate` does not fit them.
async fn admit(core: &Core, headers: &HeaderMap) -> Result<(), Refusal> {
    if core.outage().await {
        return Err(refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_PROCESSING_ERROR",
            "An internal error occurred while processing.",
        ));
    }
    let subscription_key = header(headers, "ocp-apim-subscription-key");
    if subscription_key != Some(core.config.mtn_subscription_key.as_str()) {
        let message = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";
        return Err(Refusal(
            StatusCode::UNAUTHORIZED,
            json!({"statusCode": 401, "message": message}),
        ));
    }
    Ok(())
}

/// The collection calls: counted, admitted, then a live token and the right environment.
async fn gate(State(core): State<Arc<Core>>, request: Request, next: Next) -> Response {
    if request.method() == Method::POST && request.uri().path().ends_with("/requesttopay") {
        core.lock().mtn.posts += 1;
    }
    let admitted = admit(&core, request.headers())
        .await
        .and_then(|()| authorize(&core, request.headers()));
    match admitted {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

fn authorize(core: &Core, headers: &HeaderMap) -> Result<(), Refusal> {
    let now = core.now();
    let token = header(headers, AUTHORIZATION.as_str()).and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    });
    let live = token.is_some_and(|token| {
        let ledger = core.lock();
        ledger
            .mtn
            .tokens
            .get(token)
            .is_some_and(|until| now < *until)
    });
    if !live {
        return Err(refusal(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "The access token is missing, unknown or expired.",
        ));
    }
    let environment = header(headers, "x-target-environment");
    if environment != Some(core.config.mtn_target_environment.as_str()) {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "INVALID_TARGET_ENVIRONMENT",
            "X-Target-Environment does not name this API user's environment.",
        ));
    }
    Ok(())
}

/// `POST /collection/token/`: an access token for the API user's `Basic` credentials.
async fn token(State(core): State<Arc<Core>>, headers: HeaderMap) -> Response {
    if let Err(refusal) = admit(&core, &headers).await {
        return refusal.into_response();
    }
    let config = &core.config;
    let known = credentials(&headers)
        .is_some_and(|(user, key)| user == config.mtn_api_user && key == config.mtn_api_key);
    if !known {
        let body = json!({"error": "login_failed"});
        return Refusal(StatusCode::UNAUTHORIZED, body).into_response();
    }
    let token = new_id("");
    let until = core.now() + TOKEN_SECONDS;
    core.lock().mtn.tokens.insert(token.clone(), until);
    Json(json!({"access_token": token, "token_type": "access_token", "expires_in": TOKEN_SECONDS}))
        .into_response()
}

/// The user and key of a `Basic` Authorization header.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let (scheme, encoded) = header(headers, AUTHORIZATION.as_str())?.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, key) = decoded.split_once(':')?;
    Some((user.to_owned(), key.to_owned()))
}

/// Standard base64, with or without its `=` padding, which is all a Basic header carries.
/// None for anything else, so that a garbled header is a failed login rather than a guess.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text
        .strip_suffix("==")
        .or_else(|| text.strip_suffix('='))
        .unwrap_or(text);
    // One character left over carries 6 bits, less than a byte: no encoder writes that.
    if text.len() % 4 == 1 {
        return None;
    }
    let mut bytes = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let (mut buffer, mut bits) = (0_u32, 0_u32);
    for character in text.bytes() {
        let value = match character {
            b'A'..=b'Z' => character - b'A',
            b'a'..=b'z' => character - b'a' + 26,
            b'0'..=b'9' => character - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        // Only the bits not yet written out are kept, at most 12 of them.
        buffer = ((buffer << 6) | u32::from(value)) & 0xfff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(bytes)
}

/// A request just recorded, and what its handler still has to do outside the lock.
struct Recorded {
    reference_id: String,
    answer_lost: bool,
    auto_approve: Option<Duration>,
}

/// `POST /collection/v1_0/requesttopay`: recorded PENDING and answered 202 with no body; the
/// outcome comes later, from the customer's phone.
async fn request_to_pay(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let recorded = match record(&core, &headers, &body) {
        Ok(recorded) => recorded,
        Err(refusal) => return refusal.into_response(),
    };
    if let Some(after) = recorded.auto_approve {
        let core = core.clone();
        let reference_id = recorded.reference_id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            if let Err(problem) = core.momo_approve(&reference_id).await {
                tracing::warn!(%problem, "the fake MTN request did not approve itself");
            }
        });
    }
    if recorded.answer_lost {
        let body = json!({"code": "GATEWAY_TIMEOUT"});
        return (StatusCode::GATEWAY_TIMEOUT, Json(body)).into_response();
    }
    StatusCode::ACCEPTED.into_response()
}

/// Checks the request and records it, all under one lock so that two POSTs with one
/// reference cannot both be recorded.
fn record(core: &Core, headers: &HeaderMap, body: &[u8]) -> Result<Recorded, Refusal> {
    let reference_id = header(headers, "x-reference-id").unwrap_or_default();
    // MTN wants the hyphenated form; uuid also reads others, hence the length.
    let uuid = Uuid::try_parse(reference_id)
        .ok()
        .filter(|_| reference_id.len() == 36)
        .ok_or_else(|| {
            refusal(
                StatusCode::BAD_REQUEST,
                "INVALID_REFERENCE_ID",
                "X-Reference-Id must be a UUID.",
            )
        })?;
    let callback_url = header(headers, "x-callback-url").filter(|url| !url.is_empty());
    if callback_url.is_some_and(|url| !is_url(url)) {
        return Err(invalid("X-Callback-Url is not a URL."));
    }
    let input = match serde_json::from_slice(body) {
        Ok(Value::Object(input)) => input,
        _ => return Err(invalid("The body is not a JSON object.")),
    };
    let amount = match input.get("amount") {
        Some(Value::String(amount)) if is_positive_decimal(amount) => amount.clone(),
        _ => {
            return Err(invalid(
                "amount must be a positive decimal number in a string.",
            ));
        }
    };
    let currency = match input.get("currency") {
        Some(Value::String(code))
            if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) =>
        {
            code.clone()
        }
        _ => return Err(invalid("currency must be an ISO 4217 code.")),
    };
    let (party_id_type, party_id) = payer(&input)?;
    let request = RequestToPay {
        reference_id: reference_id.to_owned(),
        uuid,
        amount,
        currency,
        external_id: text(&input, "externalId")?,
        party_id_type,
        party_id,
        payer_message: text(&input, "payerMessage")?,
        payee_note: text(&input, "payeeNote")?,
        callback_url: callback_url.map(str::to_owned),
        status: PENDING,
        reason: None,
        financial_transaction_id: None,
    };
    let mut ledger = core.lock();
    let mtn = &mut ledger.mtn;
    if mtn.requests.iter().any(|r| r.uuid == uuid) {
        return Err(refusal(
            StatusCode::CONFLICT,
            "RESOURCE_ALREADY_EXIST",
            "Duplicated reference id. Creation for resource failed.",
        ));
    }
    mtn.requests.push(request);
    Ok(Recorded {
        reference_id: reference_id.to_owned(),
        answer_lost: std::mem::take(&mut mtn.faults.lose_next_answer),
        auto_approve: mtn.auto_approve,
    })
}

/// Digits with at most one point between them, not all zeros: `"12.50"`, `"5"`; not `".5"`,
/// `"1e3"` or `"-1"`, which MTN refuses too.
fn is_positive_decimal(text: &str) -> bool {
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    digits(whole) && fraction.is_none_or(digits) && text.bytes().any(|b| matches!(b, b'1'..=b'9'))
}

fn payer(input: &Map<String, Value>) -> Result<(String, String), Refusal> {
    let Some(Value::Object(payer)) = input.get("payer") else {
        return Err(invalid("payer is required."));
    };
    let party_id_type = match payer.get("partyIdType") {
        Some(Value::String(kind)) if PARTY_ID_TYPES.contains(&kind.as_str()) => kind,
        _ => {
            return Err(invalid(
                "payer.partyIdType must be MSISDN, EMAIL or PARTY_CODE.",
            ));
        }
    };
    let party_id = match payer.get("partyId") {
        Some(Value::String(id)) if !id.is_empty() => id,
        _ => return Err(invalid("payer.partyId is required.")),
    };
    if party_id_type == "MSISDN" && !party_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "An MSISDN is digits only, country code first, no plus sign.",
        ));
    }
    Ok((party_id_type.clone(), party_id.clone()))
}

/// An optional string field, empty when absent; anything but a string or null is refused.
fn text(input: &Map<String, Value>, key: &str) -> Result<String, Refusal> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(invalid(&format!("{key} must be a string."))),
    }
}

/// `GET /collection/v1_0/requesttopay/{referenceId}`: the request in its current state.
async fn status(State(core): State<Arc<Core>>, Path(reference): Path<String>) -> Response {
    let ledger = core.lock();
    match ledger.mtn.index(&reference) {
        Some(index) => Json(ledger.mtn.requests[index].json()).into_response(),
        None => not_found().into_response(),
    }
}

async fn unknown() -> Response {
    not_found().into_response()
}

#[cfg(test)]
mod tests {
    use super::{base64_decode, is_positive_decimal};

    #[test]
    fn base64_with_and_without_padding() {
        let decode = |text| base64_decode(text).map(|bytes| String::from_utf8(bytes).ok());
        assert_eq!(decode("Zm9vOmJhcg=="), Some(Some("foo:bar".to_owned())));
        assert_eq!(decode("Zm9vOmJhcg"), Some(Some("foo:bar".to_owned())));
        assert_eq!(decode("Zm9vOmJh"), Some(Some("foo:ba".to_owned())));
        assert_eq!(decode("Zm9vOmI="), Some(Some("foo:b".to_owned())));
        assert_eq!(decode("YT8+Lw"), Some(Some("a?>/".to_owned())));
        assert_eq!(decode(""), Some(Some(String::new())));
        assert_eq!(decode("Zm9v!"), None);
        assert_eq!(decode("Zm9vO"), None);
        assert_eq!(decode("Zm9v OmI="), None);
    }

    #[test]
    fn amounts() {
        for good in ["12.50", "5", "0.01", "100.0"] {
            assert!(is_positive_decimal(good), "{good}");
        }
        for bad in [
            "", "0", "0.00", ".5", "5.", "1e3", "-1", "1.2.3", "1,5", " 5",
        ] {
            assert!(!is_positive_decimal(bad), "{bad}");
        }
    }
}
