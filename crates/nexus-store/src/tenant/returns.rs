//! Refunds and voids of one tenant's sales: priced from the sale's own recorded lines by the
//! domain's one rule, checked against what was returned before, and written as new sale records
//! that refer to it.

use std::collections::HashMap;

use nexus_domain::{Quantity, SaleId};

use super::sales::read_sale;
use crate::retail::{NewReturn, Sale, SaleKind, SaleLine, Tender, TenderKind};
use crate::sql::{Backend, Conn, RowExt, query};
use crate::{StoreError, StoreResult};

/// How much of each line of `original` was returned before, by line number.
async fn returned_before<B: Backend>(
    connection: &mut Conn<B>,
    original: SaleId,
) -> StoreResult<HashMap<i32, i64>> {
    let rows = query::<B>(
        "SELECT sale_lines.refers_to_line, CAST(SUM(-sale_lines.quantity_milli) AS BIGINT) AS returned \
         FROM sale_lines JOIN sales ON sales.id = sale_lines.sale_id \
         WHERE sales.refers_to = $1 GROUP BY sale_lines.refers_to_line",
    )
    .bind(original.as_uuid())
    .fetch_all(connection)
    .await?;
    let mut returned = HashMap::new();
    for row in &rows {
        let line: Option<i32> = row.field("refers_to_line")?;
        if let Some(line) = line {
            returned.insert(line, row.field::<i64>("returned")?);
        }
    }
    Ok(returned)
}

pub(crate) async fn record_return<B: Backend>(
    connection: &mut Conn<B>,
    request: &NewReturn,
) -> StoreResult<(Sale, bool)> {
    // Lock the original first: two returns of one sale, or a return and its own retry, are then
    // checked one after the other.
    let lock = format!("SELECT id FROM sales WHERE id = $1{}", B::LOCK_ROWS);
    query::<B>(&lock)
        .bind(request.original.as_uuid())
        .fetch_optional(connection)
        .await?;
    if let Some(existing) = read_sale::<B>(connection, request.id).await? {
        // A retry gets the same return back; an id that names anything else is a clash.
        return if existing.kind == request.kind && existing.refers_to == Some(request.original) {
            Ok((existing, false))
        } else {
            Err(StoreError::Conflict { field: "id" })
        };
    }
    let original = read_sale::<B>(connection, request.original)
        .await?
        .ok_or(StoreError::UnknownSale(request.original))?;
    if original.kind != SaleKind::Sale {
        return Err(StoreError::Refused(
            "only a sale can be refunded or voided, not a refund".to_owned(),
        ));
    }
    let before = returned_before::<B>(connection, request.original).await?;
    let returned = price_return(&original, request, before)?;
    let (created, shared) =
        super::sales::write_sales::<B>(connection, &[(&returned, request.local_day)]).await?;
    let recorded = read_sale::<B>(connection, request.id)
        .await?
        .ok_or(StoreError::UnknownSale(request.id))?;
    shared.apply::<B>(connection).await?;
    Ok((recorded, created[0]))
}

/// The return record of `request`: priced by the domain's one rule
/// ([`nexus_domain::returns::price_return`], as the till prices it) from the original's own
/// lines, checked against what was returned before.
fn price_return(
    original: &Sale,
    request: &NewReturn,
    returned_before: HashMap<i32, i64>,
) -> StoreResult<Sale> {
    use nexus_domain::returns::{Returning, price_return as priced_by_the_rule};
    let before: std::collections::BTreeMap<i32, Quantity> = returned_before
        .into_iter()
        .map(|(line_no, milli)| (line_no, Quantity::from_milli(milli)))
        .collect();
    let returning = if request.kind == SaleKind::Void {
        Returning::Everything
    } else {
        Returning::Lines(&request.lines)
    };
    let priced = priced_by_the_rule(&original.lines, &before, returning)
        .map_err(|refused| StoreError::Refused(refused.to_string()))?;
    let mut lines = Vec::with_capacity(priced.lines.len());
    for (index, returned) in priced.lines.into_iter().enumerate() {
        let sold = original
            .lines
            .iter()
            .find(|line| line.line_no == returned.line_no)
            .ok_or_else(|| {
                StoreError::Refused(format!("the sale has no line {}", returned.line_no))
            })?;
        lines.push(SaleLine {
            line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
            product_id: sold.product_id,
            sku: sold.sku.clone(),
            name: sold.name.clone(),
            tax_class: sold.tax_class,
            quantity: returned.quantity,
            unit_price_minor: sold.unit_price_minor,
            gross_minor: returned.amounts.gross_minor,
            discount_minor: returned.amounts.discount_minor,
            net_minor: returned.amounts.net_minor,
            tax_minor: returned.amounts.tax_minor,
            total_minor: returned.amounts.total_minor,
            levies: returned.amounts.levies,
            refers_to_line: Some(returned.line_no),
            pack: sold.pack.clone(),
            unit_cost_minor: sold.unit_cost_minor,
            cost_minor: sold.cost_minor.map(|cost| {
                nexus_domain::cost::returned_cost(
                    cost,
                    sold.quantity,
                    before
                        .get(&returned.line_no)
                        .copied()
                        .unwrap_or(Quantity::from_milli(0)),
                    Quantity::from_milli(-returned.quantity.milli()),
                )
            }),
        });
    }
    let totals = priced.totals;
    let total = totals.total_minor;
    Ok(Sale {
        id: request.id,
        kind: request.kind,
        refers_to: Some(original.id),
        branch_id: original.branch_id,
        cashier_id: request.cashier,
        device_id: request.device_id,
        receipt_number: request.receipt_number.clone(),
        shift_id: None,
        customer_id: original.customer_id,
        currency: original.currency,
        price_mode: original.price_mode,
        price_list: original.price_list,
        gross_minor: totals.gross_minor,
        discount_minor: totals.discount_minor,
        net_minor: totals.net_minor,
        tax_minor: totals.tax_minor,
        total_minor: total,
        levies: totals.levies,
        tendered_minor: total,
        change_minor: 0,
        reason: request.reason.clone(),
        approved_by: request.approved_by,
        occurred_at: request.occurred_at,
        recorded_at: request.recorded_at,
        lines,
        tenders: vec![Tender {
            kind: nexus_domain::account::refund_tender(
                nexus_domain::account::credit_of(&original.tenders) > 0,
                request.tender.unwrap_or(TenderKind::Cash),
            ),
            amount_minor: total,
            network: None,
            phone: None,
            reference: None,
            verified: true,
        }],
    })
}
