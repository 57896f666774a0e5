use axum::Json;
use axum::extract::State;
use nexus_domain::{Currency, TaxRules};
use nexus_store::TenantSettings;
use serde::Deserialize;

use crate::auth::{Authorized, permits};
use crate::calendar;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

/// `GET /api/v1/settings`: currency, tax rules and time zone.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = ["view_settings"])), responses((status = 200, body = nexus_store::TenantSettings), crate::error::CommonErrors))]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewSettings>,
) -> ApiResult<Json<TenantSettings>> {
    Ok(Json(state.store.settings(auth.tenant).await?))
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
    let currency = Currency::parse(&request.currency)
        .map_err(|error| ApiError::from(error).with_field("currency"))?;
    request
        .tax
        .validate()
        .map_err(|error| ApiError::from(error).with_field("tax"))?;
    if calendar::zone_offset_minutes(&request.time_zone).is_none() {
        let known: Vec<&str> = calendar::known_zones().collect();
        return Err(ApiError::validation(format!(
            "unknown time zone; known: {}",
            known.join(", ")
        ))
        .with_field("time_zone"));
    }
    let settings = TenantSettings {
        currency,
        tax: request.tax,
        time_zone: request.time_zone,
    };
    Ok(Json(
        state
            .store
            .update_settings(auth.tenant, &settings, state.clock.now())
            .await?,
    ))
}
