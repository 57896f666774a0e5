//! Email through the real SMTP client (lettre) to the SMTP sink on 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nexus_server::SecretString;
use nexus_server::mail::{Delivery, Email, MailError, MailSecurity, MailSettings, Mailer};
use nexus_testkit::smtp::SmtpSink;

const PASSWORD: &str = "correct-horse-smtp-7";
const USERNAME: &str = "nexus-mailer";
const WAIT: Duration = Duration::from_secs(10);

fn settings(port: u16, security: MailSecurity, password: Option<&str>) -> MailSettings {
    MailSettings {
        host: Some("127.0.0.1".to_owned()),
        port,
        username: password.map(|_| USERNAME.to_owned()),
        password: password.map(SecretString::new),
        from: "Ama Provisions <no-reply@amaprovisions.gh>".to_owned(),
        security,
    }
}

fn reset_email() -> Email {
    Email {
        to: "Efua Mensah <efua@example.gh>".to_owned(),
        // Not ASCII, so the subject travels as RFC 2047 encoded words.
        subject: "Reset your Nexus password — Ama Provisions".to_owned(),
        // The cedi sign forces a transfer encoding; the leading dot must survive dot-stuffing.
        text: "Akwaaba Efua,\n\n\
               Open this link within an hour to choose a new password:\n\
               https://dash.nexus.example/reset?token=abc123=xyz&tenant=ama\n\
               .This line starts with a dot.\n\
               Nothing to pay: ₵0.00\n"
            .to_owned(),
    }
}

/// Everything logged on this thread while the guard lives, at every level.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Fails the test, rather than hanging it, if a send outlives every deadline it should have.
async fn send_or_fail(mailer: &Mailer) -> Result<Delivery, MailError> {
    tokio::time::timeout(Duration::from_secs(30), mailer.send(reset_email()))
        .await
        .expect("the send hung past its own deadline")
}

/// A port on 127.0.0.1 that nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

// Current-thread tests: the log capture is per thread, and the sink shares the thread.
#[tokio::test]
async fn a_message_goes_through_smtp_with_authentication() {
    let sink = SmtpSink::start(Some(PASSWORD)).await;
    let (logs, _guard) = Logs::capture();
    let mailer = Mailer::new(settings(sink.port(), MailSecurity::None, Some(PASSWORD))).unwrap();
    let email = reset_email();

    let delivery = mailer.send(email.clone()).await.unwrap();

    assert_eq!(delivery, Delivery::Sent);
    let messages = sink.wait_for(1, WAIT).await;
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail.from, "no-reply@amaprovisions.gh");
    assert_eq!(mail.to, ["efua@example.gh"]);
    assert_eq!(mail.authenticated_as.as_deref(), Some(USERNAME));
    assert_eq!(
        mail.header("From").as_deref(),
        Some("\"Ama Provisions\" <no-reply@amaprovisions.gh>")
    );
    assert_eq!(
        mail.header("To").as_deref(),
        Some("\"Efua Mensah\" <efua@example.gh>")
    );
    assert_eq!(mail.header("Subject"), Some(email.subject.clone()));
    let message_id = mail.header("Message-ID").unwrap();
    assert!(
        message_id.ends_with("@amaprovisions.gh>"),
        "the Message-ID names the sender's domain: {message_id}"
    );
    // lettre ends DATA with CRLF.CRLF after a body that already ends in CRLF, so the message as
    // stored (here as by any server) has one more empty last line than the text had.
    let body = mail.text_body();
    assert_eq!(
        body.trim_end_matches('\n'),
        email.text.trim_end_matches('\n')
    );
    assert!(
        mail.data.contains("token=3Dabc123"),
        "the body travelled quoted-printable, so decoding was exercised: {}",
        mail.data
    );
    assert!(!mail.data.contains(PASSWORD));

    let logs = logs.text();
    assert!(logs.contains("email sent"), "{logs}");
    assert!(
        !logs.contains(PASSWORD),
        "the password is never logged: {logs}"
    );
}

#[tokio::test]
async fn a_wrong_password_is_an_error_that_does_not_show_the_password() {
    let sink = SmtpSink::start(Some(PASSWORD)).await;
    let (logs, _guard) = Logs::capture();
    let wrong = "wrong-password-2468";
    let mailer = Mailer::new(settings(sink.port(), MailSecurity::None, Some(wrong))).unwrap();

    let error = mailer.send(reset_email()).await.unwrap_err();

    assert!(
        matches!(error, MailError::CredentialsRefused { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("535"), "the server's reply is kept: {text}");
    assert!(
        text.contains(&format!("127.0.0.1:{}", sink.port())),
        "{text}"
    );
    assert!(text.contains(USERNAME), "{text}");
    for shown in [
        text,
        format!("{error:?}"),
        format!("{mailer:?}"),
        logs.text(),
    ] {
        assert!(!shown.contains(wrong), "the password leaked: {shown}");
    }
    assert_eq!(sink.connections(), 1, "the mailer did reach the server");
    assert!(sink.messages().await.is_empty());
}

#[tokio::test]
async fn without_a_host_the_message_is_logged_and_nothing_connects() {
    let sink = SmtpSink::start(None).await;
    let (logs, _guard) = Logs::capture();
    let mailer = Mailer::new(MailSettings {
        host: None,
        ..settings(sink.port(), MailSecurity::None, Some(PASSWORD))
    })
    .unwrap();
    let email = reset_email();

    let delivery = mailer.send(email.clone()).await.unwrap();

    assert_eq!(delivery, Delivery::Logged);
    assert!(!mailer.is_configured());
    let logs = logs.text();
    assert!(logs.contains("WARN"), "{logs}");
    assert!(
        logs.contains("email not sent: no SMTP server is configured; set NEXUS_SMTP_HOST"),
        "{logs}"
    );
    assert!(logs.contains("efua@example.gh"), "the recipient: {logs}");
    assert!(logs.contains(&email.subject), "the subject: {logs}");
    assert!(
        logs.contains("https://dash.nexus.example/reset?token=abc123=xyz&tenant=ama"),
        "the operator can read the link: {logs}"
    );
    assert!(!logs.contains(PASSWORD), "{logs}");
    assert_eq!(sink.connections(), 0);
    assert!(sink.messages().await.is_empty());
}

#[tokio::test]
async fn header_injection_and_bad_addresses_are_refused_before_connecting() {
    let sink = SmtpSink::start(None).await;
    let mailer = Mailer::new(settings(sink.port(), MailSecurity::None, None)).unwrap();
    for subject in [
        "Reset\r\nBcc: everyone@example.com",
        "Reset\nBcc: everyone@example.com",
        "Reset\rBcc: everyone@example.com",
    ] {
        let email = Email {
            subject: subject.to_owned(),
            ..reset_email()
        };
        let error = mailer.send(email).await.unwrap_err();
        assert!(
            matches!(error, MailError::ControlCharacter { field: "subject" }),
            "{subject:?}: {error:?}"
        );
    }
    let injected_to = Email {
        to: "efua@example.gh\r\nBcc: everyone@example.com".to_owned(),
        ..reset_email()
    };
    assert!(matches!(
        mailer.send(injected_to).await,
        Err(MailError::ControlCharacter { .. })
    ));
    for to in ["not an address", "efua@", "Efua <efua@example.gh"] {
        let email = Email {
            to: to.to_owned(),
            ..reset_email()
        };
        let error = mailer.send(email).await.unwrap_err();
        assert!(
            matches!(
                error,
                MailError::InvalidAddress {
                    role: "recipient",
                    ..
                }
            ),
            "{to:?}: {error:?}"
        );
        assert!(error.to_string().contains(to), "{error}");
    }
    assert_eq!(sink.connections(), 0);
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_not_a_hang() {
    let timeout = Duration::from_secs(3);
    let mailer = Mailer::with_timeout(
        settings(closed_port().await, MailSecurity::None, None),
        timeout,
    )
    .unwrap();
    let started = Instant::now();

    let error = send_or_fail(&mailer).await.unwrap_err();

    assert!(started.elapsed() < timeout, "took {:?}", started.elapsed());
    assert!(matches!(error, MailError::Smtp { .. }), "{error:?}");
    assert!(error.to_string().contains("127.0.0.1:"), "{error}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Bound but never accepting: the kernel completes the TCP handshake and the client then
    // waits for a greeting that never comes.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let timeout = Duration::from_millis(500);
    let mailer = Mailer::with_timeout(settings(port, MailSecurity::None, None), timeout).unwrap();
    let started = Instant::now();

    let error = send_or_fail(&mailer).await.unwrap_err();

    let elapsed = started.elapsed();
    assert!(matches!(error, MailError::Timeout { .. }), "{error:?}");
    assert!(elapsed >= timeout, "gave up early, after {elapsed:?}");
    assert!(elapsed < timeout * 4, "took {elapsed:?}");
    assert!(error.to_string().contains("within 0.5 s"), "{error}");
    drop(silent);
}

#[tokio::test]
async fn starttls_is_required_not_attempted() {
    // The sink takes mail without authentication, so a client that fell back to plain text
    // would deliver the message.
    let sink = SmtpSink::start(None).await;
    let mailer = Mailer::new(settings(sink.port(), MailSecurity::StartTls, None)).unwrap();

    let error = send_or_fail(&mailer).await.unwrap_err();

    assert!(
        matches!(error, MailError::StartTlsUnavailable { .. }),
        "{error:?}"
    );
    assert_eq!(sink.connections(), 1, "the mailer did reach the server");
    assert!(
        sink.messages().await.is_empty(),
        "nothing went in plain text"
    );
}

#[tokio::test]
async fn implicit_tls_against_a_plain_server_fails() {
    let sink = SmtpSink::start(None).await;
    let mailer = Mailer::new(settings(sink.port(), MailSecurity::Tls, None)).unwrap();

    let error = send_or_fail(&mailer).await.unwrap_err();

    assert!(matches!(error, MailError::Smtp { .. }), "{error:?}");
    assert_eq!(sink.connections(), 1, "the mailer did reach the server");
    assert!(sink.messages().await.is_empty());
}
