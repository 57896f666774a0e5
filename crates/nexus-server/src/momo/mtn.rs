//! MTN MoMo Open API, Collections: an access token from `POST /collection/token/` (Basic
//! `apiUser:apiKey` and the subscription key), kept until shortly before it expires;
//! `POST /collection/v1_0/requesttopay` under the till's reference (`X-Reference-Id`), answered
//! 202; and `GET /collection/v1_0/requesttopay/{reference}` for where it stands. MTN sends its
//! callback once and never again, and signs nothing, so a callback only prompts a look here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use nexus_domain::momo::NetworkAnswer;
use nexus_store::MomoAccount;
use serde_json::{Value, json};

use super::{CollectError, Collections, PayRequest};

const NETWORK: &str = "MTN MoMo";

/// A token is renewed this long before MTN says it expires, so none expires in flight.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

struct Token {
    value: String,
    until: Instant,
}

pub(super) struct Mtn {
    client: reqwest::Client,
    api_base: String,
    /// Per account (user, key, subscription key and environment together, so a token is never
    /// lent to anyone without the key): one token serves every call of a shop for its hour.
    tokens: Mutex<HashMap<String, Token>>,
}

fn unanswered(detail: impl std::fmt::Display) -> CollectError {
    CollectError::Unanswered {
        network: NETWORK,
        detail: detail.to_string(),
    }
}

/// An answer that is not a success, as MTN writes them: `{"code", "message"}`, or
/// `{"error": "login_failed"}` from the token endpoint, or `{"statusCode", "message"}` from
/// its gateway.
fn refusal(status: reqwest::StatusCode, body: &[u8]) -> CollectError {
    if status.is_server_error() {
        return unanswered(format!("it answered {status}"));
    }
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = value["code"]
        .as_str()
        .or_else(|| value["error"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| match status.as_u16() {
            401 => "UNAUTHORIZED".to_owned(),
            other => format!("HTTP_{other}"),
        });
    let detail = value["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| status.to_string());
    CollectError::Refused {
        network: NETWORK,
        status: status.as_u16(),
        code,
        detail,
    }
}

/// What a cached token is kept under: everything that was needed to get it.
fn token_key(account: &MomoAccount) -> String {
    [
        account.api_user.as_str(),
        account.api_key.as_str(),
        account.subscription_key.as_str(),
        account.target_environment.as_str(),
    ]
    .join("\u{0}")
}

impl Mtn {
    pub(super) fn new(client: reqwest::Client, api_base: String) -> Self {
        Self {
            client,
            api_base: api_base.trim_end_matches('/').to_owned(),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/collection{path}", self.api_base)
    }

    fn cached_token(&self, account: &MomoAccount) -> Option<String> {
        let tokens = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tokens
            .get(&token_key(account))
            .filter(|token| token.until > Instant::now())
            .map(|token| token.value.clone())
    }

    fn forget_token(&self, account: &MomoAccount) {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&token_key(account));
    }

    async fn token(&self, account: &MomoAccount) -> Result<String, CollectError> {
        if let Some(token) = self.cached_token(account) {
            return Ok(token);
        }
        let response = self
            .client
            .post(self.url("/token/"))
            .basic_auth(&account.api_user, Some(&account.api_key))
            .header("Ocp-Apim-Subscription-Key", &account.subscription_key)
            .header("content-length", "0")
            .send()
            .await
            .map_err(|error| unanswered(format!("asking for a token: {error}")))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|error| unanswered(format!("reading the token: {error}")))?;
        if !status.is_success() {
            return Err(refusal(status, &body));
        }
        let value: Value = serde_json::from_slice(&body)
            .map_err(|error| unanswered(format!("the token answer is not JSON: {error}")))?;
        let token = value["access_token"]
            .as_str()
            .filter(|token| !token.is_empty())
            .ok_or_else(|| unanswered("the token answer has no access_token"))?
            .to_owned();
        let lifetime = Duration::from_secs(value["expires_in"].as_u64().unwrap_or(3600));
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                token_key(account),
                Token {
                    value: token.clone(),
                    until: Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN),
                },
            );
        Ok(token)
    }

    /// One call with the shop's token; a token MTN no longer takes is renewed once.
    async fn call(
        &self,
        account: &MomoAccount,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), CollectError> {
        for attempt in 0..2 {
            let token = self.token(account).await?;
            let response = build(&token)
                .header("Ocp-Apim-Subscription-Key", &account.subscription_key)
                .header("X-Target-Environment", &account.target_environment)
                .send()
                .await
                .map_err(unanswered)?;
            let status = response.status();
            let body = response.bytes().await.map_err(unanswered)?.to_vec();
            if status == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                self.forget_token(account);
                continue;
            }
            return Ok((status, body));
        }
        Err(unanswered("the token was refused twice"))
    }
}

#[async_trait]
impl Collections for Mtn {
    async fn request_to_pay(
        &self,
        account: &MomoAccount,
        request: &PayRequest<'_>,
    ) -> Result<(), CollectError> {
        let body = json!({
            "amount": request.amount,
            "currency": request.currency,
            "externalId": request.external_id,
            "payer": { "partyIdType": "MSISDN", "partyId": request.msisdn },
            "payerMessage": request.payer_message,
            "payeeNote": request.payee_note,
        });
        let reference = request.reference.to_string();
        let (status, answer) = self
            .call(account, |token| {
                let mut builder = self
                    .client
                    .post(self.url("/v1_0/requesttopay"))
                    .bearer_auth(token)
                    .header("X-Reference-Id", &reference)
                    .json(&body);
                if let Some(callback) = request.callback_url {
                    builder = builder.header("X-Callback-Url", callback);
                }
                builder
            })
            .await?;
        if status.is_success() {
            return Ok(());
        }
        // Sent before, its answer lost: MTN holds it under this reference, which is the point.
        if status == reqwest::StatusCode::CONFLICT {
            return Ok(());
        }
        Err(refusal(status, &answer))
    }

    async fn status(
        &self,
        account: &MomoAccount,
        reference: uuid::Uuid,
    ) -> Result<NetworkAnswer, CollectError> {
        let url = self.url(&format!("/v1_0/requesttopay/{reference}"));
        let (status, body) = self
            .call(account, |token| self.client.get(&url).bearer_auth(token))
            .await?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(NetworkAnswer::Unknown);
        }
        if !status.is_success() {
            return Err(refusal(status, &body));
        }
        let value: Value = serde_json::from_slice(&body)
            .map_err(|error| unanswered(format!("the status is not JSON: {error}")))?;
        let reason = || {
            value["reason"]["code"]
                .as_str()
                .or_else(|| value["reason"].as_str())
                .unwrap_or("FAILED")
                .to_owned()
        };
        Ok(match value["status"].as_str().unwrap_or_default() {
            "SUCCESSFUL" => NetworkAnswer::Paid {
                transaction_id: value["financialTransactionId"]
                    .as_str()
                    .filter(|id| !id.trim().is_empty())
                    .ok_or_else(|| unanswered("a payment without its financialTransactionId"))?
                    .to_owned(),
            },
            "FAILED" => NetworkAnswer::Failed { reason: reason() },
            "REJECTED" => NetworkAnswer::Failed {
                reason: "APPROVAL_REJECTED".to_owned(),
            },
            "TIMEOUT" | "EXPIRED" => NetworkAnswer::Failed {
                reason: "EXPIRED".to_owned(),
            },
            // PENDING, ONGOING, and whatever MTN adds: not final, ask again later.
            _ => NetworkAnswer::Pending,
        })
    }
}
