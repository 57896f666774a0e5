//! The retail queries both backends share, written once (see `tenant_queries` for why a macro).
//! Implements [`crate::RetailStore`] on a store that has `begin_tenant`.

pub(crate) use nexus_domain::tax::return_share;

macro_rules! retail_queries {
    (store = $store:ty, lock_rows = $lock_rows:literal) => {
        fn retail_decode<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, sqlx::Error> {
            text.parse().map_err(|_| sqlx::Error::Decode(format!("bad {what}: {text:?}").into()))
        }

        const PRODUCT_COLUMNS: &str =
            "id, sku, barcode, name, price_minor, tax_class, reorder_level_milli, created_at, updated_at, archived_at";

        fn product_from_row(row: &DatabaseRow) -> Result<crate::retail::Product, sqlx::Error> {
            let tax_class: String = row.try_get("tax_class")?;
            Ok(crate::retail::Product {
                id: nexus_domain::ids::ProductId::from_uuid(row.try_get("id")?),
                sku: row.try_get("sku")?,
                barcode: row.try_get("barcode")?,
                name: row.try_get("name")?,
                price_minor: row.try_get("price_minor")?,
                tax_class: retail_decode(&tax_class, "tax class")?,
                reorder_level: row.try_get::<Option<i64>, _>("reorder_level_milli")?.map(nexus_domain::Quantity::from_milli),
                created_at: nexus_domain::UnixMillis::from_millis(row.try_get("created_at")?),
                updated_at: nexus_domain::UnixMillis::from_millis(row.try_get("updated_at")?),
                archived_at: row.try_get::<Option<i64>, _>("archived_at")?.map(nexus_domain::UnixMillis::from_millis),
            })
        }

        async fn read_product(
            connection: &mut Connection,
            product: nexus_domain::ids::ProductId,
        ) -> Result<Option<crate::retail::Product>, sqlx::Error> {
            let row = sqlx::query(&format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1"))
                .bind(product.as_uuid())
                .fetch_optional(&mut *connection)
                .await?;
            row.as_ref().map(product_from_row).transpose()
        }

        /// A unique violation on products names the field that clashed.
        fn product_conflict(error: sqlx::Error) -> crate::StoreError {
            let field = match &error {
                sqlx::Error::Database(database_error) if database_error.message().contains("barcode")
                    || database_error.constraint().is_some_and(|name| name.contains("barcode")) => "barcode",
                _ => "sku",
            };
            crate::StoreError::unique_as_conflict(error, field)
        }

        /// Rows per multi-row statement, so that no statement binds more than 30,000 values
        /// (SQLite allows 32,766 per statement, PostgreSQL 65,535).
        fn rows_per_statement(columns: usize) -> usize {
            (30_000 / columns).max(1)
        }

        /// A change-log entry about to be written.
        struct PendingChange {
            entity: &'static str,
            entity_id: uuid::Uuid,
            /// `None`: every station of the tenant pulls it; otherwise that branch's stations.
            branch: Option<uuid::Uuid>,
            payload: String,
            changed_at: i64,
        }

        fn pending_change(
            entity: &'static str,
            entity_id: uuid::Uuid,
            branch: Option<nexus_domain::BranchId>,
            payload: &impl serde::Serialize,
            changed_at: nexus_domain::UnixMillis,
        ) -> crate::StoreResult<PendingChange> {
            Ok(PendingChange {
                entity,
                entity_id,
                branch: branch.map(|branch| branch.as_uuid()),
                payload: serde_json::to_string(payload)
                    .map_err(|error| crate::StoreError::Refused(format!("encoding a change: {error}")))?,
                changed_at: changed_at.as_millis(),
            })
        }

        /// Appends to the change log stations pull, in the order given. The seqs are reserved
        /// in one step on the counter row, whose lock is held until commit, so no two writers of
        /// one tenant interleave and seqs become visible in order.
        async fn log_changes(connection: &mut Connection, changes: &[PendingChange]) -> crate::StoreResult<()> {
            if changes.is_empty() {
                return Ok(());
            }
            let count = i64::try_from(changes.len()).map_err(|_| crate::StoreError::Refused("too many changes".into()))?;
            let last: i64 = sqlx::query_scalar("UPDATE change_counter SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq")
                .bind(count)
                .fetch_one(&mut *connection)
                .await?;
            let mut next_seq = last - count + 1;
            for chunk in changes.chunks(rows_per_statement(6)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                    "INSERT INTO changes (seq, entity, entity_id, branch_id, payload, changed_at) ",
                );
                builder.push_values(chunk, |mut row, change| {
                    row.push_bind(next_seq)
                        .push_bind(change.entity)
                        .push_bind(change.entity_id)
                        .push_bind(change.branch)
                        .push_bind(change.payload.as_str())
                        .push_bind(change.changed_at);
                    next_seq += 1;
                });
                builder.build().execute(&mut *connection).await?;
            }
            Ok(())
        }

        async fn log_change(
            connection: &mut Connection,
            entity: &'static str,
            entity_id: uuid::Uuid,
            branch: Option<nexus_domain::BranchId>,
            payload: &impl serde::Serialize,
            changed_at: nexus_domain::UnixMillis,
        ) -> crate::StoreResult<()> {
            log_changes(connection, &[pending_change(entity, entity_id, branch, payload, changed_at)?]).await
        }

        async fn log_product(connection: &mut Connection, product: nexus_domain::ProductId) -> crate::StoreResult<()> {
            if let Some(current) = read_product(connection, product).await? {
                log_change(connection, "product", current.id.as_uuid(), None, &current, current.updated_at).await?;
            }
            Ok(())
        }

        async fn insert_product(connection: &mut Connection, product: &crate::retail::NewProduct) -> crate::StoreResult<()> {
            sqlx::query(
                "INSERT INTO products (id, sku, barcode, name, search_name, price_minor, tax_class, reorder_level_milli, \
                 created_at, updated_at, archived_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, NULL)",
            )
            .bind(product.id.as_uuid())
            .bind(&product.sku)
            .bind(product.barcode.as_deref())
            .bind(product.name.as_str())
            .bind(product.name.as_str().to_lowercase())
            .bind(product.price_minor)
            .bind(product.tax_class.as_str())
            .bind(product.reorder_level.map(nexus_domain::Quantity::milli))
            .bind(product.now.as_millis())
            .execute(&mut *connection)
            .await
            .map_err(product_conflict)?;
            log_product(connection, product.id).await
        }

        async fn apply_product_change(
            connection: &mut Connection,
            product: nexus_domain::ids::ProductId,
            change: &crate::retail::ProductChange,
            now: nexus_domain::UnixMillis,
        ) -> crate::StoreResult<Option<crate::retail::Product>> {
            // `$N IS NOT NULL`-style flags keep "absent" and "clear" apart for optional fields.
            let updated = sqlx::query(
                "UPDATE products SET sku = COALESCE($2, sku), \
                 barcode = CASE WHEN $4 THEN $3 ELSE barcode END, \
                 name = COALESCE($5, name), search_name = COALESCE($6, search_name), \
                 price_minor = COALESCE($7, price_minor), tax_class = COALESCE($8, tax_class), \
                 reorder_level_milli = CASE WHEN $10 THEN $9 ELSE reorder_level_milli END, \
                 updated_at = $11 WHERE id = $1",
            )
            .bind(product.as_uuid())
            .bind(change.sku.as_deref())
            .bind(change.barcode.as_ref().and_then(|barcode| barcode.as_deref()))
            .bind(change.barcode.is_some())
            .bind(change.name.as_ref().map(|name| name.as_str()))
            .bind(change.name.as_ref().map(|name| name.as_str().to_lowercase()))
            .bind(change.price_minor)
            .bind(change.tax_class.map(nexus_domain::TaxClass::as_str))
            .bind(change.reorder_level.and_then(|level| level.map(nexus_domain::Quantity::milli)))
            .bind(change.reorder_level.is_some())
            .bind(now.as_millis())
            .execute(&mut *connection)
            .await
            .map_err(product_conflict)?;
            if updated.rows_affected() == 0 {
                return Ok(None);
            }
            log_product(connection, product).await?;
            Ok(read_product(connection, product).await?)
        }

        async fn check_branch_open(connection: &mut Connection, branch: nexus_domain::BranchId) -> crate::StoreResult<()> {
            let open: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM branches WHERE id = $1 AND archived_at IS NULL")
                .bind(branch.as_uuid())
                .fetch_optional(&mut *connection)
                .await?;
            open.map(|_| ()).ok_or(crate::StoreError::UnknownBranch(branch))
        }

        async fn check_product_exists(connection: &mut Connection, product: nexus_domain::ids::ProductId) -> crate::StoreResult<()> {
            let found: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM products WHERE id = $1")
                .bind(product.as_uuid())
                .fetch_optional(&mut *connection)
                .await?;
            found.map(|_| ()).ok_or(crate::StoreError::UnknownProduct(product))
        }

        /// Writes the ledger rows whose ids are new and logs them for stations; an id recorded
        /// before is a retried request, and nothing moves twice. Returns the movements written.
        async fn insert_movements<'m>(
            connection: &mut Connection,
            movements: &'m [crate::retail::NewMovement],
        ) -> crate::StoreResult<Vec<&'m crate::retail::NewMovement>> {
            let mut written = std::collections::HashSet::new();
            for chunk in movements.chunks(rows_per_statement(10)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                    "INSERT INTO stock_movements (id, branch_id, product_id, kind, quantity_milli, reason, source_id, actor_id, \
                     occurred_at, recorded_at) ",
                );
                builder.push_values(chunk, |mut row, movement| {
                    row.push_bind(movement.id.as_uuid())
                        .push_bind(movement.branch.as_uuid())
                        .push_bind(movement.product.as_uuid())
                        .push_bind(movement.kind.as_str())
                        .push_bind(movement.quantity.milli())
                        .push_bind(movement.reason.as_deref())
                        .push_bind(movement.source)
                        .push_bind(movement.actor.map(|actor| actor.as_uuid()))
                        .push_bind(movement.occurred_at.as_millis())
                        .push_bind(movement.recorded_at.as_millis());
                });
                builder.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
                written.extend(builder.build_query_scalar::<uuid::Uuid>().fetch_all(&mut *connection).await?);
            }
            // `remove`, so that an id given twice in one call counts once.
            let fresh: Vec<&crate::retail::NewMovement> =
                movements.iter().filter(|movement| written.remove(&movement.id.as_uuid())).collect();
            let changes = fresh
                .iter()
                .map(|movement| {
                    let logged = crate::retail::Movement {
                        id: movement.id,
                        branch_id: movement.branch,
                        product_id: movement.product,
                        kind: movement.kind,
                        quantity: movement.quantity,
                        reason: movement.reason.clone(),
                        occurred_at: movement.occurred_at,
                        source_id: movement.source,
                    };
                    pending_change("stock_movement", movement.id.as_uuid(), Some(movement.branch), &logged, movement.recorded_at)
                })
                .collect::<crate::StoreResult<Vec<_>>>()?;
            log_changes(connection, &changes).await?;
            Ok(fresh)
        }

        /// Creates the level rows missing among `keys` (in key order, so that concurrent writers
        /// take them in the same order), at zero.
        async fn ensure_levels(
            connection: &mut Connection,
            keys: &std::collections::BTreeSet<(nexus_domain::BranchId, nexus_domain::ids::ProductId)>,
            now: nexus_domain::UnixMillis,
        ) -> crate::StoreResult<()> {
            let keys: Vec<_> = keys.iter().collect();
            for chunk in keys.chunks(rows_per_statement(3)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                    "INSERT INTO stock_levels (branch_id, product_id, count_milli, delta_milli, on_hand_milli, updated_at) ",
                );
                builder.push_values(chunk, |mut row, (branch, product)| {
                    row.push_bind(branch.as_uuid())
                        .push_bind(product.as_uuid())
                        .push("0")
                        .push("0")
                        .push("0")
                        .push_bind(now.as_millis());
                });
                builder.push(" ON CONFLICT (branch_id, product_id) DO NOTHING");
                builder.build().execute(&mut *connection).await?;
            }
            Ok(())
        }

        /// Locks the level rows of `keys` (which exist) in key order and returns each one's latest
        /// count position (occurred_at, movement id), if it has been counted.
        async fn lock_levels(
            connection: &mut Connection,
            keys: &std::collections::BTreeSet<(nexus_domain::BranchId, nexus_domain::ids::ProductId)>,
        ) -> crate::StoreResult<std::collections::HashMap<(nexus_domain::BranchId, nexus_domain::ids::ProductId), (i64, uuid::Uuid)>> {
            let mut by_branch: std::collections::BTreeMap<nexus_domain::BranchId, Vec<nexus_domain::ids::ProductId>> =
                std::collections::BTreeMap::new();
            for (branch, product) in keys {
                by_branch.entry(*branch).or_default().push(*product);
            }
            let mut counted = std::collections::HashMap::new();
            for (branch, products) in by_branch {
                for chunk in products.chunks(rows_per_statement(1) - 1) {
                    let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                        "SELECT product_id, count_occurred_at, count_movement_id FROM stock_levels WHERE branch_id = ",
                    );
                    builder.push_bind(branch.as_uuid()).push(" AND product_id IN (");
                    let mut listed = builder.separated(", ");
                    for product in chunk {
                        listed.push_bind(product.as_uuid());
                    }
                    builder.push(") ORDER BY product_id ").push($lock_rows);
                    for row in builder.build().fetch_all(&mut *connection).await? {
                        let at: Option<i64> = row.try_get("count_occurred_at")?;
                        let id: Option<uuid::Uuid> = row.try_get("count_movement_id")?;
                        if let (Some(at), Some(id)) = (at, id) {
                            let product = nexus_domain::ids::ProductId::from_uuid(row.try_get("product_id")?);
                            counted.insert((branch, product), (at, id));
                        }
                    }
                }
            }
            Ok(counted)
        }

        /// Brings on-hand up to date for movements that are not counts, set-based.
        ///
        /// Ledger order is (occurred_at, id). A count says "there were X at that point"; on-hand
        /// is the latest count plus every other movement ordered after it. So each level gets
        /// the sum of its movements ordered after its latest count; a movement ordered before it
        /// changes nothing (the count already saw it).
        async fn add_to_levels(connection: &mut Connection, movements: &[&crate::retail::NewMovement]) -> crate::StoreResult<()> {
            let Some(now) = movements.iter().map(|movement| movement.recorded_at).max() else {
                return Ok(());
            };
            let keys: std::collections::BTreeSet<_> =
                movements.iter().map(|movement| (movement.branch, movement.product)).collect();
            ensure_levels(connection, &keys, now).await?;
            let counted = lock_levels(connection, &keys).await?;
            let mut deltas: std::collections::BTreeMap<_, i64> = std::collections::BTreeMap::new();
            for movement in movements {
                debug_assert!(movement.kind != crate::retail::MovementKind::Count);
                let key = (movement.branch, movement.product);
                let after_latest_count = counted
                    .get(&key)
                    .is_none_or(|latest| (movement.occurred_at.as_millis(), movement.id.as_uuid()) > *latest);
                if after_latest_count {
                    let delta = deltas.entry(key).or_default();
                    *delta = delta.saturating_add(movement.quantity.milli());
                }
            }
            let deltas: Vec<_> = deltas.into_iter().collect();
            for chunk in deltas.chunks(rows_per_statement(4)) {
                // Every row exists by now: the insert is only the multi-row form of an update.
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                    "INSERT INTO stock_levels (branch_id, product_id, count_milli, delta_milli, on_hand_milli, updated_at) ",
                );
                builder.push_values(chunk, |mut row, ((branch, product), delta)| {
                    row.push_bind(branch.as_uuid())
                        .push_bind(product.as_uuid())
                        .push("0")
                        .push_bind(*delta)
                        .push_bind(*delta)
                        .push_bind(now.as_millis());
                });
                builder.push(
                    " ON CONFLICT (branch_id, product_id) DO UPDATE SET delta_milli = stock_levels.delta_milli + excluded.delta_milli, \
                     on_hand_milli = stock_levels.on_hand_milli + excluded.on_hand_milli, updated_at = excluded.updated_at",
                );
                builder.build().execute(&mut *connection).await?;
            }
            Ok(())
        }

        /// Writes movements and brings on-hand up to date: `movements` are never counts (see
        /// `apply_movement` for those).
        async fn record_movements(connection: &mut Connection, movements: &[crate::retail::NewMovement]) -> crate::StoreResult<()> {
            let fresh = insert_movements(connection, movements).await?;
            add_to_levels(connection, &fresh).await
        }

        /// Writes one ledger row and brings the branch's on-hand for the product up to date. A
        /// new latest count re-sums only the movements after it, never the whole ledger.
        async fn apply_movement(connection: &mut Connection, movement: &crate::retail::NewMovement) -> crate::StoreResult<crate::retail::StockLevel> {
            if movement.kind != crate::retail::MovementKind::Count {
                record_movements(connection, std::slice::from_ref(movement)).await?;
                return read_level(connection, movement.branch, movement.product).await;
            }
            if insert_movements(connection, std::slice::from_ref(movement)).await?.is_empty() {
                return read_level(connection, movement.branch, movement.product).await;
            }
            let key = std::collections::BTreeSet::from([(movement.branch, movement.product)]);
            ensure_levels(connection, &key, movement.recorded_at).await?;
            let counted = lock_levels(connection, &key).await?;
            // A count ordered before the latest count changes nothing.
            let after_latest_count = counted
                .get(&(movement.branch, movement.product))
                .is_none_or(|latest| (movement.occurred_at.as_millis(), movement.id.as_uuid()) > *latest);
            if after_latest_count {
                let delta: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(quantity_milli), 0) AS BIGINT) FROM stock_movements \
                     WHERE branch_id = $1 AND product_id = $2 AND kind <> 'count' \
                     AND (occurred_at > $3 OR (occurred_at = $3 AND id > $4))",
                )
                .bind(movement.branch.as_uuid())
                .bind(movement.product.as_uuid())
                .bind(movement.occurred_at.as_millis())
                .bind(movement.id.as_uuid())
                .fetch_one(&mut *connection)
                .await?;
                sqlx::query(
                    "UPDATE stock_levels SET count_occurred_at = $3, count_movement_id = $4, count_milli = $5, \
                     delta_milli = $6, on_hand_milli = $5 + $6, updated_at = $7 WHERE branch_id = $1 AND product_id = $2",
                )
                .bind(movement.branch.as_uuid())
                .bind(movement.product.as_uuid())
                .bind(movement.occurred_at.as_millis())
                .bind(movement.id.as_uuid())
                .bind(movement.quantity.milli())
                .bind(delta)
                .bind(movement.recorded_at.as_millis())
                .execute(&mut *connection)
                .await?;
            }
            read_level(connection, movement.branch, movement.product).await
        }

        fn level_from_row(row: &DatabaseRow) -> Result<crate::retail::StockLevel, sqlx::Error> {
            Ok(crate::retail::StockLevel {
                branch_id: nexus_domain::BranchId::from_uuid(row.try_get("branch_id")?),
                product_id: nexus_domain::ids::ProductId::from_uuid(row.try_get("product_id")?),
                on_hand: nexus_domain::Quantity::from_milli(row.try_get("on_hand_milli")?),
                last_count_at: row.try_get::<Option<i64>, _>("count_occurred_at")?.map(nexus_domain::UnixMillis::from_millis),
            })
        }

        async fn read_level(
            connection: &mut Connection,
            branch: nexus_domain::BranchId,
            product: nexus_domain::ids::ProductId,
        ) -> crate::StoreResult<crate::retail::StockLevel> {
            let row = sqlx::query(
                "SELECT branch_id, product_id, on_hand_milli, count_occurred_at FROM stock_levels \
                 WHERE branch_id = $1 AND product_id = $2",
            )
            .bind(branch.as_uuid())
            .bind(product.as_uuid())
            .fetch_one(&mut *connection)
            .await?;
            Ok(level_from_row(&row)?)
        }

        /// Adds sales' (and returns') amounts to the daily rollups of their branch and day:
        /// summed in memory first, then one multi-row upsert per rollup table.
        async fn add_to_rollups(connection: &mut Connection, sales: &[(&crate::retail::Sale, i32)]) -> crate::StoreResult<()> {
            use std::collections::BTreeMap;
            let mut days: BTreeMap<(uuid::Uuid, i32), [i64; 7]> = BTreeMap::new();
            let mut levies: BTreeMap<(uuid::Uuid, i32, &str), i64> = BTreeMap::new();
            let mut cashiers: BTreeMap<(uuid::Uuid, i32, uuid::Uuid), (i64, i64)> = BTreeMap::new();
            let mut tenders: BTreeMap<(uuid::Uuid, i32, &'static str), i64> = BTreeMap::new();
            for (sale, local_day) in sales {
                let branch = sale.branch_id.as_uuid();
                let is_sale = i64::from(sale.kind == crate::retail::SaleKind::Sale);
                let day = days.entry((branch, *local_day)).or_default();
                let amounts = [is_sale, 1 - is_sale, sale.gross_minor, sale.discount_minor, sale.net_minor, sale.tax_minor, sale.total_minor];
                for (sum, amount) in day.iter_mut().zip(amounts) {
                    *sum += amount;
                }
                for (code, amount) in &sale.levies {
                    *levies.entry((branch, *local_day, code.as_str())).or_default() += amount;
                }
                let cashier = cashiers.entry((branch, *local_day, sale.cashier_id.as_uuid())).or_default();
                cashier.0 += is_sale;
                cashier.1 += sale.total_minor;
                // Per tender kind, what stayed in the drawer or account: cash net of the change,
                // which is taken out once however many cash tenders the sale had.
                let mut change_taken = false;
                for tender in &sale.tenders {
                    let mut kept = tender.amount_minor;
                    if tender.kind == crate::retail::TenderKind::Cash && !change_taken {
                        kept -= sale.change_minor;
                        change_taken = true;
                    }
                    *tenders.entry((branch, *local_day, tender.kind.as_str())).or_default() += kept;
                }
            }
            let days: Vec<_> = days.into_iter().collect();
            for chunk in days.chunks(rows_per_statement(9)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                    "INSERT INTO daily_sales (branch_id, local_day, sales_count, refunds_count, gross_minor, discount_minor, \
                     net_minor, tax_minor, total_minor) ",
                );
                builder.push_values(chunk, |mut row, ((branch, day), sums)| {
                    row.push_bind(*branch).push_bind(*day);
                    for sum in sums {
                        row.push_bind(*sum);
                    }
                });
                builder.push(
                    " ON CONFLICT (branch_id, local_day) DO UPDATE SET \
                     sales_count = daily_sales.sales_count + excluded.sales_count, \
                     refunds_count = daily_sales.refunds_count + excluded.refunds_count, \
                     gross_minor = daily_sales.gross_minor + excluded.gross_minor, \
                     discount_minor = daily_sales.discount_minor + excluded.discount_minor, \
                     net_minor = daily_sales.net_minor + excluded.net_minor, \
                     tax_minor = daily_sales.tax_minor + excluded.tax_minor, \
                     total_minor = daily_sales.total_minor + excluded.total_minor",
                );
                builder.build().execute(&mut *connection).await?;
            }
            let levies: Vec<_> = levies.into_iter().collect();
            for chunk in levies.chunks(rows_per_statement(4)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new("INSERT INTO daily_levies (branch_id, local_day, code, amount_minor) ");
                builder.push_values(chunk, |mut row, ((branch, day, code), amount)| {
                    row.push_bind(*branch).push_bind(*day).push_bind(*code).push_bind(*amount);
                });
                builder.push(" ON CONFLICT (branch_id, local_day, code) DO UPDATE SET amount_minor = daily_levies.amount_minor + excluded.amount_minor");
                builder.build().execute(&mut *connection).await?;
            }
            let cashiers: Vec<_> = cashiers.into_iter().collect();
            for chunk in cashiers.chunks(rows_per_statement(5)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                    "INSERT INTO daily_cashiers (branch_id, local_day, cashier_id, sales_count, total_minor) ",
                );
                builder.push_values(chunk, |mut row, ((branch, day, cashier), (count, total))| {
                    row.push_bind(*branch).push_bind(*day).push_bind(*cashier).push_bind(*count).push_bind(*total);
                });
                builder.push(
                    " ON CONFLICT (branch_id, local_day, cashier_id) DO UPDATE SET \
                     sales_count = daily_cashiers.sales_count + excluded.sales_count, \
                     total_minor = daily_cashiers.total_minor + excluded.total_minor",
                );
                builder.build().execute(&mut *connection).await?;
            }
            let tenders: Vec<_> = tenders.into_iter().collect();
            for chunk in tenders.chunks(rows_per_statement(4)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new("INSERT INTO daily_tenders (branch_id, local_day, kind, amount_minor) ");
                builder.push_values(chunk, |mut row, ((branch, day, kind), amount)| {
                    row.push_bind(*branch).push_bind(*day).push_bind(*kind).push_bind(*amount);
                });
                builder.push(" ON CONFLICT (branch_id, local_day, kind) DO UPDATE SET amount_minor = daily_tenders.amount_minor + excluded.amount_minor");
                builder.build().execute(&mut *connection).await?;
            }
            Ok(())
        }

        /// Inserts sale records with their lines, levies, tenders, ledger movements and rollups,
        /// set-based: a few multi-row statements however many sales there are. Returns, per sale,
        /// whether it was written; `false` when a sale with its id already existed (or came
        /// earlier in `sales`), and nothing is written for it.
        async fn insert_sales(
            connection: &mut Connection,
            sales: &[(&crate::retail::Sale, i32)],
        ) -> crate::StoreResult<Vec<bool>> {
            let mut written = std::collections::HashSet::new();
            for chunk in sales.chunks(rows_per_statement(22)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                    "INSERT INTO sales (id, kind, refers_to, branch_id, cashier_id, device_id, receipt_number, shift_id, customer_id, \
                     currency, price_mode, gross_minor, discount_minor, net_minor, tax_minor, total_minor, tendered_minor, \
                     change_minor, reason, occurred_at, local_day, recorded_at) ",
                );
                builder.push_values(chunk, |mut row, (sale, local_day)| {
                    row.push_bind(sale.id.as_uuid())
                        .push_bind(sale.kind.as_str())
                        .push_bind(sale.refers_to.map(|original| original.as_uuid()))
                        .push_bind(sale.branch_id.as_uuid())
                        .push_bind(sale.cashier_id.as_uuid())
                        .push_bind(sale.device_id)
                        .push_bind(sale.receipt_number.as_deref())
                        .push_bind(sale.shift_id)
                        .push_bind(sale.customer_id)
                        .push_bind(sale.currency.code())
                        .push_bind(sale.price_mode.as_str())
                        .push_bind(sale.gross_minor)
                        .push_bind(sale.discount_minor)
                        .push_bind(sale.net_minor)
                        .push_bind(sale.tax_minor)
                        .push_bind(sale.total_minor)
                        .push_bind(sale.tendered_minor)
                        .push_bind(sale.change_minor)
                        .push_bind(sale.reason.as_deref())
                        .push_bind(sale.occurred_at.as_millis())
                        .push_bind(*local_day)
                        .push_bind(sale.recorded_at.as_millis());
                });
                builder.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
                written.extend(builder.build_query_scalar::<uuid::Uuid>().fetch_all(&mut *connection).await?);
            }
            // `remove`, so that an id given twice counts once.
            let outcome: Vec<bool> = sales.iter().map(|(sale, _)| written.remove(&sale.id.as_uuid())).collect();
            let fresh: Vec<(&crate::retail::Sale, i32)> = sales
                .iter()
                .zip(&outcome)
                .filter(|(_, fresh)| **fresh)
                .map(|(sale, _)| *sale)
                .collect();
            if fresh.is_empty() {
                return Ok(outcome);
            }
            let lines: Vec<(&crate::retail::Sale, &crate::retail::SaleLine)> =
                fresh.iter().flat_map(|(sale, _)| sale.lines.iter().map(move |line| (*sale, line))).collect();
            for chunk in lines.chunks(rows_per_statement(14)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                    "INSERT INTO sale_lines (sale_id, line_no, product_id, sku, name, tax_class, quantity_milli, unit_price_minor, \
                     gross_minor, discount_minor, net_minor, tax_minor, total_minor, refers_to_line) ",
                );
                builder.push_values(chunk, |mut row, (sale, line)| {
                    row.push_bind(sale.id.as_uuid())
                        .push_bind(line.line_no)
                        .push_bind(line.product_id.as_uuid())
                        .push_bind(line.sku.as_str())
                        .push_bind(line.name.as_str())
                        .push_bind(line.tax_class.as_str())
                        .push_bind(line.quantity.milli())
                        .push_bind(line.unit_price_minor)
                        .push_bind(line.gross_minor)
                        .push_bind(line.discount_minor)
                        .push_bind(line.net_minor)
                        .push_bind(line.tax_minor)
                        .push_bind(line.total_minor)
                        .push_bind(line.refers_to_line);
                });
                builder.build().execute(&mut *connection).await?;
            }
            let levies: Vec<(uuid::Uuid, i32, &str, i64)> = lines
                .iter()
                .flat_map(|(sale, line)| {
                    line.levies.iter().map(move |(code, amount)| (sale.id.as_uuid(), line.line_no, code.as_str(), *amount))
                })
                .collect();
            for chunk in levies.chunks(rows_per_statement(4)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new("INSERT INTO sale_levies (sale_id, line_no, code, amount_minor) ");
                builder.push_values(chunk, |mut row, (sale, line_no, code, amount)| {
                    row.push_bind(*sale).push_bind(*line_no).push_bind(*code).push_bind(*amount);
                });
                builder.build().execute(&mut *connection).await?;
            }
            let tenders: Vec<(uuid::Uuid, i32, &crate::retail::Tender)> = fresh
                .iter()
                .flat_map(|(sale, _)| {
                    sale.tenders
                        .iter()
                        .enumerate()
                        .map(move |(position, tender)| (sale.id.as_uuid(), i32::try_from(position).unwrap_or(i32::MAX), tender))
                })
                .collect();
            for chunk in tenders.chunks(rows_per_statement(8)) {
                let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(
                    "INSERT INTO sale_tenders (sale_id, position, kind, amount_minor, network, phone, reference, verified) ",
                );
                builder.push_values(chunk, |mut row, (sale, position, tender)| {
                    row.push_bind(*sale)
                        .push_bind(*position)
                        .push_bind(tender.kind.as_str())
                        .push_bind(tender.amount_minor)
                        .push_bind(tender.network.as_deref())
                        .push_bind(tender.phone.as_deref())
                        .push_bind(tender.reference.as_deref())
                        .push_bind(tender.verified);
                });
                builder.build().execute(&mut *connection).await?;
            }
            let mut movements = Vec::with_capacity(lines.len());
            for (sale, _) in &fresh {
                let kind = if sale.kind == crate::retail::SaleKind::Sale {
                    crate::retail::MovementKind::Sale
                } else {
                    crate::retail::MovementKind::Refund
                };
                let first = movements.len();
                for line in &sale.lines {
                    // A sale takes goods out (its quantities are positive); a return puts them
                    // back (its quantities are negative): the ledger change is minus the line
                    // quantity.
                    let change = line.quantity.checked_neg().ok_or(crate::StoreError::Refused("quantity out of range".into()))?;
                    movements.push(crate::retail::NewMovement {
                        id: nexus_domain::ids::MovementId::generate(sale.recorded_at),
                        branch: sale.branch_id,
                        product: line.product_id,
                        kind,
                        quantity: change,
                        reason: None,
                        source: Some(sale.id.as_uuid()),
                        actor: Some(sale.cashier_id),
                        occurred_at: sale.occurred_at,
                        recorded_at: sale.recorded_at,
                    });
                }
                // Each sale's movements are logged in product order, whatever the order of its lines.
                movements[first..].sort_by_key(|movement| movement.product);
            }
            record_movements(connection, &movements).await?;
            add_to_rollups(connection, &fresh).await?;
            Ok(outcome)
        }

        async fn read_sale(connection: &mut Connection, id: nexus_domain::ids::SaleId) -> crate::StoreResult<Option<crate::retail::Sale>> {
            let row = sqlx::query(
                "SELECT id, kind, refers_to, branch_id, cashier_id, device_id, receipt_number, shift_id, customer_id, currency, price_mode, gross_minor, \
                 discount_minor, net_minor, tax_minor, total_minor, tendered_minor, change_minor, reason, occurred_at, recorded_at \
                 FROM sales WHERE id = $1",
            )
            .bind(id.as_uuid())
            .fetch_optional(&mut *connection)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let kind: String = row.try_get("kind")?;
            let kind: crate::retail::SaleKind = retail_decode(&kind, "sale kind")?;
            let currency: String = row.try_get("currency")?;
            let price_mode: String = row.try_get("price_mode")?;
            let line_rows = sqlx::query(
                "SELECT line_no, product_id, sku, name, tax_class, quantity_milli, unit_price_minor, gross_minor, discount_minor, \
                 net_minor, tax_minor, total_minor, refers_to_line FROM sale_lines WHERE sale_id = $1 ORDER BY line_no",
            )
            .bind(id.as_uuid())
            .fetch_all(&mut *connection)
            .await?;
            let levy_rows = sqlx::query(
                "SELECT sale_levies.line_no, sale_levies.code, sale_levies.amount_minor FROM sale_levies \
                 LEFT JOIN tax_levies ON tax_levies.code = sale_levies.code WHERE sale_levies.sale_id = $1 \
                 ORDER BY sale_levies.line_no, COALESCE(tax_levies.position, 1000), sale_levies.code",
            )
            .bind(id.as_uuid())
            .fetch_all(&mut *connection)
            .await?;
            let mut lines = Vec::with_capacity(line_rows.len());
            for line in &line_rows {
                let tax_class: String = line.try_get("tax_class")?;
                let line_no: i32 = line.try_get("line_no")?;
                let mut levies = Vec::new();
                for levy in &levy_rows {
                    if levy.try_get::<i32, _>("line_no")? == line_no {
                        levies.push((levy.try_get::<String, _>("code")?, levy.try_get::<i64, _>("amount_minor")?));
                    }
                }
                lines.push(crate::retail::SaleLine {
                    line_no,
                    product_id: nexus_domain::ids::ProductId::from_uuid(line.try_get("product_id")?),
                    sku: line.try_get("sku")?,
                    name: line.try_get("name")?,
                    tax_class: retail_decode(&tax_class, "tax class")?,
                    quantity: nexus_domain::Quantity::from_milli(line.try_get("quantity_milli")?),
                    unit_price_minor: line.try_get("unit_price_minor")?,
                    gross_minor: line.try_get("gross_minor")?,
                    discount_minor: line.try_get("discount_minor")?,
                    net_minor: line.try_get("net_minor")?,
                    tax_minor: line.try_get("tax_minor")?,
                    total_minor: line.try_get("total_minor")?,
                    levies,
                    refers_to_line: line.try_get("refers_to_line")?,
                });
            }
            let levies = crate::retail::levy_totals(&lines);
            let tender_rows = sqlx::query(
                "SELECT kind, amount_minor, network, phone, reference, verified FROM sale_tenders WHERE sale_id = $1 ORDER BY position",
            )
            .bind(id.as_uuid())
            .fetch_all(&mut *connection)
            .await?;
            let mut tenders = Vec::with_capacity(tender_rows.len());
            for tender in &tender_rows {
                let kind: String = tender.try_get("kind")?;
                tenders.push(crate::retail::Tender {
                    kind: match kind.as_str() {
                        "cash" => crate::retail::TenderKind::Cash,
                        "momo" => crate::retail::TenderKind::Momo,
                        _ => crate::retail::TenderKind::Card,
                    },
                    amount_minor: tender.try_get("amount_minor")?,
                    network: tender.try_get("network")?,
                    phone: tender.try_get("phone")?,
                    reference: tender.try_get("reference")?,
                    verified: tender.try_get("verified")?,
                });
            }
            Ok(Some(crate::retail::Sale {
                id,
                kind,
                refers_to: row.try_get::<Option<uuid::Uuid>, _>("refers_to")?.map(nexus_domain::ids::SaleId::from_uuid),
                branch_id: nexus_domain::BranchId::from_uuid(row.try_get("branch_id")?),
                cashier_id: nexus_domain::UserId::from_uuid(row.try_get("cashier_id")?),
                device_id: row.try_get("device_id")?,
                receipt_number: row.try_get("receipt_number")?,
                shift_id: row.try_get("shift_id")?,
                customer_id: row.try_get("customer_id")?,
                currency: retail_decode(&currency, "currency")?,
                price_mode: retail_decode(&price_mode, "price mode")?,
                gross_minor: row.try_get("gross_minor")?,
                discount_minor: row.try_get("discount_minor")?,
                net_minor: row.try_get("net_minor")?,
                tax_minor: row.try_get("tax_minor")?,
                total_minor: row.try_get("total_minor")?,
                levies,
                tendered_minor: row.try_get("tendered_minor")?,
                change_minor: row.try_get("change_minor")?,
                reason: row.try_get("reason")?,
                occurred_at: nexus_domain::UnixMillis::from_millis(row.try_get("occurred_at")?),
                recorded_at: nexus_domain::UnixMillis::from_millis(row.try_get("recorded_at")?),
                lines,
                tenders,
            }))
        }

        #[async_trait::async_trait]
        impl crate::RetailStore for $store {
            async fn settings(&self, tenant: nexus_domain::TenantId) -> crate::StoreResult<crate::retail::TenantSettings> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let row = sqlx::query("SELECT currency, tax_enabled, price_mode, time_zone FROM settings WHERE id = 1")
                    .fetch_one(&mut *transaction)
                    .await?;
                let levy_rows = sqlx::query("SELECT code, name, rate_basis_points FROM tax_levies ORDER BY position")
                    .fetch_all(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                let currency: String = row.try_get("currency")?;
                let price_mode: String = row.try_get("price_mode")?;
                let mut levies = Vec::with_capacity(levy_rows.len());
                for levy in &levy_rows {
                    levies.push(nexus_domain::Levy {
                        code: levy.try_get("code")?,
                        name: levy.try_get("name")?,
                        rate_basis_points: u32::try_from(levy.try_get::<i32, _>("rate_basis_points")?).unwrap_or(0),
                    });
                }
                Ok(crate::retail::TenantSettings {
                    currency: retail_decode(&currency, "currency")?,
                    tax: nexus_domain::TaxRules { enabled: row.try_get("tax_enabled")?, mode: retail_decode(&price_mode, "price mode")?, levies },
                    time_zone: row.try_get("time_zone")?,
                })
            }

            async fn update_settings(
                &self,
                tenant: nexus_domain::TenantId,
                settings: &crate::retail::TenantSettings,
                now: nexus_domain::UnixMillis,
            ) -> crate::StoreResult<crate::retail::TenantSettings> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let current: String = sqlx::query_scalar(concat!("SELECT currency FROM settings WHERE id = 1 ", $lock_rows))
                    .fetch_one(&mut *transaction)
                    .await?;
                if current != settings.currency.code() {
                    // Prices and sales are amounts in the currency: changing it would silently turn
                    // GHS 12.00 into XOF 1200.
                    let priced: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM products LIMIT 1").fetch_optional(&mut *transaction).await?;
                    if priced.is_some() {
                        return Err(crate::StoreError::Refused(
                            "the currency cannot change once products or sales are priced in it".to_owned(),
                        ));
                    }
                }
                sqlx::query("UPDATE settings SET currency = $1, tax_enabled = $2, price_mode = $3, time_zone = $4, updated_at = $5 WHERE id = 1")
                    .bind(settings.currency.code())
                    .bind(settings.tax.enabled)
                    .bind(settings.tax.mode.as_str())
                    .bind(&settings.time_zone)
                    .bind(now.as_millis())
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query("DELETE FROM tax_levies").execute(&mut *transaction).await?;
                for (position, levy) in settings.tax.levies.iter().enumerate() {
                    sqlx::query("INSERT INTO tax_levies (position, code, name, rate_basis_points) VALUES ($1, $2, $3, $4)")
                        .bind(i32::try_from(position + 1).unwrap_or(i32::MAX))
                        .bind(&levy.code)
                        .bind(&levy.name)
                        .bind(i32::try_from(levy.rate_basis_points).unwrap_or(i32::MAX))
                        .execute(&mut *transaction)
                        .await?;
                }
                log_change(&mut transaction, "settings", uuid::Uuid::nil(), None, settings, now).await?;
                transaction.commit().await?;
                crate::RetailStore::settings(self, tenant).await
            }

            async fn create_product(
                &self,
                tenant: nexus_domain::TenantId,
                product: crate::retail::NewProduct,
            ) -> crate::StoreResult<crate::retail::Product> {
                let mut transaction = self.begin_tenant(tenant).await?;
                insert_product(&mut transaction, &product).await?;
                let created = read_product(&mut transaction, product.id).await?.ok_or(crate::StoreError::UnknownProduct(product.id))?;
                transaction.commit().await?;
                Ok(created)
            }

            async fn get_product(
                &self,
                tenant: nexus_domain::TenantId,
                product: nexus_domain::ids::ProductId,
            ) -> crate::StoreResult<Option<crate::retail::Product>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let found = read_product(&mut transaction, product).await?;
                transaction.commit().await?;
                Ok(found)
            }

            async fn products_by_ids(
                &self,
                tenant: nexus_domain::TenantId,
                products: &[nexus_domain::ids::ProductId],
            ) -> crate::StoreResult<Vec<crate::retail::Product>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let mut found = std::collections::HashMap::with_capacity(products.len());
                for chunk in products.chunks(rows_per_statement(1)) {
                    let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new(format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id IN ("));
                    let mut listed = builder.separated(", ");
                    for product in chunk {
                        listed.push_bind(product.as_uuid());
                    }
                    builder.push(")");
                    for row in builder.build().fetch_all(&mut *transaction).await? {
                        let product = product_from_row(&row)?;
                        found.insert(product.id, product);
                    }
                }
                transaction.commit().await?;
                Ok(products.iter().filter_map(|product| found.remove(product)).collect())
            }

            async fn update_product(
                &self,
                tenant: nexus_domain::TenantId,
                product: nexus_domain::ids::ProductId,
                change: crate::retail::ProductChange,
                now: nexus_domain::UnixMillis,
            ) -> crate::StoreResult<Option<crate::retail::Product>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let updated = apply_product_change(&mut transaction, product, &change, now).await?;
                transaction.commit().await?;
                Ok(updated)
            }

            async fn archive_product(
                &self,
                tenant: nexus_domain::TenantId,
                product: nexus_domain::ids::ProductId,
                now: nexus_domain::UnixMillis,
            ) -> crate::StoreResult<Option<crate::retail::Product>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                sqlx::query("UPDATE products SET archived_at = COALESCE(archived_at, $2), updated_at = $2 WHERE id = $1")
                    .bind(product.as_uuid())
                    .bind(now.as_millis())
                    .execute(&mut *transaction)
                    .await?;
                log_product(&mut transaction, product).await?;
                let archived = read_product(&mut transaction, product).await?;
                transaction.commit().await?;
                Ok(archived)
            }

            async fn list_products(
                &self,
                tenant: nexus_domain::TenantId,
                query: &crate::retail::ProductQuery,
            ) -> crate::StoreResult<Vec<crate::retail::Product>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let search = query.search.as_deref().map(str::trim).filter(|text| !text.is_empty());
                // The name pattern escapes LIKE's wildcards so that "50%" means the text "50%".
                let pattern = search.map(|text| {
                    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    format!("%{escaped}%")
                });
                let rows = sqlx::query(&format!(
                    "SELECT {PRODUCT_COLUMNS} FROM products WHERE ($1 OR archived_at IS NULL) AND ($2 IS NULL OR id > $2) \
                     AND ($3 IS NULL OR barcode = $3 OR sku = $4 OR search_name LIKE $5 ESCAPE '\\') ORDER BY id LIMIT $6"
                ))
                .bind(query.include_archived)
                .bind(query.after.map(|after| after.as_uuid()))
                .bind(search)
                .bind(search.map(str::to_uppercase))
                .bind(pattern)
                .bind(i64::from(query.limit))
                .fetch_all(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(rows.iter().map(product_from_row).collect::<Result<_, _>>()?)
            }

            async fn import_products(
                &self,
                tenant: nexus_domain::TenantId,
                rows: Vec<crate::retail::NewProduct>,
                columns: crate::retail::ImportColumns,
                now: nexus_domain::UnixMillis,
            ) -> crate::StoreResult<crate::retail::ImportCounts> {
                // One transaction: either every row lands or none does.
                let mut transaction = self.begin_tenant(tenant).await?;
                let mut counts = crate::retail::ImportCounts::default();
                for row in &rows {
                    let existing: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM products WHERE sku = $1")
                        .bind(&row.sku)
                        .fetch_optional(&mut *transaction)
                        .await?;
                    match existing {
                        Some(id) => {
                            let change = crate::retail::ProductChange {
                                sku: None,
                                barcode: columns.barcode.then(|| row.barcode.clone()),
                                name: Some(row.name.clone()),
                                price_minor: Some(row.price_minor),
                                tax_class: columns.tax_class.then_some(row.tax_class),
                                reorder_level: columns.reorder_level.then_some(row.reorder_level),
                            };
                            apply_product_change(&mut transaction, nexus_domain::ids::ProductId::from_uuid(id), &change, now).await?;
                            counts.updated += 1;
                        }
                        None => {
                            insert_product(&mut transaction, row).await?;
                            counts.created += 1;
                        }
                    }
                }
                transaction.commit().await?;
                Ok(counts)
            }

            async fn barcode_owners(&self, tenant: nexus_domain::TenantId, barcodes: &[String]) -> crate::StoreResult<Vec<(String, String)>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let mut owners = Vec::new();
                for barcode in barcodes {
                    let sku: Option<String> = sqlx::query_scalar("SELECT sku FROM products WHERE barcode = $1")
                        .bind(barcode)
                        .fetch_optional(&mut *transaction)
                        .await?;
                    if let Some(sku) = sku {
                        owners.push((barcode.clone(), sku));
                    }
                }
                transaction.commit().await?;
                Ok(owners)
            }

            async fn record_movement(
                &self,
                tenant: nexus_domain::TenantId,
                movement: crate::retail::NewMovement,
            ) -> crate::StoreResult<crate::retail::StockLevel> {
                let mut transaction = self.begin_tenant(tenant).await?;
                check_branch_open(&mut transaction, movement.branch).await?;
                check_product_exists(&mut transaction, movement.product).await?;
                let level = apply_movement(&mut transaction, &movement).await?;
                transaction.commit().await?;
                Ok(level)
            }

            async fn record_transfer(&self, tenant: nexus_domain::TenantId, transfer: crate::retail::NewTransfer) -> crate::StoreResult<()> {
                let mut transaction = self.begin_tenant(tenant).await?;
                check_branch_open(&mut transaction, transfer.from).await?;
                check_branch_open(&mut transaction, transfer.to).await?;
                let inserted = sqlx::query(
                    "INSERT INTO stock_transfers (id, from_branch_id, to_branch_id, actor_id, occurred_at, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                )
                .bind(transfer.id.as_uuid())
                .bind(transfer.from.as_uuid())
                .bind(transfer.to.as_uuid())
                .bind(transfer.actor.as_uuid())
                .bind(transfer.occurred_at.as_millis())
                .bind(transfer.recorded_at.as_millis())
                .execute(&mut *transaction)
                .await?
                .rows_affected();
                if inserted == 0 {
                    // A retried transfer: it was recorded, whole, the first time.
                    transaction.commit().await?;
                    return Ok(());
                }
                let mut movements = Vec::with_capacity(transfer.lines.len() * 2);
                for (product, quantity) in &transfer.lines {
                    check_product_exists(&mut transaction, *product).await?;
                    let out = quantity.checked_neg().ok_or(crate::StoreError::Refused("quantity out of range".into()))?;
                    movements.push((transfer.from, *product, crate::retail::MovementKind::TransferOut, out));
                    movements.push((transfer.to, *product, crate::retail::MovementKind::TransferIn, *quantity));
                }
                // Level rows are locked in (branch, product) order, so opposite transfers cannot
                // deadlock.
                movements.sort_by_key(|(branch, product, _, _)| (*branch, *product));
                let movements: Vec<crate::retail::NewMovement> = movements
                    .into_iter()
                    .map(|(branch, product, kind, change)| crate::retail::NewMovement {
                        id: nexus_domain::ids::MovementId::generate(transfer.recorded_at),
                        branch,
                        product,
                        kind,
                        quantity: change,
                        reason: None,
                        source: Some(transfer.id.as_uuid()),
                        actor: Some(transfer.actor),
                        occurred_at: transfer.occurred_at,
                        recorded_at: transfer.recorded_at,
                    })
                    .collect();
                record_movements(&mut transaction, &movements).await?;
                transaction.commit().await?;
                Ok(())
            }

            async fn stock_levels(
                &self,
                tenant: nexus_domain::TenantId,
                branch: nexus_domain::BranchId,
            ) -> crate::StoreResult<Vec<crate::retail::StockLevel>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let rows = sqlx::query(
                    "SELECT branch_id, product_id, on_hand_milli, count_occurred_at FROM stock_levels WHERE branch_id = $1 ORDER BY product_id",
                )
                .bind(branch.as_uuid())
                .fetch_all(&mut *transaction)
                .await?;
                transaction.commit().await?;
                Ok(rows.iter().map(level_from_row).collect::<Result<_, _>>()?)
            }

            async fn movements(
                &self,
                tenant: nexus_domain::TenantId,
                branch: nexus_domain::BranchId,
                product: nexus_domain::ids::ProductId,
            ) -> crate::StoreResult<Vec<crate::retail::Movement>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let rows = sqlx::query(
                    "SELECT id, branch_id, product_id, kind, quantity_milli, reason, occurred_at, source_id FROM stock_movements \
                     WHERE branch_id = $1 AND product_id = $2 ORDER BY occurred_at, id",
                )
                .bind(branch.as_uuid())
                .bind(product.as_uuid())
                .fetch_all(&mut *transaction)
                .await?;
                transaction.commit().await?;
                let mut movements = Vec::with_capacity(rows.len());
                for row in &rows {
                    let kind: String = row.try_get("kind")?;
                    movements.push(crate::retail::Movement {
                        id: nexus_domain::ids::MovementId::from_uuid(row.try_get("id")?),
                        branch_id: nexus_domain::BranchId::from_uuid(row.try_get("branch_id")?),
                        product_id: nexus_domain::ids::ProductId::from_uuid(row.try_get("product_id")?),
                        kind: crate::retail::MovementKind::parse(&kind).ok_or_else(|| sqlx::Error::Decode(format!("bad kind {kind}").into()))?,
                        quantity: nexus_domain::Quantity::from_milli(row.try_get("quantity_milli")?),
                        reason: row.try_get("reason")?,
                        occurred_at: nexus_domain::UnixMillis::from_millis(row.try_get("occurred_at")?),
                        source_id: row.try_get("source_id")?,
                    });
                }
                Ok(movements)
            }

            async fn stock_alerts(
                &self,
                tenant: nexus_domain::TenantId,
                negative_only: bool,
            ) -> crate::StoreResult<Vec<crate::retail::StockAlert>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                // Negative on-hand (reconciliation), and for low stock also every open branch's
                // products at or below their reorder level, including those never stocked there.
                let negatives = "SELECT stock_levels.branch_id, stock_levels.product_id, products.sku, products.name, \
                     stock_levels.on_hand_milli, products.reorder_level_milli \
                     FROM stock_levels JOIN products ON products.id = stock_levels.product_id \
                     JOIN branches ON branches.id = stock_levels.branch_id \
                     WHERE products.archived_at IS NULL AND branches.archived_at IS NULL AND stock_levels.on_hand_milli < 0";
                let low = "SELECT branches.id AS branch_id, products.id AS product_id, products.sku, products.name, \
                     COALESCE(stock_levels.on_hand_milli, 0) AS on_hand_milli, products.reorder_level_milli \
                     FROM branches CROSS JOIN products LEFT JOIN stock_levels \
                     ON stock_levels.branch_id = branches.id AND stock_levels.product_id = products.id \
                     WHERE branches.archived_at IS NULL AND products.archived_at IS NULL \
                     AND products.reorder_level_milli IS NOT NULL \
                     AND COALESCE(stock_levels.on_hand_milli, 0) >= 0 \
                     AND COALESCE(stock_levels.on_hand_milli, 0) <= products.reorder_level_milli";
                let sql = if negative_only {
                    format!("{negatives} ORDER BY on_hand_milli, sku")
                } else {
                    format!("SELECT branch_id, product_id, sku, name, on_hand_milli, reorder_level_milli FROM ({negatives} UNION ALL {low}) AS alerts ORDER BY on_hand_milli, sku")
                };
                let rows = sqlx::query(&sql).fetch_all(&mut *transaction).await?;
                transaction.commit().await?;
                let mut alerts = Vec::with_capacity(rows.len());
                for row in &rows {
                    alerts.push(crate::retail::StockAlert {
                        branch_id: nexus_domain::BranchId::from_uuid(row.try_get("branch_id")?),
                        product_id: nexus_domain::ids::ProductId::from_uuid(row.try_get("product_id")?),
                        sku: row.try_get("sku")?,
                        name: row.try_get("name")?,
                        on_hand: nexus_domain::Quantity::from_milli(row.try_get("on_hand_milli")?),
                        reorder_level: row.try_get::<Option<i64>, _>("reorder_level_milli")?.map(nexus_domain::Quantity::from_milli),
                    });
                }
                Ok(alerts)
            }

            async fn record_sale(
                &self,
                tenant: nexus_domain::TenantId,
                sale: &crate::retail::Sale,
                local_day: i32,
            ) -> crate::StoreResult<(crate::retail::Sale, bool)> {
                let mut transaction = self.begin_tenant(tenant).await?;
                check_branch_open(&mut transaction, sale.branch_id).await?;
                for line in &sale.lines {
                    check_product_exists(&mut transaction, line.product_id).await?;
                }
                let created = insert_sales(&mut transaction, &[(sale, local_day)]).await?[0];
                let recorded = read_sale(&mut transaction, sale.id).await?.ok_or(crate::StoreError::Refused("sale vanished".into()))?;
                transaction.commit().await?;
                Ok((recorded, created))
            }

            async fn record_sales(
                &self,
                tenant: nexus_domain::TenantId,
                sales: &[(crate::retail::Sale, i32)],
            ) -> crate::StoreResult<Vec<bool>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let branches: std::collections::BTreeSet<_> = sales.iter().map(|(sale, _)| sale.branch_id).collect();
                for branch in branches {
                    check_branch_open(&mut transaction, branch).await?;
                }
                let mut products: Vec<_> = sales.iter().flat_map(|(sale, _)| sale.lines.iter().map(|line| line.product_id)).collect();
                products.sort();
                products.dedup();
                let mut known = std::collections::HashSet::with_capacity(products.len());
                for chunk in products.chunks(rows_per_statement(1)) {
                    let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new("SELECT id FROM products WHERE id IN (");
                    let mut listed = builder.separated(", ");
                    for product in chunk {
                        listed.push_bind(product.as_uuid());
                    }
                    builder.push(")");
                    known.extend(builder.build_query_scalar::<uuid::Uuid>().fetch_all(&mut *transaction).await?);
                }
                if let Some(missing) = products.iter().find(|product| !known.contains(&product.as_uuid())) {
                    return Err(crate::StoreError::UnknownProduct(*missing));
                }
                let borrowed: Vec<(&crate::retail::Sale, i32)> = sales.iter().map(|(sale, day)| (sale, *day)).collect();
                let created = insert_sales(&mut transaction, &borrowed).await?;
                transaction.commit().await?;
                Ok(created)
            }

            async fn sale_heads(
                &self,
                tenant: nexus_domain::TenantId,
                sales: &[nexus_domain::ids::SaleId],
            ) -> crate::StoreResult<Vec<crate::retail::SaleHead>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let mut heads = Vec::new();
                for chunk in sales.chunks(rows_per_statement(1)) {
                    let mut builder = sqlx::QueryBuilder::<SqlDatabase>::new("SELECT id, kind, branch_id FROM sales WHERE id IN (");
                    let mut listed = builder.separated(", ");
                    for sale in chunk {
                        listed.push_bind(sale.as_uuid());
                    }
                    builder.push(")");
                    for row in builder.build().fetch_all(&mut *transaction).await? {
                        let kind: String = row.try_get("kind")?;
                        heads.push(crate::retail::SaleHead {
                            id: nexus_domain::ids::SaleId::from_uuid(row.try_get("id")?),
                            kind: retail_decode(&kind, "sale kind")?,
                            branch_id: nexus_domain::BranchId::from_uuid(row.try_get("branch_id")?),
                        });
                    }
                }
                transaction.commit().await?;
                Ok(heads)
            }

            async fn get_sale(
                &self,
                tenant: nexus_domain::TenantId,
                sale: nexus_domain::ids::SaleId,
            ) -> crate::StoreResult<Option<crate::retail::Sale>> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let found = read_sale(&mut transaction, sale).await?;
                transaction.commit().await?;
                Ok(found)
            }

            async fn record_return(
                &self,
                tenant: nexus_domain::TenantId,
                request: crate::retail::NewReturn,
            ) -> crate::StoreResult<(crate::retail::Sale, bool)> {
                let mut transaction = self.begin_tenant(tenant).await?;
                // Lock the original first: two returns of one sale, or a return and its own retry,
                // are then checked one after the other.
                sqlx::query(concat!("SELECT id FROM sales WHERE id = $1 ", $lock_rows))
                    .bind(request.original.as_uuid())
                    .fetch_optional(&mut *transaction)
                    .await?;
                if let Some(existing) = read_sale(&mut transaction, request.id).await? {
                    transaction.commit().await?;
                    // A retry gets the same return back; an id that names anything else is a clash.
                    return if existing.kind == request.kind && existing.refers_to == Some(request.original) {
                        Ok((existing, false))
                    } else {
                        Err(crate::StoreError::Conflict { field: "id" })
                    };
                }
                let original = read_sale(&mut transaction, request.original).await?.ok_or(crate::StoreError::UnknownSale(request.original))?;
                if original.kind != crate::retail::SaleKind::Sale {
                    return Err(crate::StoreError::Refused("only a sale can be refunded or voided, not a refund".to_owned()));
                }
                let returned_rows = sqlx::query(
                    "SELECT sale_lines.refers_to_line, CAST(SUM(-sale_lines.quantity_milli) AS BIGINT) AS returned \
                     FROM sale_lines JOIN sales ON sales.id = sale_lines.sale_id \
                     WHERE sales.refers_to = $1 GROUP BY sale_lines.refers_to_line",
                )
                .bind(request.original.as_uuid())
                .fetch_all(&mut *transaction)
                .await?;
                let mut returned_before = std::collections::HashMap::new();
                for row in &returned_rows {
                    let line: Option<i32> = row.try_get("refers_to_line")?;
                    let returned: i64 = row.try_get("returned")?;
                    if let Some(line) = line {
                        returned_before.insert(line, returned);
                    }
                }
                let wanted: Vec<(i32, nexus_domain::Quantity)> = if request.kind == crate::retail::SaleKind::Void {
                    original
                        .lines
                        .iter()
                        .map(|line| (line.line_no, nexus_domain::Quantity::from_milli(line.quantity.milli() - returned_before.get(&line.line_no).copied().unwrap_or(0))))
                        .filter(|(_, quantity)| quantity.is_positive())
                        .collect()
                } else {
                    request.lines.clone()
                };
                if wanted.is_empty() {
                    return Err(crate::StoreError::Refused("nothing is left to return on this sale".to_owned()));
                }
                let mut lines = Vec::with_capacity(wanted.len());
                for (index, (line_no, quantity)) in wanted.iter().enumerate() {
                    let sold = original
                        .lines
                        .iter()
                        .find(|line| line.line_no == *line_no)
                        .ok_or_else(|| crate::StoreError::Refused(format!("the sale has no line {line_no}")))?;
                    let before = returned_before.get(line_no).copied().unwrap_or(0);
                    let sold_milli = sold.quantity.milli();
                    if !quantity.is_positive() || before + quantity.milli() > sold_milli {
                        return Err(crate::StoreError::Refused(format!(
                            "line {line_no}: {} sold, {} already returned; cannot return {}",
                            sold.quantity,
                            nexus_domain::Quantity::from_milli(before),
                            quantity
                        )));
                    }
                    returned_before.insert(*line_no, before + quantity.milli());
                    let share = |amount: i64| -crate::retail_queries::return_share(amount, sold_milli, before, quantity.milli());
                    lines.push(crate::retail::SaleLine {
                        line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
                        product_id: sold.product_id,
                        sku: sold.sku.clone(),
                        name: sold.name.clone(),
                        tax_class: sold.tax_class,
                        quantity: nexus_domain::Quantity::from_milli(-quantity.milli()),
                        unit_price_minor: sold.unit_price_minor,
                        gross_minor: share(sold.gross_minor),
                        discount_minor: share(sold.discount_minor),
                        net_minor: share(sold.net_minor),
                        tax_minor: share(sold.tax_minor),
                        total_minor: share(sold.total_minor),
                        levies: sold.levies.iter().map(|(code, amount)| (code.clone(), share(*amount))).collect(),
                        refers_to_line: Some(*line_no),
                    });
                }
                // Rounding each field separately could leave net + tax one unit off the total;
                // the total is what the customer gets back, so tax absorbs the difference.
                for line in &mut lines {
                    let levy_sum: i64 = line.levies.iter().map(|(_, amount)| amount).sum();
                    line.tax_minor = line.total_minor - line.net_minor;
                    if let Some(first) = line.levies.first_mut() {
                        first.1 += line.tax_minor - levy_sum;
                    }
                }
                let sum = |field: fn(&crate::retail::SaleLine) -> i64| lines.iter().map(field).sum::<i64>();
                let levies = crate::retail::levy_totals(&lines);
                let total = sum(|line| line.total_minor);
                let returned = crate::retail::Sale {
                    id: request.id,
                    kind: request.kind,
                    refers_to: Some(original.id),
                    branch_id: original.branch_id,
                    cashier_id: request.cashier,
                    device_id: request.device_id,
                    receipt_number: request.receipt_number.clone(),
                    shift_id: None,
                    customer_id: original.customer_id,
                    currency: original.currency,
                    price_mode: original.price_mode,
                    gross_minor: sum(|line| line.gross_minor),
                    discount_minor: sum(|line| line.discount_minor),
                    net_minor: sum(|line| line.net_minor),
                    tax_minor: sum(|line| line.tax_minor),
                    total_minor: total,
                    levies,
                    tendered_minor: total,
                    change_minor: 0,
                    reason: request.reason.clone(),
                    occurred_at: request.occurred_at,
                    recorded_at: request.recorded_at,
                    lines,
                    tenders: vec![crate::retail::Tender {
                        kind: request.tender.unwrap_or(crate::retail::TenderKind::Cash),
                        amount_minor: total,
                        network: None,
                        phone: None,
                        reference: None,
                        verified: true,
                    }],
                };
                let created = insert_sales(&mut transaction, &[(&returned, request.local_day)]).await?[0];
                let recorded = read_sale(&mut transaction, request.id).await?.ok_or(crate::StoreError::UnknownSale(request.id))?;
                transaction.commit().await?;
                Ok((recorded, created))
            }

            async fn rebuild_report_rollups(&self, tenant: nexus_domain::TenantId) -> crate::StoreResult<()> {
                let mut transaction = self.begin_tenant(tenant).await?;
                // The same arithmetic as `add_to_rollups`, over the whole table: refunds and voids
                // carry negative amounts; cash is counted net of the change, once per sale.
                sqlx::Executor::execute(
                    &mut *transaction,
                    "DELETE FROM daily_sales; DELETE FROM daily_levies; DELETE FROM daily_cashiers; DELETE FROM daily_tenders; \
                     INSERT INTO daily_sales (branch_id, local_day, sales_count, refunds_count, gross_minor, discount_minor, \
                         net_minor, tax_minor, total_minor) \
                     SELECT branch_id, local_day, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END), \
                         SUM(CASE WHEN kind = 'sale' THEN 0 ELSE 1 END), SUM(gross_minor), SUM(discount_minor), SUM(net_minor), \
                         SUM(tax_minor), SUM(total_minor) FROM sales GROUP BY branch_id, local_day; \
                     INSERT INTO daily_levies (branch_id, local_day, code, amount_minor) \
                     SELECT sales.branch_id, sales.local_day, sale_levies.code, SUM(sale_levies.amount_minor) \
                         FROM sale_levies JOIN sales ON sales.id = sale_levies.sale_id \
                         GROUP BY sales.branch_id, sales.local_day, sale_levies.code; \
                     INSERT INTO daily_cashiers (branch_id, local_day, cashier_id, sales_count, total_minor) \
                     SELECT branch_id, local_day, cashier_id, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END), SUM(total_minor) \
                         FROM sales GROUP BY branch_id, local_day, cashier_id; \
                     INSERT INTO daily_tenders (branch_id, local_day, kind, amount_minor) \
                     SELECT branch_id, local_day, kind, SUM(kept) FROM ( \
                         SELECT sales.branch_id, sales.local_day, sale_tenders.kind, \
                             SUM(sale_tenders.amount_minor) - CASE WHEN sale_tenders.kind = 'cash' THEN MAX(sales.change_minor) ELSE 0 END AS kept \
                         FROM sale_tenders JOIN sales ON sales.id = sale_tenders.sale_id \
                         GROUP BY sales.id, sales.branch_id, sales.local_day, sale_tenders.kind \
                     ) AS per_sale GROUP BY branch_id, local_day, kind",
                )
                .await?;
                transaction.commit().await?;
                Ok(())
            }

            async fn daily_report(
                &self,
                tenant: nexus_domain::TenantId,
                from_day: i32,
                to_day: i32,
                branches: Option<&[nexus_domain::BranchId]>,
            ) -> crate::StoreResult<crate::retail::DailyReportRows> {
                let mut transaction = self.begin_tenant(tenant).await?;
                let mut report = crate::retail::DailyReportRows::default();
                let all_branches: Vec<nexus_domain::BranchId> = match branches {
                    Some(chosen) => chosen.to_vec(),
                    None => sqlx::query_scalar::<_, uuid::Uuid>("SELECT id FROM branches")
                        .fetch_all(&mut *transaction)
                        .await?
                        .into_iter()
                        .map(nexus_domain::BranchId::from_uuid)
                        .collect(),
                };
                // One indexed range read per branch and rollup; rows are summed across branches here.
                for branch in &all_branches {
                    let rows = sqlx::query(
                        "SELECT local_day, sales_count, refunds_count, gross_minor, discount_minor, net_minor, tax_minor, total_minor \
                         FROM daily_sales WHERE branch_id = $1 AND local_day BETWEEN $2 AND $3",
                    )
                    .bind(branch.as_uuid())
                    .bind(from_day)
                    .bind(to_day)
                    .fetch_all(&mut *transaction)
                    .await?;
                    for row in &rows {
                        report.totals.push(crate::retail::DailyTotals {
                            local_day: row.try_get("local_day")?,
                            sales_count: row.try_get("sales_count")?,
                            refunds_count: row.try_get("refunds_count")?,
                            gross_minor: row.try_get("gross_minor")?,
                            discount_minor: row.try_get("discount_minor")?,
                            net_minor: row.try_get("net_minor")?,
                            tax_minor: row.try_get("tax_minor")?,
                            total_minor: row.try_get("total_minor")?,
                        });
                    }
                    let rows = sqlx::query("SELECT local_day, code, amount_minor FROM daily_levies WHERE branch_id = $1 AND local_day BETWEEN $2 AND $3")
                        .bind(branch.as_uuid())
                        .bind(from_day)
                        .bind(to_day)
                        .fetch_all(&mut *transaction)
                        .await?;
                    for row in &rows {
                        report.levies.push((row.try_get("local_day")?, row.try_get("code")?, row.try_get("amount_minor")?));
                    }
                    let rows = sqlx::query(
                        "SELECT local_day, cashier_id, sales_count, total_minor FROM daily_cashiers WHERE branch_id = $1 AND local_day BETWEEN $2 AND $3",
                    )
                    .bind(branch.as_uuid())
                    .bind(from_day)
                    .bind(to_day)
                    .fetch_all(&mut *transaction)
                    .await?;
                    for row in &rows {
                        report.cashiers.push((
                            row.try_get("local_day")?,
                            nexus_domain::UserId::from_uuid(row.try_get("cashier_id")?),
                            row.try_get("sales_count")?,
                            row.try_get("total_minor")?,
                        ));
                    }
                    let rows = sqlx::query("SELECT local_day, kind, amount_minor FROM daily_tenders WHERE branch_id = $1 AND local_day BETWEEN $2 AND $3")
                        .bind(branch.as_uuid())
                        .bind(from_day)
                        .bind(to_day)
                        .fetch_all(&mut *transaction)
                        .await?;
                    for row in &rows {
                        report.tenders.push((row.try_get("local_day")?, row.try_get("kind")?, row.try_get("amount_minor")?));
                    }
                }
                transaction.commit().await?;
                Ok(report)
            }
        }
    };
}

pub(crate) use retail_queries;

#[cfg(test)]
mod tests {
    use super::*;
    use nexus_domain::tax::proportional_share;

    #[test]
    fn returns_in_steps_add_up_to_the_whole() {
        for (amount, sold) in [
            (1000_i64, 3000_i64),
            (999, 7000),
            (-1234, 1500),
            (1, 3000),
            (1_000_000_007, 13_000),
        ] {
            let mut returned = 0;
            let mut total = 0;
            for step in [1000, 500, 1500, sold] {
                let take = step.min(sold - returned);
                if take == 0 {
                    break;
                }
                total += return_share(amount, sold, returned, take);
                returned += take;
            }
            assert_eq!(returned, sold);
            assert_eq!(total, amount, "amount {amount} sold {sold}");
        }
        assert_eq!(proportional_share(5, 1, 2), 3, "half away from zero");
        assert_eq!(proportional_share(-5, 1, 2), -3);
    }
}
