use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use nexus_domain::{BranchId, Currency, Role, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::calendar::{self, Period};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The longest range one report covers, in days.
const MAX_RANGE_DAYS: i32 = 3 * 366;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    /// day, week (from Monday) or month.
    period: Option<String>,
    /// First local day, YYYY-MM-DD; the first of this month when absent.
    from: Option<String>,
    /// Last local day, YYYY-MM-DD, included; today when absent.
    to: Option<String>,
    branch: Option<Uuid>,
    /// json (default) or csv.
    format: Option<String>,
    /// For CSV: periods (default), cashiers or tenders.
    view: Option<String>,
}

#[derive(Clone, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct Figures {
    sales_count: i64,
    refunds_count: i64,
    gross_minor: i64,
    discount_minor: i64,
    net_minor: i64,
    tax_minor: i64,
    total_minor: i64,
    /// Total over the number of sales, rounded to the minor unit; 0 with no sales.
    average_basket_minor: i64,
    /// Tax collected per levy code.
    levies: BTreeMap<String, i64>,
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
pub(crate) struct PeriodRow {
    period_start: String,
    #[serde(flatten)]
    figures: Figures,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CashierRow {
    cashier_id: UserId,
    name: String,
    sales_count: i64,
    total_minor: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TenderRow {
    kind: String,
    amount_minor: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SalesReport {
    currency: Currency,
    time_zone: String,
    period: String,
    from: String,
    to: String,
    branch_id: Option<BranchId>,
    rows: Vec<PeriodRow>,
    totals: Figures,
    by_cashier: Vec<CashierRow>,
    by_tender: Vec<TenderRow>,
}

/// `GET /api/v1/reports/sales`: gross, discounts, each tax, net, number of sales and average
/// basket per day, week or month in the tenant's time zone; also by cashier and by tender.
/// Refunds and voids count against the period they happened in. Built from daily rollups, so
/// its cost follows the number of days, not the number of sales.
#[utoipa::path(get, path = "/api/v1/reports/sales", tag = "reports", params(ReportQuery), security(("bearer" = ["view_reports"])), responses((status = 200, body = SalesReport, description = "JSON, or text/csv with format=csv"), crate::error::CommonErrors))]
pub(crate) async fn sales(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewReports>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
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
    let branches: Option<Vec<BranchId>> = match query.branch {
        Some(branch) => {
            let branch = BranchId::from_uuid(branch);
            if !auth.actor().can_see_branch(branch) {
                return Err(ApiError::not_found("branch"));
            }
            Some(vec![branch])
        }
        None if auth.user.role == Role::Owner => None,
        None => Some(auth.user.branch_ids.clone()),
    };
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
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(report).into_response()),
        Some("csv") => csv_report(&report, query.view.as_deref(), &settings.tax.levies),
        Some(other) => Err(
            ApiError::validation(format!("format {other:?}: expected json or csv"))
                .with_field("format"),
        ),
    }
}

/// The report as CSV, amounts in major units (what an accountant's spreadsheet expects).
fn csv_report(
    report: &SalesReport,
    view: Option<&str>,
    levies: &[nexus_domain::Levy],
) -> ApiResult<Response> {
    let money = |minor: i64| report.currency.format_minor(minor);
    let failed = |error: csv::Error| ApiError::internal(format!("writing CSV: {error}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    match view.unwrap_or("periods") {
        "periods" => {
            let mut codes: Vec<String> = levies.iter().map(|levy| levy.code.clone()).collect();
            for code in report.totals.levies.keys() {
                if !codes.contains(code) {
                    codes.push(code.clone());
                }
            }
            let mut header = vec![
                "period_start",
                "sales",
                "refunds",
                "gross",
                "discounts",
                "net",
                "tax",
            ];
            header.extend(codes.iter().map(String::as_str));
            header.extend(["total", "average_basket"]);
            writer.write_record(&header).map_err(failed)?;
            for row in &report.rows {
                let figures = &row.figures;
                let mut record = vec![
                    row.period_start.clone(),
                    figures.sales_count.to_string(),
                    figures.refunds_count.to_string(),
                    money(figures.gross_minor),
                    money(figures.discount_minor),
                    money(figures.net_minor),
                    money(figures.tax_minor),
                ];
                record.extend(
                    codes
                        .iter()
                        .map(|code| money(figures.levies.get(code).copied().unwrap_or(0))),
                );
                record.extend([
                    money(figures.total_minor),
                    money(figures.average_basket_minor),
                ]);
                writer.write_record(&record).map_err(failed)?;
            }
        }
        "cashiers" => {
            writer
                .write_record(["cashier_id", "name", "sales", "total"])
                .map_err(failed)?;
            for row in &report.by_cashier {
                let name = if row.name.starts_with(['=', '+', '-', '@']) {
                    format!("'{}", row.name)
                } else {
                    row.name.clone()
                };
                writer
                    .write_record([
                        row.cashier_id.to_string(),
                        name,
                        row.sales_count.to_string(),
                        money(row.total_minor),
                    ])
                    .map_err(failed)?;
            }
        }
        "tenders" => {
            writer.write_record(["tender", "amount"]).map_err(failed)?;
            for row in &report.by_tender {
                writer
                    .write_record([row.kind.clone(), money(row.amount_minor)])
                    .map_err(failed)?;
            }
        }
        other => {
            return Err(ApiError::validation(format!(
                "view {other:?}: expected periods, cashiers or tenders"
            ))
            .with_field("view"));
        }
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| ApiError::internal(format!("writing CSV: {error}")))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
}
