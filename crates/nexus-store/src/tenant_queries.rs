//! The queries both backends share, written once.
//!
//! PostgreSQL and SQLite accept the same SQL for everything here (`$N` placeholders, `RETURNING`,
//! `ON CONFLICT`, partial indexes), so the queries are a macro instantiated inside each backend
//! module with that backend's concrete sqlx types. What differs is passed in:
//! - `control`: the prefix naming the control tables (`nexus_control.` on PostgreSQL, nothing in
//!   SQLite's `control.db`);
//! - `lock_rows`: the row-lock suffix (`FOR UPDATE` on PostgreSQL; SQLite serialises writers).
//!
//! Each backend provides `begin_tenant(&self, TenantId)` returning a transaction bound to that
//! tenant; the macro implements [`crate::TenantStore`] on top of it.

macro_rules! shared_queries {
    (database = $database:ty, store = $store:ty, control = $control:literal, lock_rows = $lock_rows:literal) => {
        type Connection = <$database as sqlx::Database>::Connection;
        type DatabaseRow = <$database as sqlx::Database>::Row;
        type SqlDatabase = $database;

        use sqlx::Row as _;

        fn decode_error(message: String) -> sqlx::Error {
            sqlx::Error::Decode(message.into())
        }

        fn branch_from_row(row: &DatabaseRow) -> Result<crate::Branch, sqlx::Error> {
            Ok(crate::Branch {
                id: nexus_domain::BranchId::from_uuid(row.try_get("id")?),
                name: row.try_get("name")?,
                address: row.try_get("address")?,
                created_at: nexus_domain::UnixMillis::from_millis(row.try_get("created_at")?),
                archived_at: row.try_get::<Option<i64>, _>("archived_at")?.map(nexus_domain::UnixMillis::from_millis),
            })
        }

        fn user_from_row(row: &DatabaseRow) -> Result<crate::UserRecord, sqlx::Error> {
            let role: String = row.try_get("role")?;
            Ok(crate::UserRecord {
                id: nexus_domain::UserId::from_uuid(row.try_get("id")?),
                email: row.try_get("email")?,
                name: row.try_get("name")?,
                role: role.parse().map_err(|error: nexus_domain::roles::UnknownRole| decode_error(error.to_string()))?,
                branch_ids: Vec::new(),
                active: row.try_get("active")?,
                has_password: row.try_get("has_password")?,
                has_pin: row.try_get("has_pin")?,
                created_at: nexus_domain::UnixMillis::from_millis(row.try_get("created_at")?),
            })
        }

        const USER_COLUMNS: &str = "id, email, name, role, active, password_hash IS NOT NULL AS has_password, \
                                    pin_hash IS NOT NULL AS has_pin, created_at";

        async fn read_user(
            connection: &mut Connection,
            user: nexus_domain::UserId,
        ) -> Result<Option<crate::UserRecord>, sqlx::Error> {
            let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                .bind(user.as_uuid())
                .fetch_optional(&mut *connection)
                .await?;
            let Some(row) = row else { return Ok(None) };
            let mut record = user_from_row(&row)?;
            record.branch_ids = sqlx::query_scalar::<_, uuid::Uuid>(
                "SELECT branch_id FROM user_branches WHERE user_id = $1 ORDER BY branch_id",
            )
            .bind(user.as_uuid())
            .fetch_all(&mut *connection)
            .await?
            .into_iter()
            .map(nexus_domain::BranchId::from_uuid)
            .collect();
            Ok(Some(record))
        }

        /// Every branch must exist and be open; staff are never assigned to an archived shop.
        async fn check_branches_open(
            connection: &mut Connection,
            branches: &[nexus_domain::BranchId],
        ) -> crate::StoreResult<()> {
            for branch in branches {
                let open: Option<uuid::Uuid> =
                    sqlx::query_scalar("SELECT id FROM branches WHERE id = $1 AND archived_at IS NULL")
                        .bind(branch.as_uuid())
                        .fetch_optional(&mut *connection)
                        .await?;
                if open.is_none() {
                    return Err(crate::StoreError::UnknownBranch(*branch));
                }
            }
            Ok(())
        }

        async fn replace_user_branches(
            connection: &mut Connection,
            user: nexus_domain::UserId,
            branches: &[nexus_domain::BranchId],
        ) -> crate::StoreResult<()> {
            check_branches_open(connection, branches).await?;
            sqlx::query("DELETE FROM user_branches WHERE user_id = $1")
                .bind(user.as_uuid())
                .execute(&mut *connection)
                .await?;
            let mut unique = branches.to_vec();
            unique.sort();
            unique.dedup();
            for branch in unique {
                sqlx::query("INSERT INTO user_branches (user_id, branch_id) VALUES ($1, $2)")
                    .bind(user.as_uuid())
                    .bind(branch.as_uuid())
                    .execute(&mut *connection)
                    .await?;
            }
            Ok(())
        }

        /// Inserts the user's tenant rows. The login-directory row is the caller's business.
        async fn insert_user(
            connection: &mut Connection,
            user: &crate::NewUser,
            now: nexus_domain::UnixMillis,
        ) -> crate::StoreResult<crate::UserRecord> {
            sqlx::query(
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
            .execute(&mut *connection)
            .await
            .map_err(|error| crate::StoreError::unique_as_conflict(error, "email"))?;
            replace_user_branches(connection, user.id, &user.branch_ids).await?;
            let record = read_user(connection, user.id).await?.ok_or(crate::StoreError::Database(sqlx::Error::RowNotFound))?;
            log_staff(connection, &record, &record.branch_ids, now).await?;
            Ok(record)
        }

        /// Logs a member of staff for the stations of each branch in `branches` (before and
        /// after a change): what a till needs to sign them in with their PIN while offline. A
        /// station whose branch is not in the payload's `branch_ids` drops them.
        async fn log_staff(
            connection: &mut Connection,
            record: &crate::UserRecord,
            branches: &[nexus_domain::BranchId],
            now: nexus_domain::UnixMillis,
        ) -> crate::StoreResult<()> {
            let pin_hash: Option<String> = sqlx::query_scalar("SELECT pin_hash FROM users WHERE id = $1")
                .bind(record.id.as_uuid())
                .fetch_one(&mut *connection)
                .await?;
            let payload = serde_json::json!({
                "id": record.id, "name": record.name, "role": record.role, "active": record.active,
                "pin_hash": pin_hash, "branch_ids": record.branch_ids,
            });
            let mut branches = branches.to_vec();
            branches.sort();
            branches.dedup();
            for branch in branches {
                log_change(connection, "staff", record.id.as_uuid(), Some(branch), &payload, now).await?;
            }
            Ok(())
        }

        /// Applies the migrations this tenant lacks. The tenant's own `schema_version` row is the
        /// truth; the control directory's copy is updated by the caller in the same transaction
        /// (PostgreSQL) or right after (SQLite), and only ever lags behind.
        ///
        /// Boxed so that its future's type stays opaque to the `Send` checks of the store's
        /// boxed futures, which otherwise fail on sqlx's higher-ranked executor lifetimes.
        fn migrate_connection<'connection>(
            connection: &'connection mut Connection,
            tenant: nexus_domain::TenantId,
            migrations: &'static [crate::migrate::Migration],
        ) -> futures_util::future::BoxFuture<'connection, crate::StoreResult<crate::MigrationOutcome>> {
            Box::pin(async move {
                let found: i32 = sqlx::query_scalar(concat!("SELECT version FROM schema_version ", $lock_rows))
                    .fetch_one(&mut *connection)
                    .await?;
                let known = crate::migrate::latest_version(migrations);
                if found > known {
                    return Err(crate::StoreError::TenantSchemaTooNew { tenant, found, known });
                }
                if found == known {
                    return Ok(crate::MigrationOutcome::AlreadyCurrent);
                }
                for migration in migrations {
                    if migration.version > found {
                        sqlx::Executor::execute(&mut *connection, migration.sql).await?;
                    }
                }
                sqlx::query("UPDATE schema_version SET version = $1").bind(known).execute(&mut *connection).await?;
                Ok(crate::MigrationOutcome::Migrated { from: found, to: known })
            })
        }

        /// Brings the control tables (schema or control.db) to `migrations`' latest version. The
        /// caller holds the transaction (and, on PostgreSQL, the lock that makes it run once).
        async fn apply_control_migrations(
            connection: &mut Connection,
            migrations: &'static [crate::migrate::Migration],
        ) -> crate::StoreResult<()> {
            sqlx::Executor::execute(
                &mut *connection,
                concat!("CREATE TABLE IF NOT EXISTS ", $control, "control_version (version integer NOT NULL)"),
            )
            .await?;
            let found: Option<i32> = sqlx::query_scalar(concat!("SELECT version FROM ", $control, "control_version"))
                .fetch_optional(&mut *connection)
                .await?;
            let found = match found {
                Some(version) => version,
                None => {
                    sqlx::query(concat!("INSERT INTO ", $control, "control_version (version) VALUES (0)"))
                        .execute(&mut *connection)
                        .await?;
                    0
                }
            };
            let known = crate::migrate::latest_version(migrations);
            if found > known {
                return Err(crate::StoreError::Config(format!(
                    "the control data is at version {found}, newer than this build knows ({known}); upgrade nexus"
                )));
            }
            for migration in migrations {
                if migration.version > found {
                    sqlx::Executor::execute(&mut *connection, migration.sql).await?;
                }
            }
            sqlx::query(concat!("UPDATE ", $control, "control_version SET version = $1"))
                .bind(known)
                .execute(&mut *connection)
                .await?;
            Ok(())
        }

        async fn find_login(
            connection: &mut Connection,
            email: &nexus_domain::Email,
        ) -> crate::StoreResult<Option<crate::LoginEntry>> {
            let row = sqlx::query(concat!("SELECT tenant_id, user_id FROM ", $control, "logins WHERE email = $1"))
                .bind(email.as_str())
                .fetch_optional(&mut *connection)
                .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(crate::LoginEntry {
                tenant: nexus_domain::TenantId::from_uuid(row.try_get("tenant_id")?),
                user: nexus_domain::UserId::from_uuid(row.try_get("user_id")?),
            }))
        }

        async fn insert_login(
            connection: &mut Connection,
            email: &nexus_domain::Email,
            tenant: nexus_domain::TenantId,
            user: nexus_domain::UserId,
        ) -> crate::StoreResult<()> {
            sqlx::query(concat!("INSERT INTO ", $control, "logins (email, tenant_id, user_id) VALUES ($1, $2, $3)"))
                .bind(email.as_str())
                .bind(tenant.as_uuid())
                .bind(user.as_uuid())
                .execute(&mut *connection)
                .await
                .map_err(|error| crate::StoreError::unique_as_conflict(error, "email"))?;
            Ok(())
        }

        async fn insert_tenant_row(
            connection: &mut Connection,
            tenant: &crate::NewTenant,
            schema_version: i32,
        ) -> crate::StoreResult<()> {
            sqlx::query(concat!(
                "INSERT INTO ", $control, "tenants (id, name, schema_version, created_at) VALUES ($1, $2, $3, $4)"
            ))
            .bind(tenant.id.as_uuid())
            .bind(tenant.name.as_str())
            .bind(schema_version)
            .bind(tenant.now.as_millis())
            .execute(&mut *connection)
            .await?;
            Ok(())
        }

        async fn record_tenant_version(
            connection: &mut Connection,
            tenant: nexus_domain::TenantId,
            version: i32,
        ) -> crate::StoreResult<()> {
            sqlx::query(concat!("UPDATE ", $control, "tenants SET schema_version = $2 WHERE id = $1"))
                .bind(tenant.as_uuid())
                .bind(version)
                .execute(&mut *connection)
                .await?;
            Ok(())
        }

        async fn tenant_version(
            connection: &mut Connection,
            tenant: nexus_domain::TenantId,
        ) -> crate::StoreResult<Option<i32>> {
            Ok(sqlx::query_scalar(concat!("SELECT schema_version FROM ", $control, "tenants WHERE id = $1"))
                .bind(tenant.as_uuid())
                .fetch_optional(&mut *connection)
                .await?)
        }

        async fn list_tenants(connection: &mut Connection) -> crate::StoreResult<Vec<crate::TenantSummary>> {
            let rows = sqlx::query(concat!(
                "SELECT id, name, schema_version, created_at FROM ", $control, "tenants ORDER BY created_at, id"
            ))
            .fetch_all(&mut *connection)
            .await?;
            let mut tenants = Vec::with_capacity(rows.len());
            for row in rows {
                tenants.push(crate::TenantSummary {
                    id: nexus_domain::TenantId::from_uuid(row.try_get("id")?),
                    name: row.try_get("name")?,
                    schema_version: row.try_get("schema_version")?,
                    created_at: nexus_domain::UnixMillis::from_millis(row.try_get("created_at")?),
                });
            }
            Ok(tenants)
        }

        async fn outdated_tenants(
            connection: &mut Connection,
            current: i32,
        ) -> crate::StoreResult<Vec<nexus_domain::TenantId>> {
            let ids: Vec<uuid::Uuid> = sqlx::query_scalar(concat!(
                "SELECT id FROM ", $control, "tenants WHERE schema_version < $1 ORDER BY id"
            ))
            .bind(current)
            .fetch_all(&mut *connection)
            .await?;
            Ok(ids.into_iter().map(nexus_domain::TenantId::from_uuid).collect())
        }

        async fn login_throttle(
            connection: &mut Connection,
            email: &nexus_domain::Email,
        ) -> crate::StoreResult<Option<crate::LoginThrottle>> {
            let row = sqlx::query(concat!(
                "SELECT failures, blocked_until FROM ", $control, "login_throttle WHERE email = $1"
            ))
            .bind(email.as_str())
            .fetch_optional(&mut *connection)
            .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(crate::LoginThrottle {
                failures: row.try_get("failures")?,
                blocked_until: nexus_domain::UnixMillis::from_millis(row.try_get("blocked_until")?),
            }))
        }

        async fn record_login_failure(
            connection: &mut Connection,
            email: &nexus_domain::Email,
            now: nexus_domain::UnixMillis,
            wait_seconds: &(dyn Fn(i32) -> i64 + Send + Sync),
        ) -> crate::StoreResult<crate::LoginThrottle> {
            // One statement increments, so failures sent in parallel are all counted.
            let failures: i32 = sqlx::query_scalar(concat!(
                "INSERT INTO ", $control, "login_throttle AS throttle (email, failures, blocked_until) VALUES ($1, 1, 0) \
                 ON CONFLICT (email) DO UPDATE SET failures = throttle.failures + 1 RETURNING failures"
            ))
            .bind(email.as_str())
            .fetch_one(&mut *connection)
            .await?;
            let until = now.plus_seconds(wait_seconds(failures));
            let blocked_until: i64 = sqlx::query_scalar(concat!(
                "UPDATE ", $control, "login_throttle SET blocked_until = CASE WHEN blocked_until < $2 THEN $2 ELSE blocked_until END \
                 WHERE email = $1 RETURNING blocked_until"
            ))
            .bind(email.as_str())
            .bind(until.as_millis())
            .fetch_one(&mut *connection)
            .await?;
            Ok(crate::LoginThrottle { failures, blocked_until: nexus_domain::UnixMillis::from_millis(blocked_until) })
        }

        async fn clear_login_failures(connection: &mut Connection, email: &nexus_domain::Email) -> crate::StoreResult<()> {
            sqlx::query(concat!("DELETE FROM ", $control, "login_throttle WHERE email = $1"))
                .bind(email.as_str())
                .execute(&mut *connection)
                .await?;
            Ok(())
        }

        async fn insert_session(connection: &mut Connection, session: &crate::NewSession) -> crate::StoreResult<()> {
            sqlx::query("INSERT INTO sessions (id, user_id, created_at, revoked_at) VALUES ($1, $2, $3, NULL)")
                .bind(session.id.as_uuid())
                .bind(session.user.as_uuid())
                .bind(session.now.as_millis())
                .execute(&mut *connection)
                .await?;
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at, rotated_at) \
                 VALUES ($1, $2, $3, $4, NULL)",
            )
            .bind(&session.refresh_token_hash)
            .bind(session.id.as_uuid())
            .bind(session.now.as_millis())
            .bind(session.refresh_expires_at.as_millis())
            .execute(&mut *connection)
            .await?;
            Ok(())
        }

        /// The first secret stored wins, so every server process signs with the same key.
        async fn signing_secret(connection: &mut Connection, candidate: &[u8]) -> crate::StoreResult<Vec<u8>> {
            sqlx::query(concat!(
                "INSERT INTO ", $control, "server_secrets (name, secret) VALUES ('jwt', $1) ON CONFLICT (name) DO NOTHING"
            ))
            .bind(candidate)
            .execute(&mut *connection)
            .await?;
            Ok(sqlx::query_scalar(concat!("SELECT secret FROM ", $control, "server_secrets WHERE name = 'jwt'"))
                .fetch_one(&mut *connection)
                .await?)
        }

        #[async_trait::async_trait]
        impl crate::TenantStore for $store {
            async fn user_credentials(
                &self,
                tenant: nexus_domain::TenantId,
                user: nexus_domain::UserId,
            ) -> crate::StoreResult<Option<crate::UserCredentials>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let row = sqlx::query("SELECT password_hash, active FROM users WHERE id = $1")
                    .bind(user.as_uuid())
                    .fetch_optional(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some(crate::UserCredentials { password_hash: row.try_get("password_hash")?, active: row.try_get("active")? }))
            }

            async fn authenticated_user(
                &self,
                tenant: nexus_domain::TenantId,
                user: nexus_domain::UserId,
                session: nexus_domain::SessionId,
            ) -> crate::StoreResult<Option<crate::UserRecord>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let revoked_at: Option<Option<i64>> =
                    sqlx::query_scalar("SELECT revoked_at FROM sessions WHERE id = $1 AND user_id = $2")
                        .bind(session.as_uuid())
                        .bind(user.as_uuid())
                        .fetch_optional(&mut *transaction)
                        .await?;
                let record = match revoked_at {
                    Some(None) => read_user(&mut transaction, user).await?.filter(|record| record.active),
                    _ => None,
                };
                transaction.commit().await?;
                Ok(record)
            }

            async fn create_session(
                &self,
                tenant: nexus_domain::TenantId,
                session: crate::NewSession,
            ) -> crate::StoreResult<()> {
                let mut transaction = self.begin_tenant(tenant).await?;
                insert_session(&mut transaction, &session).await?;
                transaction.commit().await?;
                Ok(())
            }

            async fn rotate_refresh_token(
                &self,
                tenant: nexus_domain::TenantId,
                rotation: crate::RefreshRotation,
            ) -> crate::StoreResult<crate::RefreshOutcome> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let row = sqlx::query(
                    "SELECT refresh_tokens.session_id, refresh_tokens.expires_at, refresh_tokens.rotated_at, \
                     sessions.revoked_at, sessions.user_id \
                     FROM refresh_tokens JOIN sessions ON sessions.id = refresh_tokens.session_id \
                     WHERE refresh_tokens.token_hash = $1",
                )
                .bind(&rotation.presented_hash)
                .fetch_optional(&mut *transaction)
                .await?;
                let Some(row) = row else { return Ok(crate::RefreshOutcome::Unknown) };
                let session = nexus_domain::SessionId::from_uuid(row.try_get("session_id")?);
                let user = nexus_domain::UserId::from_uuid(row.try_get("user_id")?);
                let expires_at: i64 = row.try_get("expires_at")?;
                let rotated_at: Option<i64> = row.try_get("rotated_at")?;
                let revoked_at: Option<i64> = row.try_get("revoked_at")?;
                if revoked_at.is_some() {
                    return Ok(crate::RefreshOutcome::Revoked);
                }
                // The conditional update is the arbiter: of two concurrent rotations of one token,
                // exactly one changes the row; the other is treated as a replay.
                let claimed = if rotated_at.is_none() {
                    sqlx::query("UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL")
                        .bind(&rotation.presented_hash)
                        .bind(rotation.now.as_millis())
                        .execute(&mut *transaction)
                        .await?
                        .rows_affected()
                        == 1
                } else {
                    false
                };
                if !claimed {
                    sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                        .bind(session.as_uuid())
                        .bind(rotation.now.as_millis())
                        .execute(&mut *transaction)
                        .await?;
                    transaction.commit().await?;
                    return Ok(crate::RefreshOutcome::ReuseDetected);
                }
                if expires_at <= rotation.now.as_millis() {
                    // Dropping the transaction rolls the claim back: an expired token stays as it was.
                    return Ok(crate::RefreshOutcome::Expired);
                }
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at, rotated_at) \
                     VALUES ($1, $2, $3, $4, NULL)",
                )
                .bind(&rotation.replacement_hash)
                .bind(session.as_uuid())
                .bind(rotation.now.as_millis())
                .bind(rotation.replacement_expires_at.as_millis())
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(crate::RefreshOutcome::Rotated { user, session })
            }

            async fn revoke_session_by_token(
                &self,
                tenant: nexus_domain::TenantId,
                token_hash: &[u8],
                now: nexus_domain::UnixMillis,
            ) -> crate::StoreResult<bool> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let session: Option<uuid::Uuid> =
                    sqlx::query_scalar("SELECT session_id FROM refresh_tokens WHERE token_hash = $1")
                        .bind(token_hash)
                        .fetch_optional(&mut *transaction)
                        .await?;
                let Some(session) = session else { return Ok(false) };
                sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(session)
                    .bind(now.as_millis())
                    .execute(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok(true)
            }

            async fn get_user(
                &self,
                tenant: nexus_domain::TenantId,
                user: nexus_domain::UserId,
            ) -> crate::StoreResult<Option<crate::UserRecord>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let record = read_user(&mut transaction, user).await?;
                transaction.commit().await?;
                Ok(record)
            }

            async fn list_users(&self, tenant: nexus_domain::TenantId) -> crate::StoreResult<Vec<crate::UserRecord>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id"))
                    .fetch_all(&mut *transaction)
                    .await?;
                let memberships = sqlx::query("SELECT user_id, branch_id FROM user_branches ORDER BY branch_id")
                    .fetch_all(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                let mut users = rows.iter().map(user_from_row).collect::<Result<Vec<_>, _>>()?;
                let mut branches_of: std::collections::HashMap<uuid::Uuid, Vec<nexus_domain::BranchId>> =
                    std::collections::HashMap::new();
                for membership in memberships {
                    let user: uuid::Uuid = membership.try_get("user_id")?;
                    branches_of.entry(user).or_default().push(nexus_domain::BranchId::from_uuid(membership.try_get("branch_id")?));
                }
                for user in &mut users {
                    user.branch_ids = branches_of.remove(&user.id.as_uuid()).unwrap_or_default();
                }
                Ok(users)
            }

            async fn update_user(
                &self,
                tenant: nexus_domain::TenantId,
                checked: &crate::UserRecord,
                change: crate::UserChange,
                now: nexus_domain::UnixMillis,
            ) -> crate::StoreResult<Option<crate::UserRecord>> {
                let user = checked.id;
                let mut transaction = self.begin_tenant(tenant).await?;
                // Lock the owners first so that two concurrent demotions cannot both see "another
                // owner remains" and leave none; then the user being changed.
                sqlx::query(concat!("SELECT id FROM users WHERE role = 'owner' AND active ", $lock_rows))
                    .fetch_all(&mut *transaction)
                    .await?;
                sqlx::query(concat!("SELECT id FROM users WHERE id = $1 ", $lock_rows))
                    .bind(user.as_uuid())
                    .fetch_optional(&mut *transaction)
                    .await?;
                let Some(current) = read_user(&mut transaction, user).await? else { return Ok(None) };
                if current.role != checked.role || current.branch_ids != checked.branch_ids || current.active != checked.active {
                    return Err(crate::StoreError::Stale);
                }
                if let Some(role) = change.role {
                    sqlx::query("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
                        .bind(user.as_uuid())
                        .bind(role.as_str())
                        .bind(now.as_millis())
                        .execute(&mut *transaction)
                        .await?;
                }
                if let Some(active) = change.active {
                    sqlx::query("UPDATE users SET active = $2, updated_at = $3 WHERE id = $1")
                        .bind(user.as_uuid())
                        .bind(active)
                        .bind(now.as_millis())
                        .execute(&mut *transaction)
                        .await?;
                    if !active {
                        sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                            .bind(user.as_uuid())
                            .bind(now.as_millis())
                            .execute(&mut *transaction)
                            .await?;
                    }
                }
                if let Some(branches) = &change.branch_ids {
                    replace_user_branches(&mut transaction, user, branches).await?;
                }
                let owners: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'owner' AND active")
                    .fetch_one(&mut *transaction)
                    .await?;
                if owners == 0 {
                    return Err(crate::StoreError::LastOwner);
                }
                let record = read_user(&mut transaction, user).await?;
                if let Some(record) = &record {
                    let mut touched = checked.branch_ids.clone();
                    touched.extend(record.branch_ids.iter().copied());
                    log_staff(&mut transaction, record, &touched, now).await?;
                }
                transaction.commit().await?;
                Ok(record)
            }

            async fn create_branch(
                &self,
                tenant: nexus_domain::TenantId,
                branch: crate::NewBranch,
            ) -> crate::StoreResult<crate::Branch> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let row = sqlx::query(
                    "INSERT INTO branches (id, name, name_key, address, created_at, archived_at) \
                     VALUES ($1, $2, $5, $3, $4, NULL) RETURNING id, name, address, created_at, archived_at",
                )
                .bind(branch.id.as_uuid())
                .bind(branch.name.as_str())
                .bind(branch.address.as_ref().map(|address| address.as_str()))
                .bind(branch.now.as_millis())
                .bind(crate::branch_name_key(&branch.name))
                .fetch_one(&mut *transaction)
                .await
                .map_err(|error| crate::StoreError::unique_as_conflict(error, "name"))?;
                let created = branch_from_row(&row)?;
                transaction.commit().await?;
                Ok(created)
            }

            async fn list_branches(&self, tenant: nexus_domain::TenantId) -> crate::StoreResult<Vec<crate::Branch>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let rows = sqlx::query("SELECT id, name, address, created_at, archived_at FROM branches ORDER BY created_at, id")
                    .fetch_all(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok(rows.iter().map(branch_from_row).collect::<Result<_, _>>()?)
            }

            async fn get_branch(
                &self,
                tenant: nexus_domain::TenantId,
                branch: nexus_domain::BranchId,
            ) -> crate::StoreResult<Option<crate::Branch>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let row = sqlx::query("SELECT id, name, address, created_at, archived_at FROM branches WHERE id = $1")
                    .bind(branch.as_uuid())
                    .fetch_optional(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok(row.as_ref().map(branch_from_row).transpose()?)
            }

            async fn update_branch(
                &self,
                tenant: nexus_domain::TenantId,
                branch: nexus_domain::BranchId,
                name: Option<nexus_domain::NonEmptyText>,
                address: Option<Option<nexus_domain::NonEmptyText>>,
            ) -> crate::StoreResult<Option<crate::Branch>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                // `$4` says whether the address is being set at all, so that "absent" and "null"
                // stay different: absent keeps it, null clears it.
                let row = sqlx::query(
                    "UPDATE branches SET name = COALESCE($2, name), name_key = COALESCE($5, name_key), \
                     address = CASE WHEN $4 THEN $3 ELSE address END \
                     WHERE id = $1 RETURNING id, name, address, created_at, archived_at",
                )
                .bind(branch.as_uuid())
                .bind(name.as_ref().map(|name| name.as_str()))
                .bind(address.as_ref().and_then(|address| address.as_ref().map(|address| address.as_str())))
                .bind(address.is_some())
                .bind(name.as_ref().map(crate::branch_name_key))
                .fetch_optional(&mut *transaction)
                .await
                .map_err(|error| crate::StoreError::unique_as_conflict(error, "name"))?;
                let updated = row.as_ref().map(branch_from_row).transpose()?;
                transaction.commit().await?;
                Ok(updated)
            }

            async fn archive_branch(
                &self,
                tenant: nexus_domain::TenantId,
                branch: nexus_domain::BranchId,
                now: nexus_domain::UnixMillis,
            ) -> crate::StoreResult<Option<crate::Branch>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let row = sqlx::query(
                    "UPDATE branches SET archived_at = COALESCE(archived_at, $2) WHERE id = $1 \
                     RETURNING id, name, address, created_at, archived_at",
                )
                .bind(branch.as_uuid())
                .bind(now.as_millis())
                .fetch_optional(&mut *transaction)
                .await?;
                let archived = row.as_ref().map(branch_from_row).transpose()?;
                transaction.commit().await?;
                Ok(archived)
            }
        }
    };
}

pub(crate) use shared_queries;
