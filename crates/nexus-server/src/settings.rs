//! Typed settings.
//!
//! Precedence, highest first (documented in the README and tested below):
//! 1. command-line flags;
//! 2. `NEXUS_*` environment variables (`DATABASE_URL` is read too, below `NEXUS_DATABASE_URL`);
//! 3. the config file given by `--config FILE` or `NEXUS_CONFIG` (TOML, same keys in snake case);
//! 4. built-in defaults.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use nexus_store::{StoreLocation, redact_url};
use serde::Deserialize;

/// A secret string that never shows in `Debug` output or logs.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

/// One source of settings: every field optional, so that sources can be layered.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SettingsLayer {
    pub listen: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub database_url: Option<SecretString>,
    pub database_max_connections: Option<u32>,
    pub jwt_secret: Option<SecretString>,
    pub log: Option<String>,
    pub max_body_bytes: Option<usize>,
}

impl SettingsLayer {
    /// Fields set in `self` win over those in `lower`.
    fn over(self, lower: SettingsLayer) -> SettingsLayer {
        SettingsLayer {
            listen: self.listen.or(lower.listen),
            data: self.data.or(lower.data),
            database_url: self.database_url.or(lower.database_url),
            database_max_connections: self
                .database_max_connections
                .or(lower.database_max_connections),
            jwt_secret: self.jwt_secret.or(lower.jwt_secret),
            log: self.log.or(lower.log),
            max_body_bytes: self.max_body_bytes.or(lower.max_body_bytes),
        }
    }

    /// Reads the `NEXUS_*` variables through `lookup` (the process environment in production, a
    /// map in tests).
    pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        fn parsed<T: std::str::FromStr>(
            lookup: &dyn Fn(&str) -> Option<String>,
            name: &'static str,
        ) -> Result<Option<T>, SettingsError>
        where
            T::Err: fmt::Display,
        {
            match lookup(name).filter(|value| !value.trim().is_empty()) {
                None => Ok(None),
                Some(value) => {
                    value
                        .trim()
                        .parse()
                        .map(Some)
                        .map_err(|error: T::Err| SettingsError::Invalid {
                            source_name: name.to_owned(),
                            message: error.to_string(),
                        })
                }
            }
        }
        let non_empty = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        Ok(SettingsLayer {
            listen: parsed(lookup, "NEXUS_LISTEN")?,
            data: non_empty("NEXUS_DATA").map(PathBuf::from),
            database_url: non_empty("NEXUS_DATABASE_URL")
                .or_else(|| non_empty("DATABASE_URL"))
                .map(SecretString),
            database_max_connections: parsed(lookup, "NEXUS_DATABASE_MAX_CONNECTIONS")?,
            jwt_secret: non_empty("NEXUS_JWT_SECRET").map(SecretString),
            log: non_empty("NEXUS_LOG"),
            max_body_bytes: parsed(lookup, "NEXUS_MAX_BODY_BYTES")?,
        })
    }

    pub fn from_toml_file(path: &Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|error| SettingsError::Invalid {
            source_name: path.display().to_string(),
            message: error.to_string(),
        })?;
        toml::from_str(&text).map_err(|error| SettingsError::Invalid {
            source_name: path.display().to_string(),
            message: error.to_string(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid setting in {source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
}

/// The service's settings, complete.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Data directory of the embedded SQLite store (control.db and tenants/).
    pub data_dir: PathBuf,
    /// PostgreSQL URL; unset means the embedded SQLite store.
    pub database_url: Option<SecretString>,
    /// Size of the PostgreSQL connection pool.
    pub database_max_connections: u32,
    /// Key for signing access tokens. Unset: a random key is generated once and kept in the
    /// store (control.db in the data directory, or the control schema), shared by every process.
    pub jwt_secret: Option<SecretString>,
    /// tracing filter, e.g. `info` or `nexus_server=debug,info`.
    pub log: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Settings {
    pub const DEFAULT_LISTEN: &'static str = "127.0.0.1:8080";
    pub const DEFAULT_DATA_DIR: &'static str = "nexus-data";
    pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

    /// Layers the sources in the documented precedence: flags, environment, file, defaults.
    pub fn resolve(
        flags: SettingsLayer,
        environment: SettingsLayer,
        file: Option<SettingsLayer>,
    ) -> Self {
        let merged = flags.over(environment).over(file.unwrap_or_default());
        Settings {
            listen: merged
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir: merged
                .data
                .unwrap_or_else(|| PathBuf::from(Self::DEFAULT_DATA_DIR)),
            database_url: merged.database_url,
            database_max_connections: merged.database_max_connections.unwrap_or(10),
            jwt_secret: merged.jwt_secret,
            log: merged.log.unwrap_or_else(|| "info".to_owned()),
            max_body_bytes: merged
                .max_body_bytes
                .unwrap_or(Self::DEFAULT_MAX_BODY_BYTES),
        }
    }

    /// Settings for tests and tools: defaults only.
    pub fn defaults() -> Self {
        Self::resolve(SettingsLayer::default(), SettingsLayer::default(), None)
    }

    pub fn store_location(&self) -> Result<StoreLocation, nexus_store::StoreError> {
        StoreLocation::from_url(
            self.database_url.as_ref().map(SecretString::expose),
            self.data_dir.clone(),
        )
    }

    /// Where the data lives, safe to log.
    pub fn describe_store(&self) -> String {
        match self.store_location() {
            Ok(StoreLocation::Postgres { url }) => format!("PostgreSQL at {}", redact_url(&url)),
            Ok(StoreLocation::Sqlite { data_dir }) => {
                format!("SQLite under {}", data_dir.display())
            }
            Err(_) => "an unusable database URL".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn environment(pairs: &[(&str, &str)]) -> SettingsLayer {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        SettingsLayer::from_env(&|name| map.get(name).cloned()).expect("valid environment")
    }

    #[test]
    fn defaults_are_the_embedded_store_on_localhost() {
        let settings = Settings::defaults();
        assert_eq!(settings.listen.to_string(), Settings::DEFAULT_LISTEN);
        assert_eq!(settings.data_dir, PathBuf::from("nexus-data"));
        assert!(settings.database_url.is_none());
        assert!(matches!(
            settings.store_location(),
            Ok(StoreLocation::Sqlite { .. })
        ));
    }

    #[test]
    fn flags_beat_environment_beat_file_beat_defaults() {
        let file: SettingsLayer = toml::from_str(
            "listen = \"127.0.0.1:9001\"\ndata = \"/file\"\nlog = \"warn\"\nmax_body_bytes = 10\ndatabase_max_connections = 3",
        )
        .expect("valid toml");
        let env = environment(&[("NEXUS_LISTEN", "127.0.0.1:9002"), ("NEXUS_DATA", "/env")]);
        let flags = SettingsLayer {
            listen: Some("127.0.0.1:9003".parse().expect("addr")),
            ..Default::default()
        };

        let settings = Settings::resolve(flags, env.clone(), Some(file.clone()));
        assert_eq!(settings.listen.port(), 9003, "flag wins over env and file");
        assert_eq!(
            settings.data_dir,
            PathBuf::from("/env"),
            "env wins over file"
        );
        assert_eq!(settings.log, "warn", "file wins over default");
        assert_eq!(settings.max_body_bytes, 10);
        assert_eq!(settings.database_max_connections, 3);

        let settings = Settings::resolve(SettingsLayer::default(), env, Some(file));
        assert_eq!(settings.listen.port(), 9002, "env wins over file");
    }

    #[test]
    fn nexus_database_url_beats_plain_database_url() {
        let env = environment(&[
            ("DATABASE_URL", "postgres://a@h/one"),
            ("NEXUS_DATABASE_URL", "postgres://a@h/two"),
        ]);
        assert_eq!(
            env.database_url.as_ref().map(SecretString::expose),
            Some("postgres://a@h/two")
        );
        let env = environment(&[("DATABASE_URL", "postgres://a@h/one")]);
        assert_eq!(
            env.database_url.as_ref().map(SecretString::expose),
            Some("postgres://a@h/one")
        );
    }

    #[test]
    fn bad_values_name_their_source() {
        let map: HashMap<&str, &str> = [("NEXUS_LISTEN", "not-an-address")].into();
        let error = SettingsLayer::from_env(&|name| map.get(name).map(|value| value.to_string()));
        assert!(error.is_err_and(|error| error.to_string().contains("NEXUS_LISTEN")));
        let unknown_key = toml::from_str::<SettingsLayer>("listn = \"127.0.0.1:1\"");
        assert!(
            unknown_key.is_err(),
            "a misspelt key in the file is refused, not ignored"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let settings = Settings::resolve(
            SettingsLayer {
                database_url: Some(SecretString::new("postgres://app:hunter2@db/nexus")),
                jwt_secret: Some(SecretString::new("very-secret-signing-key")),
                ..Default::default()
            },
            SettingsLayer::default(),
            None,
        );
        let printed = format!("{settings:?} {}", settings.describe_store());
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("very-secret"), "{printed}");
    }
}
