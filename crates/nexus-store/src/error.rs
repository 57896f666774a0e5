use nexus_domain::ids::{ProductId, SaleId};
use nexus_domain::{BranchId, TenantId};

/// Errors of the storage layer. The server maps each to an HTTP answer; only `Database` and
/// `Io` are the operator's problem rather than the caller's.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    #[error("branch {0} does not exist or is archived")]
    UnknownBranch(BranchId),
    #[error("product {0} does not exist")]
    UnknownProduct(ProductId),
    #[error("sale {0} does not exist")]
    UnknownSale(SaleId),
    /// A request that is well-formed but breaks a rule of the data (the message says which).
    #[error("{0}")]
    Refused(String),
    #[error("the organisation must keep at least one active owner")]
    LastOwner,
    #[error("the record changed while this request was being checked; reload and try again")]
    Stale,
    #[error("tenant {0} does not exist")]
    UnknownTenant(TenantId),
    #[error(
        "tenant {tenant} is at schema version {found}, newer than this build knows ({known}); upgrade nexus"
    )]
    TenantSchemaTooNew {
        tenant: TenantId,
        found: i32,
        known: i32,
    },
    #[error("{0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("storage I/O at {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl StoreError {
    /// Whether the fault is the service's (database, disk, configuration) rather than a rule
    /// of the data refusing the request: a caller retries these and never blames the input.
    pub fn is_service_fault(&self) -> bool {
        matches!(
            self,
            StoreError::Config(_)
                | StoreError::Database(_)
                | StoreError::Io { .. }
                | StoreError::TenantSchemaTooNew { .. }
        ) && !self.is_data_error()
    }

    /// Whether the database refused the data itself (SQLSTATE classes 22, data exceptions such
    /// as a NUL in text, and 23, integrity violations): asking again with the same data fails
    /// the same way, so it is the request's fault, not a reason to retry.
    pub fn is_data_error(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(error)) = self else {
            return false;
        };
        use sqlx::error::ErrorKind;
        matches!(
            error.kind(),
            ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation
        ) || (error.as_error().is::<sqlx::postgres::PgDatabaseError>()
            && error
                .code()
                .is_some_and(|code| code.starts_with("22") || code.starts_with("23")))
    }

    /// Turns a unique-constraint violation into `Conflict { field }`; anything else passes through.
    pub(crate) fn unique_as_conflict(error: sqlx::Error, field: &'static str) -> Self {
        match &error {
            sqlx::Error::Database(database_error) if database_error.is_unique_violation() => {
                StoreError::Conflict { field }
            }
            _ => StoreError::Database(error),
        }
    }
}
