//! The Nexus sync protocol as pure data and rules: the op envelope, the hybrid logical clock, the
//! push and pull messages, and the merge rules. No I/O lives here, so that the server, the station
//! and the randomized sync tests all run exactly the same rules.
//!
//! The four guarantees of sync (no committed sale lost or duplicated; every replica agrees after
//! everyone syncs; on-hand equals the ledger exactly; a crash at any instant loses nothing) are
//! enforced by the server and the station using these rules:
//!
//! - every local write travels as an [`Op`] with a per-device, gap-free `seq`; the server plans
//!   each batch with [`plan_push`], so that a retry after a lost answer is answered `duplicate`
//!   instead of applied twice, and a gap is answered with "resend from N" instead of dropped;
//! - sales, refunds, shifts and stock movements are append-only: they are never merged by value,
//!   both sides are kept, and stock on-hand is derived from the merged ledger;
//! - catalogue fields and settings are last-writer-wins registers per field ([`merge_field`]),
//!   ordered by the server's [`Hlc`] (server authority): the server's decision is what every
//!   station pulls, and concurrent edits are flagged for the conflict log;
//! - device wall clocks never pick a winner: every node runs an [`HlcClock`], the server corrects
//!   it on each sync and refuses timestamps more than [`MAX_CLOCK_DRIFT_MILLIS`] in the future.
//!
//! What each op carries is in [`ops`], what each pulled change carries in [`records`]: both
//! sides write and read the wire through those types only.

pub mod enrolment;
pub mod momo;
pub mod ops;
pub mod records;

mod concurrent_edit;

pub use concurrent_edit::is_concurrent_edit;

use nexus_domain::UnixMillis;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use enrolment::{EnrolRequest, Enrolled};
pub use ops::{
    AccountPaymentOp, CatalogueFields, CustomerOp, MovementOp, NewSale, NewSaleLine, NewTender,
    OrderReceiptOp, Payload, PayloadError, ProductEditOp, ReturnKind, ReturnLine, ReturnOp, SaleOp,
    ShiftCloseOp, ShiftOpenOp, ShiftTenderCount, TransferLine, TransferOp,
};
pub use records::{
    AccountEntryRecord, BranchRecord, CategoryRecord, CustomerRecord, MovementRecord,
    ProductRecord, PurchaseOrderLineRecord, PurchaseOrderRecord, Record, RecordError,
    SettingsRecord, ShopRecord, StaffRecord, change_payload,
};

pub const PROTOCOL_VERSION: u32 = 1;
/// Most ops in one push; a larger batch is refused with a clear error.
pub const MAX_PUSH_OPS: usize = 500;
/// The longest a station may ask a pull to wait for changes (`wait_seconds`), when it has
/// nothing new: an idle till then costs one request a minute, and hears of a change at once.
pub const LONGEST_PULL_WAIT_SECONDS: u64 = 60;
/// A device clock more than this far ahead of the server is refused (HLC drift bound).
pub const MAX_CLOCK_DRIFT_MILLIS: i64 = 5 * 60 * 1000;

/// Hybrid logical clock timestamp. Total order: wall_millis, then counter, then node.
// The field order is the order: the derived `Ord` compares fields top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hlc {
    pub wall_millis: i64,
    pub counter: u32,
    pub node: u32,
}

impl Hlc {
    /// Below every timestamp a clock produces; marks an initial value that no one wrote.
    pub const ZERO: Hlc = Hlc {
        wall_millis: 0,
        counter: 0,
        node: 0,
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error(
        "a clock {ahead_millis} ms ahead of this one is refused; check the device's date and time"
    )]
    TooFarAhead { ahead_millis: i64 },
    #[error("the logical counter overflowed")]
    CounterOverflow,
}

/// One node's HLC (Kulkarni et al.): never goes backwards, even if the wall clock does.
#[derive(Clone, Debug)]
pub struct HlcClock {
    node: u32,
    last: Hlc,
}

impl HlcClock {
    pub fn new(node: u32) -> Self {
        Self {
            node,
            last: Hlc {
                wall_millis: 0,
                counter: 0,
                node,
            },
        }
    }

    /// After a restart, from the last persisted value: what it produces next is above `last`,
    /// even if the wall clock went back while the node was down.
    pub fn resume(node: u32, last: Hlc) -> Self {
        Self { node, last }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A local event (a write, or sending): wall = max(last.wall, now); counter = last.counter+1
    /// if wall unchanged else 0.
    pub fn tick(&mut self, now: UnixMillis) -> Result<Hlc, ClockError> {
        let wall_millis = self.last.wall_millis.max(now.as_millis());
        let counter = if wall_millis == self.last.wall_millis {
            next_counter(self.last.counter)?
        } else {
            0
        };
        Ok(self.advance(wall_millis, counter))
    }

    /// Receiving a remote timestamp: standard HLC receive rule; refuses a remote whose wall is
    /// more than MAX_CLOCK_DRIFT_MILLIS ahead of `now` (state unchanged then).
    pub fn observe(&mut self, remote: Hlc, now: UnixMillis) -> Result<Hlc, ClockError> {
        // Checked before anything moves: adopting a far-future wall would drag this clock (and
        // everything it later stamps) into the future with no way back.
        let ahead_millis = remote.wall_millis.saturating_sub(now.as_millis());
        if ahead_millis > MAX_CLOCK_DRIFT_MILLIS {
            return Err(ClockError::TooFarAhead { ahead_millis });
        }
        let last = self.last;
        let wall_millis = last
            .wall_millis
            .max(remote.wall_millis)
            .max(now.as_millis());
        let counter = match (
            wall_millis == last.wall_millis,
            wall_millis == remote.wall_millis,
        ) {
            (true, true) => next_counter(last.counter.max(remote.counter))?,
            (true, false) => next_counter(last.counter)?,
            (false, true) => next_counter(remote.counter)?,
            // The wall clock is ahead of both: it alone orders the event.
            (false, false) => 0,
        };
        Ok(self.advance(wall_millis, counter))
    }

    fn advance(&mut self, wall_millis: i64, counter: u32) -> Hlc {
        self.last = Hlc {
            wall_millis,
            counter,
            node: self.node,
        };
        self.last
    }
}

fn next_counter(counter: u32) -> Result<u32, ClockError> {
    counter.checked_add(1).ok_or(ClockError::CounterOverflow)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Entity {
    Sale,
    Refund,
    StockMovement,
    Shift,
    Customer,
    Product,
    /// Goods sent from the station's branch to another branch: two ledger movements.
    Transfer,
    /// Goods that arrived against a purchase order of the station's branch.
    OrderReceipt,
    /// Money a customer paid on their account at the till.
    AccountPayment,
}

impl Entity {
    /// The entity's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Entity::Sale => "sale",
            Entity::Refund => "refund",
            Entity::StockMovement => "stock_movement",
            Entity::Shift => "shift",
            Entity::Customer => "customer",
            Entity::Product => "product",
            Entity::Transfer => "transfer",
            Entity::OrderReceipt => "order_receipt",
            Entity::AccountPayment => "account_payment",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Action {
    Create,
    Update,
}

/// One local write of a station, as it travels. `seq` is per device, gap-free, from 1. The
/// payload is one of the [`ops`] types, by `entity` and `action`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Op {
    pub op_id: Uuid,
    pub device_id: Uuid,
    pub seq: u64,
    pub hlc: Hlc,
    pub entity: Entity,
    pub entity_id: Uuid,
    pub action: Action,
    pub payload: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(example = push_example))]
pub struct PushRequest {
    pub protocol_version: u32,
    pub ops: Vec<Op>,
    /// When the oldest op not yet acknowledged was written, for the dashboard's sync health.
    pub unsynced_since: Option<i64>,
    pub app_version: String,
    /// The device's own wall clock when it sent the push (Unix ms). The server compares it with
    /// its clock and corrects the times in the ops by the difference, so a till whose clock is a
    /// day out still records its sales on the right day. Absent: no correction.
    #[serde(default)]
    pub sent_at: Option<i64>,
}

/// A push of one cash sale, as a station sends it: the contract's example, so that tools that
/// read the contract send something the server can apply.
#[cfg(feature = "openapi")]
fn push_example() -> serde_json::Value {
    serde_json::json!({
        "protocol_version": PROTOCOL_VERSION,
        "ops": [{
            "op_id": "019a0000-0000-7000-8000-000000000001",
            "device_id": "019a0000-0000-7000-8000-000000000002",
            "seq": 1,
            "hlc": { "wall_millis": 1_767_225_600_000_i64, "counter": 0, "node": 1 },
            "entity": "sale",
            "entity_id": "019a0000-0000-7000-8000-000000000003",
            "action": "create",
            "payload": {
                "cashier_id": "019a0000-0000-7000-8000-000000000004",
                "sale": {
                    "id": "019a0000-0000-7000-8000-000000000003",
                    "branch_id": "019a0000-0000-7000-8000-000000000005",
                    "lines": [{ "product_id": "019a0000-0000-7000-8000-000000000006", "quantity": "1" }],
                    "tenders": [{ "kind": "cash", "amount_minor": 1200 }]
                }
            }
        }],
        "unsynced_since": 1_767_225_600_000_i64,
        "app_version": "0.1.0",
        "sent_at": 1_767_225_600_000_i64
    })
}

/// How far the server moves a device's timestamps: the device's clock minus the server's when
/// that differs by more than the drift bound, else nothing (network delay is not skew).
pub fn clock_correction(sent_at: Option<i64>, server_now: UnixMillis) -> i64 {
    match sent_at {
        Some(sent_at) => {
            let skew = sent_at.saturating_sub(server_now.as_millis());
            if skew.abs() > MAX_CLOCK_DRIFT_MILLIS {
                skew
            } else {
                0
            }
        }
        None => 0,
    }
}

/// One entry of a stock ledger, as the on-hand rule needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    pub occurred_at: i64,
    pub id: Uuid,
    /// A count says "there were `quantity_milli` at that point"; every other kind adds it.
    pub is_count: bool,
    pub quantity_milli: i64,
}

/// On-hand from a ledger, in thousandths: the latest count (by occurred_at, then id) plus every
/// other movement ordered after it; with no count, the sum of all movements. The same on every
/// replica whatever order the movements arrived in, because it depends only on the set.
pub fn on_hand_milli(entries: &[LedgerEntry]) -> i64 {
    let latest_count = entries
        .iter()
        .filter(|entry| entry.is_count)
        .max_by_key(|entry| (entry.occurred_at, entry.id));
    match latest_count {
        Some(count) => entries
            .iter()
            .filter(|entry| {
                !entry.is_count && (entry.occurred_at, entry.id) > (count.occurred_at, count.id)
            })
            .fold(count.quantity_milli, |total, entry| {
                total.saturating_add(entry.quantity_milli)
            }),
        None => entries.iter().fold(0_i64, |total, entry| {
            total.saturating_add(entry.quantity_milli)
        }),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OpStatus {
    Applied,
    Duplicate,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpResult {
    pub seq: u64,
    pub op_id: Uuid,
    pub status: OpStatus,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// What the service already holds of one station: the answer of `GET /api/v1/sync/high-water`.
/// A station restored from a backup is behind the service; it numbers its next op above
/// `acknowledged_seq` and its next receipt above `receipt_seq`, so that nothing it writes from
/// then on is taken for a write the service already has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HighWater {
    pub protocol_version: u32,
    pub station_id: Uuid,
    /// Every op of this station up to this seq is held by the service.
    pub acknowledged_seq: u64,
    /// The highest receipt number (its last part) of a sale or refund from this station that
    /// the service holds; 0 when it holds none.
    pub receipt_seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub protocol_version: u32,
    pub results: Vec<OpResult>,
    /// Highest seq of this device the server holds, with no gap below it.
    pub acknowledged_seq: u64,
    /// Set when the batch skipped a seq: send again from this one. Ops after the gap were not
    /// applied.
    pub resend_from: Option<u64>,
    pub server_hlc: Hlc,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error(
        "protocol version {0} is not spoken here (this server speaks {PROTOCOL_VERSION}); update the station"
    )]
    UnsupportedVersion(u32),
    #[error("a push carries at most {MAX_PUSH_OPS} ops; this one has {0}")]
    TooManyOps(usize),
    #[error("op {op_id} names device {found}, not the station that sent it")]
    WrongDevice { op_id: Uuid, found: Uuid },
    #[error("seq must start at 1; op {0} has 0")]
    ZeroSeq(Uuid),
}

/// What the server does with each op of a batch, given the device's acknowledged high-water mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushStep {
    /// seq <= the high-water mark: the server has it (a retry after a lost answer). Answer
    /// `duplicate`.
    AlreadyHave { index: usize },
    /// The next seq: apply it (the caller applies idempotently and may still reject it).
    Apply { index: usize },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushPlan {
    pub steps: Vec<PushStep>,
    pub resend_from: Option<u64>,
}

/// Validates a batch (version, size, device, seq >= 1) and plans it: ops are taken in seq order
/// (the batch may arrive reordered; sort by seq; duplicates of the same seq within a batch count
/// once, the later ones as AlreadyHave); ops at or below `acknowledged` are AlreadyHave; then
/// consecutive seqs acknowledged+1, +2, ... are Apply; at the first missing seq, planning stops and
/// resend_from = that missing seq (ops beyond it are not in `steps` at all). `index` refers to the
/// position in `request.ops`.
pub fn plan_push(
    device: Uuid,
    acknowledged: u64,
    request: &PushRequest,
) -> Result<PushPlan, PushError> {
    if request.protocol_version != PROTOCOL_VERSION {
        return Err(PushError::UnsupportedVersion(request.protocol_version));
    }
    if request.ops.len() > MAX_PUSH_OPS {
        return Err(PushError::TooManyOps(request.ops.len()));
    }
    for op in &request.ops {
        // The device comes from the station's credentials, never from the body: an op naming
        // another device would corrupt that device's high-water mark.
        if op.device_id != device {
            return Err(PushError::WrongDevice {
                op_id: op.op_id,
                found: op.device_id,
            });
        }
        if op.seq == 0 {
            return Err(PushError::ZeroSeq(op.op_id));
        }
    }

    // A stable sort keeps equal seqs in arrival order, so the first copy is the one applied.
    let mut order: Vec<usize> = (0..request.ops.len()).collect();
    order.sort_by_key(|&index| request.ops[index].seq);

    let mut high = acknowledged;
    let mut steps = Vec::with_capacity(order.len());
    let mut resend_from = None;
    for index in order {
        let seq = request.ops[index].seq;
        if seq <= high {
            steps.push(PushStep::AlreadyHave { index });
        } else if high.checked_add(1) == Some(seq) {
            steps.push(PushStep::Apply { index });
            high = seq;
        } else {
            // `seq > high + 1`, so `high + 1` cannot overflow. Applying past a gap would let the
            // high-water mark claim ops the server never saw.
            resend_from = Some(high.saturating_add(1));
            break;
        }
    }
    Ok(PushPlan { steps, resend_from })
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullRequest {
    pub protocol_version: u32,
    pub cursor: u64,
    pub limit: u32,
}

/// One change of a pull; the payload is one of the [`records`] types, by `entity`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub seq: u64,
    pub entity: String,
    pub entity_id: Uuid,
    pub payload: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub protocol_version: u32,
    pub changes: Vec<Change>,
    pub next_cursor: u64,
    pub has_more: bool,
    pub server_hlc: Hlc,
}

/// A field value with the HLC that wrote it (last-writer-wins registers for catalogue fields and
/// settings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versioned<T> {
    pub value: T,
    pub hlc: Hlc,
}

/// The outcome of merging an incoming write into the current value of a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldMerge<T> {
    pub winner: Versioned<T>,
    /// true when both writes differ in value: a concurrent edit to record in the conflict log
    pub conflict: bool,
    pub incoming_won: bool,
}

/// Last writer wins by HLC (ties impossible: node breaks them). Deterministic and commutative:
/// merging a into b or b into a yields the same winner.
///
/// `conflict` is set when the values differ and neither HLC is [`Hlc::ZERO`]: overwriting an
/// initial value that no one wrote is not a concurrent edit.
pub fn merge_field<T: Clone + PartialEq>(
    current: &Versioned<T>,
    incoming: &Versioned<T>,
) -> FieldMerge<T> {
    // On an equal HLC (the same write delivered twice) the current value stays: nothing changes,
    // and a redelivery is not reported as a win.
    let incoming_won = incoming.hlc > current.hlc;
    let winner = if incoming_won { incoming } else { current }.clone();
    let conflict =
        current.value != incoming.value && current.hlc != Hlc::ZERO && incoming.hlc != Hlc::ZERO;
    FieldMerge {
        winner,
        conflict,
        incoming_won,
    }
}

#[cfg(test)]
mod tests;
