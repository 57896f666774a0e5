//! Customers the tills recorded, for anyone who looks up sales.

use axum::Json;
use axum::extract::State;
use nexus_store::CustomerRecord;
use serde::{Deserialize, Serialize};

use crate::auth::{Authorized, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomerQuery {
    /// Part of the name (any case) or of the phone number.
    q: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CustomerList {
    items: Vec<CustomerRecord>,
}

/// `GET /api/v1/customers`: customers by name, or those matching `q`.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(CustomerQuery), security(("bearer" = ["view_sales"])),
    responses((status = 200, body = CustomerList), crate::error::CommonErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewSales>,
    ApiQuery(query): ApiQuery<CustomerQuery>,
) -> ApiResult<Json<CustomerList>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 200").with_field("limit"));
    }
    if query.q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::validation("q must be at most 100 characters").with_field("q"));
    }
    let items = state
        .store
        .list_customers(auth.tenant, query.q.as_deref(), limit)
        .await?;
    Ok(Json(CustomerList { items }))
}
