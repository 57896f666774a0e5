//! The till's own settings, for managers and owners: the receipt printer and its paper, the
//! cash drawer, whether a cashier's refund needs a manager, the blind cash-up and the float
//! limit. The same settings as `nexus pos settings`.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use nexus_domain::Currency;
use serde::Deserialize;

use super::extract::TillForm;
use super::{BannerView, PageResult, ScreenState, amount_mistake, page, to_sign_in};
use crate::printer::PrinterTarget;
use crate::receipt::Paper;
use crate::settings::may_change_station_settings;
use crate::till::SignedIn;
use crate::{SettingsChange, StationResult};

#[derive(Template)]
#[template(path = "settings.html")]
pub(super) struct SettingsTemplate {
    banner: BannerView,
    allowed: bool,
    error: Option<String>,
    done: Option<String>,
    currency: Currency,
    printer: String,
    paper_58: bool,
    cash_drawer: bool,
    returns_need_manager: bool,
    blind_cash_up: bool,
    float_limit: String,
}

async fn settings_response(
    screen: &ScreenState,
    who: &SignedIn,
    error: Option<String>,
    done: Option<String>,
) -> PageResult {
    let settings = screen.station.station_settings().await?;
    let currency = screen.station.till_settings().await?.currency;
    page(&SettingsTemplate {
        banner: screen.banner(Some(who)).await?,
        allowed: may_change_station_settings(who),
        error,
        done,
        currency,
        printer: settings
            .printer
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        paper_58: settings.paper == Paper::Mm58,
        cash_drawer: settings.cash_drawer,
        returns_need_manager: settings.returns_need_manager,
        blind_cash_up: settings.blind_cash_up,
        float_limit: currency.format_minor(screen.station.float_confirm_above(currency).await?),
    })
}

pub(super) async fn settings_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
) -> PageResult {
    let Some(who) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    settings_response(&screen, &who, None, None).await
}

#[derive(Deserialize)]
pub(super) struct SettingsForm {
    #[serde(default)]
    printer: String,
    #[serde(default)]
    paper: String,
    #[serde(default)]
    cash_drawer: String,
    #[serde(default)]
    returns_need_manager: String,
    #[serde(default)]
    blind_cash_up: String,
    #[serde(default)]
    float_limit: String,
}

/// The change the form asks for, or what is wrong with it, said for a manager.
fn change_of(form: &SettingsForm, currency: Currency) -> Result<(SettingsChange, i64), String> {
    let printer = match form.printer.trim() {
        "" => None,
        text => Some(
            text.parse::<PrinterTarget>()
                .map_err(|error| format!("Printer: {error}."))?,
        ),
    };
    let flag = |value: &str| value == "on";
    let float_limit = currency
        .parse_major(&form.float_limit)
        .map_err(|_| amount_mistake("the float limit", currency, &form.float_limit))?;
    Ok((
        SettingsChange {
            printer: Some(printer),
            paper: Some(Paper::parse(&form.paper).unwrap_or(Paper::Mm80)),
            cash_drawer: Some(flag(&form.cash_drawer)),
            returns_need_manager: Some(flag(&form.returns_need_manager)),
            blind_cash_up: Some(flag(&form.blind_cash_up)),
        },
        float_limit,
    ))
}

pub(super) async fn save_settings(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<SettingsForm>,
) -> PageResult {
    let Some(who) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    if !may_change_station_settings(&who) {
        return settings_response(&screen, &who, None, None).await;
    }
    let currency = screen.station.till_settings().await?.currency;
    let (change, float_limit) = match change_of(&form, currency) {
        Ok(change) => change,
        Err(mistake) => return settings_response(&screen, &who, Some(mistake), None).await,
    };
    screen.station.change_station_settings(&change).await?;
    screen
        .station
        .set_float_confirm_above(Some(float_limit))
        .await?;
    settings_response(&screen, &who, None, Some("Saved.".to_owned())).await
}

pub(super) async fn test_print(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
) -> PageResult {
    let Some(who) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    if !may_change_station_settings(&who) {
        return settings_response(&screen, &who, None, None).await;
    }
    let printed: StationResult<_> = screen.station.print_test_page().await;
    match printed? {
        None => {
            let mistake = "Set the printer's address or device first, and save.".to_owned();
            settings_response(&screen, &who, Some(mistake), None).await
        }
        Some(Ok(())) => {
            let done = "The test page went to the printer: its line of digits should fit one line.";
            settings_response(&screen, &who, None, Some(done.to_owned())).await
        }
        Some(Err(problem)) => {
            settings_response(&screen, &who, Some(problem.to_string()), None).await
        }
    }
}
