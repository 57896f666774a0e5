//! Checkout: checking the tenders, numbering the receipt and committing the sale with its op in
//! one transaction; and sales recorded without the cashier screen (scripts, tests).

use nexus_domain::tender::check_coverage;
use nexus_domain::{
    BranchId, Clock, ProductId, ReceiptPrefix, SaleId, TaxRules, Tender, TenderError, TenderKind,
    UnixMillis, UserId,
};
use nexus_sync::{NewSale, NewSaleLine, NewTender, SaleOp, SettingsRecord, StaffRecord};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::enrolment::identity_on;
use crate::receipt::{Receipt, ReceiptLevy, ReceiptLine, ReceiptTender};
use crate::till::accounts::{EntryOf, check_credit_on, insert_sale_entry_on, owed_on};
use crate::till::cart::{Cart, check_discount};
use crate::till::recorded::momo_receipts_on;
use crate::till::sign_in::SignedIn;
use crate::till::{invalid, open_shift_id_on, parse_uuid, till_settings_on};
use crate::{Station, StationError, StationResult};

/// How a customer pays, as the cashier enters it. Amounts in minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TenderInput {
    Cash {
        amount_minor: i64,
    },
    /// Mobile money taken offline: recorded unverified, with the payer's number and the
    /// transaction id from the confirmation SMS.
    Momo {
        amount_minor: i64,
        network: String,
        phone: String,
        reference: String,
    },
    /// A card on an external terminal; the terminal's reference ties the two together.
    Card {
        amount_minor: i64,
        reference: String,
    },
    /// On the account of the cart's customer, within their credit limit.
    Credit {
        amount_minor: i64,
    },
}

impl TenderInput {
    pub fn amount_minor(&self) -> i64 {
        match self {
            TenderInput::Cash { amount_minor }
            | TenderInput::Momo { amount_minor, .. }
            | TenderInput::Card { amount_minor, .. }
            | TenderInput::Credit { amount_minor } => *amount_minor,
        }
    }

    /// Checks the tender as the server will (amount, network, phone, reference).
    pub fn validate(&self) -> StationResult<()> {
        self.checked().map(|_| ())
    }

    /// Checks the tender by the rules the server holds the sale to.
    pub(crate) fn checked(&self) -> StationResult<Tender> {
        let (kind, network, phone, reference) = match self {
            TenderInput::Cash { .. } => (TenderKind::Cash, None, None, None),
            TenderInput::Momo {
                network,
                phone,
                reference,
                ..
            } => (
                TenderKind::Momo,
                Some(network.as_str()),
                Some(phone.as_str()),
                Some(reference.as_str()),
            ),
            TenderInput::Card { reference, .. } => {
                (TenderKind::Card, None, None, Some(reference.as_str()))
            }
            TenderInput::Credit { .. } => (TenderKind::Credit, None, None, None),
        };
        Tender::parse(
            kind.as_str(),
            self.amount_minor(),
            network,
            phone,
            reference,
        )
        .map_err(|refused| invalid(refused.to_string()))
    }
}

/// What a committed sale, refund or void gives back to the till.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committed {
    pub id: Uuid,
    pub receipt_number: String,
    pub total_minor: i64,
    pub change_minor: i64,
    /// Worth telling the cashier but not worth refusing the sale for (a mobile money
    /// transaction id seen before, say).
    pub warnings: Vec<String>,
    pub receipt: Receipt,
}

pub(crate) struct LocalSale<'a> {
    pub(crate) id: Uuid,
    pub(crate) kind: &'a str,
    pub(crate) refers_to: Option<Uuid>,
    pub(crate) cashier: Uuid,
    pub(crate) shift: Option<&'a str>,
    pub(crate) customer: Option<Uuid>,
    pub(crate) occurred_at: UnixMillis,
    pub(crate) change_minor: i64,
    pub(crate) receipt: &'a Receipt,
}

impl Station {
    /// Commits a sale: prices the cart, checks the tenders, numbers the receipt and writes the
    /// sale, its tenders and its op in one transaction. No network is involved. The sale joins
    /// the cashier's open shift, if any.
    pub async fn checkout(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        cart: &Cart,
        tenders: &[TenderInput],
    ) -> StationResult<Committed> {
        if cart.is_empty() {
            return Err(invalid("the cart is empty"));
        }
        if tenders.is_empty() {
            return Err(invalid("take a payment first"));
        }
        // Every read and write below happens in one transaction that takes the write lock at
        // its start (IMMEDIATE): a second process on this database (`nexus pos sell` beside
        // `nexus pos serve`) waits its turn instead of failing half-way, and the sale is
        // numbered and priced from what this transaction sees. On the pool's one connection,
        // each statement is a short hop, not a pool round trip.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let settings = till_settings_on(&mut transaction).await?;
        // The discounts were checked as they were given; check again, as the server will, in
        // case the cart was parked by someone with a larger allowance.
        let mut after_lines = 0_i64;
        for line in &cart.lines {
            let gross = line.gross_minor(cart.price_list())?;
            check_discount(cashier.role, settings.currency, line.discount_minor, gross)?;
            after_lines += gross - line.discount_minor;
        }
        check_discount(
            cashier.role,
            settings.currency,
            cart.discount_minor,
            after_lines,
        )?;
        let priced = Self::price(&settings, cart)?;
        let total = priced.totals.total_minor;
        let checked: Vec<Tender> = tenders
            .iter()
            .map(TenderInput::checked)
            .collect::<StationResult<_>>()?;
        let change = match check_coverage(settings.currency, &checked, total) {
            Ok(coverage) => coverage.change_minor,
            // The cashier is told what is still due rather than what was short.
            Err(TenderError::NotCovered {
                currency,
                tendered_minor,
                total_minor,
            }) => {
                return Err(invalid(format!(
                    "{currency} {} paid of {currency} {}: {currency} {} still due",
                    currency.format_minor(tendered_minor),
                    currency.format_minor(total_minor),
                    currency.format_minor(total_minor - tendered_minor)
                )));
            }
            Err(refused) => return Err(invalid(refused.to_string())),
        };
        // A sale on credit goes on the customer's account, within their limit as this till
        // knows it: the last synced balance plus this till's own unsynced entries.
        let credit = nexus_domain::account::credit_of(&checked);
        let owed_after = if credit > 0 {
            let customer = cart.customer.as_ref().ok_or_else(|| {
                invalid(nexus_domain::account::CreditError::NoCustomer.to_string())
            })?;
            check_credit_on(&mut transaction, settings.currency, customer, credit).await?;
            Some(owed_on(&mut transaction, customer.id).await? + credit)
        } else {
            None
        };
        let tenders: Vec<ReceiptTender> = checked.iter().map(ReceiptTender::from).collect();
        let mut warnings = Vec::new();
        for tender in tenders.iter().filter(|tender| tender.kind == "momo") {
            let reference = tender.reference.as_deref().unwrap_or("");
            let seen = momo_receipts_on(&mut transaction, reference, None).await?;
            if let Some(receipt) = seen.first() {
                warnings.push(format!(
                    "mobile money transaction {reference} was already used on receipt {receipt}: check the SMS"
                ));
            }
        }
        let now = clock.now();
        let sale_id = nexus_domain::ids::new_v7(now);
        let identity = identity_on(&mut transaction).await?;
        let (branch, device) = (identity.branch_id, identity.device);
        let lines: Vec<ReceiptLine> = cart
            .lines
            .iter()
            .zip(&priced.lines)
            .enumerate()
            .map(|(index, (line, tax))| ReceiptLine {
                line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
                product_id: line.product.id,
                sku: line.product.sku.clone(),
                name: line.product.name.clone(),
                quantity: line.quantity,
                pack: line.product.pack.clone(),
                unit_price_minor: cart.unit_price(line),
                gross_minor: tax.gross_minor,
                discount_minor: tax.discount_minor,
                net_minor: tax.net_minor,
                tax_minor: tax.tax_minor,
                total_minor: tax.total_minor,
                levies: tax.levies.clone(),
            })
            .collect();
        let receipt_number =
            Self::next_receipt_number(&mut transaction, &identity.receipt_prefix).await?;
        let shift_id = open_shift_id_on(&mut transaction, cashier.id).await?;
        let payload = SaleOp {
            cashier_id: UserId::from_uuid(cashier.id),
            shift_id: shift_id
                .as_deref()
                .map(|shift| parse_uuid(shift, "shift id"))
                .transpose()?,
            customer_id: cart.customer.as_ref().map(|customer| customer.id),
            sale: NewSale {
                id: SaleId::from_uuid(sale_id),
                branch_id: branch,
                occurred_at: Some(now.as_millis()),
                device_id: Some(device),
                receipt_number: Some(receipt_number.clone()),
                lines: cart
                    .lines
                    .iter()
                    .map(|line| NewSaleLine {
                        product_id: ProductId::from_uuid(line.product.id),
                        quantity: line.quantity,
                        unit_price_minor: Some(cart.unit_price(line)),
                        discount_minor: Some(line.discount_minor),
                        pack: line.product.pack.clone(),
                    })
                    .collect(),
                price_list: cart.price_list(),
                // The op names the customer beside the sale, as before.
                customer_id: None,
                discount_minor: Some(cart.discount_minor),
                tenders: checked.iter().map(NewTender::from).collect(),
            },
        };
        let shop = super::shop_on(&mut transaction).await?;
        let receipt = Receipt {
            shop,
            title: "SALE".to_owned(),
            branch: identity.branch_label,
            station: identity.station_label,
            receipt_number: receipt_number.clone(),
            refers_to_receipt: None,
            printed_at: nexus_domain::calendar::format_local_minute(
                now.as_millis(),
                settings.offset_minutes,
            ),
            cashier: cashier.name.clone(),
            customer: cart.customer.as_ref().map(|customer| customer.name.clone()),
            price_list: cart.price_list(),
            currency: settings.currency,
            price_mode: settings.tax.mode,
            lines,
            gross_minor: priced.totals.gross_minor,
            discount_minor: priced.totals.discount_minor,
            net_minor: priced.totals.net_minor,
            tax_minor: priced.totals.tax_minor,
            total_minor: total,
            levies: receipt_levies(&settings.tax, &priced.totals.levies),
            tenders: tenders.clone(),
            change_minor: change,
            reason: None,
            account_balance_minor: owed_after,
        };
        self.insert_local_sale(
            &mut transaction,
            LocalSale {
                id: sale_id,
                kind: "sale",
                refers_to: None,
                cashier: cashier.id,
                shift: shift_id.as_deref(),
                customer: cart.customer.as_ref().map(|customer| customer.id),
                occurred_at: now,
                change_minor: change,
                receipt: &receipt,
            },
        )
        .await?;
        Self::append_op(&mut transaction, device, now, sale_id, &payload).await?;
        transaction.commit().await?;
        Ok(Committed {
            id: sale_id,
            receipt_number,
            total_minor: total,
            change_minor: change,
            warnings,
            receipt,
        })
    }

    /// Records a sale locally, with its op, in one transaction. `sale` is what the server's
    /// `POST /api/v1/sales` takes; `cashier_id` is who rang it up. Works with no network at all.
    pub async fn record_sale(
        &self,
        clock: &dyn Clock,
        cashier_id: uuid::Uuid,
        sale: NewSale,
    ) -> StationResult<u64> {
        let sale_id = sale.id.as_uuid();
        let payload = SaleOp {
            cashier_id: UserId::from_uuid(cashier_id),
            shift_id: None,
            customer_id: None,
            sale,
        };
        self.write_op(clock, sale_id, &payload).await
    }

    /// Rings up a cash sale from the replica: each line is a product (by SKU or barcode) and a
    /// quantity at the catalogue's price, taxed by the tenant's rules exactly as the server taxes
    /// it, paid with exact cash. Returns the sale's id and total (minor units).
    pub async fn sell(
        &self,
        clock: &dyn Clock,
        cashier_id: uuid::Uuid,
        lines: &[(String, nexus_domain::Quantity)],
    ) -> StationResult<(uuid::Uuid, i64)> {
        let settings: SettingsRecord = self
            .replica_record(&uuid::Uuid::nil().to_string())
            .await?
            .ok_or_else(|| {
            StationError::Invalid(
                "no settings yet: run `nexus pos sync` once while online".to_owned(),
            )
        })?;
        let branch = self.required("branch_id").await?;
        let branch_id: BranchId = branch
            .parse()
            .map_err(|_| StationError::Damaged("the stored branch id is not a UUID".to_owned()))?;
        let cashier: Option<StaffRecord> = self.replica_record(&cashier_id.to_string()).await?;
        if !cashier.as_ref().is_some_and(|member| member.active) {
            return Err(StationError::Invalid(format!(
                "{cashier_id} is not active staff of this branch (as of the last sync)"
            )));
        }
        let mut inputs = Vec::with_capacity(lines.len());
        let mut requested = Vec::with_capacity(lines.len());
        for (code, quantity) in lines {
            let product = self.find_product(code).await?.ok_or_else(|| {
                StationError::Invalid(format!("no product with SKU or barcode {code:?}"))
            })?;
            let unit_price_minor = product.price_minor;
            let tax_class = product.tax_class;
            inputs.push(nexus_domain::LineInput {
                unit_price_minor,
                quantity: *quantity,
                discount_minor: 0,
                tax_class,
            });
            requested.push(NewSaleLine {
                product_id: ProductId::from_uuid(product.id),
                quantity: *quantity,
                unit_price_minor: Some(unit_price_minor),
                discount_minor: None,
                pack: product.pack.clone(),
            });
        }
        let (_, totals) = nexus_domain::compute_sale(&settings.tax, &inputs, 0)
            .map_err(|error| StationError::Invalid(error.to_string()))?;
        let now = clock.now();
        let sale_id = nexus_domain::ids::new_v7(now);
        let sale = NewSale {
            id: SaleId::from_uuid(sale_id),
            branch_id,
            occurred_at: Some(now.as_millis()),
            device_id: None,
            receipt_number: None,
            lines: requested,
            price_list: nexus_domain::PriceList::Retail,
            customer_id: None,
            discount_minor: None,
            tenders: vec![NewTender {
                kind: TenderKind::Cash.as_str().to_owned(),
                amount_minor: totals.total_minor,
                network: None,
                phone: None,
                reference: None,
            }],
        };
        self.record_sale(clock, cashier_id, sale).await?;
        Ok((sale_id, totals.total_minor))
    }

    /// The next number of this station's gap-free receipt sequence, taken inside the
    /// transaction that commits the document, so a crash leaves no gap and no number is used
    /// twice. Needs no network: the station's own counter is the authority.
    pub(crate) async fn next_receipt_number(
        transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        prefix: &ReceiptPrefix,
    ) -> StationResult<String> {
        let last: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'receipt_seq'")
                .fetch_optional(&mut **transaction)
                .await?;
        let last = match last {
            Some(text) => text.parse::<u64>().map_err(|_| {
                StationError::Damaged(format!(
                    "the stored receipt counter {text:?} is not a number"
                ))
            })?,
            None => 0,
        };
        let next = last + 1;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('receipt_seq', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(next.to_string())
            .execute(&mut **transaction)
            .await?;
        Ok(prefix.number(next).to_string())
    }

    pub(crate) async fn insert_local_sale(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        sale: LocalSale<'_>,
    ) -> StationResult<()> {
        let receipt_json = serde_json::to_string(sale.receipt)
            .map_err(|error| StationError::Damaged(format!("a receipt to keep: {error}")))?;
        sqlx::query(
            "INSERT INTO sales (id, receipt_number, kind, refers_to, cashier_id, shift_id, customer_id, \
             occurred_at, total_minor, change_minor, receipt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(sale.id.to_string())
        .bind(&sale.receipt.receipt_number)
        .bind(sale.kind)
        .bind(sale.refers_to.map(|id| id.to_string()))
        .bind(sale.cashier.to_string())
        .bind(sale.shift)
        .bind(sale.customer.map(|id| id.to_string()))
        .bind(sale.occurred_at.as_millis())
        .bind(sale.receipt.total_minor)
        .bind(sale.change_minor)
        .bind(receipt_json)
        .execute(&mut **transaction)
        .await?;
        for (position, tender) in sale.receipt.tenders.iter().enumerate() {
            sqlx::query(
                "INSERT INTO tenders (sale_id, position, kind, amount_minor, network, phone, reference, shift_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(sale.id.to_string())
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(&tender.kind)
            .bind(tender.amount_minor)
            .bind(&tender.network)
            .bind(&tender.phone)
            .bind(&tender.reference)
            .bind(sale.shift)
            .execute(&mut **transaction)
            .await?;
        }
        if let Some(customer) = sale.customer {
            insert_sale_entry_on(
                transaction,
                EntryOf {
                    id: sale.id,
                    customer,
                    is_sale: sale.kind == "sale",
                    receipt: sale.receipt,
                    occurred_at: sale.occurred_at.as_millis(),
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// The levies with their names and rates, for the receipt; codes the rules no longer name
/// (the rates changed since) print under their code.
pub(crate) fn receipt_levies(rules: &TaxRules, totals: &[(String, i64)]) -> Vec<ReceiptLevy> {
    totals
        .iter()
        .map(|(code, amount)| {
            let levy = rules.levies.iter().find(|levy| &levy.code == code);
            ReceiptLevy {
                code: code.clone(),
                name: levy.map_or_else(|| code.clone(), |levy| levy.name.clone()),
                rate_basis_points: levy.map_or(0, |levy| levy.rate_basis_points),
                amount_minor: *amount,
            }
        })
        .collect()
}
