//! The control directory, shared by all tenants: the tenants and their schema versions, the
//! login directory (which tenant an email signs in to), sign-in throttles and server secrets.
//! Written once for both backends; the tables are named through `B::CONTROL` (a schema on
//! PostgreSQL, the separate `control.db` on SQLite). No tenant table refers to these.

use nexus_domain::{Email, TenantId, UnixMillis, UserId};

use crate::migrate::{Migration, latest_version};
use crate::sql::{Backend, Conn, RowExt, query, run_script};
use crate::{LoginEntry, LoginThrottle, NewTenant, StoreError, StoreResult, TenantSummary};

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
    let sql = format!(
        "INSERT INTO {}tenants (id, name, schema_version, created_at) VALUES ($1, $2, $3, $4)",
        B::CONTROL
    );
    query::<B>(&sql)
        .bind(tenant.id.as_uuid())
        .bind(tenant.name.as_str())
        .bind(schema_version)
        .bind(tenant.now.as_millis())
        .execute(connection)
        .await?;
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

pub(crate) async fn login_throttle<B: Backend>(
    connection: &mut Conn<B>,
    email: &Email,
) -> StoreResult<Option<LoginThrottle>> {
    let sql = format!(
        "SELECT failures, blocked_until FROM {}login_throttle WHERE email = $1",
        B::CONTROL
    );
    let Some(row) = query::<B>(&sql)
        .bind(email.as_str())
        .fetch_optional(connection)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(LoginThrottle {
        failures: row.field("failures")?,
        blocked_until: UnixMillis::from_millis(row.field("blocked_until")?),
    }))
}

pub(crate) async fn record_login_failure<B: Backend>(
    connection: &mut Conn<B>,
    email: &Email,
    now: UnixMillis,
    wait_seconds: &(dyn Fn(i32) -> i64 + Send + Sync),
) -> StoreResult<LoginThrottle> {
    let control = B::CONTROL;
    // One statement increments, so failures sent in parallel are all counted.
    let failures: i32 = query::<B>(&format!(
        "INSERT INTO {control}login_throttle AS throttle (email, failures, blocked_until) \
         VALUES ($1, 1, 0) ON CONFLICT (email) DO UPDATE SET failures = throttle.failures + 1 \
         RETURNING failures"
    ))
    .bind(email.as_str())
    .scalar(connection)
    .await?;
    let until = now.plus_seconds(wait_seconds(failures));
    let blocked_until: i64 = query::<B>(&format!(
        "UPDATE {control}login_throttle SET blocked_until = \
         CASE WHEN blocked_until < $2 THEN $2 ELSE blocked_until END \
         WHERE email = $1 RETURNING blocked_until"
    ))
    .bind(email.as_str())
    .bind(until.as_millis())
    .scalar(connection)
    .await?;
    Ok(LoginThrottle {
        failures,
        blocked_until: UnixMillis::from_millis(blocked_until),
    })
}

pub(crate) async fn clear_login_failures<B: Backend>(
    connection: &mut Conn<B>,
    email: &Email,
) -> StoreResult<()> {
    let sql = format!("DELETE FROM {}login_throttle WHERE email = $1", B::CONTROL);
    query::<B>(&sql)
        .bind(email.as_str())
        .execute(connection)
        .await?;
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
