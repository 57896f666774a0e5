//! Mobile-money reconciliation's records: each network's statement layout, the statements
//! uploaded and the payments they list, and one verdict per mobile-money tender. A matched
//! tender is marked verified on the tender itself, in the same transaction as its verdict.

use async_trait::async_trait;
use nexus_domain::momo::{Mapping, MatchState, Network, StatementRow, TimeFormat};
use nexus_domain::{TenantId, UnixMillis, UserId};
use serde::Serialize;

use super::{TenantAccess, with_tenant};
use crate::StoreResult;
use crate::sql::{Backend, Conn, RowExt, query};

/// One mobile-money tender of a sale, as reconciliation weighs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MomoClaim {
    pub sale_id: uuid::Uuid,
    pub position: i32,
    pub reference: String,
    pub amount_minor: i64,
    pub occurred_at: UnixMillis,
    pub verified: bool,
    /// The verdict given before, if any, and whether a manager signed it off.
    pub verdict: Option<MatchState>,
    pub signed_off: bool,
}

/// A statement as uploaded, with what its reconciliation found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementRecord {
    pub id: uuid::Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub network: Network,
    /// SHA-256 of the file as sent: the same file twice is the same statement.
    pub content_hash: String,
    pub uploaded_at: UnixMillis,
    pub uploaded_by: UserId,
    /// Payments received that the file lists.
    pub payments: u32,
    pub first_at: Option<UnixMillis>,
    pub last_at: Option<UnixMillis>,
    pub matched: u32,
    pub amount_differs: u32,
    pub not_found: u32,
    pub claimed_twice: u32,
}

/// One tender's verdict, with the sale it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerdictRecord {
    pub sale_id: uuid::Uuid,
    pub position: i32,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub network: Network,
    /// The transaction id the cashier typed from the SMS.
    pub reference: String,
    pub amount_minor: i64,
    pub occurred_at: UnixMillis,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub state: MatchState,
    pub statement_id: uuid::Uuid,
    /// What the statement says was paid under that id, where it lists it.
    pub statement_amount_minor: Option<i64>,
    pub decided_at: UnixMillis,
    pub signed_off_by: Option<uuid::Uuid>,
    pub signed_off_at: Option<UnixMillis>,
    pub note: Option<String>,
    /// Filled when read back: whose sale it was, and where.
    pub receipt_number: Option<String>,
    pub cashier_id: Option<uuid::Uuid>,
    pub branch_id: Option<uuid::Uuid>,
    pub shift_id: Option<uuid::Uuid>,
}

/// What one cashier took in one shift (sales only; refunds apart): the cash kept (net of
/// change), and the mobile money split into verified and not yet verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Takings {
    pub shift_id: Option<uuid::Uuid>,
    pub cashier_id: uuid::Uuid,
    pub sales: u32,
    pub cash_minor: i64,
    pub momo_verified_minor: i64,
    pub momo_unverified_minor: i64,
}

/// Which verdicts to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictFilter {
    All,
    /// Not matched and not signed off: what a manager still has to look at.
    Exceptions,
}

#[async_trait]
pub trait MomoStore: Send + Sync + 'static {
    async fn momo_mapping(
        &self,
        tenant: TenantId,
        network: Network,
    ) -> StoreResult<Option<Mapping>>;
    async fn set_momo_mapping(
        &self,
        tenant: TenantId,
        network: Network,
        mapping: &Mapping,
        by: UserId,
        at: UnixMillis,
    ) -> StoreResult<()>;
    async fn momo_statement_by_hash(
        &self,
        tenant: TenantId,
        content_hash: &str,
    ) -> StoreResult<Option<StatementRecord>>;
    /// Every mobile-money tender of the network's sales, with its verdict so far.
    async fn momo_claims(&self, tenant: TenantId, network: Network) -> StoreResult<Vec<MomoClaim>>;
    /// Every payment the network's statements listed so far.
    async fn momo_payments(
        &self,
        tenant: TenantId,
        network: Network,
    ) -> StoreResult<Vec<StatementRow>>;
    /// Writes the statement, its payments and the verdicts in one transaction, marking each
    /// matched tender verified. A verdict already matched or signed off is kept as it was.
    /// `false`, and nothing written, when a statement of the same content is there already.
    async fn record_momo_statement(
        &self,
        tenant: TenantId,
        statement: &StatementRecord,
        payments: &[StatementRow],
        verdicts: &[VerdictRecord],
    ) -> StoreResult<bool>;
    /// Newest first.
    async fn momo_statements(&self, tenant: TenantId) -> StoreResult<Vec<StatementRecord>>;
    /// Oldest sale first.
    async fn momo_verdicts(
        &self,
        tenant: TenantId,
        filter: VerdictFilter,
    ) -> StoreResult<Vec<VerdictRecord>>;
    /// Per shift and cashier, newest first.
    async fn momo_takings(&self, tenant: TenantId) -> StoreResult<Vec<Takings>>;
    /// Signs off an exception; `None` when there is no such verdict still open.
    async fn sign_off_momo(
        &self,
        tenant: TenantId,
        sale: uuid::Uuid,
        position: i32,
        by: UserId,
        at: UnixMillis,
        note: &str,
    ) -> StoreResult<Option<VerdictRecord>>;
}

fn unknown(what: &str, text: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} {text:?} in the mobile-money records").into())
}

fn network_of(text: &str) -> sqlx::Result<Network> {
    Network::parse(text).ok_or_else(|| unknown("network", text))
}

fn state_of(text: &str) -> sqlx::Result<MatchState> {
    MatchState::parse(text).ok_or_else(|| unknown("verdict", text))
}

fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

const STATEMENT_COLUMNS: &str = "id, network, content_hash, uploaded_at, uploaded_by, payments, \
     first_at, last_at, matched, amount_differs, not_found, claimed_twice";

fn read_statement<B: Backend>(row: &B::Row) -> sqlx::Result<StatementRecord> {
    let network: String = row.field("network")?;
    Ok(StatementRecord {
        id: row.field("id")?,
        network: network_of(&network)?,
        content_hash: row.field("content_hash")?,
        uploaded_at: UnixMillis::from_millis(row.field("uploaded_at")?),
        uploaded_by: UserId::from_uuid(row.field("uploaded_by")?),
        payments: count(row.field("payments")?),
        first_at: row
            .field::<Option<i64>>("first_at")?
            .map(UnixMillis::from_millis),
        last_at: row
            .field::<Option<i64>>("last_at")?
            .map(UnixMillis::from_millis),
        matched: count(row.field("matched")?),
        amount_differs: count(row.field("amount_differs")?),
        not_found: count(row.field("not_found")?),
        claimed_twice: count(row.field("claimed_twice")?),
    })
}

const VERDICT_COLUMNS: &str = "v.sale_id, v.position, v.network, v.reference, v.amount_minor, \
     v.occurred_at, v.state, v.statement_id, v.statement_amount_minor, v.decided_at, \
     v.signed_off_by, v.signed_off_at, v.note, s.receipt_number, s.cashier_id, s.branch_id, \
     s.shift_id";

fn read_verdict<B: Backend>(row: &B::Row) -> sqlx::Result<VerdictRecord> {
    let network: String = row.field("network")?;
    let state: String = row.field("state")?;
    Ok(VerdictRecord {
        sale_id: row.field("sale_id")?,
        position: row.field("position")?,
        network: network_of(&network)?,
        reference: row.field("reference")?,
        amount_minor: row.field("amount_minor")?,
        occurred_at: UnixMillis::from_millis(row.field("occurred_at")?),
        state: state_of(&state)?,
        statement_id: row.field("statement_id")?,
        statement_amount_minor: row.field("statement_amount_minor")?,
        decided_at: UnixMillis::from_millis(row.field("decided_at")?),
        signed_off_by: row.field("signed_off_by")?,
        signed_off_at: row
            .field::<Option<i64>>("signed_off_at")?
            .map(UnixMillis::from_millis),
        note: row.field("note")?,
        receipt_number: row.field("receipt_number")?,
        cashier_id: row.field("cashier_id")?,
        branch_id: row.field("branch_id")?,
        shift_id: row.field("shift_id")?,
    })
}

async fn read_verdicts<B: Backend>(
    connection: &mut Conn<B>,
    filter: VerdictFilter,
    one: Option<(uuid::Uuid, i32)>,
) -> StoreResult<Vec<VerdictRecord>> {
    let mut sql = format!(
        "SELECT {VERDICT_COLUMNS} FROM momo_verdicts v LEFT JOIN sales s ON s.id = v.sale_id \
         WHERE 1 = 1"
    );
    if filter == VerdictFilter::Exceptions {
        sql += " AND v.state <> 'matched' AND v.signed_off_at IS NULL";
    }
    if one.is_some() {
        sql += " AND v.sale_id = $1 AND v.position = $2";
    }
    sql += " ORDER BY v.occurred_at, v.sale_id, v.position";
    let mut statement = query::<B>(&sql);
    if let Some((sale, position)) = one {
        statement = statement.bind(sale).bind(position);
    }
    let rows = statement.fetch_all(connection).await?;
    Ok(rows
        .iter()
        .map(read_verdict::<B>)
        .collect::<sqlx::Result<Vec<_>>>()?)
}

async fn write_statement<B: Backend>(
    connection: &mut Conn<B>,
    statement: &StatementRecord,
    payments: &[StatementRow],
    verdicts: &[VerdictRecord],
) -> StoreResult<bool> {
    let sql = format!(
        "INSERT INTO momo_statements ({STATEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         $8, $9, $10, $11, $12) ON CONFLICT (content_hash) DO NOTHING"
    );
    let inserted = query::<B>(&sql)
        .bind(statement.id)
        .bind(statement.network.as_str())
        .bind(statement.content_hash.as_str())
        .bind(statement.uploaded_at.as_millis())
        .bind(statement.uploaded_by.as_uuid())
        .bind(i64::from(statement.payments))
        .bind(statement.first_at.map(UnixMillis::as_millis))
        .bind(statement.last_at.map(UnixMillis::as_millis))
        .bind(i64::from(statement.matched))
        .bind(i64::from(statement.amount_differs))
        .bind(i64::from(statement.not_found))
        .bind(i64::from(statement.claimed_twice))
        .execute(&mut *connection)
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    for payment in payments {
        // A payment another statement listed already keeps its first record.
        query::<B>(
            "INSERT INTO momo_payments (network, transaction_id, statement_id, paid_at, \
             amount_minor, payer) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (network, transaction_id) DO NOTHING",
        )
        .bind(statement.network.as_str())
        .bind(payment.transaction_id.trim().to_lowercase())
        .bind(statement.id)
        .bind(payment.at.as_millis())
        .bind(payment.amount_minor)
        .bind(payment.payer.as_deref())
        .execute(&mut *connection)
        .await?;
    }
    for verdict in verdicts {
        query::<B>(
            "INSERT INTO momo_verdicts (sale_id, position, network, reference, amount_minor, \
             occurred_at, state, statement_id, statement_amount_minor, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (sale_id, position) DO UPDATE SET state = excluded.state, \
             statement_id = excluded.statement_id, \
             statement_amount_minor = excluded.statement_amount_minor, \
             decided_at = excluded.decided_at \
             WHERE momo_verdicts.state <> 'matched' AND momo_verdicts.signed_off_at IS NULL",
        )
        .bind(verdict.sale_id)
        .bind(verdict.position)
        .bind(verdict.network.as_str())
        .bind(verdict.reference.as_str())
        .bind(verdict.amount_minor)
        .bind(verdict.occurred_at.as_millis())
        .bind(verdict.state.as_str())
        .bind(verdict.statement_id)
        .bind(verdict.statement_amount_minor)
        .bind(verdict.decided_at.as_millis())
        .execute(&mut *connection)
        .await?;
        if verdict.state == MatchState::Matched {
            query::<B>(
                "UPDATE sale_tenders SET verified = $3 WHERE sale_id = $1 AND position = $2 \
                 AND kind = 'momo'",
            )
            .bind(verdict.sale_id)
            .bind(verdict.position)
            .bind(true)
            .execute(&mut *connection)
            .await?;
        }
    }
    Ok(true)
}

#[async_trait]
impl<S: TenantAccess> MomoStore for S {
    async fn momo_mapping(
        &self,
        tenant: TenantId,
        network: Network,
    ) -> StoreResult<Option<Mapping>> {
        with_tenant(self, tenant, async |connection| {
            let row = query::<S::Db>(
                "SELECT transaction_id_column, time_column, amount_column, payer_column, \
                 status_column, time_format FROM momo_mappings WHERE network = $1",
            )
            .bind(network.as_str())
            .fetch_optional(connection)
            .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let format: String = row.field("time_format")?;
            Ok(Some(Mapping {
                transaction_id: row.field("transaction_id_column")?,
                time: row.field("time_column")?,
                amount: row.field("amount_column")?,
                payer: row.field("payer_column")?,
                status: row.field("status_column")?,
                time_format: TimeFormat::parse(&format)
                    .ok_or_else(|| unknown("time format", &format))?,
            }))
        })
        .await
    }

    async fn set_momo_mapping(
        &self,
        tenant: TenantId,
        network: Network,
        mapping: &Mapping,
        by: UserId,
        at: UnixMillis,
    ) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "INSERT INTO momo_mappings (network, transaction_id_column, time_column, \
                 amount_column, payer_column, status_column, time_format, updated_at, \
                 updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (network) DO UPDATE SET \
                 transaction_id_column = excluded.transaction_id_column, \
                 time_column = excluded.time_column, amount_column = excluded.amount_column, \
                 payer_column = excluded.payer_column, \
                 status_column = excluded.status_column, time_format = excluded.time_format, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(network.as_str())
            .bind(mapping.transaction_id.as_str())
            .bind(mapping.time.as_str())
            .bind(mapping.amount.as_str())
            .bind(mapping.payer.as_deref())
            .bind(mapping.status.as_deref())
            .bind(mapping.time_format.as_str())
            .bind(at.as_millis())
            .bind(by.as_uuid())
            .execute(connection)
            .await?;
            Ok(())
        })
        .await
    }

    async fn momo_statement_by_hash(
        &self,
        tenant: TenantId,
        content_hash: &str,
    ) -> StoreResult<Option<StatementRecord>> {
        with_tenant(self, tenant, async |connection| {
            let sql =
                format!("SELECT {STATEMENT_COLUMNS} FROM momo_statements WHERE content_hash = $1");
            let row = query::<S::Db>(&sql)
                .bind(content_hash)
                .fetch_optional(connection)
                .await?;
            Ok(row.as_ref().map(read_statement::<S::Db>).transpose()?)
        })
        .await
    }

    async fn momo_claims(&self, tenant: TenantId, network: Network) -> StoreResult<Vec<MomoClaim>> {
        with_tenant(self, tenant, async |connection| {
            let rows = query::<S::Db>(
                "SELECT t.sale_id, t.position, t.reference, t.amount_minor, s.occurred_at, \
                 t.verified, v.state, v.signed_off_at FROM sale_tenders t \
                 JOIN sales s ON s.id = t.sale_id \
                 LEFT JOIN momo_verdicts v ON v.sale_id = t.sale_id AND v.position = t.position \
                 WHERE t.kind = 'momo' AND t.network = $1 AND s.kind = 'sale' \
                 AND t.reference IS NOT NULL ORDER BY s.occurred_at, t.sale_id, t.position",
            )
            .bind(network.as_str())
            .fetch_all(connection)
            .await?;
            let mut claims = Vec::with_capacity(rows.len());
            for row in &rows {
                let state: Option<String> = row.field("state")?;
                claims.push(MomoClaim {
                    sale_id: row.field("sale_id")?,
                    position: row.field("position")?,
                    reference: row.field("reference")?,
                    amount_minor: row.field("amount_minor")?,
                    occurred_at: UnixMillis::from_millis(row.field("occurred_at")?),
                    verified: row.field("verified")?,
                    verdict: state.as_deref().map(state_of).transpose()?,
                    signed_off: row.field::<Option<i64>>("signed_off_at")?.is_some(),
                });
            }
            Ok(claims)
        })
        .await
    }

    async fn momo_payments(
        &self,
        tenant: TenantId,
        network: Network,
    ) -> StoreResult<Vec<StatementRow>> {
        with_tenant(self, tenant, async |connection| {
            let rows = query::<S::Db>(
                "SELECT transaction_id, paid_at, amount_minor, payer FROM momo_payments \
                 WHERE network = $1 ORDER BY paid_at, transaction_id",
            )
            .bind(network.as_str())
            .fetch_all(connection)
            .await?;
            let mut payments = Vec::with_capacity(rows.len());
            for row in &rows {
                payments.push(StatementRow {
                    transaction_id: row.field("transaction_id")?,
                    at: UnixMillis::from_millis(row.field("paid_at")?),
                    amount_minor: row.field("amount_minor")?,
                    payer: row.field("payer")?,
                });
            }
            Ok(payments)
        })
        .await
    }

    async fn record_momo_statement(
        &self,
        tenant: TenantId,
        statement: &StatementRecord,
        payments: &[StatementRow],
        verdicts: &[VerdictRecord],
    ) -> StoreResult<bool> {
        with_tenant(self, tenant, async |connection| {
            write_statement::<S::Db>(connection, statement, payments, verdicts).await
        })
        .await
    }

    async fn momo_statements(&self, tenant: TenantId) -> StoreResult<Vec<StatementRecord>> {
        with_tenant(self, tenant, async |connection| {
            let sql = format!(
                "SELECT {STATEMENT_COLUMNS} FROM momo_statements \
                 ORDER BY uploaded_at DESC, id DESC"
            );
            let rows = query::<S::Db>(&sql).fetch_all(connection).await?;
            Ok(rows
                .iter()
                .map(read_statement::<S::Db>)
                .collect::<sqlx::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn momo_verdicts(
        &self,
        tenant: TenantId,
        filter: VerdictFilter,
    ) -> StoreResult<Vec<VerdictRecord>> {
        with_tenant(self, tenant, async |connection| {
            read_verdicts::<S::Db>(connection, filter, None).await
        })
        .await
    }

    async fn momo_takings(&self, tenant: TenantId) -> StoreResult<Vec<Takings>> {
        with_tenant(self, tenant, async |connection| {
            // Every sale has a tender at position 0, so its change is counted once.
            let rows = query::<S::Db>(
                "SELECT s.shift_id, s.cashier_id, COUNT(DISTINCT s.id) AS sales, \
                 CAST(SUM(CASE WHEN t.kind = 'cash' THEN t.amount_minor ELSE 0 END) \
                 - SUM(CASE WHEN t.position = 0 THEN s.change_minor ELSE 0 END) AS bigint) AS cash, \
                 CAST(SUM(CASE WHEN t.kind = 'momo' AND t.verified THEN t.amount_minor ELSE 0 END) \
                 AS bigint) AS momo_verified, \
                 CAST(SUM(CASE WHEN t.kind = 'momo' AND NOT t.verified THEN t.amount_minor \
                 ELSE 0 END) AS bigint) AS momo_unverified, MAX(s.occurred_at) AS last_at \
                 FROM sales s JOIN sale_tenders t ON t.sale_id = s.id WHERE s.kind = 'sale' \
                 GROUP BY s.shift_id, s.cashier_id ORDER BY last_at DESC",
            )
            .fetch_all(connection)
            .await?;
            let mut takings = Vec::with_capacity(rows.len());
            for row in &rows {
                takings.push(Takings {
                    shift_id: row.field("shift_id")?,
                    cashier_id: row.field("cashier_id")?,
                    sales: count(row.field("sales")?),
                    cash_minor: row.field("cash")?,
                    momo_verified_minor: row.field("momo_verified")?,
                    momo_unverified_minor: row.field("momo_unverified")?,
                });
            }
            Ok(takings)
        })
        .await
    }

    async fn sign_off_momo(
        &self,
        tenant: TenantId,
        sale: uuid::Uuid,
        position: i32,
        by: UserId,
        at: UnixMillis,
        note: &str,
    ) -> StoreResult<Option<VerdictRecord>> {
        with_tenant(self, tenant, async |connection| {
            let changed = query::<S::Db>(
                "UPDATE momo_verdicts SET signed_off_by = $3, signed_off_at = $4, note = $5 \
                 WHERE sale_id = $1 AND position = $2 AND state <> 'matched' \
                 AND signed_off_at IS NULL",
            )
            .bind(sale)
            .bind(position)
            .bind(by.as_uuid())
            .bind(at.as_millis())
            .bind(note)
            .execute(&mut *connection)
            .await?;
            if changed == 0 {
                return Ok(None);
            }
            Ok(
                read_verdicts::<S::Db>(connection, VerdictFilter::All, Some((sale, position)))
                    .await?
                    .into_iter()
                    .next(),
            )
        })
        .await
    }
}
