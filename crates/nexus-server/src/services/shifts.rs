//! Cashiers' shifts as the stations recorded them, for the owner and managers.

use nexus_domain::UnixMillis;
use nexus_store::{ShiftQuery, ShiftRecord};

use super::branch_scope;
use crate::auth::Authenticated;
use crate::calendar;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const MILLIS_PER_DAY: i64 = 86_400_000;
/// The most shifts one answer lists (the newest).
pub const MAX_SHIFTS: u32 = 500;

/// Shifts opened from the local day `from` to `to` (included; the tenant's time zone), newest
/// first, at most [`MAX_SHIFTS`].
pub async fn shifts(
    state: &AppState,
    auth: &Authenticated,
    branch: Option<uuid::Uuid>,
    from: Option<String>,
    to: Option<String>,
) -> ApiResult<Vec<ShiftRecord>> {
    let branches = branch_scope(auth, branch)?;
    let (from, to) = if from.is_some() || to.is_some() {
        let settings = state.store.settings(auth.tenant).await?;
        let offset_millis =
            calendar::zone_offset_minutes(&settings.time_zone).unwrap_or(0) * 60_000;
        // The first instant of a local day.
        let start_of = |text: &Option<String>, field: &'static str, after: i64| {
            text.as_deref()
                .map(|text| {
                    calendar::parse_date(text)
                        .map(|day| (i64::from(day) + after) * MILLIS_PER_DAY - offset_millis)
                        .map(UnixMillis::from_millis)
                        .ok_or_else(|| {
                            ApiError::validation(format!("{field} must be a date like 2026-01-31"))
                                .with_field(field)
                        })
                })
                .transpose()
        };
        (start_of(&from, "from", 0)?, start_of(&to, "to", 1)?)
    } else {
        (None, None)
    };
    let shifts = state
        .store
        .list_shifts(
            auth.tenant,
            &ShiftQuery {
                branches,
                from,
                to,
                limit: MAX_SHIFTS,
            },
        )
        .await?;
    // A cashier sees their own shifts only.
    let mut shifts = shifts;
    if auth.user.role == nexus_domain::Role::Cashier {
        shifts.retain(|shift| shift.cashier_id == auth.user.id);
    }
    Ok(shifts)
}

/// One cashier over a period: sales, refunds, voids, and how their closed shifts' cash
/// counts compared with what was expected.
pub struct CashierPerformance {
    pub cashier: nexus_domain::UserId,
    pub name: String,
    pub sales_count: i64,
    pub total_minor: i64,
    pub average_basket_minor: i64,
    pub refunds: i64,
    pub refunded_minor: i64,
    pub voids: i64,
    /// Counted less expected cash over the period's closed shifts: negative is missing.
    pub cash_difference_minor: i64,
}

/// Every cashier who sold, refunded, voided or closed a shift in the range.
pub async fn cashier_performance(
    state: &AppState,
    auth: &Authenticated,
    range: &super::reports::ReportRange,
) -> ApiResult<Vec<CashierPerformance>> {
    auth.require(nexus_domain::Permission::ViewReports)?;
    let resolved = super::reports::resolve(state, auth, range).await?;
    let (report, _) = super::reports::sales_report(state, auth, range).await?;
    let returns = state
        .store
        .cashier_returns(
            auth.tenant,
            resolved.from,
            resolved.to,
            resolved.branches.as_deref(),
        )
        .await?;
    let closed = shifts(
        state,
        auth,
        range.branch,
        Some(calendar::format_day(resolved.from)),
        Some(calendar::format_day(resolved.to)),
    )
    .await?;
    let names: Vec<nexus_store::UserRecord> = state.store.list_users(auth.tenant).await?;
    let mut rows: Vec<CashierPerformance> = Vec::new();
    for sold in &report.by_cashier {
        let entry = performance_of(&mut rows, &names, sold.cashier_id);
        entry.sales_count += sold.sales_count;
        entry.total_minor += sold.total_minor;
    }
    for returned in &returns {
        let entry = performance_of(&mut rows, &names, returned.cashier_id);
        entry.refunds += returned.refunds;
        entry.refunded_minor += returned.refunded_minor;
        entry.voids += returned.voids;
    }
    for shift in closed.iter().filter(|shift| shift.closed_at.is_some()) {
        let difference: i64 = shift
            .tenders
            .iter()
            .filter(|tender| tender.tender == nexus_store::TenderKind::Cash)
            .map(|tender| tender.counted_minor - tender.expected_minor)
            .sum();
        performance_of(&mut rows, &names, shift.cashier_id).cash_difference_minor += difference;
    }
    for entry in &mut rows {
        entry.average_basket_minor = if entry.sales_count == 0 {
            0
        } else {
            (entry.total_minor + entry.sales_count / 2).div_euclid(entry.sales_count)
        };
    }
    rows.sort_by(|a, b| b.total_minor.cmp(&a.total_minor).then(a.name.cmp(&b.name)));
    Ok(rows)
}

fn performance_of<'r>(
    rows: &'r mut Vec<CashierPerformance>,
    names: &[nexus_store::UserRecord],
    cashier: nexus_domain::UserId,
) -> &'r mut CashierPerformance {
    let index = match rows.iter().position(|row| row.cashier == cashier) {
        Some(index) => index,
        None => {
            rows.push(CashierPerformance {
                cashier,
                name: names
                    .iter()
                    .find(|user| user.id == cashier)
                    .map(|user| user.name.clone())
                    .unwrap_or_default(),
                sales_count: 0,
                total_minor: 0,
                average_basket_minor: 0,
                refunds: 0,
                refunded_minor: 0,
                voids: 0,
                cash_difference_minor: 0,
            });
            rows.len() - 1
        }
    };
    &mut rows[index]
}
