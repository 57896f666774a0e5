//! The overview: takings against the period before, payments, best sellers, stock alerts and
//! the tills, with everything below the heading refreshed live.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use nexus_domain::Permission;
use nexus_server::services::overview::{Comparison, overview as figures};
use nexus_server::state::AppState;

use super::admin::till_rows;
use super::context::{PageError, Viewer};
use super::live::fragment;
use super::text::{tender, tender_kind};
use crate::format::Qty;
use crate::views::overview::{
    OverviewContent, OverviewLive, PeriodTotal, TenderTotal, TillHealth, TopProduct,
};
use crate::{Section, paths};

const LIVE_URL: &str = "/overview/live";

async fn live_content(state: &AppState, viewer: &Viewer) -> Result<OverviewLive, PageError> {
    let overview = figures(state, &viewer.auth).await?;
    let locale = &viewer.locale;
    let period = |label: &str, previous: &str, comparison: &Comparison| {
        PeriodTotal::new(
            label,
            previous,
            locale.money(comparison.current.total_minor),
            locale.money(comparison.previous.total_minor),
            u64::try_from(comparison.current.sales_count).unwrap_or(0),
        )
    };
    let day_total: i64 = overview
        .payments
        .iter()
        .map(|payment| payment.amount_minor)
        .sum();
    let tenders = overview
        .payments
        .iter()
        .filter(|payment| payment.amount_minor != 0)
        .map(|payment| {
            let kind = tender_kind(&payment.kind);
            let percent = (payment.amount_minor.max(0) * 100)
                .checked_div(day_total.max(1))
                .unwrap_or(0)
                .clamp(0, 100);
            TenderTotal {
                tender: tender(kind, Some(payment.network.as_str())),
                total: locale.money(payment.amount_minor),
                count: u64::try_from(payment.payments).unwrap_or(0),
                percent: u8::try_from(percent).unwrap_or(100),
            }
        })
        .collect();
    let tills = if viewer.may(Permission::ManageStations) {
        till_rows(state, viewer)
            .await?
            .into_iter()
            .map(|row| TillHealth {
                name: row.name,
                branch: row.branch,
                online: row.online,
                last_contact: row.last_contact,
                unsynced_ops: row.unsynced_ops,
                unsynced_since: row.unsynced_since,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(OverviewLive {
        periods: vec![
            period("Today", "yesterday", &overview.today),
            period("This week", "last week", &overview.week),
            period("This month", "last month", &overview.month),
        ],
        tenders,
        top_products: overview
            .top_products
            .iter()
            .map(|(product, sold)| TopProduct {
                name: product.name.clone(),
                quantity: Qty(sold.quantity),
                total: locale.money(sold.total_minor),
            })
            .collect(),
        low_stock: overview.low_stock,
        negative_stock: overview.negative_stock,
        low_stock_url: format!("{}#low-stock", paths::INVENTORY),
        negative_stock_url: format!("{}#reconciliation", paths::INVENTORY),
        tills,
        as_of: locale.time(locale.now_millis),
    })
}

pub(crate) async fn overview(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    if !viewer.may(Permission::ViewReports) {
        // A cashier's dashboard is their own receipts and shifts.
        return Ok(Redirect::to(paths::RECEIPTS).into_response());
    }
    let live = live_content(&state, &viewer).await?;
    Ok(viewer.page(
        Section::Overview,
        OverviewContent {
            shop_name: viewer.shop_name(),
            setup_steps_left: viewer.setup_steps_left(),
            live_url: LIVE_URL.to_owned(),
            live,
        },
    ))
}

pub(crate) async fn live(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewReports)?;
    Ok(fragment(live_content(&state, &viewer).await?))
}
