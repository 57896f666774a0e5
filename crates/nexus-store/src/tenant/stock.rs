//! The stock ledger of one tenant and the on-hand it derives.
//!
//! Ledger order is (occurred_at, id). A count says "there were X at that point"; on-hand is the
//! latest count plus every other movement ordered after it. `stock_levels` keeps, per branch
//! and product, the latest count and the sum of the movements after it, updated in the same
//! transaction as every movement, so on-hand is read, never summed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use nexus_domain::ids::{MovementId, ProductId};
use nexus_domain::{BranchId, Quantity, TenantId, UnixMillis};

use super::branches::check_branch_open;
use super::catalogue::check_product_exists;
use super::changes::{PendingChange, log_changes, pending_change};
use super::{TenantAccess, with_tenant};
use crate::retail::{Movement, MovementKind, NewMovement, NewTransfer, StockAlert, StockLevel};
use crate::sql::{Backend, Conn, RowExt, Rows, placeholders, query, rows_per_statement, values};
use crate::{StoreError, StoreResult};

#[async_trait]
pub trait StockStore: Send + Sync + 'static {
    /// Writes one ledger row and returns the branch's new on-hand for the product.
    async fn record_movement(
        &self,
        tenant: TenantId,
        movement: NewMovement,
    ) -> StoreResult<StockLevel>;
    /// Both sides of a transfer, every line, in one transaction.
    async fn record_transfer(&self, tenant: TenantId, transfer: NewTransfer) -> StoreResult<()>;
    /// On-hand at `branch`, by product, at most `limit` after the product `after`.
    async fn stock_levels(
        &self,
        tenant: TenantId,
        branch: BranchId,
        after: Option<ProductId>,
        limit: u32,
    ) -> StoreResult<Vec<StockLevel>>;
    /// On-hand at `branch` of those of `products` it has had.
    async fn levels_of(
        &self,
        tenant: TenantId,
        branch: BranchId,
        products: &[ProductId],
    ) -> StoreResult<Vec<StockLevel>>;
    /// The ledger of one product at one branch, in ledger order.
    async fn movements(
        &self,
        tenant: TenantId,
        branch: BranchId,
        product: ProductId,
    ) -> StoreResult<Vec<Movement>>;
    /// Products at or below their reorder level, and every negative on-hand; with
    /// `negative_only`, only the latter (the reconciliation alerts).
    async fn stock_alerts(
        &self,
        tenant: TenantId,
        query: &AlertQuery,
    ) -> StoreResult<Vec<StockAlert>>;
    /// How many (low, negative) alerts there are in `branches` (all when `None`).
    async fn alert_counts(
        &self,
        tenant: TenantId,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<(u64, u64)>;
}

type LevelKey = (BranchId, ProductId);

/// Writes the ledger rows whose ids are new and logs them for stations; an id recorded before
/// is a retried request, and nothing moves twice. Returns the movements written.
async fn insert_movements<'m, B: Backend>(
    connection: &mut Conn<B>,
    movements: &'m [NewMovement],
) -> StoreResult<Vec<&'m NewMovement>> {
    let (fresh, changes) = write_movements::<B>(connection, movements).await?;
    log_changes::<B>(connection, &changes).await?;
    Ok(fresh)
}

/// Writes the ledger rows not there yet; returns them with the change-log entries that tell the
/// branch's stations, for the caller to log (see [`super::sales::SharedWrites`] for why a
/// caller may log them later in its transaction).
pub(crate) async fn write_movements<'m, B: Backend>(
    connection: &mut Conn<B>,
    movements: &'m [NewMovement],
) -> StoreResult<(Vec<&'m NewMovement>, Vec<PendingChange>)> {
    let mut rows = Rows::new(
        "stock_movements",
        &[
            "id",
            "branch_id",
            "product_id",
            "kind",
            "quantity_milli",
            "reason",
            "source_id",
            "actor_id",
            "occurred_at",
            "recorded_at",
        ],
    );
    for movement in movements {
        rows.push([
            movement.id.as_uuid().into(),
            movement.branch.as_uuid().into(),
            movement.product.as_uuid().into(),
            movement.kind.as_str().into(),
            movement.quantity.milli().into(),
            movement.reason.as_deref().into(),
            movement.source.into(),
            movement.actor.map(|actor| actor.as_uuid()).into(),
            movement.occurred_at.as_millis().into(),
            movement.recorded_at.as_millis().into(),
        ]);
    }
    let mut written: HashSet<uuid::Uuid> = rows
        .insert_returning_ids::<B>(connection, "ON CONFLICT (id) DO NOTHING RETURNING id")
        .await?
        .into_iter()
        .collect();
    // `remove`, so that an id given twice in one call counts once.
    let fresh: Vec<&NewMovement> = movements
        .iter()
        .filter(|movement| written.remove(&movement.id.as_uuid()))
        .collect();
    let changes = fresh
        .iter()
        .map(|movement| {
            let logged = Movement {
                id: movement.id,
                branch_id: movement.branch,
                product_id: movement.product,
                kind: movement.kind,
                quantity: movement.quantity,
                reason: movement.reason.clone(),
                occurred_at: movement.occurred_at,
                source_id: movement.source,
            };
            pending_change(
                "stock_movement",
                movement.id.as_uuid(),
                Some(movement.branch),
                &logged,
                movement.recorded_at,
            )
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((fresh, changes))
}

/// Creates the level rows missing among `keys` (in key order, so that concurrent writers take
/// them in the same order), at zero and with their product's reorder level.
async fn ensure_levels<B: Backend>(
    connection: &mut Conn<B>,
    keys: &BTreeSet<LevelKey>,
    now: UnixMillis,
) -> StoreResult<()> {
    let keys: Vec<_> = keys.iter().collect();
    for chunk in keys.chunks(rows_per_statement(4)) {
        let sql = format!(
            "INSERT INTO stock_levels (branch_id, product_id, count_milli, delta_milli, on_hand_milli, \
             updated_at, reorder_level_milli) VALUES {} ON CONFLICT (branch_id, product_id) DO NOTHING",
            values(
                "(?, ?, 0, 0, 0, ?, (SELECT reorder_level_milli FROM products WHERE id = ?))",
                chunk.len(),
                1
            )
        );
        let mut statement = query::<B>(&sql);
        for (branch, product) in chunk {
            statement = statement
                .bind(branch.as_uuid())
                .bind(product.as_uuid())
                .bind(now.as_millis())
                .bind(product.as_uuid());
        }
        statement.execute(connection).await?;
    }
    Ok(())
}

/// Brings the level rows of `products` in line with their reorder levels, as a product is
/// created or its reorder level changes: every level row carries the level, and every open
/// branch gets a row (at zero) for a product with one, so that a product never stocked there
/// shows as low. Runs after the write has logged its change, which serialises it with branch
/// creation (see [`stock_new_branch`]).
pub(crate) async fn follow_reorder_levels<B: Backend>(
    connection: &mut Conn<B>,
    products: &[ProductId],
    now: UnixMillis,
) -> StoreResult<()> {
    for chunk in products.chunks(rows_per_statement(1) - 1) {
        let sql = format!(
            "UPDATE stock_levels SET reorder_level_milli = (SELECT products.reorder_level_milli \
             FROM products WHERE products.id = stock_levels.product_id) WHERE product_id IN ({})",
            placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for product in chunk {
            statement = statement.bind(product.as_uuid());
        }
        statement.execute(&mut *connection).await?;
        let sql = format!(
            "INSERT INTO stock_levels (branch_id, product_id, count_milli, delta_milli, on_hand_milli, \
             updated_at, reorder_level_milli) SELECT branches.id, products.id, 0, 0, 0, $1, \
             products.reorder_level_milli FROM branches CROSS JOIN products \
             WHERE branches.archived_at IS NULL AND products.reorder_level_milli IS NOT NULL \
             AND products.id IN ({}) ON CONFLICT (branch_id, product_id) \
             DO UPDATE SET reorder_level_milli = excluded.reorder_level_milli",
            placeholders(chunk.len(), 2)
        );
        let mut statement = query::<B>(&sql).bind(now.as_millis());
        for product in chunk {
            statement = statement.bind(product.as_uuid());
        }
        statement.execute(&mut *connection).await?;
    }
    Ok(())
}

/// A new branch's level rows (at zero) for every product with a reorder level: they are low
/// there until stocked. It first takes the change counter's row lock, which every product write
/// holds from its change log to its commit: with PostgreSQL's per-statement snapshots, a
/// product written at the same moment is then seen here or sees this branch, never neither.
pub(crate) async fn stock_new_branch<B: Backend>(
    connection: &mut Conn<B>,
    branch: BranchId,
    now: UnixMillis,
) -> StoreResult<()> {
    query::<B>("UPDATE change_counter SET last_seq = last_seq WHERE id = 1")
        .execute(&mut *connection)
        .await?;
    query::<B>(
        "INSERT INTO stock_levels (branch_id, product_id, count_milli, delta_milli, on_hand_milli, \
         updated_at, reorder_level_milli) SELECT $1, id, 0, 0, 0, $2, reorder_level_milli \
         FROM products WHERE reorder_level_milli IS NOT NULL \
         ON CONFLICT (branch_id, product_id) DO NOTHING",
    )
    .bind(branch.as_uuid())
    .bind(now.as_millis())
    .execute(connection)
    .await?;
    Ok(())
}

/// Locks the level rows of `keys` (which exist) in key order and returns each one's latest count
/// position (occurred_at, movement id), if it has been counted.
async fn lock_levels<B: Backend>(
    connection: &mut Conn<B>,
    keys: &BTreeSet<LevelKey>,
) -> StoreResult<HashMap<LevelKey, (i64, uuid::Uuid)>> {
    let mut by_branch: BTreeMap<BranchId, Vec<ProductId>> = BTreeMap::new();
    for (branch, product) in keys {
        by_branch.entry(*branch).or_default().push(*product);
    }
    let mut counted = HashMap::new();
    for (branch, products) in by_branch {
        for chunk in products.chunks(rows_per_statement(1) - 1) {
            let sql = format!(
                "SELECT product_id, count_occurred_at, count_movement_id FROM stock_levels \
                 WHERE branch_id = $1 AND product_id IN ({}) ORDER BY product_id{}",
                placeholders(chunk.len(), 2),
                B::LOCK_ROWS
            );
            let mut statement = query::<B>(&sql).bind(branch.as_uuid());
            for product in chunk {
                statement = statement.bind(product.as_uuid());
            }
            for row in statement.fetch_all(connection).await? {
                let at: Option<i64> = row.field("count_occurred_at")?;
                let id: Option<uuid::Uuid> = row.field("count_movement_id")?;
                if let (Some(at), Some(id)) = (at, id) {
                    let product = ProductId::from_uuid(row.field("product_id")?);
                    counted.insert((branch, product), (at, id));
                }
            }
        }
    }
    Ok(counted)
}

/// Whether a movement at (occurred_at, id) comes after the latest count (if any) in ledger
/// order: only then does it change on-hand, since the count already saw what came before.
fn after_latest_count(
    counted: &HashMap<LevelKey, (i64, uuid::Uuid)>,
    movement: &NewMovement,
) -> bool {
    counted
        .get(&(movement.branch, movement.product))
        .is_none_or(|latest| (movement.occurred_at.as_millis(), movement.id.as_uuid()) > *latest)
}

/// Brings on-hand up to date for movements that are not counts, set-based: each level gets the
/// sum of its movements ordered after its latest count.
pub(crate) async fn add_to_levels<B: Backend>(
    connection: &mut Conn<B>,
    movements: &[&NewMovement],
) -> StoreResult<()> {
    let Some(now) = movements.iter().map(|movement| movement.recorded_at).max() else {
        return Ok(());
    };
    let keys: BTreeSet<_> = movements
        .iter()
        .map(|movement| (movement.branch, movement.product))
        .collect();
    ensure_levels::<B>(connection, &keys, now).await?;
    let counted = lock_levels::<B>(connection, &keys).await?;
    let mut deltas: BTreeMap<LevelKey, i64> = BTreeMap::new();
    for movement in movements {
        debug_assert!(movement.kind != MovementKind::Count);
        if after_latest_count(&counted, movement) {
            let delta = deltas
                .entry((movement.branch, movement.product))
                .or_default();
            *delta = delta.saturating_add(movement.quantity.milli());
        }
    }
    // Every row exists by now: the insert is only the multi-row form of an update.
    let mut rows = Rows::new(
        "stock_levels",
        &[
            "branch_id",
            "product_id",
            "count_milli",
            "delta_milli",
            "on_hand_milli",
            "updated_at",
        ],
    );
    for ((branch, product), delta) in deltas {
        rows.push([
            branch.as_uuid().into(),
            product.as_uuid().into(),
            0_i64.into(),
            delta.into(),
            delta.into(),
            now.as_millis().into(),
        ]);
    }
    rows.insert::<B>(
        connection,
        "ON CONFLICT (branch_id, product_id) DO UPDATE SET \
         delta_milli = stock_levels.delta_milli + excluded.delta_milli, \
         on_hand_milli = stock_levels.on_hand_milli + excluded.on_hand_milli, \
         updated_at = excluded.updated_at",
    )
    .await?;
    Ok(())
}

/// Writes movements and brings on-hand up to date: `movements` are never counts (see
/// `apply_movement` for those).
pub(crate) async fn record_movements<B: Backend>(
    connection: &mut Conn<B>,
    movements: &[NewMovement],
) -> StoreResult<()> {
    let fresh = insert_movements::<B>(connection, movements).await?;
    add_to_levels::<B>(connection, &fresh).await
}

/// Writes one ledger row and brings the branch's on-hand for the product up to date. A new
/// latest count re-sums only the movements after it, never the whole ledger.
async fn apply_movement<B: Backend>(
    connection: &mut Conn<B>,
    movement: &NewMovement,
) -> StoreResult<StockLevel> {
    if movement.kind != MovementKind::Count {
        record_movements::<B>(connection, std::slice::from_ref(movement)).await?;
        return read_level::<B>(connection, movement.branch, movement.product).await;
    }
    if insert_movements::<B>(connection, std::slice::from_ref(movement))
        .await?
        .is_empty()
    {
        return read_level::<B>(connection, movement.branch, movement.product).await;
    }
    let key = BTreeSet::from([(movement.branch, movement.product)]);
    ensure_levels::<B>(connection, &key, movement.recorded_at).await?;
    let counted = lock_levels::<B>(connection, &key).await?;
    // A count ordered before the latest count changes nothing.
    if after_latest_count(&counted, movement) {
        let delta: i64 = query::<B>(
            "SELECT CAST(COALESCE(SUM(quantity_milli), 0) AS BIGINT) FROM stock_movements \
             WHERE branch_id = $1 AND product_id = $2 AND kind <> 'count' \
             AND (occurred_at > $3 OR (occurred_at = $3 AND id > $4))",
        )
        .bind(movement.branch.as_uuid())
        .bind(movement.product.as_uuid())
        .bind(movement.occurred_at.as_millis())
        .bind(movement.id.as_uuid())
        .scalar(connection)
        .await?;
        query::<B>(
            "UPDATE stock_levels SET count_occurred_at = $3, count_movement_id = $4, count_milli = $5, \
             delta_milli = $6, on_hand_milli = $5 + $6, updated_at = $7 \
             WHERE branch_id = $1 AND product_id = $2",
        )
        .bind(movement.branch.as_uuid())
        .bind(movement.product.as_uuid())
        .bind(movement.occurred_at.as_millis())
        .bind(movement.id.as_uuid())
        .bind(movement.quantity.milli())
        .bind(delta)
        .bind(movement.recorded_at.as_millis())
        .execute(connection)
        .await?;
    }
    read_level::<B>(connection, movement.branch, movement.product).await
}

const LEVEL_COLUMNS: &str = "branch_id, product_id, on_hand_milli, count_occurred_at";

fn level_from_row<R: RowExt>(row: &R) -> sqlx::Result<StockLevel>
where
    R::Database: Backend,
{
    Ok(StockLevel {
        branch_id: BranchId::from_uuid(row.field("branch_id")?),
        product_id: ProductId::from_uuid(row.field("product_id")?),
        on_hand: Quantity::from_milli(row.field("on_hand_milli")?),
        last_count_at: row
            .field::<Option<i64>>("count_occurred_at")?
            .map(UnixMillis::from_millis),
    })
}

async fn read_level<B: Backend>(
    connection: &mut Conn<B>,
    branch: BranchId,
    product: ProductId,
) -> StoreResult<StockLevel> {
    let sql = format!(
        "SELECT {LEVEL_COLUMNS} FROM stock_levels WHERE branch_id = $1 AND product_id = $2"
    );
    let row = query::<B>(&sql)
        .bind(branch.as_uuid())
        .bind(product.as_uuid())
        .fetch_one(connection)
        .await?;
    Ok(level_from_row(&row)?)
}

async fn transfer<B: Backend>(connection: &mut Conn<B>, transfer: &NewTransfer) -> StoreResult<()> {
    check_branch_open::<B>(connection, transfer.from).await?;
    check_branch_open::<B>(connection, transfer.to).await?;
    let inserted = query::<B>(
        "INSERT INTO stock_transfers (id, from_branch_id, to_branch_id, actor_id, occurred_at, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(transfer.id.as_uuid())
    .bind(transfer.from.as_uuid())
    .bind(transfer.to.as_uuid())
    .bind(transfer.actor.as_uuid())
    .bind(transfer.occurred_at.as_millis())
    .bind(transfer.recorded_at.as_millis())
    .execute(connection)
    .await?;
    if inserted == 0 {
        // A retried transfer: it was recorded, whole, the first time.
        return Ok(());
    }
    let mut sides = Vec::with_capacity(transfer.lines.len() * 2);
    for (product, quantity) in &transfer.lines {
        check_product_exists::<B>(connection, *product).await?;
        let out = quantity
            .checked_neg()
            .ok_or(StoreError::Refused("quantity out of range".into()))?;
        sides.push((transfer.from, *product, MovementKind::TransferOut, out));
        sides.push((transfer.to, *product, MovementKind::TransferIn, *quantity));
    }
    // Level rows are locked in (branch, product) order, so opposite transfers cannot deadlock.
    sides.sort_by_key(|(branch, product, _, _)| (*branch, *product));
    let movements: Vec<NewMovement> = sides
        .into_iter()
        .map(|(branch, product, kind, change)| NewMovement {
            id: MovementId::generate(transfer.recorded_at),
            branch,
            product,
            kind,
            quantity: change,
            reason: None,
            source: Some(transfer.id.as_uuid()),
            actor: Some(transfer.actor),
            occurred_at: transfer.occurred_at,
            recorded_at: transfer.recorded_at,
        })
        .collect();
    record_movements::<B>(connection, &movements).await
}

async fn ledger<B: Backend>(
    connection: &mut Conn<B>,
    branch: BranchId,
    product: ProductId,
) -> StoreResult<Vec<Movement>> {
    let rows = query::<B>(
        "SELECT id, branch_id, product_id, kind, quantity_milli, reason, occurred_at, source_id \
         FROM stock_movements WHERE branch_id = $1 AND product_id = $2 ORDER BY occurred_at, id",
    )
    .bind(branch.as_uuid())
    .bind(product.as_uuid())
    .fetch_all(connection)
    .await?;
    let mut movements = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind: String = row.field("kind")?;
        movements.push(Movement {
            id: MovementId::from_uuid(row.field("id")?),
            branch_id: BranchId::from_uuid(row.field("branch_id")?),
            product_id: ProductId::from_uuid(row.field("product_id")?),
            kind: MovementKind::parse(&kind)
                .ok_or_else(|| sqlx::Error::Decode(format!("bad kind {kind}").into()))?,
            quantity: Quantity::from_milli(row.field("quantity_milli")?),
            reason: row.field("reason")?,
            occurred_at: UnixMillis::from_millis(row.field("occurred_at")?),
            source_id: row.field("source_id")?,
        });
    }
    Ok(movements)
}

/// Where a page of alerts starts: after this alert, in (on-hand, SKU, branch) order, the worst
/// first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertPosition {
    pub on_hand_milli: i64,
    pub sku: String,
    pub branch_id: BranchId,
}

impl AlertPosition {
    /// The cursor as text (`on_hand:branch:sku`; SKUs hold no colon).
    pub fn encode(&self) -> String {
        format!(
            "{}:{}:{}",
            self.on_hand_milli,
            self.branch_id.as_uuid(),
            self.sku
        )
    }

    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, ':');
        Some(Self {
            on_hand_milli: parts.next()?.parse().ok()?,
            branch_id: BranchId::from_uuid(parts.next()?.parse().ok()?),
            sku: parts.next()?.to_owned(),
        })
    }
}

/// Which alerts to list.
#[derive(Clone, Debug)]
pub struct AlertQuery {
    /// Only negative on-hand (the reconciliation alerts); otherwise low stock too.
    pub negative_only: bool,
    /// These branches only; all when `None`.
    pub branches: Option<Vec<BranchId>>,
    pub after: Option<AlertPosition>,
    pub limit: u32,
}

/// Negative on-hand: the reconciliation alerts.
const NEGATIVE_LEVELS: &str = "SELECT stock_levels.branch_id, stock_levels.product_id, products.sku, \
     products.name, stock_levels.on_hand_milli, products.reorder_level_milli \
     FROM stock_levels JOIN products ON products.id = stock_levels.product_id \
     JOIN branches ON branches.id = stock_levels.branch_id \
     WHERE products.archived_at IS NULL AND branches.archived_at IS NULL AND stock_levels.on_hand_milli < 0";

/// Every open branch's products at or below their reorder level, those never stocked there
/// included (they have a level row at zero: see [`follow_reorder_levels`]). The conditions on
/// `stock_levels` are those of its partial index `stock_levels_low`, word for word, so that
/// both backends read only the low rows.
const LOW_LEVELS: &str = "SELECT stock_levels.branch_id, stock_levels.product_id, products.sku, \
     products.name, stock_levels.on_hand_milli, stock_levels.reorder_level_milli \
     FROM stock_levels JOIN products ON products.id = stock_levels.product_id \
     JOIN branches ON branches.id = stock_levels.branch_id \
     WHERE products.archived_at IS NULL AND branches.archived_at IS NULL \
     AND stock_levels.reorder_level_milli IS NOT NULL AND stock_levels.on_hand_milli >= 0 \
     AND stock_levels.on_hand_milli <= stock_levels.reorder_level_milli";

async fn count_levels<B: Backend>(
    connection: &mut Conn<B>,
    source: &str,
    branches: Option<&[BranchId]>,
) -> StoreResult<u64> {
    let filter = match branches {
        Some(branches) => format!(" WHERE branch_id IN ({})", placeholders(branches.len(), 1)),
        None => String::new(),
    };
    let sql = format!("SELECT COUNT(*) FROM ({source}) AS levels{filter}");
    let mut statement = query::<B>(&sql);
    for branch in branches.into_iter().flatten() {
        statement = statement.bind(branch.as_uuid());
    }
    let count: i64 = statement.scalar(connection).await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

async fn alerts<B: Backend>(
    connection: &mut Conn<B>,
    wanted: &AlertQuery,
) -> StoreResult<Vec<StockAlert>> {
    if wanted.branches.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let source = if wanted.negative_only {
        NEGATIVE_LEVELS.to_owned()
    } else {
        format!("{NEGATIVE_LEVELS} UNION ALL {LOW_LEVELS}")
    };
    let mut conditions = vec!["1 = 1".to_owned()];
    let mut next = 1;
    if let Some(branches) = &wanted.branches {
        conditions.push(format!(
            "branch_id IN ({})",
            placeholders(branches.len(), next)
        ));
        next += branches.len();
    }
    if wanted.after.is_some() {
        let (on_hand, sku, branch) = (next, next + 1, next + 2);
        conditions.push(format!(
            "(on_hand_milli > ${on_hand} OR (on_hand_milli = ${on_hand} AND sku > ${sku}) \
             OR (on_hand_milli = ${on_hand} AND sku = ${sku} AND branch_id > ${branch}))"
        ));
        next += 3;
    }
    let sql = format!(
        "SELECT branch_id, product_id, sku, name, on_hand_milli, reorder_level_milli \
         FROM ({source}) AS alerts WHERE {} ORDER BY on_hand_milli, sku, branch_id LIMIT ${next}",
        conditions.join(" AND ")
    );
    let mut statement = query::<B>(&sql);
    for branch in wanted.branches.iter().flatten() {
        statement = statement.bind(branch.as_uuid());
    }
    if let Some(after) = &wanted.after {
        statement = statement
            .bind(after.on_hand_milli)
            .bind(after.sku.as_str())
            .bind(after.branch_id.as_uuid());
    }
    let rows = statement
        .bind(i64::from(wanted.limit))
        .fetch_all(connection)
        .await?;
    let mut alerts = Vec::with_capacity(rows.len());
    for row in &rows {
        alerts.push(StockAlert {
            branch_id: BranchId::from_uuid(row.field("branch_id")?),
            product_id: ProductId::from_uuid(row.field("product_id")?),
            sku: row.field("sku")?,
            name: row.field("name")?,
            on_hand: Quantity::from_milli(row.field("on_hand_milli")?),
            reorder_level: row
                .field::<Option<i64>>("reorder_level_milli")?
                .map(Quantity::from_milli),
        });
    }
    Ok(alerts)
}

#[async_trait]
impl<S: TenantAccess> StockStore for S {
    async fn record_movement(
        &self,
        tenant: TenantId,
        movement: NewMovement,
    ) -> StoreResult<StockLevel> {
        with_tenant(self, tenant, async |connection| {
            check_branch_open::<S::Db>(connection, movement.branch).await?;
            check_product_exists::<S::Db>(connection, movement.product).await?;
            apply_movement::<S::Db>(connection, &movement).await
        })
        .await
    }

    async fn record_transfer(&self, tenant: TenantId, new: NewTransfer) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            transfer::<S::Db>(connection, &new).await
        })
        .await
    }

    async fn stock_levels(
        &self,
        tenant: TenantId,
        branch: BranchId,
        after: Option<ProductId>,
        limit: u32,
    ) -> StoreResult<Vec<StockLevel>> {
        with_tenant(self, tenant, async |connection| {
            let sql = format!(
                "SELECT {LEVEL_COLUMNS} FROM stock_levels WHERE branch_id = $1 \
                 AND ($2 IS NULL OR product_id > $2) ORDER BY product_id LIMIT $3"
            );
            let rows = query::<S::Db>(&sql)
                .bind(branch.as_uuid())
                .bind(after.map(|product| product.as_uuid()))
                .bind(i64::from(limit))
                .fetch_all(connection)
                .await?;
            Ok(rows.iter().map(level_from_row).collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn levels_of(
        &self,
        tenant: TenantId,
        branch: BranchId,
        products: &[ProductId],
    ) -> StoreResult<Vec<StockLevel>> {
        if products.is_empty() {
            return Ok(Vec::new());
        }
        with_tenant(self, tenant, async |connection| {
            let sql = format!(
                "SELECT {LEVEL_COLUMNS} FROM stock_levels WHERE branch_id = $1 \
                 AND product_id IN ({})",
                placeholders(products.len(), 2)
            );
            let mut statement = query::<S::Db>(&sql).bind(branch.as_uuid());
            for product in products {
                statement = statement.bind(product.as_uuid());
            }
            let rows = statement.fetch_all(connection).await?;
            Ok(rows.iter().map(level_from_row).collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn movements(
        &self,
        tenant: TenantId,
        branch: BranchId,
        product: ProductId,
    ) -> StoreResult<Vec<Movement>> {
        with_tenant(self, tenant, async |connection| {
            ledger::<S::Db>(connection, branch, product).await
        })
        .await
    }

    async fn stock_alerts(
        &self,
        tenant: TenantId,
        wanted: &AlertQuery,
    ) -> StoreResult<Vec<StockAlert>> {
        with_tenant(self, tenant, async |connection| {
            alerts::<S::Db>(connection, wanted).await
        })
        .await
    }

    async fn alert_counts(
        &self,
        tenant: TenantId,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<(u64, u64)> {
        if branches.is_some_and(<[BranchId]>::is_empty) {
            return Ok((0, 0));
        }
        with_tenant(self, tenant, async |connection| {
            let low = count_levels::<S::Db>(connection, LOW_LEVELS, branches).await?;
            let negative = count_levels::<S::Db>(connection, NEGATIVE_LEVELS, branches).await?;
            Ok((low, negative))
        })
        .await
    }
}
