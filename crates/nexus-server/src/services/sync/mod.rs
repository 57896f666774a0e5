//! Applying what stations push. Ops are planned by `nexus_sync` (order, gaps, retries) and
//! applied through the same services the API uses, judged by the staff member each op names, so
//! a sale that arrives by sync is recorded exactly as one posted by the API.

mod apply;
mod pull;
mod push;

use axum::http::StatusCode;
use nexus_domain::UnixMillis;
use nexus_sync::Hlc;

use crate::auth::StationAuthenticated;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use pull::conflicts;
pub(crate) use pull::{PullRequest, exceptions, pull};
pub(crate) use push::push;

/// The server's clock reading as a hybrid logical clock value, for a station to correct by.
pub(crate) fn server_hlc(now: UnixMillis) -> Hlc {
    Hlc {
        wall_millis: now.as_millis(),
        counter: 0,
        node: 0,
    }
}

/// Refuses a station that speaks another protocol version, telling it to update.
pub(crate) fn speaks(protocol_version: u32) -> ApiResult<()> {
    if protocol_version == nexus_sync::PROTOCOL_VERSION {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UPGRADE_REQUIRED,
        "update_required",
        format!(
            "protocol version {protocol_version} is not spoken here (this server speaks {}); update the station",
            nexus_sync::PROTOCOL_VERSION
        ),
    ))
}

/// What the service holds of this station: its acknowledged ops and the highest receipt number
/// among its sales, for a station restored from a backup to number above.
pub(crate) async fn high_water(
    state: &AppState,
    station: &StationAuthenticated,
    protocol_version: u32,
) -> ApiResult<nexus_sync::HighWater> {
    speaks(protocol_version)?;
    let receipt_seq = state
        .store
        .highest_receipt_seq(station.tenant, station.station.id)
        .await?;
    Ok(nexus_sync::HighWater {
        protocol_version: nexus_sync::PROTOCOL_VERSION,
        station_id: station.station.id,
        acknowledged_seq: u64::try_from(station.station.acknowledged_seq).unwrap_or(0),
        receipt_seq,
    })
}
