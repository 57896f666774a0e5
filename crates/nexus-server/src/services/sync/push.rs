//! A station's push: planning its batch, checking and applying each op (sales in
//! runs, priced together), and answering per op.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use nexus_domain::limits::LimitError;
use nexus_domain::roles::Actor;
use nexus_domain::{Permission, SaleId, UnixMillis, UserId, ValueError};
use nexus_store::{SaleException, SaleKind, StationContact, SyncOpRecord};
use nexus_sync::{
    Action, Entity, MAX_CLOCK_DRIFT_MILLIS, NewSale, Op, OpResult, OpStatus, Payload, PushError,
    PushRequest, PushResponse, PushStep, SaleOp, plan_push,
};

use super::server_hlc;
use crate::auth::{PresentedStation, StationAuthenticated, station_lookup_error};
use crate::error::{ApiError, ApiResult};
use crate::events::Topic;
use crate::services::accounts::check_credit_sale;
use crate::services::sales::{Authority, price_sale};
use crate::state::AppState;

/// What a sale op says about the sale besides the sale itself. Kept on the sale as the till
/// sent them, unchecked: a sale is never refused because its shift or customer op was.
#[derive(Clone, Copy)]
pub(super) struct SaleLinks {
    pub(super) shift_id: Option<uuid::Uuid>,
    pub(super) customer_id: Option<uuid::Uuid>,
}

/// Why an op was refused: a stable code and a message for the station's quarantine screen.
pub(super) struct Refusal {
    pub(super) code: String,
    pub(super) message: String,
    /// Set when the server, not the op, is at fault (the database is down, say): such an op is
    /// not refused but left unacknowledged, and the push answers 5xx so the station retries.
    pub(super) server_fault: Option<Box<ApiError>>,
}

impl Refusal {
    pub(super) fn new(code: &str, message: impl Into<String>) -> Self {
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

pub(super) fn is_sale(op: &Op) -> bool {
    (op.entity, op.action) == (Entity::Sale, Action::Create)
}

/// What every op of one push shares: who sent it, the server's time, and how far the station's
/// clock is out.
pub(super) struct PushContext<'a> {
    pub(super) state: &'a AppState,
    pub(super) station: &'a StationAuthenticated,
    pub(super) now: UnixMillis,
    /// The station's clock minus the server's (ms), taken off every device timestamp.
    pub(super) correction: i64,
    /// Staff named by this push's ops, read once each (`None`: no such user).
    pub(super) staff: std::sync::Mutex<HashMap<UserId, Option<nexus_store::UserRecord>>>,
}

impl PushContext<'_> {
    pub(super) fn corrected(&self, device_millis: i64) -> i64 {
        device_millis.saturating_sub(self.correction)
    }

    pub(super) fn payload<P: Payload>(&self, op: &Op) -> Result<P, Refusal> {
        op.read_payload()
            .map_err(|error| Refusal::new("invalid_payload", error.to_string()))
    }

    /// The staff member named in an op, as they are now: active, allowed `permission`, and
    /// working at the station's branch. The op is judged by who did it, not by the station.
    pub(super) async fn staff_member(
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

    pub(super) fn staff_cache(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<UserId, Option<nexus_store::UserRecord>>> {
        // The map is only a cache: one poisoned by a panic elsewhere is still usable.
        self.staff
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn check_clock(&self, op: &Op) -> Result<(), Refusal> {
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
    pub(super) async fn apply(&self, op: &Op) -> Result<(), Refusal> {
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
            (Entity::OrderReceipt, Action::Create) => self.apply_order_receipt(op).await,
            (Entity::AccountPayment, Action::Create) => self.apply_account_payment(op).await,
            (entity, action) => Err(Refusal::new(
                "unsupported_entity",
                format!(
                    "this server does not accept {action:?} of {entity:?} yet; the station keeps it until it does"
                ),
            )),
        }
    }

    /// What can be checked of a sale op alone: its clock, payload, branch and cashier.
    pub(super) async fn check_sale(
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
    pub(super) async fn apply_sales(&self, ops: &[&Op]) -> Vec<Result<(), Refusal>> {
        let (mut outcomes, batch) = self.price_sales(ops).await;
        let Some(batch) = batch else {
            return outcomes;
        };
        let store = self.state.store.as_ref();
        let written = match store
            .record_sales(self.station.tenant, &batch.sales, &batch.exceptions)
            .await
        {
            Ok(_) => Ok(Vec::new()),
            Err(error) => self.settle_refused(&batch, error).await,
        };
        match written {
            Ok(refused) => {
                for (position, refusal) in refused {
                    outcomes[position] = Err(refusal);
                }
            }
            Err(fault) => leave_unacknowledged(outcomes.iter_mut(), fault),
        }
        outcomes
    }

    /// The first half of `apply_sales`: each op checked and priced, one outcome per op, and the
    /// sales still to be written (none when there are none).
    pub(super) async fn price_sales(
        &self,
        ops: &[&Op],
    ) -> (Vec<Result<(), Refusal>>, Option<PricedSales>) {
        let mut outcomes: Vec<Result<(), Refusal>> = Vec::with_capacity(ops.len());
        let mut checked = Vec::with_capacity(ops.len());
        for (position, op) in ops.iter().enumerate() {
            match self.check_sale(op).await {
                Ok((cashier, request, links)) => {
                    checked.push((position, cashier, request, links, op.op_id));
                    outcomes.push(Ok(()));
                }
                Err(refusal) => outcomes.push(Err(refusal)),
            }
        }
        if checked.is_empty() {
            return (outcomes, None);
        }
        match self.price_and_record(checked, &mut outcomes).await {
            Ok(batch) => (outcomes, batch),
            Err(fault) => {
                leave_unacknowledged(outcomes.iter_mut(), fault);
                (outcomes, None)
            }
        }
    }

    /// After the store refused a batch as a whole: the refusal of its one sale, or each sale
    /// tried alone. The refused sales by their positions; `Err` is a server fault.
    pub(super) async fn settle_refused(
        &self,
        batch: &PricedSales,
        error: nexus_store::StoreError,
    ) -> Result<Vec<(usize, Refusal)>, nexus_store::StoreError> {
        if error.is_service_fault() {
            return Err(error);
        }
        if batch.sales.len() == 1 {
            return Ok(vec![(batch.positions[0], error.into())]);
        }
        let store = self.state.store.as_ref();
        let mut refused = Vec::new();
        for (position, sale) in batch.positions.iter().zip(batch.sales.chunks(1)) {
            match store
                .record_sales(self.station.tenant, sale, &batch.exceptions)
                .await
            {
                Ok(_) => {}
                Err(error) if error.is_service_fault() => return Err(error),
                Err(error) => refused.push((*position, error.into())),
            }
        }
        Ok(refused)
    }

    /// The sales that end a push, written in the transaction that records the push (one commit
    /// fewer for the commonest push): `records` answer them as applied, and commit with them or
    /// not at all. The high-water mark when they were written; otherwise `run` (the run's
    /// outcomes) says which were refused or left unacknowledged, and the push is recorded apart.
    pub(super) async fn write_last_sales(
        &self,
        batch: &PricedSales,
        records: &[SyncOpRecord],
        contact: &StationContact,
        run: &mut [Option<Result<(), Refusal>>],
    ) -> Option<i64> {
        let written = self
            .state
            .store
            .record_sales_and_push(
                self.station.tenant,
                &batch.sales,
                &batch.exceptions,
                self.station.station.id,
                records,
                contact,
            )
            .await;
        let error = match written {
            Ok(high) => return Some(high),
            Err(error) => error,
        };
        match self.settle_refused(batch, error).await {
            Ok(refused) => {
                for (position, refusal) in refused {
                    run[position] = Some(Err(refusal));
                }
            }
            Err(fault) => leave_unacknowledged(run.iter_mut().flatten(), fault),
        }
        None
    }

    /// The middle of `price_sales`: idempotency and pricing, and what is left to write. `Err`
    /// is a server fault.
    pub(super) async fn price_and_record(
        &self,
        checked: Vec<(
            usize,
            nexus_store::UserRecord,
            NewSale,
            SaleLinks,
            uuid::Uuid,
        )>,
        outcomes: &mut [Result<(), Refusal>],
    ) -> Result<Option<PricedSales>, nexus_store::StoreError> {
        let store = self.state.store.as_ref();
        let tenant = self.station.tenant;
        let ids: Vec<SaleId> = checked
            .iter()
            .map(|(_, _, request, _, _)| request.id)
            .collect();
        // The customers the sales name, for their price lists; one the server does not know
        // (its op refused, say) prices as a walk-in, and the sale is kept all the same.
        let mut named: Vec<uuid::Uuid> = checked
            .iter()
            .filter_map(|(_, _, request, links, _)| request.customer_id.or(links.customer_id))
            .collect();
        named.sort();
        named.dedup();
        let mut wanted: Vec<nexus_domain::ProductId> = checked
            .iter()
            .flat_map(|(_, _, request, _, _)| request.lines.iter().map(|line| line.product_id))
            .collect();
        wanted.sort();
        wanted.dedup();
        let inputs = store.batch_inputs(tenant, &ids, &wanted, &named).await?;
        let recorded: HashMap<SaleId, nexus_store::SaleHead> = inputs
            .recorded
            .into_iter()
            .map(|head| (head.id, head))
            .collect();
        let settings = inputs.settings;
        let customers: HashMap<uuid::Uuid, nexus_store::CustomerRecord> = inputs
            .customers
            .into_iter()
            .map(|customer| (customer.id, customer))
            .collect();
        // What each customer owes before this batch, carried through it sale by sale, so that
        // a breach of a credit limit is flagged on the sale that made it.
        let mut owed = inputs.balances;
        let products: HashMap<nexus_domain::ProductId, nexus_store::Product> = inputs
            .products
            .into_iter()
            .map(|product| (product.id, product))
            .collect();
        let mut positions = Vec::with_capacity(checked.len());
        let mut sales = Vec::with_capacity(checked.len());
        let mut exceptions = Vec::new();
        for (position, cashier, request, links, op_id) in checked {
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
            // The sale happened at the till: a price or discount beyond the cashier's rights is
            // recorded with it for the owner, never a reason to drop it.
            let customer = request.customer_id.or(links.customer_id);
            let known = customer.and_then(|customer| customers.get(&customer));
            let customer_list = known.map(|customer| customer.price_list);
            match price_sale(
                &settings,
                &products,
                self.now,
                cashier.id,
                &actor,
                request,
                customer_list,
                Authority::Flag,
            ) {
                Ok(priced) => {
                    let mut sale = priced.sale;
                    sale.shift_id = links.shift_id;
                    sale.customer_id = customer;
                    let mut flagged = priced.exceptions;
                    let credit = nexus_domain::account::credit_of(&sale.tenders);
                    if credit > 0 {
                        let Some(customer) = customer else {
                            outcomes[position] = Err(Refusal::new(
                                "credit_without_customer",
                                nexus_domain::account::CreditError::NoCustomer.to_string(),
                            ));
                            continue;
                        };
                        let before = owed.get(&customer).copied().unwrap_or(0);
                        // Flagging never refuses: a till's sale on credit has happened.
                        if let Ok(Some(breach)) = check_credit_sale(
                            settings.currency,
                            known,
                            before,
                            credit,
                            Authority::Flag,
                        ) {
                            flagged.push(breach);
                        }
                        owed.insert(customer, before + credit);
                    }
                    exceptions.extend(flagged.into_iter().map(|exception| SaleException {
                        id: nexus_domain::ids::new_v7(self.now),
                        sale_id: sale.id,
                        station_id: Some(self.station.station.id),
                        op_id: Some(op_id),
                        staff_id: cashier.id,
                        kind: exception.kind.to_owned(),
                        detail: exception.detail,
                        detected_at: self.now,
                    }));
                    positions.push(position);
                    sales.push((sale, priced.local_day));
                }
                Err(error) => outcomes[position] = Err(error.into()),
            }
        }
        if sales.is_empty() {
            return Ok(None);
        }
        Ok(Some(PricedSales {
            positions,
            sales,
            exceptions,
        }))
    }
}

/// Sales of a push checked and priced, still to be written: `positions` are their ops' places
/// in the run, in the order of `sales`.
pub(super) struct PricedSales {
    positions: Vec<usize>,
    sales: Vec<(nexus_store::Sale, i32)>,
    exceptions: Vec<SaleException>,
}

/// After a server fault nothing of the batch was written: every op still waiting is left
/// unacknowledged. The push stops at the first, which carries the fault to be logged.
fn leave_unacknowledged<'a>(
    outcomes: impl Iterator<Item = &'a mut Result<(), Refusal>>,
    fault: nexus_store::StoreError,
) {
    let mut fault = Some(Box::new(ApiError::from(fault)));
    for outcome in outcomes.filter(|outcome| outcome.is_ok()) {
        let mut refusal = Refusal::new("unavailable", "the server could not record the sale");
        refusal.server_fault = Some(fault.take().unwrap_or_else(|| {
            Box::new(ApiError::internal("an earlier sale of the batch failed"))
        }));
        *outcome = Err(refusal);
    }
}

/// The per-op answers of a push and the records the store keeps of them, for the steps that
/// have an outcome (a duplicate has `None`).
pub(super) fn push_results(
    ops: &[Op],
    steps: &[(usize, bool)],
    outcomes: &[Option<Result<(), Refusal>>],
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
                Some(refusal.code.clone()),
                Some(refusal.message.clone()),
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

/// A server fault among the outcomes from `from` on stops the push: what was applied before it
/// is recorded, the rest is left unacknowledged for the station to send again. The fault, to
/// answer with, if there was one.
async fn stop_at_fault(
    state: &AppState,
    station: &StationAuthenticated,
    ops: &[Op],
    steps: &[(usize, bool)],
    outcomes: &mut Vec<Option<Result<(), Refusal>>>,
    from: usize,
    contact: &StationContact,
) -> Option<ApiError> {
    let fault_at = from
        + outcomes[from..].iter().position(
            |outcome| matches!(outcome, Some(Err(refusal)) if refusal.server_fault.is_some()),
        )?;
    let fault = outcomes
        .swap_remove(fault_at)
        .and_then(|outcome| outcome.err())
        .and_then(|refusal| refusal.server_fault);
    outcomes.truncate(fault_at);
    let (_, records) = push_results(ops, steps, outcomes);
    // Best effort: if the database is down this fails too, and the retry finds the applied ops
    // by their ids instead.
    let _ = state
        .store
        .record_push(station.tenant, station.station.id, &records, contact)
        .await;
    Some(fault.map_or_else(
        || ApiError::internal("an op failed on the server"),
        |fault| *fault,
    ))
}

/// A station's push: its ops, in seq order, applied once each, and the answer per op. The
/// station's credential is looked up in the push's first transaction.
pub(crate) async fn push(
    state: &AppState,
    presented: &PresentedStation,
    request: PushRequest,
) -> ApiResult<PushResponse> {
    // Every op id of the push, those at or below the high-water mark included: an op there
    // whose id the service never saw is not a retry but a new write under a number already
    // used (a station copied back from a backup), and answering it `duplicate` would lose it.
    let op_ids: Vec<uuid::Uuid> = request.ops.iter().map(|op| op.op_id).collect();
    // The cashiers of the sales, read with the op ids in one transaction; a payload that does
    // not parse is refused later, by the op's own check.
    let mut cashiers: Vec<UserId> = request
        .ops
        .iter()
        .filter(|op| is_sale(op))
        .filter_map(|op| op.read_payload::<SaleOp>().ok())
        .map(|payload| payload.cashier_id)
        .collect();
    cashiers.sort();
    cashiers.dedup();
    let reads = state
        .store
        .push_reads(
            presented.tenant,
            &presented.credential_hash,
            &op_ids,
            &cashiers,
        )
        .await
        .map_err(station_lookup_error)?;
    let station = &presented.admit(reads.station)?;
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
    let seen = reads.seen;
    let context = PushContext {
        state,
        station,
        now,
        correction: nexus_sync::clock_correction(request.sent_at, now),
        staff: std::sync::Mutex::new(reads.staff),
    };
    let mut in_this_push = HashSet::new();
    let mut reused = HashSet::new();
    // (index into request.ops, already received?) in the order the ops apply.
    let steps: Vec<(usize, bool)> = plan
        .steps
        .iter()
        .map(|step| {
            let (index, at_or_below_high) = match *step {
                PushStep::AlreadyHave { index } => (index, true),
                PushStep::Apply { index } => (index, false),
            };
            let op_id = request.ops[index].op_id;
            // An op id given twice in one push applies once.
            let repeated = !in_this_push.insert(op_id);
            let already = repeated || seen.contains(&op_id);
            if at_or_below_high && !already {
                reused.insert(index);
            }
            (index, already)
        })
        .collect();
    let contact = StationContact {
        now,
        unsynced_since: request.unsynced_since.map(UnixMillis::from_millis),
        // Only shown on the tills page; anything unprintable is dropped rather than refusing the
        // push (the database cannot store a NUL, and the station would retry for ever).
        app_version: request
            .app_version
            .chars()
            .filter(|character| !character.is_control())
            .take(40)
            .collect(),
    };
    // One outcome per step, `None` for a duplicate. Runs of consecutive sales are applied
    // together; every other op alone, in order, so an edit still lands between the sales
    // around it.
    let mut outcomes: Vec<Option<Result<(), Refusal>>> = Vec::with_capacity(steps.len());
    // Known when the push ended on sales written with its record.
    let mut acknowledged_seq = None;
    while outcomes.len() < steps.len() {
        let start = outcomes.len();
        let (index, duplicate) = steps[start];
        let op = &request.ops[index];
        if duplicate {
            outcomes.push(None);
        } else if reused.contains(&index) {
            outcomes.push(Some(Err(Refusal::new(
                "seq_reused",
                format!(
                    "this till numbered a new write {}, a number the service already holds for \
                     another of its writes: it was put back from a copy of its data without \
                     `nexus pos restore`. The write is kept on the till, not synced",
                    op.seq
                ),
            ))));
        } else if is_sale(op) {
            let run: Vec<&Op> = steps[start..]
                .iter()
                .take_while(|(index, duplicate)| {
                    !duplicate && !reused.contains(index) && is_sale(&request.ops[*index])
                })
                .map(|(index, _)| &request.ops[*index])
                .collect();
            if start + run.len() == steps.len() {
                let (priced, batch) = context.price_sales(&run).await;
                outcomes.extend(priced.into_iter().map(Some));
                if let Some(batch) = batch {
                    let (_, records) = push_results(&request.ops, &steps, &outcomes);
                    acknowledged_seq = context
                        .write_last_sales(&batch, &records, &contact, &mut outcomes[start..])
                        .await;
                }
            } else {
                outcomes.extend(context.apply_sales(&run).await.into_iter().map(Some));
            }
        } else {
            outcomes.push(Some(context.apply(op).await));
        }
        if let Some(fault) = stop_at_fault(
            state,
            station,
            &request.ops,
            &steps,
            &mut outcomes,
            start,
            &contact,
        )
        .await
        {
            return Err(fault);
        }
    }
    let (results, records) = push_results(&request.ops, &steps, &outcomes);
    let acknowledged_seq = match acknowledged_seq {
        Some(high) => high,
        None => {
            state
                .store
                .record_push(station.tenant, station.station.id, &records, &contact)
                .await?
        }
    };
    state.metrics.count_sync_ops(&results);
    state.events.publish(station.tenant, Topic::Tills).await;
    if records.iter().any(|record| record.status == "applied") {
        state.events.publish(station.tenant, Topic::Sales).await;
        state.events.publish(station.tenant, Topic::Stock).await;
    }
    Ok(PushResponse {
        protocol_version: nexus_sync::PROTOCOL_VERSION,
        results,
        acknowledged_seq: u64::try_from(acknowledged_seq).unwrap_or(0),
        resend_from: plan.resend_from,
        server_hlc: server_hlc(now),
    })
}
