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

/// Declares the settings a source may give, once: the layer's fields (all optional, so that
/// sources stack), the merge of two layers, and the environment variable of each.
macro_rules! settings_layer {
    ($($(#[$doc:meta])* $field:ident: $type:ty = $variable:literal,)*) => {
        /// One source of settings: every field optional, so that sources can be layered.
        #[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
        #[serde(deny_unknown_fields)]
        pub struct SettingsLayer {
            $($(#[$doc])* pub $field: Option<$type>,)*
        }

        impl SettingsLayer {
            /// Fields set in `self` win over those in `lower`.
            fn over(self, lower: SettingsLayer) -> SettingsLayer {
                SettingsLayer {
                    $($field: self.$field.or(lower.$field),)*
                }
            }

            /// Reads the `NEXUS_*` variables through `lookup` (the process environment in
            /// production, a map in tests). `DATABASE_URL` stands in for `NEXUS_DATABASE_URL`.
            pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
                let mut layer = SettingsLayer {
                    $($field: from_variable(lookup, $variable)?,)*
                };
                if layer.database_url.is_none() {
                    layer.database_url = from_variable(lookup, "DATABASE_URL")?;
                }
                Ok(layer)
            }
        }
    };
}

settings_layer! {
    listen: SocketAddr = "NEXUS_LISTEN",
    data: PathBuf = "NEXUS_DATA",
    database_url: SecretString = "NEXUS_DATABASE_URL",
    database_max_connections: u32 = "NEXUS_DATABASE_MAX_CONNECTIONS",
    database_listen_url: SecretString = "NEXUS_DATABASE_LISTEN_URL",
    jwt_secret: SecretString = "NEXUS_JWT_SECRET",
    log: String = "NEXUS_LOG",
    log_format: LogFormat = "NEXUS_LOG_FORMAT",
    metrics_listen: SocketAddr = "NEXUS_METRICS_LISTEN",
    max_body_bytes: usize = "NEXUS_MAX_BODY_BYTES",
    http_header_timeout_seconds: u64 = "NEXUS_HTTP_HEADER_TIMEOUT_SECONDS",
    http_body_timeout_seconds: u64 = "NEXUS_HTTP_BODY_TIMEOUT_SECONDS",
    http_idle_timeout_seconds: u64 = "NEXUS_HTTP_IDLE_TIMEOUT_SECONDS",
    http_max_connections: usize = "NEXUS_HTTP_MAX_CONNECTIONS",
    trusted_proxies: AddressRanges = "NEXUS_TRUSTED_PROXIES",
    registrations_per_hour: i32 = "NEXUS_REGISTRATIONS_PER_HOUR",
    public_url: String = "NEXUS_PUBLIC_URL",
    session_idle_minutes: u64 = "NEXUS_SESSION_IDLE_MINUTES",
    smtp_host: String = "NEXUS_SMTP_HOST",
    smtp_port: u16 = "NEXUS_SMTP_PORT",
    smtp_username: String = "NEXUS_SMTP_USERNAME",
    smtp_password: SecretString = "NEXUS_SMTP_PASSWORD",
    smtp_from: String = "NEXUS_SMTP_FROM",
    smtp_security: crate::mail::MailSecurity = "NEXUS_SMTP_SECURITY",
    stripe_secret_key: SecretString = "NEXUS_STRIPE_SECRET_KEY",
    stripe_webhook_secret: SecretString = "NEXUS_STRIPE_WEBHOOK_SECRET",
    stripe_api_base: String = "NEXUS_STRIPE_API_BASE",
    paystack_secret_key: SecretString = "NEXUS_PAYSTACK_SECRET_KEY",
    paystack_api_base: String = "NEXUS_PAYSTACK_API_BASE",
    mtn_momo_api_base: String = "NEXUS_MTN_MOMO_API_BASE",
}

fn from_variable<T: std::str::FromStr>(
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

impl std::str::FromStr for SecretString {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

/// How log lines are written to stderr: `text` for people, `json` (one object a line, with
/// the request's span: tenant, request id, route) for a log collector.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("{other:?} is not a log format: use text or json")),
        }
    }
}

/// Address ranges, such as the load balancers whose `X-Forwarded-For` is believed:
/// `10.0.0.5`, `10.0.0.0/24`, `::1`, comma-separated in the environment, a list in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressRanges(Vec<(std::net::IpAddr, u8)>);

impl AddressRanges {
    pub fn contains(&self, address: std::net::IpAddr) -> bool {
        self.0
            .iter()
            .any(|(network, prefix)| in_range(address, *network, *prefix))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether `address` is in `network/prefix`; an IPv4 address written as IPv6 (`::ffff:a.b.c.d`,
/// as a dual-stack socket reports it) counts as the IPv4 address.
fn in_range(address: std::net::IpAddr, network: std::net::IpAddr, prefix: u8) -> bool {
    use std::net::IpAddr;
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    };
    match (address, network) {
        (IpAddr::V4(address), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(address) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(address), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(address) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

fn parse_range(text: &str) -> Result<(std::net::IpAddr, u8), String> {
    let text = text.trim();
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address: std::net::IpAddr = address
        .parse()
        .map_err(|_| format!("{text:?} is not an IP address or range (e.g. 10.0.0.0/24)"))?;
    let widest = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => widest,
        Some(prefix) => prefix
            .parse::<u8>()
            .ok()
            .filter(|prefix| *prefix <= widest)
            .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {widest}"))?,
    };
    Ok((address, prefix))
}

impl std::str::FromStr for AddressRanges {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        text.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(parse_range)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl<'de> Deserialize<'de> for AddressRanges {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let listed = Vec::<String>::deserialize(deserializer)?;
        listed
            .iter()
            .map(|range| parse_range(range))
            .collect::<Result<_, _>>()
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

impl SettingsLayer {
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
    /// A direct PostgreSQL connection for live updates (LISTEN cannot pass through PgBouncer in
    /// transaction mode); the database URL when unset.
    pub database_listen_url: Option<SecretString>,
    /// Key for signing access tokens. Unset: a random key is generated once and kept in the
    /// store (control.db in the data directory, or the control schema), shared by every process.
    pub jwt_secret: Option<SecretString>,
    /// tracing filter, e.g. `info` or `nexus_server=debug,info`.
    pub log: String,
    /// Text for people or JSON lines for a collector.
    pub log_format: LogFormat,
    /// Where Prometheus scrapes `/metrics`, apart from the public address; unset, no metrics
    /// are served.
    pub metrics_listen: Option<SocketAddr>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How connections are bounded, against slow or idle clients.
    pub http: HttpLimits,
    /// Peers whose `X-Forwarded-For` names the client (a load balancer in front); from anyone
    /// else the header is ignored and the socket's address is the client's.
    pub trusted_proxies: AddressRanges,
    /// New organisations one client address may register in an hour.
    pub registrations_per_hour: i32,
    /// The address people and tills reach the service at (`https://nexus.example.com`): the
    /// links in emails, the enrolment command, and whether cookies are marked Secure. Unset:
    /// `http://` and the listen address.
    pub public_url: String,
    /// A dashboard session left unused this long ends.
    pub session_idle: std::time::Duration,
    /// Where email goes (password resets); no host means the log.
    pub mail: crate::mail::MailSettings,
    /// The payment providers; none configured means billing is off and no plan limit applies.
    pub billing: crate::billing::BillingSettings,
    /// Where the mobile-money networks are reached for requests to pay (each shop's own
    /// account is in its settings).
    pub momo: crate::momo::MomoSettings,
}

/// Bounds on connections, so that clients that send slowly, stall or sit idle cannot hold the
/// service's connections (each a task and its buffers) forever.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// A request's headers must arrive within this, counted from when the server starts waiting
    /// for them; a kept-alive connection waiting for its next request closes after it too.
    pub header_timeout: std::time::Duration,
    /// A request's whole body must arrive within this (408 otherwise).
    pub body_timeout: std::time::Duration,
    /// A connection on which no byte moves either way for this long is closed (a client that
    /// stopped reading an answer, or stalled half-way). A station's long pull waits at most
    /// 5 s less than this.
    pub idle_timeout: std::time::Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
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
        let listen = merged
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let mail = mail_settings(&merged);
        let billing = billing_settings(&merged);
        Settings {
            listen,
            data_dir: merged
                .data
                .unwrap_or_else(|| PathBuf::from(Self::DEFAULT_DATA_DIR)),
            database_url: merged.database_url,
            database_max_connections: merged.database_max_connections.unwrap_or(10),
            database_listen_url: merged.database_listen_url,
            jwt_secret: merged.jwt_secret,
            log: merged.log.unwrap_or_else(|| "info".to_owned()),
            log_format: merged.log_format.unwrap_or_default(),
            metrics_listen: merged.metrics_listen,
            max_body_bytes: merged
                .max_body_bytes
                .unwrap_or(Self::DEFAULT_MAX_BODY_BYTES),
            http: HttpLimits {
                header_timeout: seconds(merged.http_header_timeout_seconds, 30),
                body_timeout: seconds(merged.http_body_timeout_seconds, 60),
                idle_timeout: seconds(merged.http_idle_timeout_seconds, 90),
                max_connections: merged.http_max_connections.unwrap_or(1024).max(1),
            },
            trusted_proxies: merged.trusted_proxies.unwrap_or_default(),
            registrations_per_hour: merged.registrations_per_hour.unwrap_or(5).max(1),
            public_url: merged
                .public_url
                .map(|url| url.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| format!("http://{listen}")),
            session_idle: std::time::Duration::from_secs(
                merged.session_idle_minutes.unwrap_or(4 * 60).max(1) * 60,
            ),
            mail,
            billing,
            momo: crate::momo::MomoSettings {
                mtn_api_base: merged
                    .mtn_momo_api_base
                    .unwrap_or_else(|| crate::momo::MomoSettings::MTN_API_BASE.to_owned()),
                follow_up_every: crate::momo::MomoSettings::FOLLOW_UP_EVERY,
            },
        }
    }

    /// Records the address actually bound (port 0 becomes a real port). A public URL left at
    /// its default follows it, so links in mail point at this server.
    pub fn listening_on(&mut self, address: SocketAddr) {
        if self.public_url == format!("http://{}", self.listen) {
            self.public_url = format!("http://{address}");
        }
        self.listen = address;
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

fn mail_settings(merged: &SettingsLayer) -> crate::mail::MailSettings {
    let defaults = crate::mail::MailSettings::default();
    let security = merged.smtp_security.unwrap_or(defaults.security);
    crate::mail::MailSettings {
        host: merged.smtp_host.clone(),
        port: merged.smtp_port.unwrap_or_else(|| security.default_port()),
        username: merged.smtp_username.clone(),
        password: merged.smtp_password.clone(),
        from: merged.smtp_from.clone().unwrap_or(defaults.from),
        security,
    }
}

fn billing_settings(merged: &SettingsLayer) -> crate::billing::BillingSettings {
    use crate::billing::{BillingSettings, PaystackSettings, StripeSettings};
    BillingSettings {
        stripe: merged
            .stripe_secret_key
            .clone()
            .map(|secret_key| StripeSettings {
                secret_key,
                webhook_secret: merged.stripe_webhook_secret.clone(),
                api_base: merged
                    .stripe_api_base
                    .clone()
                    .unwrap_or_else(|| BillingSettings::STRIPE_API_BASE.to_owned()),
            }),
        paystack: merged
            .paystack_secret_key
            .clone()
            .map(|secret_key| PaystackSettings {
                secret_key,
                api_base: merged
                    .paystack_api_base
                    .clone()
                    .unwrap_or_else(|| BillingSettings::PAYSTACK_API_BASE.to_owned()),
            }),
        settle_every: BillingSettings::SETTLE_EVERY,
    }
}

/// A timeout in whole seconds, at least one.
fn seconds(configured: Option<u64>, default: u64) -> std::time::Duration {
    std::time::Duration::from_secs(configured.unwrap_or(default).max(1))
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
    fn a_default_public_url_follows_the_bound_port_and_a_chosen_one_stays() {
        let mut settings = Settings::defaults();
        settings.listen = "127.0.0.1:0".parse().expect("addr");
        settings.public_url = "http://127.0.0.1:0".to_owned();
        settings.listening_on("127.0.0.1:40123".parse().expect("addr"));
        assert_eq!(settings.public_url, "http://127.0.0.1:40123");
        assert_eq!(settings.listen.port(), 40123);
        let mut chosen = Settings::defaults();
        chosen.public_url = "https://shop.example".to_owned();
        chosen.listening_on("127.0.0.1:40124".parse().expect("addr"));
        assert_eq!(chosen.public_url, "https://shop.example");
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
    fn dashboard_and_mail_settings_follow_the_same_precedence_and_hide_the_password() {
        let file: SettingsLayer = toml::from_str(
            "public_url = \"https://file.example/\"\nsession_idle_minutes = 30\nsmtp_host = \"smtp.file.example\"\nsmtp_security = \"tls\"\nsmtp_from = \"Shop <file@example.com>\"\nsmtp_password = \"file-secret\"",
        )
        .expect("valid toml");
        let env = environment(&[
            ("NEXUS_PUBLIC_URL", "https://env.example"),
            ("NEXUS_SMTP_HOST", "smtp.env.example"),
            ("NEXUS_SMTP_USERNAME", "mailer"),
            ("NEXUS_SMTP_PASSWORD", "env-secret-9481"),
        ]);
        let settings = Settings::resolve(SettingsLayer::default(), env.clone(), Some(file.clone()));
        assert_eq!(
            settings.public_url, "https://env.example",
            "env wins over file"
        );
        assert_eq!(
            settings.session_idle,
            std::time::Duration::from_secs(30 * 60)
        );
        assert_eq!(settings.mail.host.as_deref(), Some("smtp.env.example"));
        assert_eq!(settings.mail.username.as_deref(), Some("mailer"));
        assert_eq!(
            settings.mail.security,
            crate::mail::MailSecurity::Tls,
            "file wins over default"
        );
        assert_eq!(settings.mail.port, 465, "the port follows implicit TLS");
        assert_eq!(settings.mail.from, "Shop <file@example.com>");
        assert_eq!(
            settings.mail.password.as_ref().map(SecretString::expose),
            Some("env-secret-9481")
        );
        let shown = format!("{settings:?}");
        assert!(!shown.contains("env-secret-9481"), "{shown}");

        let flags = SettingsLayer {
            public_url: Some("http://flag.example:8080/".to_owned()),
            smtp_port: Some(2525),
            session_idle_minutes: Some(0),
            ..Default::default()
        };
        let settings = Settings::resolve(flags, env, Some(file));
        assert_eq!(
            settings.public_url, "http://flag.example:8080",
            "flag wins, no slash"
        );
        assert_eq!(settings.mail.port, 2525);
        assert_eq!(
            settings.session_idle,
            std::time::Duration::from_secs(60),
            "an idle limit of zero would sign everyone out at once: one minute at least"
        );

        let defaults = Settings::defaults();
        assert_eq!(
            defaults.public_url,
            format!("http://{}", Settings::DEFAULT_LISTEN)
        );
        assert_eq!(
            defaults.session_idle,
            std::time::Duration::from_secs(4 * 60 * 60)
        );
        assert!(
            defaults.mail.host.is_none(),
            "no SMTP: mail goes to the log"
        );
        let bad = SettingsLayer::from_env(&|name| {
            (name == "NEXUS_SMTP_SECURITY").then(|| "ssl3".to_owned())
        });
        assert!(
            bad.is_err(),
            "an unknown SMTP security is refused, not ignored"
        );
    }

    #[test]
    fn billing_is_off_until_a_key_is_set_and_its_settings_follow_the_precedence() {
        assert!(
            !Settings::defaults().billing.enabled(),
            "a self-hosted shop pays nobody"
        );
        let file: SettingsLayer = toml::from_str(
            "stripe_secret_key = \"sk_file_5512\"\nstripe_webhook_secret = \"whsec_file_7730\"\nstripe_api_base = \"http://file.example\"\npaystack_api_base = \"http://file.example/paystack\"",
        )
        .expect("valid toml");
        let env = environment(&[
            ("NEXUS_STRIPE_API_BASE", "http://env.example"),
            ("NEXUS_PAYSTACK_SECRET_KEY", "sk_live_env_8841"),
        ]);
        let settings = Settings::resolve(SettingsLayer::default(), env.clone(), Some(file.clone()));
        let stripe = settings
            .billing
            .stripe
            .as_ref()
            .expect("stripe from the file");
        assert_eq!(stripe.secret_key.expose(), "sk_file_5512");
        assert_eq!(
            stripe.webhook_secret.as_ref().map(SecretString::expose),
            Some("whsec_file_7730")
        );
        assert_eq!(stripe.api_base, "http://env.example", "env wins over file");
        let paystack = settings
            .billing
            .paystack
            .as_ref()
            .expect("paystack from env");
        assert_eq!(paystack.secret_key.expose(), "sk_live_env_8841");
        assert_eq!(paystack.api_base, "http://file.example/paystack");
        let shown = format!("{settings:?}");
        for secret in ["sk_file_5512", "whsec_file_7730", "sk_live_env_8841"] {
            assert!(!shown.contains(secret), "{secret} shows in {shown}");
        }

        let flags = SettingsLayer {
            stripe_api_base: Some("http://127.0.0.1:9".to_owned()),
            ..Default::default()
        };
        let settings = Settings::resolve(flags, env, None);
        assert!(settings.billing.stripe.is_none(), "no key: no Stripe");
        let paystack = settings.billing.paystack.expect("paystack");
        assert_eq!(
            paystack.api_base,
            crate::billing::BillingSettings::PAYSTACK_API_BASE,
            "the real API when none is given"
        );
        let settings = Settings::resolve(
            SettingsLayer {
                stripe_api_base: Some("http://127.0.0.1:9".to_owned()),
                ..Default::default()
            },
            SettingsLayer::default(),
            Some(file),
        );
        assert_eq!(
            settings.billing.stripe.expect("stripe").api_base,
            "http://127.0.0.1:9",
            "a flag wins over the file"
        );
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
    fn metrics_are_off_and_logs_text_unless_asked_for() {
        let defaults = Settings::defaults();
        assert_eq!(defaults.metrics_listen, None);
        assert_eq!(defaults.log_format, LogFormat::Text);
        let file: SettingsLayer =
            toml::from_str("metrics_listen = \"127.0.0.1:9101\"\nlog_format = \"json\"")
                .expect("valid toml");
        let settings = Settings::resolve(
            SettingsLayer::default(),
            SettingsLayer::default(),
            Some(file.clone()),
        );
        assert_eq!(
            settings.metrics_listen,
            Some("127.0.0.1:9101".parse().expect("addr"))
        );
        assert_eq!(settings.log_format, LogFormat::Json);
        let env = environment(&[
            ("NEXUS_METRICS_LISTEN", "127.0.0.1:9102"),
            ("NEXUS_LOG_FORMAT", "TEXT"),
        ]);
        let settings = Settings::resolve(SettingsLayer::default(), env.clone(), Some(file.clone()));
        assert_eq!(
            settings.metrics_listen.map(|address| address.port()),
            Some(9102),
            "env wins over file"
        );
        assert_eq!(settings.log_format, LogFormat::Text);
        let flags = SettingsLayer {
            metrics_listen: Some("127.0.0.1:9103".parse().expect("addr")),
            log_format: Some(LogFormat::Json),
            ..Default::default()
        };
        let settings = Settings::resolve(flags, env, Some(file));
        assert_eq!(
            settings.metrics_listen.map(|address| address.port()),
            Some(9103),
            "flag wins"
        );
        assert_eq!(settings.log_format, LogFormat::Json);
        let bad =
            SettingsLayer::from_env(&|name| (name == "NEXUS_LOG_FORMAT").then(|| "xml".to_owned()));
        assert!(bad.is_err_and(|error| error.to_string().contains("NEXUS_LOG_FORMAT")));
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
    fn connection_limits_have_defaults_and_follow_the_precedence() {
        let defaults = Settings::defaults();
        assert_eq!(defaults.http.header_timeout.as_secs(), 30);
        assert_eq!(defaults.http.body_timeout.as_secs(), 60);
        assert_eq!(defaults.http.idle_timeout.as_secs(), 90);
        assert_eq!(defaults.http.max_connections, 1024);
        let file: SettingsLayer =
            toml::from_str("http_header_timeout_seconds = 7\nhttp_max_connections = 9\ntrusted_proxies = [\"10.0.0.0/8\"]")
                .expect("valid toml");
        let env = environment(&[("NEXUS_HTTP_HEADER_TIMEOUT_SECONDS", "5")]);
        let settings = Settings::resolve(SettingsLayer::default(), env, Some(file));
        assert_eq!(
            settings.http.header_timeout.as_secs(),
            5,
            "env wins over file"
        );
        assert_eq!(settings.http.max_connections, 9);
        assert!(
            settings
                .trusted_proxies
                .contains("10.1.2.3".parse().expect("ip"))
        );
        assert!(
            !settings
                .trusted_proxies
                .contains("11.1.2.3".parse().expect("ip"))
        );
    }

    #[test]
    fn address_ranges_parse_and_match() {
        let ranges: AddressRanges = "10.0.0.5, 192.168.0.0/16,::1".parse().expect("ranges");
        for inside in ["10.0.0.5", "192.168.44.1", "::1", "::ffff:10.0.0.5"] {
            assert!(ranges.contains(inside.parse().expect("ip")), "{inside}");
        }
        for outside in ["10.0.0.6", "192.169.0.1", "::2"] {
            assert!(!ranges.contains(outside.parse().expect("ip")), "{outside}");
        }
        assert!("10.0.0.0/33".parse::<AddressRanges>().is_err());
        assert!("ten".parse::<AddressRanges>().is_err());
        let everything: AddressRanges = "0.0.0.0/0".parse().expect("all");
        assert!(everything.contains("8.8.8.8".parse().expect("ip")));
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
