//! The monthly VAT return: for a month in the shop's time zone, what a Ghanaian VAT-registered
//! business declares: standard-rated, zero-rated and exempt supplies (net of tax), and each levy
//! collected (VAT, NHIL, GETFund), with refunds and voids netted, per branch and in total.
//! Summed from the receipts' own lines and levies, so it equals them to the pesewa.

use std::collections::BTreeMap;

use nexus_domain::{BranchId, Currency, calendar};
use serde::Serialize;

use super::branch_scope;
use super::catalogue::spreadsheet_safe;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// One levy of the return.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct VatLevy {
    pub code: String,
    pub name: String,
    /// The rate in the shop's tax rules now (1500 = 15 %); absent for a levy no longer in them.
    pub rate_basis_points: Option<u32>,
    pub amount_minor: i64,
}

/// The figures of a return, for one branch or in total. Refunds and voids are netted into
/// every figure; `returns_net_minor` and `returns_tax_minor` say how much they took back.
#[derive(Clone, Default, Serialize, utoipa::ToSchema)]
pub struct VatFigures {
    /// Supplies every levy applies to, net of tax.
    pub standard_rated_net_minor: i64,
    /// Supplies taxable at a rate of zero (exports).
    pub zero_rated_net_minor: i64,
    /// Supplies outside the tax.
    pub exempt_net_minor: i64,
    /// The three together.
    pub total_net_minor: i64,
    /// Each levy collected.
    pub levies: Vec<VatLevy>,
    /// The levies together.
    pub tax_minor: i64,
    /// What refunds and voids took off the supplies above (zero or negative).
    pub returns_net_minor: i64,
    /// What refunds and voids took off the levies above (zero or negative).
    pub returns_tax_minor: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VatBranch {
    pub branch_id: BranchId,
    pub name: String,
    #[serde(flatten)]
    pub figures: VatFigures,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VatReturn {
    /// YYYY-MM.
    pub month: String,
    pub currency: Currency,
    pub time_zone: String,
    /// The month's first and last local days.
    pub from: String,
    pub to: String,
    /// Branches with a sale, refund or void in the month.
    pub branches: Vec<VatBranch>,
    pub total: VatFigures,
}

/// The first and last local day of `month` ("2026-11").
fn month_days(month: &str) -> Option<(i32, i32)> {
    let (year, number) = month.split_once('-')?;
    let (year, number): (i32, u32) = (year.parse().ok()?, number.parse().ok()?);
    if month.len() != 7 || !(1..=12).contains(&number) {
        return None;
    }
    let first = calendar::parse_date(&format!("{year:04}-{number:02}-01"))?;
    let (next_year, next) = if number == 12 {
        (year + 1, 1)
    } else {
        (year, number + 1)
    };
    let next_first = calendar::parse_date(&format!("{next_year:04}-{next:02}-01"))?;
    Some((first, next_first - 1))
}

/// Adds what the store summed to `figures`, levies by code in `amounts`.
fn add_class(figures: &mut VatFigures, total: &nexus_store::TaxClassTotal) {
    match total.tax_class.as_str() {
        "exempt" => figures.exempt_net_minor += total.net_minor,
        "zero_rated" => figures.zero_rated_net_minor += total.net_minor,
        _ => figures.standard_rated_net_minor += total.net_minor,
    }
    figures.total_net_minor += total.net_minor;
    if total.returns {
        figures.returns_net_minor += total.net_minor;
        figures.returns_tax_minor += total.tax_minor;
    }
}

/// The levies of `amounts` in the order of the shop's rules, then any others by code.
fn levies_of(amounts: &BTreeMap<String, i64>, rules: &nexus_domain::TaxRules) -> Vec<VatLevy> {
    let mut levies: Vec<VatLevy> = rules
        .levies
        .iter()
        .map(|levy| VatLevy {
            code: levy.code.clone(),
            name: levy.name.clone(),
            rate_basis_points: Some(levy.rate_basis_points),
            amount_minor: amounts.get(&levy.code).copied().unwrap_or(0),
        })
        .collect();
    for (code, amount) in amounts {
        if !rules.levies.iter().any(|levy| &levy.code == code) {
            levies.push(VatLevy {
                code: code.clone(),
                name: code.clone(),
                rate_basis_points: None,
                amount_minor: *amount,
            });
        }
    }
    levies
}

/// The VAT return for `month` at `branch` (every branch the caller sees when `None`).
pub async fn vat_return(
    state: &AppState,
    auth: &Authenticated,
    month: Option<&str>,
    branch: Option<uuid::Uuid>,
) -> ApiResult<VatReturn> {
    let settings = state.store.settings(auth.tenant).await?;
    let offset = calendar::zone_offset_minutes(&settings.time_zone).unwrap_or(0);
    let month = match month {
        Some(month) => month.to_owned(),
        // Last month: the one a return is filed for.
        None => {
            let today = calendar::local_day(state.clock.now().as_millis(), offset);
            let this_month = &calendar::format_day(today)[..7];
            let (first, _) = month_days(this_month).unwrap_or((today, today));
            calendar::format_day(first - 1)[..7].to_owned()
        }
    };
    let (from, to) = month_days(&month).ok_or_else(|| {
        ApiError::validation("month must be a month like 2026-11").with_field("month")
    })?;
    let all_branches = state.store.list_branches(auth.tenant).await?;
    // Every branch named, even for an owner asking for all: the receipts are then found by
    // the branch-and-day index rather than by reading every sale ever made.
    let branches = branch_scope(auth, branch)?
        .unwrap_or_else(|| all_branches.iter().map(|branch| branch.id).collect());
    let (classes, levies) = state
        .store
        .vat_totals(auth.tenant, from, to, Some(&branches))
        .await?;
    let mut per_branch: BTreeMap<BranchId, (VatFigures, BTreeMap<String, i64>)> = BTreeMap::new();
    for class in &classes {
        add_class(&mut per_branch.entry(class.branch_id).or_default().0, class);
    }
    for levy in &levies {
        let (figures, amounts) = per_branch.entry(levy.branch_id).or_default();
        *amounts.entry(levy.code.clone()).or_default() += levy.amount_minor;
        figures.tax_minor += levy.amount_minor;
    }
    let names: BTreeMap<BranchId, String> = all_branches
        .into_iter()
        .map(|branch| (branch.id, branch.name))
        .collect();
    let mut total = VatFigures::default();
    let mut total_amounts: BTreeMap<String, i64> = BTreeMap::new();
    let mut rows = Vec::with_capacity(per_branch.len());
    for (branch_id, (mut figures, amounts)) in per_branch {
        total.standard_rated_net_minor += figures.standard_rated_net_minor;
        total.zero_rated_net_minor += figures.zero_rated_net_minor;
        total.exempt_net_minor += figures.exempt_net_minor;
        total.total_net_minor += figures.total_net_minor;
        total.tax_minor += figures.tax_minor;
        total.returns_net_minor += figures.returns_net_minor;
        total.returns_tax_minor += figures.returns_tax_minor;
        for (code, amount) in &amounts {
            *total_amounts.entry(code.clone()).or_default() += amount;
        }
        figures.levies = levies_of(&amounts, &settings.tax);
        rows.push(VatBranch {
            branch_id,
            name: names.get(&branch_id).cloned().unwrap_or_default(),
            figures,
        });
    }
    rows.sort_by(|left, right| left.name.cmp(&right.name));
    total.levies = levies_of(&total_amounts, &settings.tax);
    Ok(VatReturn {
        month,
        currency: settings.currency,
        time_zone: settings.time_zone,
        from: calendar::format_day(from),
        to: calendar::format_day(to),
        branches: rows,
        total,
    })
}

/// The return as CSV, one row per branch and one for the total, amounts in major units.
pub fn vat_csv(report: &VatReturn) -> ApiResult<Vec<u8>> {
    let money = |minor: i64| report.currency.format_minor(minor);
    let failed = |error: csv::Error| ApiError::internal(format!("writing CSV: {error}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "month".to_owned(),
        "branch".to_owned(),
        "standard_rated_net".to_owned(),
        "zero_rated_net".to_owned(),
        "exempt_net".to_owned(),
        "total_net".to_owned(),
    ];
    header.extend(report.total.levies.iter().map(|levy| levy.code.clone()));
    header.extend([
        "tax".to_owned(),
        "returns_net".to_owned(),
        "returns_tax".to_owned(),
    ]);
    writer.write_record(&header).map_err(failed)?;
    let rows = report
        .branches
        .iter()
        .map(|branch| (branch.name.as_str(), &branch.figures))
        .chain(std::iter::once(("Total", &report.total)));
    for (name, figures) in rows {
        let name = spreadsheet_safe(name);
        let mut record = vec![
            report.month.clone(),
            name,
            money(figures.standard_rated_net_minor),
            money(figures.zero_rated_net_minor),
            money(figures.exempt_net_minor),
            money(figures.total_net_minor),
        ];
        for levy in &report.total.levies {
            let amount = figures
                .levies
                .iter()
                .find(|own| own.code == levy.code)
                .map_or(0, |own| own.amount_minor);
            record.push(money(amount));
        }
        record.extend([
            money(figures.tax_minor),
            money(figures.returns_net_minor),
            money(figures.returns_tax_minor),
        ]);
        writer.write_record(&record).map_err(failed)?;
    }
    writer
        .into_inner()
        .map_err(|error| ApiError::internal(format!("writing CSV: {error}")))
}

#[cfg(test)]
mod tests {
    use super::month_days;

    #[test]
    fn a_month_is_its_first_to_its_last_day() {
        let day = |text: &str| nexus_domain::calendar::parse_date(text).expect("a date");
        assert_eq!(
            month_days("2026-11"),
            Some((day("2026-11-01"), day("2026-11-30")))
        );
        assert_eq!(
            month_days("2026-12"),
            Some((day("2026-12-01"), day("2026-12-31")))
        );
        assert_eq!(
            month_days("2028-02"),
            Some((day("2028-02-01"), day("2028-02-29")))
        );
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-11",
            "2026/11",
            "",
            "2026-11-01",
        ] {
            assert_eq!(month_days(bad), None, "{bad}");
        }
    }
}
