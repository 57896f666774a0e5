//! What the store reads and writes. Timestamps are Unix milliseconds (UTC).

use nexus_domain::{BranchId, Email, NonEmptyText, Role, SessionId, TenantId, UnixMillis, UserId};
use serde::Serialize;

/// A new organisation with its first owner, signed in: the owner's first session is created in
/// the same transaction, so a registration either fully happens or leaves nothing.
#[derive(Debug)]
pub struct NewTenant {
    pub id: TenantId,
    pub name: NonEmptyText,
    pub owner: NewUser,
    pub owner_session: NewSession,
    pub now: UnixMillis,
}

#[derive(Clone, Debug, Serialize)]
pub struct TenantSummary {
    pub id: TenantId,
    pub name: String,
    pub schema_version: i32,
    pub created_at: UnixMillis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrationOutcome {
    AlreadyCurrent,
    Migrated { from: i32, to: i32 },
}

/// Where an email signs in: logins are global, so one email belongs to one tenant.
#[derive(Clone, Copy, Debug)]
pub struct LoginEntry {
    pub tenant: TenantId,
    pub user: UserId,
}

#[derive(Clone, Debug)]
pub struct UserCredentials {
    pub password_hash: Option<String>,
    pub active: bool,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub name: NonEmptyText,
    pub role: Role,
    pub branch_ids: Vec<BranchId>,
    /// argon2id PHC string.
    pub password_hash: Option<String>,
    /// argon2id PHC string of the station PIN.
    pub pin_hash: Option<String>,
}

/// A member of staff as the API shows them. Hashes never leave the store through this type.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRecord {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub branch_ids: Vec<BranchId>,
    pub active: bool,
    pub has_password: bool,
    pub has_pin: bool,
    pub created_at: UnixMillis,
}

#[derive(Clone, Debug, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub branch_ids: Option<Vec<BranchId>>,
    pub active: Option<bool>,
    /// A new password or PIN, hashed.
    pub password_hash: Option<String>,
    pub pin_hash: Option<String>,
}

/// The key two branch names clash on: trimmed and lowercased with Unicode rules, computed here so
/// that both backends compare alike (SQLite's `lower()` folds ASCII only).
pub fn branch_name_key(name: &NonEmptyText) -> String {
    name.as_str().to_lowercase()
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub id: SessionId,
    pub user: UserId,
    /// SHA-256 of the refresh token; the token itself is never stored.
    pub refresh_token_hash: Vec<u8>,
    pub refresh_expires_at: UnixMillis,
    pub now: UnixMillis,
}

#[derive(Clone, Debug)]
pub struct RefreshRotation {
    pub presented_hash: Vec<u8>,
    pub replacement_hash: Vec<u8>,
    pub replacement_expires_at: UnixMillis,
    pub now: UnixMillis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    Rotated {
        user: UserId,
        session: SessionId,
    },
    /// No such token.
    Unknown,
    Expired,
    /// The session was signed out or revoked earlier.
    Revoked,
    /// The token had already been rotated: the session is now revoked.
    ReuseDetected,
}

#[derive(Clone, Debug)]
pub struct NewBranch {
    pub id: BranchId,
    pub name: NonEmptyText,
    pub address: Option<NonEmptyText>,
    pub now: UnixMillis,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Branch {
    pub id: BranchId,
    pub name: String,
    pub address: Option<String>,
    pub created_at: UnixMillis,
    pub archived_at: Option<UnixMillis>,
}
