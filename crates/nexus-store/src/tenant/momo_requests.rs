//! Request to pay's records: the network account each shop collects into, and every request a
//! till made, keyed by the reference the till chose (the network's idempotency key too). A paid
//! request verifies the one sale tender that carries its transaction id, when that sale is
//! written ([`claim_paid_request`]).

use async_trait::async_trait;
use nexus_domain::momo::{Network, RequestState};
use nexus_domain::{TenantId, UnixMillis, UserId};

use super::{TenantAccess, with_tenant};
use crate::StoreResult;
use crate::sql::{Backend, Conn, RowExt, query};

/// The credentials a shop collects with on one network. The key and the subscription key are
/// never printed, nor sent back to anyone once saved.
#[derive(Clone, PartialEq, Eq)]
pub struct MomoAccount {
    pub network: Network,
    pub api_user: String,
    pub api_key: String,
    pub subscription_key: String,
    /// The network's name for where the account lives (`sandbox`, `mtnghana`).
    pub target_environment: String,
    /// The currency requests are made in when it is not the shop's (the sandbox takes EUR only).
    pub currency_code: Option<String>,
    pub updated_at: UnixMillis,
}

impl std::fmt::Debug for MomoAccount {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MomoAccount")
            .field("network", &self.network)
            .field("api_user", &self.api_user)
            .field("api_key", &"[redacted]")
            .field("subscription_key", &"[redacted]")
            .field("target_environment", &self.target_environment)
            .field("currency_code", &self.currency_code)
            .finish()
    }
}

/// One request to pay, as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MomoRequestRecord {
    /// Chosen by the till, so that a request it sends again is the same request.
    pub id: uuid::Uuid,
    pub network: Network,
    /// As the network was given it: international digits.
    pub phone: String,
    pub amount_minor: i64,
    pub currency_code: String,
    pub station_id: Option<uuid::Uuid>,
    pub state: RequestState,
    /// The network's reason code, when it failed.
    pub reason: Option<String>,
    /// The network's id of the payment, when paid, trimmed and lower-cased as tender
    /// references are compared.
    pub transaction_id: Option<String>,
    /// The sale whose tender it verified.
    pub sale_id: Option<uuid::Uuid>,
    pub created_at: UnixMillis,
    /// When the network was last asked about it.
    pub checked_at: UnixMillis,
    pub updated_at: UnixMillis,
}

/// What a check of a request found, to store.
#[derive(Clone, Debug)]
pub struct RequestUpdate {
    pub state: RequestState,
    pub reason: Option<String>,
    pub transaction_id: Option<String>,
    pub at: UnixMillis,
}

#[async_trait]
pub trait MomoRequestStore: Send + Sync + 'static {
    async fn momo_account(
        &self,
        tenant: TenantId,
        network: Network,
    ) -> StoreResult<Option<MomoAccount>>;
    async fn momo_accounts(&self, tenant: TenantId) -> StoreResult<Vec<MomoAccount>>;
    async fn set_momo_account(
        &self,
        tenant: TenantId,
        account: &MomoAccount,
        by: UserId,
    ) -> StoreResult<()>;
    /// Records `request` unless one with its id is there already; answers the request as kept
    /// and whether it was new.
    async fn open_momo_request(
        &self,
        tenant: TenantId,
        request: &MomoRequestRecord,
    ) -> StoreResult<(MomoRequestRecord, bool)>;
    async fn momo_request(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<MomoRequestRecord>>;
    /// Stores what a check found, unless the request is final already (a late or repeated
    /// answer changes nothing); answers the request as kept.
    async fn update_momo_request(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
        update: &RequestUpdate,
    ) -> StoreResult<Option<MomoRequestRecord>>;
    /// Requests not yet final, least recently checked first.
    async fn open_momo_requests(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> StoreResult<Vec<MomoRequestRecord>>;
    /// Paid requests that no sale's tender claimed, paid at or before `paid_before`, oldest
    /// first.
    async fn unclaimed_momo_requests(
        &self,
        tenant: TenantId,
        paid_before: UnixMillis,
    ) -> StoreResult<Vec<MomoRequestRecord>>;
}

const REQUEST_COLUMNS: &str = "id, network, phone, amount_minor, currency_code, station_id, \
     state, reason, transaction_id, sale_id, created_at, checked_at, updated_at";

fn request_of<B: Backend>(row: &B::Row) -> sqlx::Result<MomoRequestRecord> {
    let network: String = row.field("network")?;
    let state: String = row.field("state")?;
    Ok(MomoRequestRecord {
        id: row.field("id")?,
        network: Network::parse(&network).ok_or_else(|| unknown("network", &network))?,
        phone: row.field("phone")?,
        amount_minor: row.field("amount_minor")?,
        currency_code: row.field("currency_code")?,
        station_id: row.field("station_id")?,
        state: RequestState::parse(&state).ok_or_else(|| unknown("request state", &state))?,
        reason: row.field("reason")?,
        transaction_id: row.field("transaction_id")?,
        sale_id: row.field("sale_id")?,
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        checked_at: UnixMillis::from_millis(row.field("checked_at")?),
        updated_at: UnixMillis::from_millis(row.field("updated_at")?),
    })
}

fn account_of<B: Backend>(row: &B::Row) -> sqlx::Result<MomoAccount> {
    let network: String = row.field("network")?;
    Ok(MomoAccount {
        network: Network::parse(&network).ok_or_else(|| unknown("network", &network))?,
        api_user: row.field("api_user")?,
        api_key: row.field("api_key")?,
        subscription_key: row.field("subscription_key")?,
        target_environment: row.field("target_environment")?,
        currency_code: row.field("currency_code")?,
        updated_at: UnixMillis::from_millis(row.field("updated_at")?),
    })
}

fn unknown(what: &str, text: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} {text:?} in the requests to pay").into())
}

async fn request_on<B: Backend>(
    connection: &mut Conn<B>,
    id: uuid::Uuid,
) -> StoreResult<Option<MomoRequestRecord>> {
    let row = query::<B>(&format!(
        "SELECT {REQUEST_COLUMNS} FROM momo_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *connection)
    .await?;
    Ok(row.as_ref().map(request_of::<B>).transpose()?)
}

/// How a tender's reference and a network's transaction id are compared.
pub(crate) fn transaction_key(text: &str) -> String {
    text.trim().to_lowercase()
}

/// Whether a mobile-money tender about to be written was paid through a request to pay: a paid
/// request of that network, transaction id and amount, not yet claimed, is claimed for `sale`
/// and the tender is written verified. One payment verifies one tender, so a transaction id
/// typed on a second sale stays unverified there.
pub(crate) async fn claim_paid_request<B: Backend>(
    connection: &mut Conn<B>,
    sale: uuid::Uuid,
    network: &str,
    reference: &str,
    amount_minor: i64,
) -> StoreResult<bool> {
    let claimed = query::<B>(
        "UPDATE momo_requests SET sale_id = $1 WHERE network = $2 AND transaction_id = $3 \
         AND amount_minor = $4 AND state = 'paid' AND sale_id IS NULL",
    )
    .bind(sale)
    .bind(network)
    .bind(transaction_key(reference))
    .bind(amount_minor)
    .execute(&mut *connection)
    .await?;
    Ok(claimed == 1)
}

const ACCOUNT_COLUMNS: &str = "network, api_user, api_key, subscription_key, target_environment, \
     currency_code, updated_at";

/// The requests that `condition` picks, in the order it gives, with `$1` bound to `value`.
async fn requests_where<B: Backend>(
    connection: &mut Conn<B>,
    condition: &str,
    value: i64,
) -> StoreResult<Vec<MomoRequestRecord>> {
    let rows = query::<B>(&format!(
        "SELECT {REQUEST_COLUMNS} FROM momo_requests WHERE {condition}"
    ))
    .bind(value)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .iter()
        .map(request_of::<B>)
        .collect::<sqlx::Result<_>>()?)
}

#[async_trait]
impl<S: TenantAccess> MomoRequestStore for S {
    async fn momo_account(
        &self,
        tenant: TenantId,
        network: Network,
    ) -> StoreResult<Option<MomoAccount>> {
        with_tenant(self, tenant, async |connection| {
            let row = query::<S::Db>(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM momo_accounts WHERE network = $1"
            ))
            .bind(network.as_str())
            .fetch_optional(connection)
            .await?;
            Ok(row.as_ref().map(account_of::<S::Db>).transpose()?)
        })
        .await
    }

    async fn momo_accounts(&self, tenant: TenantId) -> StoreResult<Vec<MomoAccount>> {
        with_tenant(self, tenant, async |connection| {
            let rows = query::<S::Db>(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM momo_accounts ORDER BY network"
            ))
            .fetch_all(connection)
            .await?;
            Ok(rows
                .iter()
                .map(account_of::<S::Db>)
                .collect::<sqlx::Result<_>>()?)
        })
        .await
    }

    async fn set_momo_account(
        &self,
        tenant: TenantId,
        account: &MomoAccount,
        by: UserId,
    ) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "INSERT INTO momo_accounts (network, api_user, api_key, subscription_key, \
                 target_environment, currency_code, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (network) DO UPDATE SET \
                 api_user = excluded.api_user, api_key = excluded.api_key, \
                 subscription_key = excluded.subscription_key, \
                 target_environment = excluded.target_environment, \
                 currency_code = excluded.currency_code, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(account.network.as_str())
            .bind(account.api_user.as_str())
            .bind(account.api_key.as_str())
            .bind(account.subscription_key.as_str())
            .bind(account.target_environment.as_str())
            .bind(account.currency_code.as_deref())
            .bind(account.updated_at.as_millis())
            .bind(by.as_uuid())
            .execute(connection)
            .await?;
            Ok(())
        })
        .await
    }

    async fn open_momo_request(
        &self,
        tenant: TenantId,
        request: &MomoRequestRecord,
    ) -> StoreResult<(MomoRequestRecord, bool)> {
        with_tenant(self, tenant, async |connection| {
            let inserted = query::<S::Db>(&format!(
                "INSERT INTO momo_requests ({REQUEST_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (id) DO NOTHING"
            ))
            .bind(request.id)
            .bind(request.network.as_str())
            .bind(request.phone.as_str())
            .bind(request.amount_minor)
            .bind(request.currency_code.as_str())
            .bind(request.station_id)
            .bind(request.state.as_str())
            .bind(request.reason.as_deref())
            .bind(request.transaction_id.as_deref())
            .bind(request.sale_id)
            .bind(request.created_at.as_millis())
            .bind(request.checked_at.as_millis())
            .bind(request.updated_at.as_millis())
            .execute(&mut *connection)
            .await?;
            let created = inserted == 1;
            let kept = request_on::<S::Db>(connection, request.id)
                .await?
                .ok_or_else(|| {
                    crate::StoreError::Refused("the request to pay could not be kept".to_owned())
                })?;
            Ok((kept, created))
        })
        .await
    }

    async fn momo_request(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<MomoRequestRecord>> {
        with_tenant(self, tenant, async |connection| {
            request_on::<S::Db>(connection, id).await
        })
        .await
    }

    async fn update_momo_request(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
        update: &RequestUpdate,
    ) -> StoreResult<Option<MomoRequestRecord>> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "UPDATE momo_requests SET state = $2, reason = $3, transaction_id = $4, \
                 checked_at = $5, updated_at = CASE WHEN state = $2 THEN updated_at ELSE $5 END \
                 WHERE id = $1 AND state NOT IN ('paid', 'failed') \
                 AND NOT (state = 'pending' AND $2 = 'sending')",
            )
            .bind(id)
            .bind(update.state.as_str())
            .bind(update.reason.as_deref())
            .bind(update.transaction_id.as_deref().map(transaction_key))
            .bind(update.at.as_millis())
            .execute(&mut *connection)
            .await?;
            request_on::<S::Db>(connection, id).await
        })
        .await
    }

    async fn open_momo_requests(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> StoreResult<Vec<MomoRequestRecord>> {
        with_tenant(self, tenant, async |connection| {
            requests_where::<S::Db>(
                connection,
                "state IN ('sending', 'pending') ORDER BY checked_at, id LIMIT $1",
                i64::from(limit),
            )
            .await
        })
        .await
    }

    async fn unclaimed_momo_requests(
        &self,
        tenant: TenantId,
        paid_before: UnixMillis,
    ) -> StoreResult<Vec<MomoRequestRecord>> {
        with_tenant(self, tenant, async |connection| {
            requests_where::<S::Db>(
                connection,
                "state = 'paid' AND sale_id IS NULL AND updated_at <= $1 ORDER BY updated_at, id",
                paid_before.as_millis(),
            )
            .await
        })
        .await
    }
}
