//! Cashiers' shifts as the stations recorded them, for the owner and managers.

use nexus_domain::UnixMillis;
use nexus_store::{ShiftQuery, ShiftRecord};

use super::branch_scope;
use crate::auth::Authenticated;
use crate::calendar;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const MILLIS_PER_DAY: i64 = 86_400_000;
/// The most shifts one answer lists (the newest).
pub const MAX_SHIFTS: u32 = 500;

/// Shifts opened from the local day `from` to `to` (included; the tenant's time zone), newest
/// first, at most [`MAX_SHIFTS`].
pub async fn shifts(
    state: &AppState,
    auth: &Authenticated,
    branch: Option<uuid::Uuid>,
    from: Option<String>,
    to: Option<String>,
) -> ApiResult<Vec<ShiftRecord>> {
    let branches = branch_scope(auth, branch)?;
    let (from, to) = if from.is_some() || to.is_some() {
        let settings = state.store.settings(auth.tenant).await?;
        let offset_millis =
            calendar::zone_offset_minutes(&settings.time_zone).unwrap_or(0) * 60_000;
        // The first instant of a local day.
        let start_of = |text: &Option<String>, field: &'static str, after: i64| {
            text.as_deref()
                .map(|text| {
                    calendar::parse_date(text)
                        .map(|day| (i64::from(day) + after) * MILLIS_PER_DAY - offset_millis)
                        .map(UnixMillis::from_millis)
                        .ok_or_else(|| {
                            ApiError::validation(format!("{field} must be a date like 2026-01-31"))
                                .with_field(field)
                        })
                })
                .transpose()
        };
        (start_of(&from, "from", 0)?, start_of(&to, "to", 1)?)
    } else {
        (None, None)
    };
    let shifts = state
        .store
        .list_shifts(
            auth.tenant,
            &ShiftQuery {
                branches,
                from,
                to,
                limit: MAX_SHIFTS,
            },
        )
        .await?;
    Ok(shifts)
}
