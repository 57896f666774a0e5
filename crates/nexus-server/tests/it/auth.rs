use std::time::Duration;

use nexus_testkit::{Backend, TestServer, backend_tests};
use reqwest::Method;
use serde_json::json;

backend_tests!(
    register_sign_in_and_me,
    duplicate_email_is_a_conflict_and_creates_nothing,
    refresh_rotates_and_reuse_revokes_the_whole_session,
    logout_ends_the_session_at_once,
    expired_and_tampered_access_tokens_are_refused,
    repeated_failed_logins_are_slowed_down,
    a_burst_of_guesses_gets_a_few_checks_not_one_each,
    a_flood_from_one_address_does_not_lock_the_owner_out,
    guesses_spread_over_many_addresses_still_meet_a_limit,
    forwarded_addresses_count_only_from_trusted_proxies,
    registrations_from_one_address_are_limited,
    an_expired_refresh_token_is_refused,
    deactivated_staff_cannot_sign_in_and_lose_their_sessions,
);

async fn register_sign_in_and_me(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Ama Provisions").await;

    let me = server.get("/api/v1/me", &owner.access_token).await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["tenant_id"], owner.tenant_id);
    assert_eq!(me.body["id"], owner.user_id);
    assert_eq!(me.body["role"], "owner");
    assert!(
        me.body.get("password_hash").is_none(),
        "hashes never leave the server"
    );

    let login = server
        .login(&owner.email.to_uppercase(), &owner.password)
        .await;
    assert_eq!(
        login.status, 200,
        "emails are case-insensitive: {:?}",
        login.body
    );
    let token = login.body["access_token"].as_str().expect("access token");
    assert_eq!(
        server.get("/api/v1/me", token).await.body["id"],
        owner.user_id
    );

    let wrong = server.login(&owner.email, "not the password").await;
    assert_eq!((wrong.status, wrong.error_code()), (401, "unauthenticated"));
    let unknown = server.login("nobody@example.gh", "whatever-password").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(
        unknown.body["error"]["message"], wrong.body["error"]["message"],
        "no hint which emails exist"
    );
    server.stop().await;
}

async fn duplicate_email_is_a_conflict_and_creates_nothing(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("First Shop").await;
    let before = server.store.list_tenants().await.expect("tenants").len();
    let again = server
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({ "organisation": "Second Shop", "email": owner.email, "password": "another password" })),
        )
        .await;
    assert_eq!(
        (again.status, again.error_code()),
        (409, "conflict"),
        "{:?}",
        again.body
    );
    assert_eq!(again.body["error"]["field"], "email");
    let tenants = server.store.list_tenants().await.expect("tenants");
    assert_eq!(
        tenants.len(),
        before,
        "a failed registration leaves no tenant behind"
    );
    assert!(tenants.iter().all(|tenant| tenant.name != "Second Shop"));
    server.stop().await;
}

async fn refresh_rotates_and_reuse_revokes_the_whole_session(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Kumasi Phones").await;

    let first = server.refresh(&owner.refresh_token).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let second_refresh = first.body["refresh_token"]
        .as_str()
        .expect("new refresh token")
        .to_owned();
    let second_access = first.body["access_token"]
        .as_str()
        .expect("new access token")
        .to_owned();
    assert_ne!(
        second_refresh, owner.refresh_token,
        "refresh tokens rotate on every use"
    );
    assert_eq!(server.get("/api/v1/me", &second_access).await.status, 200);

    // The old token again: a replay. The whole family dies, including the newest token.
    let replay = server.refresh(&owner.refresh_token).await;
    assert_eq!(replay.status, 401, "{:?}", replay.body);
    let newest = server.refresh(&second_refresh).await;
    assert_eq!(
        newest.status, 401,
        "reuse revokes the whole family: {:?}",
        newest.body
    );
    assert_eq!(
        server.get("/api/v1/me", &second_access).await.status,
        401,
        "and its access tokens"
    );
    assert_eq!(
        server.get("/api/v1/me", &owner.access_token).await.status,
        401
    );

    // Another sign-in is a separate session and still works.
    let login = server.login(&owner.email, &owner.password).await;
    assert_eq!(login.status, 200);

    for garbage in [
        "",
        "nonsense",
        "0123456789abcdef0123456789abcdef.nope",
        &"x".repeat(5000),
    ] {
        let answer = server.refresh(garbage).await;
        assert_eq!(answer.status, 401, "{garbage:.40}: {:?}", answer.body);
    }
    server.stop().await;
}

async fn logout_ends_the_session_at_once(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Osu Pharmacy").await;
    let other_session = server.login(&owner.email, &owner.password).await;
    let other_access = other_session.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let logout = server.logout(&owner.refresh_token).await;
    assert_eq!(logout.status, 204, "{:?}", logout.body);
    assert_eq!(
        server.get("/api/v1/me", &owner.access_token).await.status,
        401,
        "access token dies with its session"
    );
    let refresh = server.refresh(&owner.refresh_token).await;
    assert_eq!(refresh.status, 401);
    assert_eq!(
        server.get("/api/v1/me", &other_access).await.status,
        200,
        "other sessions are untouched"
    );
    server.stop().await;
}

async fn expired_and_tampered_access_tokens_are_refused(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Tema Hardware").await;

    let mut tampered = owner.access_token.clone();
    let last = tampered.pop().expect("non-empty token");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [tampered.as_str(), "not-a-jwt", "a.b.c"] {
        let answer = server.get("/api/v1/me", bad).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (401, "unauthenticated"),
            "{bad}"
        );
    }
    let no_scheme = server.call(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(no_scheme.status, 401);

    // A token claiming another tenant, signed with another key, is refused by the signature.
    let forged = forge_token_for_other_tenant(&owner.access_token);
    assert_eq!(server.get("/api/v1/me", &forged).await.status, 401);

    server.clock.advance(Duration::from_secs(14 * 60));
    assert_eq!(
        server.get("/api/v1/me", &owner.access_token).await.status,
        200,
        "valid for 15 minutes"
    );
    server.clock.advance(Duration::from_secs(61));
    let expired = server.get("/api/v1/me", &owner.access_token).await;
    assert_eq!(expired.status, 401);
    assert!(
        expired.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("expired")
    );

    let refreshed = server.refresh(&owner.refresh_token).await;
    assert_eq!(
        refreshed.status, 200,
        "the refresh token outlives the access token"
    );
    server.stop().await;
}

/// Swaps the payload of a valid token for one naming another tenant, keeping the old signature.
fn forge_token_for_other_tenant(token: &str) -> String {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&engine.decode(parts[1]).expect("payload")).expect("claims");
    claims["tid"] = json!(uuid::Uuid::nil());
    format!(
        "{}.{}.{}",
        parts[0],
        engine.encode(claims.to_string()),
        parts[2]
    )
}

async fn repeated_failed_logins_are_slowed_down(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Accra Mart").await;
    for attempt in 1..=5 {
        let answer = server.login(&owner.email, "wrong password").await;
        assert_eq!(answer.status, 401, "attempt {attempt}");
    }
    let sixth = server.login(&owner.email, "wrong password").await;
    assert_eq!(
        sixth.status, 401,
        "the sixth failure is checked, and starts the wait"
    );
    let blocked = server.login(&owner.email, &owner.password).await;
    assert_eq!(
        (blocked.status, blocked.error_code()),
        (429, "too_many_attempts"),
        "{:?}",
        blocked.body
    );
    assert!(blocked.headers.contains_key("retry-after"));

    server.clock.advance(Duration::from_secs(2));
    let allowed = server.login(&owner.email, &owner.password).await;
    assert_eq!(
        allowed.status, 200,
        "after the wait the right password works: {:?}",
        allowed.body
    );
    for attempt in 1..=5 {
        assert_eq!(
            server.login(&owner.email, "wrong again").await.status,
            401,
            "counter was reset: {attempt}"
        );
    }
    server.stop().await;
}

async fn deactivated_staff_cannot_sign_in_and_lose_their_sessions(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Labone Grocers").await;
    let branch = server.create_branch(&owner.access_token, "Labone").await;
    let manager = server
        .post(
            "/api/v1/staff",
            &owner.access_token,
            json!({ "email": "kofi@labone.gh", "name": "Kofi", "role": "manager", "branch_ids": [branch], "password": "manager password" }),
        )
        .await;
    assert_eq!(manager.status, 201, "{:?}", manager.body);
    let signed_in = server.login("kofi@labone.gh", "manager password").await;
    let manager_token = signed_in.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(server.get("/api/v1/me", &manager_token).await.status, 200);

    let deactivated = server
        .post(
            &format!("/api/v1/staff/{}/deactivate", manager.id()),
            &owner.access_token,
            json!({}),
        )
        .await;
    assert_eq!(deactivated.status, 200, "{:?}", deactivated.body);
    assert_eq!(deactivated.body["active"], false);
    assert_eq!(server.get("/api/v1/me", &manager_token).await.status, 401);
    assert_eq!(
        server
            .login("kofi@labone.gh", "manager password")
            .await
            .status,
        401
    );
    server.stop().await;
}

/// Signs in as `email` from `address` (the test server trusts 127.0.0.1 as a proxy).
async fn login_from(server: &TestServer, address: &str, email: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base_url))
        .header("x-forwarded-for", address)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login")
        .status()
        .as_u16()
}

async fn a_burst_of_guesses_gets_a_few_checks_not_one_each(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Parallel Guessing").await;
    let guesses: Vec<_> = (0..128)
        .map(|attempt| {
            let url = format!("{}/api/v1/auth/login", server.base_url);
            let email = owner.email.clone();
            tokio::spawn(async move {
                let body = json!({ "email": email, "password": format!("guess {attempt}") });
                reqwest::Client::new()
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .expect("login")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for guess in guesses {
        *answers.entry(guess.await.expect("task")).or_default() += 1;
    }
    // The clock stands still: at most the five free attempts and the one that starts the wait
    // are checked (401); every other is refused before its password is hashed (429), by the
    // throttle or because the address already has its share of sign-ins in the queue.
    let checked = answers.get(&401).copied().unwrap_or(0);
    assert!(
        (1..=6).contains(&checked),
        "{answers:?}: each 401 is a password check"
    );
    assert_eq!(
        answers.get(&429).copied().unwrap_or(0),
        128 - checked,
        "{answers:?}"
    );
    // Whatever got through, the sixth failure in a row starts the wait.
    for _ in checked..6 {
        assert_eq!(
            server.login(&owner.email, "one more guess").await.status,
            401
        );
    }
    let blocked = server.login(&owner.email, &owner.password).await;
    assert_eq!(blocked.status, 429, "{:?}", blocked.body);
    server.stop().await;
}

async fn a_flood_from_one_address_does_not_lock_the_owner_out(backend: &Backend) {
    let server = TestServer::start_with(backend, |settings| {
        settings.trusted_proxies = "127.0.0.1".parse().expect("ranges");
    })
    .await;
    let owner = server.register("Makola Traders").await;
    for _ in 0..40 {
        login_from(&server, "203.0.113.7", &owner.email, "a guess").await;
        server.clock.advance(Duration::from_millis(500));
    }
    assert_eq!(
        login_from(&server, "203.0.113.7", &owner.email, &owner.password).await,
        429,
        "the guessing address waits"
    );
    assert_eq!(
        login_from(&server, "198.51.100.2", &owner.email, &owner.password).await,
        200,
        "the owner, elsewhere, signs in"
    );
    server.stop().await;
}

async fn guesses_spread_over_many_addresses_still_meet_a_limit(backend: &Backend) {
    let server = TestServer::start_with(backend, |settings| {
        settings.trusted_proxies = "127.0.0.1".parse().expect("ranges");
    })
    .await;
    let owner = server.register("Kejetia Phones").await;
    for address in 1..=21 {
        let status = login_from(
            &server,
            &format!("203.0.113.{address}"),
            &owner.email,
            "a guess",
        )
        .await;
        assert_eq!(status, 401, "guess {address} is checked");
    }
    assert_eq!(
        login_from(&server, "203.0.113.99", &owner.email, "a guess").await,
        429,
        "past twenty failures the account itself waits"
    );
    server.stop().await;
}

async fn forwarded_addresses_count_only_from_trusted_proxies(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Osu Chemists").await;
    // Not a trusted proxy: each request claims another address, and all count as 127.0.0.1's.
    let mut refused = 0;
    for address in 1..=10 {
        if login_from(
            &server,
            &format!("203.0.113.{address}"),
            &owner.email,
            "a guess",
        )
        .await
            == 429
        {
            refused += 1;
        }
    }
    assert_eq!(
        refused, 4,
        "the sixth failure starts the wait for the real address"
    );
    server.stop().await;
}

async fn registrations_from_one_address_are_limited(backend: &Backend) {
    let server =
        TestServer::start_with(backend, |settings| settings.registrations_per_hour = 3).await;
    for shop in 1..=3 {
        server.register(&format!("Shop {shop}")).await;
    }
    let refused = server
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({ "organisation": "Shop 4", "email": "four@shop.gh", "password": "a long password" })),
        )
        .await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (429, "too_many_attempts")
    );
    assert!(refused.headers.contains_key("retry-after"));
    server.clock.advance(Duration::from_secs(60 * 60));
    server.register("Shop 4").await;
    server.stop().await;
}

async fn an_expired_refresh_token_is_refused(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Long Weekend").await;
    server.clock.advance(Duration::from_secs(31 * 24 * 60 * 60));
    let refresh = server.refresh(&owner.refresh_token).await;
    assert_eq!(refresh.status, 401, "{:?}", refresh.body);
    assert!(
        refresh.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("expired")
    );
    let again = server.refresh(&owner.refresh_token).await;
    assert!(
        again.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("expired"),
        "an expired token is not mistaken for a replay"
    );
    assert_eq!(
        server.login(&owner.email, &owner.password).await.status,
        200
    );
    server.stop().await;
}
