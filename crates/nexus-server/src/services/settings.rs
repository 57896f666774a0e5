//! The organisation's settings: currency, tax rules and levies, time zone.

use nexus_domain::{Currency, TaxRules};
use nexus_store::TenantSettings;

use crate::auth::Authenticated;
use crate::calendar;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn settings(state: &AppState, auth: &Authenticated) -> ApiResult<TenantSettings> {
    Ok(state.store.settings(auth.tenant).await?)
}

/// Replaces them. Rates are data: a shop that is not VAT-registered turns tax off; a tenant
/// elsewhere sets its own levies.
pub async fn replace_settings(
    state: &AppState,
    auth: &Authenticated,
    currency: &str,
    tax: TaxRules,
    time_zone: String,
) -> ApiResult<TenantSettings> {
    let currency =
        Currency::parse(currency).map_err(|error| ApiError::from(error).with_field("currency"))?;
    tax.validate()
        .map_err(|error| ApiError::from(error).with_field("tax"))?;
    if calendar::zone_offset_minutes(&time_zone).is_none() {
        let known: Vec<&str> = calendar::known_zones().collect();
        return Err(ApiError::validation(format!(
            "unknown time zone; known: {}",
            known.join(", ")
        ))
        .with_field("time_zone"));
    }
    let settings = TenantSettings {
        currency,
        tax,
        time_zone,
    };
    Ok(state
        .store
        .update_settings(auth.tenant, &settings, state.clock.now())
        .await?)
}
