//! Customers: those the tills recorded and those made in the dashboard or the API, with the
//! price list their sales are priced on and their credit limit.

use nexus_domain::PriceList;
use nexus_domain::limits::MAX_PRICE_MINOR;
use nexus_store::{CustomerChange, CustomerRecord, NewCustomer};

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Customers by name, or those whose name or phone holds `search`.
pub async fn customers(
    state: &AppState,
    auth: &Authenticated,
    search: Option<&str>,
    limit: Option<u32>,
) -> ApiResult<Vec<CustomerRecord>> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 200").with_field("limit"));
    }
    let search = search
        .map(|text| nexus_domain::values::search_text("q", text, 100))
        .transpose()?;
    Ok(state
        .store
        .list_customers(auth.tenant, search.as_deref(), limit)
        .await?)
}

/// A customer as typed.
pub struct CustomerInput {
    pub name: String,
    pub phone: Option<String>,
    pub price_list: Option<PriceList>,
    pub credit_limit_minor: Option<i64>,
}

fn parse_name(text: &str) -> ApiResult<String> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(
            ApiError::validation("a customer's name is 1 to 120 characters").with_field("name"),
        );
    }
    Ok(name.to_owned())
}

/// A phone number as tills take it: 9 to 15 digits, a leading + allowed; blank is none.
pub(crate) fn parse_phone(text: Option<&str>) -> ApiResult<Option<String>> {
    let Some(phone) = text.map(str::trim).filter(|phone| !phone.is_empty()) else {
        return Ok(None);
    };
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    if !(9..=15).contains(&digits.len()) || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(ApiError::validation("a phone number has 9 to 15 digits").with_field("phone"));
    }
    Ok(Some(phone.to_owned()))
}

fn check_limit(limit: i64) -> ApiResult<i64> {
    if !(0..=MAX_PRICE_MINOR).contains(&limit) {
        return Err(ApiError::validation(format!(
            "a credit limit is from 0 to {MAX_PRICE_MINOR} minor units"
        ))
        .with_field("credit_limit_minor"));
    }
    Ok(limit)
}

pub async fn create_customer(
    state: &AppState,
    auth: &Authenticated,
    input: CustomerInput,
) -> ApiResult<CustomerRecord> {
    let now = state.clock.now();
    let customer = NewCustomer {
        id: nexus_domain::ids::new_v7(now),
        name: parse_name(&input.name)?,
        phone: parse_phone(input.phone.as_deref())?,
        price_list: input.price_list.unwrap_or_default(),
        credit_limit_minor: input.credit_limit_minor.map(check_limit).transpose()?,
        created_by: auth.user.id,
        created_at: now,
    };
    let (created, _) = state.store.create_customer(auth.tenant, customer).await?;
    Ok(created)
}

/// The customer `id`, if the service knows them (a till's sale may name one whose op it never
/// received).
pub async fn find_customer(
    state: &AppState,
    auth: &Authenticated,
    id: uuid::Uuid,
) -> ApiResult<Option<CustomerRecord>> {
    Ok(state.store.get_customer(auth.tenant, id).await?)
}

pub async fn customer(
    state: &AppState,
    auth: &Authenticated,
    id: uuid::Uuid,
) -> ApiResult<CustomerRecord> {
    find_customer(state, auth, id)
        .await?
        .ok_or_else(|| ApiError::not_found("customer"))
}

/// A change as typed; `Some(None)` clears the phone or the credit limit.
#[derive(Default)]
pub struct CustomerEdit {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub price_list: Option<PriceList>,
    pub credit_limit_minor: Option<Option<i64>>,
}

pub async fn update_customer(
    state: &AppState,
    auth: &Authenticated,
    id: uuid::Uuid,
    edit: CustomerEdit,
) -> ApiResult<CustomerRecord> {
    // Another tenant's customer is not found, whatever else the request says.
    customer(state, auth, id).await?;
    let change = CustomerChange {
        name: edit.name.as_deref().map(parse_name).transpose()?,
        phone: edit
            .phone
            .map(|phone| parse_phone(phone.as_deref()))
            .transpose()?,
        price_list: edit.price_list,
        credit_limit_minor: edit
            .credit_limit_minor
            .map(|limit| limit.map(check_limit).transpose())
            .transpose()?,
    };
    if change.name.is_none()
        && change.phone.is_none()
        && change.price_list.is_none()
        && change.credit_limit_minor.is_none()
    {
        return Err(ApiError::validation("nothing to change"));
    }
    state
        .store
        .update_customer(auth.tenant, id, change, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("customer"))
}
