//! Selling at the station: PIN sign-in, the cart, checkout with tenders and receipt numbers,
//! refunds and voids, shifts, customers and parked carts, one module each. Everything here reads
//! and writes the local database only, so a till sells end to end with no network; each write
//! commits with its op in one transaction.

pub(crate) mod accounts;
mod cart;
mod checkout;
pub(crate) mod customers;
mod parked;
mod recorded;
mod returns;
mod shifts;
mod sign_in;

pub use crate::catalogue::TillProduct;
pub use accounts::{PaymentTaken, TillAccount};
pub use cart::{Cart, CartLine, Priced};
pub use checkout::{Committed, TenderInput};
pub use customers::Customer;
pub use parked::Parked;
pub use recorded::LocalRecord;
pub use returns::{NEEDS_APPROVAL, Returner};
pub use shifts::{Shift, TenderCount};
pub use sign_in::{
    PIN_FAILURES_BEFORE_LOCK, PIN_LOCK_MILLIS, PIN_ONLY_FREE_TRIES, PIN_ONLY_LONGEST_WAIT_SECONDS,
    SignedIn, pin_only_wait_seconds,
};

use nexus_domain::{Currency, TaxRules};
use nexus_sync::{SettingsRecord, ShopRecord};
use uuid::Uuid;

use crate::replica::replica_record_on;
use crate::{Station, StationError, StationResult};

/// The shop's settings as the till needs them.
#[derive(Clone, Debug)]
pub struct TillSettings {
    pub currency: Currency,
    pub tax: TaxRules,
    pub offset_minutes: i64,
}

impl Station {
    /// The tenant's currency, tax rules and time zone, as last pulled.
    pub async fn till_settings(&self) -> StationResult<TillSettings> {
        let mut connection = self.pool.acquire().await?;
        till_settings_on(&mut connection).await
    }
}

pub(crate) async fn till_settings_on(
    connection: &mut sqlx::SqliteConnection,
) -> StationResult<TillSettings> {
    let settings: SettingsRecord = replica_record_on(connection, &Uuid::nil().to_string())
        .await?
        .ok_or_else(|| {
            invalid("this till has not fetched the shop's prices and settings yet: connect it to the internet once and it will")
        })?;
    Ok(TillSettings {
        currency: settings.currency,
        offset_minutes: nexus_domain::calendar::zone_offset_minutes(&settings.time_zone)
            .unwrap_or(0),
        tax: settings.tax,
    })
}

pub(crate) fn invalid(message: impl Into<String>) -> StationError {
    StationError::Invalid(message.into())
}

pub(crate) fn parse_uuid(text: &str, what: &str) -> StationResult<Uuid> {
    text.parse()
        .map_err(|_| StationError::Damaged(format!("a stored {what} is not a UUID")))
}

/// The cashier's open shift here, if any: what a sale or a return joins.
pub(crate) async fn open_shift_id_on(
    connection: &mut sqlx::SqliteConnection,
    cashier: Uuid,
) -> StationResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM shifts WHERE cashier_id = $1 AND closed_at IS NULL")
            .bind(cashier.to_string())
            .fetch_optional(&mut *connection)
            .await?,
    )
}

/// The shop's receipt header and footer as last pulled; empty before the first.
pub(crate) async fn shop_on(connection: &mut sqlx::SqliteConnection) -> StationResult<ShopRecord> {
    Ok(
        replica_record_on::<ShopRecord>(connection, &Uuid::nil().to_string())
            .await?
            .unwrap_or_default(),
    )
}
