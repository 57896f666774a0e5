//! Stock at the station's branch: receipts, adjustments, counts and transfers recorded here, and
//! on-hand by the ledger rule from the pulled ledger plus this station's own unsettled ops.

use nexus_domain::{BranchId, Clock, ProductId, UserId};
use nexus_sync::{
    Entity, LedgerEntry, MovementOp, Op, PayloadError, SaleOp, TransferLine, TransferOp,
};
use sqlx::Row as _;

use crate::till::parse_uuid;
use crate::{Station, StationError, StationResult};

impl Station {
    /// Records a receipt, adjustment or count at this station's branch. `kind` is `receipt`,
    /// `adjustment` (with a reason) or `count`; a count says "there were `quantity` now".
    pub async fn record_movement(
        &self,
        clock: &dyn Clock,
        actor_id: uuid::Uuid,
        product_id: uuid::Uuid,
        kind: &str,
        quantity: nexus_domain::Quantity,
        reason: Option<&str>,
    ) -> StationResult<uuid::Uuid> {
        let now = clock.now();
        let id = nexus_domain::ids::new_v7(now);
        let payload = MovementOp {
            actor_id: UserId::from_uuid(actor_id),
            product_id: ProductId::from_uuid(product_id),
            kind: kind.to_owned(),
            quantity,
            reason: reason.map(str::to_owned),
            occurred_at: now.as_millis(),
        };
        self.write_op(clock, id, &payload).await?;
        Ok(id)
    }

    /// The shop's other open branches, by name: where goods can be sent from here, as of the
    /// last pull.
    pub async fn other_branches(&self) -> StationResult<Vec<nexus_sync::BranchRecord>> {
        let here = self.required("branch_id").await?;
        let mut branches: Vec<nexus_sync::BranchRecord> = self
            .replica_records::<nexus_sync::BranchRecord>()
            .await?
            .into_iter()
            .filter(|branch| branch.archived_at.is_none() && branch.id.to_string() != here)
            .collect();
        branches.sort_by(|left, right| left.name.cmp(&right.name));
        Ok(branches)
    }

    /// Sends goods from this station's branch to `to_branch`.
    pub async fn record_transfer(
        &self,
        clock: &dyn Clock,
        actor_id: uuid::Uuid,
        to_branch: uuid::Uuid,
        lines: &[(uuid::Uuid, nexus_domain::Quantity)],
    ) -> StationResult<uuid::Uuid> {
        let now = clock.now();
        let id = nexus_domain::ids::new_v7(now);
        let payload = TransferOp {
            actor_id: UserId::from_uuid(actor_id),
            to_branch_id: BranchId::from_uuid(to_branch),
            lines: lines
                .iter()
                .map(|(product, quantity)| TransferLine {
                    product_id: ProductId::from_uuid(*product),
                    quantity: *quantity,
                })
                .collect(),
            occurred_at: now.as_millis(),
        };
        self.write_op(clock, id, &payload).await?;
        Ok(id)
    }

    /// The open purchase orders of this station's branch as last pulled, oldest first.
    pub async fn open_orders(&self) -> StationResult<Vec<nexus_sync::PurchaseOrderRecord>> {
        let mut orders: Vec<nexus_sync::PurchaseOrderRecord> = self
            .replica_records::<nexus_sync::PurchaseOrderRecord>()
            .await?
            .into_iter()
            .filter(|order| order.status == "open")
            .collect();
        orders.sort_by_key(|order| (order.created_at, order.id));
        Ok(orders)
    }

    /// Records goods that arrived against an open order of this branch, offline too: the
    /// branch's stock counts them at once, and the service records them once under this
    /// receipt's id, however often the push is repeated.
    pub async fn receive_order(
        &self,
        clock: &dyn Clock,
        actor_id: uuid::Uuid,
        order_id: uuid::Uuid,
        lines: &[(uuid::Uuid, nexus_domain::Quantity)],
    ) -> StationResult<uuid::Uuid> {
        let order = self
            .open_orders()
            .await?
            .into_iter()
            .find(|order| order.id == order_id)
            .ok_or_else(|| {
                StationError::Invalid(
                    "that order is not open at this branch (as of the last sync)".to_owned(),
                )
            })?;
        let lines: Vec<&(uuid::Uuid, nexus_domain::Quantity)> = lines
            .iter()
            .filter(|(_, quantity)| quantity.is_positive())
            .collect();
        if lines.is_empty() {
            return Err(StationError::Invalid(
                "type how many of each product arrived".to_owned(),
            ));
        }
        if let Some((product, _)) = lines.iter().find(|(product, _)| {
            !order
                .lines
                .iter()
                .any(|line| line.product_id.as_uuid() == *product)
        }) {
            return Err(StationError::Invalid(format!(
                "product {product} is not on this order"
            )));
        }
        let now = clock.now();
        let id = nexus_domain::ids::new_v7(now);
        let payload = nexus_sync::OrderReceiptOp {
            actor_id: UserId::from_uuid(actor_id),
            order_id,
            lines: lines
                .iter()
                .map(|(product, quantity)| TransferLine {
                    product_id: ProductId::from_uuid(*product),
                    quantity: *quantity,
                })
                .collect(),
            received_at: now.as_millis(),
        };
        self.write_op(clock, id, &payload).await?;
        Ok(id)
    }

    /// On-hand at this station's branch, in thousandths, per product that has any movement: the
    /// server's ledger as pulled, plus this station's own writes the server has not sent back
    /// yet (rejected ones never count). Once everything is synced it equals the server's.
    pub async fn stock_levels(&self) -> StationResult<std::collections::BTreeMap<uuid::Uuid, i64>> {
        Ok(self
            .ledgers(None)
            .await?
            .into_iter()
            .map(|(product, entries)| (product, nexus_sync::on_hand_milli(&entries)))
            .collect())
    }

    /// On-hand of one product at this station's branch, by the same rule as
    /// [`Station::stock_levels`]; `None` when the branch keeps no count of it: nothing was
    /// ever received, counted or brought back, only sold (a shop that does not track it).
    pub async fn on_hand_of(
        &self,
        product: uuid::Uuid,
    ) -> StationResult<Option<nexus_domain::Quantity>> {
        let ledgers = self.ledgers(Some(product)).await?;
        let Some(entries) = ledgers.get(&product) else {
            return Ok(None);
        };
        let tracked = entries
            .iter()
            .any(|entry| entry.is_count || entry.quantity_milli > 0);
        Ok(tracked.then(|| nexus_domain::Quantity::from_milli(nexus_sync::on_hand_milli(entries))))
    }

    /// The ledger of each product (or of `only`) at this branch: pulled movements and this
    /// station's own unsettled ones.
    async fn ledgers(
        &self,
        only: Option<uuid::Uuid>,
    ) -> StationResult<std::collections::BTreeMap<uuid::Uuid, Vec<LedgerEntry>>> {
        let only_text = only.map(|product| product.to_string());
        let mut ledgers: std::collections::BTreeMap<uuid::Uuid, Vec<LedgerEntry>> =
            std::collections::BTreeMap::new();
        let rows = sqlx::query(
            "SELECT id, product_id, is_count, quantity_milli, occurred_at FROM movements \
             WHERE $1 IS NULL OR product_id = $1",
        )
        .bind(&only_text)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let parse = |column: &str| uuid_column(row, column);
            ledgers
                .entry(parse("product_id")?)
                .or_default()
                .push(LedgerEntry {
                    occurred_at: row.try_get("occurred_at")?,
                    id: parse("id")?,
                    is_count: row.try_get("is_count")?,
                    quantity_milli: row.try_get("quantity_milli")?,
                });
        }
        let unsettled: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, op FROM outbox WHERE status <> 'rejected' AND settled = 0 \
             AND entity IN ('sale', 'stock_movement', 'transfer', 'order_receipt') ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        for (seq, text) in unsettled {
            let op: Op =
                serde_json::from_str(&text).map_err(|error| StationError::UnreadableOp {
                    seq: u64::try_from(seq).unwrap_or_default(),
                    reason: error.to_string(),
                })?;
            for (product, entry) in provisional_entries(&op)? {
                if only.is_none_or(|only| only == product) {
                    ledgers.entry(product).or_default().push(entry);
                }
            }
        }
        // Refunds and voids name the sale's lines, not products: their goods come back per
        // the lines this station recorded for them.
        let returns = sqlx::query(
            "SELECT outbox.entity_id, returned_lines.product_id, returned_lines.quantity_milli, outbox.created_at \
             FROM outbox JOIN returned_lines ON returned_lines.return_id = outbox.entity_id \
             WHERE outbox.entity = 'refund' AND outbox.status <> 'rejected' AND outbox.settled = 0 \
             AND ($1 IS NULL OR returned_lines.product_id = $1)",
        )
        .bind(&only_text)
        .fetch_all(&self.pool)
        .await?;
        for row in &returns {
            let parse = |column: &str| uuid_column(row, column);
            ledgers
                .entry(parse("product_id")?)
                .or_default()
                .push(LedgerEntry {
                    occurred_at: row.try_get("created_at")?,
                    id: parse("entity_id")?,
                    is_count: false,
                    quantity_milli: row.try_get("quantity_milli")?,
                });
        }
        Ok(ledgers)
    }
}

fn uuid_column(row: &sqlx::sqlite::SqliteRow, column: &str) -> StationResult<uuid::Uuid> {
    parse_uuid(&row.try_get::<String, _>(column)?, column)
}

/// The stock effect of one of this station's own ops, as ledger entries per product, until the
/// server's real movements for it are pulled. Ids are the op's entity id: only their order
/// against counts matters, and a pending op sorts by its own time.
pub(crate) fn provisional_entries(op: &Op) -> StationResult<Vec<(uuid::Uuid, LedgerEntry)>> {
    let unreadable = |error: PayloadError| StationError::UnreadableOp {
        seq: op.seq,
        reason: error.to_string(),
    };
    let entry = |occurred_at: i64, is_count: bool, quantity: nexus_domain::Quantity| LedgerEntry {
        occurred_at,
        id: op.entity_id,
        is_count,
        quantity_milli: quantity.milli(),
    };
    let taken = |product: ProductId, at: i64, quantity: nexus_domain::Quantity| {
        let taken = nexus_domain::Quantity::from_milli(-quantity.milli());
        (product.as_uuid(), entry(at, false, taken))
    };
    Ok(match op.entity {
        Entity::Sale => {
            let sale = op.read_payload::<SaleOp>().map_err(unreadable)?.sale;
            // A sale without a time happened when it was written.
            let at = sale.occurred_at.unwrap_or(op.hlc.wall_millis);
            sale.lines
                .iter()
                .map(|line| {
                    let moved =
                        nexus_domain::pack::base_quantity(line.quantity, line.pack.as_ref())
                            .unwrap_or(line.quantity);
                    taken(line.product_id, at, moved)
                })
                .collect()
        }
        Entity::StockMovement => {
            let movement = op.read_payload::<MovementOp>().map_err(unreadable)?;
            vec![(
                movement.product_id.as_uuid(),
                entry(movement.occurred_at, movement.is_count(), movement.quantity),
            )]
        }
        Entity::OrderReceipt => {
            let receipt = op
                .read_payload::<nexus_sync::OrderReceiptOp>()
                .map_err(unreadable)?;
            receipt
                .lines
                .iter()
                .map(|line| {
                    (
                        line.product_id.as_uuid(),
                        entry(receipt.received_at, false, line.quantity),
                    )
                })
                .collect()
        }
        Entity::Transfer => {
            let transfer = op.read_payload::<TransferOp>().map_err(unreadable)?;
            transfer
                .lines
                .iter()
                .map(|line| taken(line.product_id, transfer.occurred_at, line.quantity))
                .collect()
        }
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(entity: Entity, payload: serde_json::Value) -> Op {
        Op {
            op_id: uuid::Uuid::now_v7(),
            device_id: uuid::Uuid::now_v7(),
            seq: 7,
            hlc: nexus_sync::Hlc::ZERO,
            entity,
            entity_id: uuid::Uuid::now_v7(),
            action: nexus_sync::Action::Create,
            payload,
        }
    }

    #[test]
    fn an_unreadable_op_of_the_outbox_is_reported_not_counted_as_zero() {
        let product = uuid::Uuid::now_v7();
        let movement = op(
            Entity::StockMovement,
            serde_json::json!({ "actor_id": uuid::Uuid::now_v7(), "product_id": product,
                "kind": "count", "quantity": "4", "reason": null, "occurred_at": 9 }),
        );
        let entries = provisional_entries(&movement).expect("reads");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, product);
        assert!(entries[0].1.is_count && entries[0].1.quantity_milli == 4000);

        let mut damaged = movement.clone();
        damaged.payload["quantity"] = serde_json::json!("four");
        assert!(matches!(
            provisional_entries(&damaged),
            Err(StationError::UnreadableOp { seq: 7, .. })
        ));
        let sale = op(Entity::Sale, serde_json::json!({ "cashier_id": "nobody" }));
        assert!(matches!(
            provisional_entries(&sale),
            Err(StationError::UnreadableOp { .. })
        ));
    }
}
