//! Enrolment: a station trades the one-time code an owner or manager created for it for its
//! own credential, once, before its first sync.

use nexus_domain::{BranchId, TenantId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /api/v1/stations/enroll`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolRequest {
    pub enrolment_code: String,
    pub app_version: Option<String>,
}

/// The answer to an enrolment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Enrolled {
    pub station_id: Uuid,
    pub tenant_id: TenantId,
    pub branch_id: BranchId,
    /// The station's secret: sent as `Authorization: Station <credential>` on every sync.
    pub credential: String,
    /// For receipts: the station prints `BRANCH-STATION-SEQ` numbers from these. Servers
    /// older than the names send none; such a station numbers its receipts from its id.
    #[serde(default)]
    pub station_name: String,
    #[serde(default)]
    pub branch_name: String,
}
