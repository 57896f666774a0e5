//! Customers the tills recorded, for anyone who looks up sales.

use axum::Json;
use axum::extract::State;
use nexus_store::CustomerRecord;
use serde::{Deserialize, Serialize};

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::services::customers;
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
    let items = customers::customers(&state, &auth, query.q.as_deref(), query.limit).await?;
    Ok(Json(CustomerList { items }))
}
