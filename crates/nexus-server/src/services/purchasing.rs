//! Suppliers and purchase orders: an order for a branch, received in one go or in parts (each
//! receipt a stock receipt under its own id, so a retry counts once, and each setting the cost
//! of what arrived), then closed.

use nexus_domain::limits::{check_price, check_quantity};
use nexus_domain::{BranchId, ProductId, Quantity};
use nexus_store::{NewOrderReceipt, NewPurchaseOrder, PurchaseOrder, Supplier};

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::events::Topic;
use crate::state::AppState;

/// The most lines one order has.
const MAX_ORDER_LINES: usize = 500;

pub async fn create_supplier(
    state: &AppState,
    auth: &Authenticated,
    name: &str,
    phone: Option<&str>,
) -> ApiResult<Supplier> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(
            ApiError::validation("a supplier's name is 1 to 120 characters").with_field("name"),
        );
    }
    let phone = super::customers::parse_phone(phone)?;
    let now = state.clock.now();
    state
        .store
        .create_supplier(
            auth.tenant,
            nexus_domain::ids::new_v7(now),
            name,
            phone.as_deref(),
            now,
        )
        .await
        .map_err(|error| match error {
            nexus_store::StoreError::Conflict { .. } => ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "conflict",
                format!("there is a supplier called {name:?} already"),
            )
            .with_field("name"),
            other => other.into(),
        })
}

pub async fn suppliers(state: &AppState, auth: &Authenticated) -> ApiResult<Vec<Supplier>> {
    Ok(state.store.list_suppliers(auth.tenant).await?)
}

/// An order line as asked.
pub struct OrderLineInput {
    pub product_id: ProductId,
    pub quantity: Quantity,
    pub cost_minor: i64,
}

fn check_branch(auth: &Authenticated, branch: BranchId) -> ApiResult<()> {
    if auth.actor().can_see_branch(branch) {
        Ok(())
    } else {
        Err(
            ApiError::validation(format!("branch {branch} does not exist or is not yours"))
                .with_field("branch_id"),
        )
    }
}

fn positive(quantity: Quantity) -> ApiResult<Quantity> {
    if !quantity.is_positive() {
        return Err(
            ApiError::validation("every quantity must be more than zero").with_field("lines"),
        );
    }
    Ok(check_quantity(quantity, "lines")?)
}

pub async fn create_purchase_order(
    state: &AppState,
    auth: &Authenticated,
    supplier_id: uuid::Uuid,
    branch_id: BranchId,
    lines: Vec<OrderLineInput>,
) -> ApiResult<PurchaseOrder> {
    check_branch(auth, branch_id)?;
    if lines.is_empty() || lines.len() > MAX_ORDER_LINES {
        return Err(
            ApiError::validation(format!("an order has 1 to {MAX_ORDER_LINES} lines"))
                .with_field("lines"),
        );
    }
    let mut checked = Vec::with_capacity(lines.len());
    for line in lines {
        if checked
            .iter()
            .any(|(product, _, _)| *product == line.product_id)
        {
            return Err(ApiError::validation(format!(
                "product {} is on the order twice; give it one line",
                line.product_id
            ))
            .with_field("lines"));
        }
        checked.push((
            line.product_id,
            positive(line.quantity)?,
            check_price(line.cost_minor, "lines")?,
        ));
    }
    let now = state.clock.now();
    let order = NewPurchaseOrder {
        id: nexus_domain::ids::new_v7(now),
        supplier_id,
        branch_id,
        lines: checked,
        created_by: auth.user.id,
        now,
    };
    Ok(state
        .store
        .create_purchase_order(auth.tenant, order)
        .await?)
}

/// The order `id`, if it is of a branch `auth` sees.
pub async fn purchase_order(
    state: &AppState,
    auth: &Authenticated,
    id: uuid::Uuid,
) -> ApiResult<PurchaseOrder> {
    state
        .store
        .get_purchase_order(auth.tenant, id)
        .await?
        .filter(|order| auth.actor().can_see_branch(order.branch_id))
        .ok_or_else(|| ApiError::not_found("purchase order"))
}

/// The newest orders of the branches `auth` sees.
pub async fn purchase_orders(
    state: &AppState,
    auth: &Authenticated,
) -> ApiResult<Vec<PurchaseOrder>> {
    Ok(state
        .store
        .list_purchase_orders(auth.tenant, 200)
        .await?
        .into_iter()
        .filter(|order| auth.actor().can_see_branch(order.branch_id))
        .collect())
}

/// Records what arrived. Returns the order and whether this call recorded the receipt
/// (`false`: its id was recorded already, and nothing moved again).
pub async fn receive(
    state: &AppState,
    auth: &Authenticated,
    order: uuid::Uuid,
    receipt_id: uuid::Uuid,
    lines: Vec<(ProductId, Quantity)>,
) -> ApiResult<(PurchaseOrder, bool)> {
    purchase_order(state, auth, order).await?;
    let received = record_receipt(
        state,
        auth.tenant,
        NewOrderReceipt {
            id: receipt_id,
            order,
            lines,
            actor: auth.user.id,
            now: state.clock.now(),
        },
    )
    .await?
    .ok_or_else(|| ApiError::not_found("purchase order"))?;
    Ok(received)
}

/// Checks a receipt's lines and records it, from the dashboard, the API or a till's op; tells
/// the stock pages when it moved something. `None` when the order does not exist.
pub async fn record_receipt(
    state: &AppState,
    tenant: nexus_domain::TenantId,
    mut receipt: NewOrderReceipt,
) -> ApiResult<Option<(PurchaseOrder, bool)>> {
    if receipt.lines.is_empty() || receipt.lines.len() > MAX_ORDER_LINES {
        return Err(ApiError::validation("say what arrived: at least one line").with_field("lines"));
    }
    let mut checked: Vec<(ProductId, Quantity)> = Vec::with_capacity(receipt.lines.len());
    for (product, quantity) in &receipt.lines {
        if checked.iter().any(|(known, _)| known == product) {
            return Err(ApiError::validation(format!(
                "product {product} is in the receipt twice; give it one line"
            ))
            .with_field("lines"));
        }
        checked.push((*product, positive(*quantity)?));
    }
    receipt.lines = checked;
    let received = state.store.receive_against_order(tenant, receipt).await?;
    if received.as_ref().is_some_and(|(_, created)| *created) {
        state.events.publish(tenant, Topic::Stock).await;
    }
    Ok(received)
}

pub async fn close(
    state: &AppState,
    auth: &Authenticated,
    order: uuid::Uuid,
) -> ApiResult<PurchaseOrder> {
    purchase_order(state, auth, order).await?;
    state
        .store
        .close_purchase_order(auth.tenant, order, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("purchase order"))
}
