//! Customers: the list and its search, the add form, and a customer's edit form, on the same
//! services as `/api/v1/customers`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::{Permission, PriceList};
use nexus_server::services::customers::{self, CustomerEdit, CustomerInput};
use nexus_server::state::AppState;
use nexus_store::CustomerRecord;
use uuid::Uuid;

use super::context::{PageError, Viewer};
use super::input::{Fields, SignedPost, parse_amount};
use super::text::form_errors;
use crate::forms::FieldErrors;
use crate::views::customers::{CustomerFormContent, CustomerRow, CustomerValues, CustomersContent};
use crate::{Flash, Section, paths};

const CUSTOMERS_LISTED: u32 = 100;

/// The service's field names where the form's differ.
const CUSTOMER_FIELDS: &[(&str, &str)] = &[("credit_limit_minor", "credit_limit")];

fn values_from(form: &Fields) -> CustomerValues {
    CustomerValues {
        name: form.text("name").to_owned(),
        phone: form.text("phone").trim().to_owned(),
        price_list: form.text("price_list").to_owned(),
        credit_limit: form.text("credit_limit").trim().to_owned(),
    }
}

fn values_of(viewer: &Viewer, customer: &CustomerRecord) -> CustomerValues {
    CustomerValues {
        name: customer.name.clone(),
        phone: customer.phone.clone().unwrap_or_default(),
        price_list: customer.price_list.as_str().to_owned(),
        credit_limit: customer
            .credit_limit_minor
            .map(|limit| viewer.settings.currency.format_minor(limit))
            .unwrap_or_default(),
    }
}

/// The form's list and limit, or a message per field typed wrong.
fn read_values(
    viewer: &Viewer,
    values: &CustomerValues,
) -> Result<(PriceList, Option<i64>), FieldErrors> {
    let mut errors = FieldErrors::new();
    let list = match PriceList::parse(if values.price_list.is_empty() {
        "retail"
    } else {
        &values.price_list
    }) {
        Some(list) => list,
        None => {
            errors.add("price_list", "Choose retail or wholesale prices.");
            PriceList::Retail
        }
    };
    let limit = if values.credit_limit.is_empty() {
        None
    } else {
        parse_amount(&values.credit_limit, viewer.settings.currency)
            .map_err(|message| errors.add("credit_limit", message))
            .ok()
    };
    if values.name.trim().is_empty() {
        errors.add("name", "Enter the customer's name.");
    }
    if errors.is_empty() {
        Ok((list, limit))
    } else {
        Err(errors)
    }
}

async fn list_content(
    state: &AppState,
    viewer: &Viewer,
    query: String,
    values: CustomerValues,
    errors: FieldErrors,
) -> Result<CustomersContent, PageError> {
    let search = Some(query.as_str()).filter(|text| !text.trim().is_empty());
    let found = customers::customers(state, &viewer.auth, search, Some(CUSTOMERS_LISTED)).await?;
    let ids: Vec<Uuid> = found.iter().map(|customer| customer.id).collect();
    let owed = nexus_server::services::accounts::owed_by(state, &viewer.auth, &ids).await?;
    let rows = found
        .into_iter()
        .map(|customer| CustomerRow {
            owed: viewer
                .locale
                .money(owed.get(&customer.id).copied().unwrap_or(0)),
            id: customer.id,
            phone: customer.phone.clone().unwrap_or_default(),
            wholesale: customer.price_list == PriceList::Wholesale,
            credit_limit: customer
                .credit_limit_minor
                .map(|limit| viewer.locale.money(limit)),
            name: customer.name,
        })
        .collect();
    Ok(CustomersContent {
        csrf: viewer.csrf.clone(),
        query,
        rows,
        can_manage: viewer.may(Permission::ManageCustomers),
        values,
        errors,
        currency_code: viewer.settings.currency.code().to_owned(),
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewSales)?;
    let search = query.text("q").to_owned();
    let content = list_content(
        &state,
        &viewer,
        search,
        CustomerValues::default(),
        FieldErrors::new(),
    )
    .await?;
    Ok(viewer.page(Section::Customers, content))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageCustomers)?;
    let values = values_from(&form);
    let refused = async |errors: FieldErrors| -> Result<Response, PageError> {
        let content = list_content(&state, &viewer, String::new(), values.clone(), errors).await?;
        Ok(viewer.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Section::Customers,
            content,
        ))
    };
    let (price_list, credit_limit_minor) = match read_values(&viewer, &values) {
        Ok(read) => read,
        Err(errors) => return refused(errors).await,
    };
    let input = CustomerInput {
        name: values.name.clone(),
        phone: Some(values.phone.clone()),
        price_list: Some(price_list),
        credit_limit_minor,
    };
    match customers::create_customer(&state, &viewer.auth, input).await {
        Ok(customer) => Ok(viewer.redirect(
            paths::CUSTOMERS,
            Flash::success(format!(
                "{} added. Every till knows them from its next sync.",
                customer.name
            )),
        )),
        Err(error) if error.status().is_client_error() => {
            refused(form_errors(&error, CUSTOMER_FIELDS)).await
        }
        Err(error) => Err(error.into()),
    }
}

fn form_page(
    viewer: &Viewer,
    status: StatusCode,
    id: Uuid,
    values: CustomerValues,
    errors: FieldErrors,
) -> Response {
    viewer.page_with(
        status,
        Section::Customers,
        CustomerFormContent {
            csrf: viewer.csrf.clone(),
            id,
            values,
            errors,
            currency_code: viewer.settings.currency.code().to_owned(),
        },
    )
}

pub(crate) async fn edit_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageCustomers)?;
    let customer = customers::customer(&state, &viewer.auth, id).await?;
    let values = values_of(&viewer, &customer);
    Ok(form_page(
        &viewer,
        StatusCode::OK,
        id,
        values,
        FieldErrors::new(),
    ))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageCustomers)?;
    let values = values_from(&form);
    let again = |errors| {
        form_page(
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            id,
            values.clone(),
            errors,
        )
    };
    let (price_list, credit_limit_minor) = match read_values(&viewer, &values) {
        Ok(read) => read,
        Err(errors) => return Ok(again(errors)),
    };
    let edit = CustomerEdit {
        name: Some(values.name.clone()),
        phone: Some(Some(values.phone.clone()).filter(|phone| !phone.is_empty())),
        price_list: Some(price_list),
        credit_limit_minor: Some(credit_limit_minor),
    };
    match customers::update_customer(&state, &viewer.auth, id, edit).await {
        Ok(customer) => Ok(viewer.redirect(
            paths::CUSTOMERS,
            Flash::success(format!("{} saved.", customer.name)),
        )),
        Err(error) if error.status() == StatusCode::NOT_FOUND => Err(PageError::NotFound),
        Err(error) if error.status().is_client_error() => {
            Ok(again(form_errors(&error, CUSTOMER_FIELDS)))
        }
        Err(error) => Err(error.into()),
    }
}
