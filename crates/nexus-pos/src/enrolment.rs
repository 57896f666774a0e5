//! Enrolment: trading the one-time code for this station's credential, and who the station is
//! (branch, names, device) as enrolment recorded it.

use std::collections::BTreeMap;

use nexus_domain::{BranchId, ReceiptPrefix};
use nexus_sync::{EnrolRequest, Enrolled};
use sqlx::Row as _;
use uuid::Uuid;

use crate::client::{refusal_message, unreachable};
use crate::{Station, StationError, StationResult};

/// Who this station is, read in one query: what a receipt and an op need.
pub(crate) struct Identity {
    pub(crate) branch_id: BranchId,
    pub(crate) device: Uuid,
    pub(crate) branch_label: String,
    pub(crate) station_label: String,
    /// The fixed part of this station's receipt numbers.
    pub(crate) receipt_prefix: ReceiptPrefix,
}

impl Station {
    /// Trades a one-time enrolment code for this station's credential.
    pub async fn enroll(&self, server: &str, code: &str) -> StationResult<String> {
        let server = server.trim_end_matches('/').to_owned();
        let url = format!("{server}/api/v1/stations/enroll");
        let body = EnrolRequest {
            enrolment_code: code.to_owned(),
            app_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        };
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| unreachable(&server, &error))?;
        if !status.is_success() {
            return Err(StationError::Refused(
                refusal_message(&bytes).unwrap_or_else(|| "enrolment refused".to_owned()),
            ));
        }
        let enrolled: Enrolled = serde_json::from_slice(&bytes).map_err(|error| {
            StationError::Refused(format!("the enrolment answer could not be read: {error}"))
        })?;
        let station_id = enrolled.station_id.to_string();
        let mut transaction = self.pool.begin().await?;
        for (key, value) in [
            ("server", server.clone()),
            ("station_id", station_id.clone()),
            ("tenant_id", enrolled.tenant_id.to_string()),
            ("branch_id", enrolled.branch_id.to_string()),
            ("credential", enrolled.credential),
            ("station_name", enrolled.station_name),
            ("branch_name", enrolled.branch_name),
        ] {
            crate::station::set_meta_on(&mut transaction, key, &value).await?;
        }
        transaction.commit().await?;
        Ok(station_id)
    }

    /// Points an enrolled station at the same service under a new address (it moved, or the
    /// demo was started on another port). The credential, outbox and replica stay as they are.
    pub async fn set_server(&self, server: &str) -> StationResult<()> {
        self.required("credential").await?;
        sqlx::query("UPDATE meta SET value = $1 WHERE key = 'server'")
            .bind(server.trim_end_matches('/'))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The station's credential (for tools that talk to the server on its behalf).
    pub async fn credential(&self) -> StationResult<String> {
        self.required("credential").await
    }
}

pub(crate) async fn identity_on(
    connection: &mut sqlx::SqliteConnection,
) -> StationResult<Identity> {
    let rows = sqlx::query(
        "SELECT key, value FROM meta WHERE key IN ('branch_id', 'station_id', 'branch_name', 'station_name')",
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut values = BTreeMap::new();
    for row in &rows {
        values.insert(
            row.try_get::<String, _>("key")?,
            row.try_get::<String, _>("value")?,
        );
    }
    let value = |key: &str| values.get(key).cloned().unwrap_or_default();
    let station_id = values
        .get("station_id")
        .cloned()
        .ok_or(StationError::NotEnrolled)?;
    let branch_id = values
        .get("branch_id")
        .cloned()
        .ok_or(StationError::NotEnrolled)?;
    let label = |key: &str, fallback: &str| {
        Some(value(key))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| fallback.to_owned())
    };
    Ok(Identity {
        device: Station::device(&station_id)?,
        receipt_prefix: ReceiptPrefix::from_names(
            &value("branch_name"),
            &value("station_name"),
            &station_id,
        ),
        branch_label: label("branch_name", "Nexus"),
        station_label: label("station_name", "Station"),
        branch_id: branch_id
            .parse()
            .map_err(|_| StationError::Damaged("the stored branch id is not a UUID".to_owned()))?,
    })
}
