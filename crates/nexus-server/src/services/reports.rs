//! Sales reports over the daily rollups.

use std::collections::{BTreeMap, HashMap};

use nexus_domain::{BranchId, Currency, UserId};
use serde::Serialize;

use super::branch_scope;
use crate::auth::Authenticated;
use crate::calendar::{self, Period};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The longest range one report covers, in days.
const MAX_RANGE_DAYS: i32 = 3 * 366;

/// What a report covers, as asked.
#[derive(Clone, Debug, Default)]
pub struct ReportRange {
    /// day, week (from Monday) or month; day when absent.
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub branch: Option<uuid::Uuid>,
}

#[derive(Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub sales_count: i64,
    pub refunds_count: i64,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    /// Total over the number of sales, rounded to the minor unit; 0 with no sales.
    pub average_basket_minor: i64,
    /// Tax collected per levy code.
    pub levies: BTreeMap<String, i64>,
}

impl Figures {
    fn add(&mut self, totals: &nexus_store::DailyTotals) {
        self.sales_count += totals.sales_count;
        self.refunds_count += totals.refunds_count;
        self.gross_minor += totals.gross_minor;
        self.discount_minor += totals.discount_minor;
        self.net_minor += totals.net_minor;
        self.tax_minor += totals.tax_minor;
        self.total_minor += totals.total_minor;
    }

    fn finish(&mut self) {
        self.average_basket_minor = if self.sales_count == 0 {
            0
        } else {
            (self.total_minor + self.sales_count / 2).div_euclid(self.sales_count)
        };
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PeriodRow {
    pub period_start: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CashierRow {
    pub cashier_id: UserId,
    pub name: String,
    pub sales_count: i64,
    pub total_minor: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TenderRow {
    pub kind: String,
    pub amount_minor: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SalesReport {
    pub currency: Currency,
    pub time_zone: String,
    pub period: String,
    pub from: String,
    pub to: String,
    pub branch_id: Option<BranchId>,
    pub rows: Vec<PeriodRow>,
    pub totals: Figures,
    pub by_cashier: Vec<CashierRow>,
    pub by_tender: Vec<TenderRow>,
}

/// A report's range as asked, checked: its period, its local days and the branches it covers.
pub struct Resolved {
    pub period_name: String,
    pub period: Period,
    pub settings: nexus_store::TenantSettings,
    pub from: i32,
    pub to: i32,
    /// `None`: every branch (an owner asking for all).
    pub branches: Option<Vec<BranchId>>,
}

/// The range of `query`: this month when no dates are given.
pub async fn resolve(
    state: &AppState,
    auth: &Authenticated,
    query: &ReportRange,
) -> ApiResult<Resolved> {
    let period_name = query.period.clone().unwrap_or_else(|| "day".to_owned());
    let period = Period::parse(&period_name).ok_or_else(|| {
        ApiError::validation("period must be day, week or month").with_field("period")
    })?;
    let settings = state.store.settings(auth.tenant).await?;
    let offset = calendar::zone_offset_minutes(&settings.time_zone).unwrap_or(0);
    let today = calendar::local_day(state.clock.now().as_millis(), offset);
    let parse_day = |text: &Option<String>, field: &'static str, default: i32| -> ApiResult<i32> {
        match text {
            None => Ok(default),
            Some(text) => calendar::parse_date(text).ok_or_else(|| {
                ApiError::validation(format!("{field} must be a date like 2026-01-31"))
                    .with_field(field)
            }),
        }
    };
    let from = parse_day(&query.from, "from", Period::Month.start_of(today))?;
    let to = parse_day(&query.to, "to", today)?;
    if to < from || to - from >= MAX_RANGE_DAYS {
        return Err(ApiError::validation(format!(
            "to must be on or after from, and at most {MAX_RANGE_DAYS} days later"
        ))
        .with_field("to"));
    }
    let branches = branch_scope(auth, query.branch)?;
    Ok(Resolved {
        period_name,
        period,
        settings,
        from,
        to,
        branches,
    })
}

/// The totals of local days `from..=to` at `branches` (all when `None`).
pub async fn figures(
    state: &AppState,
    auth: &Authenticated,
    from: i32,
    to: i32,
    branches: Option<&[BranchId]>,
) -> ApiResult<Figures> {
    let rows = state
        .store
        .daily_report(auth.tenant, from, to, branches)
        .await?;
    let mut totals = Figures::default();
    for day in &rows.totals {
        totals.add(day);
    }
    totals.finish();
    Ok(totals)
}

/// What the dashboard's sales page shows beside the report: the same range by branch, by
/// product (the best sellers), by tender and network, and each cashier's refunds and voids.
pub struct SalesBreakdown {
    /// Each branch's figures, and what it refunded (a positive amount).
    pub by_branch: Vec<(nexus_store::Branch, Figures, i64)>,
    pub by_product: Vec<(nexus_store::Product, nexus_store::ProductSales)>,
    pub payments: Vec<nexus_store::PaymentTotal>,
    pub returns: Vec<nexus_store::CashierReturns>,
}

/// The breakdown of a resolved range; `products` best sellers at most.
pub async fn breakdown(
    state: &AppState,
    auth: &Authenticated,
    range: &Resolved,
    products: u32,
) -> ApiResult<SalesBreakdown> {
    let tenant = auth.tenant;
    let scope = range.branches.as_deref();
    let mut by_branch = Vec::new();
    for branch in state.store.list_branches(tenant).await? {
        if scope.is_some_and(|scope| !scope.contains(&branch.id)) {
            continue;
        }
        let totals = figures(state, auth, range.from, range.to, Some(&[branch.id])).await?;
        if totals.sales_count > 0 || branch.archived_at.is_none() {
            let refunded = state
                .store
                .cashier_returns(tenant, range.from, range.to, Some(&[branch.id]))
                .await?
                .iter()
                .map(|returns| returns.refunded_minor)
                .sum();
            by_branch.push((branch, totals, refunded));
        }
    }
    let sold = state
        .store
        .top_products(tenant, range.from, range.to, scope, products)
        .await?;
    let ids: Vec<_> = sold.iter().map(|line| line.product_id).collect();
    let mut found: HashMap<_, _> = state
        .store
        .products_by_ids(tenant, &ids)
        .await?
        .into_iter()
        .map(|product| (product.id, product))
        .collect();
    let by_product = sold
        .into_iter()
        .filter_map(|line| {
            found
                .remove(&line.product_id)
                .map(|product| (product, line))
        })
        .collect();
    Ok(SalesBreakdown {
        by_branch,
        by_product,
        payments: state
            .store
            .payment_totals(tenant, range.from, range.to, scope)
            .await?,
        returns: state
            .store
            .cashier_returns(tenant, range.from, range.to, scope)
            .await?,
    })
}

/// Gross, discounts, each tax, net, number of sales and average basket per day, week or month
/// in the tenant's time zone, from local day `from` to `to` (YYYY-MM-DD; this month when
/// absent); also by cashier and by tender. Built from daily rollups, so its cost follows the
/// number of days, not the number of sales.
pub async fn sales_report(
    state: &AppState,
    auth: &Authenticated,
    query: &ReportRange,
) -> ApiResult<(SalesReport, Vec<nexus_domain::Levy>)> {
    let Resolved {
        period_name,
        period,
        settings,
        from,
        to,
        branches,
    } = resolve(state, auth, query).await?;
    let rows = state
        .store
        .daily_report(auth.tenant, from, to, branches.as_deref())
        .await?;

    let mut periods: BTreeMap<i32, Figures> = BTreeMap::new();
    let mut totals = Figures::default();
    for day in &rows.totals {
        periods
            .entry(period.start_of(day.local_day))
            .or_default()
            .add(day);
        totals.add(day);
    }
    for (day, code, amount) in &rows.levies {
        *periods
            .entry(period.start_of(*day))
            .or_default()
            .levies
            .entry(code.clone())
            .or_default() += amount;
        *totals.levies.entry(code.clone()).or_default() += amount;
    }
    totals.finish();
    let names: HashMap<UserId, String> = state
        .store
        .list_users(auth.tenant)
        .await?
        .into_iter()
        .map(|user| (user.id, user.name))
        .collect();
    let mut cashiers: BTreeMap<UserId, (i64, i64)> = BTreeMap::new();
    for (_, cashier, count, total) in &rows.cashiers {
        let entry = cashiers.entry(*cashier).or_default();
        entry.0 += count;
        entry.1 += total;
    }
    let mut tenders: BTreeMap<String, i64> = BTreeMap::new();
    for (_, kind, amount) in &rows.tenders {
        *tenders.entry(kind.clone()).or_default() += amount;
    }
    let report = SalesReport {
        currency: settings.currency,
        time_zone: settings.time_zone,
        period: period_name,
        from: calendar::format_day(from),
        to: calendar::format_day(to),
        branch_id: query.branch.map(BranchId::from_uuid),
        rows: periods
            .into_iter()
            .map(|(start, mut figures)| {
                figures.finish();
                PeriodRow {
                    period_start: calendar::format_day(start),
                    figures,
                }
            })
            .collect(),
        totals,
        by_cashier: cashiers
            .into_iter()
            .map(|(cashier_id, (sales_count, total_minor))| CashierRow {
                cashier_id,
                name: names.get(&cashier_id).cloned().unwrap_or_default(),
                sales_count,
                total_minor,
            })
            .collect(),
        by_tender: tenders
            .into_iter()
            .map(|(kind, amount_minor)| TenderRow { kind, amount_minor })
            .collect(),
    };
    Ok((report, settings.tax.levies))
}
