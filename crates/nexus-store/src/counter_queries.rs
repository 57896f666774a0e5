//! Shift and customer queries both backends share (see `tenant_queries` for why a macro).
//! Implements [`crate::CounterStore`] on a store that has `begin_tenant`.

macro_rules! counter_queries {
    (store = $store:ty, lock_rows = $lock_rows:literal) => {
        const SHIFT_COLUMNS: &str = "id, branch_id, station_id, cashier_id, opened_at, float_minor, closed_at, closed_by";
        const CUSTOMER_COLUMNS: &str = "id, name, phone, created_at, created_by";

        fn shift_tender_kind(text: &str) -> Result<crate::retail::TenderKind, sqlx::Error> {
            [crate::retail::TenderKind::Cash, crate::retail::TenderKind::Momo, crate::retail::TenderKind::Card]
                .into_iter()
                .find(|kind| kind.as_str() == text)
                .ok_or_else(|| sqlx::Error::Decode(format!("bad tender kind: {text:?}").into()))
        }

        /// Close figures in one order (cash, momo, card), so that two closes compare equal
        /// whatever order their tills listed the tenders in.
        fn sort_shift_tenders(tenders: &mut [crate::counter::ShiftTender]) {
            tenders.sort_by_key(|tender| tender.tender as u8);
        }

        fn shift_from_row(
            row: &DatabaseRow,
            tenders: Vec<crate::counter::ShiftTender>,
        ) -> Result<crate::counter::Shift, sqlx::Error> {
            Ok(crate::counter::Shift {
                id: row.try_get("id")?,
                branch_id: nexus_domain::BranchId::from_uuid(row.try_get("branch_id")?),
                station_id: row.try_get("station_id")?,
                cashier_id: nexus_domain::UserId::from_uuid(row.try_get("cashier_id")?),
                opened_at: nexus_domain::UnixMillis::from_millis(row.try_get("opened_at")?),
                float_minor: row.try_get("float_minor")?,
                closed_at: row.try_get::<Option<i64>, _>("closed_at")?.map(nexus_domain::UnixMillis::from_millis),
                closed_by: row.try_get::<Option<uuid::Uuid>, _>("closed_by")?.map(nexus_domain::UserId::from_uuid),
                tenders,
            })
        }

        /// The close figures of the given shifts, by shift.
        async fn read_shift_tenders(
            connection: &mut Connection,
            shifts: &[uuid::Uuid],
        ) -> Result<std::collections::HashMap<uuid::Uuid, Vec<crate::counter::ShiftTender>>, sqlx::Error> {
            let mut found: std::collections::HashMap<uuid::Uuid, Vec<crate::counter::ShiftTender>> = std::collections::HashMap::new();
            for chunk in shifts.chunks(rows_per_statement(1)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                    "SELECT shift_id, tender, expected_minor, counted_minor FROM shift_tenders WHERE shift_id IN (",
                );
                let mut listed = builder.separated(", ");
                for shift in chunk {
                    listed.push_bind(*shift);
                }
                builder.push(")");
                for row in builder.build().fetch_all(&mut *connection).await? {
                    let tender: String = row.try_get("tender")?;
                    found.entry(row.try_get("shift_id")?).or_default().push(crate::counter::ShiftTender {
                        tender: shift_tender_kind(&tender)?,
                        expected_minor: row.try_get("expected_minor")?,
                        counted_minor: row.try_get("counted_minor")?,
                    });
                }
            }
            for tenders in found.values_mut() {
                sort_shift_tenders(tenders);
            }
            Ok(found)
        }

        /// One shift with its close figures; with `lock`, its row stays locked until commit (on
        /// PostgreSQL; SQLite's writer lock covers the whole transaction anyway).
        async fn read_shift(
            connection: &mut Connection,
            shift: uuid::Uuid,
            lock: bool,
        ) -> Result<Option<crate::counter::Shift>, sqlx::Error> {
            let lock = if lock { $lock_rows } else { "" };
            let row = sqlx::query(&format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE id = $1 {lock}"))
                .bind(shift)
                .fetch_optional(&mut *connection)
                .await?;
            let Some(row) = row else { return Ok(None) };
            let tenders = read_shift_tenders(connection, &[shift]).await?.remove(&shift).unwrap_or_default();
            shift_from_row(&row, tenders).map(Some)
        }

        fn customer_from_row(row: &DatabaseRow) -> Result<crate::counter::Customer, sqlx::Error> {
            Ok(crate::counter::Customer {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                phone: row.try_get("phone")?,
                created_at: nexus_domain::UnixMillis::from_millis(row.try_get("created_at")?),
                created_by: nexus_domain::UserId::from_uuid(row.try_get("created_by")?),
            })
        }

        #[async_trait::async_trait]
        impl crate::CounterStore for $store {
            async fn open_shift(
                &self,
                tenant: nexus_domain::TenantId,
                shift: crate::counter::NewShift,
            ) -> crate::StoreResult<(crate::counter::Shift, bool)> {
                let mut transaction = self.begin_tenant(tenant).await?;
                check_branch_open(&mut transaction, shift.branch).await?;
                let created: Option<uuid::Uuid> = sqlx::query_scalar(
                    "INSERT INTO shifts (id, branch_id, station_id, cashier_id, opened_at, float_minor, closed_at, closed_by, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7) ON CONFLICT (id) DO NOTHING RETURNING id",
                )
                .bind(shift.id)
                .bind(shift.branch.as_uuid())
                .bind(shift.station)
                .bind(shift.cashier.as_uuid())
                .bind(shift.opened_at.as_millis())
                .bind(shift.float_minor)
                .bind(shift.recorded_at.as_millis())
                .fetch_optional(&mut *transaction)
                .await?;
                let recorded = read_shift(&mut transaction, shift.id, false)
                    .await?
                    .ok_or(crate::StoreError::Refused("shift vanished".into()))?;
                transaction.commit().await?;
                Ok((recorded, created.is_some()))
            }

            async fn get_shift(
                &self,
                tenant: nexus_domain::TenantId,
                shift: uuid::Uuid,
            ) -> crate::StoreResult<Option<crate::counter::Shift>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let found = read_shift(&mut transaction, shift, false).await?;
                transaction.commit().await?;
                Ok(found)
            }

            async fn close_shift(
                &self,
                tenant: nexus_domain::TenantId,
                close: crate::counter::ShiftClose,
            ) -> crate::StoreResult<crate::counter::CloseOutcome> {
                let mut transaction = self.begin_tenant(tenant).await?;
                // Locked, so that a close and its own retry are judged one after the other.
                let Some(shift) = read_shift(&mut transaction, close.id, true).await? else {
                    transaction.commit().await?;
                    return Ok(crate::counter::CloseOutcome::UnknownShift);
                };
                let mut tenders = close.tenders;
                sort_shift_tenders(&mut tenders);
                if shift.closed_at.is_some() {
                    transaction.commit().await?;
                    // The time is not compared: a retry is corrected by another push's clock
                    // reading, so only the figures say whether it is the same close.
                    return Ok(if shift.tenders == tenders {
                        crate::counter::CloseOutcome::AlreadyClosed(shift)
                    } else {
                        crate::counter::CloseOutcome::ClosedDifferently(shift)
                    });
                }
                sqlx::query("UPDATE shifts SET closed_at = $1, closed_by = $2 WHERE id = $3")
                    .bind(close.closed_at.as_millis())
                    .bind(close.closed_by.as_uuid())
                    .bind(close.id)
                    .execute(&mut *transaction)
                    .await?;
                if !tenders.is_empty() {
                    let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                        "INSERT INTO shift_tenders (shift_id, tender, expected_minor, counted_minor) ",
                    );
                    builder.push_values(&tenders, |mut row, tender| {
                        row.push_bind(close.id)
                            .push_bind(tender.tender.as_str())
                            .push_bind(tender.expected_minor)
                            .push_bind(tender.counted_minor);
                    });
                    builder.build().execute(&mut *transaction).await?;
                }
                let closed = read_shift(&mut transaction, close.id, false)
                    .await?
                    .ok_or(crate::StoreError::Refused("shift vanished".into()))?;
                transaction.commit().await?;
                Ok(crate::counter::CloseOutcome::Closed(closed))
            }

            async fn list_shifts(
                &self,
                tenant: nexus_domain::TenantId,
                query: &crate::counter::ShiftQuery,
            ) -> crate::StoreResult<Vec<crate::counter::Shift>> {
                if query.branches.as_ref().is_some_and(Vec::is_empty) {
                    return Ok(Vec::new());
                }
                let mut transaction = self.begin_tenant(tenant).await?;
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE 1 = 1"));
                if let Some(branches) = &query.branches {
                    builder.push(" AND branch_id IN (");
                    let mut listed = builder.separated(", ");
                    for branch in branches {
                        listed.push_bind(branch.as_uuid());
                    }
                    builder.push(")");
                }
                if let Some(from) = query.from {
                    builder.push(" AND opened_at >= ").push_bind(from.as_millis());
                }
                if let Some(to) = query.to {
                    builder.push(" AND opened_at < ").push_bind(to.as_millis());
                }
                builder.push(" ORDER BY opened_at DESC, id DESC LIMIT ").push_bind(i64::from(query.limit));
                let rows = builder.build().fetch_all(&mut *transaction).await?;
                let ids = rows.iter().map(|row| row.try_get("id")).collect::<Result<Vec<uuid::Uuid>, _>>()?;
                let mut tenders = read_shift_tenders(&mut transaction, &ids).await?;
                transaction.commit().await?;
                let mut shifts = Vec::with_capacity(rows.len());
                for (row, id) in rows.iter().zip(&ids) {
                    shifts.push(shift_from_row(row, tenders.remove(id).unwrap_or_default())?);
                }
                Ok(shifts)
            }

            async fn create_customer(
                &self,
                tenant: nexus_domain::TenantId,
                customer: crate::counter::NewCustomer,
            ) -> crate::StoreResult<(crate::counter::Customer, bool)> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let created: Option<uuid::Uuid> = sqlx::query_scalar(
                    "INSERT INTO customers (id, name, search_name, phone, created_at, created_by) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING id",
                )
                .bind(customer.id)
                .bind(customer.name.as_str())
                .bind(customer.name.to_lowercase())
                .bind(customer.phone.as_deref())
                .bind(customer.created_at.as_millis())
                .bind(customer.created_by.as_uuid())
                .fetch_optional(&mut *transaction)
                .await?;
                let row = sqlx::query(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1"))
                    .bind(customer.id)
                    .fetch_one(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok((customer_from_row(&row)?, created.is_some()))
            }

            async fn list_customers(
                &self,
                tenant: nexus_domain::TenantId,
                search: Option<&str>,
                limit: u32,
            ) -> crate::StoreResult<Vec<crate::counter::Customer>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let search = search.map(str::trim).filter(|text| !text.is_empty());
                // Escaped as the product search is, so that "50%" means the text "50%".
                let pattern = search.map(|text| {
                    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    format!("%{escaped}%")
                });
                let rows = sqlx::query(&format!(
                    "SELECT {CUSTOMER_COLUMNS} FROM customers \
                     WHERE ($1 IS NULL OR search_name LIKE $1 ESCAPE '\\' OR phone LIKE $1 ESCAPE '\\') \
                     ORDER BY search_name, id LIMIT $2"
                ))
                .bind(pattern)
                .bind(i64::from(limit))
                .fetch_all(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(rows.iter().map(customer_from_row).collect::<Result<_, _>>()?)
            }
        }
    };
}

pub(crate) use counter_queries;
