//! Cashiers' shifts as the stations recorded them, for the owner and managers.

use axum::Json;
use axum::extract::State;
use nexus_domain::{BranchId, Role, UnixMillis, UserId};
use nexus_store::{ShiftQuery, TenderKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::calendar;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

const MILLIS_PER_DAY: i64 = 86_400_000;
/// The most shifts one answer lists (the newest).
const MAX_SHIFTS: u32 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShiftListQuery {
    branch: Option<Uuid>,
    /// First local day the shifts were opened on, YYYY-MM-DD; no limit when absent.
    from: Option<String>,
    /// Last local day, YYYY-MM-DD, included; no limit when absent.
    to: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ShiftTenderView {
    tender: TenderKind,
    expected_minor: i64,
    counted_minor: i64,
    /// Counted minus expected: negative when short, positive when over.
    difference_minor: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ShiftView {
    id: Uuid,
    branch_id: BranchId,
    station_id: Uuid,
    cashier_id: UserId,
    opened_at: UnixMillis,
    float_minor: i64,
    /// Absent while the shift is open.
    closed_at: Option<UnixMillis>,
    closed_by: Option<UserId>,
    tenders: Vec<ShiftTenderView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ShiftList {
    items: Vec<ShiftView>,
}

/// `GET /api/v1/shifts`: shifts opened in the range (local days in the tenant's time zone),
/// newest first, at most 500, with each tender's expected, counted and difference at the close.
/// Managers see the shifts of their own branches.
#[utoipa::path(get, path = "/api/v1/shifts", tag = "shifts", params(ShiftListQuery), security(("bearer" = ["view_reports"])),
    responses((status = 200, body = ShiftList), crate::error::CommonErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewReports>,
    ApiQuery(query): ApiQuery<ShiftListQuery>,
) -> ApiResult<Json<ShiftList>> {
    let branches = match query.branch {
        Some(branch) => {
            let branch = BranchId::from_uuid(branch);
            if !auth.actor().can_see_branch(branch) {
                return Err(ApiError::not_found("branch"));
            }
            Some(vec![branch])
        }
        None if auth.user.role == Role::Owner => None,
        None => Some(auth.user.branch_ids.clone()),
    };
    let (from, to) = if query.from.is_some() || query.to.is_some() {
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
        (
            start_of(&query.from, "from", 0)?,
            start_of(&query.to, "to", 1)?,
        )
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
    let items = shifts
        .into_iter()
        .map(|shift| ShiftView {
            id: shift.id,
            branch_id: shift.branch_id,
            station_id: shift.station_id,
            cashier_id: shift.cashier_id,
            opened_at: shift.opened_at,
            float_minor: shift.float_minor,
            closed_at: shift.closed_at,
            closed_by: shift.closed_by,
            tenders: shift
                .tenders
                .into_iter()
                .map(|tender| ShiftTenderView {
                    tender: tender.tender,
                    expected_minor: tender.expected_minor,
                    counted_minor: tender.counted_minor,
                    difference_minor: tender.counted_minor - tender.expected_minor,
                })
                .collect(),
        })
        .collect();
    Ok(Json(ShiftList { items }))
}
