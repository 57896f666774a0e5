//! Parked carts: a basket put aside while the customer fetches money, resumed later.

use nexus_domain::Clock;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::till::cart::Cart;
use crate::till::sign_in::SignedIn;
use crate::till::{invalid, parse_uuid};
use crate::{Station, StationError, StationResult};

/// A parked cart, waiting to be resumed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parked {
    pub id: Uuid,
    pub cashier_id: Uuid,
    pub parked_at: i64,
    pub label: String,
    pub cart: Cart,
}

impl Station {
    /// Puts a cart aside (the customer went to fetch money) and returns its id.
    pub async fn park(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        cart: &Cart,
    ) -> StationResult<Uuid> {
        if cart.is_empty() {
            return Err(invalid("the cart is empty: nothing to park"));
        }
        let now = clock.now();
        let id = nexus_domain::ids::new_v7(now);
        let label = cart
            .customer
            .as_ref()
            .map(|customer| customer.name.clone())
            .unwrap_or_else(|| {
                let first = &cart.lines[0].product.name;
                match cart.lines.len() {
                    1 => first.clone(),
                    count => format!("{first} and {} more", count - 1),
                }
            });
        sqlx::query(
            "INSERT INTO parked_carts (id, cashier_id, parked_at, label, cart) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(cashier.id.to_string())
        .bind(now.as_millis())
        .bind(label)
        .bind(serde_json::to_string(cart).map_err(|error| StationError::Damaged(format!("a cart to park: {error}")))?)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Every parked cart at this station, oldest first.
    pub async fn parked(&self) -> StationResult<Vec<Parked>> {
        let rows = sqlx::query(
            "SELECT id, cashier_id, parked_at, label, cart FROM parked_carts ORDER BY parked_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Parked {
                    id: parse_uuid(&row.try_get::<String, _>("id")?, "parked cart id")?,
                    cashier_id: parse_uuid(&row.try_get::<String, _>("cashier_id")?, "cashier id")?,
                    parked_at: row.try_get("parked_at")?,
                    label: row.try_get("label")?,
                    cart: serde_json::from_str(&row.try_get::<String, _>("cart")?).map_err(
                        |error| StationError::Damaged(format!("a parked cart: {error}")),
                    )?,
                })
            })
            .collect()
    }

    /// Takes a parked cart back (it is no longer parked).
    pub async fn resume(&self, id: Uuid) -> StationResult<Cart> {
        let mut transaction = self.pool.begin().await?;
        let text: Option<String> =
            sqlx::query_scalar("SELECT cart FROM parked_carts WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *transaction)
                .await?;
        let text = text.ok_or_else(|| {
            invalid("that parked cart is not there any more: it was taken back already")
        })?;
        // Read before it is taken off the list: a cart that does not read stays parked.
        let cart: Cart = serde_json::from_str(&text)
            .map_err(|error| StationError::Damaged(format!("a parked cart: {error}")))?;
        sqlx::query("DELETE FROM parked_carts WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(cart)
    }
}
