//! Shop stations: enrolment with a one-time code, listing, revocation.

use std::time::Duration;

use nexus_testkit::{Backend, TestServer, backend_tests};
use reqwest::Method;
use serde_json::json;

backend_tests!(
    a_station_enrols_once_with_its_code,
    enrolment_codes_expire_and_revoked_stations_cannot_enrol
);

async fn a_station_enrols_once_with_its_code(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Station Shop").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Makola").await;
    let created = server
        .post(
            "/api/v1/stations",
            token,
            json!({ "branch_id": branch, "name": "Till 1" }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert!(created.body["enrolled_at"].is_null());
    let code = created.body["enrolment_code"]
        .as_str()
        .expect("code")
        .to_owned();

    let enrolled = server
        .call(
            Method::POST,
            "/api/v1/stations/enroll",
            None,
            Some(json!({ "enrolment_code": code, "app_version": "0.1.0" })),
        )
        .await;
    assert_eq!(enrolled.status, 200, "{:?}", enrolled.body);
    assert_eq!(enrolled.body["station_id"], created.body["id"]);
    assert_eq!(enrolled.body["tenant_id"], owner.tenant_id);
    assert_eq!(enrolled.body["branch_id"], branch);
    assert!(
        enrolled.body["credential"]
            .as_str()
            .is_some_and(|credential| credential.len() > 40)
    );

    let again = server
        .call(
            Method::POST,
            "/api/v1/stations/enroll",
            None,
            Some(json!({ "enrolment_code": code })),
        )
        .await;
    assert_eq!(again.status, 401, "a code works once: {:?}", again.body);
    for garbage in ["", "nonsense", "0123456789abcdef0123456789abcdef-x"] {
        let answer = server
            .call(
                Method::POST,
                "/api/v1/stations/enroll",
                None,
                Some(json!({ "enrolment_code": garbage })),
            )
            .await;
        assert_eq!(answer.status, 401, "{garbage}");
    }
    let listed = server.get("/api/v1/stations", token).await;
    assert_eq!(listed.body[0]["app_version"], "0.1.0");
    assert!(listed.body[0]["enrolled_at"].is_i64());
    assert!(
        listed.body[0].get("credential_hash").is_none(),
        "hashes never leave the server"
    );
    server.stop().await;
}

async fn enrolment_codes_expire_and_revoked_stations_cannot_enrol(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Expiry Shop").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Osu").await;
    let late = server
        .post(
            "/api/v1/stations",
            token,
            json!({ "branch_id": branch, "name": "Late" }),
        )
        .await;
    let revoked = server
        .post(
            "/api/v1/stations",
            token,
            json!({ "branch_id": branch, "name": "Revoked" }),
        )
        .await;
    let removed = server
        .call(
            Method::DELETE,
            &format!("/api/v1/stations/{}", revoked.id()),
            Some(token),
            None,
        )
        .await;
    assert_eq!(removed.status, 200);
    assert!(removed.body["revoked_at"].is_i64());
    let code = revoked.body["enrolment_code"].as_str().expect("code");
    let refused = server
        .call(
            Method::POST,
            "/api/v1/stations/enroll",
            None,
            Some(json!({ "enrolment_code": code })),
        )
        .await;
    assert_eq!(
        refused.status, 401,
        "a revoked station's code is dead: {:?}",
        refused.body
    );

    server.clock.advance(Duration::from_secs(25 * 3600));
    let code = late.body["enrolment_code"].as_str().expect("code");
    let expired = server
        .call(
            Method::POST,
            "/api/v1/stations/enroll",
            None,
            Some(json!({ "enrolment_code": code })),
        )
        .await;
    assert_eq!(expired.status, 401);
    assert!(
        expired.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("expired")
    );
    // The clock moved a day: sign in again before using the API.
    let fresh = server.login(&owner.email, &owner.password).await;
    let fresh_token = fresh.body["access_token"].as_str().expect("token");
    let bad_branch = server
        .post(
            "/api/v1/stations",
            fresh_token,
            json!({ "branch_id": uuid::Uuid::nil(), "name": "X" }),
        )
        .await;
    assert_eq!(bad_branch.status, 422);
    server.stop().await;
}
