//! The station: its database, its HTTP client and its data directory. What it does is split
//! by concern across the crate (`enrolment`, `outbox`, `client`, `replica`, `stock`, `catalogue`,
//! `till`); each adds its own `impl Station` block.

use std::path::{Path, PathBuf};

use sqlx::sqlite::SqlitePool;

use crate::{StationError, StationResult};

/// A shop station: its local database, its client for the service, its data directory.
pub struct Station {
    pub(crate) pool: SqlitePool,
    pub(crate) http: reqwest::Client,
    pub(crate) data_dir: PathBuf,
    /// Held by a PIN sign-in from reading its count of wrong PINs to recording the next.
    pub(crate) sign_in_turn: tokio::sync::Mutex<()>,
    /// The catalogue's words for search, rebuilt when the catalogue moves on.
    pub(crate) search: crate::search::SearchCache,
}

impl Station {
    /// Opens (creating if needed) the station's database under `data_dir`.
    pub async fn open(data_dir: &Path) -> StationResult<Self> {
        let pool = crate::database::open(data_dir).await?;
        let http = reqwest::Client::builder()
            .timeout(crate::client::REQUEST_TIMEOUT)
            .build()
            .map_err(|error| StationError::Invalid(format!("http client: {error}")))?;
        Ok(Self {
            pool,
            http,
            data_dir: data_dir.to_owned(),
            sign_in_turn: tokio::sync::Mutex::new(()),
            search: crate::search::SearchCache::default(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub(crate) async fn meta(&self, key: &str) -> StationResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub(crate) async fn required(&self, key: &str) -> StationResult<String> {
        self.meta(key).await?.ok_or(StationError::NotEnrolled)
    }

    pub(crate) async fn clear_meta(&self, key: &str) -> StationResult<()> {
        sqlx::query("DELETE FROM meta WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn set_meta(&self, key: &str, value: &str) -> StationResult<()> {
        let mut connection = self.pool.acquire().await?;
        set_meta_on(&mut connection, key, value).await
    }

    pub(crate) fn device(text: &str) -> StationResult<uuid::Uuid> {
        text.parse()
            .map_err(|_| StationError::Damaged("the stored station id is not a UUID".to_owned()))
    }

    /// Closes the database (waits for the connection to finish its work).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// SQLite's own check of the database file: `ok` when it is sound.
    pub async fn integrity_check(&self) -> StationResult<String> {
        let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?;
        Ok(lines.join("\n"))
    }
}

/// Sets one meta key on `connection` (a transaction's, so it commits with the rest).
pub(crate) async fn set_meta_on(
    connection: &mut sqlx::SqliteConnection,
    key: &str,
    value: &str,
) -> StationResult<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(connection)
        .await?;
    Ok(())
}
