//! Stock: the ledger's movements and transfers, on-hand per branch, and the alerts.

use nexus_domain::limits::{check_occurred_at, check_quantity};
use nexus_domain::values::optional_reason;
use nexus_domain::{BranchId, MovementId, ProductId, Quantity, TransferId, UnixMillis};
use nexus_store::{
    AlertPosition, AlertQuery, MovementKind, NewMovement, NewTransfer, StockAlert, StockLevel,
};
use nexus_sync::TransferLine;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::events::Topic;
use crate::state::AppState;

const MAX_TRANSFER_LINES: usize = 500;

pub fn visible_branch(auth: &Authenticated, id: Uuid) -> ApiResult<BranchId> {
    let branch = BranchId::from_uuid(id);
    if auth.actor().can_see_branch(branch) {
        Ok(branch)
    } else {
        Err(ApiError::not_found("branch"))
    }
}

fn occurred_at(requested: Option<i64>, now: UnixMillis) -> ApiResult<UnixMillis> {
    Ok(check_occurred_at(requested, now)?)
}

/// A stock movement's kind and reason, checked the same way for the API and for station ops.
pub fn movement_kind(
    kind: &str,
    quantity: Quantity,
    reason: Option<String>,
) -> ApiResult<(MovementKind, Option<String>)> {
    let reason = optional_reason(reason.as_deref())?;
    check_quantity(quantity, "quantity")?;
    let kind = match kind {
        "receipt" if quantity.is_positive() => MovementKind::Receipt,
        "receipt" => {
            return Err(
                ApiError::validation("a receipt of goods has a positive quantity")
                    .with_field("quantity"),
            );
        }
        "adjustment" if quantity == Quantity::ZERO => {
            return Err(
                ApiError::validation("an adjustment changes the quantity").with_field("quantity")
            );
        }
        "adjustment" if reason.is_none() => {
            return Err(ApiError::validation("an adjustment needs a reason").with_field("reason"));
        }
        "adjustment" => MovementKind::Adjustment,
        "count" if quantity.is_negative() => {
            return Err(ApiError::validation("a count is zero or more").with_field("quantity"));
        }
        "count" => MovementKind::Count,
        other => {
            return Err(ApiError::validation(format!(
                "kind {other:?}: expected receipt, adjustment or count"
            ))
            .with_field("kind"));
        }
    };
    Ok((kind, reason))
}

/// A transfer's lines: 1 to MAX_TRANSFER_LINES, each quantity positive and in range.
pub fn check_transfer_lines(lines: &[TransferLine]) -> ApiResult<()> {
    if lines.is_empty() || lines.len() > MAX_TRANSFER_LINES {
        return Err(ApiError::validation(format!(
            "a transfer has 1 to {MAX_TRANSFER_LINES} lines"
        ))
        .with_field("lines"));
    }
    for line in lines {
        check_quantity(line.quantity, "lines")?;
    }
    if lines.iter().any(|line| !line.quantity.is_positive()) {
        return Err(
            ApiError::validation("every transfer quantity must be positive").with_field("lines"),
        );
    }
    Ok(())
}

/// A movement as typed at a branch.
pub struct MovementInput {
    pub id: Option<MovementId>,
    pub product_id: ProductId,
    pub kind: String,
    pub quantity: Quantity,
    pub reason: Option<String>,
    pub occurred_at: Option<i64>,
}

/// Records a movement at the branch `id` (a receipt of goods, an adjustment or a count) and
/// answers it with the branch's new on-hand.
pub async fn record_movement(
    state: &AppState,
    auth: &Authenticated,
    branch: Uuid,
    input: MovementInput,
) -> ApiResult<(NewMovement, StockLevel)> {
    let branch = visible_branch(auth, branch)?;
    // The branch is looked up before the movement is judged: a branch of another organisation
    // is a 404 whatever was sent.
    if state.store.get_branch(auth.tenant, branch).await?.is_none() {
        return Err(ApiError::not_found("branch"));
    }
    let (kind, reason) = movement_kind(&input.kind, input.quantity, input.reason)?;
    let now = state.clock.now();
    let movement = NewMovement {
        id: input.id.unwrap_or_else(|| MovementId::generate(now)),
        branch,
        product: input.product_id,
        kind,
        quantity: input.quantity,
        reason,
        source: None,
        actor: Some(auth.user.id),
        occurred_at: occurred_at(input.occurred_at, now)?,
        recorded_at: now,
    };
    let level = state
        .store
        .record_movement(auth.tenant, movement.clone())
        .await?;
    state.events.publish(auth.tenant, Topic::Stock).await;
    Ok((movement, level))
}

/// Out of one branch and into another, every line, atomically.
pub async fn transfer(
    state: &AppState,
    auth: &Authenticated,
    id: Option<TransferId>,
    from: Uuid,
    to: Uuid,
    lines: Vec<TransferLine>,
) -> ApiResult<TransferId> {
    let from = visible_branch(auth, from)?;
    let to = visible_branch(auth, to)?;
    if from == to {
        return Err(
            ApiError::validation("a transfer goes between two different branches")
                .with_field("to_branch_id"),
        );
    }
    check_transfer_lines(&lines)?;
    let now = state.clock.now();
    let id = id.unwrap_or_else(|| TransferId::generate(now));
    let lines = lines
        .into_iter()
        .map(|line| (line.product_id, line.quantity))
        .collect();
    state
        .store
        .record_transfer(
            auth.tenant,
            NewTransfer {
                id,
                from,
                to,
                lines,
                actor: auth.user.id,
                occurred_at: now,
                recorded_at: now,
            },
        )
        .await?;
    state.events.publish(auth.tenant, Topic::Stock).await;
    Ok(id)
}

/// The most rows of a list a page holds, and how many unless asked.
pub const PAGE_MAX: u32 = 1000;
pub const PAGE_DEFAULT: u32 = 200;

/// A page size as asked, or a clear refusal.
pub fn page_limit(limit: Option<u32>) -> ApiResult<u32> {
    let limit = limit.unwrap_or(PAGE_DEFAULT);
    if (1..=PAGE_MAX).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::validation(format!("limit must be 1 to {PAGE_MAX}")).with_field("limit"))
    }
}

/// On-hand of the products the branch has had, a page at a time.
pub async fn levels(
    state: &AppState,
    auth: &Authenticated,
    branch: Uuid,
    after: Option<ProductId>,
    limit: Option<u32>,
) -> ApiResult<(Vec<StockLevel>, Option<ProductId>)> {
    let branch = visible_branch(auth, branch)?;
    let limit = page_limit(limit)?;
    if state.store.get_branch(auth.tenant, branch).await?.is_none() {
        return Err(ApiError::not_found("branch"));
    }
    let items = state
        .store
        .stock_levels(auth.tenant, branch, after, limit)
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|level| level.product_id))
        .flatten();
    Ok((items, next))
}

/// Low-stock (or, with `negative_only`, reconciliation) alerts at the branches the person may
/// see, worst first, a page at a time; the cursor of the next page, if any.
pub async fn alerts(
    state: &AppState,
    auth: &Authenticated,
    negative_only: bool,
    branch: Option<Uuid>,
    after: Option<&str>,
    limit: Option<u32>,
) -> ApiResult<(Vec<StockAlert>, Option<String>)> {
    let limit = page_limit(limit)?;
    let after = after
        .map(|text| {
            AlertPosition::decode(text).ok_or_else(|| {
                ApiError::validation("after must be a next_after of an earlier page")
                    .with_field("after")
            })
        })
        .transpose()?;
    let branches = super::branch_scope(auth, branch)?;
    let items = state
        .store
        .stock_alerts(
            auth.tenant,
            &AlertQuery {
                negative_only,
                branches,
                after,
                limit,
            },
        )
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| {
            items.last().map(|alert| {
                AlertPosition {
                    on_hand_milli: alert.on_hand.milli(),
                    sku: alert.sku.clone(),
                    branch_id: alert.branch_id,
                }
                .encode()
            })
        })
        .flatten();
    Ok((items, next))
}

/// A page of the catalogue with each product's on-hand at one branch (zero for products it
/// never had), searched like the product list.
pub struct BranchStock {
    pub branch: nexus_store::Branch,
    pub rows: Vec<(nexus_store::Product, Quantity)>,
    pub next_after: Option<ProductId>,
}

pub async fn branch_stock(
    state: &AppState,
    auth: &Authenticated,
    branch: Uuid,
    search: Option<String>,
    after: Option<ProductId>,
    limit: u32,
) -> ApiResult<BranchStock> {
    auth.require(nexus_domain::Permission::ViewStock)?;
    let branch_id = visible_branch(auth, branch)?;
    let branch = state
        .store
        .get_branch(auth.tenant, branch_id)
        .await?
        .ok_or_else(|| ApiError::not_found("branch"))?;
    let page =
        super::catalogue::list_products(state, auth, search, after, Some(limit), false).await?;
    let ids: Vec<ProductId> = page.items.iter().map(|product| product.id).collect();
    let levels = state.store.levels_of(auth.tenant, branch_id, &ids).await?;
    let rows = page
        .items
        .into_iter()
        .map(|product| {
            let on_hand = levels
                .iter()
                .find(|level| level.product_id == product.id)
                .map_or(Quantity::ZERO, |level| level.on_hand);
            (product, on_hand)
        })
        .collect();
    Ok(BranchStock {
        branch,
        rows,
        next_after: page.next_after,
    })
}

/// One product's ledger at one branch, newest first, with the balance after each movement.
pub async fn product_history(
    state: &AppState,
    auth: &Authenticated,
    branch: Uuid,
    product: ProductId,
) -> ApiResult<(
    nexus_store::Branch,
    nexus_store::Product,
    Vec<(nexus_store::Movement, Quantity)>,
)> {
    auth.require(nexus_domain::Permission::ViewStock)?;
    let branch_id = visible_branch(auth, branch)?;
    let branch = state
        .store
        .get_branch(auth.tenant, branch_id)
        .await?
        .ok_or_else(|| ApiError::not_found("branch"))?;
    let product = super::catalogue::product(state, auth, product).await?;
    let movements = state
        .store
        .movements(auth.tenant, branch_id, product.id)
        .await?;
    let mut balance = Quantity::ZERO;
    let mut history = Vec::with_capacity(movements.len());
    for movement in movements {
        balance = movement.kind.balance_after(balance, movement.quantity);
        history.push((movement, balance));
    }
    history.reverse();
    Ok((branch, product, history))
}
