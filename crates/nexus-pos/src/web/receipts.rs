//! Receipts on screen (80 or 58 mm) and as ESC/POS bytes for a thermal printer.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{TillPath, TillQuery};
use super::{PageError, PageResult, ScreenState, page, to_sign_in};
use crate::receipt::{Paper, escpos, text};

#[derive(Template)]
#[template(path = "receipt.html")]
pub(super) struct ReceiptTemplate {
    id: Uuid,
    number: String,
    width_mm: u32,
    text: String,
    warnings: Vec<String>,
}

#[derive(Deserialize)]
pub(super) struct ReceiptQuery {
    paper: Option<String>,
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
    page(&ReceiptTemplate {
        id,
        number: record.receipt.receipt_number.clone(),
        width_mm: match paper {
            Paper::Mm80 => 80,
            Paper::Mm58 => 58,
        },
        text: text(&record.receipt, paper),
        warnings,
    })
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
