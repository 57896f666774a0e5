//! Request to pay: the shop's network accounts (owner), requests from an online till
//! (station), and the networks' callbacks, which only prompt the service to look.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::auth::{Authorized, StationAuthenticated, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use nexus_sync::momo::{RequestStatus, RequestToPay};

use crate::services::momo_requests::{self, AccountInput, AccountView};
use crate::state::AppState;

/// `GET /api/v1/momo/accounts`: the networks the shop can request payments on, the secrets
/// only as whether they are set.
#[utoipa::path(get, path = "/api/v1/momo/accounts", tag = "momo", security(("bearer" = ["manage_settings"])), responses((status = 200, body = Vec<AccountView>), crate::error::CommonErrors))]
pub(crate) async fn accounts(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageSettings>,
) -> ApiResult<Json<Vec<AccountView>>> {
    Ok(Json(momo_requests::accounts(&state, &auth).await?))
}

/// The shop's merchant account on one network, as the network's developer portal gives it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountRequest {
    api_user: String,
    /// Left empty: the key saved is kept.
    #[serde(default)]
    api_key: String,
    /// Left empty: the key saved is kept.
    #[serde(default)]
    subscription_key: String,
    /// `sandbox`, or the environment the network gave (`mtnghana`).
    target_environment: String,
    /// The currency requests are made in, when it is not the shop's (the sandbox takes EUR).
    #[serde(default)]
    currency_code: Option<String>,
}

/// `PUT /api/v1/momo/accounts/{network}`: saves the shop's account on the network.
#[utoipa::path(put, path = "/api/v1/momo/accounts/{network}", tag = "momo", params(("network" = String, Path, description = "mtn")), request_body = AccountRequest, security(("bearer" = ["manage_settings"])), responses((status = 204, description = "Saved"), crate::error::CommonErrors))]
pub(crate) async fn set_account(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageSettings>,
    ApiPath(network): ApiPath<String>,
    ApiJson(request): ApiJson<AccountRequest>,
) -> ApiResult<StatusCode> {
    let input = AccountInput {
        api_user: request.api_user,
        api_key: request.api_key,
        subscription_key: request.subscription_key,
        target_environment: request.target_environment,
        currency_code: request.currency_code,
    };
    momo_requests::set_account(&state, &auth, &network, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/momo/unclaimed-payments`: requests paid on a customer's phone whose sale never
/// reached the service (half an hour on): money in the shop's wallet with no sale, to ring up
/// or refund from the network's merchant portal.
#[utoipa::path(get, path = "/api/v1/momo/unclaimed-payments", tag = "momo", security(("bearer" = ["reconcile_momo"])), responses((status = 200, body = Vec<RequestStatus>), crate::error::CommonErrors))]
pub(crate) async fn unclaimed(
    State(state): State<AppState>,
    auth: Authorized<permits::ReconcileMomo>,
) -> ApiResult<Json<Vec<RequestStatus>>> {
    Ok(Json(momo_requests::unclaimed(&state, &auth).await?))
}

/// `POST /api/v1/momo/requests`: asks the network to collect from the payer's wallet; the
/// customer approves on their phone. Answers where the request stands (`sending`, `pending`,
/// `paid`, `failed`); ask `GET …/requests/{id}` until it is paid or failed.
#[utoipa::path(post, path = "/api/v1/momo/requests", tag = "momo", request_body = RequestToPay, security(("station" = [])), responses((status = 200, body = RequestStatus), (status = 409, description = "The id was used for another payment", body = crate::error::ApiErrorBody), crate::error::CommonErrors))]
pub(crate) async fn request_to_pay(
    State(state): State<AppState>,
    station: StationAuthenticated,
    ApiJson(request): ApiJson<RequestToPay>,
) -> ApiResult<Json<RequestStatus>> {
    Ok(Json(
        momo_requests::request_to_pay(&state, station.tenant, Some(station.station.id), request)
            .await?,
    ))
}

/// `GET /api/v1/momo/requests/{id}`: where a request to pay stands.
#[utoipa::path(get, path = "/api/v1/momo/requests/{id}", tag = "momo", params(("id" = uuid::Uuid, Path)), security(("station" = [])), responses((status = 200, body = RequestStatus), crate::error::CommonErrors))]
pub(crate) async fn request_status(
    State(state): State<AppState>,
    station: StationAuthenticated,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> ApiResult<Json<RequestStatus>> {
    Ok(Json(
        momo_requests::request_status(&state, station.tenant, id).await?,
    ))
}

/// `PUT /api/v1/momo/callbacks/{network}/{tenant}/{id}`: a network saying a request's outcome
/// (MTN's sandbox puts, production posts). Unsigned, so its body is not read: the request is
/// looked up with the network.
#[utoipa::path(put, path = "/api/v1/momo/callbacks/{network}/{tenant}/{id}", tag = "momo", params(("network" = String, Path), ("tenant" = String, Path), ("id" = uuid::Uuid, Path)), responses((status = 200, description = "Looked up"), crate::error::CommonErrors))]
pub(crate) async fn callback(
    State(state): State<AppState>,
    ApiPath((network, tenant, id)): ApiPath<(String, String, uuid::Uuid)>,
) -> ApiResult<Json<serde_json::Value>> {
    look_up(&state, &network, &tenant, id).await
}

/// `POST /api/v1/momo/callbacks/{network}/{tenant}/{id}`: as the `PUT`.
#[utoipa::path(post, path = "/api/v1/momo/callbacks/{network}/{tenant}/{id}", tag = "momo", params(("network" = String, Path), ("tenant" = String, Path), ("id" = uuid::Uuid, Path)), responses((status = 200, description = "Looked up"), crate::error::CommonErrors))]
pub(crate) async fn callback_post(
    State(state): State<AppState>,
    ApiPath((network, tenant, id)): ApiPath<(String, String, uuid::Uuid)>,
) -> ApiResult<Json<serde_json::Value>> {
    look_up(&state, &network, &tenant, id).await
}

async fn look_up(
    state: &AppState,
    network: &str,
    tenant: &str,
    id: uuid::Uuid,
) -> ApiResult<Json<serde_json::Value>> {
    let not_found = || ApiError::not_found("request to pay");
    let tenant = uuid::Uuid::try_parse(tenant)
        .map(nexus_domain::TenantId::from_uuid)
        .map_err(|_| not_found())?;
    match momo_requests::callback(state, tenant, network, id).await {
        // No such organisation: to a caller without credentials, no such request.
        Err(error) if error.status() == StatusCode::UNAUTHORIZED => Err(not_found()),
        other => other.map(|()| Json(serde_json::json!({}))),
    }
}
