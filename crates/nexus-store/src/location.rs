use std::path::PathBuf;

use crate::StoreError;

/// Where the server keeps its data, decided once at startup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded default: `control.db` and `tenants/*.db` under a data directory.
    Sqlite { data_dir: PathBuf },
    /// A PostgreSQL database: control schema plus one schema per tenant.
    Postgres { url: String },
}

impl StoreLocation {
    /// With no URL the embedded SQLite store under `data_dir` is used. A URL must be
    /// `postgres://` or `postgresql://`; anything else is refused rather than guessed at, so a
    /// typo never quietly starts an empty SQLite store.
    pub fn from_url(database_url: Option<&str>, data_dir: PathBuf) -> Result<Self, StoreError> {
        let Some(url) = database_url.map(str::trim).filter(|url| !url.is_empty()) else {
            return Ok(StoreLocation::Sqlite { data_dir });
        };
        let scheme = url
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("postgres" | "postgresql") => Ok(StoreLocation::Postgres {
                url: url.to_owned(),
            }),
            Some(other) => Err(StoreError::Config(format!(
                "unsupported database URL scheme {other:?}: use postgres://user@host/db for PostgreSQL, \
                 or leave the database URL unset to use the embedded SQLite store under --data DIR"
            ))),
            None => Err(StoreError::Config(format!(
                "{:?} is not a database URL: expected postgres://user@host/db, or leave it unset to use \
                 the embedded SQLite store under --data DIR",
                redact_url(url)
            ))),
        }
    }
}

/// The URL with any password replaced, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(index) => rest.split_at(index),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials
                .split_once(':')
                .map_or(credentials, |(user, _)| user);
            let hidden = if credentials.contains(':') {
                ":[redacted]"
            } else {
                ""
            };
            format!("{user}{hidden}@{host}")
        }
        None => authority.to_owned(),
    };
    // A password may also ride in the query string (`?password=…`).
    let path = match path.split_once('?') {
        Some((before, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=[redacted]")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{before}?{}", pairs.join("&"))
        }
        None => path.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_or_are_refused() {
        let dir = PathBuf::from("data");
        assert_eq!(
            StoreLocation::from_url(None, dir.clone()).ok(),
            Some(StoreLocation::Sqlite {
                data_dir: dir.clone()
            })
        );
        assert_eq!(
            StoreLocation::from_url(Some("  "), dir.clone()).ok(),
            Some(StoreLocation::Sqlite {
                data_dir: dir.clone()
            })
        );
        assert!(matches!(
            StoreLocation::from_url(Some("postgresql://u@h/db"), dir.clone()),
            Ok(StoreLocation::Postgres { .. })
        ));
        for bad in [
            "postgress://u@h/db",
            "sqlite://nexus.db",
            "mysql://h/db",
            "nexus.db",
            "localhost:5432",
        ] {
            let error = StoreLocation::from_url(Some(bad), dir.clone())
                .err()
                .map(|error| error.to_string());
            assert!(
                error.is_some_and(|message| message.contains("postgres://")),
                "{bad}"
            );
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/nexus"),
            "postgres://app:[redacted]@db:5432/nexus"
        );
        assert_eq!(
            redact_url("postgres://app@db/nexus"),
            "postgres://app@db/nexus"
        );
        assert_eq!(
            redact_url("postgres://db/nexus?password=x"),
            "postgres://db/nexus?password=[redacted]"
        );
    }
}
