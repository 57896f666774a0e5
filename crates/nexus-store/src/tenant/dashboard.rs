//! What the merchant dashboard keeps: cookie sessions on top of the API's sessions, password
//! resets, and the shop's details (its receipt header and the first-run steps set aside).

use async_trait::async_trait;
use nexus_domain::{SessionId, TenantId, UnixMillis, UserId};
use serde::Serialize;

use super::staff::read_user;
use super::{TenantAccess, with_tenant};
use crate::sql::{Backend, Conn, RowExt, query};
use crate::{StoreResult, UserRecord};

/// A dashboard session as found by its cookie's hash: who, in which session, and its CSRF token.
#[derive(Clone, Debug)]
pub struct WebSession {
    pub user: UserRecord,
    pub session: SessionId,
    pub csrf_token: String,
    pub created_at: UnixMillis,
    pub last_seen_at: UnixMillis,
}

/// The shop as its receipts and dashboard name it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShopDetails {
    pub trading_name: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// The Ghana Revenue Authority's taxpayer identification number.
    pub tin: Option<String>,
    pub receipt_footer: Option<String>,
    /// First-run steps the owner set aside ("shop", "branch", …).
    pub skipped_steps: Vec<String>,
}

#[async_trait]
pub trait DashboardStore: Send + Sync + 'static {
    /// A cookie session on the API session `session` (already stored).
    async fn create_web_session(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        session: SessionId,
        csrf_token: &str,
        now: UnixMillis,
    ) -> StoreResult<()>;
    /// The session the cookie's hash names, while its API session is live and its user active.
    async fn web_session(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
    ) -> StoreResult<Option<WebSession>>;
    async fn touch_web_session(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        now: UnixMillis,
    ) -> StoreResult<()>;
    /// Ends the cookie's session and the API session under it.
    async fn end_web_session(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        now: UnixMillis,
    ) -> StoreResult<()>;

    async fn create_password_reset(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        user: UserId,
        now: UnixMillis,
        expires_at: UnixMillis,
    ) -> StoreResult<()>;
    /// Spends a reset token: sets the new password and ends every session of the user, in one
    /// transaction. `None` when the token is unknown, used or expired.
    async fn use_password_reset(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        password_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Option<UserId>>;

    async fn shop_details(&self, tenant: TenantId) -> StoreResult<ShopDetails>;
    async fn update_shop_details(
        &self,
        tenant: TenantId,
        details: &ShopDetails,
        now: UnixMillis,
    ) -> StoreResult<ShopDetails>;
}

async fn read_details<B: Backend>(connection: &mut Conn<B>) -> StoreResult<ShopDetails> {
    let row = query::<B>(
        "SELECT trading_name, address, phone, tin, receipt_footer, skipped_steps FROM shop_details \
         WHERE id = 1",
    )
    .fetch_one(connection)
    .await?;
    let skipped: String = row.field("skipped_steps")?;
    Ok(ShopDetails {
        trading_name: row.field("trading_name")?,
        address: row.field("address")?,
        phone: row.field("phone")?,
        tin: row.field("tin")?,
        receipt_footer: row.field("receipt_footer")?,
        skipped_steps: skipped
            .split(',')
            .filter(|step| !step.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[async_trait]
impl<S: TenantAccess> DashboardStore for S {
    async fn create_web_session(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        session: SessionId,
        csrf_token: &str,
        now: UnixMillis,
    ) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "INSERT INTO web_sessions (token_hash, session_id, csrf_token, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(token_hash)
            .bind(session.as_uuid())
            .bind(csrf_token)
            .bind(now.as_millis())
            .execute(connection)
            .await?;
            Ok(())
        })
        .await
    }

    async fn web_session(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
    ) -> StoreResult<Option<WebSession>> {
        with_tenant(self, tenant, async |connection| {
            let Some(row) = query::<S::Db>(
                "SELECT web_sessions.session_id, web_sessions.csrf_token, web_sessions.created_at, \
                 web_sessions.last_seen_at, sessions.user_id FROM web_sessions \
                 JOIN sessions ON sessions.id = web_sessions.session_id \
                 WHERE web_sessions.token_hash = $1 AND sessions.revoked_at IS NULL",
            )
            .bind(token_hash)
            .fetch_optional(connection)
            .await?
            else {
                return Ok(None);
            };
            let user = UserId::from_uuid(row.field("user_id")?);
            let Some(user) = read_user::<S::Db>(connection, user)
                .await?
                .filter(|user| user.active)
            else {
                return Ok(None);
            };
            Ok(Some(WebSession {
                user,
                session: SessionId::from_uuid(row.field("session_id")?),
                csrf_token: row.field("csrf_token")?,
                created_at: UnixMillis::from_millis(row.field("created_at")?),
                last_seen_at: UnixMillis::from_millis(row.field("last_seen_at")?),
            }))
        })
        .await
    }

    async fn touch_web_session(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        now: UnixMillis,
    ) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>("UPDATE web_sessions SET last_seen_at = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(now.as_millis())
                .execute(connection)
                .await?;
            Ok(())
        })
        .await
    }

    async fn end_web_session(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        now: UnixMillis,
    ) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "UPDATE sessions SET revoked_at = $2 WHERE revoked_at IS NULL AND id = \
                 (SELECT session_id FROM web_sessions WHERE token_hash = $1)",
            )
            .bind(token_hash)
            .bind(now.as_millis())
            .execute(connection)
            .await?;
            query::<S::Db>("DELETE FROM web_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(connection)
                .await?;
            Ok(())
        })
        .await
    }

    async fn create_password_reset(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        user: UserId,
        now: UnixMillis,
        expires_at: UnixMillis,
    ) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, used_at) \
                 VALUES ($1, $2, $3, $4, NULL)",
            )
            .bind(token_hash)
            .bind(user.as_uuid())
            .bind(now.as_millis())
            .bind(expires_at.as_millis())
            .execute(connection)
            .await?;
            Ok(())
        })
        .await
    }

    async fn use_password_reset(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        password_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Option<UserId>> {
        with_tenant(self, tenant, async |connection| {
            // The conditional update spends the token once, however many try at the same time.
            let user: Option<uuid::Uuid> = query::<S::Db>(
                "UPDATE password_resets SET used_at = $2 \
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
            )
            .bind(token_hash)
            .bind(now.as_millis())
            .scalar_optional(connection)
            .await?;
            let Some(user) = user else { return Ok(None) };
            query::<S::Db>("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(user)
                .bind(password_hash)
                .bind(now.as_millis())
                .execute(connection)
                .await?;
            query::<S::Db>(
                "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            )
            .bind(user)
            .bind(now.as_millis())
            .execute(connection)
            .await?;
            Ok(Some(UserId::from_uuid(user)))
        })
        .await
    }

    async fn shop_details(&self, tenant: TenantId) -> StoreResult<ShopDetails> {
        with_tenant(self, tenant, async |connection| {
            read_details::<S::Db>(connection).await
        })
        .await
    }

    async fn update_shop_details(
        &self,
        tenant: TenantId,
        details: &ShopDetails,
        now: UnixMillis,
    ) -> StoreResult<ShopDetails> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "UPDATE shop_details SET trading_name = $1, address = $2, phone = $3, tin = $4, \
                 receipt_footer = $5, skipped_steps = $6, updated_at = $7 WHERE id = 1",
            )
            .bind(details.trading_name.as_deref())
            .bind(details.address.as_deref())
            .bind(details.phone.as_deref())
            .bind(details.tin.as_deref())
            .bind(details.receipt_footer.as_deref())
            .bind(details.skipped_steps.join(","))
            .bind(now.as_millis())
            .execute(&mut *connection)
            .await?;
            // Tills print the header and footer: they pull them as the `shop` change.
            let shop = nexus_sync::ShopRecord {
                trading_name: details.trading_name.clone(),
                address: details.address.clone(),
                phone: details.phone.clone(),
                tin: details.tin.clone(),
                receipt_footer: details.receipt_footer.clone(),
            };
            super::changes::log_change::<S::Db>(
                connection,
                <nexus_sync::ShopRecord as nexus_sync::Record>::ENTITY,
                uuid::Uuid::nil(),
                None,
                &shop,
                now,
            )
            .await?;
            read_details::<S::Db>(connection).await
        })
        .await
    }
}
