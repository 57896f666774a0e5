//! The tenant's settings: currency, tax rules and levies, time zone.

use async_trait::async_trait;
use nexus_domain::{Levy, TaxRules, TenantId, UnixMillis};

use super::changes::log_change;
use super::{TenantAccess, with_tenant};
use crate::retail::TenantSettings;
use crate::sql::{Backend, Conn, RowExt, parse_column, query};
use crate::{StoreError, StoreResult};

#[async_trait]
pub trait SettingsStore: Send + Sync + 'static {
    async fn settings(&self, tenant: TenantId) -> StoreResult<TenantSettings>;
    /// Replaces the settings and tax levies. The currency cannot change once sales exist (`Refused`).
    async fn update_settings(
        &self,
        tenant: TenantId,
        settings: &TenantSettings,
        now: UnixMillis,
    ) -> StoreResult<TenantSettings>;
}

pub(crate) async fn read_settings<B: Backend>(
    connection: &mut Conn<B>,
) -> StoreResult<TenantSettings> {
    let row = query::<B>(
        "SELECT currency, tax_enabled, price_mode, time_zone FROM settings WHERE id = 1",
    )
    .fetch_one(connection)
    .await?;
    let levy_rows =
        query::<B>("SELECT code, name, rate_basis_points FROM tax_levies ORDER BY position")
            .fetch_all(connection)
            .await?;
    let currency: String = row.field("currency")?;
    let price_mode: String = row.field("price_mode")?;
    let mut levies = Vec::with_capacity(levy_rows.len());
    for levy in &levy_rows {
        levies.push(Levy {
            code: levy.field("code")?,
            name: levy.field("name")?,
            rate_basis_points: u32::try_from(levy.field::<i32>("rate_basis_points")?).unwrap_or(0),
        });
    }
    Ok(TenantSettings {
        currency: parse_column(&currency, "currency")?,
        tax: TaxRules {
            enabled: row.field("tax_enabled")?,
            mode: parse_column(&price_mode, "price mode")?,
            levies,
        },
        time_zone: row.field("time_zone")?,
    })
}

async fn write_settings<B: Backend>(
    connection: &mut Conn<B>,
    settings: &TenantSettings,
    now: UnixMillis,
) -> StoreResult<TenantSettings> {
    let sql = format!("SELECT currency FROM settings WHERE id = 1{}", B::LOCK_ROWS);
    let current: String = query::<B>(&sql).scalar(connection).await?;
    if current != settings.currency.code() {
        // Prices and sales are amounts in the currency: changing it would silently turn
        // GHS 12.00 into XOF 1200.
        let priced: Option<uuid::Uuid> = query::<B>("SELECT id FROM products LIMIT 1")
            .scalar_optional(connection)
            .await?;
        if priced.is_some() {
            return Err(StoreError::Refused(
                "the currency cannot change once products or sales are priced in it".to_owned(),
            ));
        }
    }
    query::<B>(
        "UPDATE settings SET currency = $1, tax_enabled = $2, price_mode = $3, time_zone = $4, \
         updated_at = $5 WHERE id = 1",
    )
    .bind(settings.currency.code())
    .bind(settings.tax.enabled)
    .bind(settings.tax.mode.as_str())
    .bind(settings.time_zone.as_str())
    .bind(now.as_millis())
    .execute(connection)
    .await?;
    query::<B>("DELETE FROM tax_levies")
        .execute(connection)
        .await?;
    for (position, levy) in settings.tax.levies.iter().enumerate() {
        query::<B>(
            "INSERT INTO tax_levies (position, code, name, rate_basis_points) VALUES ($1, $2, $3, $4)",
        )
        .bind(i32::try_from(position + 1).unwrap_or(i32::MAX))
        .bind(levy.code.as_str())
        .bind(levy.name.as_str())
        .bind(i32::try_from(levy.rate_basis_points).unwrap_or(i32::MAX))
        .execute(connection)
        .await?;
    }
    log_change::<B>(
        connection,
        "settings",
        uuid::Uuid::nil(),
        None,
        settings,
        now,
    )
    .await?;
    read_settings::<B>(connection).await
}

#[async_trait]
impl<S: TenantAccess> SettingsStore for S {
    async fn settings(&self, tenant: TenantId) -> StoreResult<TenantSettings> {
        with_tenant(self, tenant, async |connection| {
            read_settings::<S::Db>(connection).await
        })
        .await
    }

    async fn update_settings(
        &self,
        tenant: TenantId,
        settings: &TenantSettings,
        now: UnixMillis,
    ) -> StoreResult<TenantSettings> {
        with_tenant(self, tenant, async |connection| {
            write_settings::<S::Db>(connection, settings, now).await
        })
        .await
    }
}
