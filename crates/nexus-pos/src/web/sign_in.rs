//! Signing in with a PIN and out: a session is a random cookie naming the member of staff.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::extract::TillForm;
use super::{
    BannerView, PageResult, SESSION_COOKIE, SESSION_IDLE_MILLIS, ScreenState, Session, message_of,
    page, session_key, to_sign_in,
};
use crate::StationError;
use crate::till::{Cart, SignedIn};

#[derive(Template)]
#[template(path = "sign_in.html")]
pub(super) struct SignInTemplate {
    banner: BannerView,
    staff: Vec<SignedIn>,
    error: Option<String>,
}

pub(super) async fn sign_in_page(State(screen): State<ScreenState>) -> PageResult {
    page(&SignInTemplate {
        banner: screen.banner(None).await?,
        staff: screen.station.till_staff().await?,
        error: None,
    })
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    staff_id: Option<String>,
    #[serde(default)]
    pin: String,
}

pub(super) async fn sign_in(
    State(screen): State<ScreenState>,
    TillForm(form): TillForm<SignInForm>,
) -> PageResult {
    let staff = form
        .staff_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .and_then(|id| id.parse::<Uuid>().ok());
    match screen
        .station
        .sign_in(screen.clock.as_ref(), staff, form.pin.trim())
        .await
    {
        Ok(cashier) => {
            let key = Uuid::new_v4().simple().to_string();
            let now = screen.clock.now().as_millis();
            let mut sessions = screen
                .sessions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            sessions.retain(|_, session| now - session.last_used_ms <= SESSION_IDLE_MILLIS);
            sessions.insert(
                key.clone(),
                Session {
                    cashier,
                    cart: Cart::default(),
                    tenders: Vec::new(),
                    momo_request: None,
                    paid_requests: Vec::new(),
                    last_used_ms: now,
                },
            );
            drop(sessions);
            let mut response = Redirect::to("/").into_response();
            if let Ok(cookie) = HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}={key}; Path=/; HttpOnly; SameSite=Strict"
            )) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Err(
            error @ (StationError::WrongPin { .. }
            | StationError::WrongPinNoName
            | StationError::PinLocked { .. }
            | StationError::PinSlowed { .. }
            | StationError::Invalid(_)),
        ) => {
            let mut response = page(&SignInTemplate {
                banner: screen.banner(None).await?,
                staff: screen.station.till_staff().await?,
                error: Some(message_of(&error)),
            })?;
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(response)
        }
        Err(error) => Err(error.into()),
    }
}

pub(super) async fn sign_out(State(screen): State<ScreenState>, headers: HeaderMap) -> Response {
    if let Some(key) = session_key(&headers) {
        screen
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key);
    }
    to_sign_in()
}
