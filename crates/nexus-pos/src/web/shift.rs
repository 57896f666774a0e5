//! Opening and closing the cashier's shift, expected against counted.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use nexus_domain::Currency;
use serde::Deserialize;

use super::extract::TillForm;
use super::{BannerView, PageResult, ScreenState, amount_mistake, money, page, to, to_sign_in};
use crate::StationError;
use crate::till::SignedIn;

/// How the screen names a tender kind of the shift figures.
pub(super) fn tender_label(kind: &str) -> &str {
    match kind {
        "cash" => "Cash",
        "momo" => "Mobile money",
        "card" => "Card",
        other => other,
    }
}

/// (tender, expected, counted, difference, difference in minor units).
pub(super) type CloseRow = (String, String, String, String, i64);

#[derive(Template)]
#[template(path = "shift.html")]
pub(super) struct ShiftTemplate {
    banner: BannerView,
    error: Option<String>,
    currency: Currency,
    /// (opened at, float) of the open shift.
    open: Option<(String, String)>,
    expected: Vec<(String, String)>,
    /// The figures after a close.
    closed: Option<Vec<CloseRow>>,
    /// A float above the station's limit, to confirm before the shift opens.
    confirm_float: Option<FloatCheck>,
    /// A blind cash-up: what is expected shows only once the counts are in.
    blind: bool,
    /// The shift's mobile money no network confirmed yet, when there is any.
    unverified_momo: Option<String>,
}

/// A float the cashier is asked about: as shown, the limit it is above, and as typed back.
pub(super) struct FloatCheck {
    float: String,
    limit: String,
    plain: String,
}

pub(super) async fn shift_response(
    screen: &ScreenState,
    cashier: &SignedIn,
    error: Option<String>,
    closed: Option<&crate::Shift>,
    confirm_float: Option<i64>,
) -> PageResult {
    let settings = screen.station.till_settings().await?;
    let currency = settings.currency;
    let open = screen.station.open_shift_of(cashier.id).await?;
    let confirm_float = match confirm_float {
        Some(float) => Some(FloatCheck {
            float: money(currency, float),
            limit: money(
                currency,
                screen.station.float_confirm_above(currency).await?,
            ),
            plain: currency.format_minor(float),
        }),
        None => None,
    };
    let blind = screen.station.station_settings().await?.blind_cash_up;
    let expected = match &open {
        Some(shift) if !blind => screen
            .station
            .expected_for_shift(shift)
            .await?
            .into_iter()
            .map(|(tender, amount)| (tender_label(&tender).to_owned(), money(currency, amount)))
            .collect(),
        _ => Vec::new(),
    };
    let unverified_momo = match closed
        .map(|shift| shift.id)
        .or(open.as_ref().map(|shift| shift.id))
    {
        Some(shift) => Some(screen.station.unverified_momo_for_shift(shift).await?)
            .filter(|amount| *amount > 0)
            .map(|amount| money(currency, amount)),
        None => None,
    };
    page(&ShiftTemplate {
        banner: screen.banner(Some(cashier)).await?,
        unverified_momo,
        error,
        currency,
        open: open.map(|shift| {
            (
                nexus_domain::calendar::format_local_minute(
                    shift.opened_at,
                    settings.offset_minutes,
                ),
                money(currency, shift.float_minor),
            )
        }),
        expected,
        closed: closed.map(|shift| {
            shift
                .tenders
                .iter()
                .map(|count| {
                    (
                        tender_label(&count.tender).to_owned(),
                        money(currency, count.expected_minor),
                        money(currency, count.counted_minor),
                        money(currency, count.difference_minor),
                        count.difference_minor,
                    )
                })
                .collect()
        }),
        confirm_float,
        blind,
    })
}

pub(super) async fn shift_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    shift_response(&screen, &cashier, None, None, None).await
}

#[derive(Deserialize)]
pub(super) struct OpenShiftForm {
    #[serde(default)]
    float: String,
    /// Set by the confirmation of a float above the station's limit.
    #[serde(default)]
    confirmed: bool,
}

pub(super) async fn open_shift(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<OpenShiftForm>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let currency = screen.station.till_settings().await?.currency;
    // The field starts empty (0.00 only as its hint), so what is typed is the float, and an
    // empty drawer is an empty field.
    let float = if form.float.trim().is_empty() {
        Ok(0)
    } else {
        currency.parse_major(&form.float)
    };
    if let Ok(float) = float
        && !form.confirmed
        && float > screen.station.float_confirm_above(currency).await?
    {
        return shift_response(&screen, &cashier, None, None, Some(float)).await;
    }
    let outcome = match float {
        Ok(float) => screen
            .station
            .open_shift(screen.clock.as_ref(), &cashier, float)
            .await
            .map(|_| ()),
        Err(_) => Err(StationError::Invalid(amount_mistake(
            "the float",
            currency,
            &form.float,
        ))),
    };
    match outcome {
        Ok(()) => {
            screen.wake.notify_one();
            Ok(to("/"))
        }
        Err(StationError::Invalid(message)) => {
            shift_response(&screen, &cashier, Some(message), None, None).await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct CloseShiftForm {
    #[serde(default)]
    cash: String,
    #[serde(default)]
    momo: String,
    #[serde(default)]
    card: String,
}

pub(super) async fn close_shift(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<CloseShiftForm>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let currency = screen.station.till_settings().await?.currency;
    let mut counted = BTreeMap::new();
    for (tender, text) in [
        ("cash", &form.cash),
        ("momo", &form.momo),
        ("card", &form.card),
    ] {
        let amount = if text.trim().is_empty() {
            Ok(0)
        } else {
            currency.parse_major(text)
        };
        match amount {
            Ok(amount) => {
                counted.insert(tender.to_owned(), amount);
            }
            Err(_) => {
                let what = match tender {
                    "cash" => "the cash counted",
                    "momo" => "the mobile money received",
                    _ => "the card slips' total",
                };
                return shift_response(
                    &screen,
                    &cashier,
                    Some(amount_mistake(what, currency, text)),
                    None,
                    None,
                )
                .await;
            }
        }
    }
    match screen
        .station
        .close_shift(screen.clock.as_ref(), &cashier, &counted)
        .await
    {
        Ok(shift) => {
            screen.wake.notify_one();
            shift_response(&screen, &cashier, None, Some(&shift), None).await
        }
        Err(StationError::Invalid(message)) => {
            shift_response(&screen, &cashier, Some(message), None, None).await
        }
        Err(error) => Err(error.into()),
    }
}
