//! Receipts as the back office looks them up: a filtered list paged newest first, a sale's
//! refunds and voids, and each cashier's returns over a period.

use std::collections::HashMap;

use async_trait::async_trait;
use nexus_domain::ids::SaleId;
use nexus_domain::{BranchId, TenantId, UnixMillis, UserId};

use super::sales::{read_sale, tender_kind};
use super::{TenantAccess, with_tenant};
use crate::StoreResult;
use crate::retail::{Sale, TenderKind};
use crate::sql::{Backend, Conn, RowExt, placeholders, query};

/// What the receipts list asks for. Only sales are listed; their refunds and voids show on
/// the sale.
#[derive(Clone, Debug, Default)]
pub struct ReceiptQuery {
    /// `None`: every branch.
    pub branches: Option<Vec<BranchId>>,
    pub cashier: Option<UserId>,
    /// The whole receipt number, as printed.
    pub receipt_number: Option<String>,
    /// Rung up at or after, and before.
    pub from: Option<UnixMillis>,
    pub until: Option<UnixMillis>,
    /// Paid (at least partly) by this kind, and for mobile money this network.
    pub tender: Option<(TenderKind, Option<String>)>,
    pub min_total_minor: Option<i64>,
    pub max_total_minor: Option<i64>,
    /// The last row of the previous page: (occurred_at, id).
    pub before: Option<(UnixMillis, SaleId)>,
    pub limit: u32,
}

/// One line of the receipts list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptSummary {
    pub id: SaleId,
    pub receipt_number: Option<String>,
    pub occurred_at: UnixMillis,
    pub branch_id: BranchId,
    pub branch_name: String,
    pub cashier_id: UserId,
    pub cashier_name: String,
    pub total_minor: i64,
    /// (kind, network) in the order taken.
    pub tenders: Vec<(TenderKind, Option<String>)>,
    /// Refunded so far, as a positive amount.
    pub refunded_minor: i64,
    pub voided: bool,
}

/// One cashier's refunds and voids over a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CashierReturns {
    pub cashier_id: UserId,
    pub refunds: i64,
    /// Given back, as a positive amount.
    pub refunded_minor: i64,
    pub voids: i64,
}

#[async_trait]
pub trait ReceiptStore: Send + Sync + 'static {
    async fn search_receipts(
        &self,
        tenant: TenantId,
        wanted: &ReceiptQuery,
    ) -> StoreResult<Vec<ReceiptSummary>>;
    /// The refunds and voids of `sale`, oldest first.
    async fn sale_returns(&self, tenant: TenantId, sale: SaleId) -> StoreResult<Vec<Sale>>;
    /// Refunds and voids per cashier over local days `from_day..=to_day`.
    async fn cashier_returns(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<Vec<CashierReturns>>;
}

async fn search<B: Backend>(
    connection: &mut Conn<B>,
    wanted: &ReceiptQuery,
) -> StoreResult<Vec<ReceiptSummary>> {
    let mut conditions = vec!["sales.kind = 'sale'".to_owned()];
    let mut next = 1;
    let mut take = |count: usize| {
        let first = next;
        next += count;
        first
    };
    if let Some(branches) = &wanted.branches {
        if branches.is_empty() {
            return Ok(Vec::new());
        }
        conditions.push(format!(
            "sales.branch_id IN ({})",
            placeholders(branches.len(), take(branches.len()))
        ));
    }
    if wanted.cashier.is_some() {
        conditions.push(format!("sales.cashier_id = ${}", take(1)));
    }
    if wanted.receipt_number.is_some() {
        conditions.push(format!("sales.receipt_number = ${}", take(1)));
    }
    if wanted.from.is_some() {
        conditions.push(format!("sales.occurred_at >= ${}", take(1)));
    }
    if wanted.until.is_some() {
        conditions.push(format!("sales.occurred_at < ${}", take(1)));
    }
    if let Some((_, network)) = &wanted.tender {
        let kind = take(1);
        let network = match network {
            Some(_) => format!(" AND sale_tenders.network = ${}", take(1)),
            None => String::new(),
        };
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM sale_tenders WHERE sale_tenders.sale_id = sales.id \
             AND sale_tenders.kind = ${kind}{network})"
        ));
    }
    if wanted.min_total_minor.is_some() {
        conditions.push(format!("sales.total_minor >= ${}", take(1)));
    }
    if wanted.max_total_minor.is_some() {
        conditions.push(format!("sales.total_minor <= ${}", take(1)));
    }
    if wanted.before.is_some() {
        let (at, id) = (take(1), take(1));
        // A row comparison is an index range on `sales_listed` in both planners; the same
        // condition written with OR was a filter, and a deep page read every newer sale.
        conditions.push(format!(
            "sales.occurred_at <= ${at} AND (sales.occurred_at, sales.id) < (${at}, ${id})"
        ));
    }
    let limit = take(1);
    let sql = format!(
        "SELECT sales.id, sales.receipt_number, sales.occurred_at, sales.branch_id, \
         branches.name AS branch_name, sales.cashier_id, users.name AS cashier_name, \
         sales.total_minor FROM sales \
         JOIN branches ON branches.id = sales.branch_id JOIN users ON users.id = sales.cashier_id \
         WHERE {} ORDER BY sales.occurred_at DESC, sales.id DESC LIMIT ${limit}",
        conditions.join(" AND ")
    );
    let mut statement = query::<B>(&sql);
    for branch in wanted.branches.iter().flatten() {
        statement = statement.bind(branch.as_uuid());
    }
    if let Some(cashier) = wanted.cashier {
        statement = statement.bind(cashier.as_uuid());
    }
    if let Some(number) = &wanted.receipt_number {
        statement = statement.bind(number.as_str());
    }
    if let Some(from) = wanted.from {
        statement = statement.bind(from.as_millis());
    }
    if let Some(until) = wanted.until {
        statement = statement.bind(until.as_millis());
    }
    if let Some((kind, network)) = &wanted.tender {
        statement = statement.bind(kind.as_str());
        if let Some(network) = network {
            statement = statement.bind(network.as_str());
        }
    }
    if let Some(min) = wanted.min_total_minor {
        statement = statement.bind(min);
    }
    if let Some(max) = wanted.max_total_minor {
        statement = statement.bind(max);
    }
    if let Some((at, id)) = wanted.before {
        statement = statement.bind(at.as_millis()).bind(id.as_uuid());
    }
    let rows = statement
        .bind(i64::from(wanted.limit))
        .fetch_all(&mut *connection)
        .await?;
    let mut receipts = Vec::with_capacity(rows.len());
    for row in &rows {
        receipts.push(ReceiptSummary {
            id: SaleId::from_uuid(row.field("id")?),
            receipt_number: row.field("receipt_number")?,
            occurred_at: UnixMillis::from_millis(row.field("occurred_at")?),
            branch_id: BranchId::from_uuid(row.field("branch_id")?),
            branch_name: row.field("branch_name")?,
            cashier_id: UserId::from_uuid(row.field("cashier_id")?),
            cashier_name: row.field("cashier_name")?,
            total_minor: row.field("total_minor")?,
            tenders: Vec::new(),
            refunded_minor: 0,
            voided: false,
        });
    }
    if receipts.is_empty() {
        return Ok(receipts);
    }
    add_tenders_and_returns::<B>(connection, &mut receipts).await?;
    Ok(receipts)
}

/// Each listed sale's tenders, and what was refunded or voided of it: two reads for the page.
async fn add_tenders_and_returns<B: Backend>(
    connection: &mut Conn<B>,
    receipts: &mut [ReceiptSummary],
) -> StoreResult<()> {
    let position: HashMap<uuid::Uuid, usize> = receipts
        .iter()
        .enumerate()
        .map(|(index, receipt)| (receipt.id.as_uuid(), index))
        .collect();
    let ids = placeholders(receipts.len(), 1);
    let sql = format!(
        "SELECT sale_id, kind, network FROM sale_tenders WHERE sale_id IN ({ids}) \
         ORDER BY sale_id, position"
    );
    let mut statement = query::<B>(&sql);
    for receipt in receipts.iter() {
        statement = statement.bind(receipt.id.as_uuid());
    }
    for row in statement.fetch_all(&mut *connection).await? {
        let sale: uuid::Uuid = row.field("sale_id")?;
        let kind: String = row.field("kind")?;
        if let Some(index) = position.get(&sale) {
            receipts[*index]
                .tenders
                .push((tender_kind(&kind)?, row.field("network")?));
        }
    }
    let sql = format!(
        "SELECT refers_to, kind, CAST(SUM(total_minor) AS BIGINT) AS total FROM sales \
         WHERE refers_to IN ({ids}) GROUP BY refers_to, kind"
    );
    let mut statement = query::<B>(&sql);
    for receipt in receipts.iter() {
        statement = statement.bind(receipt.id.as_uuid());
    }
    for row in statement.fetch_all(&mut *connection).await? {
        let sale: uuid::Uuid = row.field("refers_to")?;
        let kind: String = row.field("kind")?;
        let total: i64 = row.field("total")?;
        if let Some(index) = position.get(&sale) {
            match kind.as_str() {
                "void" => receipts[*index].voided = true,
                _ => receipts[*index].refunded_minor += -total,
            }
        }
    }
    Ok(())
}

#[async_trait]
impl<S: TenantAccess> ReceiptStore for S {
    async fn search_receipts(
        &self,
        tenant: TenantId,
        wanted: &ReceiptQuery,
    ) -> StoreResult<Vec<ReceiptSummary>> {
        with_tenant(self, tenant, async |connection| {
            search::<S::Db>(connection, wanted).await
        })
        .await
    }

    async fn sale_returns(&self, tenant: TenantId, sale: SaleId) -> StoreResult<Vec<Sale>> {
        with_tenant(self, tenant, async |connection| {
            let ids: Vec<uuid::Uuid> = query::<S::Db>(
                "SELECT id FROM sales WHERE refers_to = $1 ORDER BY occurred_at, id",
            )
            .bind(sale.as_uuid())
            .scalars(&mut *connection)
            .await?;
            let mut returns = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(found) = read_sale::<S::Db>(connection, SaleId::from_uuid(id)).await? {
                    returns.push(found);
                }
            }
            Ok(returns)
        })
        .await
    }

    async fn cashier_returns(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<Vec<CashierReturns>> {
        if branches.is_some_and(<[BranchId]>::is_empty) {
            return Ok(Vec::new());
        }
        with_tenant(self, tenant, async |connection| {
            let branch_filter = match branches {
                Some(branches) => {
                    format!(" AND branch_id IN ({})", placeholders(branches.len(), 3))
                }
                None => String::new(),
            };
            // From the cashier rollup: a few rows per branch and day however many sales.
            let sql = format!(
                "SELECT cashier_id, CAST(SUM(refunds_count) AS BIGINT) AS refunds, \
                 CAST(SUM(refunded_minor) AS BIGINT) AS refunded, \
                 CAST(SUM(voids_count) AS BIGINT) AS voids FROM daily_cashiers \
                 WHERE local_day BETWEEN $1 AND $2{branch_filter} GROUP BY cashier_id \
                 HAVING SUM(refunds_count) > 0 OR SUM(voids_count) > 0 ORDER BY cashier_id"
            );
            let mut statement = query::<S::Db>(&sql).bind(from_day).bind(to_day);
            for branch in branches.into_iter().flatten() {
                statement = statement.bind(branch.as_uuid());
            }
            let mut per_cashier = Vec::new();
            for row in statement.fetch_all(connection).await? {
                per_cashier.push(CashierReturns {
                    cashier_id: UserId::from_uuid(row.field("cashier_id")?),
                    refunds: row.field("refunds")?,
                    refunded_minor: row.field("refunded")?,
                    voids: row.field("voids")?,
                });
            }
            Ok(per_cashier)
        })
        .await
    }
}
