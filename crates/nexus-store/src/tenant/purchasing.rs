//! Suppliers and purchase orders of one tenant. A receipt against an order, whole or part, is a
//! stock receipt in the ledger under the receipt's own id (a retry counts once), and sets each
//! product's cost to its order line's, from that moment on.

use async_trait::async_trait;
use nexus_domain::ids::MovementId;
use nexus_domain::{BranchId, ProductId, Quantity, TenantId, UnixMillis, UserId};
use serde::Serialize;

use super::branches::check_branch_open;
use super::catalogue::{check_product_exists, record_cost};
use super::stock::record_movements;
use super::{TenantAccess, with_tenant};
use crate::retail::{MovementKind, NewMovement};
use crate::sql::{Backend, Conn, RowExt, query};
use crate::{StoreError, StoreResult};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Supplier {
    pub id: uuid::Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

#[derive(Clone, Debug)]
pub struct NewPurchaseOrder {
    pub id: uuid::Uuid,
    pub supplier_id: uuid::Uuid,
    pub branch_id: BranchId,
    /// (product, quantity ordered, unit cost), checked already.
    pub lines: Vec<(ProductId, Quantity, i64)>,
    pub created_by: UserId,
    pub now: UnixMillis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PurchaseOrderLine {
    pub line_no: i32,
    pub product_id: ProductId,
    pub quantity: Quantity,
    /// What one unit costs on this order.
    pub cost_minor: i64,
    pub received: Quantity,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PurchaseOrderReceipt {
    pub id: uuid::Uuid,
    pub received_by: UserId,
    pub received_at: UnixMillis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PurchaseOrder {
    pub id: uuid::Uuid,
    pub supplier_id: uuid::Uuid,
    pub branch_id: BranchId,
    /// "open" or "closed".
    pub status: String,
    pub created_by: UserId,
    pub created_at: UnixMillis,
    pub closed_at: Option<UnixMillis>,
    pub lines: Vec<PurchaseOrderLine>,
    /// Every receipt against it, oldest first.
    pub receipts: Vec<PurchaseOrderReceipt>,
}

/// Goods that arrived against an order, under the receipt's own id.
#[derive(Clone, Debug)]
pub struct NewOrderReceipt {
    pub id: uuid::Uuid,
    pub order: uuid::Uuid,
    /// (product, quantity arrived), each on the order, quantities positive.
    pub lines: Vec<(ProductId, Quantity)>,
    pub actor: UserId,
    pub now: UnixMillis,
}

#[async_trait]
pub trait PurchasingStore: Send + Sync + 'static {
    /// A name another supplier has (any letter case) is `Conflict` on `name`.
    async fn create_supplier(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
        name: &str,
        phone: Option<&str>,
        now: UnixMillis,
    ) -> StoreResult<Supplier>;
    /// By name.
    async fn list_suppliers(&self, tenant: TenantId) -> StoreResult<Vec<Supplier>>;
    /// An unknown supplier is `Refused`; an unknown or archived branch or product as for sales.
    async fn create_purchase_order(
        &self,
        tenant: TenantId,
        order: NewPurchaseOrder,
    ) -> StoreResult<PurchaseOrder>;
    async fn get_purchase_order(
        &self,
        tenant: TenantId,
        order: uuid::Uuid,
    ) -> StoreResult<Option<PurchaseOrder>>;
    /// Newest first.
    async fn list_purchase_orders(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> StoreResult<Vec<PurchaseOrder>>;
    /// Records a receipt, idempotent on its id: a retry returns the order with `false` and moves
    /// nothing. `None` when the order does not exist.
    async fn receive_against_order(
        &self,
        tenant: TenantId,
        receipt: NewOrderReceipt,
    ) -> StoreResult<Option<(PurchaseOrder, bool)>>;
    /// Closes an order (closing a closed one changes nothing). `None` when it does not exist.
    async fn close_purchase_order(
        &self,
        tenant: TenantId,
        order: uuid::Uuid,
        now: UnixMillis,
    ) -> StoreResult<Option<PurchaseOrder>>;
}

fn supplier_from_row<R: RowExt>(row: &R) -> sqlx::Result<Supplier>
where
    R::Database: Backend,
{
    Ok(Supplier {
        id: row.field("id")?,
        name: row.field("name")?,
        phone: row.field("phone")?,
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        updated_at: UnixMillis::from_millis(row.field("updated_at")?),
    })
}

async fn read_order<B: Backend>(
    connection: &mut Conn<B>,
    order: uuid::Uuid,
) -> StoreResult<Option<PurchaseOrder>> {
    let Some(row) = query::<B>(
        "SELECT id, supplier_id, branch_id, status, created_by, created_at, closed_at \
         FROM purchase_orders WHERE id = $1",
    )
    .bind(order)
    .fetch_optional(&mut *connection)
    .await?
    else {
        return Ok(None);
    };
    let lines = query::<B>(
        "SELECT line_no, product_id, quantity_milli, cost_minor, received_milli \
         FROM purchase_order_lines WHERE order_id = $1 ORDER BY line_no",
    )
    .bind(order)
    .fetch_all(&mut *connection)
    .await?
    .iter()
    .map(|line| {
        Ok(PurchaseOrderLine {
            line_no: line.field("line_no")?,
            product_id: ProductId::from_uuid(line.field("product_id")?),
            quantity: Quantity::from_milli(line.field("quantity_milli")?),
            cost_minor: line.field("cost_minor")?,
            received: Quantity::from_milli(line.field("received_milli")?),
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let receipts = query::<B>(
        "SELECT id, received_by, received_at FROM purchase_order_receipts \
         WHERE order_id = $1 ORDER BY received_at, id",
    )
    .bind(order)
    .fetch_all(&mut *connection)
    .await?
    .iter()
    .map(|receipt| {
        Ok(PurchaseOrderReceipt {
            id: receipt.field("id")?,
            received_by: UserId::from_uuid(receipt.field("received_by")?),
            received_at: UnixMillis::from_millis(receipt.field("received_at")?),
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(Some(PurchaseOrder {
        id: row.field("id")?,
        supplier_id: row.field("supplier_id")?,
        branch_id: BranchId::from_uuid(row.field("branch_id")?),
        status: row.field("status")?,
        created_by: UserId::from_uuid(row.field("created_by")?),
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        closed_at: row
            .field::<Option<i64>>("closed_at")?
            .map(UnixMillis::from_millis),
        lines,
        receipts,
    }))
}

/// Logs the order as it now is for the stations of its branch: a manager receives against it at
/// the till.
async fn log_order<B: Backend>(connection: &mut Conn<B>, order: &PurchaseOrder) -> StoreResult<()> {
    let supplier: Option<String> = query::<B>("SELECT name FROM suppliers WHERE id = $1")
        .bind(order.supplier_id)
        .scalar_optional(&mut *connection)
        .await?;
    let payload = serde_json::json!({
        "id": order.id,
        "supplier_name": supplier.unwrap_or_default(),
        "branch_id": order.branch_id,
        "status": order.status,
        "created_at": order.created_at,
        "lines": order.lines.iter().map(|line| serde_json::json!({
            "line_no": line.line_no,
            "product_id": line.product_id,
            "quantity": line.quantity,
            "received": line.received,
        })).collect::<Vec<_>>(),
    });
    let changed_at = order
        .receipts
        .last()
        .map(|receipt| receipt.received_at)
        .into_iter()
        .chain(order.closed_at)
        .max()
        .unwrap_or(order.created_at);
    super::changes::log_change::<B>(
        connection,
        "purchase_order",
        order.id,
        Some(order.branch_id),
        &payload,
        changed_at,
    )
    .await
}

async fn receive<B: Backend>(
    connection: &mut Conn<B>,
    receipt: &NewOrderReceipt,
) -> StoreResult<Option<(PurchaseOrder, bool)>> {
    // The order's row first: two receipts of one order, or a receipt and its retry, are
    // applied one after the other.
    let lock = format!(
        "SELECT id FROM purchase_orders WHERE id = $1{}",
        B::LOCK_ROWS
    );
    let found: Option<uuid::Uuid> = query::<B>(&lock)
        .bind(receipt.order)
        .scalar_optional(&mut *connection)
        .await?;
    if found.is_none() {
        return Ok(None);
    }
    let earlier: Option<uuid::Uuid> =
        query::<B>("SELECT order_id FROM purchase_order_receipts WHERE id = $1")
            .bind(receipt.id)
            .scalar_optional(&mut *connection)
            .await?;
    match earlier {
        Some(order) if order == receipt.order => {
            return Ok(read_order::<B>(connection, receipt.order)
                .await?
                .map(|order| (order, false)));
        }
        Some(_) => return Err(StoreError::Conflict { field: "id" }),
        None => {}
    }
    let order = read_order::<B>(connection, receipt.order)
        .await?
        .ok_or_else(|| StoreError::Refused("the order vanished".to_owned()))?;
    if order.status != "open" {
        return Err(StoreError::Refused(
            "the order is closed: receive these goods as a stock receipt instead".to_owned(),
        ));
    }
    check_branch_open::<B>(connection, order.branch_id).await?;
    let mut movements = Vec::with_capacity(receipt.lines.len());
    let mut costs = Vec::with_capacity(receipt.lines.len());
    for (product, quantity) in &receipt.lines {
        let line = order
            .lines
            .iter()
            .find(|line| line.product_id == *product)
            .ok_or_else(|| {
                StoreError::Refused(format!("product {product} is not on this order"))
            })?;
        query::<B>(
            "UPDATE purchase_order_lines SET received_milli = received_milli + $3 \
             WHERE order_id = $1 AND line_no = $2",
        )
        .bind(order.id)
        .bind(line.line_no)
        .bind(quantity.milli())
        .execute(&mut *connection)
        .await?;
        movements.push(NewMovement {
            id: MovementId::generate(receipt.now),
            branch: order.branch_id,
            product: *product,
            kind: MovementKind::Receipt,
            quantity: *quantity,
            reason: Some("received against a purchase order".to_owned()),
            source: Some(receipt.id),
            actor: Some(receipt.actor),
            occurred_at: receipt.now,
            recorded_at: receipt.now,
        });
        costs.push((*product, line.cost_minor));
    }
    query::<B>(
        "INSERT INTO purchase_order_receipts (id, order_id, received_by, received_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(receipt.id)
    .bind(order.id)
    .bind(receipt.actor.as_uuid())
    .bind(receipt.now.as_millis())
    .execute(&mut *connection)
    .await?;
    record_movements::<B>(connection, &movements).await?;
    // The latest receipt from a supplier is what a unit costs from now on.
    for (product, cost) in costs {
        query::<B>("UPDATE products SET cost_minor = $2 WHERE id = $1")
            .bind(product.as_uuid())
            .bind(cost)
            .execute(&mut *connection)
            .await?;
        record_cost::<B>(connection, product, cost, receipt.now).await?;
    }
    let received = read_order::<B>(connection, receipt.order)
        .await?
        .ok_or_else(|| StoreError::Refused("the order vanished".to_owned()))?;
    log_order::<B>(connection, &received).await?;
    Ok(Some((received, true)))
}

#[async_trait]
impl<S: TenantAccess> PurchasingStore for S {
    async fn create_supplier(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
        name: &str,
        phone: Option<&str>,
        now: UnixMillis,
    ) -> StoreResult<Supplier> {
        with_tenant(self, tenant, async |connection| {
            let row = query::<S::Db>(
                "INSERT INTO suppliers (id, name, search_name, phone, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) \
                 RETURNING id, name, phone, created_at, updated_at",
            )
            .bind(id)
            .bind(name)
            .bind(name.to_lowercase())
            .bind(phone)
            .bind(now.as_millis())
            .fetch_one(connection)
            .await
            .map_err(|error| StoreError::unique_as_conflict(error, "name"))?;
            Ok(supplier_from_row(&row)?)
        })
        .await
    }

    async fn list_suppliers(&self, tenant: TenantId) -> StoreResult<Vec<Supplier>> {
        with_tenant(self, tenant, async |connection| {
            let rows = query::<S::Db>(
                "SELECT id, name, phone, created_at, updated_at FROM suppliers \
                 ORDER BY search_name, id",
            )
            .fetch_all(connection)
            .await?;
            Ok(rows
                .iter()
                .map(supplier_from_row)
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn create_purchase_order(
        &self,
        tenant: TenantId,
        order: NewPurchaseOrder,
    ) -> StoreResult<PurchaseOrder> {
        with_tenant(self, tenant, async |connection| {
            let supplier: Option<uuid::Uuid> =
                query::<S::Db>("SELECT id FROM suppliers WHERE id = $1")
                    .bind(order.supplier_id)
                    .scalar_optional(&mut *connection)
                    .await?;
            if supplier.is_none() {
                return Err(StoreError::Refused(format!(
                    "supplier {} does not exist",
                    order.supplier_id
                )));
            }
            check_branch_open::<S::Db>(connection, order.branch_id).await?;
            for (product, _, _) in &order.lines {
                check_product_exists::<S::Db>(connection, *product).await?;
            }
            query::<S::Db>(
                "INSERT INTO purchase_orders (id, supplier_id, branch_id, status, created_by, \
                 created_at) VALUES ($1, $2, $3, 'open', $4, $5)",
            )
            .bind(order.id)
            .bind(order.supplier_id)
            .bind(order.branch_id.as_uuid())
            .bind(order.created_by.as_uuid())
            .bind(order.now.as_millis())
            .execute(&mut *connection)
            .await
            .map_err(|error| StoreError::unique_as_conflict(error, "id"))?;
            for (index, (product, quantity, cost)) in order.lines.iter().enumerate() {
                query::<S::Db>(
                    "INSERT INTO purchase_order_lines (order_id, line_no, product_id, \
                     quantity_milli, cost_minor) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(order.id)
                .bind(i32::try_from(index + 1).unwrap_or(i32::MAX))
                .bind(product.as_uuid())
                .bind(quantity.milli())
                .bind(*cost)
                .execute(&mut *connection)
                .await?;
            }
            let created = read_order::<S::Db>(connection, order.id)
                .await?
                .ok_or_else(|| StoreError::Refused("the order vanished".to_owned()))?;
            log_order::<S::Db>(connection, &created).await?;
            Ok(created)
        })
        .await
    }

    async fn get_purchase_order(
        &self,
        tenant: TenantId,
        order: uuid::Uuid,
    ) -> StoreResult<Option<PurchaseOrder>> {
        with_tenant(self, tenant, async |connection| {
            read_order::<S::Db>(connection, order).await
        })
        .await
    }

    async fn list_purchase_orders(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> StoreResult<Vec<PurchaseOrder>> {
        with_tenant(self, tenant, async |connection| {
            let ids: Vec<uuid::Uuid> = query::<S::Db>(
                "SELECT id FROM purchase_orders ORDER BY created_at DESC, id DESC LIMIT $1",
            )
            .bind(i64::from(limit))
            .scalars(&mut *connection)
            .await?;
            let mut orders = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(order) = read_order::<S::Db>(connection, id).await? {
                    orders.push(order);
                }
            }
            Ok(orders)
        })
        .await
    }

    async fn receive_against_order(
        &self,
        tenant: TenantId,
        receipt: NewOrderReceipt,
    ) -> StoreResult<Option<(PurchaseOrder, bool)>> {
        with_tenant(self, tenant, async |connection| {
            receive::<S::Db>(connection, &receipt).await
        })
        .await
    }

    async fn close_purchase_order(
        &self,
        tenant: TenantId,
        order: uuid::Uuid,
        now: UnixMillis,
    ) -> StoreResult<Option<PurchaseOrder>> {
        with_tenant(self, tenant, async |connection| {
            let closed = query::<S::Db>(
                "UPDATE purchase_orders SET status = 'closed', closed_at = $2 \
                 WHERE id = $1 AND status = 'open'",
            )
            .bind(order)
            .bind(now.as_millis())
            .execute(&mut *connection)
            .await?;
            let found = read_order::<S::Db>(connection, order).await?;
            if let (Some(found), 1) = (&found, closed) {
                log_order::<S::Db>(connection, found).await?;
            }
            Ok(found)
        })
        .await
    }
}
