//! The customers a till records, found by name or phone.

use async_trait::async_trait;
use nexus_domain::{TenantId, UnixMillis, UserId};
use serde::Serialize;

use super::{TenantAccess, with_tenant};
use crate::StoreResult;
use crate::sql::{Backend, Conn, RowExt, contains_pattern, query};

#[derive(Clone, Debug)]
pub struct NewCustomer {
    pub id: uuid::Uuid,
    /// Already trimmed and checked.
    pub name: String,
    pub phone: Option<String>,
    pub created_by: UserId,
    pub created_at: UnixMillis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Customer))]
pub struct CustomerRecord {
    pub id: uuid::Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub created_at: UnixMillis,
    pub created_by: UserId,
}

#[async_trait]
pub trait CustomerStore: Send + Sync + 'static {
    /// Idempotent on the customer's id: when it exists, the recorded customer comes back
    /// unchanged with `false`.
    async fn create_customer(
        &self,
        tenant: TenantId,
        customer: NewCustomer,
    ) -> StoreResult<(CustomerRecord, bool)>;
    /// Customers whose name or phone contains `search` (case-insensitive), by name.
    async fn list_customers(
        &self,
        tenant: TenantId,
        search: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CustomerRecord>>;
}

const CUSTOMER_COLUMNS: &str = "id, name, phone, created_at, created_by";

fn customer_from_row<R: RowExt>(row: &R) -> sqlx::Result<CustomerRecord>
where
    R::Database: Backend,
{
    Ok(CustomerRecord {
        id: row.field("id")?,
        name: row.field("name")?,
        phone: row.field("phone")?,
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        created_by: UserId::from_uuid(row.field("created_by")?),
    })
}

async fn create<B: Backend>(
    connection: &mut Conn<B>,
    customer: &NewCustomer,
) -> StoreResult<(CustomerRecord, bool)> {
    let created: Option<uuid::Uuid> = query::<B>(
        "INSERT INTO customers (id, name, search_name, phone, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING id",
    )
    .bind(customer.id)
    .bind(customer.name.as_str())
    .bind(customer.name.to_lowercase())
    .bind(customer.phone.as_deref())
    .bind(customer.created_at.as_millis())
    .bind(customer.created_by.as_uuid())
    .scalar_optional(connection)
    .await?;
    let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1");
    let row = query::<B>(&sql)
        .bind(customer.id)
        .fetch_one(connection)
        .await?;
    Ok((customer_from_row(&row)?, created.is_some()))
}

async fn list<B: Backend>(
    connection: &mut Conn<B>,
    search: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<CustomerRecord>> {
    let search = search.map(str::trim).filter(|text| !text.is_empty());
    let sql = format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers \
         WHERE ($1 IS NULL OR search_name LIKE $1 ESCAPE '\\' OR phone LIKE $1 ESCAPE '\\') \
         ORDER BY search_name, id LIMIT $2"
    );
    let rows = query::<B>(&sql)
        .bind(search.map(contains_pattern))
        .bind(i64::from(limit))
        .fetch_all(connection)
        .await?;
    Ok(rows
        .iter()
        .map(customer_from_row)
        .collect::<Result<_, _>>()?)
}

#[async_trait]
impl<S: TenantAccess> CustomerStore for S {
    async fn create_customer(
        &self,
        tenant: TenantId,
        customer: NewCustomer,
    ) -> StoreResult<(CustomerRecord, bool)> {
        with_tenant(self, tenant, async |connection| {
            create::<S::Db>(connection, &customer).await
        })
        .await
    }

    async fn list_customers(
        &self,
        tenant: TenantId,
        search: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CustomerRecord>> {
        with_tenant(self, tenant, async |connection| {
            list::<S::Db>(connection, search, limit).await
        })
        .await
    }
}
