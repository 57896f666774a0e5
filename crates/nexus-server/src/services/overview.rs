//! The figures of the dashboard's overview: today, this week and this month against the
//! period before, how customers paid today, what sells, what runs out, and the tills.

use nexus_domain::{BranchId, Permission};
use nexus_store::{PaymentTotal, Product, ProductSales, StationRecord, TenantSettings};

use super::branch_scope;
use super::reports::{Figures, figures};
use crate::auth::Authenticated;
use crate::calendar::{self, Period};
use crate::error::ApiResult;
use crate::state::AppState;

/// Best sellers the overview lists.
const TOP_PRODUCTS: u32 = 5;

/// A period so far and the same stretch of the period before it.
pub struct Comparison {
    pub current: Figures,
    pub previous: Figures,
}

pub struct Overview {
    pub settings: TenantSettings,
    pub today: Comparison,
    pub week: Comparison,
    pub month: Comparison,
    /// Today's payments by kind and network.
    pub payments: Vec<PaymentTotal>,
    /// This week's best sellers.
    pub top_products: Vec<(Product, ProductSales)>,
    pub low_stock: u64,
    pub negative_stock: u64,
    /// The tills of the branches the person sees, revoked ones left out.
    pub tills: Vec<StationRecord>,
}

/// The days from the start of the period before to the same point in it: yesterday, or last
/// week up to the same weekday, or last month up to the same day (its last day at most).
fn previous_stretch(period: Period, today: i32) -> (i32, i32) {
    let start = period.start_of(today);
    let previous_start = period.start_of(start - 1);
    let elapsed = today - start;
    (previous_start, (previous_start + elapsed).min(start - 1))
}

pub async fn overview(state: &AppState, auth: &Authenticated) -> ApiResult<Overview> {
    auth.require(Permission::ViewReports)?;
    let settings = state.store.settings(auth.tenant).await?;
    let offset = calendar::zone_offset_minutes(&settings.time_zone).unwrap_or(0);
    let today = calendar::local_day(state.clock.now().as_millis(), offset);
    let scope = branch_scope(auth, None)?;
    let branches = scope.as_deref();
    let compare = async |period: Period| -> ApiResult<Comparison> {
        let (previous_from, previous_to) = previous_stretch(period, today);
        Ok(Comparison {
            current: figures(state, auth, period.start_of(today), today, branches).await?,
            previous: figures(state, auth, previous_from, previous_to, branches).await?,
        })
    };
    let today_figures = compare(Period::Day).await?;
    let week = compare(Period::Week).await?;
    let month = compare(Period::Month).await?;
    let payments = state
        .store
        .payment_totals(auth.tenant, today, today, branches)
        .await?;
    let sold = state
        .store
        .top_products(
            auth.tenant,
            Period::Week.start_of(today),
            today,
            branches,
            TOP_PRODUCTS,
        )
        .await?;
    let ids: Vec<_> = sold.iter().map(|line| line.product_id).collect();
    let products = state.store.products_by_ids(auth.tenant, &ids).await?;
    let top_products = sold
        .into_iter()
        .filter_map(|line| {
            products
                .iter()
                .find(|product| product.id == line.product_id)
                .map(|product| (product.clone(), line))
        })
        .collect();
    let (low_stock, negative_stock) = state.store.alert_counts(auth.tenant, branches).await?;
    let tills = visible_tills(state, auth, branches).await?;
    Ok(Overview {
        settings,
        today: today_figures,
        week,
        month,
        payments,
        top_products,
        low_stock,
        negative_stock,
        tills,
    })
}

async fn visible_tills(
    state: &AppState,
    auth: &Authenticated,
    branches: Option<&[BranchId]>,
) -> ApiResult<Vec<StationRecord>> {
    Ok(state
        .store
        .list_stations(auth.tenant)
        .await?
        .into_iter()
        .filter(|station| station.revoked_at.is_none())
        .filter(|station| branches.is_none_or(|branches| branches.contains(&station.branch_id)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_before_stops_at_the_same_point() {
        let day = |text| calendar::parse_date(text).expect("date");
        // Wednesday 2026-12-02: yesterday; Monday to Wednesday of last week; 1–2 November.
        let today = day("2026-12-02");
        assert_eq!(
            previous_stretch(Period::Day, today),
            (day("2026-12-01"), day("2026-12-01"))
        );
        assert_eq!(
            previous_stretch(Period::Week, today),
            (day("2026-11-23"), day("2026-11-25"))
        );
        assert_eq!(
            previous_stretch(Period::Month, today),
            (day("2026-11-01"), day("2026-11-02"))
        );
        // 31 March against February: the whole of February, no further.
        assert_eq!(
            previous_stretch(Period::Month, day("2026-03-31")),
            (day("2026-02-01"), day("2026-02-28"))
        );
    }
}
