//! The item report: what sold per product or category, net of tax, what it cost and the gross
//! profit, with its CSV.

use askama::Template;

use crate::format::{Money, Qty};
use crate::forms::{Choice, FieldErrors};
use crate::fragment;
use crate::paths;
use crate::views::sales::ReportFilter;

/// One product or category, or the total.
#[derive(Clone, Debug)]
pub struct ItemLine {
    pub name: String,
    /// The product's SKU; "" for a category and the total.
    pub sku: String,
    /// The product's category; "" for none, a category row and the total.
    pub category: String,
    pub quantity: Qty,
    pub net: Money,
    pub cost: Money,
    pub gross_profit: Money,
    /// "25.00 %", "" with no revenue.
    pub margin: String,
    /// Sold with no cost set: its profit is overstated.
    pub uncosted: bool,
}

/// `GET /sales/items?group=&from=&to=&branch=`.
#[derive(Template)]
#[template(path = "sales/items.html")]
pub struct ItemsContent {
    /// "product" or "category".
    pub group: String,
    pub filter: ReportFilter,
    pub errors: FieldErrors,
    /// "1 Nov – 30 Nov 2026, all branches".
    pub summary: String,
    pub rows: Vec<ItemLine>,
    pub total: ItemLine,
    /// "12 sold with no cost set …" when some were.
    pub uncosted_note: Option<String>,
    pub export: String,
}

impl ItemsContent {
    pub fn action(&self) -> &'static str {
        paths::ITEMS
    }
    pub fn by_product(&self) -> bool {
        self.group != "category"
    }
    pub fn groups(&self) -> Vec<Choice> {
        [("product", "By product"), ("category", "By category")]
            .into_iter()
            .map(|(value, label)| Choice::new(value, label).selected_if(value == self.group))
            .collect()
    }
    pub fn categories_url(&self) -> &'static str {
        paths::CATEGORIES
    }
}

fragment!(ItemsContent, |_page| "Profit by item");
