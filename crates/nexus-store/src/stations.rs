//! What the store keeps about shop stations: enrolment, credentials, what each one pushed, the
//! change log it pulls and the conflict log.

use nexus_domain::{BranchId, NonEmptyText, UnixMillis, UserId};
use serde::Serialize;

#[derive(Clone, Debug)]
pub struct NewStation {
    pub id: uuid::Uuid,
    pub branch: BranchId,
    pub name: NonEmptyText,
    /// SHA-256 of the one-time enrolment code.
    pub enrolment_code_hash: Vec<u8>,
    pub enrolment_expires_at: UnixMillis,
    pub created_by: UserId,
    pub now: UnixMillis,
}

/// A station as the dashboard and the API show it. Hashes never leave the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Station))]
pub struct StationRecord {
    pub id: uuid::Uuid,
    pub branch_id: BranchId,
    pub name: String,
    pub enrolled_at: Option<UnixMillis>,
    /// Until then the enrolment code works (once).
    pub enrolment_expires_at: Option<UnixMillis>,
    pub revoked_at: Option<UnixMillis>,
    pub created_at: UnixMillis,
    /// The last push that carried ops.
    pub last_sync_at: Option<UnixMillis>,
    /// The last push or pull, whatever it carried.
    pub last_contact_at: Option<UnixMillis>,
    /// The oldest unsynced write the station reported at its last contact; `None` when nothing
    /// waits.
    pub unsynced_since: Option<UnixMillis>,
    /// How many writes waited to be pushed, as the station last said.
    pub unsynced_ops: Option<i64>,
    pub app_version: Option<String>,
    pub acknowledged_seq: i64,
}

impl StationRecord {
    /// A revoked station is refused every push and pull until it enrols again.
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// What a station says of the writes it has not pushed yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unsynced {
    /// The oldest; `None` when nothing waits.
    pub since: Option<UnixMillis>,
    pub ops: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnrolOutcome {
    Enrolled(Box<StationRecord>),
    /// No station has this code (never issued, or already used).
    UnknownCode,
    Expired,
    Revoked,
}

/// One op a station pushed, as the server decided it.
#[derive(Clone, Debug)]
pub struct SyncOpRecord {
    pub seq: i64,
    pub op_id: uuid::Uuid,
    pub entity: String,
    pub entity_id: uuid::Uuid,
    /// "applied" or "rejected"; or "duplicate": an op id already recorded under another seq
    /// (not stored again, but the high-water mark moves over its seq).
    pub status: &'static str,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// What a pulling station said of itself: see `StationStore::pull_changes`.
#[derive(Clone, Copy, Debug)]
pub struct PullContact {
    pub now: UnixMillis,
    pub unsynced: Option<Unsynced>,
}

/// See `StationStore::pull_changes`.
#[derive(Clone, Debug)]
pub struct Pulled {
    /// The station the credential names, revoked or not; `None` when no station has it. The
    /// changes are read and the contact recorded only for one that is not revoked.
    pub station: Option<StationRecord>,
    pub changes: Vec<ChangeRecord>,
}

/// See `StationStore::push_reads`.
#[derive(Clone, Debug)]
pub struct PushReads {
    /// As in [`Pulled::station`]: the rest is read only for a station that is not revoked.
    pub station: Option<StationRecord>,
    pub seen: std::collections::HashSet<uuid::Uuid>,
    pub staff: std::collections::HashMap<nexus_domain::UserId, Option<crate::UserRecord>>,
}

/// What a station said about itself when it pushed.
#[derive(Clone, Debug)]
pub struct StationContact {
    pub now: UnixMillis,
    pub unsynced_since: Option<UnixMillis>,
    pub app_version: String,
}

/// One entry of the change log, as stored: the payload is the record's JSON.
#[derive(Clone, Debug)]
pub struct ChangeRecord {
    pub seq: i64,
    pub entity: String,
    pub entity_id: uuid::Uuid,
    pub payload: String,
}

/// A station's edit of a product's catalogue fields (name, price, reorder level), with the
/// values the station saw when its user made it. Only the fields in `change` are edited.
#[derive(Clone, Debug)]
pub struct CatalogueEdit {
    pub product: nexus_domain::ids::ProductId,
    pub change: crate::retail::ProductChange,
    pub seen: SeenFields,
    pub station: uuid::Uuid,
    pub op_id: uuid::Uuid,
    pub actor: UserId,
    pub now: UnixMillis,
}

/// What the editing station's replica held for each edited field; `None` for a field it did not
/// edit.
#[derive(Clone, Debug, Default)]
pub struct SeenFields {
    pub name: Option<String>,
    pub price_minor: Option<i64>,
    pub reorder_level: Option<Option<nexus_domain::Quantity>>,
}

/// A concurrent edit: the field held `lost_value` (someone else's edit) instead of the
/// `base_value` the station saw, and the station's `won_value` replaced it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conflict {
    pub id: uuid::Uuid,
    pub entity: String,
    pub entity_id: uuid::Uuid,
    pub field: String,
    pub base_value: serde_json::Value,
    pub lost_value: serde_json::Value,
    pub won_value: serde_json::Value,
    pub station_id: uuid::Uuid,
    pub op_id: uuid::Uuid,
    pub actor_id: UserId,
    pub detected_at: UnixMillis,
}
