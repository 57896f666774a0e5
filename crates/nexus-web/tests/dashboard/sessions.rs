//! What a security reviewer checks: CSRF, the cookie's flags, idle expiry, sessions ended on
//! deactivation and by a password reset, the sign-in throttle, the CSP, and escaping.

use std::time::Duration;

use nexus_server::SecretString;
use nexus_server::mail::MailSecurity;
use nexus_testkit::smtp::SmtpSink;
use nexus_testkit::{Backend, TestServer, backend_tests};

use crate::client::Browser;
use crate::first_run::sign_up;
use crate::shop::shop;

backend_tests!(
    a_post_without_the_csrf_token_is_refused_and_changes_nothing,
    an_idle_session_expires_and_a_busy_one_does_not,
    deactivating_someone_ends_their_dashboard_session,
    the_cookie_is_secure_when_the_public_url_is_https,
    wrong_passwords_are_throttled_on_the_sign_in_page,
    a_password_is_reset_by_email_and_the_link_works_once,
    hostile_names_show_as_text_under_a_strict_policy,
);

async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let browser = sign_up(&server, "Csrf Stores", "owner@csrf.example").await;
    browser.get("/products/new").await;
    let fields = [
        ("sku", "FORGED"),
        ("name", "Forged product"),
        ("price", "1.00"),
        ("tax_class", "standard"),
    ];
    let without = browser.post_raw("/products", &fields).await;
    assert_eq!(without.status, 403, "{}", without.text());
    let mut wrong = vec![("csrf", "not-the-token")];
    wrong.extend_from_slice(&fields);
    assert_eq!(browser.post_raw("/products", &wrong).await.status, 403);
    // Another session's token is not this session's.
    let other = sign_up(&server, "Other Stores", "owner@other-csrf.example").await;
    other.get("/").await;
    let mut foreign = vec![("csrf", "")];
    let token = other.csrf();
    foreign[0].1 = &token;
    foreign.extend_from_slice(&fields);
    assert_eq!(browser.post_raw("/products", &foreign).await.status, 403);
    // The public forms carry their own pre-session token.
    let stranger = Browser::new(&server);
    let refused = stranger
        .post_raw(
            "/sign-in",
            &[
                ("email", "owner@csrf.example"),
                ("password", "a long and private password"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(stranger.cookie("nexus_session").is_none());

    let listed = browser.get("/products?q=forged").await;
    assert!(
        !listed.text().contains("Forged product"),
        "nothing was created"
    );
    // With the token, the same form works.
    let made = browser.post("/products", &fields).await;
    assert_eq!(made.status, 303, "{}", made.text());
    assert!(
        browser
            .get("/products?q=forged")
            .await
            .text()
            .contains("Forged product")
    );
    server.stop().await;
}

async fn an_idle_session_expires_and_a_busy_one_does_not(backend: &Backend) {
    let server = TestServer::start_with(backend, |settings| {
        settings.session_idle = Duration::from_secs(30 * 60);
    })
    .await;
    let browser = sign_up(&server, "Idle Stores", "owner@idle.example").await;
    // Busy: a page every 20 minutes for two hours keeps the session.
    for _ in 0..6 {
        server.clock.advance(Duration::from_secs(20 * 60));
        let page = browser.get("/").await;
        assert_eq!(page.status, 200, "a busy session lives on");
    }
    // Idle for 31 minutes: signed out, and sent back to where they were after signing in.
    server.clock.advance(Duration::from_secs(31 * 60));
    let expired = browser.get("/products").await;
    assert_eq!(expired.status, 303);
    let location = expired.location.unwrap_or_default();
    assert!(location.starts_with("/sign-in"), "{location}");
    assert!(
        location.contains("products"),
        "comes back to the page: {location}"
    );
    server.stop().await;
}

async fn deactivating_someone_ends_their_dashboard_session(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Leaver").await;
    let owner = Browser::signed_in(&server, &shop.owner).await;
    let manager = Browser::new(&server);
    assert_eq!(
        manager
            .sign_in(&shop.manager.email, &shop.manager.password)
            .await
            .status,
        200
    );
    assert_eq!(manager.get("/inventory").await.status, 200);
    owner.get(&format!("/staff/{}/edit", shop.manager.id)).await;
    let deactivated = owner
        .post(&format!("/staff/{}/deactivate", shop.manager.id), &[])
        .await;
    assert_eq!(deactivated.status, 303, "{}", deactivated.text());
    let after = manager.get("/inventory").await;
    assert_eq!(after.status, 303, "the manager's session ended");
    assert!(after.location.unwrap_or_default().starts_with("/sign-in"));
    let again = Browser::new(&server);
    again.get("/sign-in").await;
    let refused = again
        .post(
            "/sign-in",
            &[
                ("email", &shop.manager.email),
                ("password", &shop.manager.password),
            ],
        )
        .await;
    assert_ne!(refused.status, 303, "a deactivated person cannot sign in");
    assert!(again.cookie("nexus_session").is_none());
    server.stop().await;
}

async fn the_cookie_is_secure_when_the_public_url_is_https(backend: &Backend) {
    let server = TestServer::start_with(backend, |settings| {
        settings.public_url = "https://dash.nexus.example".to_owned();
    })
    .await;
    let browser = Browser::new(&server);
    let form = browser.get("/sign-up").await;
    assert!(
        form.set_cookies
            .iter()
            .any(|line| line.starts_with("nexus_csrf=") && line.contains("Secure")),
        "{:?}",
        form.set_cookies
    );
    let created = browser
        .post(
            "/sign-up",
            &[
                ("organisation", "Secure Stores"),
                ("owner_name", "Esi"),
                ("email", "esi@secure.example"),
                ("password", "a long and private password"),
                ("country", "GH"),
                ("currency", "GHS"),
                ("time_zone", "Africa/Accra"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.text());
    let session = created
        .set_cookies
        .iter()
        .find(|line| line.starts_with("nexus_session="))
        .expect("session cookie");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(session.contains(flag), "{flag} in {session}");
    }
    server.stop().await;
}

async fn wrong_passwords_are_throttled_on_the_sign_in_page(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Throttle Stores").await;
    let browser = Browser::new(&server);
    browser.get("/sign-in").await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let answer = browser
            .post(
                "/sign-in",
                &[
                    ("email", &owner.email),
                    ("password", "not the password at all"),
                ],
            )
            .await;
        statuses.push(answer.status);
        if answer.status == 429 {
            let text = answer.text();
            assert!(
                text.contains("Too many") || text.contains("too many"),
                "{text}"
            );
            assert!(text.contains("minute"), "says how long to wait: {text}");
        }
    }
    assert_eq!(
        statuses[0], 422,
        "a wrong password sends the form back: {statuses:?}"
    );
    assert!(
        statuses.contains(&429),
        "the throttle applies: {statuses:?}"
    );
    // Even the right password waits while the address is throttled.
    let blocked = browser
        .post(
            "/sign-in",
            &[("email", &owner.email), ("password", &owner.password)],
        )
        .await;
    assert_eq!(blocked.status, 429);
    server.clock.advance(Duration::from_secs(16 * 60));
    let fresh = Browser::new(&server);
    assert_eq!(
        fresh.sign_in(&owner.email, &owner.password).await.status,
        200
    );
    server.stop().await;
}

async fn a_password_is_reset_by_email_and_the_link_works_once(backend: &Backend) {
    let sink = SmtpSink::start(Some("smtp-secret-42")).await;
    let port = sink.port();
    let server = TestServer::start_with(backend, |settings| {
        settings.mail.host = Some("127.0.0.1".to_owned());
        settings.mail.port = port;
        settings.mail.security = MailSecurity::None;
        settings.mail.username = Some("nexus".to_owned());
        settings.mail.password = Some(SecretString::new("smtp-secret-42"));
        settings.mail.from = "Nexus <no-reply@nexus.example>".to_owned();
    })
    .await;
    let owner = server.register("Reset Stores").await;
    let signed_in = Browser::signed_in(&server, &owner).await;

    let browser = Browser::new(&server);
    browser.get("/forgot-password").await;
    let sent = browser
        .post("/forgot-password", &[("email", &owner.email)])
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    // An unknown address gets the same answer, so nobody learns who has an account.
    let unknown = browser
        .post("/forgot-password", &[("email", "nobody@nowhere.example")])
        .await;
    assert_eq!(unknown.status, 200);
    assert_eq!(
        unknown.text().replace("nobody@nowhere.example", "EMAIL"),
        sent.text().replace(&owner.email, "EMAIL")
    );

    let mail = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mail.len(), 1, "one email, to the one real account");
    let body = mail[0].text_body();
    let link_start = body
        .find(&format!("{}/reset-password?token=", server.base_url))
        .unwrap_or_else(|| panic!("the link points at the public URL: {body}"));
    let link: String = body[link_start..]
        .chars()
        .take_while(|character| !character.is_whitespace())
        .collect();
    let path = link
        .strip_prefix(&server.base_url)
        .expect("path")
        .to_owned();
    let token = path.split("token=").nth(1).expect("token").to_owned();

    let form = browser.get(&path).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.input_value("token").as_deref(), Some(token.as_str()));
    let mismatch = browser
        .post(
            "/reset-password",
            &[
                ("token", &token),
                ("password", "a brand new password"),
                ("password_again", "another one"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, 422, "{}", mismatch.text());
    let changed = browser
        .post(
            "/reset-password",
            &[
                ("token", &token),
                ("password", "a brand new password"),
                ("password_again", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.text());
    // Every session of that person ended with the reset.
    assert_eq!(signed_in.get("/").await.status, 303);
    let again = browser
        .post(
            "/reset-password",
            &[
                ("token", &token),
                ("password", "yet another new password"),
                ("password_again", "yet another new password"),
            ],
        )
        .await;
    assert_ne!(again.status, 303, "the link works once");
    let fresh = Browser::new(&server);
    assert_eq!(
        fresh
            .sign_in(&owner.email, "a brand new password")
            .await
            .status,
        200
    );
    server.stop().await;
}

async fn hostile_names_show_as_text_under_a_strict_policy(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let browser = sign_up(&server, "Hostile Stores", "owner@hostile.example").await;
    browser.get("/products/new").await;
    let made = browser
        .post(
            "/products",
            &[
                ("sku", "XSS-1"),
                ("name", "<script>alert(1)</script>"),
                ("price", "1.00"),
                ("tax_class", "standard"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.text());
    let listed = browser.get("/products").await;
    assert!(
        !listed.body.contains("<script>alert(1)</script>"),
        "escaped"
    );
    assert!(
        listed
            .body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "shown as text"
    );
    let policy = listed
        .headers
        .get("content-security-policy")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(
        listed
            .headers
            .get("x-frame-options")
            .and_then(|value| value.to_str().ok()),
        Some("DENY")
    );
    // No inline script anywhere on the page, and every script and stylesheet it names loads,
    // with the type a browser under `nosniff` insists on.
    let mut assets = 0;
    for (marker, attribute, kind) in [
        ("<script", "src=\"", "text/javascript"),
        ("<link rel=\"stylesheet\"", "href=\"", "text/css"),
    ] {
        for tag in listed.body.split(marker).skip(1) {
            let tag = tag.split('>').next().unwrap_or_default();
            let at = tag
                .find(attribute)
                .unwrap_or_else(|| panic!("inline {marker}: {tag}"))
                + attribute.len();
            let url = &tag[at..at + tag[at..].find('"').expect("quoted")];
            assert!(url.starts_with("/assets/"), "{url}");
            let asset = browser.get(url).await;
            assert_eq!(asset.status, 200, "{url}");
            let content_type = asset
                .headers
                .get("content-type")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(content_type.starts_with(kind), "{url}: {content_type}");
            assets += 1;
        }
    }
    assert!(
        assets >= 4,
        "htmx, the page script and two stylesheets: {assets}"
    );
    let exported = browser.get("/products/export").await;
    assert!(
        exported.body.contains("<script>alert(1)</script>"),
        "the CSV keeps the name as the owner typed it"
    );
    assert!(
        exported
            .headers
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    server.stop().await;
}
