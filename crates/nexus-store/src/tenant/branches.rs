//! Branches of one tenant: the shops, each with its own stock.

use async_trait::async_trait;
use nexus_domain::{BranchId, NonEmptyText, TenantId, UnixMillis};

use super::{TenantAccess, with_tenant};
use crate::sql::{Backend, Conn, RowExt, query};
use crate::{Branch, NewBranch, StoreError, StoreResult, branch_name_key};

#[async_trait]
pub trait BranchStore: Send + Sync + 'static {
    async fn create_branch(&self, tenant: TenantId, branch: NewBranch) -> StoreResult<Branch>;
    async fn list_branches(&self, tenant: TenantId) -> StoreResult<Vec<Branch>>;
    async fn get_branch(&self, tenant: TenantId, branch: BranchId) -> StoreResult<Option<Branch>>;
    /// Renames and, when `address` is `Some`, sets or clears the address.
    async fn update_branch(
        &self,
        tenant: TenantId,
        branch: BranchId,
        name: Option<NonEmptyText>,
        address: Option<Option<NonEmptyText>>,
        now: UnixMillis,
    ) -> StoreResult<Option<Branch>>;
    async fn archive_branch(
        &self,
        tenant: TenantId,
        branch: BranchId,
        now: UnixMillis,
    ) -> StoreResult<Option<Branch>>;
}

const BRANCH_COLUMNS: &str = "id, name, address, created_at, archived_at";

fn branch_from_row<R: RowExt>(row: &R) -> sqlx::Result<Branch>
where
    R::Database: Backend,
{
    Ok(Branch {
        id: BranchId::from_uuid(row.field("id")?),
        name: row.field("name")?,
        address: row.field("address")?,
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        archived_at: row
            .field::<Option<i64>>("archived_at")?
            .map(UnixMillis::from_millis),
    })
}

/// The branch must exist and be open: nothing new is recorded at an archived shop.
pub(crate) async fn check_branch_open<B: Backend>(
    connection: &mut Conn<B>,
    branch: BranchId,
) -> StoreResult<()> {
    let open: Option<uuid::Uuid> =
        query::<B>("SELECT id FROM branches WHERE id = $1 AND archived_at IS NULL")
            .bind(branch.as_uuid())
            .scalar_optional(connection)
            .await?;
    open.map(|_| ()).ok_or(StoreError::UnknownBranch(branch))
}

/// Tills send goods to a branch by name: every branch is a `branch` change for every station,
/// logged as it is created, renamed or archived.
async fn log_branch<B: Backend>(
    connection: &mut Conn<B>,
    branch: &Branch,
    now: UnixMillis,
) -> StoreResult<()> {
    let record = nexus_sync::BranchRecord {
        id: branch.id,
        name: branch.name.clone(),
        archived_at: branch.archived_at,
    };
    super::changes::log_change::<B>(
        connection,
        <nexus_sync::BranchRecord as nexus_sync::Record>::ENTITY,
        branch.id.as_uuid(),
        None,
        &record,
        now,
    )
    .await
}

/// Every branch must exist and be open; staff are never assigned to an archived shop.
pub(crate) async fn check_branches_open<B: Backend>(
    connection: &mut Conn<B>,
    branches: &[BranchId],
) -> StoreResult<()> {
    for branch in branches {
        check_branch_open::<B>(connection, *branch).await?;
    }
    Ok(())
}

#[async_trait]
impl<S: TenantAccess> BranchStore for S {
    async fn create_branch(&self, tenant: TenantId, branch: NewBranch) -> StoreResult<Branch> {
        with_tenant(self, tenant, async |connection| {
            let sql = format!(
                "INSERT INTO branches (id, name, name_key, address, created_at, archived_at) \
                 VALUES ($1, $2, $5, $3, $4, NULL) RETURNING {BRANCH_COLUMNS}"
            );
            let row = query::<S::Db>(&sql)
                .bind(branch.id.as_uuid())
                .bind(branch.name.as_str())
                .bind(branch.address.as_ref().map(NonEmptyText::as_str))
                .bind(branch.now.as_millis())
                .bind(branch_name_key(&branch.name))
                .fetch_one(&mut *connection)
                .await
                .map_err(|error| StoreError::unique_as_conflict(error, "name"))?;
            super::stock::stock_new_branch::<S::Db>(connection, branch.id, branch.now).await?;
            let created = branch_from_row(&row)?;
            log_branch::<S::Db>(connection, &created, branch.now).await?;
            Ok(created)
        })
        .await
    }

    async fn list_branches(&self, tenant: TenantId) -> StoreResult<Vec<Branch>> {
        with_tenant(self, tenant, async |connection| {
            let sql = format!("SELECT {BRANCH_COLUMNS} FROM branches ORDER BY created_at, id");
            let rows = query::<S::Db>(&sql).fetch_all(connection).await?;
            Ok(rows.iter().map(branch_from_row).collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn get_branch(&self, tenant: TenantId, branch: BranchId) -> StoreResult<Option<Branch>> {
        with_tenant(self, tenant, async |connection| {
            let sql = format!("SELECT {BRANCH_COLUMNS} FROM branches WHERE id = $1");
            let row = query::<S::Db>(&sql)
                .bind(branch.as_uuid())
                .fetch_optional(connection)
                .await?;
            Ok(row.as_ref().map(branch_from_row).transpose()?)
        })
        .await
    }

    async fn update_branch(
        &self,
        tenant: TenantId,
        branch: BranchId,
        name: Option<NonEmptyText>,
        address: Option<Option<NonEmptyText>>,
        now: UnixMillis,
    ) -> StoreResult<Option<Branch>> {
        with_tenant(self, tenant, async |connection| {
            // `$4` says whether the address is being set at all, so that "absent" and "null"
            // stay different: absent keeps it, null clears it.
            let sql = format!(
                "UPDATE branches SET name = COALESCE($2, name), name_key = COALESCE($5, name_key), \
                 address = CASE WHEN $4 THEN $3 ELSE address END \
                 WHERE id = $1 RETURNING {BRANCH_COLUMNS}"
            );
            let row = query::<S::Db>(&sql)
                .bind(branch.as_uuid())
                .bind(name.as_ref().map(NonEmptyText::as_str))
                .bind(
                    address
                        .as_ref()
                        .and_then(|address| address.as_ref().map(NonEmptyText::as_str)),
                )
                .bind(address.is_some())
                .bind(name.as_ref().map(branch_name_key))
                .fetch_optional(&mut *connection)
                .await
                .map_err(|error| StoreError::unique_as_conflict(error, "name"))?;
            let updated = row.as_ref().map(branch_from_row).transpose()?;
            if let Some(updated) = &updated {
                log_branch::<S::Db>(connection, updated, now).await?;
            }
            Ok(updated)
        })
        .await
    }

    async fn archive_branch(
        &self,
        tenant: TenantId,
        branch: BranchId,
        now: UnixMillis,
    ) -> StoreResult<Option<Branch>> {
        with_tenant(self, tenant, async |connection| {
            let sql = format!(
                "UPDATE branches SET archived_at = COALESCE(archived_at, $2) WHERE id = $1 \
                 RETURNING {BRANCH_COLUMNS}"
            );
            let row = query::<S::Db>(&sql)
                .bind(branch.as_uuid())
                .bind(now.as_millis())
                .fetch_optional(&mut *connection)
                .await?;
            let archived = row.as_ref().map(branch_from_row).transpose()?;
            if let Some(archived) = &archived {
                log_branch::<S::Db>(connection, archived, now).await?;
            }
            Ok(archived)
        })
        .await
    }
}
