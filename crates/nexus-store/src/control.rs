//! The control directory, shared by all tenants: the tenants and their schema versions, the
//! login directory (which tenant an email signs in to), sign-in throttles and server secrets.
//! Written once for both backends; the tables are named through `B::CONTROL` (a schema on
//! PostgreSQL, the separate `control.db` on SQLite). No tenant table refers to these.

use nexus_domain::throttle::{self, Attempts, Policy, RetryAt};
use nexus_domain::{Email, TenantId, UnixMillis, UserId};

use crate::migrate::{Migration, latest_version};
use crate::portable::{ExportedLogin, ExportedTenant};
use crate::sql::{Backend, Conn, RowExt, query, run_script};
use crate::{LoginEntry, NewTenant, StoreError, StoreResult, TenantSummary};

/// Brings the control tables to `migrations`' latest version. The caller holds the transaction
/// (and, on PostgreSQL, the lock that makes it run once).
pub(crate) async fn apply_control_migrations<B: Backend>(
    connection: &mut Conn<B>,
    migrations: &'static [Migration],
) -> StoreResult<()> {
    let control = B::CONTROL;
    run_script::<B>(
        connection,
        &format!("CREATE TABLE IF NOT EXISTS {control}control_version (version integer NOT NULL)"),
    )
    .await?;
    let found: Option<i32> = query::<B>(&format!("SELECT version FROM {control}control_version"))
        .scalar_optional(connection)
        .await?;
    let found = match found {
        Some(version) => version,
        None => {
            query::<B>(&format!(
                "INSERT INTO {control}control_version (version) VALUES (0)"
            ))
            .execute(connection)
            .await?;
            0
        }
    };
    let known = latest_version(migrations);
    if found > known {
        return Err(StoreError::Config(format!(
            "the control data is at version {found}, newer than this build knows ({known}); upgrade nexus"
        )));
    }
    for migration in migrations {
        if migration.version > found {
            run_script::<B>(connection, migration.sql).await?;
        }
    }
    query::<B>(&format!("UPDATE {control}control_version SET version = $1"))
        .bind(known)
        .execute(connection)
        .await?;
    Ok(())
}

pub(crate) async fn find_login<B: Backend>(
    connection: &mut Conn<B>,
    email: &Email,
) -> StoreResult<Option<LoginEntry>> {
    let sql = format!(
        "SELECT tenant_id, user_id FROM {}logins WHERE email = $1",
        B::CONTROL
    );
    let Some(row) = query::<B>(&sql)
        .bind(email.as_str())
        .fetch_optional(connection)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(LoginEntry {
        tenant: TenantId::from_uuid(row.field("tenant_id")?),
        user: UserId::from_uuid(row.field("user_id")?),
    }))
}

/// Claims `email` for `user` of `tenant`; a taken email is `Conflict { field: "email" }`.
pub(crate) async fn insert_login<B: Backend>(
    connection: &mut Conn<B>,
    email: &Email,
    tenant: TenantId,
    user: UserId,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {}logins (email, tenant_id, user_id) VALUES ($1, $2, $3)",
        B::CONTROL
    );
    query::<B>(&sql)
        .bind(email.as_str())
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .execute(connection)
        .await
        .map_err(|error| StoreError::unique_as_conflict(error, "email"))?;
    Ok(())
}

pub(crate) async fn delete_login<B: Backend>(
    connection: &mut Conn<B>,
    email: &Email,
) -> StoreResult<()> {
    let sql = format!("DELETE FROM {}logins WHERE email = $1", B::CONTROL);
    query::<B>(&sql)
        .bind(email.as_str())
        .execute(connection)
        .await?;
    Ok(())
}

pub(crate) async fn insert_tenant_row<B: Backend>(
    connection: &mut Conn<B>,
    tenant: &NewTenant,
    schema_version: i32,
) -> StoreResult<()> {
    let entry = ExportedTenant {
        id: tenant.id.as_uuid(),
        name: tenant.name.as_str().to_owned(),
        created_at: tenant.now.as_millis(),
    };
    insert_tenant_entry::<B>(connection, &entry, schema_version).await
}

/// The directory row of a tenant, as a new registration or an import writes it.
pub(crate) async fn insert_tenant_entry<B: Backend>(
    connection: &mut Conn<B>,
    tenant: &ExportedTenant,
    schema_version: i32,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {}tenants (id, name, schema_version, created_at) VALUES ($1, $2, $3, $4)",
        B::CONTROL
    );
    query::<B>(&sql)
        .bind(tenant.id)
        .bind(tenant.name.as_str())
        .bind(schema_version)
        .bind(tenant.created_at)
        .execute(connection)
        .await
        .map_err(|error| StoreError::unique_as_conflict(error, "tenant"))?;
    Ok(())
}

/// The tenant's directory row and the emails that sign in to it, for an export.
pub(crate) async fn tenant_directory<B: Backend>(
    connection: &mut Conn<B>,
    tenant: TenantId,
) -> StoreResult<(ExportedTenant, Vec<ExportedLogin>)> {
    let control = B::CONTROL;
    let row = query::<B>(&format!(
        "SELECT name, created_at FROM {control}tenants WHERE id = $1"
    ))
    .bind(tenant.as_uuid())
    .fetch_optional(connection)
    .await?
    .ok_or(StoreError::UnknownTenant(tenant))?;
    let entry = ExportedTenant {
        id: tenant.as_uuid(),
        name: row.field("name")?,
        created_at: row.field("created_at")?,
    };
    let rows = query::<B>(&format!(
        "SELECT email, user_id FROM {control}logins WHERE tenant_id = $1 ORDER BY email"
    ))
    .bind(tenant.as_uuid())
    .fetch_all(connection)
    .await?;
    let mut logins = Vec::with_capacity(rows.len());
    for row in &rows {
        logins.push(ExportedLogin {
            email: row.field("email")?,
            user_id: row.field("user_id")?,
        });
    }
    Ok((entry, logins))
}

/// Claims every email of an imported tenant; one already taken is refused by name.
pub(crate) async fn insert_imported_logins<B: Backend>(
    connection: &mut Conn<B>,
    tenant: TenantId,
    logins: &[ExportedLogin],
) -> StoreResult<()> {
    for login in logins {
        let email = Email::parse(&login.email).map_err(|error| {
            StoreError::Refused(format!(
                "the export holds a bad email {:?}: {error}",
                login.email
            ))
        })?;
        insert_login::<B>(connection, &email, tenant, UserId::from_uuid(login.user_id))
            .await
            .map_err(|error| match error {
                StoreError::Conflict { .. } => StoreError::Refused(format!(
                    "{email} already signs in to an organisation on this server; nothing was imported"
                )),
                other => other,
            })?;
    }
    Ok(())
}

pub(crate) async fn record_tenant_version<B: Backend>(
    connection: &mut Conn<B>,
    tenant: TenantId,
    version: i32,
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE {}tenants SET schema_version = $2 WHERE id = $1",
        B::CONTROL
    );
    query::<B>(&sql)
        .bind(tenant.as_uuid())
        .bind(version)
        .execute(connection)
        .await?;
    Ok(())
}

/// The schema version the directory records for `tenant`; `None` when it is not a tenant.
pub(crate) async fn tenant_version<B: Backend>(
    connection: &mut Conn<B>,
    tenant: TenantId,
) -> StoreResult<Option<i32>> {
    let sql = format!(
        "SELECT schema_version FROM {}tenants WHERE id = $1",
        B::CONTROL
    );
    Ok(query::<B>(&sql)
        .bind(tenant.as_uuid())
        .scalar_optional(connection)
        .await?)
}

pub(crate) async fn list_tenants<B: Backend>(
    connection: &mut Conn<B>,
) -> StoreResult<Vec<TenantSummary>> {
    let sql = format!(
        "SELECT id, name, schema_version, created_at FROM {}tenants ORDER BY created_at, id",
        B::CONTROL
    );
    let rows = query::<B>(&sql).fetch_all(connection).await?;
    let mut tenants = Vec::with_capacity(rows.len());
    for row in &rows {
        tenants.push(TenantSummary {
            id: TenantId::from_uuid(row.field("id")?),
            name: row.field("name")?,
            schema_version: row.field("schema_version")?,
            created_at: UnixMillis::from_millis(row.field("created_at")?),
        });
    }
    Ok(tenants)
}

/// Tenants whose recorded schema version is older than `current`.
pub(crate) async fn outdated_tenants<B: Backend>(
    connection: &mut Conn<B>,
    current: i32,
) -> StoreResult<Vec<TenantId>> {
    let sql = format!(
        "SELECT id FROM {}tenants WHERE schema_version < $1 ORDER BY id",
        B::CONTROL
    );
    Ok(query::<B>(&sql)
        .bind(current)
        .scalars::<uuid::Uuid>(connection)
        .await?
        .into_iter()
        .map(TenantId::from_uuid)
        .collect())
}

/// Reserves one attempt under `key` by `policy`, atomically: the record is locked, judged and
/// written in the caller's transaction, so parallel attempts are judged one after the other.
pub(crate) async fn reserve_attempt<B: Backend>(
    connection: &mut Conn<B>,
    key: &str,
    policy: Policy,
    now: UnixMillis,
) -> StoreResult<Result<Attempts, RetryAt>> {
    let control = B::CONTROL;
    // Rows untouched for a day say nothing any more; a few go with every attempt.
    query::<B>(&format!(
        "DELETE FROM {control}throttles WHERE key IN \
         (SELECT key FROM {control}throttles WHERE touched_at < $1 ORDER BY touched_at LIMIT 50)"
    ))
    .bind(now.as_millis() - 24 * 60 * 60 * 1000)
    .execute(connection)
    .await?;
    query::<B>(&format!(
        "INSERT INTO {control}throttles (key, attempts, blocked_until, window_started, touched_at) \
         VALUES ($1, 0, 0, $2, $2) ON CONFLICT (key) DO NOTHING"
    ))
    .bind(key)
    .bind(now.as_millis())
    .execute(connection)
    .await?;
    let row = query::<B>(&format!(
        "SELECT attempts, blocked_until, window_started FROM {control}throttles WHERE key = $1{}",
        B::LOCK_ROWS
    ))
    .bind(key)
    .fetch_one(connection)
    .await?;
    let record = Attempts {
        count: row.field("attempts")?,
        blocked_until: row.field("blocked_until")?,
        window_started: row.field("window_started")?,
    };
    let decided = throttle::reserve(policy, record, now);
    if let Ok(next) = decided {
        query::<B>(&format!(
            "UPDATE {control}throttles SET attempts = $2, blocked_until = $3, window_started = $4, \
             touched_at = $5 WHERE key = $1"
        ))
        .bind(key)
        .bind(next.count)
        .bind(next.blocked_until)
        .bind(next.window_started)
        .bind(now.as_millis())
        .execute(connection)
        .await?;
    }
    Ok(decided)
}

/// Forgets the attempts under `key` (a sign-in succeeded).
pub(crate) async fn forget_attempts<B: Backend>(
    connection: &mut Conn<B>,
    key: &str,
) -> StoreResult<()> {
    let sql = format!("DELETE FROM {}throttles WHERE key = $1", B::CONTROL);
    query::<B>(&sql).bind(key).execute(connection).await?;
    Ok(())
}

/// The first secret stored wins, so every server process signs with the same key.
pub(crate) async fn signing_secret<B: Backend>(
    connection: &mut Conn<B>,
    candidate: &[u8],
) -> StoreResult<Vec<u8>> {
    let control = B::CONTROL;
    query::<B>(&format!(
        "INSERT INTO {control}server_secrets (name, secret) VALUES ('jwt', $1) \
         ON CONFLICT (name) DO NOTHING"
    ))
    .bind(candidate)
    .execute(connection)
    .await?;
    Ok(query::<B>(&format!(
        "SELECT secret FROM {control}server_secrets WHERE name = 'jwt'"
    ))
    .scalar(connection)
    .await?)
}
