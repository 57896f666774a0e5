//! Daily report rollups: per branch and local day, the sales totals, levies, cashiers and
//! tenders, kept up to date in each sale's own transaction so that a report reads a few rows
//! per day instead of every sale.

use std::collections::BTreeMap;

use async_trait::async_trait;
use nexus_domain::{BranchId, TenantId, UserId};

use super::{TenantAccess, with_tenant};
use crate::StoreResult;
use crate::retail::{DailyReportRows, DailyTotals, Sale, SaleKind, TenderKind};
use crate::sql::{
    Backend, Conn, RowExt, placeholders, query, rows_per_statement, run_script, values,
};

/// What sold of one product over a range of days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductSales {
    pub product_id: nexus_domain::ProductId,
    pub quantity: nexus_domain::Quantity,
    pub total_minor: i64,
}

/// What one product sold over a range of days, for the item report: net of tax, and what it
/// cost the shop (returns subtracted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemTotal {
    pub product_id: nexus_domain::ProductId,
    pub quantity: nexus_domain::Quantity,
    pub net_minor: i64,
    pub cost_minor: i64,
    /// What sold while the product had no cost: its cost counts as 0.
    pub uncosted: nexus_domain::Quantity,
}

/// Payments of one kind (and mobile-money network) over a range of days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentTotal {
    pub kind: String,
    /// The mobile-money network, `""` for other kinds.
    pub network: String,
    pub amount_minor: i64,
    pub payments: i64,
}

/// Net and tax of the lines of one tax class at one branch, of sales or of returns (refunds
/// and voids, whose amounts are negative), over a range of days: what the VAT return adds up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxClassTotal {
    pub branch_id: BranchId,
    pub tax_class: String,
    pub returns: bool,
    pub net_minor: i64,
    pub tax_minor: i64,
}

/// One levy collected at one branch, on sales or on returns, over a range of days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevyTotal {
    pub branch_id: BranchId,
    pub code: String,
    pub returns: bool,
    pub amount_minor: i64,
}

#[async_trait]
pub trait ReportStore: Send + Sync + 'static {
    /// The lines and levies of every sale, refund and void over local days `from_day..=to_day`,
    /// summed per branch and tax class (and levy), sales apart from returns. Read from the
    /// receipts themselves, not the rollups: a monthly return is asked for once a month, and
    /// its figures must be the receipts' to the pesewa.
    async fn vat_totals(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<(Vec<TaxClassTotal>, Vec<LevyTotal>)>;
    /// The `limit` products that took the most over local days `from_day..=to_day`.
    async fn top_products(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
        limit: u32,
    ) -> StoreResult<Vec<ProductSales>>;
    /// Every product sold over local days `from_day..=to_day`, by product id, from the rollups.
    async fn item_totals(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<Vec<ItemTotal>>;
    /// Payments by kind and network over local days `from_day..=to_day`.
    async fn payment_totals(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<Vec<PaymentTotal>>;
    /// Recomputes the daily report rollups from the recorded sales, in one transaction: a repair
    /// for rollups suspected wrong, and what a bulk load runs afterwards.
    async fn rebuild_report_rollups(&self, tenant: TenantId) -> StoreResult<()>;
    /// The rollup rows for local days `from_day..=to_day`, for the given branches or all.
    async fn daily_report(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<DailyReportRows>;
}

/// One rollup table's multi-row upsert: `key_columns` and `sum_columns` in insert order; the
/// sums are added to what the row already holds.
async fn upsert_rollup<B: Backend>(
    connection: &mut Conn<B>,
    table: &str,
    key_columns: &[&str],
    sum_columns: &[&str],
    rows: Vec<Vec<RollupValue<'_>>>,
) -> StoreResult<()> {
    let columns = key_columns.len() + sum_columns.len();
    let row_shape = format!("({})", vec!["?"; columns].join(", "));
    let updates = sum_columns
        .iter()
        .map(|column| format!("{column} = {table}.{column} + excluded.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    for chunk in rows.chunks(rows_per_statement(columns)) {
        let sql = format!(
            "INSERT INTO {table} ({}, {}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {updates}",
            key_columns.join(", "),
            sum_columns.join(", "),
            values(&row_shape, chunk.len(), 1),
            key_columns.join(", "),
        );
        let mut statement = query::<B>(&sql);
        for row in chunk {
            for value in row {
                statement = match value {
                    RollupValue::Id(id) => statement.bind(*id),
                    RollupValue::Day(day) => statement.bind(*day),
                    RollupValue::Text(text) => statement.bind(*text),
                    RollupValue::Amount(amount) => statement.bind(*amount),
                };
            }
        }
        statement.execute(connection).await?;
    }
    Ok(())
}

/// A value of a rollup row.
enum RollupValue<'a> {
    Id(uuid::Uuid),
    Day(i32),
    Text(&'a str),
    Amount(i64),
}

/// Adds sales' (and returns') amounts to the daily rollups of their branch and day: summed in
/// memory first, then one multi-row upsert per rollup table.
/// `costs` are those of the sales' lines, in order (see `line_costs`).
pub(crate) async fn add_to_rollups<B: Backend>(
    connection: &mut Conn<B>,
    sales: &[(&Sale, i32)],
    costs: &[super::sales::LineCost],
) -> StoreResult<()> {
    use RollupValue::{Amount, Day, Id, Text};
    let mut days: BTreeMap<(uuid::Uuid, i32), [i64; 7]> = BTreeMap::new();
    let mut levies: BTreeMap<(uuid::Uuid, i32, &str), i64> = BTreeMap::new();
    // Per cashier: sales, their total, refunds, the amount refunded (positive), voids.
    let mut cashiers: BTreeMap<(uuid::Uuid, i32, uuid::Uuid), [i64; 5]> = BTreeMap::new();
    let mut tenders: BTreeMap<(uuid::Uuid, i32, &'static str), i64> = BTreeMap::new();
    let mut payments: BTreeMap<(uuid::Uuid, i32, &'static str, &str), (i64, i64)> = BTreeMap::new();
    // Per product: quantity, total, net, cost, and the quantity whose cost is unknown.
    let mut products: BTreeMap<(uuid::Uuid, i32, uuid::Uuid), [i64; 5]> = BTreeMap::new();
    let mut costs = costs.iter();
    for (sale, local_day) in sales {
        let branch = sale.branch_id.as_uuid();
        let is_sale = i64::from(sale.kind == SaleKind::Sale);
        let day = days.entry((branch, *local_day)).or_default();
        let amounts = [
            is_sale,
            1 - is_sale,
            sale.gross_minor,
            sale.discount_minor,
            sale.net_minor,
            sale.tax_minor,
            sale.total_minor,
        ];
        for (sum, amount) in day.iter_mut().zip(amounts) {
            *sum += amount;
        }
        for (code, amount) in &sale.levies {
            *levies
                .entry((branch, *local_day, code.as_str()))
                .or_default() += amount;
        }
        let cashier = cashiers
            .entry((branch, *local_day, sale.cashier_id.as_uuid()))
            .or_default();
        let is_refund = i64::from(sale.kind == SaleKind::Refund);
        let amounts = [
            is_sale,
            sale.total_minor,
            is_refund,
            -sale.total_minor * is_refund,
            i64::from(sale.kind == SaleKind::Void),
        ];
        for (sum, amount) in cashier.iter_mut().zip(amounts) {
            *sum += amount;
        }
        // Per tender kind, what stayed in the drawer or account: cash net of the change, which
        // is taken out once however many cash tenders the sale had.
        let mut change_taken = false;
        for tender in &sale.tenders {
            let mut kept = tender.amount_minor;
            if tender.kind == TenderKind::Cash && !change_taken {
                kept -= sale.change_minor;
                change_taken = true;
            }
            *tenders
                .entry((branch, *local_day, tender.kind.as_str()))
                .or_default() += kept;
            let network = tender.network.as_deref().unwrap_or("");
            let payment = payments
                .entry((branch, *local_day, tender.kind.as_str(), network))
                .or_default();
            payment.0 += kept;
            payment.1 += is_sale;
        }
        for line in &sale.lines {
            let (_, cost) = costs.next().copied().unwrap_or_default();
            let sold = products
                .entry((branch, *local_day, line.product_id.as_uuid()))
                .or_default();
            // In base units: a carton of 24 sold is 24 sold.
            let quantity = super::sales::base_quantity(line).milli();
            let amounts = [
                quantity,
                line.total_minor,
                line.net_minor,
                cost.unwrap_or(0),
                if cost.is_some() { 0 } else { quantity },
            ];
            for (sum, amount) in sold.iter_mut().zip(amounts) {
                *sum += amount;
            }
        }
    }
    upsert_rollup::<B>(
        connection,
        "daily_sales",
        &["branch_id", "local_day"],
        &[
            "sales_count",
            "refunds_count",
            "gross_minor",
            "discount_minor",
            "net_minor",
            "tax_minor",
            "total_minor",
        ],
        days.into_iter()
            .map(|((branch, day), sums)| {
                let mut row = vec![Id(branch), Day(day)];
                row.extend(sums.into_iter().map(Amount));
                row
            })
            .collect(),
    )
    .await?;
    upsert_rollup::<B>(
        connection,
        "daily_levies",
        &["branch_id", "local_day", "code"],
        &["amount_minor"],
        levies
            .into_iter()
            .map(|((branch, day, code), amount)| {
                vec![Id(branch), Day(day), Text(code), Amount(amount)]
            })
            .collect(),
    )
    .await?;
    upsert_rollup::<B>(
        connection,
        "daily_cashiers",
        &["branch_id", "local_day", "cashier_id"],
        &[
            "sales_count",
            "total_minor",
            "refunds_count",
            "refunded_minor",
            "voids_count",
        ],
        cashiers
            .into_iter()
            .map(|((branch, day, cashier), sums)| {
                let mut row = vec![Id(branch), Day(day), Id(cashier)];
                row.extend(sums.into_iter().map(Amount));
                row
            })
            .collect(),
    )
    .await?;
    upsert_rollup::<B>(
        connection,
        "daily_payments",
        &["branch_id", "local_day", "kind", "network"],
        &["amount_minor", "payments"],
        payments
            .into_iter()
            .map(|((branch, day, kind, network), (amount, count))| {
                vec![
                    Id(branch),
                    Day(day),
                    Text(kind),
                    Text(network),
                    Amount(amount),
                    Amount(count),
                ]
            })
            .collect(),
    )
    .await?;
    upsert_rollup::<B>(
        connection,
        "daily_products",
        &["branch_id", "local_day", "product_id"],
        &[
            "quantity_milli",
            "total_minor",
            "net_minor",
            "cost_minor",
            "uncosted_milli",
        ],
        products
            .into_iter()
            .map(|((branch, day, product), sums)| {
                let mut row = vec![Id(branch), Day(day), Id(product)];
                row.extend(sums.into_iter().map(Amount));
                row
            })
            .collect(),
    )
    .await?;
    upsert_rollup::<B>(
        connection,
        "daily_tenders",
        &["branch_id", "local_day", "kind"],
        &["amount_minor"],
        tenders
            .into_iter()
            .map(|((branch, day, kind), amount)| {
                vec![Id(branch), Day(day), Text(kind), Amount(amount)]
            })
            .collect(),
    )
    .await
}

/// The same arithmetic as [`add_to_rollups`], over the whole sales table: refunds and voids
/// carry negative amounts; cash is counted net of the change, once per sale.
const REBUILD_ROLLUPS: &str = "DELETE FROM daily_sales; DELETE FROM daily_levies; \
     DELETE FROM daily_cashiers; DELETE FROM daily_tenders; DELETE FROM daily_products; \
     DELETE FROM daily_payments; \
     INSERT INTO daily_products (branch_id, local_day, product_id, quantity_milli, total_minor, \
         net_minor, cost_minor, uncosted_milli) \
     SELECT sales.branch_id, sales.local_day, sale_lines.product_id, \
         SUM(sale_lines.quantity_milli * COALESCE(sale_lines.pack_units, 1)), \
         SUM(sale_lines.total_minor), SUM(sale_lines.net_minor), SUM(COALESCE(sale_lines.cost_minor, 0)), \
         SUM(CASE WHEN sale_lines.cost_minor IS NULL \
             THEN sale_lines.quantity_milli * COALESCE(sale_lines.pack_units, 1) ELSE 0 END) \
         FROM sale_lines JOIN sales ON sales.id = sale_lines.sale_id \
         GROUP BY sales.branch_id, sales.local_day, sale_lines.product_id; \
     INSERT INTO daily_payments (branch_id, local_day, kind, network, amount_minor, payments) \
     SELECT branch_id, local_day, kind, network, SUM(kept), SUM(counted) FROM ( \
         SELECT sales.branch_id, sales.local_day, sale_tenders.kind, \
             COALESCE(sale_tenders.network, '') AS network, \
             SUM(sale_tenders.amount_minor) - CASE WHEN sale_tenders.kind = 'cash' THEN MAX(sales.change_minor) ELSE 0 END AS kept, \
             SUM(CASE WHEN sales.kind = 'sale' THEN 1 ELSE 0 END) AS counted \
         FROM sale_tenders JOIN sales ON sales.id = sale_tenders.sale_id \
         GROUP BY sales.id, sales.branch_id, sales.local_day, sale_tenders.kind, COALESCE(sale_tenders.network, '') \
     ) AS per_payment GROUP BY branch_id, local_day, kind, network; \
     INSERT INTO daily_sales (branch_id, local_day, sales_count, refunds_count, gross_minor, discount_minor, \
         net_minor, tax_minor, total_minor) \
     SELECT branch_id, local_day, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN kind = 'sale' THEN 0 ELSE 1 END), SUM(gross_minor), SUM(discount_minor), SUM(net_minor), \
         SUM(tax_minor), SUM(total_minor) FROM sales GROUP BY branch_id, local_day; \
     INSERT INTO daily_levies (branch_id, local_day, code, amount_minor) \
     SELECT sales.branch_id, sales.local_day, sale_levies.code, SUM(sale_levies.amount_minor) \
         FROM sale_levies JOIN sales ON sales.id = sale_levies.sale_id \
         GROUP BY sales.branch_id, sales.local_day, sale_levies.code; \
     INSERT INTO daily_cashiers (branch_id, local_day, cashier_id, sales_count, total_minor, \
         refunds_count, refunded_minor, voids_count) \
     SELECT branch_id, local_day, cashier_id, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END), SUM(total_minor), \
         SUM(CASE WHEN kind = 'refund' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN kind = 'refund' THEN -total_minor ELSE 0 END), \
         SUM(CASE WHEN kind = 'void' THEN 1 ELSE 0 END) \
         FROM sales GROUP BY branch_id, local_day, cashier_id; \
     INSERT INTO daily_tenders (branch_id, local_day, kind, amount_minor) \
     SELECT branch_id, local_day, kind, SUM(kept) FROM ( \
         SELECT sales.branch_id, sales.local_day, sale_tenders.kind, \
             SUM(sale_tenders.amount_minor) - CASE WHEN sale_tenders.kind = 'cash' THEN MAX(sales.change_minor) ELSE 0 END AS kept \
         FROM sale_tenders JOIN sales ON sales.id = sale_tenders.sale_id \
         GROUP BY sales.id, sales.branch_id, sales.local_day, sale_tenders.kind \
     ) AS per_sale GROUP BY branch_id, local_day, kind";

async fn read_report<B: Backend>(
    connection: &mut Conn<B>,
    from_day: i32,
    to_day: i32,
    branches: Option<&[BranchId]>,
) -> StoreResult<DailyReportRows> {
    let mut report = DailyReportRows::default();
    let all_branches: Vec<BranchId> = match branches {
        Some(chosen) => chosen.to_vec(),
        None => query::<B>("SELECT id FROM branches")
            .scalars::<uuid::Uuid>(connection)
            .await?
            .into_iter()
            .map(BranchId::from_uuid)
            .collect(),
    };
    // One indexed range read per branch and rollup; rows are summed across branches by the caller.
    for branch in &all_branches {
        let rows = query::<B>(
            "SELECT local_day, sales_count, refunds_count, gross_minor, discount_minor, net_minor, \
             tax_minor, total_minor FROM daily_sales WHERE branch_id = $1 AND local_day BETWEEN $2 AND $3",
        )
        .bind(branch.as_uuid())
        .bind(from_day)
        .bind(to_day)
        .fetch_all(connection)
        .await?;
        for row in &rows {
            report.totals.push(DailyTotals {
                local_day: row.field("local_day")?,
                sales_count: row.field("sales_count")?,
                refunds_count: row.field("refunds_count")?,
                gross_minor: row.field("gross_minor")?,
                discount_minor: row.field("discount_minor")?,
                net_minor: row.field("net_minor")?,
                tax_minor: row.field("tax_minor")?,
                total_minor: row.field("total_minor")?,
            });
        }
        let rows = query::<B>(
            "SELECT local_day, code, amount_minor FROM daily_levies \
             WHERE branch_id = $1 AND local_day BETWEEN $2 AND $3",
        )
        .bind(branch.as_uuid())
        .bind(from_day)
        .bind(to_day)
        .fetch_all(connection)
        .await?;
        for row in &rows {
            report.levies.push((
                row.field("local_day")?,
                row.field("code")?,
                row.field("amount_minor")?,
            ));
        }
        let rows = query::<B>(
            "SELECT local_day, cashier_id, sales_count, total_minor FROM daily_cashiers \
             WHERE branch_id = $1 AND local_day BETWEEN $2 AND $3",
        )
        .bind(branch.as_uuid())
        .bind(from_day)
        .bind(to_day)
        .fetch_all(connection)
        .await?;
        for row in &rows {
            report.cashiers.push((
                row.field("local_day")?,
                UserId::from_uuid(row.field("cashier_id")?),
                row.field("sales_count")?,
                row.field("total_minor")?,
            ));
        }
        let rows = query::<B>(
            "SELECT local_day, kind, amount_minor FROM daily_tenders \
             WHERE branch_id = $1 AND local_day BETWEEN $2 AND $3",
        )
        .bind(branch.as_uuid())
        .bind(from_day)
        .bind(to_day)
        .fetch_all(connection)
        .await?;
        for row in &rows {
            report.tenders.push((
                row.field("local_day")?,
                row.field("kind")?,
                row.field("amount_minor")?,
            ));
        }
    }
    Ok(report)
}

/// `AND branch_id IN (…)` for the branches given (numbered from `$first`), or nothing for all.
fn branch_filter(branches: Option<&[BranchId]>, first: usize) -> String {
    match branches {
        Some(branches) => format!(
            " AND branch_id IN ({})",
            placeholders(branches.len().max(1), first)
        ),
        None => String::new(),
    }
}

#[async_trait]
impl<S: TenantAccess> ReportStore for S {
    async fn vat_totals(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<(Vec<TaxClassTotal>, Vec<LevyTotal>)> {
        if branches.is_some_and(<[BranchId]>::is_empty) {
            return Ok((Vec::new(), Vec::new()));
        }
        with_tenant(self, tenant, async |connection| {
            let lines_sql = format!(
                "SELECT sales.branch_id, sale_lines.tax_class, sales.kind, \
                 CAST(SUM(sale_lines.net_minor) AS BIGINT) AS net, \
                 CAST(SUM(sale_lines.tax_minor) AS BIGINT) AS tax \
                 FROM sales JOIN sale_lines ON sale_lines.sale_id = sales.id \
                 WHERE sales.local_day BETWEEN $1 AND $2{} \
                 GROUP BY sales.branch_id, sale_lines.tax_class, sales.kind",
                branch_filter(branches, 3).replace("branch_id", "sales.branch_id")
            );
            let mut statement = query::<S::Db>(&lines_sql).bind(from_day).bind(to_day);
            for branch in branches.into_iter().flatten() {
                statement = statement.bind(branch.as_uuid());
            }
            let rows = statement.fetch_all(&mut *connection).await?;
            let mut classes: BTreeMap<(uuid::Uuid, String, bool), (i64, i64)> = BTreeMap::new();
            for row in &rows {
                let kind: String = row.field("kind")?;
                let key = (
                    row.field("branch_id")?,
                    row.field("tax_class")?,
                    kind != "sale",
                );
                let sums = classes.entry(key).or_default();
                sums.0 += row.field::<i64>("net")?;
                sums.1 += row.field::<i64>("tax")?;
            }
            let levies_sql = format!(
                "SELECT sales.branch_id, sale_levies.code, sales.kind, \
                 CAST(SUM(sale_levies.amount_minor) AS BIGINT) AS amount \
                 FROM sales JOIN sale_levies ON sale_levies.sale_id = sales.id \
                 WHERE sales.local_day BETWEEN $1 AND $2{} \
                 GROUP BY sales.branch_id, sale_levies.code, sales.kind",
                branch_filter(branches, 3).replace("branch_id", "sales.branch_id")
            );
            let mut statement = query::<S::Db>(&levies_sql).bind(from_day).bind(to_day);
            for branch in branches.into_iter().flatten() {
                statement = statement.bind(branch.as_uuid());
            }
            let rows = statement.fetch_all(&mut *connection).await?;
            let mut levies: BTreeMap<(uuid::Uuid, String, bool), i64> = BTreeMap::new();
            for row in &rows {
                let kind: String = row.field("kind")?;
                let key = (row.field("branch_id")?, row.field("code")?, kind != "sale");
                *levies.entry(key).or_default() += row.field::<i64>("amount")?;
            }
            Ok((
                classes
                    .into_iter()
                    .map(
                        |((branch, tax_class, returns), (net_minor, tax_minor))| TaxClassTotal {
                            branch_id: BranchId::from_uuid(branch),
                            tax_class,
                            returns,
                            net_minor,
                            tax_minor,
                        },
                    )
                    .collect(),
                levies
                    .into_iter()
                    .map(|((branch, code, returns), amount_minor)| LevyTotal {
                        branch_id: BranchId::from_uuid(branch),
                        code,
                        returns,
                        amount_minor,
                    })
                    .collect(),
            ))
        })
        .await
    }

    async fn top_products(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
        limit: u32,
    ) -> StoreResult<Vec<ProductSales>> {
        if branches.is_some_and(<[BranchId]>::is_empty) {
            return Ok(Vec::new());
        }
        with_tenant(self, tenant, async |connection| {
            let sql = format!(
                "SELECT product_id, CAST(SUM(quantity_milli) AS BIGINT) AS quantity, \
                 CAST(SUM(total_minor) AS BIGINT) AS total FROM daily_products \
                 WHERE local_day BETWEEN $1 AND $2{} GROUP BY product_id \
                 ORDER BY total DESC, product_id LIMIT ${}",
                branch_filter(branches, 3),
                3 + branches.map_or(0, <[BranchId]>::len)
            );
            let mut statement = query::<S::Db>(&sql).bind(from_day).bind(to_day);
            for branch in branches.into_iter().flatten() {
                statement = statement.bind(branch.as_uuid());
            }
            let rows = statement
                .bind(i64::from(limit))
                .fetch_all(connection)
                .await?;
            let mut sold = Vec::with_capacity(rows.len());
            for row in &rows {
                sold.push(ProductSales {
                    product_id: nexus_domain::ProductId::from_uuid(row.field("product_id")?),
                    quantity: nexus_domain::Quantity::from_milli(row.field("quantity")?),
                    total_minor: row.field("total")?,
                });
            }
            Ok(sold)
        })
        .await
    }

    async fn item_totals(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<Vec<ItemTotal>> {
        if branches.is_some_and(<[BranchId]>::is_empty) {
            return Ok(Vec::new());
        }
        with_tenant(self, tenant, async |connection| {
            let sql = format!(
                "SELECT product_id, CAST(SUM(quantity_milli) AS BIGINT) AS quantity, \
                 CAST(SUM(net_minor) AS BIGINT) AS net, CAST(SUM(cost_minor) AS BIGINT) AS cost, \
                 CAST(SUM(uncosted_milli) AS BIGINT) AS uncosted FROM daily_products \
                 WHERE local_day BETWEEN $1 AND $2{} GROUP BY product_id ORDER BY product_id",
                branch_filter(branches, 3),
            );
            let mut statement = query::<S::Db>(&sql).bind(from_day).bind(to_day);
            for branch in branches.into_iter().flatten() {
                statement = statement.bind(branch.as_uuid());
            }
            let rows = statement.fetch_all(connection).await?;
            let mut items = Vec::with_capacity(rows.len());
            for row in &rows {
                items.push(ItemTotal {
                    product_id: nexus_domain::ProductId::from_uuid(row.field("product_id")?),
                    quantity: nexus_domain::Quantity::from_milli(row.field("quantity")?),
                    net_minor: row.field("net")?,
                    cost_minor: row.field("cost")?,
                    uncosted: nexus_domain::Quantity::from_milli(row.field("uncosted")?),
                });
            }
            Ok(items)
        })
        .await
    }

    async fn payment_totals(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<Vec<PaymentTotal>> {
        if branches.is_some_and(<[BranchId]>::is_empty) {
            return Ok(Vec::new());
        }
        with_tenant(self, tenant, async |connection| {
            let sql = format!(
                "SELECT kind, network, CAST(SUM(amount_minor) AS BIGINT) AS amount, \
                 CAST(SUM(payments) AS BIGINT) AS payments FROM daily_payments \
                 WHERE local_day BETWEEN $1 AND $2{} GROUP BY kind, network ORDER BY kind, network",
                branch_filter(branches, 3)
            );
            let mut statement = query::<S::Db>(&sql).bind(from_day).bind(to_day);
            for branch in branches.into_iter().flatten() {
                statement = statement.bind(branch.as_uuid());
            }
            let rows = statement.fetch_all(connection).await?;
            let mut totals = Vec::with_capacity(rows.len());
            for row in &rows {
                totals.push(PaymentTotal {
                    kind: row.field("kind")?,
                    network: row.field("network")?,
                    amount_minor: row.field("amount")?,
                    payments: row.field("payments")?,
                });
            }
            Ok(totals)
        })
        .await
    }

    async fn rebuild_report_rollups(&self, tenant: TenantId) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            Ok(run_script::<S::Db>(connection, REBUILD_ROLLUPS).await?)
        })
        .await
    }

    async fn daily_report(
        &self,
        tenant: TenantId,
        from_day: i32,
        to_day: i32,
        branches: Option<&[BranchId]>,
    ) -> StoreResult<DailyReportRows> {
        with_tenant(self, tenant, async |connection| {
            read_report::<S::Db>(connection, from_day, to_day, branches).await
        })
        .await
    }
}
