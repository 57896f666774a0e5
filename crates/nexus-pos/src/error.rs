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
    #[error("{who} is locked after too many wrong PINs: try again in {}", wait_text(*.retry_after_seconds))]
    PinLocked {
        who: String,
        retry_after_seconds: i64,
    },
    /// A wrong PIN with no name chosen: nobody to count a lock against.
    #[error("wrong PIN: try again, or choose your name first")]
    WrongPinNoName,
    /// PIN-only sign-in at this till waits between tries after a run of wrong PINs.
    #[error(
        "too many wrong PINs at this till: wait {retry_after_seconds} s before the next one, or choose your name first"
    )]
    PinSlowed { retry_after_seconds: i64 },
    /// Something the station itself stored no longer reads, or cannot be written (a damaged
    /// database, or a bug): logged where it is shown; the cashier is told the till failed, not
    /// the details, which mean nothing to them.
    #[error("the station's own data: {0}")]
    Damaged(String),
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

/// A wait as a cashier reads it: "45 s", "4 min 59 s".
fn wait_text(seconds: i64) -> String {
    match (seconds / 60, seconds % 60) {
        (0, seconds) => format!("{seconds} s"),
        (minutes, 0) => format!("{minutes} min"),
        (minutes, seconds) => format!("{minutes} min {seconds} s"),
    }
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
