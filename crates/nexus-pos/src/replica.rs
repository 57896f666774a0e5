//! The replica: the server's records as last pulled (settings, catalogue, staff, this branch's
//! stock movements). Each pull page and its cursor commit together, so the till never shows half
//! an update; every change is read through its protocol record type.

use nexus_domain::MovementKind;
use nexus_sync::{
    AccountEntryRecord, CustomerRecord, MovementRecord, ProductRecord, Record, StaffRecord,
};

use crate::catalogue::upsert_products;
use crate::{Station, StationError, StationResult};

/// Rows in one multi-row statement when applying pulled products: 8 values a row stays far
/// below SQLite's 32,766 bound parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 250;

impl Station {
    /// Applies changes to the replica in one transaction, as one pull page does, without
    /// moving the pull cursor: for loading a large catalogue in tools and benchmarks.
    pub async fn load_changes(&self, changes: &[nexus_sync::Change]) -> StationResult<()> {
        let branch = self.required("branch_id").await?;
        let mut transaction = self.pool.begin().await?;
        Self::store_changes(&mut transaction, &branch, changes).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Applies one page of changes. Products, nearly all of a first sync, go in multi-row
    /// statements (the last change of each product wins, as applying them in order would);
    /// everything else one by one, in order. Products touch only their own rows, so taking them
    /// out of order changes nothing else.
    pub(crate) async fn store_changes(
        transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        branch: &str,
        changes: &[nexus_sync::Change],
    ) -> StationResult<()> {
        let mut products: std::collections::BTreeMap<uuid::Uuid, &nexus_sync::Change> =
            std::collections::BTreeMap::new();
        for change in changes {
            if change.entity == ProductRecord::ENTITY {
                products.insert(change.entity_id, change);
            } else {
                Self::store_change(transaction, branch, change).await?;
            }
        }
        let products: Vec<&nexus_sync::Change> = products.into_values().collect();
        for batch in products.chunks(ROWS_PER_STATEMENT) {
            let records = batch
                .iter()
                .map(|change| change.read_record::<ProductRecord>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| StationError::unreadable_record("product", error))?;
            let mut replica =
                sqlx::QueryBuilder::new("INSERT INTO replica (entity, entity_id, payload) ");
            replica.push_values(batch, |mut row, change| {
                row.push_bind(ProductRecord::ENTITY)
                    .push_bind(change.entity_id.to_string())
                    .push_bind(change.payload.to_string());
            });
            replica
                .push(" ON CONFLICT (entity, entity_id) DO UPDATE SET payload = excluded.payload");
            replica.build().execute(&mut **transaction).await?;
            let records: Vec<&ProductRecord> = records.iter().collect();
            upsert_products(transaction, &records).await?;
        }
        Ok(())
    }

    pub(crate) async fn store_change(
        transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        branch: &str,
        change: &nexus_sync::Change,
    ) -> StationResult<()> {
        let entity_id = change.entity_id.to_string();
        if change.entity == StaffRecord::ENTITY {
            let member: StaffRecord = change
                .read_record()
                .map_err(|error| StationError::unreadable_record("staff", error))?;
            // A member of staff moved away from this branch is no longer signed in here.
            if !member.branch_ids.iter().any(|id| id.to_string() == branch) {
                sqlx::query("DELETE FROM replica WHERE entity = 'staff' AND entity_id = $1")
                    .bind(&entity_id)
                    .execute(&mut **transaction)
                    .await?;
                return Ok(());
            }
        }
        sqlx::query(
            "INSERT INTO replica (entity, entity_id, payload) VALUES ($1, $2, $3) \
             ON CONFLICT (entity, entity_id) DO UPDATE SET payload = excluded.payload",
        )
        .bind(&change.entity)
        .bind(&entity_id)
        .bind(change.payload.to_string())
        .execute(&mut **transaction)
        .await?;
        if change.entity == ProductRecord::ENTITY {
            let product: ProductRecord = change
                .read_record()
                .map_err(|error| StationError::unreadable_record("product", error))?;
            upsert_products(transaction, &[&product]).await?;
        }
        if change.entity == CustomerRecord::ENTITY {
            let customer: CustomerRecord = change
                .read_record()
                .map_err(|error| StationError::unreadable_record("customer", error))?;
            crate::till::customers::upsert_customer(transaction, &customer).await?;
        }
        if change.entity == AccountEntryRecord::ENTITY {
            let entry: AccountEntryRecord = change
                .read_record()
                .map_err(|error| StationError::unreadable_record("account entry", error))?;
            crate::till::accounts::store_pulled_entry(transaction, &entry).await?;
        }
        if change.entity == MovementRecord::ENTITY {
            let movement: MovementRecord = change
                .read_record()
                .map_err(|error| StationError::unreadable_record("stock movement", error))?;
            let source = movement.source_id.map(|source| source.to_string());
            sqlx::query(
                "INSERT INTO movements (id, product_id, is_count, quantity_milli, occurred_at, source_id) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&entity_id)
            .bind(movement.product_id.to_string())
            .bind(movement.kind == MovementKind::Count)
            .bind(movement.quantity.milli())
            .bind(movement.occurred_at.as_millis())
            .bind(source.as_deref())
            .execute(&mut **transaction)
            .await?;
            // The server's movements for one of our ops are here: stop counting it ourselves.
            sqlx::query("UPDATE outbox SET settled = 1 WHERE settled = 0 AND (entity_id = $1 OR entity_id = $2)")
                .bind(&entity_id)
                .bind(source.as_deref().unwrap_or(""))
                .execute(&mut **transaction)
                .await?;
        }
        Ok(())
    }

    /// The replica's copy of one entity, as the server last sent it.
    pub async fn replica(
        &self,
        entity: &str,
        entity_id: &str,
    ) -> StationResult<Option<serde_json::Value>> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT payload FROM replica WHERE entity = $1 AND entity_id = $2")
                .bind(entity)
                .bind(entity_id)
                .fetch_optional(&self.pool)
                .await?;
        text.map(|text| {
            serde_json::from_str(&text).map_err(|error| StationError::UnreadableRecord {
                entity: "replica",
                reason: error.to_string(),
            })
        })
        .transpose()
    }

    /// Every replica record of one kind (`product`, `staff`, `settings`, `stock_movement`).
    pub async fn replica_all(&self, entity: &str) -> StationResult<Vec<serde_json::Value>> {
        let texts: Vec<String> =
            sqlx::query_scalar("SELECT payload FROM replica WHERE entity = $1 ORDER BY entity_id")
                .bind(entity)
                .fetch_all(&self.pool)
                .await?;
        texts
            .iter()
            .map(|text| {
                serde_json::from_str(text)
                    .map_err(|error| StationError::Damaged(format!("a stored record: {error}")))
            })
            .collect()
    }

    /// The replica's record of kind `R` with this id, as the server last sent it.
    pub(crate) async fn replica_record<R: Record>(
        &self,
        entity_id: &str,
    ) -> StationResult<Option<R>> {
        let mut connection = self.pool.acquire().await?;
        replica_record_on(&mut connection, entity_id).await
    }

    /// Every replica record of kind `R`.
    pub(crate) async fn replica_records<R: Record>(&self) -> StationResult<Vec<R>> {
        let texts: Vec<String> =
            sqlx::query_scalar("SELECT payload FROM replica WHERE entity = $1 ORDER BY entity_id")
                .bind(R::ENTITY)
                .fetch_all(&self.pool)
                .await?;
        texts.iter().map(|text| read_record(text)).collect()
    }
}

/// The record of kind `R` with this id in the replica.
pub(crate) async fn replica_record_on<R: Record>(
    connection: &mut sqlx::SqliteConnection,
    entity_id: &str,
) -> StationResult<Option<R>> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT payload FROM replica WHERE entity = $1 AND entity_id = $2")
            .bind(R::ENTITY)
            .bind(entity_id)
            .fetch_optional(&mut *connection)
            .await?;
    text.map(|text| read_record(&text)).transpose()
}

pub(crate) fn read_record<R: Record>(text: &str) -> StationResult<R> {
    serde_json::from_str(text).map_err(|error| StationError::unreadable_record(R::ENTITY, error))
}
