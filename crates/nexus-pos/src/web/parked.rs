//! Parking the cart on screen and resuming a parked one.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use uuid::Uuid;

use super::extract::TillPath;
use super::sale::cart_response;
use super::{BannerView, PageResult, ScreenState, page, to, to_sign_in};
use crate::StationError;
use crate::till::Cart;

pub(super) async fn park(State(screen): State<ScreenState>, headers: HeaderMap) -> PageResult {
    let Some((cashier, cart, paid_on_phone)) = screen.with_session(&headers, |session| {
        (
            session.cashier.clone(),
            session.cart.clone(),
            !session.paid_requests.is_empty() || session.momo_request.is_some(),
        )
    }) else {
        return Ok(to_sign_in());
    };
    if paid_on_phone {
        // Parking drops the payments taken: money from the customer's wallet must not be.
        let message = "The customer has paid (or is paying) on their phone: complete this sale \
                       before parking it."
            .to_owned();
        return cart_response(&screen, &headers, Some(message), Vec::new()).await;
    }
    match screen
        .station
        .park(screen.clock.as_ref(), &cashier, &cart)
        .await
    {
        Ok(_) => {
            screen.with_session(&headers, |session| {
                session.cart = Cart::default();
                session.tenders.clear();
            });
            Ok(to("/"))
        }
        Err(StationError::Invalid(message)) => {
            cart_response(&screen, &headers, Some(message), Vec::new()).await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "parked.html")]
pub(super) struct ParkedTemplate {
    banner: BannerView,
    /// (id, label, parked at)
    parked: Vec<(Uuid, String, String)>,
}

pub(super) async fn parked_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let offset = screen.station.till_settings().await?.offset_minutes;
    let parked = screen
        .station
        .parked()
        .await?
        .into_iter()
        .map(|cart| {
            (
                cart.id,
                cart.label,
                nexus_domain::calendar::format_local_minute(cart.parked_at, offset),
            )
        })
        .collect();
    page(&ParkedTemplate {
        banner: screen.banner(Some(&cashier)).await?,
        parked,
    })
}

pub(super) async fn resume(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(id): TillPath<Uuid>,
) -> PageResult {
    let Some(current) = screen.cart(&headers) else {
        return Ok(to_sign_in());
    };
    if !current.is_empty() {
        return cart_response(
            &screen,
            &headers,
            Some("park or finish the cart on screen before resuming another".to_owned()),
            Vec::new(),
        )
        .await;
    }
    match screen.station.resume(id).await {
        Ok(cart) => {
            screen.with_session(&headers, |session| session.cart = cart);
            Ok(to("/"))
        }
        Err(StationError::Invalid(message)) => {
            cart_response(&screen, &headers, Some(message), Vec::new()).await
        }
        Err(error) => Err(error.into()),
    }
}
