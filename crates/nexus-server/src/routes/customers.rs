//! Customers the tills recorded, for anyone who looks up sales.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::PriceList;
use nexus_store::CustomerRecord;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::services::customers::{self, CustomerEdit, CustomerInput};
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCustomerRequest {
    name: String,
    /// 9 to 15 digits, a leading + allowed.
    phone: Option<String>,
    /// retail (default) or wholesale: the list their sales are priced on.
    price_list: Option<PriceList>,
    /// What they may owe the shop; absent: no credit.
    credit_limit_minor: Option<i64>,
}

/// `POST /api/v1/customers`: every till learns of them at its next sync.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = CreateCustomerRequest, security(("bearer" = ["manage_customers"])),
    responses((status = 201, body = CustomerRecord), crate::error::CommonErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageCustomers>,
    ApiJson(request): ApiJson<CreateCustomerRequest>,
) -> ApiResult<(StatusCode, Json<CustomerRecord>)> {
    let input = CustomerInput {
        name: request.name,
        phone: request.phone,
        price_list: request.price_list,
        credit_limit_minor: request.credit_limit_minor,
    };
    let created = customers::create_customer(&state, &auth, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/v1/customers/{id}`
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = uuid::Uuid, Path, description = "The resource id")), security(("bearer" = ["view_sales"])),
    responses((status = 200, body = CustomerRecord), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewSales>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<CustomerRecord>> {
    Ok(Json(customers::customer(&state, &auth, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateCustomerRequest {
    name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nexus_domain::values::present")]
    phone: Option<Option<String>>,
    price_list: Option<PriceList>,
    /// `null`: no credit.
    #[serde(default, deserialize_with = "nexus_domain::values::present")]
    credit_limit_minor: Option<Option<i64>>,
}

/// `PATCH /api/v1/customers/{id}`
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = UpdateCustomerRequest, security(("bearer" = ["manage_customers"])),
    responses((status = 200, body = CustomerRecord), crate::error::CommonErrors))]
pub(crate) async fn update(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageCustomers>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateCustomerRequest>,
) -> ApiResult<Json<CustomerRecord>> {
    let edit = CustomerEdit {
        name: request.name,
        phone: request.phone,
        price_list: request.price_list,
        credit_limit_minor: request.credit_limit_minor,
    };
    Ok(Json(
        customers::update_customer(&state, &auth, id, edit).await?,
    ))
}
