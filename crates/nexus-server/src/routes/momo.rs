//! Mobile-money reconciliation: a network's statement layout, statement uploads (the CSV file
//! as the body), the reconciliation so far, and the exceptions a manager signs off.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::momo::{Mapping, Network};
use nexus_store::VerdictRecord;
use serde::Deserialize;

use crate::auth::{Authorized, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery};
use crate::services::momo::{self, Preview, Reconciliation, UploadAnswer};
use crate::state::AppState;

pub(crate) use crate::services::momo::STATEMENT_MAX_BYTES;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct NetworkQuery {
    /// `mtn`, `telecel` or `airteltigo`.
    network: String,
}

fn network(text: &str) -> ApiResult<Network> {
    Network::parse(text).ok_or_else(|| {
        ApiError::validation("network must be mtn, telecel or airteltigo").with_field("network")
    })
}

/// `POST /api/v1/momo/statements?network=…`: a merchant statement exported from the network's
/// portal (CSV), read with the layout saved for that network. Each unverified mobile-money
/// tender is judged against it; a match verifies the tender. The same file twice changes
/// nothing (`duplicate: true`). With no layout saved yet: 422 `mapping_needed`; columns that no
/// longer fit the layout: 422 `columns_changed`, naming the columns found and expected.
#[utoipa::path(post, path = "/api/v1/momo/statements", tag = "momo", params(NetworkQuery), request_body(content = String, content_type = "text/csv", description = "The statement as the network's portal exports it"), security(("bearer" = ["reconcile_momo"])), responses((status = 201, body = UploadAnswer), (status = 200, description = "This file was uploaded before: nothing changed", body = UploadAnswer), (status = 413, description = "Over 8 MiB", body = crate::error::ApiErrorBody), crate::error::CommonErrors))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    auth: Authorized<permits::ReconcileMomo>,
    ApiQuery(query): ApiQuery<NetworkQuery>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<(StatusCode, Json<UploadAnswer>)> {
    let answer = momo::upload(&state, &auth, network(&query.network)?, &body).await?;
    let status = if answer.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(answer)))
}

/// `POST /api/v1/momo/statements/preview?network=…`: what an upload of this file would read,
/// for confirming the layout on a first upload: the columns found, the saved layout or a guess,
/// and the first rows read with it. Nothing is written.
#[utoipa::path(post, path = "/api/v1/momo/statements/preview", tag = "momo", params(NetworkQuery), request_body(content = String, content_type = "text/csv"), security(("bearer" = ["reconcile_momo"])), responses((status = 200, body = Preview), (status = 413, description = "Over 8 MiB", body = crate::error::ApiErrorBody), crate::error::CommonErrors))]
pub(crate) async fn preview(
    State(state): State<AppState>,
    auth: Authorized<permits::ReconcileMomo>,
    ApiQuery(query): ApiQuery<NetworkQuery>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Json<Preview>> {
    Ok(Json(
        momo::preview(&state, &auth, network(&query.network)?, &body).await?,
    ))
}

/// A network's statement layout: which columns (by their header) hold what.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MappingRequest {
    transaction_id: String,
    time: String,
    amount: String,
    payer: Option<String>,
    /// The column saying whether each attempt succeeded: failed and pending rows are then
    /// left out, and a status word that says neither is refused.
    #[serde(default)]
    status: Option<String>,
    /// `YYYY-MM-DD HH:mm:ss`, `DD/MM/YYYY HH:mm:ss`, `MM/DD/YYYY HH:mm:ss` or
    /// `DD-Mon-YYYY HH:mm:ss`.
    time_format: String,
}

/// `PUT /api/v1/momo/mappings/{network}`: saves the network's statement layout.
#[utoipa::path(put, path = "/api/v1/momo/mappings/{network}", tag = "momo", params(("network" = String, Path, description = "mtn, telecel or airteltigo")), request_body = MappingRequest, security(("bearer" = ["reconcile_momo"])), responses((status = 204, description = "Saved"), crate::error::CommonErrors))]
pub(crate) async fn set_mapping(
    State(state): State<AppState>,
    auth: Authorized<permits::ReconcileMomo>,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<MappingRequest>,
) -> ApiResult<StatusCode> {
    let time_format =
        nexus_domain::momo::TimeFormat::parse(&request.time_format).ok_or_else(|| {
            ApiError::validation(format!(
                "time_format must be one of: {}",
                nexus_domain::momo::TimeFormat::ALL
                    .iter()
                    .map(|format| format.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .with_field("time_format")
        })?;
    let mapping = Mapping {
        transaction_id: request.transaction_id,
        time: request.time,
        amount: request.amount,
        payer: request.payer.filter(|payer| !payer.trim().is_empty()),
        status: request.status.filter(|status| !status.trim().is_empty()),
        time_format,
    };
    momo::set_mapping(&state, &auth, network(&name)?, &mapping).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/momo/reconciliation`: every statement uploaded, newest first, with what each
/// found, and one verdict per mobile-money tender judged (`matched`, `amount_differs`,
/// `not_found`, `claimed_twice`).
#[utoipa::path(get, path = "/api/v1/momo/reconciliation", tag = "momo", security(("bearer" = ["reconcile_momo"])), responses((status = 200, body = Reconciliation), crate::error::CommonErrors))]
pub(crate) async fn reconciliation(
    State(state): State<AppState>,
    auth: Authorized<permits::ReconcileMomo>,
) -> ApiResult<Json<Reconciliation>> {
    Ok(Json(momo::reconciliation(&state, &auth).await?))
}

/// `GET /api/v1/momo/exceptions`: the verdicts not matched and not yet signed off, oldest first.
#[utoipa::path(get, path = "/api/v1/momo/exceptions", tag = "momo", security(("bearer" = ["reconcile_momo"])), responses((status = 200, body = [VerdictRecord]), crate::error::CommonErrors))]
pub(crate) async fn exceptions(
    State(state): State<AppState>,
    auth: Authorized<permits::ReconcileMomo>,
) -> ApiResult<Json<Vec<VerdictRecord>>> {
    Ok(Json(momo::exceptions(&state, &auth).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignOffRequest {
    /// What was checked, and why the exception is accepted or what was done.
    note: String,
}

/// `POST /api/v1/momo/exceptions/{sale_id}/{position}/sign-off`: a manager's word on one
/// exception, with a note; it leaves the exceptions list and stays in the reconciliation.
#[utoipa::path(post, path = "/api/v1/momo/exceptions/{sale_id}/{position}/sign-off", tag = "momo", params(("sale_id" = uuid::Uuid, Path, description = "The sale"), ("position" = i32, Path, description = "The tender's position in the sale")), request_body = SignOffRequest, security(("bearer" = ["reconcile_momo"])), responses((status = 200, body = VerdictRecord), crate::error::CommonErrors))]
pub(crate) async fn sign_off(
    State(state): State<AppState>,
    auth: Authorized<permits::ReconcileMomo>,
    ApiPath((sale, position)): ApiPath<(uuid::Uuid, i32)>,
    ApiJson(request): ApiJson<SignOffRequest>,
) -> ApiResult<Json<VerdictRecord>> {
    Ok(Json(
        momo::sign_off(&state, &auth, sale, position, &request.note).await?,
    ))
}
