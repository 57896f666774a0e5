//! Receipts: search, a keyset-paged list, and one receipt with its lines, levies, tenders,
//! refunds and voids, where managers refund lines or void the sale.

use askama::Template;
use uuid::Uuid;

use crate::format::{Money, Qty, ShopTime};
use crate::forms::{Choice, FieldErrors};
use crate::fragment;
use crate::paths;

/// What the search form keeps: `?number=&from=&to=&branch=&cashier=&tender=&min=&max=`.
#[derive(Clone, Debug, Default)]
pub struct ReceiptSearch {
    pub number: String,
    pub from: String,
    pub to: String,
    pub min: String,
    pub max: String,
    /// "" (any) first.
    pub branches: Vec<Choice>,
    pub cashiers: Vec<Choice>,
    pub tenders: Vec<Choice>,
}

/// `GET /receipts?…`.
#[derive(Template)]
#[template(path = "receipts/list.html")]
pub struct ReceiptsContent {
    pub search: ReceiptSearch,
    pub errors: FieldErrors,
    pub rows: Vec<ReceiptRow>,
    pub next_page_url: Option<String>,
}

impl ReceiptsContent {
    pub fn action(&self) -> &'static str {
        paths::RECEIPTS
    }
}

fragment!(ReceiptsContent, |_page| "Receipts");

#[derive(Clone, Debug)]
pub struct ReceiptRow {
    pub id: Uuid,
    pub number: String,
    pub at: ShopTime,
    pub branch: String,
    pub cashier: String,
    pub total: Money,
    /// "Cash", "MTN MoMo + Cash".
    pub paid_by: String,
    pub status: ReceiptStatus,
}

impl ReceiptRow {
    pub fn url(&self) -> String {
        paths::receipt(&self.id)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiptStatus {
    Completed,
    PartlyRefunded,
    Refunded,
    Voided,
}

impl ReceiptStatus {
    pub fn label(&self) -> &'static str {
        match self {
            ReceiptStatus::Completed => "Paid",
            ReceiptStatus::PartlyRefunded => "Partly refunded",
            ReceiptStatus::Refunded => "Refunded",
            ReceiptStatus::Voided => "Voided",
        }
    }
    pub fn class(&self) -> &'static str {
        match self {
            ReceiptStatus::Completed => "badge paid",
            ReceiptStatus::PartlyRefunded => "badge partial",
            ReceiptStatus::Refunded | ReceiptStatus::Voided => "badge cancelled",
        }
    }
}

/// `GET /receipts/{id}`. The refund form posts to `/receipts/{id}/refund` with `qty_N` per
/// line N (from 0, as listed) and `reason`; the void form to `/receipts/{id}/void` with
/// `reason`.
#[derive(Template)]
#[template(path = "receipts/detail.html")]
pub struct ReceiptContent {
    pub csrf: String,
    pub id: Uuid,
    pub number: String,
    pub at: ShopTime,
    pub branch: String,
    pub till: String,
    pub cashier: String,
    pub status: ReceiptStatus,
    pub customer: Option<String>,
    /// Priced on the wholesale list.
    pub wholesale: bool,
    pub lines: Vec<ReceiptLine>,
    pub subtotal: Money,
    pub discount: Money,
    pub levies: Vec<LevyLine>,
    pub tax_total: Money,
    pub total: Money,
    /// "Prices include VAT and levies." / "VAT and levies added to prices." / empty.
    pub tax_note: String,
    pub tenders: Vec<TenderLine>,
    pub change: Money,
    pub refunds: Vec<RefundRecord>,
    pub void: Option<VoidRecord>,
    /// Owners and managers, on a sale that is neither voided nor fully refunded.
    pub can_refund: bool,
    pub can_void: bool,
    pub refund_errors: FieldErrors,
    pub void_errors: FieldErrors,
    pub refund_reason: String,
    pub void_reason: String,
}

impl ReceiptContent {
    pub fn refund_url(&self) -> String {
        paths::receipt_refund(&self.id)
    }
    pub fn void_url(&self) -> String {
        paths::receipt_void(&self.id)
    }
    pub fn back(&self) -> &'static str {
        paths::RECEIPTS
    }
    pub fn line_error(&self, index: &usize) -> Option<&str> {
        self.refund_errors.get(&format!("qty_{index}"))
    }
    pub fn has_refundable(&self) -> bool {
        self.lines
            .iter()
            .any(|line| line.refundable.0.is_positive())
    }
}

fragment!(ReceiptContent, |page| format!("Receipt {}", page.number));

#[derive(Clone, Debug)]
pub struct ReceiptLine {
    pub name: String,
    pub sku: String,
    pub quantity: Qty,
    /// Sold by the pack: "carton (24)", after the quantity of cartons.
    pub pack: Option<String>,
    pub unit_price: Money,
    pub discount: Money,
    pub total: Money,
    /// Sold less already refunded: the most the refund form accepts.
    pub refundable: Qty,
    /// What the refund form shows again after a mistake ("1"), or empty.
    pub refund_value: String,
}

#[derive(Clone, Debug)]
pub struct LevyLine {
    /// "VAT 15%".
    pub name: String,
    pub amount: Money,
}

#[derive(Clone, Debug)]
pub struct TenderLine {
    /// "Cash", "MTN MoMo".
    pub label: String,
    pub amount: Money,
    /// Payer's number and transaction id, or the card terminal's reference.
    pub reference: Option<String>,
    /// Mobile money taken offline and not yet checked against the network.
    pub unverified: bool,
}

#[derive(Clone, Debug)]
pub struct RefundRecord {
    pub at: ShopTime,
    pub by: String,
    /// What went back to the customer, as a positive amount.
    pub amount: Money,
    /// "1 × Royal Aroma Rice 1kg".
    pub lines: Vec<String>,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct VoidRecord {
    pub at: ShopTime,
    pub by: String,
    pub reason: String,
}
