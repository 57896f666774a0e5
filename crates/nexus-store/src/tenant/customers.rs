//! Customers, recorded at a till or in the dashboard, found by name or phone. Every station of
//! the tenant pulls them (a trader on the wholesale list buys at any branch).

use async_trait::async_trait;
use nexus_domain::{PriceList, TenantId, UnixMillis, UserId};
use serde::Serialize;

use super::changes::log_change;
use super::{TenantAccess, with_tenant};
use crate::sql::{Backend, Conn, RowExt, contains_pattern, query};
use crate::{StoreError, StoreResult};

#[derive(Clone, Debug)]
pub struct NewCustomer {
    pub id: uuid::Uuid,
    /// Already trimmed and checked.
    pub name: String,
    pub phone: Option<String>,
    pub price_list: PriceList,
    pub credit_limit_minor: Option<i64>,
    pub created_by: UserId,
    pub created_at: UnixMillis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Customer))]
pub struct CustomerRecord {
    pub id: uuid::Uuid,
    pub name: String,
    pub phone: Option<String>,
    /// The list their sales are priced on.
    pub price_list: PriceList,
    /// What they may owe the shop; absent: no credit.
    pub credit_limit_minor: Option<i64>,
    pub created_at: UnixMillis,
    pub created_by: UserId,
    pub updated_at: UnixMillis,
}

/// A change of a customer; `Some(None)` clears phone or credit limit.
#[derive(Clone, Debug, Default)]
pub struct CustomerChange {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub price_list: Option<PriceList>,
    pub credit_limit_minor: Option<Option<i64>>,
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
    async fn update_customer(
        &self,
        tenant: TenantId,
        customer: uuid::Uuid,
        change: CustomerChange,
        now: UnixMillis,
    ) -> StoreResult<Option<CustomerRecord>>;
    async fn get_customer(
        &self,
        tenant: TenantId,
        customer: uuid::Uuid,
    ) -> StoreResult<Option<CustomerRecord>>;
    /// Those of `customers` that exist.
    async fn customers_by_ids(
        &self,
        tenant: TenantId,
        customers: &[uuid::Uuid],
    ) -> StoreResult<Vec<CustomerRecord>>;
    /// Customers whose name or phone contains `search` (case-insensitive), by name.
    async fn list_customers(
        &self,
        tenant: TenantId,
        search: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CustomerRecord>>;
}

const CUSTOMER_COLUMNS: &str =
    "id, name, phone, price_list, credit_limit_minor, created_at, created_by, updated_at";

fn customer_from_row<R: RowExt>(row: &R) -> sqlx::Result<CustomerRecord>
where
    R::Database: Backend,
{
    let price_list: String = row.field("price_list")?;
    Ok(CustomerRecord {
        id: row.field("id")?,
        name: row.field("name")?,
        phone: row.field("phone")?,
        price_list: PriceList::parse(&price_list)
            .ok_or_else(|| sqlx::Error::Decode(format!("bad price list: {price_list:?}").into()))?,
        credit_limit_minor: row.field("credit_limit_minor")?,
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        created_by: UserId::from_uuid(row.field("created_by")?),
        updated_at: UnixMillis::from_millis(row.field("updated_at")?),
    })
}

async fn read<B: Backend>(
    connection: &mut Conn<B>,
    customer: uuid::Uuid,
) -> sqlx::Result<Option<CustomerRecord>> {
    let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1");
    let row = query::<B>(&sql)
        .bind(customer)
        .fetch_optional(connection)
        .await?;
    row.as_ref().map(customer_from_row).transpose()
}

/// Logs the customer as they now are, for every station of the tenant.
async fn log_customer<B: Backend>(
    connection: &mut Conn<B>,
    customer: &CustomerRecord,
) -> StoreResult<()> {
    log_change::<B>(
        connection,
        "customer",
        customer.id,
        None,
        customer,
        customer.updated_at,
    )
    .await
}

async fn create<B: Backend>(
    connection: &mut Conn<B>,
    customer: &NewCustomer,
) -> StoreResult<(CustomerRecord, bool)> {
    let created: Option<uuid::Uuid> = query::<B>(
        "INSERT INTO customers (id, name, search_name, phone, price_list, credit_limit_minor, \
         created_at, created_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7) \
         ON CONFLICT (id) DO NOTHING RETURNING id",
    )
    .bind(customer.id)
    .bind(customer.name.as_str())
    .bind(customer.name.to_lowercase())
    .bind(customer.phone.as_deref())
    .bind(customer.price_list.as_str())
    .bind(customer.credit_limit_minor)
    .bind(customer.created_at.as_millis())
    .bind(customer.created_by.as_uuid())
    .scalar_optional(&mut *connection)
    .await?;
    let recorded = read::<B>(connection, customer.id)
        .await?
        .ok_or_else(|| StoreError::Refused("customer vanished".to_owned()))?;
    if created.is_some() {
        log_customer::<B>(connection, &recorded).await?;
    }
    Ok((recorded, created.is_some()))
}

async fn update<B: Backend>(
    connection: &mut Conn<B>,
    customer: uuid::Uuid,
    change: &CustomerChange,
    now: UnixMillis,
) -> StoreResult<Option<CustomerRecord>> {
    let updated = query::<B>(
        "UPDATE customers SET name = COALESCE($2, name), search_name = COALESCE($3, search_name), \
         phone = CASE WHEN $5 THEN $4 ELSE phone END, price_list = COALESCE($6, price_list), \
         credit_limit_minor = CASE WHEN $8 THEN $7 ELSE credit_limit_minor END, updated_at = $9 \
         WHERE id = $1",
    )
    .bind(customer)
    .bind(change.name.as_deref())
    .bind(change.name.as_ref().map(|name| name.to_lowercase()))
    .bind(change.phone.as_ref().and_then(|phone| phone.as_deref()))
    .bind(change.phone.is_some())
    .bind(change.price_list.map(PriceList::as_str))
    .bind(change.credit_limit_minor.flatten())
    .bind(change.credit_limit_minor.is_some())
    .bind(now.as_millis())
    .execute(&mut *connection)
    .await?;
    if updated == 0 {
        return Ok(None);
    }
    let recorded = read::<B>(connection, customer).await?;
    if let Some(recorded) = &recorded {
        log_customer::<B>(connection, recorded).await?;
    }
    Ok(recorded)
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

    async fn update_customer(
        &self,
        tenant: TenantId,
        customer: uuid::Uuid,
        change: CustomerChange,
        now: UnixMillis,
    ) -> StoreResult<Option<CustomerRecord>> {
        with_tenant(self, tenant, async |connection| {
            update::<S::Db>(connection, customer, &change, now).await
        })
        .await
    }

    async fn get_customer(
        &self,
        tenant: TenantId,
        customer: uuid::Uuid,
    ) -> StoreResult<Option<CustomerRecord>> {
        with_tenant(self, tenant, async |connection| {
            Ok(read::<S::Db>(connection, customer).await?)
        })
        .await
    }

    async fn customers_by_ids(
        &self,
        tenant: TenantId,
        customers: &[uuid::Uuid],
    ) -> StoreResult<Vec<CustomerRecord>> {
        with_tenant(self, tenant, async |connection| {
            with_ids::<S::Db>(connection, customers).await
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

/// Those of `customers` that exist, in no particular order.
pub(crate) async fn with_ids<B: Backend>(
    connection: &mut Conn<B>,
    customers: &[uuid::Uuid],
) -> StoreResult<Vec<CustomerRecord>> {
    let mut found = Vec::with_capacity(customers.len());
    for chunk in customers.chunks(crate::sql::rows_per_statement(1)) {
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id IN ({})",
            crate::sql::placeholders(chunk.len(), 1)
        );
        let mut statement = query::<B>(&sql);
        for customer in chunk {
            statement = statement.bind(*customer);
        }
        for row in statement.fetch_all(&mut *connection).await? {
            found.push(customer_from_row(&row)?);
        }
    }
    Ok(found)
}
