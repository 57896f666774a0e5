//! Announcements between server processes sharing one PostgreSQL database: a short text sent
//! with `NOTIFY` inside a transaction reaches every process that `LISTEN`s, at commit. LISTEN
//! holds a session, which PgBouncer in transaction mode cannot give, so listening takes a direct
//! connection of its own (a setting apart from the pooled URL); sending works through either.

use crate::{StoreError, StoreResult, redact_url};

/// The one channel Nexus announces on.
pub const CHANNEL: &str = "nexus_announcements";

/// A connection that receives the announcements of every process.
pub struct AnnouncementListener {
    listener: sqlx::postgres::PgListener,
}

impl AnnouncementListener {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool = crate::postgres::server_pool(1)
            .connect(url)
            .await
            .map_err(|error| {
                StoreError::Config(format!(
                    "cannot connect to PostgreSQL for live updates at {}: {error}",
                    redact_url(url)
                ))
            })?;
        let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Self { listener })
    }

    /// The next announcement. A lost connection is re-established here (announcements sent
    /// meanwhile are missed: listeners treat them as hints, never as the data).
    pub async fn next(&mut self) -> StoreResult<String> {
        Ok(self.listener.recv().await?.payload().to_owned())
    }
}
