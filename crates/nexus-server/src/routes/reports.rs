use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::services::catalogue::spreadsheet_safe;
use crate::services::items::{self, ItemGroup, ItemReport};
use crate::services::reports::{self, ReportRange, SalesReport};
use crate::services::vat::{self, VatReturn};
use crate::state::AppState;

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
    let range = ReportRange {
        period: query.period.clone(),
        from: query.from.clone(),
        to: query.to.clone(),
        branch: query.branch,
    };
    let csv = wants_csv(query.format.as_deref())?;
    let (report, levies) = reports::sales_report(&state, &auth, &range).await?;
    if csv {
        csv_report(&report, query.view.as_deref(), &levies)
    } else {
        Ok(Json(report).into_response())
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
                let name = spreadsheet_safe(&row.name);
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct VatQuery {
    /// The month, YYYY-MM, in the shop's time zone; last month when absent.
    month: Option<String>,
    branch: Option<Uuid>,
    /// json (default) or csv.
    format: Option<String>,
}

/// `GET /api/v1/reports/vat`: the monthly VAT return: standard-rated, zero-rated and exempt
/// supplies net of tax, and each levy collected (VAT, NHIL, GETFund), refunds and voids netted,
/// per branch and in total. Summed from the receipts, so it equals them exactly.
#[utoipa::path(get, path = "/api/v1/reports/vat", tag = "reports", params(VatQuery), security(("bearer" = ["view_reports"])), responses((status = 200, body = VatReturn, description = "JSON, or text/csv with format=csv"), crate::error::CommonErrors))]
pub(crate) async fn vat(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewReports>,
    ApiQuery(query): ApiQuery<VatQuery>,
) -> ApiResult<Response> {
    let csv = wants_csv(query.format.as_deref())?;
    let report = vat::vat_return(&state, &auth, query.month.as_deref(), query.branch).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    let bytes = vat::vat_csv(&report)?;
    Ok(csv_attachment(&format!("vat-{}.csv", report.month), bytes))
}

/// `format=json` (the default) or `format=csv`: whether CSV was asked for.
fn wants_csv(format: Option<&str>) -> ApiResult<bool> {
    match format.unwrap_or("json") {
        "json" => Ok(false),
        "csv" => Ok(true),
        other => Err(
            ApiError::validation(format!("format {other:?}: expected json or csv"))
                .with_field("format"),
        ),
    }
}

/// A report's CSV as a file to save under `name`.
fn csv_attachment(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemQuery {
    /// product (default) or category.
    group: Option<String>,
    /// First local day, YYYY-MM-DD; the first of this month when absent.
    from: Option<String>,
    /// Last local day, YYYY-MM-DD, included; today when absent.
    to: Option<String>,
    branch: Option<Uuid>,
    /// json (default) or csv.
    format: Option<String>,
}

/// `GET /api/v1/reports/items`: per product or category, the quantity sold, revenue net of tax,
/// cost and gross profit, refunds and voids netted. Each line is costed at the cost in effect
/// when it was sold, so a later change of cost leaves past profit as it was.
#[utoipa::path(get, path = "/api/v1/reports/items", tag = "reports", params(ItemQuery), security(("bearer" = ["view_reports"])), responses((status = 200, body = ItemReport, description = "JSON, or text/csv with format=csv"), crate::error::CommonErrors))]
pub(crate) async fn items(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewReports>,
    ApiQuery(query): ApiQuery<ItemQuery>,
) -> ApiResult<Response> {
    let csv = wants_csv(query.format.as_deref())?;
    let group = ItemGroup::parse(query.group.as_deref())?;
    let range = ReportRange {
        period: None,
        from: query.from,
        to: query.to,
        branch: query.branch,
    };
    let report = items::item_report(&state, &auth, &range, group).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    let bytes = items::item_csv(&report)?;
    Ok(csv_attachment(
        &format!(
            "items-by-{}-{}-to-{}.csv",
            report.group.as_str(),
            report.from,
            report.to
        ),
        bytes,
    ))
}
