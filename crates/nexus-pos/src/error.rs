//! What the station's operations fail with.

#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error("this station is not enrolled yet: run `nexus pos enroll --server URL --code CODE`")]
    NotEnrolled,
    #[error(
        "the server at {url} cannot be reached ({reason}); everything is kept and will sync when it is back"
    )]
    Unreachable { url: String, reason: String },
    #[error("the server refused the request: {0}")]
    Refused(String),
    #[error("local database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("wrong PIN ({attempts_left} more tries before a lock)")]
    WrongPin { attempts_left: i64 },
    #[error("too many wrong PINs: sign-in is locked; try again in {retry_after_seconds} s")]
    PinLocked { retry_after_seconds: i64 },
    /// One of the station's own ops does not read as the protocol's payload for its kind.
    #[error("op {seq} of the outbox cannot be read ({reason}); the station's database is damaged")]
    UnreadableOp { seq: u64, reason: String },
    /// A record from the server (as pulled, or as kept since) does not read as its kind.
    #[error("a {entity} record from the service cannot be read: {reason}")]
    UnreadableRecord {
        entity: &'static str,
        reason: String,
    },
}

impl StationError {
    pub(crate) fn unreadable_record(entity: &'static str, reason: impl ToString) -> Self {
        StationError::UnreadableRecord {
            entity,
            reason: reason.to_string(),
        }
    }
}

pub type StationResult<T> = Result<T, StationError>;
