//! Shop stations: creating one with its enrolment code, enrolment, the list with sync health,
//! revocation.

use base64::Engine as _;
use nexus_domain::{BranchId, NonEmptyText, TenantId};
use nexus_store::{EnrolOutcome, NewStation, StationRecord};
use nexus_sync::{EnrolRequest, Enrolled};
use uuid::Uuid;

use crate::auth::{Authenticated, StationCredential, hash_token, random_bytes};
use crate::error::{ApiError, ApiResult};
use crate::events::Topic;
use crate::state::AppState;

const ENROLMENT_CODE_SECONDS: i64 = 24 * 60 * 60;

/// An enrolment code: the tenant (so the code routes itself) and a random secret.
fn new_enrolment_code(tenant: TenantId) -> ApiResult<String> {
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(15)?);
    Ok(format!("{}-{secret}", tenant.as_uuid().simple()))
}

fn enrolment_code_tenant(code: &str) -> Option<TenantId> {
    let (tenant_hex, secret) = code.trim().split_once('-')?;
    if secret.is_empty() || code.len() > 100 {
        return None;
    }
    TenantId::from_storage_name(&format!("t_{tenant_hex}"))
}

/// A new station for `branch`, and the one-time code it enrols with (shown once).
pub async fn create_station(
    state: &AppState,
    auth: &Authenticated,
    branch: BranchId,
    name: &str,
) -> ApiResult<(StationRecord, String)> {
    if !auth.actor().can_see_branch(branch) {
        return Err(ApiError::validation(format!(
            "branch {branch} does not exist or is not yours"
        ))
        .with_field("branch_id"));
    }
    let name = NonEmptyText::parse("name", name, 100)?;
    crate::services::billing::check_addition(
        state,
        auth.tenant,
        nexus_domain::billing::Addition::Till,
    )
    .await?;
    let now = state.clock.now();
    let enrolment_code = new_enrolment_code(auth.tenant)?;
    let station = state
        .store
        .create_station(
            auth.tenant,
            NewStation {
                id: Uuid::now_v7(),
                branch,
                name,
                enrolment_code_hash: hash_token(&enrolment_code),
                enrolment_expires_at: now.plus_seconds(ENROLMENT_CODE_SECONDS),
                created_by: auth.user.id,
                now,
            },
        )
        .await?;
    state.events.publish(auth.tenant, Topic::Tills).await;
    Ok((station, enrolment_code))
}

/// Stations with their sync health: owners all, managers their branches'.
pub async fn stations(state: &AppState, auth: &Authenticated) -> ApiResult<Vec<StationRecord>> {
    let mut stations = state.store.list_stations(auth.tenant).await?;
    stations.retain(|station| auth.actor().can_see_branch(station.branch_id));
    Ok(stations)
}

/// Revokes the station; its next push or pull is refused.
pub async fn revoke_station(
    state: &AppState,
    auth: &Authenticated,
    id: Uuid,
) -> ApiResult<StationRecord> {
    let visible = state
        .store
        .get_station(auth.tenant, id)
        .await?
        .filter(|station| auth.actor().can_see_branch(station.branch_id));
    if visible.is_none() {
        return Err(ApiError::not_found("station"));
    }
    let revoked = state
        .store
        .revoke_station(auth.tenant, id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("station"))?;
    state.events.publish(auth.tenant, Topic::Tills).await;
    Ok(revoked)
}

/// A station trades its one-time code for its credential.
pub async fn enrol(state: &AppState, request: EnrolRequest) -> ApiResult<Enrolled> {
    let invalid = || {
        ApiError::unauthenticated(
            "the enrolment code is not valid or was already used; ask for a new one",
        )
    };
    let code = request.enrolment_code.trim();
    let tenant = enrolment_code_tenant(code).ok_or_else(invalid)?;
    let app_version = request.app_version.map(|version| {
        version
            .chars()
            .filter(|character| !character.is_control())
            .take(40)
            .collect::<String>()
    });
    let credential = StationCredential::generate(tenant)?;
    let outcome = state
        .store
        .enrol_station(
            tenant,
            &hash_token(code),
            &credential.hash,
            app_version,
            state.clock.now(),
        )
        .await
        .map_err(|error| match error {
            nexus_store::StoreError::UnknownTenant(_) => invalid(),
            other => other.into(),
        })?;
    match outcome {
        EnrolOutcome::Enrolled(station) => {
            tracing::info!(%tenant, station = %station.id, "station enrolled");
            let branch_name = state
                .store
                .get_branch(tenant, station.branch_id)
                .await?
                .map(|branch| branch.name)
                .unwrap_or_default();
            state.events.publish(tenant, Topic::Tills).await;
            Ok(Enrolled {
                station_id: station.id,
                tenant_id: tenant,
                branch_id: station.branch_id,
                credential: credential.credential,
                station_name: station.name,
                branch_name,
            })
        }
        EnrolOutcome::UnknownCode => Err(invalid()),
        EnrolOutcome::Expired => Err(ApiError::unauthenticated(
            "the enrolment code has expired; ask for a new one",
        )),
        EnrolOutcome::Revoked => Err(ApiError::unauthenticated(
            "this station was revoked; ask for a new one",
        )),
    }
}
