//! Sales: a period's takings by day, week or month as a chart, and by branch, cashier,
//! tender and product, each table also a CSV file.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::Permission;
use nexus_server::calendar::{self, Period};
use nexus_server::services::catalogue::spreadsheet_safe;
use nexus_server::services::reports::{self, ReportRange, Resolved, SalesBreakdown, SalesReport};
use nexus_server::state::AppState;

use super::context::{PageError, Viewer, percent_encode};
use super::input::Fields;
use super::products::csv_download;
use super::text::{form_errors, tender, tender_kind};
use crate::charts::{BarChart, ChartText, Point};
use crate::format::{Money, Qty, ShopDate};
use crate::forms::{Choice, FieldErrors};
use crate::views::sales::{
    BranchSales, CashierSales, ProductSales, ReportFilter, SalesContent, SalesExports, TenderSales,
};
use crate::{Section, paths};

/// Best sellers the sales page lists.
const PRODUCTS_LISTED: u32 = 50;

/// The report range a query string asks for.
pub(super) fn range_of(query: &Fields) -> Result<ReportRange, FieldErrors> {
    let branch = query
        .uuid("branch")
        .map_err(|message| FieldErrors::new().with("branch", message))?;
    Ok(ReportRange {
        period: query.optional("period").map(str::to_owned),
        from: query.optional("from").map(str::to_owned),
        to: query.optional("to").map(str::to_owned),
        branch,
    })
}

/// The filter form as shown: the range resolved (its defaults filled in) and the branches.
pub(super) async fn filter_of(
    state: &AppState,
    viewer: &Viewer,
    range: &ReportRange,
    resolved: Option<&Resolved>,
) -> Result<ReportFilter, PageError> {
    let selected = range
        .branch
        .map(|branch| branch.to_string())
        .unwrap_or_default();
    let mut branches = vec![Choice::new("", "All branches").selected_if(selected.is_empty())];
    branches.extend(super::admin::branch_choices(state, viewer, &selected).await?);
    Ok(ReportFilter {
        period: resolved.map_or_else(
            || range.period.clone().unwrap_or_else(|| "day".to_owned()),
            |resolved| resolved.period_name.clone(),
        ),
        from: resolved.map_or_else(
            || range.from.clone().unwrap_or_default(),
            |resolved| calendar::format_day(resolved.from),
        ),
        to: resolved.map_or_else(
            || range.to.clone().unwrap_or_default(),
            |resolved| calendar::format_day(resolved.to),
        ),
        branches,
    })
}

/// The query string of a filter, for links that keep it.
pub(super) fn filter_query(filter: &ReportFilter) -> String {
    let branch = filter
        .branches
        .iter()
        .find(|choice| choice.selected)
        .map_or("", |choice| choice.value.as_str());
    format!(
        "period={}&from={}&to={}&branch={}",
        percent_encode(&filter.period),
        percent_encode(&filter.from),
        percent_encode(&filter.to),
        percent_encode(branch)
    )
}

/// "1 Nov – 30 Nov 2026, all branches".
pub(super) fn summary(resolved: &Resolved, filter: &ReportFilter) -> String {
    let branch = filter
        .branches
        .iter()
        .find(|choice| choice.selected && !choice.value.is_empty())
        .map_or_else(|| "all branches".to_owned(), |choice| choice.label.clone());
    format!(
        "{} – {}, {branch}",
        ShopDate(resolved.from).short(),
        ShopDate(resolved.to),
    )
}

/// The first day of every period from `from` to `to`, so that a period without sales is a
/// bar of zero rather than a gap.
fn period_starts(period: Period, from: i32, to: i32) -> Vec<i32> {
    let mut starts = Vec::new();
    let mut start = period.start_of(from);
    while start <= to && starts.len() < 2000 {
        starts.push(start);
        start = match period {
            Period::Day => start + 1,
            Period::Week => start + 7,
            Period::Month => Period::Month.start_of(start + 31),
        };
    }
    starts
}

fn period_label(period: Period, start: i32) -> (String, String) {
    let date = ShopDate(start);
    match period {
        Period::Day => (date.short(), date.to_string()),
        Period::Week => (date.short(), format!("Week of {date}")),
        Period::Month => (date.month(), date.month()),
    }
}

struct Report {
    resolved: Resolved,
    report: SalesReport,
    breakdown: SalesBreakdown,
}

async fn read_report(
    state: &AppState,
    viewer: &Viewer,
    range: &ReportRange,
) -> Result<Result<Report, FieldErrors>, PageError> {
    let outcome = async {
        let resolved = reports::resolve(state, &viewer.auth, range).await?;
        let (report, _) = reports::sales_report(state, &viewer.auth, range).await?;
        let breakdown = reports::breakdown(state, &viewer.auth, &resolved, PRODUCTS_LISTED).await?;
        Ok::<_, nexus_server::error::ApiError>(Report {
            resolved,
            report,
            breakdown,
        })
    }
    .await;
    match outcome {
        Ok(report) => Ok(Ok(report)),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::FORBIDDEN =>
        {
            Ok(Err(form_errors(&error, &[])))
        }
        Err(error) => Err(error.into()),
    }
}

struct Tables {
    periods: Vec<(String, String, i64, i64)>,
    branches: Vec<BranchSales>,
    cashiers: Vec<CashierSales>,
    tenders: Vec<TenderSales>,
    products: Vec<ProductSales>,
}

fn tables(viewer: &Viewer, report: &Report) -> Tables {
    let locale = &viewer.locale;
    let period = report.resolved.period;
    let periods = period_starts(period, report.resolved.from, report.resolved.to)
        .into_iter()
        .map(|start| {
            let key = calendar::format_day(start);
            let row = report
                .report
                .rows
                .iter()
                .find(|row| row.period_start == key);
            let (label, long) = period_label(period, start);
            (
                label,
                long,
                row.map_or(0, |row| row.figures.total_minor),
                row.map_or(0, |row| row.figures.sales_count),
            )
        })
        .collect();
    let returns_of = |cashier| {
        report
            .breakdown
            .returns
            .iter()
            .find(|returns| returns.cashier_id == cashier)
    };
    Tables {
        periods,
        branches: report
            .breakdown
            .by_branch
            .iter()
            .map(|(branch, figures, refunded)| BranchSales {
                branch: branch.name.clone(),
                sales_count: u64::try_from(figures.sales_count).unwrap_or(0),
                total: locale.money(figures.total_minor + refunded),
                refunds: locale.money(*refunded),
                net: locale.money(figures.total_minor),
            })
            .collect(),
        cashiers: report
            .report
            .by_cashier
            .iter()
            .map(|row| {
                let returns = returns_of(row.cashier_id);
                CashierSales {
                    cashier: row.name.clone(),
                    sales_count: u64::try_from(row.sales_count).unwrap_or(0),
                    total: locale.money(row.total_minor),
                    refunds: locale.money(returns.map_or(0, |r| r.refunded_minor)),
                    voids: returns.map_or(0, |r| u64::try_from(r.voids).unwrap_or(0)),
                }
            })
            .collect(),
        tenders: report
            .breakdown
            .payments
            .iter()
            .filter(|payment| payment.amount_minor != 0)
            .map(|payment| TenderSales {
                tender: tender(tender_kind(&payment.kind), Some(payment.network.as_str())),
                count: u64::try_from(payment.payments).unwrap_or(0),
                total: locale.money(payment.amount_minor),
            })
            .collect(),
        products: report
            .breakdown
            .by_product
            .iter()
            .map(|(product, sold)| ProductSales {
                name: product.name.clone(),
                sku: product.sku.clone(),
                quantity: Qty(sold.quantity),
                total: locale.money(sold.total_minor),
            })
            .collect(),
    }
}

pub(crate) async fn sales(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewReports)?;
    let locale = viewer.locale;
    let (range, mut errors) = match range_of(&query) {
        Ok(range) => (range, FieldErrors::new()),
        Err(errors) => (ReportRange::default(), errors),
    };
    let mut report = match read_report(&state, &viewer, &range).await? {
        Ok(report) => Some(report),
        Err(found) => {
            errors = found;
            None
        }
    };
    // A range the form got wrong shows this month, with the message on its field.
    if report.is_none() {
        report = read_report(&state, &viewer, &ReportRange::default())
            .await?
            .ok();
    }
    let Some(report) = report else {
        return Err(PageError::Invalid("That report cannot be made.".to_owned()));
    };
    let mut filter = filter_of(&state, &viewer, &range, Some(&report.resolved)).await?;
    if !errors.is_empty() {
        filter.from = range.from.clone().unwrap_or_default();
        filter.to = range.to.clone().unwrap_or_default();
    }
    let tables = tables(&viewer, &report);
    let points: Vec<Point> = tables
        .periods
        .iter()
        .map(|(label, long, total, _)| {
            Point::new(label.clone(), *total).with_long_label(long.clone())
        })
        .collect();
    let chart = BarChart::build(
        ChartText {
            id: "sales-chart",
            title: "Takings per period",
            description: "Total takings of each period, refunds taken off",
            label_heading: "Period",
            value_heading: "Takings",
        },
        viewer.settings.currency,
        &points,
    );
    let totals = &report.report.totals;
    let refunds: i64 = report
        .breakdown
        .returns
        .iter()
        .map(|returns| returns.refunded_minor)
        .sum();
    let query_text = filter_query(&filter);
    let export = |table: &str| format!("{}/export/{table}?{query_text}", paths::SALES);
    let content = SalesContent {
        summary: summary(&report.resolved, &filter),
        filter,
        errors,
        total: locale.money(totals.total_minor),
        sales_count: u64::try_from(totals.sales_count).unwrap_or(0),
        refunds: locale.money(refunds),
        average_basket: locale.money(totals.average_basket_minor),
        chart,
        by_branch: tables.branches,
        by_cashier: tables.cashiers,
        by_tender: tables.tenders,
        by_product: tables.products,
        exports: SalesExports {
            periods: export("periods"),
            branches: export("branches"),
            cashiers: export("cashiers"),
            tenders: export("tenders"),
            products: export("products"),
        },
    };
    Ok(viewer.page(Section::Sales, content))
}

/// Amounts in a CSV file: plain decimal text in the shop's currency, no grouping.
fn plain(money: &Money) -> String {
    money.input_value()
}

pub(crate) async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(table): Path<String>,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewReports)?;
    let range = range_of(&query)
        .map_err(|_| PageError::Invalid("That export link is not ours.".to_owned()))?;
    let report = read_report(&state, &viewer, &range)
        .await?
        .map_err(|errors| {
            PageError::Invalid(
                errors
                    .messages()
                    .next()
                    .unwrap_or("The dates of that export are wrong.")
                    .to_owned(),
            )
        })?;
    let tables = tables(&viewer, &report);
    let currency = viewer.settings.currency.code();
    let (header, rows): (Vec<String>, Vec<Vec<String>>) = match table.as_str() {
        "periods" => (
            vec![
                "period".into(),
                "sales".into(),
                format!("takings_{currency}"),
            ],
            tables
                .periods
                .iter()
                .map(|(_, long, total, count)| {
                    vec![
                        long.clone(),
                        count.to_string(),
                        viewer.settings.currency.format_minor(*total),
                    ]
                })
                .collect(),
        ),
        "branches" => (
            vec!["branch".into(), "sales".into(), format!("net_{currency}")],
            tables
                .branches
                .iter()
                .map(|row| {
                    vec![
                        row.branch.clone(),
                        row.sales_count.to_string(),
                        plain(&row.net),
                    ]
                })
                .collect(),
        ),
        "cashiers" => (
            vec![
                "cashier".into(),
                "sales".into(),
                format!("total_{currency}"),
                format!("refunds_{currency}"),
                "voids".into(),
            ],
            tables
                .cashiers
                .iter()
                .map(|row| {
                    vec![
                        row.cashier.clone(),
                        row.sales_count.to_string(),
                        plain(&row.total),
                        plain(&row.refunds),
                        row.voids.to_string(),
                    ]
                })
                .collect(),
        ),
        "tenders" => (
            vec![
                "paid_by".into(),
                "payments".into(),
                format!("amount_{currency}"),
            ],
            tables
                .tenders
                .iter()
                .map(|row| {
                    vec![
                        row.tender.label().to_owned(),
                        row.count.to_string(),
                        plain(&row.total),
                    ]
                })
                .collect(),
        ),
        "products" => (
            vec![
                "sku".into(),
                "name".into(),
                "quantity".into(),
                format!("total_{currency}"),
            ],
            tables
                .products
                .iter()
                .map(|row| {
                    vec![
                        row.sku.clone(),
                        row.name.clone(),
                        row.quantity.to_string(),
                        plain(&row.total),
                    ]
                })
                .collect(),
        ),
        _ => return Err(PageError::NotFound),
    };
    let file = format!(
        "sales-{table}-{}-{}.csv",
        calendar::format_day(report.resolved.from),
        calendar::format_day(report.resolved.to)
    );
    Ok(csv_download(&file, write_csv(&header, &rows)?))
}

/// A CSV file of text cells, each made safe to open in a spreadsheet.
pub(super) fn write_csv(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, PageError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |error: csv::Error| {
        PageError::Failed(nexus_server::error::ApiError::internal(format!(
            "writing a CSV file: {error}"
        )))
    };
    writer.write_record(header).map_err(failed)?;
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| spreadsheet_safe(cell)))
            .map_err(failed)?;
    }
    writer.into_inner().map_err(|error| {
        PageError::Failed(nexus_server::error::ApiError::internal(format!(
            "writing a CSV file: {error}"
        )))
    })
}
