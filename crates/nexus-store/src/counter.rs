//! What happens at the shop counter besides sales: cashiers' shifts (a float at the open,
//! expected against counted per tender at the close) and the customers a till records.

use nexus_domain::{BranchId, UnixMillis, UserId};
use serde::Serialize;

use crate::retail::TenderKind;

/// A shift being opened at a station. Its id comes from the till, so a retry names it again.
#[derive(Clone, Debug)]
pub struct NewShift {
    pub id: uuid::Uuid,
    pub branch: BranchId,
    pub station: uuid::Uuid,
    pub cashier: UserId,
    pub opened_at: UnixMillis,
    pub float_minor: i64,
    pub recorded_at: UnixMillis,
}

/// One tender's figures at a shift's close: what the till expected and what was counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShiftTender {
    pub tender: TenderKind,
    pub expected_minor: i64,
    pub counted_minor: i64,
}

/// The close of a shift.
#[derive(Clone, Debug)]
pub struct ShiftClose {
    pub id: uuid::Uuid,
    pub closed_by: UserId,
    pub closed_at: UnixMillis,
    /// At most one entry per tender kind.
    pub tenders: Vec<ShiftTender>,
}

/// What closing a shift did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseOutcome {
    Closed(Shift),
    /// It was already closed with these same figures: a retry of the same close.
    AlreadyClosed(Shift),
    /// It was already closed with other figures; nothing changed.
    ClosedDifferently(Shift),
    /// No shift has this id.
    UnknownShift,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shift {
    pub id: uuid::Uuid,
    pub branch_id: BranchId,
    pub station_id: uuid::Uuid,
    pub cashier_id: UserId,
    pub opened_at: UnixMillis,
    pub float_minor: i64,
    /// `None` while the shift is open.
    pub closed_at: Option<UnixMillis>,
    pub closed_by: Option<UserId>,
    /// The close figures, in tender order (cash, momo, card); empty while open.
    pub tenders: Vec<ShiftTender>,
}

/// Which shifts to list: opened in `from..to` (Unix ms, `to` excluded), at the given branches
/// or all.
#[derive(Clone, Debug)]
pub struct ShiftQuery {
    pub branches: Option<Vec<BranchId>>,
    pub from: Option<UnixMillis>,
    pub to: Option<UnixMillis>,
    pub limit: u32,
}

#[derive(Clone, Debug)]
pub struct NewCustomer {
    pub id: uuid::Uuid,
    /// Already trimmed and checked.
    pub name: String,
    pub phone: Option<String>,
    pub created_by: UserId,
    pub created_at: UnixMillis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    pub id: uuid::Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub created_at: UnixMillis,
    pub created_by: UserId,
}
