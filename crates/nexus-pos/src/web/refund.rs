//! Refunds and voids at the counter, by receipt number.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use nexus_domain::Quantity;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{TillForm, TillPath, TillQuery};
use super::{BannerView, PageResult, ScreenState, money, page, quantity_mistake, to, to_sign_in};
use crate::StationError;
use crate::till::{Returner, SignedIn};

pub(super) struct RefundLineView {
    line_no: i32,
    name: String,
    sold: String,
    returned: String,
}

pub(super) struct RefundSaleView {
    id: Uuid,
    number: String,
    total: String,
    lines: Vec<RefundLineView>,
}

#[derive(Template)]
#[template(path = "refund.html")]
pub(super) struct RefundTemplate {
    banner: BannerView,
    error: Option<String>,
    receipt_query: String,
    sale: Option<RefundSaleView>,
    /// The refund and void forms ask for a manager's PIN.
    needs_approval: bool,
}

#[derive(Deserialize)]
pub(super) struct RefundQuery {
    #[serde(default)]
    receipt: String,
}

pub(super) async fn refund_response(
    screen: &ScreenState,
    cashier: &SignedIn,
    receipt_query: &str,
    error: Option<String>,
) -> PageResult {
    let mut error = error;
    let mut sale = None;
    if !receipt_query.trim().is_empty() {
        match screen.station.sale_by_receipt(receipt_query).await? {
            Some(record) if record.kind == "sale" => {
                let returned = screen.station.returned_lines(record.id).await?;
                let currency = record.receipt.currency;
                sale = Some(RefundSaleView {
                    id: record.id,
                    number: record.receipt.receipt_number.clone(),
                    total: money(currency, record.receipt.total_minor),
                    lines: record
                        .receipt
                        .lines
                        .iter()
                        .map(|line| RefundLineView {
                            line_no: line.line_no,
                            name: line.name.clone(),
                            sold: line.quantity.to_string(),
                            returned: Quantity::from_milli(
                                returned.get(&line.line_no).copied().unwrap_or(0),
                            )
                            .to_string(),
                        })
                        .collect(),
                });
            }
            Some(_) => error = error.or(Some("that receipt is a refund or void".to_owned())),
            None => {
                error = error.or(Some(format!(
                    "no sale with receipt {:?} at this station",
                    receipt_query.trim()
                )));
            }
        }
    }
    page(&RefundTemplate {
        banner: screen.banner(Some(cashier)).await?,
        error,
        receipt_query: receipt_query.to_owned(),
        sale,
        needs_approval: screen
            .station
            .station_settings()
            .await?
            .return_needs_approval(cashier),
    })
}

pub(super) async fn refund_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillQuery(query): TillQuery<RefundQuery>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    refund_response(&screen, &cashier, &query.receipt, None).await
}

pub(super) async fn refund(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(id): TillPath<Uuid>,
    TillForm(form): TillForm<BTreeMap<String, String>>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let receipt_number = screen
        .station
        .local_sale(id)
        .await?
        .map(|record| record.receipt.receipt_number)
        .unwrap_or_default();
    let mut lines = Vec::new();
    for (name, value) in &form {
        let Some(line_no) = name.strip_prefix("line_") else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        let line_no: i32 = match line_no.parse() {
            Ok(line_no) => line_no,
            Err(_) => continue,
        };
        match value.trim().parse::<Quantity>() {
            Ok(quantity) => lines.push((line_no, quantity)),
            Err(_) => {
                return refund_response(
                    &screen,
                    &cashier,
                    &receipt_number,
                    Some(quantity_mistake(value)),
                )
                .await;
            }
        }
    }
    let tender = form.get("tender").map_or("cash", String::as_str);
    let reason = form.get("reason").map(String::as_str);
    let pin = form.get("manager_pin").map_or("", String::as_str);
    let approver = match approval(&screen, pin).await {
        Ok(approver) => approver,
        Err(StationError::Invalid(message)) => {
            return refund_response(&screen, &cashier, &receipt_number, Some(message)).await;
        }
        Err(error) => return Err(error.into()),
    };
    match screen
        .station
        .refund(
            screen.clock.as_ref(),
            Returner {
                cashier: &cashier,
                approver: approver.as_ref(),
            },
            id,
            &lines,
            tender,
            reason,
        )
        .await
    {
        Ok(done) => {
            screen.wake.notify_one();
            Ok(to(&format!("/receipts/{}", done.id)))
        }
        Err(StationError::Invalid(message)) => {
            refund_response(&screen, &cashier, &receipt_number, Some(message)).await
        }
        Err(error) => Err(error.into()),
    }
}

/// The manager whose PIN was typed into the form, if one was.
async fn approval(screen: &ScreenState, pin: &str) -> Result<Option<SignedIn>, StationError> {
    if pin.trim().is_empty() {
        return Ok(None);
    }
    screen
        .station
        .approver(screen.clock.as_ref(), pin.trim())
        .await
        .map(Some)
}

#[derive(Deserialize)]
pub(super) struct VoidForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    manager_pin: String,
}

pub(super) async fn void(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(id): TillPath<Uuid>,
    TillForm(form): TillForm<VoidForm>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let outcome = match approval(&screen, &form.manager_pin).await {
        Ok(approver) => {
            screen
                .station
                .void(
                    screen.clock.as_ref(),
                    Returner {
                        cashier: &cashier,
                        approver: approver.as_ref(),
                    },
                    id,
                    &form.reason,
                )
                .await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(done) => {
            screen.wake.notify_one();
            Ok(to(&format!("/receipts/{}", done.id)))
        }
        Err(StationError::Invalid(message)) => {
            let receipt_number = screen
                .station
                .local_sale(id)
                .await?
                .map(|record| record.receipt.receipt_number)
                .unwrap_or_default();
            refund_response(&screen, &cashier, &receipt_number, Some(message)).await
        }
        Err(error) => Err(error.into()),
    }
}
