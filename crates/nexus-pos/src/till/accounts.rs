//! Customer accounts at the till. What a customer owes is the sum of the account entries this
//! till holds: those pulled from the server (every till's and the dashboard's) and its own,
//! synced or not. So the credit check of a sale offline counts the last synced balance plus
//! this till's unsynced sales on credit and payments, and after a sync the till and the server
//! add up the same entries.

use nexus_domain::account::{self, EntryKind, StatementLine};
use nexus_domain::{Clock, Currency, UserId};
use nexus_sync::{AccountEntryRecord, AccountPaymentOp, NewTender};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::till::checkout::TenderInput;
use crate::till::customers::Customer;
use crate::till::sign_in::SignedIn;
use crate::till::{invalid, open_shift_id_on, till_settings_on};
use crate::{Station, StationResult};

/// A customer's account as this till knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TillAccount {
    pub customer: Customer,
    pub balance_minor: i64,
    pub credit_limit_minor: Option<i64>,
    pub credit_left_minor: i64,
    /// Every entry this till holds, oldest first, with the running balance.
    pub statement: Vec<StatementLine>,
}

/// A payment on account taken here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTaken {
    pub id: Uuid,
    pub amount_minor: i64,
    /// What the customer owes after it.
    pub balance_minor: i64,
}

/// What `customer` owes by the entries held here.
pub(crate) async fn owed_on(
    connection: &mut sqlx::SqliteConnection,
    customer: Uuid,
) -> StationResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM account_entries WHERE customer_id = $1",
    )
    .bind(customer.to_string())
    .fetch_one(&mut *connection)
    .await?)
}

/// Whether `amount_minor` more may go on `customer`'s account: their limit as last pulled
/// against what they owe here. The refusal says what is left.
pub(crate) async fn check_credit_on(
    connection: &mut sqlx::SqliteConnection,
    currency: Currency,
    customer: &Customer,
    amount_minor: i64,
) -> StationResult<()> {
    let limit: Option<i64> =
        sqlx::query_scalar("SELECT credit_limit_minor FROM customers WHERE id = $1")
            .bind(customer.id.to_string())
            .fetch_optional(&mut *connection)
            .await?
            .flatten();
    let owed = owed_on(connection, customer.id).await?;
    account::check_credit(&customer.name, currency, limit, owed, amount_minor)
        .map_err(|refused| invalid(refused.to_string()))
}

/// One entry, kept once by its id: a pulled copy of an entry already here changes nothing.
pub(crate) struct LocalEntry<'a> {
    pub(crate) id: Uuid,
    pub(crate) customer: Uuid,
    pub(crate) kind: EntryKind,
    pub(crate) amount_minor: i64,
    pub(crate) occurred_at: i64,
    pub(crate) shift: Option<&'a str>,
    pub(crate) payment_kind: Option<&'a str>,
}

pub(crate) async fn insert_entry_on(
    connection: &mut sqlx::SqliteConnection,
    entry: LocalEntry<'_>,
) -> StationResult<()> {
    sqlx::query(
        "INSERT INTO account_entries (id, customer_id, kind, amount_minor, occurred_at, shift_id, payment_kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(entry.id.to_string())
    .bind(entry.customer.to_string())
    .bind(entry.kind.as_str())
    .bind(entry.amount_minor)
    .bind(entry.occurred_at)
    .bind(entry.shift)
    .bind(entry.payment_kind)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// A sale or refund recorded here, for its account entry.
pub(crate) struct EntryOf<'a> {
    pub(crate) id: Uuid,
    pub(crate) customer: Uuid,
    pub(crate) is_sale: bool,
    pub(crate) receipt: &'a crate::receipt::Receipt,
    pub(crate) occurred_at: i64,
}

/// The account entry of a sale or refund with credit tenders (a refund's are negative), written
/// in the sale's own transaction; nothing for one paid otherwise.
pub(crate) async fn insert_sale_entry_on(
    connection: &mut sqlx::SqliteConnection,
    sale: EntryOf<'_>,
) -> StationResult<()> {
    let credit: i64 = sale
        .receipt
        .tenders
        .iter()
        .filter(|tender| tender.kind == nexus_domain::TenderKind::Credit.as_str())
        .map(|tender| tender.amount_minor)
        .sum();
    if credit == 0 {
        return Ok(());
    }
    insert_entry_on(
        connection,
        LocalEntry {
            id: sale.id,
            customer: sale.customer,
            kind: if sale.is_sale {
                EntryKind::Sale
            } else {
                EntryKind::Refund
            },
            amount_minor: credit,
            occurred_at: sale.occurred_at,
            shift: None,
            payment_kind: None,
        },
    )
    .await
}

/// A pulled entry: the server's copy of any till's or the dashboard's.
pub(crate) async fn store_pulled_entry(
    connection: &mut sqlx::SqliteConnection,
    entry: &AccountEntryRecord,
) -> StationResult<()> {
    insert_entry_on(
        connection,
        LocalEntry {
            id: entry.id,
            customer: entry.customer_id,
            kind: entry.kind,
            amount_minor: entry.amount_minor,
            occurred_at: entry.occurred_at.as_millis(),
            shift: None,
            payment_kind: None,
        },
    )
    .await
}

/// The money payments on account brought into a shift, by how they were paid ("cash", "momo").
pub(crate) async fn shift_payments_on(
    connection: &mut sqlx::SqliteConnection,
    shift: &str,
) -> StationResult<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT payment_kind, SUM(-amount_minor) AS paid FROM account_entries \
         WHERE shift_id = $1 AND kind = 'payment' GROUP BY payment_kind",
    )
    .bind(shift)
    .fetch_all(&mut *connection)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<Option<String>, _>("payment_kind")?
                    .unwrap_or_else(|| "cash".to_owned()),
                row.try_get("paid")?,
            ))
        })
        .collect()
}

impl Station {
    /// A customer's account as this till knows it; `None` for a customer not known here.
    pub async fn account(&self, customer: Uuid) -> StationResult<Option<TillAccount>> {
        let Some(found) = self.customer(customer).await? else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT id, kind, amount_minor, occurred_at FROM account_entries WHERE customer_id = $1",
        )
        .bind(customer.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            entries.push(account::Entry {
                id: crate::till::parse_uuid(&row.try_get::<String, _>("id")?, "entry id")?,
                kind: EntryKind::parse(&kind).ok_or_else(|| {
                    crate::StationError::Damaged(format!("an account entry of kind {kind:?}"))
                })?,
                amount_minor: row.try_get("amount_minor")?,
                occurred_at: nexus_domain::UnixMillis::from_millis(row.try_get("occurred_at")?),
            });
        }
        let statement = account::statement(entries);
        let balance = statement.last().map_or(0, |line| line.balance_minor);
        Ok(Some(TillAccount {
            credit_limit_minor: found.credit_limit_minor,
            credit_left_minor: account::credit_left(found.credit_limit_minor, balance),
            customer: found,
            balance_minor: balance,
            statement,
        }))
    }

    /// Takes a payment on `customer`'s account, in cash or mobile money, offline: the entry and
    /// its op commit together, and cash joins the cashier's open shift.
    pub async fn take_payment(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        customer: Uuid,
        tender: &TenderInput,
    ) -> StationResult<PaymentTaken> {
        let payment = match tender {
            TenderInput::Cash { .. } | TenderInput::Momo { .. } => tender.checked()?,
            _ => return Err(invalid("a payment on account is cash or mobile money")),
        };
        let known = self
            .customer(customer)
            .await?
            .ok_or_else(|| invalid("this till does not know that customer"))?;
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // The settings say the till has synced once; the payment needs nothing else of them.
        till_settings_on(&mut transaction).await?;
        let now = clock.now();
        let id = nexus_domain::ids::new_v7(now);
        let device = crate::enrolment::identity_on(&mut transaction)
            .await?
            .device;
        let shift = open_shift_id_on(&mut transaction, cashier.id).await?;
        insert_entry_on(
            &mut transaction,
            LocalEntry {
                id,
                customer: known.id,
                kind: EntryKind::Payment,
                amount_minor: -payment.amount_minor,
                occurred_at: now.as_millis(),
                shift: shift.as_deref(),
                payment_kind: Some(payment.kind.as_str()),
            },
        )
        .await?;
        let payload = AccountPaymentOp {
            actor_id: UserId::from_uuid(cashier.id),
            customer_id: known.id,
            tender: NewTender::from(&payment),
            shift_id: shift
                .as_deref()
                .map(|shift| crate::till::parse_uuid(shift, "shift id"))
                .transpose()?,
            receipt_number: None,
            occurred_at: now.as_millis(),
        };
        Self::append_op(&mut transaction, device, now, id, &payload).await?;
        let balance = owed_on(&mut transaction, known.id).await?;
        transaction.commit().await?;
        Ok(PaymentTaken {
            id,
            amount_minor: payment.amount_minor,
            balance_minor: balance,
        })
    }
}
