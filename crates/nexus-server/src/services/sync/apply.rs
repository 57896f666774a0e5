//! Applying one op of a push that is not a sale: catalogue edits, stock movements and transfers,
//! refunds and voids, shifts and customers, each through the code path the API uses, judged by
//! the staff member the op names.

use axum::http::StatusCode;
use nexus_domain::limits::{check_occurred_at, check_price, check_shift_count};
use nexus_domain::roles::may_close_shift;
use nexus_domain::values::optional_printable;
use nexus_domain::{MovementId, Permission, ProductId, Quantity, SaleId, TransferId, UnixMillis};
use nexus_store::{
    CatalogueEdit, CloseOutcome, NewCustomer, NewMovement, NewShift, NewTransfer, ProductChange,
    SaleKind, SeenFields, ShiftClose, ShiftTender, TenderKind,
};
use nexus_sync::{
    CustomerOp, MovementOp, Op, ProductEditOp, ReturnKind, ReturnOp, ShiftCloseOp, ShiftOpenOp,
    TransferOp,
};

use super::push::{PushContext, Refusal};
use crate::error::ApiError;

impl PushContext<'_> {
    pub(super) async fn apply_product_edit(&self, op: &Op) -> Result<(), Refusal> {
        use crate::services::catalogue::{check_price, check_reorder_level, parse_name};
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

    pub(super) async fn apply_movement(&self, op: &Op) -> Result<(), Refusal> {
        let payload: MovementOp = self.payload(op)?;
        let actor = self
            .staff_member(payload.actor_id, Permission::ManageStock)
            .await?;
        let (kind, reason) =
            crate::services::stock::movement_kind(&payload.kind, payload.quantity, payload.reason)?;
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

    pub(super) async fn apply_transfer(&self, op: &Op) -> Result<(), Refusal> {
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
        crate::services::stock::check_transfer_lines(&payload.lines)?;
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

    /// Goods a manager received against a purchase order at the till, through the same checks
    /// as the API's; the op's entity id is the receipt's, so a repeated push counts it once.
    pub(super) async fn apply_order_receipt(&self, op: &Op) -> Result<(), Refusal> {
        let payload: nexus_sync::OrderReceiptOp = self.payload(op)?;
        let actor = self
            .staff_member(payload.actor_id, Permission::ManageStock)
            .await?;
        let tenant = self.station.tenant;
        let order = self
            .state
            .store
            .get_purchase_order(tenant, payload.order_id)
            .await
            .map_err(ApiError::from)?;
        let unknown = || {
            Refusal::new(
                "unknown_order",
                "no purchase order of this branch has that id",
            )
        };
        match order {
            Some(order) if order.branch_id == self.station.station.branch_id => {}
            _ => return Err(unknown()),
        }
        // Dated by the till's clock, corrected; never later than the server's now.
        let received_at = UnixMillis::from_millis(
            self.corrected(payload.received_at)
                .min(self.now.as_millis()),
        );
        crate::services::purchasing::record_receipt(
            self.state,
            tenant,
            nexus_store::NewOrderReceipt {
                id: op.entity_id,
                order: payload.order_id,
                lines: payload
                    .lines
                    .iter()
                    .map(|line| (line.product_id, line.quantity))
                    .collect(),
                actor: actor.id,
                now: received_at,
            },
        )
        .await?
        .ok_or_else(unknown)?;
        Ok(())
    }

    /// Money a customer paid on account at the till, checked as the API checks a payment; the
    /// op's entity id is the payment's, so a repeated push counts it once. The customer need
    /// not be known yet: the entry is kept for them, as a sale on credit is.
    pub(super) async fn apply_account_payment(&self, op: &Op) -> Result<(), Refusal> {
        let payload: nexus_sync::AccountPaymentOp = self.payload(op)?;
        let actor = self
            .staff_member(payload.actor_id, Permission::Sell)
            .await?;
        let tender = nexus_domain::account::parse_payment(
            &payload.tender.kind,
            payload.tender.amount_minor,
            payload.tender.network.as_deref(),
            payload.tender.phone.as_deref(),
            payload.tender.reference.as_deref(),
        )
        .map_err(|refused| Refusal::new("validation", refused.to_string()))?;
        let receipt_number = nexus_domain::values::optional_printable(
            payload.receipt_number.as_deref(),
            "receipt_number",
            64,
        )?;
        let occurred_at = UnixMillis::from_millis(
            self.corrected(payload.occurred_at)
                .min(self.now.as_millis()),
        );
        self.state
            .store
            .record_account_payment(
                self.station.tenant,
                nexus_store::NewAccountPayment {
                    id: op.entity_id,
                    customer_id: payload.customer_id,
                    tender,
                    occurred_at,
                    recorded_at: self.now,
                    recorded_by: actor.id,
                    branch_id: Some(self.station.station.branch_id),
                    station_id: Some(self.station.station.id),
                    shift_id: payload.shift_id,
                    receipt_number,
                },
            )
            .await?;
        Ok(())
    }

    /// A refund or void, through the same path as the API's (`record_return`), judged by the
    /// cashier named in the op. Idempotent on the return's id, as the API is.
    pub(super) async fn apply_return(&self, op: &Op) -> Result<(), Refusal> {
        use crate::services::sales::{NewReturnParts, reason_text, record_return};
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
            approved_by: payload.approved_by,
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
    pub(super) async fn apply_shift_open(&self, op: &Op) -> Result<(), Refusal> {
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
    pub(super) async fn apply_shift_close(&self, op: &Op) -> Result<(), Refusal> {
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
    pub(super) async fn apply_customer(&self, op: &Op) -> Result<(), Refusal> {
        let payload: CustomerOp = self.payload(op)?;
        let actor = self
            .staff_member(payload.actor_id, Permission::Sell)
            .await?;
        let invalid = |message: String| Refusal::new("validation", message);
        let name = crate::services::catalogue::parse_name(&payload.name).map_err(invalid)?;
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
                    // A till records walk-in customers; the owner puts traders on the
                    // wholesale list and gives credit in the dashboard.
                    price_list: nexus_domain::PriceList::Retail,
                    credit_limit_minor: None,
                    created_by: actor.id,
                    created_at,
                },
            )
            .await?;
        Ok(())
    }
}
