//! Sales analytics: totals per day, week or month as a chart and a table, and the same
//! period by branch, cashier, tender and product, each exportable as CSV.

use askama::Template;

use crate::charts::BarChart;
use crate::format::{Money, Qty};
use crate::forms::{Choice, FieldErrors};
use crate::fragment;
use crate::paths;
use crate::views::common::Tender;

/// The filter every report page shares: `?period=&from=&to=&branch=`.
#[derive(Clone, Debug)]
pub struct ReportFilter {
    /// "day", "week" or "month".
    pub period: String,
    /// YYYY-MM-DD, local days, inclusive.
    pub from: String,
    pub to: String,
    /// The branches this person may see, with "" for all of them first.
    pub branches: Vec<Choice>,
}

impl ReportFilter {
    pub fn periods(&self) -> Vec<Choice> {
        [
            ("day", "By day"),
            ("week", "By week"),
            ("month", "By month"),
        ]
        .into_iter()
        .map(|(value, label)| Choice::new(value, label).selected_if(value == self.period))
        .collect()
    }
}

/// `GET /sales?period=&from=&to=&branch=`.
#[derive(Template)]
#[template(path = "sales/sales.html")]
pub struct SalesContent {
    pub filter: ReportFilter,
    pub errors: FieldErrors,
    /// "1 Nov – 30 Nov 2026, all branches": what the figures cover, in words.
    pub summary: String,
    pub total: Money,
    pub sales_count: u64,
    pub refunds: Money,
    pub average_basket: Money,
    pub chart: BarChart,
    pub by_branch: Vec<BranchSales>,
    pub by_cashier: Vec<CashierSales>,
    pub by_tender: Vec<TenderSales>,
    pub by_product: Vec<ProductSales>,
    pub exports: SalesExports,
}

/// The CSV of each table, with the same filter.
#[derive(Clone, Debug)]
pub struct SalesExports {
    pub periods: String,
    pub branches: String,
    pub cashiers: String,
    pub tenders: String,
    pub products: String,
}

impl SalesContent {
    pub fn action(&self) -> &'static str {
        paths::SALES
    }

    pub fn vat_path(&self) -> &'static str {
        paths::VAT
    }
    pub fn items_path(&self) -> &'static str {
        paths::ITEMS
    }
}

fragment!(SalesContent, |_page| "Sales");

#[derive(Clone, Debug)]
pub struct BranchSales {
    pub branch: String,
    pub sales_count: u64,
    pub total: Money,
    pub refunds: Money,
    pub net: Money,
}

#[derive(Clone, Debug)]
pub struct CashierSales {
    pub cashier: String,
    pub sales_count: u64,
    pub total: Money,
    pub refunds: Money,
    pub voids: u64,
}

#[derive(Clone, Debug)]
pub struct TenderSales {
    pub tender: Tender,
    pub count: u64,
    pub total: Money,
}

#[derive(Clone, Debug)]
pub struct ProductSales {
    pub name: String,
    pub sku: String,
    pub quantity: Qty,
    pub total: Money,
}
