//! Customers the tills recorded, for anyone who looks up sales.

use nexus_store::CustomerRecord;

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
