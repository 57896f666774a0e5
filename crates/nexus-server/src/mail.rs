//! Email for the merchant dashboard: password resets and the like.
//!
//! [`Mailer::send`] hands a plain-text message to the configured SMTP server. With no server
//! configured the message is written to the log at WARN instead: a self-hosted operator without
//! SMTP still gets the reset link, from the log. The SMTP password never appears in a log line,
//! in `Debug` output or in an error message.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use crate::settings::SecretString;

/// How long one delivery may take, from the TCP connect to the server's last reply. lettre's
/// async transport bounds only the connect, so without an outer deadline a server that accepts
/// and then says nothing would hold the request that sends the email for ever.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MailSecurity {
    /// Plain connection upgraded with STARTTLS (usually port 587). The upgrade is required: a
    /// server that does not offer it is an error, never a silent fall-back to plain text.
    #[default]
    StartTls,
    /// TLS from the first byte ("implicit TLS", SMTPS, usually port 465).
    Tls,
    /// No encryption at all; only sensible for a relay on the same machine or network.
    None,
}

impl MailSecurity {
    /// The port this kind of connection conventionally uses.
    pub fn default_port(self) -> u16 {
        match self {
            MailSecurity::StartTls => 587,
            MailSecurity::Tls => 465,
            MailSecurity::None => 25,
        }
    }

    /// The word [`MailSecurity::from_str`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            MailSecurity::StartTls => "starttls",
            MailSecurity::Tls => "tls",
            MailSecurity::None => "none",
        }
    }
}

impl fmt::Display for MailSecurity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown SMTP security {0:?}: expected \"starttls\", \"tls\" or \"none\"")]
pub struct UnknownMailSecurity(pub String);

impl FromStr for MailSecurity {
    type Err = UnknownMailSecurity;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        match word.trim().to_ascii_lowercase().as_str() {
            "starttls" => Ok(MailSecurity::StartTls),
            "tls" => Ok(MailSecurity::Tls),
            "none" => Ok(MailSecurity::None),
            _ => Err(UnknownMailSecurity(word.to_owned())),
        }
    }
}

// Through `FromStr`, so that a config file and the environment accept the same words.
impl<'de> Deserialize<'de> for MailSecurity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = String::deserialize(deserializer)?;
        word.parse().map_err(serde::de::Error::custom)
    }
}

/// Where and how email is sent. `host: None` means no SMTP server: messages go to the log.
#[derive(Clone, Debug)]
pub struct MailSettings {
    pub host: Option<String>,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    pub security: MailSecurity,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            host: None,
            port: MailSecurity::StartTls.default_port(),
            username: None,
            password: None,
            from: "Nexus <no-reply@nexus.example>".to_owned(),
            security: MailSecurity::StartTls,
        }
    }
}

/// A plain-text email to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// `Name <address>` or a bare address.
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// What became of a message that [`Mailer::send`] accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The SMTP server accepted it.
    Sent,
    /// No SMTP server is configured; the message was written to the log.
    Logged,
}

/// Why a message was not sent. Every message is meant for the operator and none contains the
/// SMTP password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the {role} address {value:?} is not a valid email address: {reason}")]
    InvalidAddress {
        role: &'static str,
        value: String,
        reason: String,
    },
    #[error("the email {field} contains a line break or another control character")]
    ControlCharacter { field: &'static str },
    #[error("SMTP settings: {0}")]
    Settings(&'static str),
    #[error("setting up TLS for the SMTP server {host}: {reason}")]
    Tls { host: String, reason: String },
    #[error("building the email: {0}")]
    Message(String),
    #[error("the SMTP server {server} refused the credentials of {username:?}: {reply}")]
    CredentialsRefused {
        server: String,
        username: String,
        reply: String,
    },
    #[error("the SMTP server {server} did not finish the delivery within {} s", .after.as_secs_f64())]
    Timeout { server: String, after: Duration },
    #[error(
        "the SMTP server {server} does not offer STARTTLS, so nothing was sent: the password and the email would have crossed the network unencrypted (use security \"tls\" for a server on port 465, or \"none\" only for a relay on a network you trust)"
    )]
    StartTlsUnavailable { server: String },
    #[error("sending email through the SMTP server {server}: {reason}")]
    Smtp { server: String, reason: String },
}

/// Sends email through SMTP, or writes it to the log when no server is configured.
pub struct Mailer {
    from: Mailbox,
    smtp: Option<Smtp>,
    timeout: Duration,
}

struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `host:port`, for messages.
    server: String,
    security: MailSecurity,
    username: Option<String>,
    /// The password as it travels (raw, and base64 as AUTH LOGIN and AUTH PLAIN send it), to
    /// scrub from server replies before they reach an error message: a server is free to echo
    /// what it was sent.
    secrets: Vec<String>,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = formatter.debug_struct("Mailer");
        debug.field("from", &self.from.to_string());
        match &self.smtp {
            Some(smtp) => debug
                .field("server", &smtp.server)
                .field("security", &smtp.security)
                .field("username", &smtp.username),
            None => debug.field("server", &"none: messages are logged"),
        };
        debug.field("timeout", &self.timeout).finish()
    }
}

impl Mailer {
    /// Checks the settings (the sender address, the credentials, the TLS host name) so that a
    /// mistake shows at start-up rather than at the first password reset.
    pub fn new(settings: MailSettings) -> Result<Self, MailError> {
        Self::with_timeout(settings, DEFAULT_TIMEOUT)
    }

    /// As [`Mailer::new`], with a deadline other than [`DEFAULT_TIMEOUT`] for each delivery.
    pub fn with_timeout(settings: MailSettings, timeout: Duration) -> Result<Self, MailError> {
        let from = mailbox("sender", &settings.from)?;
        // An empty variable means "unset" everywhere else in the settings.
        let host = settings
            .host
            .as_deref()
            .map(str::trim)
            .filter(|host| !host.is_empty());
        let Some(host) = host else {
            return Ok(Self {
                from,
                smtp: None,
                timeout,
            });
        };
        let server = format!("{host}:{}", settings.port);
        let tls_parameters = || {
            TlsParameters::new(host.to_owned()).map_err(|error| MailError::Tls {
                host: host.to_owned(),
                reason: error.to_string(),
            })
        };
        let tls = match settings.security {
            MailSecurity::StartTls => Tls::Required(tls_parameters()?),
            MailSecurity::Tls => Tls::Wrapper(tls_parameters()?),
            MailSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.port)
            .timeout(Some(timeout))
            .tls(tls);
        let username = settings.username.filter(|username| !username.is_empty());
        let password = settings
            .password
            .filter(|password| !password.expose().is_empty());
        let mut secrets = Vec::new();
        match (&username, &password) {
            (Some(username), Some(password)) => {
                let password = password.expose();
                secrets = vec![
                    password.to_owned(),
                    STANDARD.encode(password),
                    STANDARD.encode(format!("\0{username}\0{password}")),
                ];
                if settings.security == MailSecurity::None && !is_loopback(host) {
                    tracing::warn!(
                        server = %server,
                        "the SMTP password will cross the network unencrypted (security \"none\"); use \"starttls\" or \"tls\" unless the relay is on a network you trust"
                    );
                }
                builder =
                    builder.credentials(Credentials::new(username.clone(), password.to_owned()));
            }
            (Some(_), None) => {
                return Err(MailError::Settings(
                    "an SMTP username is set without a password",
                ));
            }
            (None, Some(_)) => {
                return Err(MailError::Settings(
                    "an SMTP password is set without a username",
                ));
            }
            (None, None) => {}
        }
        // Reserved domains are refused by every real relay, and silently by some.
        if from.email.domain().ends_with(".example") {
            tracing::warn!(
                from = %from,
                "the email sender is an example address; set NEXUS_SMTP_FROM to an address of your own domain"
            );
        }
        Ok(Self {
            from,
            smtp: Some(Smtp {
                transport: builder.build(),
                server,
                security: settings.security,
                username,
                secrets,
            }),
            timeout,
        })
    }

    /// Whether an SMTP server is configured (otherwise messages are only logged).
    pub fn is_configured(&self) -> bool {
        self.smtp.is_some()
    }

    /// Sends `email`, or logs it when no SMTP server is configured.
    pub async fn send(&self, email: Email) -> Result<Delivery, MailError> {
        if email.subject.chars().any(char::is_control) {
            return Err(MailError::ControlCharacter { field: "subject" });
        }
        let to = mailbox("recipient", &email.to)?;
        let Some(smtp) = &self.smtp else {
            tracing::warn!(
                to = %to,
                subject = %email.subject,
                body = %email.text,
                "email not sent: no SMTP server is configured; set NEXUS_SMTP_HOST (with NEXUS_SMTP_FROM, NEXUS_SMTP_USERNAME and NEXUS_SMTP_PASSWORD) to send email"
            );
            return Ok(Delivery::Logged);
        };
        // lettre's default Message-ID ends in "@localhost", which spam filters dislike.
        let message_id = format!(
            "<{}@{}>",
            uuid::Uuid::now_v7().simple(),
            self.from.email.domain()
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.clone())
            .subject(email.subject.as_str())
            .message_id(Some(message_id))
            .header(ContentType::TEXT_PLAIN)
            .body(email.text)
            .map_err(|error| MailError::Message(error.to_string()))?;
        match tokio::time::timeout(self.timeout, smtp.transport.send(message)).await {
            Ok(Ok(_)) => {
                tracing::info!(to = %to, subject = %email.subject, server = %smtp.server, "email sent");
                Ok(Delivery::Sent)
            }
            Ok(Err(error)) if error.is_timeout() => Err(MailError::Timeout {
                server: smtp.server.clone(),
                after: self.timeout,
            }),
            Ok(Err(error)) => Err(smtp.error(&error)),
            Err(_) => Err(MailError::Timeout {
                server: smtp.server.clone(),
                after: self.timeout,
            }),
        }
    }
}

impl Smtp {
    fn error(&self, error: &lettre::transport::smtp::Error) -> MailError {
        let reason = self.redact(error.to_string());
        let refused_credentials = error.status().is_some_and(|code| code.to_string() == "535");
        // lettre says so with a client error of its own, before sending anything else.
        if self.security == MailSecurity::StartTls
            && error.is_client()
            && reason.contains("STARTTLS")
        {
            return MailError::StartTlsUnavailable {
                server: self.server.clone(),
            };
        }
        match (&self.username, refused_credentials) {
            (Some(username), true) => MailError::CredentialsRefused {
                server: self.server.clone(),
                username: username.clone(),
                reply: reason,
            },
            _ => MailError::Smtp {
                server: self.server.clone(),
                reason,
            },
        }
    }

    fn redact(&self, mut text: String) -> String {
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "[redacted]");
            }
        }
        text
    }
}

fn mailbox(role: &'static str, value: &str) -> Result<Mailbox, MailError> {
    // Checked before parsing, whatever the parser would make of it: a line break in an address
    // is how a header is injected.
    if value.chars().any(char::is_control) {
        return Err(MailError::ControlCharacter {
            field: if role == "sender" {
                "sender address"
            } else {
                "recipient address"
            },
        });
    }
    value
        .trim()
        .parse::<Mailbox>()
        .map_err(|error| MailError::InvalidAddress {
            role,
            value: value.to_owned(),
            reason: error.to_string(),
        })
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_words_parse_in_any_case_and_others_are_refused() {
        assert_eq!("starttls".parse(), Ok(MailSecurity::StartTls));
        assert_eq!(" TLS ".parse(), Ok(MailSecurity::Tls));
        assert_eq!("None".parse(), Ok(MailSecurity::None));
        let error = "ssl".parse::<MailSecurity>().unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"unknown SMTP security "ssl": expected "starttls", "tls" or "none""#
        );
        for security in [
            MailSecurity::StartTls,
            MailSecurity::Tls,
            MailSecurity::None,
        ] {
            assert_eq!(security.as_str().parse(), Ok(security));
        }
    }

    #[test]
    fn security_deserializes_from_the_same_words() {
        #[derive(Deserialize)]
        struct File {
            security: MailSecurity,
        }
        let file: File = toml::from_str(r#"security = "StartTLS""#).unwrap();
        assert_eq!(file.security, MailSecurity::StartTls);
        let error = toml::from_str::<File>(r#"security = "ssl""#)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("expected \"starttls\""), "{error}");
    }

    #[test]
    fn defaults_submit_on_587_with_starttls_and_no_server() {
        let settings = MailSettings::default();
        assert_eq!(settings.port, 587);
        assert_eq!(settings.security, MailSecurity::StartTls);
        assert!(settings.host.is_none());
        assert!(!Mailer::new(settings).unwrap().is_configured());
        assert_eq!(MailSecurity::Tls.default_port(), 465);
    }

    #[test]
    fn neither_settings_nor_the_mailer_show_the_password() {
        let settings = MailSettings {
            host: Some("smtp.example.com".to_owned()),
            username: Some("nexus".to_owned()),
            password: Some(SecretString::new("hunter2-smtp")),
            ..MailSettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2-smtp"), "{shown}");
        let mailer = Mailer::new(settings).unwrap();
        let shown = format!("{mailer:?}");
        assert!(!shown.contains("hunter2-smtp"), "{shown}");
        assert!(shown.contains("smtp.example.com:587"), "{shown}");
    }

    #[test]
    fn bad_settings_are_errors_at_start_up() {
        let bad_from = MailSettings {
            from: "Nexus <not an address>".to_owned(),
            ..MailSettings::default()
        };
        assert!(matches!(
            Mailer::new(bad_from),
            Err(MailError::InvalidAddress { role: "sender", .. })
        ));
        let injected_from = MailSettings {
            from: "a@b.example\r\nBcc: victim@example.com".to_owned(),
            ..MailSettings::default()
        };
        assert!(matches!(
            Mailer::new(injected_from),
            Err(MailError::ControlCharacter { .. })
        ));
        let username_only = MailSettings {
            host: Some("smtp.example.com".to_owned()),
            username: Some("nexus".to_owned()),
            ..MailSettings::default()
        };
        assert!(matches!(
            Mailer::new(username_only),
            Err(MailError::Settings(_))
        ));
        let password_only = MailSettings {
            host: Some("smtp.example.com".to_owned()),
            password: Some(SecretString::new("secret")),
            ..MailSettings::default()
        };
        assert!(matches!(
            Mailer::new(password_only),
            Err(MailError::Settings(_))
        ));
    }

    #[test]
    fn an_empty_host_means_no_server() {
        let settings = MailSettings {
            host: Some("  ".to_owned()),
            ..MailSettings::default()
        };
        assert!(!Mailer::new(settings).unwrap().is_configured());
    }

    #[test]
    fn the_password_is_scrubbed_from_what_a_server_echoes() {
        let settings = MailSettings {
            host: Some("smtp.example.com".to_owned()),
            username: Some("nexus".to_owned()),
            password: Some(SecretString::new("hunter2-smtp")),
            ..MailSettings::default()
        };
        let mailer = Mailer::new(settings).unwrap();
        let smtp = mailer.smtp.as_ref().unwrap();
        let plain = STANDARD.encode("\0nexus\0hunter2-smtp");
        let login = STANDARD.encode("hunter2-smtp");
        let echoed = format!("535 bad: hunter2-smtp / {plain} / {login}");
        assert_eq!(
            smtp.redact(echoed),
            "535 bad: [redacted] / [redacted] / [redacted]"
        );
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["localhost", "127.0.0.1", "::1", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["smtp.example.com", "10.0.0.1"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
