//! Station queries both backends share (see `tenant_queries` for why a macro).

macro_rules! station_queries {
    (store = $store:ty, lock_rows = $lock_rows:literal) => {
        const STATION_COLUMNS: &str = "id, branch_id, name, enrolled_at, enrolment_expires_at, revoked_at, created_at, \
                                       last_sync_at, unsynced_since, app_version, acknowledged_seq";

        fn station_from_row(row: &DatabaseRow) -> Result<crate::stations::Station, sqlx::Error> {
            let millis = |column: &str| -> Result<Option<nexus_domain::UnixMillis>, sqlx::Error> {
                Ok(row.try_get::<Option<i64>, _>(column)?.map(nexus_domain::UnixMillis::from_millis))
            };
            Ok(crate::stations::Station {
                id: row.try_get("id")?,
                branch_id: nexus_domain::BranchId::from_uuid(row.try_get("branch_id")?),
                name: row.try_get("name")?,
                enrolled_at: millis("enrolled_at")?,
                enrolment_expires_at: millis("enrolment_expires_at")?,
                revoked_at: millis("revoked_at")?,
                created_at: nexus_domain::UnixMillis::from_millis(row.try_get("created_at")?),
                last_sync_at: millis("last_sync_at")?,
                unsynced_since: millis("unsynced_since")?,
                app_version: row.try_get("app_version")?,
                acknowledged_seq: row.try_get("acknowledged_seq")?,
            })
        }

        async fn read_station(connection: &mut Connection, station: uuid::Uuid) -> Result<Option<crate::stations::Station>, sqlx::Error> {
            let row = sqlx::query(&format!("SELECT {STATION_COLUMNS} FROM stations WHERE id = $1"))
                .bind(station)
                .fetch_optional(&mut *connection)
                .await?;
            row.as_ref().map(station_from_row).transpose()
        }

        #[async_trait::async_trait]
        impl crate::StationStore for $store {
            async fn create_station(
                &self,
                tenant: nexus_domain::TenantId,
                station: crate::stations::NewStation,
            ) -> crate::StoreResult<crate::stations::Station> {
                let mut transaction = self.begin_tenant(tenant).await?;
                check_branch_open(&mut transaction, station.branch).await?;
                sqlx::query(
                    "INSERT INTO stations (id, branch_id, name, enrolment_code_hash, enrolment_expires_at, credential_hash, \
                     enrolled_at, revoked_at, created_by, created_at, last_sync_at, unsynced_since, app_version, acknowledged_seq) \
                     VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL, $6, $7, NULL, NULL, NULL, 0)",
                )
                .bind(station.id)
                .bind(station.branch.as_uuid())
                .bind(station.name.as_str())
                .bind(&station.enrolment_code_hash)
                .bind(station.enrolment_expires_at.as_millis())
                .bind(station.created_by.as_uuid())
                .bind(station.now.as_millis())
                .execute(&mut *transaction)
                .await?;
                let created = read_station(&mut transaction, station.id).await?.ok_or(crate::StoreError::Refused("station vanished".into()))?;
                transaction.commit().await?;
                Ok(created)
            }

            async fn list_stations(&self, tenant: nexus_domain::TenantId) -> crate::StoreResult<Vec<crate::stations::Station>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let rows = sqlx::query(&format!("SELECT {STATION_COLUMNS} FROM stations ORDER BY created_at, id"))
                    .fetch_all(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok(rows.iter().map(station_from_row).collect::<Result<_, _>>()?)
            }

            async fn get_station(&self, tenant: nexus_domain::TenantId, station: uuid::Uuid) -> crate::StoreResult<Option<crate::stations::Station>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let found = read_station(&mut transaction, station).await?;
                transaction.commit().await?;
                Ok(found)
            }

            async fn revoke_station(
                &self,
                tenant: nexus_domain::TenantId,
                station: uuid::Uuid,
                now: nexus_domain::UnixMillis,
            ) -> crate::StoreResult<Option<crate::stations::Station>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                // Revoking also kills an unused enrolment code.
                sqlx::query("UPDATE stations SET revoked_at = COALESCE(revoked_at, $2), enrolment_code_hash = NULL WHERE id = $1")
                    .bind(station)
                    .bind(now.as_millis())
                    .execute(&mut *transaction)
                    .await?;
                let revoked = read_station(&mut transaction, station).await?;
                transaction.commit().await?;
                Ok(revoked)
            }

            async fn enrol_station(
                &self,
                tenant: nexus_domain::TenantId,
                code_hash: &[u8],
                credential_hash: &[u8],
                app_version: Option<String>,
                now: nexus_domain::UnixMillis,
            ) -> crate::StoreResult<crate::stations::EnrolOutcome> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let row = sqlx::query(concat!(
                    "SELECT id, enrolment_expires_at, revoked_at FROM stations WHERE enrolment_code_hash = $1 ",
                    $lock_rows
                ))
                .bind(code_hash)
                .fetch_optional(&mut *transaction)
                .await?;
                let Some(row) = row else { return Ok(crate::stations::EnrolOutcome::UnknownCode) };
                let station: uuid::Uuid = row.try_get("id")?;
                if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
                    return Ok(crate::stations::EnrolOutcome::Revoked);
                }
                if row.try_get::<Option<i64>, _>("enrolment_expires_at")?.is_some_and(|expires| expires <= now.as_millis()) {
                    return Ok(crate::stations::EnrolOutcome::Expired);
                }
                // The code is spent in the same transaction that stores the credential: a code
                // works once, even when two stations race with it.
                sqlx::query(
                    "UPDATE stations SET enrolment_code_hash = NULL, enrolment_expires_at = NULL, credential_hash = $2, \
                     enrolled_at = $3, app_version = $4 WHERE id = $1",
                )
                .bind(station)
                .bind(credential_hash)
                .bind(now.as_millis())
                .bind(app_version)
                .execute(&mut *transaction)
                .await?;
                let enrolled = read_station(&mut transaction, station).await?.ok_or(crate::StoreError::Refused("station vanished".into()))?;
                transaction.commit().await?;
                Ok(crate::stations::EnrolOutcome::Enrolled(enrolled))
            }

            async fn authenticate_station(
                &self,
                tenant: nexus_domain::TenantId,
                credential_hash: &[u8],
            ) -> crate::StoreResult<Option<crate::stations::Station>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                // The hash is unique and indexed; the lookup by it is the comparison.
                let row = sqlx::query(&format!("SELECT {STATION_COLUMNS} FROM stations WHERE credential_hash = $1"))
                    .bind(credential_hash)
                    .fetch_optional(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok(row.as_ref().map(station_from_row).transpose()?)
            }

            async fn record_push(
                &self,
                tenant: nexus_domain::TenantId,
                station: uuid::Uuid,
                ops: &[crate::stations::SyncOpRecord],
                contact: &crate::stations::StationContact,
            ) -> crate::StoreResult<i64> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let acknowledged: i64 = sqlx::query_scalar(concat!("SELECT acknowledged_seq FROM stations WHERE id = $1 ", $lock_rows))
                    .bind(station)
                    .fetch_one(&mut *transaction)
                    .await?;
                let stored: Vec<&crate::stations::SyncOpRecord> = ops.iter().filter(|op| op.status != "duplicate").collect();
                for chunk in stored.chunks(rows_per_statement(9)) {
                    let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                        "INSERT INTO sync_ops (station_id, seq, op_id, entity, entity_id, status, code, message, received_at) ",
                    );
                    builder.push_values(chunk, |mut row, op| {
                        row.push_bind(station)
                            .push_bind(op.seq)
                            .push_bind(op.op_id)
                            .push_bind(op.entity.as_str())
                            .push_bind(op.entity_id)
                            .push_bind(op.status)
                            .push_bind(op.code.as_deref())
                            .push_bind(op.message.as_deref())
                            .push_bind(contact.now.as_millis());
                    });
                    builder.push(" ON CONFLICT DO NOTHING");
                    builder.build().execute(&mut *transaction).await?;
                }
                // The high-water mark only moves over consecutive seqs.
                let mut high = acknowledged;
                for op in ops {
                    if op.seq == high + 1 {
                        high = op.seq;
                    }
                }
                sqlx::query(
                    "UPDATE stations SET acknowledged_seq = $2, last_sync_at = $3, unsynced_since = $4, app_version = $5 WHERE id = $1",
                )
                .bind(station)
                .bind(high)
                .bind(contact.now.as_millis())
                .bind(contact.unsynced_since.map(nexus_domain::UnixMillis::as_millis))
                .bind(&contact.app_version)
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(high)
            }

            async fn changes_since(
                &self,
                tenant: nexus_domain::TenantId,
                branch: nexus_domain::BranchId,
                cursor: i64,
                limit: u32,
            ) -> crate::StoreResult<Vec<crate::stations::ChangeRecord>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let rows = sqlx::query(
                    "SELECT seq, entity, entity_id, payload FROM changes WHERE seq > $1 AND (branch_id IS NULL OR branch_id = $2) \
                     ORDER BY seq LIMIT $3",
                )
                .bind(cursor)
                .bind(branch.as_uuid())
                .bind(i64::from(limit))
                .fetch_all(&mut *transaction)
                .await?;
                transaction.commit().await?;
                let mut changes = Vec::with_capacity(rows.len());
                for row in &rows {
                    changes.push(crate::stations::ChangeRecord {
                        seq: row.try_get("seq")?,
                        entity: row.try_get("entity")?,
                        entity_id: row.try_get("entity_id")?,
                        payload: row.try_get("payload")?,
                    });
                }
                Ok(changes)
            }

            async fn record_catalogue_edit(
                &self,
                tenant: nexus_domain::TenantId,
                edit: &crate::stations::CatalogueEdit,
            ) -> crate::StoreResult<Option<(crate::retail::Product, Vec<crate::stations::Conflict>)>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                // The row lock orders concurrent edits of one product: each compares against
                // the value the previous one committed.
                let locked: Option<uuid::Uuid> = sqlx::query_scalar(concat!("SELECT id FROM products WHERE id = $1 ", $lock_rows))
                    .bind(edit.product.as_uuid())
                    .fetch_optional(&mut *transaction)
                    .await?;
                if locked.is_none() {
                    transaction.commit().await?;
                    return Ok(None);
                }
                let Some(current) = read_product(&mut transaction, edit.product).await? else {
                    transaction.commit().await?;
                    return Ok(None);
                };
                let json = |value: serde_json::Value| value;
                let mut conflicts = Vec::new();
                let mut note = |field: &str, base: serde_json::Value, lost: serde_json::Value, won: serde_json::Value| {
                    // Someone else changed the field since the station saw it, to something
                    // other than what this edit writes: two people wanted different values.
                    if base != lost && won != lost {
                        conflicts.push(crate::stations::Conflict {
                            id: nexus_domain::ids::new_v7(edit.now),
                            entity: "product".to_owned(),
                            entity_id: edit.product.as_uuid(),
                            field: field.to_owned(),
                            base_value: base,
                            lost_value: lost,
                            won_value: won,
                            station_id: edit.station,
                            op_id: edit.op_id,
                            actor_id: edit.actor,
                            detected_at: edit.now,
                        });
                    }
                };
                if let (Some(name), Some(seen)) = (&edit.change.name, &edit.seen.name) {
                    note("name", json(seen.as_str().into()), json(current.name.as_str().into()), json(name.as_str().into()));
                }
                if let (Some(price), Some(seen)) = (edit.change.price_minor, edit.seen.price_minor) {
                    note("price_minor", json(seen.into()), json(current.price_minor.into()), json(price.into()));
                }
                if let (Some(level), Some(seen)) = (edit.change.reorder_level, edit.seen.reorder_level) {
                    let encode = |level: Option<nexus_domain::Quantity>| serde_json::to_value(level).unwrap_or_default();
                    note("reorder_level", encode(seen), encode(current.reorder_level), encode(level));
                }
                let updated = apply_product_change(&mut transaction, edit.product, &edit.change, edit.now).await?;
                for conflict in &conflicts {
                    sqlx::query(
                        "INSERT INTO sync_conflicts (id, entity, entity_id, field, base_value, lost_value, won_value, station_id, \
                         op_id, actor_id, detected_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(conflict.id)
                    .bind(&conflict.entity)
                    .bind(conflict.entity_id)
                    .bind(&conflict.field)
                    .bind(conflict.base_value.to_string())
                    .bind(conflict.lost_value.to_string())
                    .bind(conflict.won_value.to_string())
                    .bind(conflict.station_id)
                    .bind(conflict.op_id)
                    .bind(conflict.actor_id.as_uuid())
                    .bind(conflict.detected_at.as_millis())
                    .execute(&mut *transaction)
                    .await?;
                }
                transaction.commit().await?;
                Ok(updated.map(|product| (product, conflicts)))
            }

            async fn list_conflicts(
                &self,
                tenant: nexus_domain::TenantId,
                before: Option<(nexus_domain::UnixMillis, uuid::Uuid)>,
                limit: u32,
            ) -> crate::StoreResult<Vec<crate::stations::Conflict>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let (before_at, before_id) = before.map_or((i64::MAX, uuid::Uuid::max()), |(at, id)| (at.as_millis(), id));
                let rows = sqlx::query(
                    "SELECT id, entity, entity_id, field, base_value, lost_value, won_value, station_id, op_id, actor_id, detected_at \
                     FROM sync_conflicts WHERE detected_at < $1 OR (detected_at = $1 AND id < $2) \
                     ORDER BY detected_at DESC, id DESC LIMIT $3",
                )
                .bind(before_at)
                .bind(before_id)
                .bind(i64::from(limit))
                .fetch_all(&mut *transaction)
                .await?;
                transaction.commit().await?;
                let value = |row: &DatabaseRow, column: &str| -> Result<serde_json::Value, sqlx::Error> {
                    let text: String = row.try_get(column)?;
                    serde_json::from_str(&text).map_err(|error| sqlx::Error::Decode(Box::new(error)))
                };
                let mut conflicts = Vec::with_capacity(rows.len());
                for row in &rows {
                    conflicts.push(crate::stations::Conflict {
                        id: row.try_get("id")?,
                        entity: row.try_get("entity")?,
                        entity_id: row.try_get("entity_id")?,
                        field: row.try_get("field")?,
                        base_value: value(row, "base_value")?,
                        lost_value: value(row, "lost_value")?,
                        won_value: value(row, "won_value")?,
                        station_id: row.try_get("station_id")?,
                        op_id: row.try_get("op_id")?,
                        actor_id: nexus_domain::UserId::from_uuid(row.try_get("actor_id")?),
                        detected_at: nexus_domain::UnixMillis::from_millis(row.try_get("detected_at")?),
                    });
                }
                Ok(conflicts)
            }

            async fn ops_seen(
                &self,
                tenant: nexus_domain::TenantId,
                op_ids: &[uuid::Uuid],
            ) -> crate::StoreResult<std::collections::HashSet<uuid::Uuid>> {
                let mut seen = std::collections::HashSet::new();
                if op_ids.is_empty() {
                    return Ok(seen);
                }
                let mut transaction = self.begin_tenant(tenant).await?;
                for chunk in op_ids.chunks(rows_per_statement(1)) {
                    let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new("SELECT op_id FROM sync_ops WHERE op_id IN (");
                    let mut listed = builder.separated(", ");
                    for op_id in chunk {
                        listed.push_bind(*op_id);
                    }
                    builder.push(")");
                    seen.extend(builder.build_query_scalar::<uuid::Uuid>().fetch_all(&mut *transaction).await?);
                }
                transaction.commit().await?;
                Ok(seen)
            }
        }
    };
}

pub(crate) use station_queries;
