//! Purchase orders: suppliers, the orders with the form for a new one, and an order's page with
//! what arrived and the form to receive more.

use askama::Template;
use uuid::Uuid;

use crate::format::{Money, Qty, ShopTime};
use crate::forms::{Choice, FieldErrors};
use crate::fragment;
use crate::paths;

#[derive(Clone, Debug)]
pub struct OrderRow {
    pub id: Uuid,
    pub at: ShopTime,
    pub supplier: String,
    pub branch: String,
    pub open: bool,
    /// "12 of 15 received".
    pub progress: String,
}

impl OrderRow {
    pub fn url(&self) -> String {
        paths::order(&self.id)
    }
}

/// One line of the new-order form: fields `product_N` (SKU or barcode), `quantity_N`, `cost_N`.
#[derive(Clone, Debug, Default)]
pub struct OrderLineValues {
    pub product: String,
    pub quantity: String,
    pub cost: String,
    pub error: Option<String>,
}

/// `GET /inventory/orders`; posts to `/inventory/orders` (supplier, branch, lines) and to
/// `/inventory/suppliers` (name, phone).
#[derive(Template)]
#[template(path = "inventory/orders.html")]
pub struct OrdersContent {
    pub csrf: String,
    pub orders: Vec<OrderRow>,
    pub suppliers: Vec<Choice>,
    pub branches: Vec<Choice>,
    pub lines: Vec<OrderLineValues>,
    pub errors: FieldErrors,
    pub supplier_name: String,
    pub supplier_errors: FieldErrors,
    pub can_manage: bool,
}

impl OrdersContent {
    pub fn action(&self) -> &'static str {
        paths::ORDERS
    }
    pub fn supplier_action(&self) -> &'static str {
        paths::SUPPLIERS
    }
}

fragment!(OrdersContent, |_page| "Purchase orders");

#[derive(Clone, Debug)]
pub struct OrderLineRow {
    pub line_no: i32,
    pub product: String,
    pub ordered: Qty,
    pub received: Qty,
    pub cost: Money,
    /// What the receive form shows again after a mistake.
    pub value: String,
}

/// `GET /inventory/orders/{id}`; posts to `…/receive` (receipt, `receive_N` per line number)
/// and `…/close`.
#[derive(Template)]
#[template(path = "inventory/order.html")]
pub struct OrderContent {
    pub csrf: String,
    pub id: Uuid,
    pub supplier: String,
    pub branch: String,
    pub at: ShopTime,
    pub open: bool,
    pub lines: Vec<OrderLineRow>,
    /// How many receipts it had, each with when.
    pub receipts: Vec<ShopTime>,
    /// The id this page's receive form records under: sending the form twice counts once.
    pub receipt_id: Uuid,
    pub errors: FieldErrors,
    pub can_manage: bool,
}

impl OrderContent {
    pub fn receive_url(&self) -> String {
        format!("{}/receive", paths::order(&self.id))
    }
    pub fn close_url(&self) -> String {
        format!("{}/close", paths::order(&self.id))
    }
    pub fn back(&self) -> &'static str {
        paths::ORDERS
    }
}

fragment!(OrderContent, |_page| "Purchase order");
