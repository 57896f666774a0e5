//! Cashiers' shifts as the stations recorded them, for the owner and managers.

use axum::Json;
use axum::extract::State;
use nexus_domain::{BranchId, UnixMillis, UserId};
use nexus_store::TenderKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::services::shifts;
use crate::state::AppState;

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
    let shifts = shifts::shifts(&state, &auth, query.branch, query.from, query.to).await?;
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
