//! Refunds and voids of sales this station recorded, priced by the service's own rule.

use std::collections::BTreeMap;

use nexus_domain::roles::may_return_sale;
use nexus_domain::values::optional_reason;
use nexus_domain::{
    Clock, Permission, Quantity, ReturnError, Returning, SaleId, TenderKind, UserId, price_return,
};
use nexus_sync::{ReturnKind, ReturnLine, ReturnOp};
use sqlx::Row as _;
use uuid::Uuid;

use crate::enrolment::identity_on;
use crate::receipt::{Receipt, ReceiptLine, ReceiptTender};
use crate::till::checkout::{Committed, LocalSale, receipt_levies};
use crate::till::recorded::local_sale_on;
use crate::till::sign_in::SignedIn;
use crate::till::{invalid, open_shift_id_on, till_settings_on};
use crate::{Station, StationResult};

/// Who gives money back: the member of staff at the till, and the manager who approved it with
/// their PIN ([`Station::approver`]) when the station's settings require one of a cashier.
#[derive(Clone, Copy, Debug)]
pub struct Returner<'a> {
    pub cashier: &'a SignedIn,
    pub approver: Option<&'a SignedIn>,
}

impl<'a> Returner<'a> {
    /// On their own authority.
    pub fn alone(cashier: &'a SignedIn) -> Self {
        Self {
            cashier,
            approver: None,
        }
    }

    /// Approved by `approver`.
    pub fn approved(cashier: &'a SignedIn, approver: &'a SignedIn) -> Self {
        Self {
            cashier,
            approver: Some(approver),
        }
    }
}

/// What a cashier is told when a refund or void here needs a manager.
pub const NEEDS_APPROVAL: &str =
    "refunds and voids at this till need a manager's PIN: ask a manager to enter theirs";

impl Station {
    /// How much of each line of `sale` has been returned already (thousandths).
    pub async fn returned_lines(&self, sale: Uuid) -> StationResult<BTreeMap<i32, i64>> {
        let mut connection = self.pool.acquire().await?;
        returned_so_far_on(&mut connection, sale).await
    }

    /// Returns part or all of a sale this station recorded: `lines` are (line number,
    /// quantity). The money back is each line's proportional share, priced as the server
    /// prices it, so steps add up exactly to what was paid. `tender` is how the money goes
    /// back: "cash" (the default at the counter), or the sale's own "momo" or "card".
    pub async fn refund(
        &self,
        clock: &dyn Clock,
        by: Returner<'_>,
        sale_id: Uuid,
        lines: &[(i32, Quantity)],
        tender: &str,
        reason: Option<&str>,
    ) -> StationResult<Committed> {
        if lines.is_empty() {
            return Err(invalid("choose at least one line to refund"));
        }
        let tender: TenderKind = tender
            .parse()
            .map_err(|_| invalid("money goes back as cash, momo, card or onto the account"))?;
        self.record_return(clock, by, sale_id, Some(lines), tender, reason)
            .await
    }

    /// Cancels everything not yet returned of a sale, with a reason; the money goes back the
    /// way it was paid in cash.
    pub async fn void(
        &self,
        clock: &dyn Clock,
        by: Returner<'_>,
        sale_id: Uuid,
        reason: &str,
    ) -> StationResult<Committed> {
        if reason.trim().is_empty() {
            return Err(invalid("a void needs a reason"));
        }
        self.record_return(clock, by, sale_id, None, TenderKind::Cash, Some(reason))
            .await
    }

    pub(crate) async fn record_return(
        &self,
        clock: &dyn Clock,
        by: Returner<'_>,
        sale_id: Uuid,
        lines: Option<&[(i32, Quantity)]>,
        tender: TenderKind,
        reason: Option<&str>,
    ) -> StationResult<Committed> {
        let (cashier, approver) = (by.cashier, by.approver);
        // Read before the transaction: the station's one connection is the transaction's.
        if self
            .station_settings()
            .await?
            .return_needs_approval(cashier)
        {
            match approver {
                Some(approver) if approver.role.allows(Permission::RefundAnySale) => {}
                Some(approver) => {
                    return Err(invalid(format!(
                        "{} cannot approve refunds and voids: a manager or owner must",
                        approver.name
                    )));
                }
                None => return Err(invalid(NEEDS_APPROVAL)),
            }
        }
        // One IMMEDIATE transaction from the first read to the commit: two returns of the same
        // sale (two tills' screens, or a script beside the screen) take turns, and the second
        // sees what the first gave back, so nothing is refunded twice.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let original = local_sale_on(&mut transaction, sale_id).await?.ok_or_else(|| {
            invalid("this station has no such sale; refund it at the station that sold it, or from the dashboard")
        })?;
        if original.kind != "sale" {
            return Err(invalid("that is already a refund or void"));
        }
        may_return_sale(
            cashier.role,
            UserId::from_uuid(cashier.id),
            UserId::from_uuid(original.cashier_id),
        )
        .map_err(|refused| invalid(refused.to_string()))?;
        let reason = optional_reason(reason).map_err(|refused| invalid(refused.to_string()))?;
        let kind = if lines.is_some() { "refund" } else { "void" };
        let returned: BTreeMap<i32, Quantity> = returned_so_far_on(&mut transaction, sale_id)
            .await?
            .into_iter()
            .map(|(line_no, milli)| (line_no, Quantity::from_milli(milli)))
            .collect();
        let sold = &original.receipt;
        let returning = match lines {
            Some(lines) => Returning::Lines(lines),
            None => Returning::Everything,
        };
        let priced = price_return(&sold.lines, &returned, returning).map_err(|refused| {
            match refused {
                // At the counter the line is named as the receipt shows it.
                ReturnError::TooMuch {
                    line_no,
                    sold: sold_quantity,
                    returned_before,
                    requested,
                } => {
                    let name = sold
                        .lines
                        .iter()
                        .find(|line| line.line_no == line_no)
                        .map_or("", |line| line.name.as_str());
                    invalid(format!(
                        "line {line_no} ({name}): {sold_quantity} sold, {returned_before} already returned; cannot return {requested}"
                    ))
                }
                other => invalid(other.to_string()),
            }
        })?;
        let mut receipt_lines = Vec::with_capacity(priced.lines.len());
        for (index, returned) in priced.lines.iter().enumerate() {
            let line = sold
                .lines
                .iter()
                .find(|line| line.line_no == returned.line_no)
                .ok_or_else(|| invalid(format!("the sale has no line {}", returned.line_no)))?;
            receipt_lines.push(ReceiptLine {
                line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
                product_id: line.product_id,
                sku: line.sku.clone(),
                name: line.name.clone(),
                quantity: returned.quantity,
                pack: line.pack.clone(),
                unit_price_minor: line.unit_price_minor,
                gross_minor: returned.amounts.gross_minor,
                discount_minor: returned.amounts.discount_minor,
                net_minor: returned.amounts.net_minor,
                tax_minor: returned.amounts.tax_minor,
                total_minor: returned.amounts.total_minor,
                levies: returned.amounts.levies.clone(),
            });
        }
        let settings = till_settings_on(&mut transaction).await?;
        let total = priced.totals.total_minor;
        // A sale on credit is refunded onto the account it was put on, to its customer.
        let customer: Option<Uuid> =
            sqlx::query_scalar::<_, Option<String>>("SELECT customer_id FROM sales WHERE id = $1")
                .bind(sale_id.to_string())
                .fetch_optional(&mut *transaction)
                .await?
                .flatten()
                .and_then(|id| id.parse().ok());
        let tender = nexus_domain::account::refund_tender(
            sold.tenders
                .iter()
                .any(|tender| tender.kind == TenderKind::Credit.as_str()),
            tender,
        );
        if tender == TenderKind::Credit && customer.is_none() {
            return Err(invalid(
                "only a sale to a named customer can be refunded onto an account",
            ));
        }
        let account_balance_minor = match customer {
            Some(customer) if tender == TenderKind::Credit => {
                Some(crate::till::accounts::owed_on(&mut transaction, customer).await? + total)
            }
            _ => None,
        };
        let now = clock.now();
        let return_id = nexus_domain::ids::new_v7(now);
        let identity = identity_on(&mut transaction).await?;
        let device = identity.device;
        let receipt_number =
            Self::next_receipt_number(&mut transaction, &identity.receipt_prefix).await?;
        let shift_id = open_shift_id_on(&mut transaction, cashier.id).await?;
        let shop = super::shop_on(&mut transaction).await?;
        let receipt = Receipt {
            shop,
            title: kind.to_uppercase(),
            branch: sold.branch.clone(),
            station: sold.station.clone(),
            receipt_number: receipt_number.clone(),
            refers_to_receipt: Some(sold.receipt_number.clone()),
            printed_at: nexus_domain::calendar::format_local_minute(
                now.as_millis(),
                settings.offset_minutes,
            ),
            cashier: cashier.name.clone(),
            customer: sold.customer.clone(),
            price_list: sold.price_list,
            currency: sold.currency,
            price_mode: sold.price_mode,
            gross_minor: priced.totals.gross_minor,
            discount_minor: priced.totals.discount_minor,
            net_minor: priced.totals.net_minor,
            tax_minor: priced.totals.tax_minor,
            total_minor: total,
            levies: receipt_levies(&settings.tax, &priced.totals.levies),
            lines: receipt_lines,
            tenders: vec![ReceiptTender {
                kind: tender.as_str().to_owned(),
                amount_minor: total,
                network: None,
                phone: None,
                reference: None,
            }],
            change_minor: 0,
            reason: reason.clone(),
            account_balance_minor,
        };
        self.insert_local_sale(
            &mut transaction,
            LocalSale {
                id: return_id,
                kind,
                refers_to: Some(sale_id),
                cashier: cashier.id,
                shift: shift_id.as_deref(),
                customer,
                occurred_at: now,
                change_minor: 0,
                receipt: &receipt,
            },
        )
        .await?;
        for (index, returned) in priced.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO returned_lines (return_id, sale_id, line_no, quantity_milli, product_id, position) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(return_id.to_string())
            .bind(sale_id.to_string())
            .bind(returned.line_no)
            // In base units, as the stock ledger counts: a carton back is 24 back.
            .bind(
                -nexus_domain::pack::base_quantity(
                    returned.quantity,
                    receipt.lines[index].pack.as_ref(),
                )
                .unwrap_or(returned.quantity)
                .milli(),
            )
            .bind(receipt.lines[index].product_id.to_string())
            .bind(i64::try_from(index).unwrap_or(0))
            .execute(&mut *transaction)
            .await?;
        }
        let void = lines.is_none();
        let payload = ReturnOp {
            cashier_id: UserId::from_uuid(cashier.id),
            sale_id: SaleId::from_uuid(sale_id),
            kind: if void {
                ReturnKind::Void
            } else {
                ReturnKind::Refund
            },
            // A void names no lines: the server returns whatever is left, as this till did.
            lines: if void {
                Vec::new()
            } else {
                priced
                    .lines
                    .iter()
                    .map(|returned| ReturnLine {
                        line_no: returned.line_no,
                        quantity: Quantity::from_milli(-returned.quantity.milli()),
                    })
                    .collect()
            },
            reason,
            // The server puts a return of a sale on credit back on the account by the same
            // rule, whatever a void names.
            tender: (!void).then_some(tender),
            occurred_at: now.as_millis(),
            receipt_number: Some(receipt_number.clone()),
            approved_by: approver.map(|approver| UserId::from_uuid(approver.id)),
        };
        Self::append_op(&mut transaction, device, now, return_id, &payload).await?;
        transaction.commit().await?;
        Ok(Committed {
            id: return_id,
            receipt_number,
            // Money back, as a positive amount.
            total_minor: -total,
            change_minor: 0,
            warnings: Vec::new(),
            receipt,
        })
    }
}

/// Per line of `sale`, the thousandths already returned by refunds and voids here.
pub(crate) async fn returned_so_far_on(
    connection: &mut sqlx::SqliteConnection,
    sale: Uuid,
) -> StationResult<BTreeMap<i32, i64>> {
    let rows = sqlx::query(
        "SELECT line_no, SUM(quantity_milli) AS returned FROM returned_lines WHERE sale_id = $1 GROUP BY line_no",
    )
    .bind(sale.to_string())
    .fetch_all(&mut *connection)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("line_no")?, row.try_get("returned")?)))
        .collect()
}
