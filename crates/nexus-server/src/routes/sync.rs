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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PullQuery {
    protocol_version: u32,
    /// The `next_cursor` of the previous page; 0 for everything.
    #[serde(default)]
    cursor: u64,
    /// 1 to 1000; 500 by default.
    limit: Option<u32>,
}

/// `GET /api/v1/sync/pull`: the changes for this station's scope (the tenant's catalogue and
/// settings, its branch's stock movements) after `cursor`, in order. The station stores a page
/// and its `next_cursor` in one transaction, so it never shows half an update.
#[utoipa::path(get, path = "/api/v1/sync/pull", tag = "sync", params(PullQuery), security(("station" = [])),
    responses((status = 200, body = nexus_sync::PullResponse), (status = 401, description = "Unknown or revoked station", body = crate::error::ApiErrorBody),
              (status = 426, description = "Protocol version not spoken: update the station", body = crate::error::ApiErrorBody)))]
pub(crate) async fn pull(
    State(state): State<AppState>,
    station: StationAuthenticated,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<PullQuery>,
) -> ApiResult<Json<nexus_sync::PullResponse>> {
    if query.protocol_version != nexus_sync::PROTOCOL_VERSION {
        return Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "update_required",
            format!(
                "protocol version {} is not spoken here (this server speaks {}); update the station",
                query.protocol_version,
                nexus_sync::PROTOCOL_VERSION
            ),
        ));
    }
    let limit = query.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 1000").with_field("limit"));
    }
    let cursor = i64::try_from(query.cursor)
        .map_err(|_| ApiError::validation("cursor is out of range").with_field("cursor"))?;
    let records = state
        .store
        .changes_since(station.tenant, station.station.branch_id, cursor, limit)
        .await?;
    let mut changes = Vec::with_capacity(records.len());
    for record in records {
        let payload = serde_json::from_str(&record.payload)
            .map_err(|error| ApiError::internal(format!("a stored change is not JSON: {error}")))?;
        changes.push(nexus_sync::Change {
            seq: u64::try_from(record.seq).unwrap_or(0),
            entity: record.entity,
            entity_id: record.entity_id,
            payload,
        });
    }
    let next_cursor = changes.last().map_or(query.cursor, |change| change.seq);
    let has_more = changes.len() == limit as usize;
    Ok(Json(nexus_sync::PullResponse {
        protocol_version: nexus_sync::PROTOCOL_VERSION,
        changes,
        next_cursor,
        has_more,
        server_hlc: server_hlc(state.clock.now()),
    }))
}
