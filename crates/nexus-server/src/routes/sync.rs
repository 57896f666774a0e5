//! The sync endpoints a shop station talks to. Ops are planned by `nexus_sync` (order, gaps,
//! retries) and applied through the same code paths the API uses, so a sale that arrives by
//! sync is recorded exactly as one posted by the API.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::roles::Actor;
use nexus_domain::{Permission, UnixMillis, UserId};
use nexus_store::{StationContact, SyncOpRecord};
use nexus_sync::{
    Entity, Hlc, MAX_CLOCK_DRIFT_MILLIS, Op, OpResult, OpStatus, PushError, PushRequest,
    PushResponse, PushStep, plan_push,
};
use serde::Deserialize;

use crate::auth::StationAuthenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::sales::{SaleRequest, record_sale};
use crate::state::AppState;

/// The payload of a `sale` op: the sale as the till recorded it, and who rang it up.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaleOp {
    cashier_id: UserId,
    sale: SaleRequest,
}

/// Why an op was refused: a stable code and a message for the station's quarantine screen.
struct Refusal {
    code: String,
    message: String,
}

impl Refusal {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

fn server_hlc(now: UnixMillis) -> Hlc {
    Hlc {
        wall_millis: now.as_millis(),
        counter: 0,
        node: 0,
    }
}

/// Applies one op; `Err` is a refusal that quarantines the op at the station without blocking
/// the ops behind it.
async fn apply(
    state: &AppState,
    station: &StationAuthenticated,
    op: &Op,
    now: UnixMillis,
) -> Result<(), Refusal> {
    if op.hlc.wall_millis > now.as_millis() + MAX_CLOCK_DRIFT_MILLIS {
        return Err(Refusal::new(
            "clock_ahead",
            "the station's clock is ahead of the server's; check its date and time",
        ));
    }
    match op.entity {
        Entity::Sale => {
            let payload: SaleOp = serde_json::from_value(op.payload.clone()).map_err(|error| {
                Refusal::new(
                    "invalid_payload",
                    format!("the sale could not be read: {error}"),
                )
            })?;
            if payload.sale.branch_id != station.station.branch_id {
                return Err(Refusal::new(
                    "wrong_branch",
                    "a station records sales of its own branch only",
                ));
            }
            // The staff member named in the op must be allowed to sell at this branch now.
            let cashier = state
                .store
                .get_user(station.tenant, payload.cashier_id)
                .await
                .map_err(|error| Refusal::new("unavailable", error.to_string()))?
                .filter(|user| user.active)
                .ok_or_else(|| {
                    Refusal::new(
                        "unknown_cashier",
                        "the cashier named in the sale is not active staff",
                    )
                })?;
            let actor = Actor {
                role: cashier.role,
                branches: &cashier.branch_ids,
            };
            if !cashier.role.allows(Permission::Sell)
                || !actor.can_see_branch(station.station.branch_id)
            {
                return Err(Refusal::new(
                    "cashier_not_allowed",
                    "the cashier may not sell at this branch",
                ));
            }
            record_sale(
                state.store.as_ref(),
                state.clock.as_ref(),
                station.tenant,
                cashier.id,
                &actor,
                payload.sale,
            )
            .await
            .map(|_| ())
            .map_err(|error| Refusal::new(error.code(), error.message()))
        }
        other => Err(Refusal::new(
            "unsupported_entity",
            format!(
                "this server does not accept {other:?} ops yet; the station keeps them until it does"
            ),
        )),
    }
}

/// `POST /api/v1/sync/push`: a station's ops, in seq order, applied once each.
#[utoipa::path(post, path = "/api/v1/sync/push", tag = "sync", request_body = PushRequest, security(("station" = [])),
    responses((status = 200, body = PushResponse), (status = 401, description = "Unknown or revoked station", body = crate::error::ApiErrorBody),
              (status = 426, description = "Protocol version not spoken: update the station", body = crate::error::ApiErrorBody),
              (status = 422, body = crate::error::ApiErrorBody)))]
pub(crate) async fn push(
    State(state): State<AppState>,
    station: StationAuthenticated,
    ApiJson(request): ApiJson<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    let acknowledged = u64::try_from(station.station.acknowledged_seq).unwrap_or(0);
    let plan =
        plan_push(station.station.id, acknowledged, &request).map_err(|error| match error {
            PushError::UnsupportedVersion(_) => ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "update_required",
                error.to_string(),
            ),
            other => ApiError::validation(other.to_string()),
        })?;
    let now = state.clock.now();
    let mut results = Vec::with_capacity(plan.steps.len());
    let mut records = Vec::new();
    for step in plan.steps {
        let (index, already) = match step {
            PushStep::AlreadyHave { index } => (index, true),
            PushStep::Apply { index } => (index, false),
        };
        let op = &request.ops[index];
        let duplicate = already || state.store.op_seen(station.tenant, op.op_id).await?;
        let seq = i64::try_from(op.seq).map_err(|_| ApiError::validation("seq is out of range"))?;
        if duplicate {
            results.push(OpResult {
                seq: op.seq,
                op_id: op.op_id,
                status: OpStatus::Duplicate,
                code: None,
                message: None,
            });
            continue;
        }
        let outcome = apply(&state, &station, op, now).await;
        let (status, code, message) = match outcome {
            Ok(()) => (OpStatus::Applied, None, None),
            Err(refusal) => (
                OpStatus::Rejected,
                Some(refusal.code),
                Some(refusal.message),
            ),
        };
        records.push(SyncOpRecord {
            seq,
            op_id: op.op_id,
            entity: serde_json::to_value(op.entity)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default(),
            entity_id: op.entity_id,
            status: if status == OpStatus::Applied {
                "applied"
            } else {
                "rejected"
            },
            code: code.clone(),
            message: message.clone(),
        });
        results.push(OpResult {
            seq: op.seq,
            op_id: op.op_id,
            status,
            code,
            message,
        });
    }
    let contact = StationContact {
        now,
        unsynced_since: request.unsynced_since.map(UnixMillis::from_millis),
        app_version: request.app_version.chars().take(40).collect(),
    };
    let acknowledged_seq = state
        .store
        .record_push(station.tenant, station.station.id, &records, &contact)
        .await?;
    Ok(Json(PushResponse {
        protocol_version: nexus_sync::PROTOCOL_VERSION,
        results,
        acknowledged_seq: u64::try_from(acknowledged_seq).unwrap_or(0),
        resend_from: plan.resend_from,
        server_hlc: server_hlc(now),
    }))
}
