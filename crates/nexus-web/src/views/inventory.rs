//! Inventory: on-hand per branch with its alerts, and the forms that move stock (receive,
//! adjust, count, transfer), and one product's movement history.

use askama::Template;
use uuid::Uuid;

use crate::format::{Qty, ShopTime};
use crate::forms::{Choice, FieldErrors};
use crate::paths;
use crate::{fragment, html_safe};

/// `GET /inventory?branch=&q=`. The tables are [`InventoryLive`], refreshed on `stock` events.
#[derive(Template)]
#[template(path = "inventory/inventory.html")]
pub struct InventoryContent {
    pub branch_name: String,
    /// The branches this person may see; the current one selected.
    pub branches: Vec<Choice>,
    pub query: String,
    pub can_manage: bool,
    pub live_url: String,
    pub live: InventoryLive,
}

impl InventoryContent {
    pub fn action(&self) -> &'static str {
        paths::INVENTORY
    }
    pub fn receive(&self) -> &'static str {
        paths::INVENTORY_RECEIVE
    }
    pub fn orders(&self) -> &'static str {
        paths::ORDERS
    }
    pub fn adjust(&self) -> &'static str {
        paths::INVENTORY_ADJUST
    }
    pub fn count(&self) -> &'static str {
        paths::INVENTORY_COUNT
    }
    pub fn transfer(&self) -> &'static str {
        paths::INVENTORY_TRANSFER
    }
}

fragment!(InventoryContent, |page| format!(
    "Inventory at {}",
    page.branch_name
));

#[derive(Template)]
#[template(path = "inventory/live.html")]
pub struct InventoryLive {
    pub branch_id: Uuid,
    /// Below zero: sold more than the books hold; count them.
    pub reconciliation: Vec<StockRow>,
    /// At or below the reorder level.
    pub low_stock: Vec<StockRow>,
    pub on_hand: Vec<StockRow>,
    pub next_page_url: Option<String>,
    pub as_of: ShopTime,
}

html_safe!(InventoryLive);

#[derive(Clone, Debug)]
pub struct StockRow {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub on_hand: Qty,
    pub reorder_level: Qty,
}

impl StockRow {
    pub fn is_negative(&self) -> bool {
        self.on_hand.is_negative()
    }
    pub fn is_low(&self) -> bool {
        self.on_hand.0 <= self.reorder_level.0
    }
    pub fn history_url(&self, branch: &Uuid) -> String {
        paths::product_movements(&self.product_id, branch)
    }
}

/// One line of a multi-line stock form: a product (SKU or barcode) and a quantity.
#[derive(Clone, Debug, Default)]
pub struct LineValues {
    pub product: String,
    pub quantity: String,
    pub error: Option<String>,
}

/// `GET/POST /inventory/receive`. Fields: branch, reference (delivery note), and per line N
/// `product_N` (SKU or barcode) and `quantity_N`; empty lines are ignored.
#[derive(Template)]
#[template(path = "inventory/receive.html")]
pub struct ReceiveContent {
    pub csrf: String,
    pub branches: Vec<Choice>,
    pub reference: String,
    pub lines: Vec<LineValues>,
    pub errors: FieldErrors,
}

impl ReceiveContent {
    pub fn action(&self) -> &'static str {
        paths::INVENTORY_RECEIVE
    }
    pub fn back(&self) -> &'static str {
        paths::INVENTORY
    }
}

fragment!(ReceiveContent, |_page| "Receive goods");

/// Why stock is adjusted; the value is stored as the movement's reason.
pub const ADJUSTMENT_REASONS: &[(&str, &str)] = &[
    ("damaged", "Damaged"),
    ("expired", "Expired"),
    ("missing", "Missing or stolen"),
    ("found", "Found"),
    ("own_use", "Taken for the shop's own use"),
    ("correction", "Correcting a mistake"),
];

/// `GET/POST /inventory/adjust`. Fields: branch, product, quantity (signed: "-2" removes
/// two), reason (one of [`ADJUSTMENT_REASONS`]), note.
#[derive(Template)]
#[template(path = "inventory/adjust.html")]
pub struct AdjustContent {
    pub csrf: String,
    pub branches: Vec<Choice>,
    pub product: String,
    pub quantity: String,
    pub reason: String,
    pub note: String,
    pub errors: FieldErrors,
}

impl AdjustContent {
    pub fn action(&self) -> &'static str {
        paths::INVENTORY_ADJUST
    }
    pub fn back(&self) -> &'static str {
        paths::INVENTORY
    }
    pub fn reasons(&self) -> Vec<Choice> {
        ADJUSTMENT_REASONS
            .iter()
            .map(|(value, label)| Choice::new(*value, *label).selected_if(*value == self.reason))
            .collect()
    }
}

fragment!(AdjustContent, |_page| "Adjust stock");

/// `GET/POST /inventory/count?branch=`. Fields: branch, and per row N `product_N` (hidden id)
/// and `counted_N`; rows left empty are not counted.
#[derive(Template)]
#[template(path = "inventory/count.html")]
pub struct CountContent {
    pub csrf: String,
    pub branch_id: Uuid,
    pub branch_name: String,
    pub rows: Vec<CountRow>,
    pub errors: FieldErrors,
    pub next_page_url: Option<String>,
}

#[derive(Clone, Debug)]
pub struct CountRow {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub expected: Qty,
    /// As typed, or empty.
    pub counted: String,
    pub error: Option<String>,
}

impl CountContent {
    pub fn action(&self) -> &'static str {
        paths::INVENTORY_COUNT
    }
    pub fn back(&self) -> &'static str {
        paths::INVENTORY
    }
}

fragment!(CountContent, |page| format!(
    "Count stock at {}",
    page.branch_name
));

/// `GET/POST /inventory/transfer`. Fields: from, to, note, and `product_N` / `quantity_N`.
#[derive(Template)]
#[template(path = "inventory/transfer.html")]
pub struct TransferContent {
    pub csrf: String,
    pub from: Vec<Choice>,
    pub to: Vec<Choice>,
    pub note: String,
    pub lines: Vec<LineValues>,
    pub errors: FieldErrors,
}

impl TransferContent {
    pub fn action(&self) -> &'static str {
        paths::INVENTORY_TRANSFER
    }
    pub fn back(&self) -> &'static str {
        paths::INVENTORY
    }
}

fragment!(TransferContent, |_page| "Move stock to another branch");

/// `GET /inventory/products/{id}?branch=`: every movement of one product in one branch.
#[derive(Template)]
#[template(path = "inventory/movements.html")]
pub struct MovementsContent {
    pub product_name: String,
    pub sku: String,
    pub branch_name: String,
    pub on_hand: Qty,
    pub rows: Vec<MovementRow>,
    pub next_page_url: Option<String>,
}

impl MovementsContent {
    pub fn back(&self) -> &'static str {
        paths::INVENTORY
    }
}

fragment!(MovementsContent, |page| format!(
    "Stock history of {}",
    page.product_name
));

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MovementKind {
    Sale,
    Refund,
    Void,
    Receipt,
    Adjustment,
    Count,
    TransferIn,
    TransferOut,
}

impl MovementKind {
    pub fn label(&self) -> &'static str {
        match self {
            MovementKind::Sale => "Sale",
            MovementKind::Refund => "Refund",
            MovementKind::Void => "Void",
            MovementKind::Receipt => "Goods received",
            MovementKind::Adjustment => "Adjustment",
            MovementKind::Count => "Count",
            MovementKind::TransferIn => "Transfer in",
            MovementKind::TransferOut => "Transfer out",
        }
    }
}

#[derive(Clone, Debug)]
pub struct MovementRow {
    pub at: ShopTime,
    pub kind: MovementKind,
    /// Signed: -2 for a sale of two. For a count, the quantity counted.
    pub quantity: Qty,
    /// On hand after this movement.
    pub balance: Qty,
    pub reason: String,
    /// "Receipt OSU-T1-000123", "Kofi Boateng".
    pub source: String,
}

impl MovementRow {
    pub fn is_count(&self) -> bool {
        self.kind == MovementKind::Count
    }
}
