use axum::Json;
use axum::extract::State;
use nexus_domain::TaxRules;
use nexus_store::TenantSettings;
use serde::Deserialize;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::services::settings;
use crate::state::AppState;

/// `GET /api/v1/settings`: currency, tax rules and time zone.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = ["view_settings"])), responses((status = 200, body = nexus_store::TenantSettings), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewSettings>,
) -> ApiResult<Json<TenantSettings>> {
    Ok(Json(settings::settings(&state, &auth).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsRequest {
    currency: String,
    tax: TaxRules,
    time_zone: String,
}

/// `PUT /api/v1/settings`: replaces them. Rates are data: a shop that is not VAT-registered sets
/// `tax.enabled` to false; a tenant elsewhere sets its own levies.
#[utoipa::path(put, path = "/api/v1/settings", tag = "settings", request_body = SettingsRequest, security(("bearer" = ["manage_settings"])), responses((status = 200, body = nexus_store::TenantSettings), crate::error::CommonErrors))]
pub(crate) async fn put(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageSettings>,
    ApiJson(request): ApiJson<SettingsRequest>,
) -> ApiResult<Json<TenantSettings>> {
    Ok(Json(
        settings::replace_settings(
            &state,
            &auth,
            &request.currency,
            request.tax,
            request.time_zone,
        )
        .await?,
    ))
}
