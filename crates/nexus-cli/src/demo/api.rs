//! Calls to the demo's own service over HTTP, as a merchant's tools make them: one keep-alive
//! client, sessions that refresh their access token before it runs out, and many calls in
//! flight at once.

use std::sync::Arc;

use nexus_domain::UnixMillis;
use serde_json::{Value, json};

/// How many calls [`post_all`] keeps in flight.
pub const IN_FLIGHT: usize = 8;

/// The service at `base`, as one caller (signed in or not). Cloning shares the connections.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: Arc<str>,
    token: Option<Arc<str>>,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.into(),
            token: None,
        }
    }

    /// The same service and connections, signed in with `token`.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Value, String> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|error| format!("{what}: {error}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|error| format!("{what}: {error}"))?;
        // 204 No Content says nothing more than that it worked.
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|error| format!("{what}: {error}"))?
        };
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("{what}: the service answered {status}: {body}"))
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        let request = self.http.post(format!("{}{path}", self.base)).json(body);
        self.send(request, &format!("POST {path}")).await
    }

    pub async fn post_csv(&self, path: &str, csv: String) -> Result<Value, String> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "text/csv")
            .body(csv);
        self.send(request, &format!("POST {path}")).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, String> {
        let request = self.http.put(format!("{}{path}", self.base)).json(body);
        self.send(request, &format!("PUT {path}")).await
    }

    pub async fn get(&self, path: &str) -> Result<Value, String> {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request, &format!("GET {path}")).await
    }
}

pub fn id_of(value: &Value, what: &str) -> Result<String, String> {
    value["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{what}: the answer has no id: {value}"))
}

/// Refreshed this long before the access token runs out by the service's clock.
const REFRESH_MARGIN_MILLIS: i64 = 60_000;

/// A signed-in member of staff, as a till or the dashboard holds them: an access token that is
/// refreshed (rotating the refresh token) when it is about to expire by the service's clock.
pub struct Session {
    anonymous: Api,
    api: Api,
    refresh_token: String,
    expires_at: i64,
}

impl Session {
    /// Signs in with a password (`POST /api/v1/auth/login`) at `now` by the service's clock.
    pub async fn login(
        anonymous: &Api,
        email: &str,
        password: &str,
        now: UnixMillis,
    ) -> Result<Session, String> {
        let tokens = anonymous
            .post(
                "/api/v1/auth/login",
                &json!({ "email": email, "password": password }),
            )
            .await?;
        Session::from_tokens(anonymous, &tokens, now)
    }

    /// The session whose tokens `answer` holds (a sign-in, registration or refresh), issued at
    /// `now` by the service's clock.
    pub fn from_tokens(
        anonymous: &Api,
        answer: &Value,
        now: UnixMillis,
    ) -> Result<Session, String> {
        let (Some(access), Some(refresh), Some(lasts)) = (
            answer["access_token"].as_str(),
            answer["refresh_token"].as_str(),
            answer["expires_in"].as_i64(),
        ) else {
            return Err(format!("the service answered no tokens: {answer}"));
        };
        Ok(Session {
            anonymous: anonymous.clone(),
            api: anonymous.with_token(access),
            refresh_token: refresh.to_owned(),
            expires_at: now.as_millis().saturating_add(lasts.saturating_mul(1000)),
        })
    }

    /// The session's API, with an access token good at `now` (refreshed first if need be).
    pub async fn api(&mut self, now: UnixMillis) -> Result<Api, String> {
        if now.as_millis() + REFRESH_MARGIN_MILLIS >= self.expires_at {
            let tokens = self
                .anonymous
                .post(
                    "/api/v1/auth/refresh",
                    &json!({ "refresh_token": self.refresh_token }),
                )
                .await?;
            *self = Session::from_tokens(&self.anonymous, &tokens, now)?;
        }
        Ok(self.api.clone())
    }
}

/// One POST of many sent by [`post_all`].
pub struct Call {
    pub api: Api,
    pub path: String,
    pub body: Value,
}

/// Sends every call, [`IN_FLIGHT`] at a time, and answers their bodies in the order of `calls`.
/// The first failure stops the rest.
pub async fn post_all(calls: Vec<Call>) -> Result<Vec<Value>, String> {
    let mut answers = vec![Value::Null; calls.len()];
    let mut pending = calls.into_iter().enumerate();
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        while in_flight.len() < IN_FLIGHT {
            let Some((index, call)) = pending.next() else {
                break;
            };
            in_flight.spawn(async move { (index, call.api.post(&call.path, &call.body).await) });
        }
        let Some(joined) = in_flight.join_next().await else {
            return Ok(answers);
        };
        let (index, answer) = joined.map_err(|error| error.to_string())?;
        answers[index] = answer?;
    }
}
