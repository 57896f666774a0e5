//! Staff of one tenant: users with their roles and branches, sessions and refresh tokens.

use std::collections::HashMap;

use async_trait::async_trait;
use nexus_domain::{BranchId, SessionId, TenantId, UnixMillis, UserId};

use super::branches::check_branches_open;
use super::changes::log_change;
use super::{TenantAccess, with_tenant};
use crate::sql::{Backend, Conn, RowExt, query};
use crate::{
    NewSession, NewUser, RefreshOutcome, RefreshRotation, StoreError, StoreResult, UserChange,
    UserCredentials, UserRecord,
};

/// Staff, sessions and refresh tokens of one tenant.
#[async_trait]
pub trait StaffStore: Send + Sync + 'static {
    async fn user_credentials(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> StoreResult<Option<UserCredentials>>;
    /// The signed-in user as of now, or `None` when the user is gone or inactive or the session
    /// was revoked.
    async fn authenticated_user(
        &self,
        tenant: TenantId,
        user: UserId,
        session: SessionId,
    ) -> StoreResult<Option<UserRecord>>;
    async fn create_session(&self, tenant: TenantId, session: NewSession) -> StoreResult<()>;
    /// Swaps a refresh token for a new one in the same session. Presenting a token that was
    /// already rotated revokes the whole session (the token was stolen or replayed).
    async fn rotate_refresh_token(
        &self,
        tenant: TenantId,
        rotation: RefreshRotation,
    ) -> StoreResult<RefreshOutcome>;
    /// Revokes the session that `token_hash` belongs to; `false` when no such token exists.
    async fn revoke_session_by_token(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        now: UnixMillis,
    ) -> StoreResult<bool>;

    async fn get_user(&self, tenant: TenantId, user: UserId) -> StoreResult<Option<UserRecord>>;
    async fn list_users(&self, tenant: TenantId) -> StoreResult<Vec<UserRecord>>;
    /// Changes role, branches or active state. Refuses (`LastOwner`) any change that would leave
    /// the tenant without an active owner; deactivating revokes the user's sessions.
    ///
    /// `checked` is the record the caller authorised the change against: if the user's role or
    /// branches differ from it inside the transaction, nothing changes and the answer is `Stale`,
    /// so a permission decision never applies to a record that moved underneath it.
    async fn update_user(
        &self,
        tenant: TenantId,
        checked: &UserRecord,
        change: UserChange,
        now: UnixMillis,
    ) -> StoreResult<Option<UserRecord>>;
}

const USER_COLUMNS: &str = "id, email, name, role, active, password_hash IS NOT NULL AS has_password, \
                            pin_hash IS NOT NULL AS has_pin, created_at";

fn user_from_row<R: RowExt>(row: &R) -> sqlx::Result<UserRecord>
where
    R::Database: Backend,
{
    let role: String = row.field("role")?;
    Ok(UserRecord {
        id: UserId::from_uuid(row.field("id")?),
        email: row.field("email")?,
        name: row.field("name")?,
        role: crate::sql::parse_column(&role, "role")?,
        branch_ids: Vec::new(),
        active: row.field("active")?,
        has_password: row.field("has_password")?,
        has_pin: row.field("has_pin")?,
        created_at: UnixMillis::from_millis(row.field("created_at")?),
    })
}

pub(crate) async fn read_user<B: Backend>(
    connection: &mut Conn<B>,
    user: UserId,
) -> sqlx::Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let Some(row) = query::<B>(&sql)
        .bind(user.as_uuid())
        .fetch_optional(connection)
        .await?
    else {
        return Ok(None);
    };
    let mut record = user_from_row(&row)?;
    record.branch_ids =
        query::<B>("SELECT branch_id FROM user_branches WHERE user_id = $1 ORDER BY branch_id")
            .bind(user.as_uuid())
            .scalars::<uuid::Uuid>(connection)
            .await?
            .into_iter()
            .map(BranchId::from_uuid)
            .collect();
    Ok(Some(record))
}

async fn replace_user_branches<B: Backend>(
    connection: &mut Conn<B>,
    user: UserId,
    branches: &[BranchId],
) -> StoreResult<()> {
    check_branches_open::<B>(connection, branches).await?;
    query::<B>("DELETE FROM user_branches WHERE user_id = $1")
        .bind(user.as_uuid())
        .execute(connection)
        .await?;
    let mut unique = branches.to_vec();
    unique.sort();
    unique.dedup();
    for branch in unique {
        query::<B>("INSERT INTO user_branches (user_id, branch_id) VALUES ($1, $2)")
            .bind(user.as_uuid())
            .bind(branch.as_uuid())
            .execute(connection)
            .await?;
    }
    Ok(())
}

/// Inserts the user's tenant rows. The login-directory row is the caller's business.
pub(crate) async fn insert_user<B: Backend>(
    connection: &mut Conn<B>,
    user: &NewUser,
    now: UnixMillis,
) -> StoreResult<UserRecord> {
    query::<B>(
        "INSERT INTO users (id, email, name, role, password_hash, pin_hash, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7)",
    )
    .bind(user.id.as_uuid())
    .bind(user.email.as_str())
    .bind(user.name.as_str())
    .bind(user.role.as_str())
    .bind(user.password_hash.as_deref())
    .bind(user.pin_hash.as_deref())
    .bind(now.as_millis())
    .execute(connection)
    .await
    .map_err(|error| StoreError::unique_as_conflict(error, "email"))?;
    replace_user_branches::<B>(connection, user.id, &user.branch_ids).await?;
    let record = read_user::<B>(connection, user.id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
    log_staff::<B>(connection, &record, &record.branch_ids, now).await?;
    Ok(record)
}

/// Logs a member of staff for the stations of each branch in `branches` (before and after a
/// change): what a till needs to sign them in with their PIN while offline. A station whose
/// branch is not in the payload's `branch_ids` drops them.
async fn log_staff<B: Backend>(
    connection: &mut Conn<B>,
    record: &UserRecord,
    branches: &[BranchId],
    now: UnixMillis,
) -> StoreResult<()> {
    let pin_hash: Option<String> = query::<B>("SELECT pin_hash FROM users WHERE id = $1")
        .bind(record.id.as_uuid())
        .scalar(connection)
        .await?;
    let payload = serde_json::json!({
        "id": record.id, "name": record.name, "role": record.role, "active": record.active,
        "pin_hash": pin_hash, "branch_ids": record.branch_ids,
    });
    let mut branches = branches.to_vec();
    branches.sort();
    branches.dedup();
    for branch in branches {
        log_change::<B>(
            connection,
            "staff",
            record.id.as_uuid(),
            Some(branch),
            &payload,
            now,
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn insert_session<B: Backend>(
    connection: &mut Conn<B>,
    session: &NewSession,
) -> StoreResult<()> {
    query::<B>(
        "INSERT INTO sessions (id, user_id, created_at, revoked_at) VALUES ($1, $2, $3, NULL)",
    )
    .bind(session.id.as_uuid())
    .bind(session.user.as_uuid())
    .bind(session.now.as_millis())
    .execute(connection)
    .await?;
    insert_refresh_token::<B>(
        connection,
        &session.refresh_token_hash,
        session.id,
        session.now,
        session.refresh_expires_at,
    )
    .await
}

async fn insert_refresh_token<B: Backend>(
    connection: &mut Conn<B>,
    token_hash: &[u8],
    session: SessionId,
    now: UnixMillis,
    expires_at: UnixMillis,
) -> StoreResult<()> {
    query::<B>(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at, rotated_at) \
         VALUES ($1, $2, $3, $4, NULL)",
    )
    .bind(token_hash)
    .bind(session.as_uuid())
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .execute(connection)
    .await?;
    Ok(())
}

async fn revoke_session<B: Backend>(
    connection: &mut Conn<B>,
    session: uuid::Uuid,
    now: UnixMillis,
) -> StoreResult<()> {
    query::<B>("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(session)
        .bind(now.as_millis())
        .execute(connection)
        .await?;
    Ok(())
}

async fn rotate<B: Backend>(
    connection: &mut Conn<B>,
    rotation: &RefreshRotation,
) -> StoreResult<RefreshOutcome> {
    let row = query::<B>(
        "SELECT refresh_tokens.session_id, refresh_tokens.expires_at, refresh_tokens.rotated_at, \
         sessions.revoked_at, sessions.user_id \
         FROM refresh_tokens JOIN sessions ON sessions.id = refresh_tokens.session_id \
         WHERE refresh_tokens.token_hash = $1",
    )
    .bind(rotation.presented_hash.as_slice())
    .fetch_optional(connection)
    .await?;
    let Some(row) = row else {
        return Ok(RefreshOutcome::Unknown);
    };
    let session = SessionId::from_uuid(row.field("session_id")?);
    let user = UserId::from_uuid(row.field("user_id")?);
    let expires_at: i64 = row.field("expires_at")?;
    let rotated_at: Option<i64> = row.field("rotated_at")?;
    let revoked_at: Option<i64> = row.field("revoked_at")?;
    if revoked_at.is_some() {
        return Ok(RefreshOutcome::Revoked);
    }
    // An expired token that was never rotated stays as it was: nothing is claimed or revoked.
    if rotated_at.is_none() && expires_at <= rotation.now.as_millis() {
        return Ok(RefreshOutcome::Expired);
    }
    // The conditional update is the arbiter: of two concurrent rotations of one token, exactly
    // one changes the row; the other is treated as a replay.
    let claimed = rotated_at.is_none()
        && query::<B>(
            "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL",
        )
        .bind(rotation.presented_hash.as_slice())
        .bind(rotation.now.as_millis())
        .execute(connection)
        .await?
            == 1;
    if !claimed {
        revoke_session::<B>(connection, session.as_uuid(), rotation.now).await?;
        return Ok(RefreshOutcome::ReuseDetected);
    }
    insert_refresh_token::<B>(
        connection,
        &rotation.replacement_hash,
        session,
        rotation.now,
        rotation.replacement_expires_at,
    )
    .await?;
    Ok(RefreshOutcome::Rotated { user, session })
}

async fn update<B: Backend>(
    connection: &mut Conn<B>,
    checked: &UserRecord,
    change: &UserChange,
    now: UnixMillis,
) -> StoreResult<Option<UserRecord>> {
    let user = checked.id;
    // Lock the owners first so that two concurrent demotions cannot both see "another owner
    // remains" and leave none; then the user being changed.
    let owners_sql = format!(
        "SELECT id FROM users WHERE role = 'owner' AND active{}",
        B::LOCK_ROWS
    );
    query::<B>(&owners_sql).fetch_all(connection).await?;
    let user_sql = format!("SELECT id FROM users WHERE id = $1{}", B::LOCK_ROWS);
    query::<B>(&user_sql)
        .bind(user.as_uuid())
        .fetch_optional(connection)
        .await?;
    let Some(current) = read_user::<B>(connection, user).await? else {
        return Ok(None);
    };
    if current.role != checked.role
        || current.branch_ids != checked.branch_ids
        || current.active != checked.active
    {
        return Err(StoreError::Stale);
    }
    if let Some(role) = change.role {
        query::<B>("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
            .bind(user.as_uuid())
            .bind(role.as_str())
            .bind(now.as_millis())
            .execute(connection)
            .await?;
    }
    if let Some(active) = change.active {
        query::<B>("UPDATE users SET active = $2, updated_at = $3 WHERE id = $1")
            .bind(user.as_uuid())
            .bind(active)
            .bind(now.as_millis())
            .execute(connection)
            .await?;
        if !active {
            query::<B>(
                "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            )
            .bind(user.as_uuid())
            .bind(now.as_millis())
            .execute(connection)
            .await?;
        }
    }
    if let Some(branches) = &change.branch_ids {
        replace_user_branches::<B>(connection, user, branches).await?;
    }
    for (column, hash) in [
        ("password_hash", &change.password_hash),
        ("pin_hash", &change.pin_hash),
    ] {
        if let Some(hash) = hash {
            let sql = format!("UPDATE users SET {column} = $2, updated_at = $3 WHERE id = $1");
            query::<B>(&sql)
                .bind(user.as_uuid())
                .bind(hash.as_str())
                .bind(now.as_millis())
                .execute(connection)
                .await?;
        }
    }
    let owners: i64 = query::<B>("SELECT COUNT(*) FROM users WHERE role = 'owner' AND active")
        .scalar(connection)
        .await?;
    if owners == 0 {
        return Err(StoreError::LastOwner);
    }
    let record = read_user::<B>(connection, user).await?;
    if let Some(record) = &record {
        let mut touched = checked.branch_ids.clone();
        touched.extend(record.branch_ids.iter().copied());
        log_staff::<B>(connection, record, &touched, now).await?;
    }
    Ok(record)
}

async fn list<B: Backend>(connection: &mut Conn<B>) -> StoreResult<Vec<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id");
    let rows = query::<B>(&sql).fetch_all(connection).await?;
    let memberships = query::<B>("SELECT user_id, branch_id FROM user_branches ORDER BY branch_id")
        .fetch_all(connection)
        .await?;
    let mut users = rows
        .iter()
        .map(user_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let mut branches_of: HashMap<uuid::Uuid, Vec<BranchId>> = HashMap::new();
    for membership in &memberships {
        let user: uuid::Uuid = membership.field("user_id")?;
        branches_of
            .entry(user)
            .or_default()
            .push(BranchId::from_uuid(membership.field("branch_id")?));
    }
    for user in &mut users {
        user.branch_ids = branches_of.remove(&user.id.as_uuid()).unwrap_or_default();
    }
    Ok(users)
}

#[async_trait]
impl<S: TenantAccess> StaffStore for S {
    async fn user_credentials(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> StoreResult<Option<UserCredentials>> {
        with_tenant(self, tenant, async |connection| {
            let row = query::<S::Db>("SELECT password_hash, active FROM users WHERE id = $1")
                .bind(user.as_uuid())
                .fetch_optional(connection)
                .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(UserCredentials {
                password_hash: row.field("password_hash")?,
                active: row.field("active")?,
            }))
        })
        .await
    }

    async fn authenticated_user(
        &self,
        tenant: TenantId,
        user: UserId,
        session: SessionId,
    ) -> StoreResult<Option<UserRecord>> {
        with_tenant(self, tenant, async |connection| {
            let revoked_at: Option<Option<i64>> =
                query::<S::Db>("SELECT revoked_at FROM sessions WHERE id = $1 AND user_id = $2")
                    .bind(session.as_uuid())
                    .bind(user.as_uuid())
                    .scalar_optional(connection)
                    .await?;
            Ok(match revoked_at {
                Some(None) => read_user::<S::Db>(connection, user)
                    .await?
                    .filter(|record| record.active),
                _ => None,
            })
        })
        .await
    }

    async fn create_session(&self, tenant: TenantId, session: NewSession) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            insert_session::<S::Db>(connection, &session).await
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        tenant: TenantId,
        rotation: RefreshRotation,
    ) -> StoreResult<RefreshOutcome> {
        with_tenant(self, tenant, async |connection| {
            rotate::<S::Db>(connection, &rotation).await
        })
        .await
    }

    async fn revoke_session_by_token(
        &self,
        tenant: TenantId,
        token_hash: &[u8],
        now: UnixMillis,
    ) -> StoreResult<bool> {
        with_tenant(self, tenant, async |connection| {
            let session: Option<uuid::Uuid> =
                query::<S::Db>("SELECT session_id FROM refresh_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .scalar_optional(connection)
                    .await?;
            let Some(session) = session else {
                return Ok(false);
            };
            revoke_session::<S::Db>(connection, session, now).await?;
            Ok(true)
        })
        .await
    }

    async fn get_user(&self, tenant: TenantId, user: UserId) -> StoreResult<Option<UserRecord>> {
        with_tenant(self, tenant, async |connection| {
            Ok(read_user::<S::Db>(connection, user).await?)
        })
        .await
    }

    async fn list_users(&self, tenant: TenantId) -> StoreResult<Vec<UserRecord>> {
        with_tenant(self, tenant, async |connection| {
            list::<S::Db>(connection).await
        })
        .await
    }

    async fn update_user(
        &self,
        tenant: TenantId,
        checked: &UserRecord,
        change: UserChange,
        now: UnixMillis,
    ) -> StoreResult<Option<UserRecord>> {
        with_tenant(self, tenant, async |connection| {
            update::<S::Db>(connection, checked, &change, now).await
        })
        .await
    }
}
