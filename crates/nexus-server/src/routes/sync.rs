//! The sync endpoints a shop station talks to. Ops are planned by `nexus_sync` (order, gaps,
//! retries) and applied through the same code paths the API uses, so a sale that arrives by
//! sync is recorded exactly as one posted by the API.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::limits::{LimitError, check_occurred_at, check_price, check_shift_count};
use nexus_domain::roles::{Actor, may_close_shift};
use nexus_domain::values::optional_printable;
use std::collections::{HashMap, HashSet};

use nexus_domain::{
    MovementId, Permission, ProductId, Quantity, SaleId, TransferId, UnixMillis, UserId, ValueError,
};
use nexus_store::{
    CatalogueEdit, CloseOutcome, NewCustomer, NewMovement, NewShift, NewTransfer, ProductChange,
    SaleKind, SeenFields, ShiftClose, ShiftTender, StationContact, SyncOpRecord, TenderKind,
};
use nexus_sync::{
    Action, CustomerOp, Entity, Hlc, MAX_CLOCK_DRIFT_MILLIS, MovementOp, NewSale, Op, OpResult,
    OpStatus, Payload, ProductEditOp, PushError, PushRequest, PushResponse, PushStep, ReturnKind,
    ReturnOp, SaleOp, ShiftCloseOp, ShiftOpenOp, TransferOp, plan_push,
};
use serde::Deserialize;

use crate::auth::{Authorized, StationAuthenticated, permits};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::sales::{price_sale, products_named};
use crate::state::AppState;

/// What a sale op says about the sale besides the sale itself. Kept on the sale as the till
/// sent them, unchecked: a sale is never refused because its shift or customer op was.
#[derive(Clone, Copy)]
struct SaleLinks {
    shift_id: Option<uuid::Uuid>,
    customer_id: Option<uuid::Uuid>,
}

/// Why an op was refused: a stable code and a message for the station's quarantine screen.
struct Refusal {
    code: String,
    message: String,
    /// Set when the server, not the op, is at fault (the database is down, say): such an op is
    /// not refused but left unacknowledged, and the push answers 5xx so the station retries.
    server_fault: Option<Box<ApiError>>,
}

impl Refusal {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            server_fault: None,
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        let mut refusal = Self::new(error.code(), error.message());
        if error.status().is_server_error() {
            refusal.server_fault = Some(Box::new(error));
        }
        refusal
    }
}

impl From<LimitError> for Refusal {
    fn from(error: LimitError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<ValueError> for Refusal {
    fn from(error: ValueError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<nexus_store::StoreError> for Refusal {
    fn from(error: nexus_store::StoreError) -> Self {
        ApiError::from(error).into()
    }
}

fn is_sale(op: &Op) -> bool {
    (op.entity, op.action) == (Entity::Sale, Action::Create)
}

fn server_hlc(now: UnixMillis) -> Hlc {
    Hlc {
        wall_millis: now.as_millis(),
        counter: 0,
        node: 0,
    }
}

/// What every op of one push shares: who sent it, the server's time, and how far the station's
/// clock is out.
struct PushContext<'a> {
    state: &'a AppState,
    station: &'a StationAuthenticated,
    now: UnixMillis,
    /// The station's clock minus the server's (ms), taken off every device timestamp.
    correction: i64,
    /// Staff named by this push's ops, read once each (`None`: no such user).
    staff: std::sync::Mutex<HashMap<UserId, Option<nexus_store::UserRecord>>>,
}

impl PushContext<'_> {
    fn corrected(&self, device_millis: i64) -> i64 {
        device_millis.saturating_sub(self.correction)
    }

    fn payload<P: Payload>(&self, op: &Op) -> Result<P, Refusal> {
        op.read_payload()
            .map_err(|error| Refusal::new("invalid_payload", error.to_string()))
    }

    /// The staff member named in an op, as they are now: active, allowed `permission`, and
    /// working at the station's branch. The op is judged by who did it, not by the station.
    async fn staff_member(
        &self,
        user: UserId,
        permission: Permission,
    ) -> Result<nexus_store::UserRecord, Refusal> {
        let cached = self.staff_cache().get(&user).cloned();
        let member = match cached {
            Some(member) => member,
            None => {
                let member = self.state.store.get_user(self.station.tenant, user).await?;
                self.staff_cache().insert(user, member.clone());
                member
            }
        };
        let member = member.filter(|user| user.active).ok_or_else(|| {
            Refusal::new(
                "unknown_staff",
                "the staff member named in the op is not active staff",
            )
        })?;
        let actor = Actor {
            role: member.role,
            branches: &member.branch_ids,
        };
        if !member.role.allows(permission) || !actor.can_see_branch(self.station.station.branch_id)
        {
            return Err(Refusal::new(
                "not_allowed",
                format!(
                    "{} may not {} at this branch",
                    member.name,
                    permission.scope_name().replace('_', " ")
                ),
            ));
        }
        Ok(member)
    }

    fn staff_cache(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<UserId, Option<nexus_store::UserRecord>>> {
        // The map is only a cache: one poisoned by a panic elsewhere is still usable.
        self.staff
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn check_clock(&self, op: &Op) -> Result<(), Refusal> {
        if self.corrected(op.hlc.wall_millis) > self.now.as_millis() + MAX_CLOCK_DRIFT_MILLIS {
            return Err(Refusal::new(
                "clock_ahead",
                "the station's clock is ahead of the server's; check its date and time",
            ));
        }
        Ok(())
    }

    /// Applies one op; `Err` is a refusal that quarantines the op at the station without
    /// blocking the ops behind it. Sales go through `apply_sales`.
    async fn apply(&self, op: &Op) -> Result<(), Refusal> {
        self.check_clock(op)?;
        match (op.entity, op.action) {
            (Entity::Sale, Action::Create) => self.apply_sales(&[op]).await.pop().unwrap_or(Ok(())),
            (Entity::Product, Action::Update) => self.apply_product_edit(op).await,
            (Entity::StockMovement, Action::Create) => self.apply_movement(op).await,
            (Entity::Transfer, Action::Create) => self.apply_transfer(op).await,
            (Entity::Refund, Action::Create) => self.apply_return(op).await,
            (Entity::Shift, Action::Create) => self.apply_shift_open(op).await,
            (Entity::Shift, Action::Update) => self.apply_shift_close(op).await,
            (Entity::Customer, Action::Create) => self.apply_customer(op).await,
            (entity, action) => Err(Refusal::new(
                "unsupported_entity",
                format!(
                    "this server does not accept {action:?} of {entity:?} yet; the station keeps it until it does"
                ),
            )),
        }
    }

    /// What can be checked of a sale op alone: its clock, payload, branch and cashier.
    async fn check_sale(
        &self,
        op: &Op,
    ) -> Result<(nexus_store::UserRecord, NewSale, SaleLinks), Refusal> {
        self.check_clock(op)?;
        let mut payload: SaleOp = self.payload(op)?;
        if payload.sale.branch_id != self.station.station.branch_id {
            return Err(Refusal::new(
                "wrong_branch",
                "a station records sales of its own branch only",
            ));
        }
        payload.sale.occurred_at = payload.sale.occurred_at.map(|at| self.corrected(at));
        let cashier = self
            .staff_member(payload.cashier_id, Permission::Sell)
            .await?;
        let links = SaleLinks {
            shift_id: payload.shift_id,
            customer_id: payload.customer_id,
        };
        Ok((cashier, payload.sale, links))
    }

    /// Applies consecutive sale ops together, one outcome per op, in order. Each sale is checked
    /// and priced in memory by the rules the API uses (`price_sale`), and the new ones are
    /// written in one transaction of multi-row statements: a push of 500 sales costs a few
    /// dozen statements, not tens of thousands. When the store refuses the batch as a whole
    /// (a product archived away meanwhile, say), each sale is tried alone so that one bad op
    /// never refuses its neighbours.
    async fn apply_sales(&self, ops: &[&Op]) -> Vec<Result<(), Refusal>> {
        let mut outcomes: Vec<Result<(), Refusal>> = Vec::with_capacity(ops.len());
        let mut checked = Vec::with_capacity(ops.len());
        for (position, op) in ops.iter().enumerate() {
            match self.check_sale(op).await {
                Ok((cashier, request, links)) => {
                    checked.push((position, cashier, request, links));
                    outcomes.push(Ok(()));
                }
                Err(refusal) => outcomes.push(Err(refusal)),
            }
        }
        if checked.is_empty() {
            return outcomes;
        }
        if let Err(fault) = self.price_and_record(checked, &mut outcomes).await {
            // Nothing of the batch was written: every op still waiting is left unacknowledged.
            // The push stops at the first, which carries the fault to be logged.
            let mut fault = Some(Box::new(ApiError::from(fault)));
            for outcome in outcomes.iter_mut().filter(|outcome| outcome.is_ok()) {
                let mut refusal =
                    Refusal::new("unavailable", "the server could not record the sale");
                refusal.server_fault = Some(fault.take().unwrap_or_else(|| {
                    Box::new(ApiError::internal("an earlier sale of the batch failed"))
                }));
                *outcome = Err(refusal);
            }
        }
        outcomes
    }

    /// The second half of `apply_sales`: idempotency, pricing and the batch write. `Err` is a
    /// server fault.
    async fn price_and_record(
        &self,
        checked: Vec<(usize, nexus_store::UserRecord, NewSale, SaleLinks)>,
        outcomes: &mut [Result<(), Refusal>],
    ) -> Result<(), nexus_store::StoreError> {
        let store = self.state.store.as_ref();
        let tenant = self.station.tenant;
        let ids: Vec<SaleId> = checked
            .iter()
            .map(|(_, _, request, _)| request.id)
            .collect();
        let recorded: HashMap<SaleId, nexus_store::SaleHead> = store
            .sale_heads(tenant, &ids)
            .await?
            .into_iter()
            .map(|head| (head.id, head))
            .collect();
        let settings = store.settings(tenant).await?;
        let products = products_named(
            store,
            tenant,
            checked
                .iter()
                .flat_map(|(_, _, request, _)| request.lines.iter().map(|line| line.product_id))
                .collect(),
        )
        .await?;
        let mut positions = Vec::with_capacity(checked.len());
        let mut sales = Vec::with_capacity(checked.len());
        for (position, cashier, request, links) in checked {
            let actor = Actor {
                role: cashier.role,
                branches: &cashier.branch_ids,
            };
            // A sale already recorded is applied, not written again, as the API answers a
            // repeated id; an id that names a refund or void is refused.
            if let Some(head) = recorded.get(&request.id) {
                if head.kind != SaleKind::Sale || !actor.can_see_branch(head.branch_id) {
                    outcomes[position] = Err(Refusal::new(
                        "conflict",
                        "that sale id belongs to a refund or void",
                    ));
                }
                continue;
            }
            match price_sale(&settings, &products, self.now, cashier.id, &actor, request) {
                Ok((mut sale, local_day)) => {
                    sale.shift_id = links.shift_id;
                    sale.customer_id = links.customer_id;
                    positions.push(position);
                    sales.push((sale, local_day));
                }
                Err(error) => outcomes[position] = Err(error.into()),
            }
        }
        if sales.is_empty() {
            return Ok(());
        }
        match store.record_sales(tenant, &sales).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_service_fault() => Err(error),
            Err(error) if sales.len() == 1 => {
                outcomes[positions[0]] = Err(error.into());
                Ok(())
            }
            Err(_) => {
                for (position, sale) in positions.into_iter().zip(sales.chunks(1)) {
                    match store.record_sales(tenant, sale).await {
                        Ok(_) => {}
                        Err(error) if error.is_service_fault() => {
                            return Err(error);
                        }
                        Err(error) => outcomes[position] = Err(error.into()),
                    }
                }
                Ok(())
            }
        }
    }

    async fn apply_product_edit(&self, op: &Op) -> Result<(), Refusal> {
        use crate::routes::products::{check_price, check_reorder_level, parse_name};
        let payload: ProductEditOp = self.payload(op)?;
        self.staff_member(payload.actor_id, Permission::ManageProducts)
            .await?;
        let invalid = |message: String| Refusal::new("validation", message);
        let change = ProductChange {
            name: payload
                .fields
                .name
                .as_deref()
                .map(parse_name)
                .transpose()
                .map_err(invalid)?,
            price_minor: payload
                .fields
                .price_minor
                .map(check_price)
                .transpose()
                .map_err(invalid)?,
            reorder_level: payload
                .fields
                .reorder_level
                .map(|level| level.map(check_reorder_level).transpose())
                .transpose()
                .map_err(invalid)?,
            ..ProductChange::default()
        };
        if change.name.is_none() && change.price_minor.is_none() && change.reorder_level.is_none() {
            return Err(invalid("the edit changes nothing".to_owned()));
        }
        let edit = CatalogueEdit {
            product: ProductId::from_uuid(op.entity_id),
            change,
            seen: SeenFields {
                name: payload.seen.name,
                price_minor: payload.seen.price_minor,
                reorder_level: payload.seen.reorder_level,
            },
            station: self.station.station.id,
            op_id: op.op_id,
            actor: payload.actor_id,
            now: self.now,
        };
        match self
            .state
            .store
            .record_catalogue_edit(self.station.tenant, &edit)
            .await
        {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Refusal::new("not_found", "the product does not exist")),
            Err(error) => Err(ApiError::from(error).into()),
        }
    }

    async fn apply_movement(&self, op: &Op) -> Result<(), Refusal> {
        let payload: MovementOp = self.payload(op)?;
        let actor = self
            .staff_member(payload.actor_id, Permission::ManageStock)
            .await?;
        let (kind, reason) =
            crate::routes::stock::movement_kind(&payload.kind, payload.quantity, payload.reason)?;
        let occurred_at = check_occurred_at(Some(self.corrected(payload.occurred_at)), self.now)?;
        let movement = NewMovement {
            id: MovementId::from_uuid(op.entity_id),
            branch: self.station.station.branch_id,
            product: payload.product_id,
            kind,
            quantity: payload.quantity,
            reason,
            source: None,
            actor: Some(actor.id),
            occurred_at,
            recorded_at: self.now,
        };
        self.state
            .store
            .record_movement(self.station.tenant, movement)
            .await
            .map(|_| ())
            .map_err(|error| ApiError::from(error).into())
    }

    async fn apply_transfer(&self, op: &Op) -> Result<(), Refusal> {
        let payload: TransferOp = self.payload(op)?;
        let actor = self
            .staff_member(payload.actor_id, Permission::ManageStock)
            .await?;
        let from = self.station.station.branch_id;
        if payload.to_branch_id == from {
            return Err(Refusal::new(
                "validation",
                "a transfer goes between two different branches",
            ));
        }
        crate::routes::stock::check_transfer_lines(&payload.lines)?;
        let occurred_at = check_occurred_at(Some(self.corrected(payload.occurred_at)), self.now)?;
        let transfer = NewTransfer {
            id: TransferId::from_uuid(op.entity_id),
            from,
            to: payload.to_branch_id,
            lines: payload
                .lines
                .iter()
                .map(|line| (line.product_id, line.quantity))
                .collect(),
            actor: actor.id,
            occurred_at,
            recorded_at: self.now,
        };
        self.state
            .store
            .record_transfer(self.station.tenant, transfer)
            .await
            .map_err(|error| ApiError::from(error).into())
    }

    /// A refund or void, through the same path as the API's (`record_return`), judged by the
    /// cashier named in the op. Idempotent on the return's id, as the API is.
    async fn apply_return(&self, op: &Op) -> Result<(), Refusal> {
        use crate::routes::sales::{NewReturnParts, reason_text, record_return};
        let payload: ReturnOp = self.payload(op)?;
        let cashier = self
            .staff_member(payload.cashier_id, Permission::Refund)
            .await?;
        let reason = reason_text(payload.reason.as_deref())?;
        let invalid = |message: &str| Refusal::new("validation", message);
        let lines: Vec<(i32, Quantity)> = payload
            .lines
            .iter()
            .map(|line| (line.line_no, line.quantity))
            .collect();
        let (kind, tender) = match payload.kind {
            ReturnKind::Refund if lines.is_empty() => {
                return Err(invalid("a refund names at least one line"));
            }
            ReturnKind::Refund => (
                SaleKind::Refund,
                Some(payload.tender.unwrap_or(TenderKind::Cash)),
            ),
            ReturnKind::Void if !lines.is_empty() => {
                return Err(invalid(
                    "a void returns everything not yet returned and names no lines",
                ));
            }
            ReturnKind::Void if reason.is_none() => return Err(invalid("a void needs a reason")),
            ReturnKind::Void => (SaleKind::Void, payload.tender),
        };
        let receipt_number =
            optional_printable(payload.receipt_number.as_deref(), "receipt_number", 64)?;
        let tenant = self.station.tenant;
        // The sale's own op precedes this one from the same station; if the sale is missing it
        // was refused (or never sent), and this return waits in quarantine with it.
        let original = self
            .state
            .store
            .get_sale(tenant, payload.sale_id)
            .await?
            .ok_or_else(|| {
                Refusal::new(
                    "unknown_sale",
                    format!(
                        "sale {} is not on the server (was it refused?); it cannot be refunded or voided",
                        payload.sale_id
                    ),
                )
            })?;
        if original.branch_id != self.station.station.branch_id {
            return Err(Refusal::new(
                "wrong_branch",
                "a station refunds and voids sales of its own branch only",
            ));
        }
        let parts = NewReturnParts {
            id: SaleId::from_uuid(op.entity_id),
            kind,
            lines,
            reason,
            tender,
            occurred_at: Some(self.corrected(payload.occurred_at)),
            device_id: Some(self.station.station.id),
            receipt_number,
        };
        match record_return(self.state, tenant, &cashier, &original, parts).await {
            Ok(_) => Ok(()),
            // The API's 403 (a cashier returning someone else's sale) is, for an op, the same
            // refusal as any other permission the staff member lacks.
            Err(error) if error.status() == StatusCode::FORBIDDEN => {
                Err(Refusal::new("not_allowed", error.message()))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// A cashier opens a shift at the station's branch with a float. Idempotent on the shift's
    /// id; the same id naming another cashier's or branch's shift is refused.
    async fn apply_shift_open(&self, op: &Op) -> Result<(), Refusal> {
        let payload: ShiftOpenOp = self.payload(op)?;
        let cashier = self
            .staff_member(payload.cashier_id, Permission::RunOwnShift)
            .await?;
        let float_minor = check_price(payload.float_minor, "float_minor")?;
        let opened_at = check_occurred_at(Some(self.corrected(payload.opened_at)), self.now)?;
        let branch = self.station.station.branch_id;
        let (shift, created) = self
            .state
            .store
            .open_shift(
                self.station.tenant,
                NewShift {
                    id: op.entity_id,
                    branch,
                    station: self.station.station.id,
                    cashier: cashier.id,
                    opened_at,
                    float_minor,
                    recorded_at: self.now,
                },
            )
            .await?;
        if !created && (shift.cashier_id != cashier.id || shift.branch_id != branch) {
            return Err(Refusal::new(
                "conflict",
                "that shift id belongs to another cashier's or branch's shift",
            ));
        }
        Ok(())
    }

    /// The close of a shift: expected and counted per tender. A cashier closes only their own
    /// shift (a manager or owner may close anyone's at their branch). A closed shift never
    /// changes: the same close again is applied, other figures are refused.
    async fn apply_shift_close(&self, op: &Op) -> Result<(), Refusal> {
        let payload: ShiftCloseOp = self.payload(op)?;
        let closer = self
            .staff_member(payload.cashier_id, Permission::RunOwnShift)
            .await?;
        let tenant = self.station.tenant;
        let unknown = || {
            Refusal::new(
                "unknown_shift",
                "the shift to close is not on the server (was its open refused?)",
            )
        };
        let shift = self
            .state
            .store
            .get_shift(tenant, op.entity_id)
            .await?
            .ok_or_else(unknown)?;
        if shift.branch_id != self.station.station.branch_id {
            return Err(Refusal::new(
                "wrong_branch",
                "a station closes shifts of its own branch only",
            ));
        }
        if !may_close_shift(closer.role, closer.id, shift.cashier_id) {
            return Err(Refusal::new(
                "not_allowed",
                format!(
                    "{} may only close their own shift; ask a manager",
                    closer.name
                ),
            ));
        }
        let mut tenders: Vec<ShiftTender> = Vec::with_capacity(payload.tenders.len());
        for tender in &payload.tenders {
            if tenders.iter().any(|seen| seen.tender == tender.tender) {
                return Err(Refusal::new(
                    "validation",
                    format!("{} is counted twice", tender.tender.as_str()),
                ));
            }
            check_shift_count(tender.expected_minor, tender.counted_minor)
                .map_err(|refused| Refusal::new("validation", refused.to_string()))?;
            tenders.push(ShiftTender {
                tender: tender.tender,
                expected_minor: tender.expected_minor,
                counted_minor: tender.counted_minor,
            });
        }
        // A close comes after its open, whatever the till's clock says.
        let closed_at = check_occurred_at(Some(self.corrected(payload.closed_at)), self.now)?;
        let closed_at =
            UnixMillis::from_millis(closed_at.as_millis().max(shift.opened_at.as_millis()));
        let close = ShiftClose {
            id: shift.id,
            closed_by: closer.id,
            closed_at,
            tenders,
        };
        match self.state.store.close_shift(tenant, close).await? {
            CloseOutcome::Closed(_) | CloseOutcome::AlreadyClosed(_) => Ok(()),
            CloseOutcome::ClosedDifferently(_) => Err(Refusal::new(
                "shift_closed",
                "the shift was already closed with other figures; a closed shift does not change",
            )),
            CloseOutcome::UnknownShift => Err(unknown()),
        }
    }

    /// A customer recorded at the till. Idempotent on the customer's id: the first record of
    /// an id is kept.
    async fn apply_customer(&self, op: &Op) -> Result<(), Refusal> {
        let payload: CustomerOp = self.payload(op)?;
        let actor = self
            .staff_member(payload.actor_id, Permission::Sell)
            .await?;
        let invalid = |message: String| Refusal::new("validation", message);
        let name = crate::routes::products::parse_name(&payload.name).map_err(invalid)?;
        let phone = optional_printable(payload.phone.as_deref(), "phone", 32)?;
        // Dated by the op's clock, corrected; never later than the server's now.
        let created_at =
            UnixMillis::from_millis(self.corrected(op.hlc.wall_millis).min(self.now.as_millis()));
        self.state
            .store
            .create_customer(
                self.station.tenant,
                NewCustomer {
                    id: op.entity_id,
                    name: name.as_str().to_owned(),
                    phone,
                    created_by: actor.id,
                    created_at,
                },
            )
            .await?;
        Ok(())
    }
}

/// The per-op answers of a push and the records the store keeps of them, for the steps that
/// have an outcome (a duplicate has `None`).
fn push_results(
    ops: &[Op],
    steps: &[(usize, bool)],
    outcomes: Vec<Option<Result<(), Refusal>>>,
) -> (Vec<OpResult>, Vec<SyncOpRecord>) {
    let mut results = Vec::with_capacity(outcomes.len());
    let mut records = Vec::with_capacity(outcomes.len());
    for ((index, _), outcome) in steps.iter().zip(outcomes) {
        let op = &ops[*index];
        // Seqs were checked by `plan_push`.
        let seq = i64::try_from(op.seq).unwrap_or(i64::MAX);
        let (status, code, message) = match outcome {
            None => (OpStatus::Duplicate, None, None),
            Some(Ok(())) => (OpStatus::Applied, None, None),
            Some(Err(refusal)) => (
                OpStatus::Rejected,
                Some(refusal.code),
                Some(refusal.message),
            ),
        };
        records.push(SyncOpRecord {
            seq,
            op_id: op.op_id,
            entity: op.entity.as_str().to_owned(),
            entity_id: op.entity_id,
            status: match status {
                OpStatus::Applied => "applied",
                OpStatus::Rejected => "rejected",
                OpStatus::Duplicate => "duplicate",
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
    (results, records)
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
    let context = PushContext {
        state: &state,
        station: &station,
        now,
        correction: nexus_sync::clock_correction(request.sent_at, now),
        staff: std::sync::Mutex::new(HashMap::new()),
    };
    // (index into request.ops, already received?) in the order the ops apply.
    let to_apply: Vec<uuid::Uuid> = plan
        .steps
        .iter()
        .filter_map(|step| match step {
            PushStep::Apply { index } => Some(request.ops[*index].op_id),
            PushStep::AlreadyHave { .. } => None,
        })
        .collect();
    let seen = state.store.ops_seen(station.tenant, &to_apply).await?;
    let mut in_this_push = HashSet::new();
    let steps: Vec<(usize, bool)> = plan
        .steps
        .iter()
        .map(|step| {
            let (index, already) = match *step {
                PushStep::AlreadyHave { index } => (index, true),
                PushStep::Apply { index } => (index, false),
            };
            let op_id = request.ops[index].op_id;
            // An op id given twice in one push applies once.
            let repeated = !in_this_push.insert(op_id);
            (index, already || repeated || seen.contains(&op_id))
        })
        .collect();
    let contact = StationContact {
        now,
        unsynced_since: request.unsynced_since.map(UnixMillis::from_millis),
        app_version: request.app_version.chars().take(40).collect(),
    };
    // One outcome per step, `None` for a duplicate. Runs of consecutive sales are applied
    // together; every other op alone, in order, so an edit still lands between the sales
    // around it.
    let mut outcomes: Vec<Option<Result<(), Refusal>>> = Vec::with_capacity(steps.len());
    while outcomes.len() < steps.len() {
        let start = outcomes.len();
        let (index, duplicate) = steps[start];
        let op = &request.ops[index];
        if duplicate {
            outcomes.push(None);
        } else if is_sale(op) {
            let run: Vec<&Op> = steps[start..]
                .iter()
                .take_while(|(index, duplicate)| !duplicate && is_sale(&request.ops[*index]))
                .map(|(index, _)| &request.ops[*index])
                .collect();
            outcomes.extend(context.apply_sales(&run).await.into_iter().map(Some));
        } else {
            outcomes.push(Some(context.apply(op).await));
        }
        // A server fault stops the push: what was applied before it is recorded, the rest is
        // left unacknowledged for the station to send again.
        if let Some(fault_at) = outcomes[start..].iter().position(
            |outcome| matches!(outcome, Some(Err(refusal)) if refusal.server_fault.is_some()),
        ) {
            let fault_at = start + fault_at;
            let fault = outcomes
                .swap_remove(fault_at)
                .and_then(|outcome| outcome.err())
                .and_then(|refusal| refusal.server_fault);
            outcomes.truncate(fault_at);
            let (_, records) = push_results(&request.ops, &steps, outcomes);
            // Best effort: if the database is down this fails too, and the retry finds the
            // applied ops by their ids instead.
            let _ = state
                .store
                .record_push(station.tenant, station.station.id, &records, &contact)
                .await;
            return Err(fault.map_or_else(
                || ApiError::internal("an op failed on the server"),
                |fault| *fault,
            ));
        }
    }
    let (results, records) = push_results(&request.ops, &steps, outcomes);
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
        // Sent through the protocol's record types: a change a station could not read is the
        // server's fault, answered as such, never passed on.
        let payload =
            nexus_sync::change_payload(&record.entity, &record.payload).map_err(|error| {
                ApiError::internal(format!(
                    "change {} does not fit the protocol: {error}",
                    record.seq
                ))
            })?;
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConflictQuery {
    /// The `next_before` of the previous page.
    before: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<u32>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ConflictPage {
    items: Vec<nexus_store::Conflict>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    next_before: Option<String>,
}

/// `GET /api/v1/sync/conflicts`: concurrent edits of the same catalogue field, newest first,
/// each with the value the station saw, the value it replaced and the value that won.
#[utoipa::path(get, path = "/api/v1/sync/conflicts", tag = "sync", params(ConflictQuery), security(("bearer" = ["manage_products"])),
    responses((status = 200, body = ConflictPage), crate::error::CommonErrors))]
pub(crate) async fn conflicts(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<ConflictQuery>,
) -> ApiResult<Json<ConflictPage>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 200").with_field("limit"));
    }
    // The cursor is "<detected_at>.<id>" of the last conflict of the previous page.
    let before = query
        .before
        .as_deref()
        .map(|text| {
            text.split_once('.')
                .and_then(|(at, id)| {
                    Some((UnixMillis::from_millis(at.parse().ok()?), id.parse().ok()?))
                })
                .ok_or_else(|| {
                    ApiError::validation("before is not a cursor this server gave")
                        .with_field("before")
                })
        })
        .transpose()?;
    let items = state
        .store
        .list_conflicts(auth.tenant, before, limit)
        .await?;
    let next_before = (items.len() == limit as usize)
        .then(|| items.last())
        .flatten()
        .map(|last| format!("{}.{}", last.detected_at.as_millis(), last.id));
    Ok(Json(ConflictPage { items, next_before }))
}
