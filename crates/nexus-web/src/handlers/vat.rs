//! The VAT return page: a month's supplies by tax class and each levy, per branch and in total,
//! from the same service as `GET /api/v1/reports/vat`, and its CSV.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::Permission;
use nexus_domain::tax::format_rate_percent;
use nexus_server::calendar;
use nexus_server::services::vat::{self, VatFigures, VatReturn};
use nexus_server::state::AppState;

use super::context::{PageError, Viewer, percent_encode};
use super::input::Fields;
use super::products::csv_download;
use super::text::form_errors;
use crate::format::ShopDate;
use crate::forms::{Choice, FieldErrors};
use crate::views::vat::{VatContent, VatRow};
use crate::{Section, paths};

/// The return asked for, or the field errors of the query.
async fn read_return(
    state: &AppState,
    viewer: &Viewer,
    query: &Fields,
) -> Result<Result<VatReturn, FieldErrors>, PageError> {
    let branch = match query.uuid("branch") {
        Ok(branch) => branch,
        Err(message) => return Ok(Err(FieldErrors::new().with("branch", message))),
    };
    match vat::vat_return(state, &viewer.auth, query.optional("month"), branch).await {
        Ok(found) => Ok(Ok(found)),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::FORBIDDEN =>
        {
            Ok(Err(form_errors(&error, &[])))
        }
        Err(error) => Err(error.into()),
    }
}

fn row_of(viewer: &Viewer, name: &str, figures: &VatFigures, codes: &[String]) -> VatRow {
    let locale = &viewer.locale;
    VatRow {
        name: name.to_owned(),
        standard_rated: locale.money(figures.standard_rated_net_minor),
        zero_rated: locale.money(figures.zero_rated_net_minor),
        exempt: locale.money(figures.exempt_net_minor),
        total_net: locale.money(figures.total_net_minor),
        levies: codes
            .iter()
            .map(|code| {
                locale.money(
                    figures
                        .levies
                        .iter()
                        .find(|levy| &levy.code == code)
                        .map_or(0, |levy| levy.amount_minor),
                )
            })
            .collect(),
        tax: locale.money(figures.tax_minor),
        returns_net: locale.money(figures.returns_net_minor),
        returns_tax: locale.money(figures.returns_tax_minor),
    }
}

pub(crate) async fn vat_page(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewReports)?;
    let (found, errors) = match read_return(&state, &viewer, &query).await? {
        Ok(found) => (found, FieldErrors::new()),
        // A month the form got wrong shows last month, with the message on its field.
        Err(errors) => (
            vat::vat_return(&state, &viewer.auth, None, None).await?,
            errors,
        ),
    };
    let selected = query.optional("branch").unwrap_or_default().to_owned();
    let mut branches = vec![Choice::new("", "All branches").selected_if(selected.is_empty())];
    branches.extend(super::admin::branch_choices(&state, &viewer, &selected).await?);
    let branch_name = branches
        .iter()
        .find(|choice| choice.selected && !choice.value.is_empty())
        .map_or_else(|| "all branches".to_owned(), |choice| choice.label.clone());
    let first = calendar::parse_date(&found.from).unwrap_or_default();
    let codes: Vec<String> = found
        .total
        .levies
        .iter()
        .map(|levy| levy.code.clone())
        .collect();
    let content = VatContent {
        month: found.month.clone(),
        summary: format!("{}, {branch_name}", ShopDate(first).month()),
        branches,
        errors,
        levies: found
            .total
            .levies
            .iter()
            .map(|levy| match levy.rate_basis_points {
                Some(rate) => format!("{} {}%", levy.name, format_rate_percent(rate)),
                None => levy.name.clone(),
            })
            .collect(),
        rows: found
            .branches
            .iter()
            .map(|branch| row_of(&viewer, &branch.name, &branch.figures, &codes))
            .collect(),
        total: row_of(&viewer, "Total", &found.total, &codes),
        export: format!(
            "{}/export?month={}&branch={}",
            paths::VAT,
            percent_encode(&found.month),
            percent_encode(&selected)
        ),
    };
    Ok(viewer.page(Section::Sales, content))
}

pub(crate) async fn vat_export(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewReports)?;
    let found = read_return(&state, &viewer, &query)
        .await?
        .map_err(|errors| {
            PageError::Invalid(
                errors
                    .messages()
                    .next()
                    .unwrap_or("The month of that export is wrong.")
                    .to_owned(),
            )
        })?;
    let bytes = vat::vat_csv(&found)?;
    Ok(csv_download(&format!("vat-{}.csv", found.month), bytes))
}
