//! Bad input gets a clear JSON error with the right status, never a 500 or a panic.

use nexus_testkit::{Backend, TestServer, backend_tests};
use reqwest::Method;
use serde_json::json;

backend_tests!(
    malformed_requests_get_json_errors,
    health_and_readiness_answer
);

async fn malformed_requests_get_json_errors(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Errors Inc").await;
    let token = owner.access_token.as_str();
    let json_type = "application/json";

    let raw_cases: Vec<(Method, &str, Option<&str>, &str, Vec<u8>, u16, &str)> = vec![
        (
            Method::POST,
            "/api/v1/branches",
            Some(token),
            json_type,
            b"{\"name\":".to_vec(),
            400,
            "invalid_json",
        ),
        (
            Method::POST,
            "/api/v1/branches",
            Some(token),
            json_type,
            b"{\"name\": 42}".to_vec(),
            422,
            "validation_failed",
        ),
        (
            Method::POST,
            "/api/v1/branches",
            Some(token),
            json_type,
            b"{}".to_vec(),
            422,
            "validation_failed",
        ),
        (
            Method::POST,
            "/api/v1/branches",
            Some(token),
            json_type,
            b"{\"name\":\"A\",\"colour\":\"red\"}".to_vec(),
            422,
            "validation_failed",
        ),
        (
            Method::POST,
            "/api/v1/branches",
            Some(token),
            json_type,
            b"[1,2,3]".to_vec(),
            422,
            "validation_failed",
        ),
        (
            Method::POST,
            "/api/v1/branches",
            Some(token),
            json_type,
            vec![0xff, 0xfe, 0x00],
            400,
            "invalid_json",
        ),
        (
            Method::POST,
            "/api/v1/branches",
            Some(token),
            "text/plain",
            b"{\"name\":\"A\"}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            Method::POST,
            "/api/v1/branches",
            Some(token),
            json_type,
            vec![b' '; 1024 * 1024 + 1024],
            413,
            "payload_too_large",
        ),
        (
            Method::POST,
            "/api/v1/auth/register",
            None,
            json_type,
            b"{\"organisation\":\"X\"}".to_vec(),
            422,
            "validation_failed",
        ),
        (
            Method::POST,
            "/api/v1/auth/login",
            None,
            json_type,
            b"null".to_vec(),
            422,
            "validation_failed",
        ),
        (
            Method::GET,
            "/api/v1/branches/not-a-uuid",
            Some(token),
            json_type,
            Vec::new(),
            400,
            "bad_request",
        ),
        (
            Method::GET,
            "/api/v1/branches?include_archived=maybe",
            Some(token),
            json_type,
            Vec::new(),
            400,
            "bad_request",
        ),
        (
            Method::GET,
            "/api/v1/nowhere",
            Some(token),
            json_type,
            Vec::new(),
            404,
            "not_found",
        ),
        (
            Method::GET,
            "/",
            None,
            json_type,
            Vec::new(),
            404,
            "not_found",
        ),
        (
            Method::DELETE,
            "/api/v1/me",
            Some(token),
            json_type,
            Vec::new(),
            405,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/api/v1/me",
            Some("Basic dXNlcjpwYXNz"),
            json_type,
            Vec::new(),
            401,
            "unauthenticated",
        ),
    ];
    for (method, path, token, content_type, body, status, code) in raw_cases {
        let preview = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        let answer = server
            .call_raw(method.clone(), path, token, content_type, body)
            .await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (status, code),
            "{method} {path} {preview:?}: {:?}",
            answer.body
        );
        assert!(
            answer.body["error"]["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty())
        );
    }

    let validation_cases = [
        json!({ "organisation": "", "email": "a@b.gh", "password": "long enough" }),
        json!({ "organisation": "Shop", "email": "not-an-email", "password": "long enough" }),
        json!({ "organisation": "Shop", "email": "a@b.gh", "password": "short" }),
        json!({ "organisation": "Shop", "email": "a@b.gh", "password": "x".repeat(10_000) }),
        json!({ "organisation": "S".repeat(1000), "email": "a@b.gh", "password": "long enough" }),
    ];
    for body in validation_cases {
        let answer = server
            .call(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (422, "validation_failed"),
            "{body:.80}: {:?}",
            answer.body
        );
    }
    assert_eq!(
        server.store.list_tenants().await.expect("tenants").len(),
        1,
        "no bad request created anything"
    );

    let answer = server.get("/api/v1/me", token).await;
    assert!(
        answer.headers.contains_key("x-request-id"),
        "every answer carries its request id"
    );
    server.stop().await;
}

async fn health_and_readiness_answer(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let live = server.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (live.status, live.body["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = server.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["backend"], backend.name());
    server.stop().await;
}
