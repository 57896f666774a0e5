//! Finding or recording a customer and attaching them to the cart.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{TillForm, TillPath, TillQuery};
use super::{BannerView, PageError, PageResult, ScreenState, page, to, to_sign_in};
use crate::StationError;

#[derive(Template)]
#[template(path = "customer.html")]
pub(super) struct CustomerTemplate {
    banner: BannerView,
    error: Option<String>,
    query: String,
    found: Vec<crate::Customer>,
}

#[derive(Deserialize)]
pub(super) struct CustomerQuery {
    #[serde(default)]
    q: String,
}

pub(super) async fn customer_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillQuery(query): TillQuery<CustomerQuery>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let found = if query.q.trim().is_empty() {
        Vec::new()
    } else {
        screen.station.search_customers(&query.q, 10).await?
    };
    page(&CustomerTemplate {
        banner: screen.banner(Some(&cashier)).await?,
        error: None,
        query: query.q,
        found,
    })
}

#[derive(Deserialize)]
pub(super) struct CustomerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
}

pub(super) async fn create_customer(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<CustomerForm>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let phone = Some(form.phone.as_str()).filter(|phone| !phone.trim().is_empty());
    match screen
        .station
        .create_customer(screen.clock.as_ref(), &cashier, &form.name, phone)
        .await
    {
        Ok(customer) => {
            screen.with_session(&headers, |session| session.cart.customer = Some(customer));
            Ok(to("/"))
        }
        Err(StationError::Invalid(message)) => page(&CustomerTemplate {
            banner: screen.banner(Some(&cashier)).await?,
            error: Some(message),
            query: String::new(),
            found: Vec::new(),
        }),
        Err(error) => Err(error.into()),
    }
}

pub(super) async fn attach_customer(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(id): TillPath<Uuid>,
) -> PageResult {
    let Some(customer) = screen.station.customer(id).await? else {
        return Err(PageError::NotFound("no such customer here".to_owned()));
    };
    match screen.with_session(&headers, |session| session.cart.customer = Some(customer)) {
        Some(()) => Ok(to("/")),
        None => Ok(to_sign_in()),
    }
}
