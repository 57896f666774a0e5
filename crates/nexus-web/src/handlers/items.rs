//! The item report page: per product or category, net revenue, cost and gross profit over a
//! range, from the same service as `GET /api/v1/reports/items`, and its CSV.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::Permission;
use nexus_server::services::items::{self, ItemFigures, ItemGroup, ItemReport, margin_text};
use nexus_server::services::reports::{self, ReportRange};
use nexus_server::state::AppState;

use super::context::{PageError, Viewer, percent_encode};
use super::input::Fields;
use super::products::csv_download;
use super::sales::{filter_of, range_of, summary};
use super::text::form_errors;
use crate::format::Qty;
use crate::forms::FieldErrors;
use crate::views::items::{ItemLine, ItemsContent};
use crate::{Section, paths};

/// The report a query asks for, or its field errors.
async fn read_report(
    state: &AppState,
    viewer: &Viewer,
    range: &ReportRange,
    group: Option<&str>,
) -> Result<Result<ItemReport, FieldErrors>, PageError> {
    let group = match ItemGroup::parse(group) {
        Ok(group) => group,
        Err(error) => return Ok(Err(form_errors(&error, &[]))),
    };
    match items::item_report(state, &viewer.auth, range, group).await {
        Ok(report) => Ok(Ok(report)),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::FORBIDDEN =>
        {
            Ok(Err(form_errors(&error, &[])))
        }
        Err(error) => Err(error.into()),
    }
}

fn line(
    viewer: &Viewer,
    name: String,
    sku: String,
    category: String,
    figures: &ItemFigures,
) -> ItemLine {
    let locale = &viewer.locale;
    ItemLine {
        name,
        sku,
        category,
        quantity: Qty(figures.quantity),
        net: locale.money(figures.net_minor),
        cost: locale.money(figures.cost_minor),
        gross_profit: locale.money(figures.gross_profit_minor),
        margin: margin_text(figures.margin_basis_points),
        uncosted: figures.uncosted_quantity.is_positive(),
    }
}

pub(crate) async fn items_page(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewReports)?;
    let (range, mut errors) = match range_of(&query) {
        Ok(range) => (range, FieldErrors::new()),
        Err(errors) => (ReportRange::default(), errors),
    };
    let asked_group = query.optional("group");
    let (report, range) = match read_report(&state, &viewer, &range, asked_group).await? {
        Ok(report) => (report, range),
        // A range the form got wrong shows this month, with the message on its field.
        Err(found) => {
            errors = found;
            let fallback = ReportRange::default();
            let report = read_report(&state, &viewer, &fallback, None)
                .await?
                .map_err(|_| PageError::Invalid("That report cannot be made.".to_owned()))?;
            (report, fallback)
        }
    };
    let resolved = reports::resolve(&state, &viewer.auth, &range).await?;
    let filter = filter_of(&state, &viewer, &range, Some(&resolved)).await?;
    let group = report.group.as_str().to_owned();
    let rows = report
        .rows
        .iter()
        .map(|row| {
            line(
                &viewer,
                row.name.clone(),
                row.sku.clone().unwrap_or_default(),
                if report.group == ItemGroup::Product {
                    row.category.clone().unwrap_or_default()
                } else {
                    String::new()
                },
                &row.figures,
            )
        })
        .collect();
    let uncosted = report.totals.uncosted_quantity;
    let branch = filter
        .branches
        .iter()
        .find(|choice| choice.selected)
        .map_or("", |choice| choice.value.as_str());
    let content = ItemsContent {
        export: format!(
            "{}/export?group={}&from={}&to={}&branch={}",
            paths::ITEMS,
            group,
            percent_encode(&filter.from),
            percent_encode(&filter.to),
            percent_encode(branch)
        ),
        summary: summary(&resolved, &filter),
        uncosted_note: uncosted.is_positive().then(|| {
            format!(
                "{} sold while no cost was set: counted at no cost, so their profit is \
                 overstated. Set the cost on each product marked \"no cost\".",
                Qty(uncosted)
            )
        }),
        total: line(
            &viewer,
            "Total".to_owned(),
            String::new(),
            String::new(),
            &report.totals,
        ),
        rows,
        group,
        filter,
        errors,
    };
    Ok(viewer.page(Section::Sales, content))
}

pub(crate) async fn items_export(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewReports)?;
    let invalid = |errors: FieldErrors| {
        PageError::Invalid(
            errors
                .messages()
                .next()
                .unwrap_or("The range of that export is wrong.")
                .to_owned(),
        )
    };
    let range = range_of(&query).map_err(invalid)?;
    let report = read_report(&state, &viewer, &range, query.optional("group"))
        .await?
        .map_err(invalid)?;
    let bytes = items::item_csv(&report)?;
    Ok(csv_download(
        &format!(
            "items-by-{}-{}-to-{}.csv",
            report.group.as_str(),
            report.from,
            report.to
        ),
        bytes,
    ))
}
