//! Sales of one tenant, with refunds and voids as new records that refer to them. A sale is
//! written with its lines, levies, tenders, stock movements and report rollups in one
//! transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use nexus_domain::ids::{MovementId, ProductId, SaleId};
use nexus_domain::{BranchId, PriceList, Quantity, TenantId, UnixMillis, UserId};

use super::branches::check_branch_open;
use super::catalogue::{check_product_exists, cost_histories, existing_products};
use super::changes::{PendingChange, log_changes};
use super::exceptions::{SaleException, exceptions_page, insert_exceptions};
use super::reports::add_to_rollups;
use super::stock::{add_to_levels, write_movements};
use super::{TenantAccess, with_tenant};
use crate::retail::{
    MovementKind, NewMovement, NewReturn, PackSold, Sale, SaleHead, SaleKind, SaleLine, Tender,
    TenderKind, levy_totals,
};
use crate::sql::{
    Backend, Conn, RowExt, Rows, parse_column, placeholders, query, rows_per_statement,
};
use crate::{StoreError, StoreResult};

#[async_trait]
pub trait SalesStore: Send + Sync + 'static {
    /// Records a finished sale with its stock movements and rollups in one transaction.
    /// Idempotent on the sale id: a second call writes nothing and returns the original with
    /// `false`.
    async fn record_sale(
        &self,
        tenant: TenantId,
        sale: &Sale,
        local_day: i32,
    ) -> StoreResult<(Sale, bool)>;
    /// Records many finished sales in one transaction, set-based (a few multi-row statements
    /// however many sales): what a station's push of many sales costs. Returns, per sale,
    /// whether it was created; `false` when its id was already recorded, and nothing is written
    /// for it. An unknown or archived branch, or an unknown product, refuses the whole call.
    ///
    /// `exceptions` flag some of these sales (beyond the named staff member's rights); they are
    /// written with the sales they refer to, in the same transaction.
    async fn record_sales(
        &self,
        tenant: TenantId,
        sales: &[(Sale, i32)],
        exceptions: &[SaleException],
    ) -> StoreResult<Vec<bool>>;
    /// The sale exceptions, newest first; `before` pages by (detected_at, id).
    async fn list_sale_exceptions(
        &self,
        tenant: TenantId,
        before: Option<(UnixMillis, uuid::Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<SaleException>>;
    /// What recording a sale reads, in one transaction: the sale if its id is recorded already,
    /// the settings it is priced with, and those of `products` that exist.
    async fn sale_inputs(
        &self,
        tenant: TenantId,
        sale: SaleId,
        products: &[ProductId],
    ) -> StoreResult<SaleInputs>;
    /// The kind and branch of those of `sales` that are recorded, in no particular order.
    async fn sale_heads(&self, tenant: TenantId, sales: &[SaleId]) -> StoreResult<Vec<SaleHead>>;
    /// What recording a batch of sales from a till reads, in one transaction: see
    /// [`BatchInputs`]. One transaction, not five, because a push pays for each.
    async fn batch_inputs(
        &self,
        tenant: TenantId,
        sales: &[SaleId],
        products: &[ProductId],
        customers: &[uuid::Uuid],
    ) -> StoreResult<BatchInputs>;
    async fn get_sale(&self, tenant: TenantId, sale: SaleId) -> StoreResult<Option<Sale>>;
    /// A refund or void of a sale, priced from the sale's own lines and checked against what
    /// was already returned, in one transaction. Idempotent on the return's id.
    async fn record_return(
        &self,
        tenant: TenantId,
        request: NewReturn,
    ) -> StoreResult<(Sale, bool)>;
}

/// See [`SalesStore::sale_inputs`].
pub struct SaleInputs {
    pub existing: Option<Sale>,
    pub settings: crate::retail::TenantSettings,
    pub products: Vec<crate::retail::Product>,
}

/// See [`SalesStore::batch_inputs`].
pub struct BatchInputs {
    /// Those of the sales that are recorded already.
    pub recorded: Vec<SaleHead>,
    pub settings: crate::retail::TenantSettings,
    /// Those of the products that exist.
    pub products: Vec<crate::retail::Product>,
    /// Those of the customers that exist.
    pub customers: Vec<super::customers::CustomerRecord>,
    /// What each of the customers owes (those who owe nothing are left out).
    pub balances: HashMap<uuid::Uuid, i64>,
}

/// What recording sales leaves to the end of its transaction: the writes to rows that every
/// other sale of the tenant or branch writes too (the stock levels of the products sold, the
/// day's report rollups, and the change log's one counter row). A row lock is held until
/// commit, so a writer that took one early would make every concurrent sale of the tenant wait
/// for all its other statements; taken last, they are held for a few statements. They are
/// applied in one order, levels then rollups then the change log, so writers never deadlock.
#[must_use = "the shared writes must be applied before the transaction commits"]
pub(crate) struct SharedWrites<'s> {
    sales: Vec<(&'s Sale, i32)>,
    costs: Vec<LineCost>,
    movements: Vec<NewMovement>,
    changes: Vec<PendingChange>,
}

impl SharedWrites<'_> {
    pub(crate) async fn apply<B: Backend>(self, connection: &mut Conn<B>) -> StoreResult<()> {
        let movements: Vec<&NewMovement> = self.movements.iter().collect();
        add_to_levels::<B>(connection, &movements).await?;
        add_to_rollups::<B>(connection, &self.sales, &self.costs).await?;
        log_changes::<B>(connection, &self.changes).await
    }
}

/// Inserts sale records with their lines, levies, tenders, ledger movements and account
/// entries, set-based: a few multi-row statements however many sales there are. Returns, per
/// sale, whether it was written (`false` when a sale with its id already existed, or came
/// earlier in `sales`, and nothing is written for it), and the [`SharedWrites`] that the
/// caller must apply before it commits, after whatever else it reads or writes.
pub(crate) async fn write_sales<'s, B: Backend>(
    connection: &mut Conn<B>,
    sales: &[(&'s Sale, i32)],
) -> StoreResult<(Vec<bool>, SharedWrites<'s>)> {
    let mut rows = Rows::new("sales", SALE_INSERT_COLUMNS);
    for (sale, local_day) in sales {
        rows.push([
            sale.id.as_uuid().into(),
            sale.kind.as_str().into(),
            sale.refers_to.map(|original| original.as_uuid()).into(),
            sale.branch_id.as_uuid().into(),
            sale.cashier_id.as_uuid().into(),
            sale.device_id.into(),
            sale.receipt_number.as_deref().into(),
            sale.shift_id.into(),
            sale.customer_id.into(),
            sale.currency.code().into(),
            sale.price_mode.as_str().into(),
            sale.gross_minor.into(),
            sale.discount_minor.into(),
            sale.net_minor.into(),
            sale.tax_minor.into(),
            sale.total_minor.into(),
            sale.tendered_minor.into(),
            sale.change_minor.into(),
            sale.reason.as_deref().into(),
            sale.occurred_at.as_millis().into(),
            (*local_day).into(),
            sale.recorded_at.as_millis().into(),
            sale.approved_by.map(|approver| approver.as_uuid()).into(),
            sale.price_list.as_str().into(),
        ]);
    }
    let mut written: HashSet<uuid::Uuid> = rows
        .insert_returning_ids::<B>(connection, "ON CONFLICT (id) DO NOTHING RETURNING id")
        .await?
        .into_iter()
        .collect();
    // `remove`, so that an id given twice counts once.
    let outcome: Vec<bool> = sales
        .iter()
        .map(|(sale, _)| written.remove(&sale.id.as_uuid()))
        .collect();
    let fresh: Vec<(&Sale, i32)> = sales
        .iter()
        .zip(&outcome)
        .filter(|(_, fresh)| **fresh)
        .map(|(sale, _)| *sale)
        .collect();
    if fresh.is_empty() {
        let nothing = SharedWrites {
            sales: Vec::new(),
            costs: Vec::new(),
            movements: Vec::new(),
            changes: Vec::new(),
        };
        return Ok((outcome, nothing));
    }
    let lines: Vec<(&Sale, &SaleLine)> = fresh
        .iter()
        .flat_map(|(sale, _)| sale.lines.iter().map(move |line| (*sale, line)))
        .collect();
    let costs = line_costs::<B>(connection, &lines).await?;
    insert_lines::<B>(connection, &lines, &costs).await?;
    insert_line_levies::<B>(connection, &lines).await?;
    insert_tenders::<B>(connection, &fresh).await?;
    let mut changes = super::accounts::write_sale_entries::<B>(connection, &fresh).await?;
    let movements = sale_movements(&fresh)?;
    let (written, movement_changes) = write_movements::<B>(connection, &movements).await?;
    changes.extend(movement_changes);
    let movements: Vec<NewMovement> = written.into_iter().cloned().collect();
    Ok((
        outcome,
        SharedWrites {
            sales: fresh,
            costs,
            movements,
            changes,
        },
    ))
}

/// The base units a line moves (a carton of 24 moves 24); quantities are checked before they
/// get here, so one that does not fit is kept as it is.
pub(crate) fn base_quantity(line: &SaleLine) -> Quantity {
    nexus_domain::pack::base_quantity(line.quantity, line.pack.as_ref()).unwrap_or(line.quantity)
}

/// What a line cost the shop: `(unit cost, line cost)`, `None` when unknown.
pub(crate) type LineCost = (Option<i64>, Option<i64>);

/// The cost of each of `lines`, in order. A sold line takes the unit cost in effect when its
/// sale was rung up, from the product's cost history, whatever the cost is now; a returned line
/// keeps what its price_return gave it, a share of the line it returns.
async fn line_costs<B: Backend>(
    connection: &mut Conn<B>,
    lines: &[(&Sale, &SaleLine)],
) -> StoreResult<Vec<LineCost>> {
    let mut sold: Vec<ProductId> = lines
        .iter()
        .filter(|(sale, _)| sale.kind == SaleKind::Sale)
        .map(|(_, line)| line.product_id)
        .collect();
    sold.sort();
    sold.dedup();
    let histories = cost_histories::<B>(connection, &sold).await?;
    Ok(lines
        .iter()
        .map(|(sale, line)| {
            if sale.kind != SaleKind::Sale {
                return (line.unit_cost_minor, line.cost_minor);
            }
            let unit = histories
                .get(&line.product_id)
                .and_then(|history| history.at(sale.occurred_at));
            let moved = base_quantity(line);
            (
                unit,
                unit.map(|unit| nexus_domain::cost::line_cost(unit, moved)),
            )
        })
        .collect())
}

async fn insert_lines<B: Backend>(
    connection: &mut Conn<B>,
    lines: &[(&Sale, &SaleLine)],
    costs: &[LineCost],
) -> StoreResult<()> {
    let mut rows = Rows::new(
        "sale_lines",
        &[
            "sale_id",
            "line_no",
            "product_id",
            "sku",
            "name",
            "tax_class",
            "quantity_milli",
            "unit_price_minor",
            "gross_minor",
            "discount_minor",
            "net_minor",
            "tax_minor",
            "total_minor",
            "refers_to_line",
            "unit_cost_minor",
            "cost_minor",
            "pack_name",
            "pack_units",
        ],
    );
    for ((sale, line), (unit_cost, cost)) in lines.iter().zip(costs) {
        rows.push([
            sale.id.as_uuid().into(),
            line.line_no.into(),
            line.product_id.as_uuid().into(),
            line.sku.as_str().into(),
            line.name.as_str().into(),
            line.tax_class.as_str().into(),
            line.quantity.milli().into(),
            line.unit_price_minor.into(),
            line.gross_minor.into(),
            line.discount_minor.into(),
            line.net_minor.into(),
            line.tax_minor.into(),
            line.total_minor.into(),
            line.refers_to_line.into(),
            (*unit_cost).into(),
            (*cost).into(),
            line.pack.as_ref().map(|pack| pack.name.as_str()).into(),
            line.pack
                .as_ref()
                .map(|pack| i32::try_from(pack.units).unwrap_or(i32::MAX))
                .into(),
        ]);
    }
    rows.insert::<B>(connection, "").await?;
    Ok(())
}

async fn insert_line_levies<B: Backend>(
    connection: &mut Conn<B>,
    lines: &[(&Sale, &SaleLine)],
) -> StoreResult<()> {
    let mut rows = Rows::new(
        "sale_levies",
        &["sale_id", "line_no", "code", "amount_minor"],
    );
    for (sale, line) in lines {
        for (code, amount) in &line.levies {
            rows.push([
                sale.id.as_uuid().into(),
                line.line_no.into(),
                code.as_str().into(),
                (*amount).into(),
            ]);
        }
    }
    rows.insert::<B>(connection, "").await?;
    Ok(())
}

async fn insert_tenders<B: Backend>(
    connection: &mut Conn<B>,
    sales: &[(&Sale, i32)],
) -> StoreResult<()> {
    let mut rows = Rows::new(
        "sale_tenders",
        &[
            "sale_id",
            "position",
            "kind",
            "amount_minor",
            "network",
            "phone",
            "reference",
            "verified",
        ],
    );
    for (sale, _) in sales {
        for (position, tender) in sale.tenders.iter().enumerate() {
            let verified = match (&tender.network, &tender.reference) {
                (Some(network), Some(reference))
                    if tender.kind == TenderKind::Momo && !tender.verified =>
                {
                    super::momo_requests::claim_paid_request::<B>(
                        connection,
                        sale.id.as_uuid(),
                        network,
                        reference,
                        tender.amount_minor,
                    )
                    .await?
                }
                _ => tender.verified,
            };
            rows.push([
                sale.id.as_uuid().into(),
                i32::try_from(position).unwrap_or(i32::MAX).into(),
                tender.kind.as_str().into(),
                tender.amount_minor.into(),
                tender.network.as_deref().into(),
                tender.phone.as_deref().into(),
                tender.reference.as_deref().into(),
                verified.into(),
            ]);
        }
    }
    rows.insert::<B>(connection, "").await?;
    Ok(())
}

/// The ledger movements of sales: a sale takes goods out (its quantities are positive), a
/// return puts them back (its quantities are negative), so the change is minus the line
/// quantity. Each sale's movements are in product order, whatever the order of its lines.
fn sale_movements(sales: &[(&Sale, i32)]) -> StoreResult<Vec<NewMovement>> {
    let mut movements = Vec::new();
    for (sale, _) in sales {
        let kind = if sale.kind == SaleKind::Sale {
            MovementKind::Sale
        } else {
            MovementKind::Refund
        };
        let first = movements.len();
        for line in &sale.lines {
            let change = nexus_domain::pack::base_quantity(line.quantity, line.pack.as_ref())
                .and_then(Quantity::checked_neg)
                .ok_or(StoreError::Refused("quantity out of range".into()))?;
            movements.push(NewMovement {
                id: MovementId::generate(sale.recorded_at),
                branch: sale.branch_id,
                product: line.product_id,
                kind,
                quantity: change,
                reason: None,
                source: Some(sale.id.as_uuid()),
                actor: Some(sale.cashier_id),
                occurred_at: sale.occurred_at,
                recorded_at: sale.recorded_at,
            });
        }
        movements[first..].sort_by_key(|movement| movement.product);
    }
    Ok(movements)
}

const SALE_INSERT_COLUMNS: &[&str] = &[
    "id",
    "kind",
    "refers_to",
    "branch_id",
    "cashier_id",
    "device_id",
    "receipt_number",
    "shift_id",
    "customer_id",
    "currency",
    "price_mode",
    "gross_minor",
    "discount_minor",
    "net_minor",
    "tax_minor",
    "total_minor",
    "tendered_minor",
    "change_minor",
    "reason",
    "occurred_at",
    "local_day",
    "recorded_at",
    "approved_by",
    "price_list",
];

const SALE_COLUMNS: &str = "id, kind, refers_to, branch_id, cashier_id, device_id, receipt_number, \
     shift_id, customer_id, currency, price_mode, gross_minor, discount_minor, net_minor, tax_minor, \
     total_minor, tendered_minor, change_minor, reason, occurred_at, recorded_at, approved_by, \
     price_list";

pub(crate) async fn read_sale<B: Backend>(
    connection: &mut Conn<B>,
    id: SaleId,
) -> StoreResult<Option<Sale>> {
    let sql = format!("SELECT {SALE_COLUMNS} FROM sales WHERE id = $1");
    let Some(row) = query::<B>(&sql)
        .bind(id.as_uuid())
        .fetch_optional(connection)
        .await?
    else {
        return Ok(None);
    };
    let kind: String = row.field("kind")?;
    let currency: String = row.field("currency")?;
    let price_mode: String = row.field("price_mode")?;
    let price_list: String = row.field("price_list")?;
    let lines = read_lines::<B>(connection, id).await?;
    let levies = levy_totals(&lines);
    let tenders = read_tenders::<B>(connection, id).await?;
    Ok(Some(Sale {
        id,
        kind: parse_column(&kind, "sale kind")?,
        refers_to: row
            .field::<Option<uuid::Uuid>>("refers_to")?
            .map(SaleId::from_uuid),
        branch_id: BranchId::from_uuid(row.field("branch_id")?),
        cashier_id: UserId::from_uuid(row.field("cashier_id")?),
        device_id: row.field("device_id")?,
        receipt_number: row.field("receipt_number")?,
        shift_id: row.field("shift_id")?,
        customer_id: row.field("customer_id")?,
        currency: parse_column(&currency, "currency")?,
        price_mode: parse_column(&price_mode, "price mode")?,
        price_list: PriceList::parse(&price_list)
            .ok_or_else(|| sqlx::Error::Decode(format!("bad price list: {price_list:?}").into()))?,
        gross_minor: row.field("gross_minor")?,
        discount_minor: row.field("discount_minor")?,
        net_minor: row.field("net_minor")?,
        tax_minor: row.field("tax_minor")?,
        total_minor: row.field("total_minor")?,
        levies,
        tendered_minor: row.field("tendered_minor")?,
        change_minor: row.field("change_minor")?,
        reason: row.field("reason")?,
        approved_by: row
            .field::<Option<uuid::Uuid>>("approved_by")?
            .map(UserId::from_uuid),
        occurred_at: UnixMillis::from_millis(row.field("occurred_at")?),
        recorded_at: UnixMillis::from_millis(row.field("recorded_at")?),
        lines,
        tenders,
    }))
}

async fn read_lines<B: Backend>(
    connection: &mut Conn<B>,
    sale: SaleId,
) -> StoreResult<Vec<SaleLine>> {
    let line_rows = query::<B>(
        "SELECT line_no, product_id, sku, name, tax_class, quantity_milli, unit_price_minor, gross_minor, \
         discount_minor, net_minor, tax_minor, total_minor, refers_to_line, unit_cost_minor, \
         cost_minor, pack_name, pack_units FROM sale_lines WHERE sale_id = $1 ORDER BY line_no",
    )
    .bind(sale.as_uuid())
    .fetch_all(connection)
    .await?;
    let levy_rows = query::<B>(
        "SELECT sale_levies.line_no, sale_levies.code, sale_levies.amount_minor FROM sale_levies \
         LEFT JOIN tax_levies ON tax_levies.code = sale_levies.code WHERE sale_levies.sale_id = $1 \
         ORDER BY sale_levies.line_no, COALESCE(tax_levies.position, 1000), sale_levies.code",
    )
    .bind(sale.as_uuid())
    .fetch_all(connection)
    .await?;
    let mut levies_of: HashMap<i32, Vec<(String, i64)>> = HashMap::new();
    for levy in &levy_rows {
        levies_of
            .entry(levy.field("line_no")?)
            .or_default()
            .push((levy.field("code")?, levy.field("amount_minor")?));
    }
    let mut lines = Vec::with_capacity(line_rows.len());
    for line in &line_rows {
        let tax_class: String = line.field("tax_class")?;
        let line_no: i32 = line.field("line_no")?;
        lines.push(SaleLine {
            line_no,
            product_id: ProductId::from_uuid(line.field("product_id")?),
            sku: line.field("sku")?,
            name: line.field("name")?,
            tax_class: parse_column(&tax_class, "tax class")?,
            quantity: Quantity::from_milli(line.field("quantity_milli")?),
            unit_price_minor: line.field("unit_price_minor")?,
            gross_minor: line.field("gross_minor")?,
            discount_minor: line.field("discount_minor")?,
            net_minor: line.field("net_minor")?,
            tax_minor: line.field("tax_minor")?,
            total_minor: line.field("total_minor")?,
            levies: levies_of.remove(&line_no).unwrap_or_default(),
            refers_to_line: line.field("refers_to_line")?,
            pack: pack_of(line.field("pack_name")?, line.field("pack_units")?),
            unit_cost_minor: line.field("unit_cost_minor")?,
            cost_minor: line.field("cost_minor")?,
        });
    }
    Ok(lines)
}

/// A stored line's pack: both columns or neither.
fn pack_of(name: Option<String>, units: Option<i32>) -> Option<PackSold> {
    match (name, units.and_then(|units| u32::try_from(units).ok())) {
        (Some(name), Some(units)) => Some(PackSold { name, units }),
        _ => None,
    }
}

async fn read_tenders<B: Backend>(
    connection: &mut Conn<B>,
    sale: SaleId,
) -> StoreResult<Vec<Tender>> {
    let rows = query::<B>(
        "SELECT kind, amount_minor, network, phone, reference, verified FROM sale_tenders \
         WHERE sale_id = $1 ORDER BY position",
    )
    .bind(sale.as_uuid())
    .fetch_all(connection)
    .await?;
    let mut tenders = Vec::with_capacity(rows.len());
    for tender in &rows {
        let kind: String = tender.field("kind")?;
        tenders.push(Tender {
            kind: tender_kind(&kind)?,
            amount_minor: tender.field("amount_minor")?,
            network: tender.field("network")?,
            phone: tender.field("phone")?,
            reference: tender.field("reference")?,
            verified: tender.field("verified")?,
        });
    }
    Ok(tenders)
}

/// What `record_sales` writes, inside a transaction the caller holds: a push also records its
/// ops in it.
pub(crate) async fn write_batch<B: Backend>(
    connection: &mut Conn<B>,
    sales: &[(Sale, i32)],
    exceptions: &[SaleException],
) -> StoreResult<Vec<bool>> {
    let (written, shared) = record_many::<B>(connection, sales).await?;
    let created: HashSet<SaleId> = sales
        .iter()
        .zip(&written)
        .filter(|(_, created)| **created)
        .map(|((sale, _), _)| sale.id)
        .collect();
    insert_exceptions::<B>(connection, exceptions, &created).await?;
    shared.apply::<B>(connection).await?;
    Ok(written)
}

async fn record_many<'s, B: Backend>(
    connection: &mut Conn<B>,
    sales: &'s [(Sale, i32)],
) -> StoreResult<(Vec<bool>, SharedWrites<'s>)> {
    let branches: BTreeSet<_> = sales.iter().map(|(sale, _)| sale.branch_id).collect();
    for branch in branches {
        check_branch_open::<B>(connection, branch).await?;
    }
    let mut products: Vec<ProductId> = sales
        .iter()
        .flat_map(|(sale, _)| sale.lines.iter().map(|line| line.product_id))
        .collect();
    products.sort();
    products.dedup();
    let known = existing_products::<B>(connection, &products).await?;
    if let Some(missing) = products.iter().find(|product| !known.contains(product)) {
        return Err(StoreError::UnknownProduct(*missing));
    }
    let borrowed: Vec<(&Sale, i32)> = sales.iter().map(|(sale, day)| (sale, *day)).collect();
    write_sales::<B>(connection, &borrowed).await
}

async fn heads<B: Backend>(
    connection: &mut Conn<B>,
    sales: &[SaleId],
) -> StoreResult<Vec<SaleHead>> {
    let mut heads = Vec::new();
    for chunk in sales.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT id, kind, branch_id FROM sales WHERE id IN ({})",
            placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for sale in chunk {
            statement = statement.bind(sale.as_uuid());
        }
        for row in statement.fetch_all(connection).await? {
            let kind: String = row.field("kind")?;
            heads.push(SaleHead {
                id: SaleId::from_uuid(row.field("id")?),
                kind: parse_column(&kind, "sale kind")?,
                branch_id: BranchId::from_uuid(row.field("branch_id")?),
            });
        }
    }
    Ok(heads)
}

/// A tender kind as stored.
pub(crate) fn tender_kind(text: &str) -> sqlx::Result<TenderKind> {
    TenderKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| sqlx::Error::Decode(format!("bad tender kind: {text:?}").into()))
}

#[async_trait]
impl<S: TenantAccess> SalesStore for S {
    async fn record_sale(
        &self,
        tenant: TenantId,
        sale: &Sale,
        local_day: i32,
    ) -> StoreResult<(Sale, bool)> {
        with_tenant(self, tenant, async |connection| {
            check_branch_open::<S::Db>(connection, sale.branch_id).await?;
            for line in &sale.lines {
                check_product_exists::<S::Db>(connection, line.product_id).await?;
            }
            let (created, shared) = write_sales::<S::Db>(connection, &[(sale, local_day)]).await?;
            let recorded = read_sale::<S::Db>(connection, sale.id)
                .await?
                .ok_or(StoreError::Refused("sale vanished".into()))?;
            shared.apply::<S::Db>(connection).await?;
            Ok((recorded, created[0]))
        })
        .await
    }

    async fn record_sales(
        &self,
        tenant: TenantId,
        sales: &[(Sale, i32)],
        exceptions: &[SaleException],
    ) -> StoreResult<Vec<bool>> {
        with_tenant(self, tenant, async |connection| {
            write_batch::<S::Db>(connection, sales, exceptions).await
        })
        .await
    }

    async fn list_sale_exceptions(
        &self,
        tenant: TenantId,
        before: Option<(UnixMillis, uuid::Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<SaleException>> {
        with_tenant(self, tenant, async |connection| {
            exceptions_page::<S::Db>(connection, before, limit).await
        })
        .await
    }

    async fn sale_inputs(
        &self,
        tenant: TenantId,
        sale: SaleId,
        products: &[ProductId],
    ) -> StoreResult<SaleInputs> {
        with_tenant(self, tenant, async |connection| {
            Ok(SaleInputs {
                existing: read_sale::<S::Db>(connection, sale).await?,
                settings: super::settings::read_settings::<S::Db>(connection).await?,
                products: super::catalogue::by_ids::<S::Db>(connection, products).await?,
            })
        })
        .await
    }

    async fn sale_heads(&self, tenant: TenantId, sales: &[SaleId]) -> StoreResult<Vec<SaleHead>> {
        with_tenant(self, tenant, async |connection| {
            heads::<S::Db>(connection, sales).await
        })
        .await
    }

    async fn batch_inputs(
        &self,
        tenant: TenantId,
        sales: &[SaleId],
        products: &[ProductId],
        customers: &[uuid::Uuid],
    ) -> StoreResult<BatchInputs> {
        with_tenant(self, tenant, async |connection| {
            let (found, balances) = if customers.is_empty() {
                (Vec::new(), HashMap::new())
            } else {
                (
                    super::customers::with_ids::<S::Db>(connection, customers).await?,
                    super::accounts::balances::<S::Db>(connection, customers).await?,
                )
            };
            Ok(BatchInputs {
                recorded: heads::<S::Db>(connection, sales).await?,
                settings: super::settings::read_settings::<S::Db>(connection).await?,
                products: super::catalogue::by_ids::<S::Db>(connection, products).await?,
                customers: found,
                balances,
            })
        })
        .await
    }

    async fn get_sale(&self, tenant: TenantId, sale: SaleId) -> StoreResult<Option<Sale>> {
        with_tenant(self, tenant, async |connection| {
            read_sale::<S::Db>(connection, sale).await
        })
        .await
    }

    async fn record_return(
        &self,
        tenant: TenantId,
        request: NewReturn,
    ) -> StoreResult<(Sale, bool)> {
        with_tenant(self, tenant, async |connection| {
            super::returns::record_return::<S::Db>(connection, &request).await
        })
        .await
    }
}
