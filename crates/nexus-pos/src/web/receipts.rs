//! Receipts on screen (80 or 58 mm) and as ESC/POS bytes for a thermal printer.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{TillPath, TillQuery};
use super::{PageError, PageResult, ScreenState, page, to, to_sign_in};
use crate::printer::PrintError;
use crate::receipt::{Paper, escpos, text};

#[derive(Template)]
#[template(path = "receipt.html")]
pub(super) struct ReceiptTemplate {
    id: Uuid,
    number: String,
    width_mm: u32,
    /// Characters a line of this paper holds.
    columns: usize,
    text: String,
    warnings: Vec<String>,
    share: ShareView,
    /// The station's receipt printer, when it has one.
    printer: Option<String>,
    /// How the last print of this receipt went: printed, or what to do about it.
    print_status: Option<PrintStatus>,
}

pub(super) struct PrintStatus {
    printed: bool,
    message: String,
}

/// Sending the receipt to the customer's phone: the number as typed (or the mobile-money
/// payer's), and once it reads as a number, the WhatsApp and SMS links.
pub(super) struct ShareView {
    to: String,
    error: Option<String>,
    whatsapp: Option<String>,
    sms: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ReceiptQuery {
    paper: Option<String>,
    /// The customer's phone number to send the receipt to.
    to: Option<String>,
    /// How printing went: `ok`, or a [`PrintError::code`].
    printed: Option<String>,
}

/// The links that hand the receipt to the phone's WhatsApp or messages app, which send it when
/// the phone has a connection: nothing here needs the internet.
fn share_view(record: &crate::till::LocalRecord, typed: Option<&str>) -> ShareView {
    let receipt = &record.receipt;
    let payer = receipt
        .tenders
        .iter()
        .find_map(|tender| tender.phone.clone())
        .unwrap_or_default();
    let Some(typed) = typed.map(str::trim).filter(|typed| !typed.is_empty()) else {
        return ShareView {
            to: payer,
            error: None,
            whatsapp: None,
            sms: None,
        };
    };
    let calling_code = nexus_domain::phone::calling_code(receipt.currency);
    match nexus_domain::phone::international_number(typed, calling_code) {
        Ok(number) => {
            // The narrow layout reads on a phone; WhatsApp shows it in monospace between ```.
            let body = text(receipt, Paper::Mm58);
            ShareView {
                to: typed.to_owned(),
                error: None,
                whatsapp: Some(nexus_domain::phone::whatsapp_link(
                    &number,
                    &format!("```\n{body}```"),
                )),
                sms: Some(format!(
                    "sms:+{number}?body={}",
                    nexus_domain::phone::uri_component(&body)
                )),
            }
        }
        Err(error) => ShareView {
            to: typed.to_owned(),
            error: Some(error.to_string()),
            whatsapp: None,
            sms: None,
        },
    }
}

pub(super) fn paper_of(query: &ReceiptQuery) -> Paper {
    query
        .paper
        .as_deref()
        .and_then(Paper::parse)
        .unwrap_or(Paper::Mm80)
}

/// Receipt `id` of this station, for a signed-in caller (`None`: nobody is signed in).
pub(super) async fn signed_in_receipt(
    screen: &ScreenState,
    headers: &HeaderMap,
    id: Uuid,
) -> Result<Option<crate::till::LocalRecord>, PageError> {
    if screen.cashier(headers).is_none() {
        return Ok(None);
    }
    screen
        .station
        .local_sale(id)
        .await?
        .map(Some)
        .ok_or_else(|| PageError::NotFound("no such receipt at this station".to_owned()))
}

pub(super) async fn receipt_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(id): TillPath<Uuid>,
    TillQuery(query): TillQuery<ReceiptQuery>,
) -> PageResult {
    let Some(record) = signed_in_receipt(&screen, &headers, id).await? else {
        return Ok(to_sign_in());
    };
    let paper = paper_of(&query);
    let warnings = screen.station.momo_warnings(&record).await?;
    let printer = screen.station.station_settings().await?.printer;
    let print_status = match (query.printed.as_deref(), &printer) {
        (Some("ok"), Some(target)) => Some(PrintStatus {
            printed: true,
            message: format!("Printed on the receipt printer ({target})."),
        }),
        (Some(code), Some(target)) => {
            PrintError::from_code(code, target).map(|error| PrintStatus {
                printed: false,
                message: error.to_string(),
            })
        }
        _ => None,
    };
    page(&ReceiptTemplate {
        id,
        number: record.receipt.receipt_number.clone(),
        width_mm: paper.width_mm(),
        columns: paper.columns(),
        text: text(&record.receipt, paper),
        warnings,
        share: share_view(&record, query.to.as_deref()),
        printer: printer.map(|target| target.to_string()),
        print_status,
    })
}

/// Where the receipt page goes after printing `id`: the page, saying how it went.
pub(super) fn after_printing(id: Uuid, printed: &Result<(), PrintError>, first: bool) -> String {
    let code = match printed {
        Ok(()) => "ok",
        Err(error) => error.code(),
    };
    let new = if first { "new=1&" } else { "" };
    format!("/receipts/{id}?{new}printed={code}")
}

/// Prints receipt `id` again on the station's printer; the drawer stays shut.
pub(super) async fn reprint(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(id): TillPath<Uuid>,
) -> PageResult {
    let Some(record) = signed_in_receipt(&screen, &headers, id).await? else {
        return Ok(to_sign_in());
    };
    match screen.station.print_receipt(&record.receipt, false).await? {
        Some(printed) => Ok(to(&after_printing(id, &printed, false))),
        None => Err(PageError::Station(crate::StationError::Invalid(
            "this till has no receipt printer set: a manager sets one with `nexus pos settings --printer`".to_owned(),
        ))),
    }
}

pub(super) async fn receipt_escpos(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(id): TillPath<Uuid>,
    TillQuery(query): TillQuery<ReceiptQuery>,
) -> PageResult {
    let Some(record) = signed_in_receipt(&screen, &headers, id).await? else {
        return Ok(to_sign_in());
    };
    let bytes = escpos(&record.receipt, paper_of(&query));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}.escpos\"",
                    record.receipt.receipt_number
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
