//! Customers recorded at this station.

use nexus_domain::{Clock, PriceList, UserId};
use nexus_sync::{CustomerOp, CustomerRecord};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::catalogue::name_key;
use crate::till::sign_in::SignedIn;
use crate::till::{invalid, parse_uuid};
use crate::{Station, StationError, StationResult};

/// A customer known at this station.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    /// The list their sales are priced on (the owner puts traders on the wholesale list).
    #[serde(default)]
    pub price_list: PriceList,
    /// What they may owe the shop, as the owner set it; `None`: no credit.
    #[serde(default)]
    pub credit_limit_minor: Option<i64>,
}

fn customer_from_row(row: &sqlx::sqlite::SqliteRow) -> StationResult<Customer> {
    let list: String = row.try_get("price_list")?;
    Ok(Customer {
        id: parse_uuid(&row.try_get::<String, _>("id")?, "customer id")?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        price_list: PriceList::parse(&list)
            .ok_or_else(|| StationError::Damaged(format!("a stored price list {list:?}")))?,
        credit_limit_minor: row.try_get("credit_limit_minor")?,
    })
}

/// Keeps the till's customers in step with a pulled customer: those made in the dashboard, and
/// the list and details the owner gave those a till made.
pub(crate) async fn upsert_customer(
    connection: &mut sqlx::SqliteConnection,
    customer: &CustomerRecord,
) -> StationResult<()> {
    sqlx::query(
        "INSERT INTO customers (id, name, name_key, phone, created_at, price_list, credit_limit_minor) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
         name_key = excluded.name_key, phone = excluded.phone, price_list = excluded.price_list, \
         credit_limit_minor = excluded.credit_limit_minor",
    )
    .bind(customer.id.to_string())
    .bind(&customer.name)
    .bind(name_key(&customer.name))
    .bind(&customer.phone)
    .bind(customer.updated_at.as_millis())
    .bind(customer.price_list.as_str())
    .bind(customer.credit_limit_minor)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

impl Station {
    /// Creates a customer here (offline); the server learns of them with the next sync.
    pub async fn create_customer(
        &self,
        clock: &dyn Clock,
        actor: &SignedIn,
        name: &str,
        phone: Option<&str>,
    ) -> StationResult<Customer> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(invalid("a customer's name must be 1 to 120 characters"));
        }
        let phone = phone.map(str::trim).filter(|phone| !phone.is_empty());
        if let Some(phone) = phone {
            let digits = phone.strip_prefix('+').unwrap_or(phone);
            if !(9..=15).contains(&digits.len())
                || !digits.bytes().all(|byte| byte.is_ascii_digit())
            {
                return Err(invalid("a phone number has 9 to 15 digits"));
            }
        }
        let now = clock.now();
        let customer = Customer {
            id: nexus_domain::ids::new_v7(now),
            name: name.to_owned(),
            phone: phone.map(str::to_owned),
            price_list: PriceList::Retail,
            credit_limit_minor: None,
        };
        let device = Self::device(&self.required("station_id").await?)?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query("INSERT INTO customers (id, name, name_key, phone, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(customer.id.to_string())
            .bind(&customer.name)
            .bind(name_key(&customer.name))
            .bind(&customer.phone)
            .bind(now.as_millis())
            .execute(&mut *transaction)
            .await?;
        let payload = CustomerOp {
            actor_id: UserId::from_uuid(actor.id),
            name: customer.name.clone(),
            phone: customer.phone.clone(),
        };
        Self::append_op(&mut transaction, device, now, customer.id, &payload).await?;
        transaction.commit().await?;
        Ok(customer)
    }

    /// One customer known here.
    pub async fn customer(&self, id: Uuid) -> StationResult<Option<Customer>> {
        let row = sqlx::query(
            "SELECT id, name, phone, price_list, credit_limit_minor FROM customers WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(customer_from_row).transpose()
    }

    /// Customers whose phone number is `query`, or whose name starts with it.
    pub async fn search_customers(&self, query: &str, limit: u32) -> StationResult<Vec<Customer>> {
        let query = query.trim();
        let key = name_key(query);
        let rows = sqlx::query(
            "SELECT id, name, phone, price_list, credit_limit_minor FROM customers WHERE phone = $1 OR (name_key >= $2 AND name_key < $3) \
             ORDER BY name_key LIMIT $4",
        )
        .bind(query)
        .bind(&key)
        .bind(format!("{key}\u{10ffff}"))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(customer_from_row).collect()
    }
}
