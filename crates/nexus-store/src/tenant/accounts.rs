//! Customer accounts: the ledger of what each customer owes. A sale or refund with credit
//! tenders writes its entry in its own transaction (`write_sale_entries`, called where sales
//! are inserted); a payment on account is written here. Every entry is logged for the tills,
//! which add up the same entries.

use std::collections::HashMap;

use async_trait::async_trait;
use nexus_domain::account::{Entry, EntryKind, credit_of};
use nexus_domain::{BranchId, SaleKind, TenantId, TenderKind, UnixMillis, UserId};
use serde::Serialize;

use super::changes::{PendingChange, log_changes, pending_change};
use super::{TenantAccess, with_tenant};
use crate::retail::Sale;
use crate::sql::{Backend, Conn, RowExt, Rows, placeholders, query, rows_per_statement};
use crate::{StoreError, StoreResult};

/// An account entry as kept, with where and by whom it was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AccountEntry))]
pub struct AccountEntryRow {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub kind: EntryKind,
    /// What it adds to what the customer owes: payments and refunds are negative.
    pub amount_minor: i64,
    pub occurred_at: UnixMillis,
    pub recorded_at: UnixMillis,
    pub recorded_by: UserId,
    pub branch_id: Option<BranchId>,
    pub station_id: Option<uuid::Uuid>,
    pub shift_id: Option<uuid::Uuid>,
    /// The sale's or refund's receipt, or the payment's.
    pub receipt_number: Option<String>,
    /// How a payment was made: cash or momo.
    pub payment_kind: Option<TenderKind>,
    pub network: Option<String>,
    pub phone: Option<String>,
    /// A mobile-money payment's transaction id.
    pub reference: Option<String>,
    /// Mobile money taken offline is unverified until checked with the network.
    pub verified: bool,
}

impl AccountEntryRow {
    pub fn entry(&self) -> Entry {
        Entry {
            id: self.id,
            kind: self.kind,
            amount_minor: self.amount_minor,
            occurred_at: self.occurred_at,
        }
    }

    /// The entry as the tills pull it.
    fn record(&self) -> nexus_sync::AccountEntryRecord {
        nexus_sync::AccountEntryRecord {
            id: self.id,
            customer_id: self.customer_id,
            kind: self.kind,
            amount_minor: self.amount_minor,
            occurred_at: self.occurred_at,
        }
    }
}

/// A payment on account about to be written; the tender is checked (cash or momo).
#[derive(Clone, Debug)]
pub struct NewAccountPayment {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub tender: nexus_domain::Tender,
    pub occurred_at: UnixMillis,
    pub recorded_at: UnixMillis,
    pub recorded_by: UserId,
    pub branch_id: Option<BranchId>,
    pub station_id: Option<uuid::Uuid>,
    pub shift_id: Option<uuid::Uuid>,
    pub receipt_number: Option<String>,
}

#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Idempotent on the payment's id: a payment already recorded comes back with `false`; an
    /// id that names another entry is a conflict on `id`.
    async fn record_account_payment(
        &self,
        tenant: TenantId,
        payment: NewAccountPayment,
    ) -> StoreResult<(AccountEntryRow, bool)>;
    /// Every entry of these customers' accounts, by customer, in statement order.
    async fn account_entries(
        &self,
        tenant: TenantId,
        customers: &[uuid::Uuid],
    ) -> StoreResult<HashMap<uuid::Uuid, Vec<AccountEntryRow>>>;
    /// What each of these customers owes (those with no entries owe 0 and are left out).
    async fn account_balances(
        &self,
        tenant: TenantId,
        customers: &[uuid::Uuid],
    ) -> StoreResult<HashMap<uuid::Uuid, i64>>;
    /// Every customer who owes something, with what they owe.
    async fn owing_customers(&self, tenant: TenantId) -> StoreResult<Vec<(uuid::Uuid, i64)>>;
}

const ENTRY_COLUMNS: &[&str] = &[
    "id",
    "customer_id",
    "kind",
    "amount_minor",
    "occurred_at",
    "recorded_at",
    "recorded_by",
    "branch_id",
    "station_id",
    "shift_id",
    "receipt_number",
    "payment_kind",
    "network",
    "phone",
    "reference",
    "verified",
];

fn entry_from_row<R: RowExt>(row: &R) -> sqlx::Result<AccountEntryRow>
where
    R::Database: Backend,
{
    let kind: String = row.field("kind")?;
    let payment_kind: Option<String> = row.field("payment_kind")?;
    Ok(AccountEntryRow {
        id: row.field("id")?,
        customer_id: row.field("customer_id")?,
        kind: EntryKind::parse(&kind)
            .ok_or_else(|| sqlx::Error::Decode(format!("bad entry kind: {kind:?}").into()))?,
        amount_minor: row.field("amount_minor")?,
        occurred_at: UnixMillis::from_millis(row.field("occurred_at")?),
        recorded_at: UnixMillis::from_millis(row.field("recorded_at")?),
        recorded_by: UserId::from_uuid(row.field("recorded_by")?),
        branch_id: row
            .field::<Option<uuid::Uuid>>("branch_id")?
            .map(BranchId::from_uuid),
        station_id: row.field("station_id")?,
        shift_id: row.field("shift_id")?,
        receipt_number: row.field("receipt_number")?,
        payment_kind: payment_kind
            .as_deref()
            .map(super::sales::tender_kind)
            .transpose()?,
        network: row.field("network")?,
        phone: row.field("phone")?,
        reference: row.field("reference")?,
        verified: row.field("verified")?,
    })
}

/// Inserts entries that are not there yet and logs those that were written for the tills.
/// Returns the ids written.
async fn insert_entries<B: Backend>(
    connection: &mut Conn<B>,
    entries: &[AccountEntryRow],
) -> StoreResult<std::collections::HashSet<uuid::Uuid>> {
    let (written, changes) = write_entries::<B>(connection, entries).await?;
    log_changes::<B>(connection, &changes).await?;
    Ok(written)
}

/// Inserts entries that are not there yet; returns the ids written and the change-log entries
/// for the tills, for the caller to log.
async fn write_entries<B: Backend>(
    connection: &mut Conn<B>,
    entries: &[AccountEntryRow],
) -> StoreResult<(std::collections::HashSet<uuid::Uuid>, Vec<PendingChange>)> {
    let mut rows = Rows::new("account_entries", ENTRY_COLUMNS);
    for entry in entries {
        rows.push([
            entry.id.into(),
            entry.customer_id.into(),
            entry.kind.as_str().into(),
            entry.amount_minor.into(),
            entry.occurred_at.as_millis().into(),
            entry.recorded_at.as_millis().into(),
            entry.recorded_by.as_uuid().into(),
            entry.branch_id.map(|branch| branch.as_uuid()).into(),
            entry.station_id.into(),
            entry.shift_id.into(),
            entry.receipt_number.as_deref().into(),
            entry.payment_kind.map(TenderKind::as_str).into(),
            entry.network.as_deref().into(),
            entry.phone.as_deref().into(),
            entry.reference.as_deref().into(),
            entry.verified.into(),
        ]);
    }
    let written: std::collections::HashSet<uuid::Uuid> = rows
        .insert_returning_ids::<B>(connection, "ON CONFLICT (id) DO NOTHING RETURNING id")
        .await?
        .into_iter()
        .collect();
    let changes: Vec<PendingChange> = entries
        .iter()
        .filter(|entry| written.contains(&entry.id))
        .map(|entry| {
            pending_change(
                "account_entry",
                entry.id,
                None,
                &entry.record(),
                entry.recorded_at,
            )
        })
        .collect::<StoreResult<_>>()?;
    Ok((written, changes))
}

/// The account entries of sales and refunds paid, wholly or in part, on credit; written with the
/// sales in their transaction. A credit tender on a sale without a customer cannot be put on
/// any account and is refused (the sale rules refuse it before it gets here). Returns the
/// change-log entries for the tills, for the caller to log.
pub(crate) async fn write_sale_entries<B: Backend>(
    connection: &mut Conn<B>,
    sales: &[(&Sale, i32)],
) -> StoreResult<Vec<PendingChange>> {
    let mut entries = Vec::new();
    for (sale, _) in sales {
        let amount = credit_of(&sale.tenders);
        if amount == 0 {
            continue;
        }
        let customer = sale
            .customer_id
            .ok_or_else(|| StoreError::Refused("a sale on credit needs its customer".to_owned()))?;
        entries.push(AccountEntryRow {
            id: sale.id.as_uuid(),
            customer_id: customer,
            kind: if sale.kind == SaleKind::Sale {
                EntryKind::Sale
            } else {
                EntryKind::Refund
            },
            amount_minor: amount,
            occurred_at: sale.occurred_at,
            recorded_at: sale.recorded_at,
            recorded_by: sale.cashier_id,
            branch_id: Some(sale.branch_id),
            station_id: None,
            shift_id: sale.shift_id,
            receipt_number: sale.receipt_number.clone(),
            payment_kind: None,
            network: None,
            phone: None,
            reference: None,
            verified: true,
        });
    }
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    Ok(write_entries::<B>(connection, &entries).await?.1)
}

async fn read_entry<B: Backend>(
    connection: &mut Conn<B>,
    id: uuid::Uuid,
) -> sqlx::Result<Option<AccountEntryRow>> {
    let sql = format!(
        "SELECT {} FROM account_entries WHERE id = $1",
        ENTRY_COLUMNS.join(", ")
    );
    let row = query::<B>(&sql).bind(id).fetch_optional(connection).await?;
    row.as_ref().map(entry_from_row).transpose()
}

async fn record_payment<B: Backend>(
    connection: &mut Conn<B>,
    payment: &NewAccountPayment,
) -> StoreResult<(AccountEntryRow, bool)> {
    // A payment id that is a sale's id is refused here, whatever the entries say.
    let clash: Option<uuid::Uuid> = query::<B>("SELECT id FROM sales WHERE id = $1")
        .bind(payment.id)
        .scalar_optional(&mut *connection)
        .await?;
    if clash.is_some() {
        return Err(StoreError::Conflict { field: "id" });
    }
    let row = AccountEntryRow {
        id: payment.id,
        customer_id: payment.customer_id,
        kind: EntryKind::Payment,
        amount_minor: -payment.tender.amount_minor,
        occurred_at: payment.occurred_at,
        recorded_at: payment.recorded_at,
        recorded_by: payment.recorded_by,
        branch_id: payment.branch_id,
        station_id: payment.station_id,
        shift_id: payment.shift_id,
        receipt_number: payment.receipt_number.clone(),
        payment_kind: Some(payment.tender.kind),
        network: payment.tender.network.clone(),
        phone: payment.tender.phone.clone(),
        reference: payment.tender.reference.clone(),
        verified: payment.tender.verified,
    };
    let written = insert_entries::<B>(connection, std::slice::from_ref(&row)).await?;
    if written.contains(&row.id) {
        return Ok((row, true));
    }
    let existing = read_entry::<B>(connection, payment.id)
        .await?
        .ok_or(StoreError::Conflict { field: "id" })?;
    if existing.kind != EntryKind::Payment
        || existing.customer_id != payment.customer_id
        || existing.amount_minor != row.amount_minor
    {
        return Err(StoreError::Conflict { field: "id" });
    }
    Ok((existing, false))
}

async fn entries_of<B: Backend>(
    connection: &mut Conn<B>,
    customers: &[uuid::Uuid],
) -> StoreResult<HashMap<uuid::Uuid, Vec<AccountEntryRow>>> {
    let mut found: HashMap<uuid::Uuid, Vec<AccountEntryRow>> = HashMap::new();
    for chunk in customers.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT {} FROM account_entries WHERE customer_id IN ({}) \
             ORDER BY occurred_at, id",
            ENTRY_COLUMNS.join(", "),
            placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for customer in chunk {
            statement = statement.bind(*customer);
        }
        for row in statement.fetch_all(&mut *connection).await? {
            let entry = entry_from_row(&row)?;
            found.entry(entry.customer_id).or_default().push(entry);
        }
    }
    Ok(found)
}

pub(crate) async fn balances<B: Backend>(
    connection: &mut Conn<B>,
    customers: &[uuid::Uuid],
) -> StoreResult<HashMap<uuid::Uuid, i64>> {
    let mut found = HashMap::new();
    for chunk in customers.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT customer_id, CAST(SUM(amount_minor) AS BIGINT) AS owed FROM account_entries \
             WHERE customer_id IN ({}) GROUP BY customer_id",
            placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for customer in chunk {
            statement = statement.bind(*customer);
        }
        for row in statement.fetch_all(&mut *connection).await? {
            found.insert(
                row.field::<uuid::Uuid>("customer_id")?,
                row.field::<i64>("owed")?,
            );
        }
    }
    Ok(found)
}

async fn owing<B: Backend>(connection: &mut Conn<B>) -> StoreResult<Vec<(uuid::Uuid, i64)>> {
    let rows = query::<B>(
        "SELECT customer_id, CAST(SUM(amount_minor) AS BIGINT) AS owed FROM account_entries \
         GROUP BY customer_id HAVING SUM(amount_minor) > 0",
    )
    .fetch_all(connection)
    .await?;
    rows.iter()
        .map(|row| Ok((row.field("customer_id")?, row.field("owed")?)))
        .collect::<sqlx::Result<_>>()
        .map_err(Into::into)
}

#[async_trait]
impl<S: TenantAccess> AccountStore for S {
    async fn record_account_payment(
        &self,
        tenant: TenantId,
        payment: NewAccountPayment,
    ) -> StoreResult<(AccountEntryRow, bool)> {
        with_tenant(self, tenant, async |connection| {
            record_payment::<S::Db>(connection, &payment).await
        })
        .await
    }

    async fn account_entries(
        &self,
        tenant: TenantId,
        customers: &[uuid::Uuid],
    ) -> StoreResult<HashMap<uuid::Uuid, Vec<AccountEntryRow>>> {
        with_tenant(self, tenant, async |connection| {
            entries_of::<S::Db>(connection, customers).await
        })
        .await
    }

    async fn account_balances(
        &self,
        tenant: TenantId,
        customers: &[uuid::Uuid],
    ) -> StoreResult<HashMap<uuid::Uuid, i64>> {
        with_tenant(self, tenant, async |connection| {
            balances::<S::Db>(connection, customers).await
        })
        .await
    }

    async fn owing_customers(&self, tenant: TenantId) -> StoreResult<Vec<(uuid::Uuid, i64)>> {
        with_tenant(self, tenant, async |connection| {
            owing::<S::Db>(connection).await
        })
        .await
    }
}
