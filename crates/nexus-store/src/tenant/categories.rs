//! Categories of one tenant's catalogue: the groups the item report adds products up by.

use async_trait::async_trait;
use nexus_domain::{CategoryId, NonEmptyText, TenantId, UnixMillis};

use super::{TenantAccess, with_tenant};
use crate::retail::{Category, CategoryChange};
use crate::sql::{Backend, Conn, RowExt, query};
use crate::{StoreError, StoreResult};

#[async_trait]
pub trait CategoryStore: Send + Sync + 'static {
    /// A name another category has already (letter case aside) is `Conflict` on `name`.
    async fn create_category(
        &self,
        tenant: TenantId,
        id: CategoryId,
        name: NonEmptyText,
        now: UnixMillis,
    ) -> StoreResult<Category>;
    /// Every category, archived ones too, by name.
    async fn list_categories(&self, tenant: TenantId) -> StoreResult<Vec<Category>>;
    async fn get_category(
        &self,
        tenant: TenantId,
        category: CategoryId,
    ) -> StoreResult<Option<Category>>;
    /// How many products (archived ones aside) each category that has any holds.
    async fn products_per_category(&self, tenant: TenantId) -> StoreResult<Vec<(CategoryId, i64)>>;
    async fn update_category(
        &self,
        tenant: TenantId,
        category: CategoryId,
        change: CategoryChange,
        now: UnixMillis,
    ) -> StoreResult<Option<Category>>;
}

const CATEGORY_COLUMNS: &str = "id, name, created_at, updated_at, archived_at";

fn category_from_row<R: RowExt>(row: &R) -> sqlx::Result<Category>
where
    R::Database: Backend,
{
    Ok(Category {
        id: CategoryId::from_uuid(row.field("id")?),
        name: row.field("name")?,
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        updated_at: UnixMillis::from_millis(row.field("updated_at")?),
        archived_at: row
            .field::<Option<i64>>("archived_at")?
            .map(UnixMillis::from_millis),
    })
}

pub(crate) async fn read_category<B: Backend>(
    connection: &mut Conn<B>,
    category: CategoryId,
) -> sqlx::Result<Option<Category>> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} FROM categories WHERE id = $1");
    let row = query::<B>(&sql)
        .bind(category.as_uuid())
        .fetch_optional(connection)
        .await?;
    row.as_ref().map(category_from_row).transpose()
}

/// Every station of the tenant pulls categories, for browsing at the till.
async fn log_category<B: Backend>(
    connection: &mut Conn<B>,
    category: &Category,
) -> StoreResult<()> {
    super::changes::log_change::<B>(
        connection,
        "category",
        category.id.as_uuid(),
        None,
        category,
        category.updated_at,
    )
    .await
}

/// A product may be put only in a category that exists and is not archived.
pub(crate) async fn check_category_usable<B: Backend>(
    connection: &mut Conn<B>,
    category: CategoryId,
) -> StoreResult<()> {
    match read_category::<B>(connection, category).await? {
        Some(found) if found.archived_at.is_none() => Ok(()),
        Some(found) => Err(StoreError::Refused(format!(
            "the category {:?} is archived",
            found.name
        ))),
        None => Err(StoreError::Refused(format!(
            "category {category} does not exist"
        ))),
    }
}

#[async_trait]
impl<S: TenantAccess> CategoryStore for S {
    async fn create_category(
        &self,
        tenant: TenantId,
        id: CategoryId,
        name: NonEmptyText,
        now: UnixMillis,
    ) -> StoreResult<Category> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "INSERT INTO categories (id, name, search_name, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(id.as_uuid())
            .bind(name.as_str())
            .bind(name.as_str().to_lowercase())
            .bind(now.as_millis())
            .execute(&mut *connection)
            .await
            .map_err(|error| StoreError::unique_as_conflict(error, "name"))?;
            let created = read_category::<S::Db>(connection, id)
                .await?
                .ok_or_else(|| StoreError::Refused("category vanished".to_owned()))?;
            log_category::<S::Db>(connection, &created).await?;
            Ok(created)
        })
        .await
    }

    async fn list_categories(&self, tenant: TenantId) -> StoreResult<Vec<Category>> {
        with_tenant(self, tenant, async |connection| {
            let sql = format!("SELECT {CATEGORY_COLUMNS} FROM categories ORDER BY search_name, id");
            let rows = query::<S::Db>(&sql).fetch_all(connection).await?;
            Ok(rows
                .iter()
                .map(category_from_row)
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn get_category(
        &self,
        tenant: TenantId,
        category: CategoryId,
    ) -> StoreResult<Option<Category>> {
        with_tenant(self, tenant, async |connection| {
            Ok(read_category::<S::Db>(connection, category).await?)
        })
        .await
    }

    async fn products_per_category(&self, tenant: TenantId) -> StoreResult<Vec<(CategoryId, i64)>> {
        with_tenant(self, tenant, async |connection| {
            let rows = query::<S::Db>(
                "SELECT category_id, CAST(COUNT(*) AS BIGINT) AS products FROM products \
                 WHERE category_id IS NOT NULL AND archived_at IS NULL GROUP BY category_id",
            )
            .fetch_all(connection)
            .await?;
            let mut counts = Vec::with_capacity(rows.len());
            for row in &rows {
                counts.push((
                    CategoryId::from_uuid(row.field("category_id")?),
                    row.field("products")?,
                ));
            }
            Ok(counts)
        })
        .await
    }

    async fn update_category(
        &self,
        tenant: TenantId,
        category: CategoryId,
        change: CategoryChange,
        now: UnixMillis,
    ) -> StoreResult<Option<Category>> {
        with_tenant(self, tenant, async |connection| {
            let archived_at = match change.archived {
                // Archiving twice keeps the first moment.
                Some(true) => "COALESCE(archived_at, $4)",
                Some(false) => "NULL",
                None => "archived_at",
            };
            let sql = format!(
                "UPDATE categories SET name = COALESCE($2, name), \
                 search_name = COALESCE($3, search_name), archived_at = {archived_at}, \
                 updated_at = $4 WHERE id = $1"
            );
            let updated = query::<S::Db>(&sql)
                .bind(category.as_uuid())
                .bind(change.name.as_ref().map(NonEmptyText::as_str))
                .bind(
                    change
                        .name
                        .as_ref()
                        .map(|name| name.as_str().to_lowercase()),
                )
                .bind(now.as_millis())
                .execute(&mut *connection)
                .await
                .map_err(|error| StoreError::unique_as_conflict(error, "name"))?;
            if updated == 0 {
                return Ok(None);
            }
            let changed = read_category::<S::Db>(connection, category).await?;
            if let Some(changed) = &changed {
                log_category::<S::Db>(connection, changed).await?;
            }
            Ok(changed)
        })
        .await
    }
}
