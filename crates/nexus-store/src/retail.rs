//! The retail model's records: settings, catalogue, stock ledger, sales, report rollups.
//! Amounts are integer minor units; quantities are exact thousandths; times Unix milliseconds.

use nexus_domain::ids::{CategoryId, MovementId, ProductId, SaleId, TransferId};
use nexus_domain::{
    BranchId, Currency, NonEmptyText, PriceList, PriceMode, Quantity, TaxClass, TaxRules,
    UnixMillis, UserId,
};
use serde::Serialize;

pub use nexus_domain::pack::{Pack, PackSold};

// Domain types the records use, shared with the station; re-exported so that store callers
// keep them under `nexus_store`.
pub use nexus_domain::sale::SaleKind;
pub use nexus_domain::stock::MovementKind;
pub use nexus_domain::tender::{Tender, TenderKind};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantSettings {
    pub currency: Currency,
    pub tax: TaxRules,
    /// An IANA zone name among those Nexus knows (see the server's time zone table).
    pub time_zone: String,
}

#[derive(Clone, Debug)]
pub struct NewProduct {
    pub id: ProductId,
    /// Already normalised (trimmed, uppercase).
    pub sku: String,
    pub barcode: Option<String>,
    pub name: NonEmptyText,
    pub price_minor: i64,
    pub tax_class: TaxClass,
    pub reorder_level: Option<Quantity>,
    pub category_id: Option<CategoryId>,
    /// What one unit costs the shop; `None` while unknown.
    pub cost_minor: Option<i64>,
    /// Checked already (`nexus_domain::pack::check_packs`).
    pub packs: Vec<Pack>,
    pub wholesale_price_minor: Option<i64>,
    pub now: UnixMillis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
    pub archived_at: Option<UnixMillis>,
}

/// A category's change; `archived: Some(false)` brings an archived one back.
#[derive(Clone, Debug, Default)]
pub struct CategoryChange {
    pub name: Option<NonEmptyText>,
    pub archived: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub id: ProductId,
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub price_minor: i64,
    pub tax_class: TaxClass,
    pub reorder_level: Option<Quantity>,
    pub category_id: Option<CategoryId>,
    /// What one unit costs the shop now (the latest supplier receipt sets it); `None` while
    /// unknown. The sync protocol's product record leaves it out: a till has no need of the
    /// shop's margins.
    pub cost_minor: Option<i64>,
    /// The cartons and crates it is also sold by, in the order given.
    pub packs: Vec<Pack>,
    /// Its price on the wholesale list; the retail price when absent.
    pub wholesale_price_minor: Option<i64>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
    pub archived_at: Option<UnixMillis>,
}

/// A partial update; `Some(None)` clears an optional field.
#[derive(Clone, Debug, Default)]
pub struct ProductChange {
    pub sku: Option<String>,
    pub barcode: Option<Option<String>>,
    pub name: Option<NonEmptyText>,
    pub price_minor: Option<i64>,
    pub tax_class: Option<TaxClass>,
    pub reorder_level: Option<Option<Quantity>>,
    pub category_id: Option<Option<CategoryId>>,
    /// A cost once known is only replaced, never cleared: the history sales are costed from has
    /// no gaps.
    pub cost_minor: Option<i64>,
    /// Replaces every pack; `Some(vec![])` removes them.
    pub packs: Option<Vec<Pack>>,
    pub wholesale_price_minor: Option<Option<i64>>,
}

#[derive(Clone, Debug, Default)]
pub struct ProductQuery {
    /// Matches a barcode or SKU exactly, or a name containing it (case-insensitive).
    pub search: Option<String>,
    /// Keyset pagination: products after this id (ids sort by creation).
    pub after: Option<ProductId>,
    pub limit: u32,
    pub include_archived: bool,
}

/// Which optional columns an import file has: a product updated by the file keeps the fields
/// whose column is absent.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportColumns {
    pub barcode: bool,
    pub tax_class: bool,
    pub reorder_level: bool,
}

/// What a CSV import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
}

#[derive(Clone, Debug)]
pub struct NewMovement {
    pub id: MovementId,
    pub branch: BranchId,
    pub product: ProductId,
    pub kind: MovementKind,
    /// A signed change; for a count, the level counted.
    pub quantity: Quantity,
    pub reason: Option<String>,
    pub source: Option<uuid::Uuid>,
    pub actor: Option<UserId>,
    pub occurred_at: UnixMillis,
    pub recorded_at: UnixMillis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Movement {
    pub id: MovementId,
    pub branch_id: BranchId,
    pub product_id: ProductId,
    pub kind: MovementKind,
    pub quantity: Quantity,
    pub reason: Option<String>,
    pub occurred_at: UnixMillis,
    /// The sale, return or transfer that caused it; `None` for receipts, adjustments and
    /// counts. A station matches it to its own ops, so it never counts one of its sales twice.
    pub source_id: Option<uuid::Uuid>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockLevel {
    pub branch_id: BranchId,
    pub product_id: ProductId,
    pub on_hand: Quantity,
    pub last_count_at: Option<UnixMillis>,
}

#[derive(Clone, Debug)]
pub struct NewTransfer {
    pub id: TransferId,
    pub from: BranchId,
    pub to: BranchId,
    pub lines: Vec<(ProductId, Quantity)>,
    pub actor: UserId,
    pub occurred_at: UnixMillis,
    pub recorded_at: UnixMillis,
}

/// A product whose on-hand at a branch is at or below its reorder level, or below zero.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockAlert {
    pub branch_id: BranchId,
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub on_hand: Quantity,
    pub reorder_level: Option<Quantity>,
}

/// What an idempotency check needs of a recorded sale: its kind and branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaleHead {
    pub id: SaleId,
    pub kind: SaleKind,
    pub branch_id: BranchId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaleLine {
    pub line_no: i32,
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub tax_class: TaxClass,
    pub quantity: Quantity,
    pub unit_price_minor: i64,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    /// (levy code, amount)
    pub levies: Vec<(String, i64)>,
    pub refers_to_line: Option<i32>,
    /// Sold by the pack: `quantity` counts packs of `units` base units each.
    pub pack: Option<PackSold>,
    /// What one (base) unit cost the shop when it was sold, and what the line cost (negative on a
    /// return); `None` when no cost was known. Set by the store as it records the line.
    pub unit_cost_minor: Option<i64>,
    pub cost_minor: Option<i64>,
}

// So that a return is priced from a recorded sale's lines by the one rule,
// `nexus_domain::price_return`.
nexus_domain::sold_line_from_fields!(SaleLine);

/// A sale, refund or void as recorded. Refunds and voids carry negative amounts and quantities.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sale {
    pub id: SaleId,
    pub kind: SaleKind,
    pub refers_to: Option<SaleId>,
    pub branch_id: BranchId,
    pub cashier_id: UserId,
    pub device_id: Option<uuid::Uuid>,
    pub receipt_number: Option<String>,
    /// The till's shift it was rung up in, as the till named it (not checked: a sale is kept
    /// even when its shift never reached the server).
    pub shift_id: Option<uuid::Uuid>,
    /// The customer the till attached, likewise unchecked. A return carries its sale's.
    pub customer_id: Option<uuid::Uuid>,
    pub currency: Currency,
    pub price_mode: PriceMode,
    /// The list it was priced on: wholesale for a trader on the wholesale list. A return keeps
    /// its sale's.
    pub price_list: PriceList,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    /// (levy code, amount) summed over the lines, in the tenant's levy order.
    pub levies: Vec<(String, i64)>,
    pub tendered_minor: i64,
    pub change_minor: i64,
    pub reason: Option<String>,
    /// For a refund or void: the manager or owner who approved it with their PIN at the till.
    pub approved_by: Option<UserId>,
    pub occurred_at: UnixMillis,
    pub recorded_at: UnixMillis,
    pub lines: Vec<SaleLine>,
    pub tenders: Vec<Tender>,
}

/// A request to return part or all of a sale, checked and priced inside the store's
/// transaction against what was sold and already returned.
#[derive(Clone, Debug)]
pub struct NewReturn {
    pub id: SaleId,
    pub kind: SaleKind,
    pub original: SaleId,
    /// (original line number, quantity to return); for a void, every line in full.
    pub lines: Vec<(i32, Quantity)>,
    pub cashier: UserId,
    /// The station that recorded the return, and its receipt number there, when it came by sync.
    pub device_id: Option<uuid::Uuid>,
    pub receipt_number: Option<String>,
    pub reason: Option<String>,
    /// How the money goes back; `None` means cash.
    pub tender: Option<TenderKind>,
    /// The manager who approved it at the till, when the till asked for one.
    pub approved_by: Option<UserId>,
    pub occurred_at: UnixMillis,
    pub local_day: i32,
    pub recorded_at: UnixMillis,
}

/// One day of one branch from the rollups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DailyTotals {
    pub local_day: i32,
    pub sales_count: i64,
    pub refunds_count: i64,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
}

/// The rollup rows a report is built from.
#[derive(Clone, Debug, Default)]
pub struct DailyReportRows {
    pub totals: Vec<DailyTotals>,
    /// (day, levy code, amount)
    pub levies: Vec<(i32, String, i64)>,
    /// (day, cashier, sales count, total)
    pub cashiers: Vec<(i32, UserId, i64, i64)>,
    /// (day, tender kind, amount)
    pub tenders: Vec<(i32, String, i64)>,
}

/// A sale's levies: the lines' levies summed per code, in the order the codes first appear.
pub(crate) fn levy_totals(lines: &[SaleLine]) -> Vec<(String, i64)> {
    let mut levies: Vec<(String, i64)> = Vec::new();
    for line in lines {
        for (code, amount) in &line.levies {
            match levies.iter_mut().find(|(known, _)| known == code) {
                Some(entry) => entry.1 += amount,
                None => levies.push((code.clone(), *amount)),
            }
        }
    }
    levies
}
