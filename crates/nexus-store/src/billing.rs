//! Billing's records: each organisation's account, the provider events taken, the usage
//! reported and the invoices. They live with the control data (a webhook names a provider's
//! customer, and must find the organisation from it); the usage itself is counted from the
//! tenant's own tables, so it is exact and can be counted again.
//!
//! What an event does to an account is decided by `nexus_domain::billing::apply`, handed in
//! by the service; the store's part is to take each event once and decide on the account as
//! it stands, both in one transaction.

use std::future::Future;

use async_trait::async_trait;
use nexus_domain::billing::{
    Account, BillingCurrency, BillingPeriod, Channel, Ignored, PlanCode, ProviderKind, Status,
};
use nexus_domain::{TenantId, UnixMillis};
use uuid::Uuid;

use crate::sql::{Backend, Conn, RowExt, query};
use crate::tenant::{TenantAccess, with_tenant};
use crate::{StoreError, StoreResult};

/// An account and what billing has done with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingRecord {
    pub tenant: TenantId,
    pub account: Account,
    /// The last closed month whose usage was reported and invoiced.
    pub settled_through: Option<BillingPeriod>,
}

/// What one month's records show, counted from the tenant's own tables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageCounts {
    /// Sales the service recorded in the month (refunds and voids are not sales).
    pub sales: u64,
    /// Tills not revoked, enrolled or waiting for their code.
    pub tills: u64,
    /// Branches not archived.
    pub branches: u64,
}

/// A provider event, parsed and verified, as the store takes it.
#[derive(Clone, Debug)]
pub struct IncomingEvent {
    pub provider: ProviderKind,
    /// The provider's event id (Stripe `evt_…`; for Paystack, which sends none, the event
    /// kind and its object's id).
    pub event_id: String,
    pub kind: String,
    /// When it happened, by the provider's clock.
    pub occurred_at: UnixMillis,
    /// The provider's customer it is about; `None` when it names none (it then changes
    /// nothing, but is still recorded as taken).
    pub customer_ref: Option<String>,
    pub now: UnixMillis,
}

/// What became of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// The account changed (or was confirmed) to this.
    Applied(BillingRecord),
    /// Taken before; nothing done again.
    Duplicate,
    /// Taken, but it changes nothing: older than the state held, or about another
    /// subscription.
    Ignored(TenantId, Ignored),
    /// No organisation has this customer; taken, nothing changed.
    UnknownCustomer,
}

impl EventOutcome {
    fn label(&self) -> &'static str {
        match self {
            EventOutcome::Applied(_) => "applied",
            EventOutcome::Duplicate => "duplicate",
            EventOutcome::Ignored(_, Ignored::Older) => "older",
            EventOutcome::Ignored(_, Ignored::OtherSubscription) => "other_subscription",
            EventOutcome::UnknownCustomer => "unknown_customer",
        }
    }
}

/// How an event changes an account; the domain's rule, handed in by the service.
pub type Decide = dyn Fn(&Account) -> Result<Account, Ignored> + Send + Sync;

/// One month's usage as sent to a provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageReport {
    pub identifier: String,
    pub tenant: TenantId,
    pub meter: String,
    pub period: BillingPeriod,
    pub value: i64,
    pub reported_at: UnixMillis,
}

/// The state of an invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvoiceStatus {
    Open,
    Paid,
    Void,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
        }
    }

    fn parse(text: &str) -> sqlx::Result<Self> {
        match text {
            "open" => Ok(InvoiceStatus::Open),
            "paid" => Ok(InvoiceStatus::Paid),
            "void" => Ok(InvoiceStatus::Void),
            other => Err(decode_error("invoice status", other)),
        }
    }
}

/// An invoice of Nexus's, collected by a provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceRecord {
    pub id: Uuid,
    pub tenant: TenantId,
    /// What the provider knows it by (a Paystack transaction reference, a Stripe invoice id).
    pub reference: String,
    pub period: BillingPeriod,
    pub plan: PlanCode,
    pub currency: BillingCurrency,
    pub plan_minor: i64,
    pub over_minor: i64,
    pub amount_minor: i64,
    pub status: InvoiceStatus,
    pub provider: ProviderKind,
    /// Where the owner pays it (the provider's page).
    pub pay_url: Option<String>,
    pub created_at: UnixMillis,
    pub due_at: UnixMillis,
    pub paid_at: Option<UnixMillis>,
}

#[async_trait]
pub trait BillingStore: Send + Sync + 'static {
    /// The organisation's account; `fresh` is stored first when it has none.
    async fn billing_account(
        &self,
        tenant: TenantId,
        fresh: &Account,
        now: UnixMillis,
    ) -> StoreResult<BillingRecord>;
    /// Every organisation with an account, for the periodic settling.
    async fn billing_tenants(&self) -> StoreResult<Vec<TenantId>>;
    /// Records the provider's customer for the organisation; a customer already another's is
    /// `Conflict { field: "customer" }`.
    async fn set_billing_customer(
        &self,
        tenant: TenantId,
        provider: ProviderKind,
        customer_ref: &str,
        now: UnixMillis,
    ) -> StoreResult<()>;
    /// Takes one event once: records its id and, in the same transaction, applies `decide`
    /// to the account of its customer.
    async fn apply_billing_event(
        &self,
        event: &IncomingEvent,
        decide: &Decide,
    ) -> StoreResult<EventOutcome>;
    /// Applies `decide` to the organisation's account directly, for what Nexus itself decides
    /// (a month's invoice gone unpaid past its due date).
    async fn update_billing_account(
        &self,
        tenant: TenantId,
        at: UnixMillis,
        decide: &Decide,
    ) -> StoreResult<Result<BillingRecord, Ignored>>;
    async fn set_settled_through(&self, tenant: TenantId, period: BillingPeriod)
    -> StoreResult<()>;
    async fn usage_reported(&self, identifier: &str) -> StoreResult<bool>;
    /// `false` when that identifier was already recorded.
    async fn record_usage_report(&self, report: &UsageReport) -> StoreResult<bool>;
    async fn usage_reports(&self, tenant: TenantId) -> StoreResult<Vec<UsageReport>>;
    /// `false` (and nothing written) when an invoice of that reference exists.
    async fn insert_invoice(&self, invoice: &InvoiceRecord) -> StoreResult<bool>;
    /// Newest first.
    async fn invoices(&self, tenant: TenantId) -> StoreResult<Vec<InvoiceRecord>>;
    async fn invoice_by_reference(&self, reference: &str) -> StoreResult<Option<InvoiceRecord>>;
    /// Marks it paid; `false` when it already was (or is not there).
    async fn mark_invoice_paid(&self, reference: &str, at: UnixMillis) -> StoreResult<bool>;
    /// Gives an invoice opened without one its pay link; `false` (and nothing written) when it
    /// has one already or is paid.
    async fn set_invoice_pay_url(&self, reference: &str, pay_url: &str) -> StoreResult<bool>;
    /// The organisation's usage in `[start, end)`, from its own records.
    async fn count_usage(
        &self,
        tenant: TenantId,
        start: UnixMillis,
        end: UnixMillis,
    ) -> StoreResult<UsageCounts>;
}

/// A store that can open a transaction on the control data.
pub(crate) trait ControlAccess: TenantAccess {
    fn begin_control(
        &self,
    ) -> impl Future<Output = StoreResult<sqlx::Transaction<'static, Self::Db>>> + Send;
}

async fn with_control<S: ControlAccess, T>(
    store: &S,
    work: impl AsyncFnOnce(&mut Conn<S::Db>) -> StoreResult<T>,
) -> StoreResult<T> {
    let mut transaction = store.begin_control().await?;
    let value = work(&mut *transaction).await?;
    transaction.commit().await?;
    Ok(value)
}

fn decode_error(what: &str, text: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} {text:?} in the billing records").into())
}

const ACCOUNT_COLUMNS: &str = "tenant_id, plan, status, currency, provider, channel, customer_ref, \
     subscription_ref, trial_ends_at, past_due_since, state_at, settled_through";

fn read_account<B: Backend>(row: &B::Row) -> sqlx::Result<BillingRecord> {
    let text = |column: &str| -> sqlx::Result<String> { row.field(column) };
    let plan = text("plan")?;
    let status = text("status")?;
    let currency = text("currency")?;
    let provider: Option<String> = row.field("provider")?;
    let channel: Option<String> = row.field("channel")?;
    let settled: Option<String> = row.field("settled_through")?;
    let millis = |column: &str| -> sqlx::Result<Option<UnixMillis>> {
        Ok(row
            .field::<Option<i64>>(column)?
            .map(UnixMillis::from_millis))
    };
    Ok(BillingRecord {
        tenant: TenantId::from_uuid(row.field("tenant_id")?),
        account: Account {
            plan: PlanCode::parse(&plan).ok_or_else(|| decode_error("plan", &plan))?,
            status: Status::parse(&status).ok_or_else(|| decode_error("status", &status))?,
            currency: BillingCurrency::parse(&currency)
                .ok_or_else(|| decode_error("currency", &currency))?,
            provider: provider
                .map(|text| {
                    ProviderKind::parse(&text).ok_or_else(|| decode_error("provider", &text))
                })
                .transpose()?,
            channel: channel
                .map(|text| Channel::parse(&text).ok_or_else(|| decode_error("channel", &text)))
                .transpose()?,
            customer_ref: row.field("customer_ref")?,
            subscription_ref: row.field("subscription_ref")?,
            trial_ends_at: millis("trial_ends_at")?,
            past_due_since: millis("past_due_since")?,
            state_at: UnixMillis::from_millis(row.field("state_at")?),
        },
        settled_through: settled.as_deref().and_then(BillingPeriod::parse),
    })
}

async fn select_account<B: Backend>(
    connection: &mut Conn<B>,
    condition: &str,
    value: impl AccountKey,
) -> StoreResult<Option<BillingRecord>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM {}billing_accounts WHERE {condition}{}",
        B::CONTROL,
        B::LOCK_ROWS
    );
    let row = value
        .bind_to(query::<B>(&sql))
        .fetch_optional(connection)
        .await?;
    Ok(row.as_ref().map(read_account::<B>).transpose()?)
}

/// What an account is looked up by: a tenant, or a provider's customer.
trait AccountKey {
    fn bind_to<'q, B: Backend>(
        self,
        statement: crate::sql::Statement<'q, B>,
    ) -> crate::sql::Statement<'q, B>;
}

impl AccountKey for TenantId {
    fn bind_to<'q, B: Backend>(
        self,
        statement: crate::sql::Statement<'q, B>,
    ) -> crate::sql::Statement<'q, B> {
        statement.bind(self.as_uuid())
    }
}

impl AccountKey for (ProviderKind, String) {
    fn bind_to<'q, B: Backend>(
        self,
        statement: crate::sql::Statement<'q, B>,
    ) -> crate::sql::Statement<'q, B> {
        statement.bind(self.0.as_str()).bind(self.1)
    }
}

async fn write_account<B: Backend>(
    connection: &mut Conn<B>,
    tenant: TenantId,
    account: &Account,
    now: UnixMillis,
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE {}billing_accounts SET plan = $2, status = $3, currency = $4, provider = $5, \
         channel = $6, customer_ref = $7, subscription_ref = $8, trial_ends_at = $9, \
         past_due_since = $10, state_at = $11, updated_at = $12 WHERE tenant_id = $1",
        B::CONTROL
    );
    query::<B>(&sql)
        .bind(tenant.as_uuid())
        .bind(account.plan.as_str())
        .bind(account.status.as_str())
        .bind(account.currency.code())
        .bind(account.provider.map(ProviderKind::as_str))
        .bind(account.channel.map(Channel::as_str))
        .bind(account.customer_ref.clone())
        .bind(account.subscription_ref.clone())
        .bind(account.trial_ends_at.map(UnixMillis::as_millis))
        .bind(account.past_due_since.map(UnixMillis::as_millis))
        .bind(account.state_at.as_millis())
        .bind(now.as_millis())
        .execute(connection)
        .await
        .map_err(|error| StoreError::unique_as_conflict(error, "customer"))?;
    Ok(())
}

async fn ensure_account<B: Backend>(
    connection: &mut Conn<B>,
    tenant: TenantId,
    fresh: &Account,
    now: UnixMillis,
) -> StoreResult<BillingRecord> {
    let sql = format!(
        "INSERT INTO {}billing_accounts (tenant_id, plan, status, currency, trial_ends_at, \
         state_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id) DO NOTHING",
        B::CONTROL
    );
    query::<B>(&sql)
        .bind(tenant.as_uuid())
        .bind(fresh.plan.as_str())
        .bind(fresh.status.as_str())
        .bind(fresh.currency.code())
        .bind(fresh.trial_ends_at.map(UnixMillis::as_millis))
        .bind(fresh.state_at.as_millis())
        .bind(now.as_millis())
        .execute(connection)
        .await
        .map_err(|error| match error {
            // The tenant is not in the directory (the foreign key).
            sqlx::Error::Database(ref database) if database.is_foreign_key_violation() => {
                StoreError::UnknownTenant(tenant)
            }
            other => other.into(),
        })?;
    select_account::<B>(connection, "tenant_id = $1", tenant)
        .await?
        .ok_or(StoreError::UnknownTenant(tenant))
}

async fn take_event<B: Backend>(
    connection: &mut Conn<B>,
    event: &IncomingEvent,
    decide: &Decide,
) -> StoreResult<EventOutcome> {
    let control = B::CONTROL;
    let inserted = query::<B>(&format!(
        "INSERT INTO {control}billing_events (provider, event_id, kind, outcome, received_at) \
         VALUES ($1, $2, $3, 'taking', $4) ON CONFLICT (provider, event_id) DO NOTHING"
    ))
    .bind(event.provider.as_str())
    .bind(event.event_id.as_str())
    .bind(event.kind.as_str())
    .bind(event.now.as_millis())
    .execute(connection)
    .await?;
    if inserted == 0 {
        return Ok(EventOutcome::Duplicate);
    }
    let found = match &event.customer_ref {
        Some(customer) => {
            select_account::<B>(
                connection,
                "provider = $1 AND customer_ref = $2",
                (event.provider, customer.clone()),
            )
            .await?
        }
        None => None,
    };
    let outcome = match found {
        None => EventOutcome::UnknownCustomer,
        Some(record) => match decide(&record.account) {
            Err(ignored) => EventOutcome::Ignored(record.tenant, ignored),
            Ok(next) => {
                write_account::<B>(connection, record.tenant, &next, event.now).await?;
                EventOutcome::Applied(BillingRecord {
                    account: next,
                    ..record
                })
            }
        },
    };
    let tenant = match &outcome {
        EventOutcome::Applied(record) => Some(record.tenant.as_uuid()),
        EventOutcome::Ignored(tenant, _) => Some(tenant.as_uuid()),
        _ => None,
    };
    query::<B>(&format!(
        "UPDATE {control}billing_events SET outcome = $3, tenant_id = $4 \
         WHERE provider = $1 AND event_id = $2"
    ))
    .bind(event.provider.as_str())
    .bind(event.event_id.as_str())
    .bind(outcome.label())
    .bind(tenant)
    .execute(connection)
    .await?;
    Ok(outcome)
}

const INVOICE_COLUMNS: &str = "id, tenant_id, reference, period, plan, currency, plan_minor, \
     over_minor, amount_minor, status, provider, pay_url, created_at, due_at, paid_at";

fn read_invoice<B: Backend>(row: &B::Row) -> sqlx::Result<InvoiceRecord> {
    let text = |column: &str| -> sqlx::Result<String> { row.field(column) };
    let (period, plan, currency, status, provider) = (
        text("period")?,
        text("plan")?,
        text("currency")?,
        text("status")?,
        text("provider")?,
    );
    Ok(InvoiceRecord {
        id: row.field("id")?,
        tenant: TenantId::from_uuid(row.field("tenant_id")?),
        reference: text("reference")?,
        period: BillingPeriod::parse(&period).ok_or_else(|| decode_error("period", &period))?,
        plan: PlanCode::parse(&plan).ok_or_else(|| decode_error("plan", &plan))?,
        currency: BillingCurrency::parse(&currency)
            .ok_or_else(|| decode_error("currency", &currency))?,
        plan_minor: row.field("plan_minor")?,
        over_minor: row.field("over_minor")?,
        amount_minor: row.field("amount_minor")?,
        status: InvoiceStatus::parse(&status)?,
        provider: ProviderKind::parse(&provider)
            .ok_or_else(|| decode_error("provider", &provider))?,
        pay_url: row.field("pay_url")?,
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        due_at: UnixMillis::from_millis(row.field("due_at")?),
        paid_at: row
            .field::<Option<i64>>("paid_at")?
            .map(UnixMillis::from_millis),
    })
}

async fn count<B: Backend>(
    connection: &mut Conn<B>,
    sql: &str,
    range: Option<(UnixMillis, UnixMillis)>,
) -> StoreResult<u64> {
    let mut statement = query::<B>(sql);
    if let Some((start, end)) = range {
        statement = statement.bind(start.as_millis()).bind(end.as_millis());
    }
    let found: i64 = statement.scalar(connection).await?;
    Ok(u64::try_from(found).unwrap_or(0))
}

#[async_trait]
impl<S: ControlAccess> BillingStore for S {
    async fn billing_account(
        &self,
        tenant: TenantId,
        fresh: &Account,
        now: UnixMillis,
    ) -> StoreResult<BillingRecord> {
        with_control(self, async |connection| {
            ensure_account::<S::Db>(connection, tenant, fresh, now).await
        })
        .await
    }

    async fn billing_tenants(&self) -> StoreResult<Vec<TenantId>> {
        with_control(self, async |connection| {
            let sql = format!(
                "SELECT tenant_id FROM {}billing_accounts ORDER BY tenant_id",
                <S::Db as Backend>::CONTROL
            );
            Ok(query::<S::Db>(&sql)
                .scalars::<Uuid>(connection)
                .await?
                .into_iter()
                .map(TenantId::from_uuid)
                .collect())
        })
        .await
    }

    async fn set_billing_customer(
        &self,
        tenant: TenantId,
        provider: ProviderKind,
        customer_ref: &str,
        now: UnixMillis,
    ) -> StoreResult<()> {
        with_control(self, async |connection| {
            let sql = format!(
                "UPDATE {}billing_accounts SET provider = $2, customer_ref = $3, updated_at = $4 \
                 WHERE tenant_id = $1",
                <S::Db as Backend>::CONTROL
            );
            let changed = query::<S::Db>(&sql)
                .bind(tenant.as_uuid())
                .bind(provider.as_str())
                .bind(customer_ref)
                .bind(now.as_millis())
                .execute(connection)
                .await
                .map_err(|error| StoreError::unique_as_conflict(error, "customer"))?;
            if changed == 0 {
                return Err(StoreError::UnknownTenant(tenant));
            }
            Ok(())
        })
        .await
    }

    async fn apply_billing_event(
        &self,
        event: &IncomingEvent,
        decide: &Decide,
    ) -> StoreResult<EventOutcome> {
        with_control(self, async |connection| {
            take_event::<S::Db>(connection, event, decide).await
        })
        .await
    }

    async fn update_billing_account(
        &self,
        tenant: TenantId,
        at: UnixMillis,
        decide: &Decide,
    ) -> StoreResult<Result<BillingRecord, Ignored>> {
        with_control(self, async |connection| {
            let record = select_account::<S::Db>(connection, "tenant_id = $1", tenant)
                .await?
                .ok_or(StoreError::UnknownTenant(tenant))?;
            match decide(&record.account) {
                Err(ignored) => Ok(Err(ignored)),
                Ok(next) => {
                    write_account::<S::Db>(connection, tenant, &next, at).await?;
                    Ok(Ok(BillingRecord {
                        account: next,
                        ..record
                    }))
                }
            }
        })
        .await
    }

    async fn set_settled_through(
        &self,
        tenant: TenantId,
        period: BillingPeriod,
    ) -> StoreResult<()> {
        with_control(self, async |connection| {
            let sql = format!(
                "UPDATE {}billing_accounts SET settled_through = $2 WHERE tenant_id = $1",
                <S::Db as Backend>::CONTROL
            );
            query::<S::Db>(&sql)
                .bind(tenant.as_uuid())
                .bind(period.key())
                .execute(connection)
                .await?;
            Ok(())
        })
        .await
    }

    async fn usage_reported(&self, identifier: &str) -> StoreResult<bool> {
        with_control(self, async |connection| {
            let sql = format!(
                "SELECT identifier FROM {}billing_usage_reports WHERE identifier = $1",
                <S::Db as Backend>::CONTROL
            );
            let found: Option<String> = query::<S::Db>(&sql)
                .bind(identifier)
                .scalar_optional(connection)
                .await?;
            Ok(found.is_some())
        })
        .await
    }

    async fn record_usage_report(&self, report: &UsageReport) -> StoreResult<bool> {
        with_control(self, async |connection| {
            let sql = format!(
                "INSERT INTO {}billing_usage_reports (identifier, tenant_id, meter, period, value, \
                 reported_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (identifier) DO NOTHING",
                <S::Db as Backend>::CONTROL
            );
            let inserted = query::<S::Db>(&sql)
                .bind(report.identifier.as_str())
                .bind(report.tenant.as_uuid())
                .bind(report.meter.as_str())
                .bind(report.period.key())
                .bind(report.value)
                .bind(report.reported_at.as_millis())
                .execute(connection)
                .await?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn usage_reports(&self, tenant: TenantId) -> StoreResult<Vec<UsageReport>> {
        with_control(self, async |connection| {
            let sql = format!(
                "SELECT identifier, meter, period, value, reported_at FROM {}billing_usage_reports \
                 WHERE tenant_id = $1 ORDER BY period, meter",
                <S::Db as Backend>::CONTROL
            );
            let rows = query::<S::Db>(&sql)
                .bind(tenant.as_uuid())
                .fetch_all(connection)
                .await?;
            let mut reports = Vec::with_capacity(rows.len());
            for row in &rows {
                let period: String = row.field("period")?;
                reports.push(UsageReport {
                    identifier: row.field("identifier")?,
                    tenant,
                    meter: row.field("meter")?,
                    period: BillingPeriod::parse(&period)
                        .ok_or_else(|| decode_error("period", &period))?,
                    value: row.field("value")?,
                    reported_at: UnixMillis::from_millis(row.field("reported_at")?),
                });
            }
            Ok(reports)
        })
        .await
    }

    async fn insert_invoice(&self, invoice: &InvoiceRecord) -> StoreResult<bool> {
        with_control(self, async |connection| {
            let sql = format!(
                "INSERT INTO {}billing_invoices ({INVOICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
                 $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (reference) DO NOTHING",
                <S::Db as Backend>::CONTROL
            );
            let inserted = query::<S::Db>(&sql)
                .bind(invoice.id)
                .bind(invoice.tenant.as_uuid())
                .bind(invoice.reference.as_str())
                .bind(invoice.period.key())
                .bind(invoice.plan.as_str())
                .bind(invoice.currency.code())
                .bind(invoice.plan_minor)
                .bind(invoice.over_minor)
                .bind(invoice.amount_minor)
                .bind(invoice.status.as_str())
                .bind(invoice.provider.as_str())
                .bind(invoice.pay_url.clone())
                .bind(invoice.created_at.as_millis())
                .bind(invoice.due_at.as_millis())
                .bind(invoice.paid_at.map(UnixMillis::as_millis))
                .execute(connection)
                .await?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn invoices(&self, tenant: TenantId) -> StoreResult<Vec<InvoiceRecord>> {
        with_control(self, async |connection| {
            let sql = format!(
                "SELECT {INVOICE_COLUMNS} FROM {}billing_invoices WHERE tenant_id = $1 \
                 ORDER BY created_at DESC, reference DESC",
                <S::Db as Backend>::CONTROL
            );
            let rows = query::<S::Db>(&sql)
                .bind(tenant.as_uuid())
                .fetch_all(connection)
                .await?;
            Ok(rows
                .iter()
                .map(read_invoice::<S::Db>)
                .collect::<sqlx::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn invoice_by_reference(&self, reference: &str) -> StoreResult<Option<InvoiceRecord>> {
        with_control(self, async |connection| {
            let sql = format!(
                "SELECT {INVOICE_COLUMNS} FROM {}billing_invoices WHERE reference = $1",
                <S::Db as Backend>::CONTROL
            );
            let row = query::<S::Db>(&sql)
                .bind(reference)
                .fetch_optional(connection)
                .await?;
            Ok(row.as_ref().map(read_invoice::<S::Db>).transpose()?)
        })
        .await
    }

    async fn mark_invoice_paid(&self, reference: &str, at: UnixMillis) -> StoreResult<bool> {
        with_control(self, async |connection| {
            let sql = format!(
                "UPDATE {}billing_invoices SET status = 'paid', paid_at = $2 \
                 WHERE reference = $1 AND status <> 'paid'",
                <S::Db as Backend>::CONTROL
            );
            let changed = query::<S::Db>(&sql)
                .bind(reference)
                .bind(at.as_millis())
                .execute(connection)
                .await?;
            Ok(changed == 1)
        })
        .await
    }

    async fn set_invoice_pay_url(&self, reference: &str, pay_url: &str) -> StoreResult<bool> {
        with_control(self, async |connection| {
            let sql = format!(
                "UPDATE {}billing_invoices SET pay_url = $2 \
                 WHERE reference = $1 AND pay_url IS NULL AND status = 'open'",
                <S::Db as Backend>::CONTROL
            );
            let changed = query::<S::Db>(&sql)
                .bind(reference)
                .bind(pay_url)
                .execute(connection)
                .await?;
            Ok(changed == 1)
        })
        .await
    }

    async fn count_usage(
        &self,
        tenant: TenantId,
        start: UnixMillis,
        end: UnixMillis,
    ) -> StoreResult<UsageCounts> {
        with_tenant(self, tenant, async |connection| {
            Ok(UsageCounts {
                sales: count::<S::Db>(
                    connection,
                    "SELECT count(*) FROM sales WHERE kind = 'sale' AND recorded_at >= $1 \
                     AND recorded_at < $2",
                    Some((start, end)),
                )
                .await?,
                tills: count::<S::Db>(
                    connection,
                    "SELECT count(*) FROM stations WHERE revoked_at IS NULL",
                    None,
                )
                .await?,
                branches: count::<S::Db>(
                    connection,
                    "SELECT count(*) FROM branches WHERE archived_at IS NULL",
                    None,
                )
                .await?,
            })
        })
        .await
    }
}
