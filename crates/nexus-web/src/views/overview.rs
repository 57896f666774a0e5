//! The overview: how today, this week and this month compare with the period before, how
//! customers paid, what sells, what is running out, and whether the tills are syncing.

use askama::Template;

use crate::format::{Ago, Change, Money, Qty, ShopTime};
use crate::views::common::Tender;
use crate::{fragment, html_safe};

/// `GET /`. Everything below the heading is [`OverviewLive`], refreshed on `sales`, `stock`
/// and `tills` events.
#[derive(Template)]
#[template(path = "overview/overview.html")]
pub struct OverviewContent {
    pub shop_name: String,
    /// First-run steps left; the page links to the checklist while above zero.
    pub setup_steps_left: usize,
    /// The URL answering [`OverviewLive`].
    pub live_url: String,
    pub live: OverviewLive,
}

impl OverviewContent {
    pub fn setup(&self) -> &'static str {
        crate::paths::SETUP
    }
}

fragment!(OverviewContent, |_page| "Overview");

#[derive(Template)]
#[template(path = "overview/live.html")]
pub struct OverviewLive {
    /// Today, this week, this month (in that order, as the handler gives them).
    pub periods: Vec<PeriodTotal>,
    /// Sales of the current day by tender.
    pub tenders: Vec<TenderTotal>,
    pub top_products: Vec<TopProduct>,
    pub low_stock: u64,
    pub negative_stock: u64,
    pub low_stock_url: String,
    pub negative_stock_url: String,
    pub tills: Vec<TillHealth>,
    pub as_of: ShopTime,
}

html_safe!(OverviewLive);

impl OverviewLive {
    pub fn tills_url(&self) -> &'static str {
        crate::paths::TILLS
    }
    pub fn sales_url(&self) -> &'static str {
        crate::paths::SALES
    }
    pub fn tills_offline(&self) -> usize {
        self.tills.iter().filter(|till| !till.online).count()
    }
}

#[derive(Clone, Debug)]
pub struct PeriodTotal {
    /// "Today", "This week", "This month".
    pub label: String,
    /// "yesterday", "last week", "last month".
    pub previous_label: String,
    pub total: Money,
    pub previous: Money,
    pub sales_count: u64,
    pub change: Change,
}

impl PeriodTotal {
    pub fn new(
        label: impl Into<String>,
        previous_label: impl Into<String>,
        total: Money,
        previous: Money,
        sales_count: u64,
    ) -> Self {
        Self {
            label: label.into(),
            previous_label: previous_label.into(),
            change: Change::between(total.minor, previous.minor),
            total,
            previous,
            sales_count,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TenderTotal {
    pub tender: Tender,
    pub total: Money,
    pub count: u64,
    /// Share of the day's takings, 0 to 100.
    pub percent: u8,
}

#[derive(Clone, Debug)]
pub struct TopProduct {
    pub name: String,
    pub quantity: Qty,
    pub total: Money,
}

#[derive(Clone, Debug)]
pub struct TillHealth {
    pub name: String,
    pub branch: String,
    pub online: bool,
    pub last_contact: Ago,
    pub unsynced_ops: u64,
    pub unsynced_since: Ago,
}
