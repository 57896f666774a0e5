//! Bad input gets a clear JSON error with the right status, never a 500 or a panic.

use nexus_testkit::{Backend, TestServer, backend_tests};
use reqwest::Method;
use serde_json::json;

backend_tests!(
    malformed_requests_get_json_errors,
    health_and_readiness_answer
);

struct Case {
    method: Method,
    path: &'static str,
    token: Option<&'static str>,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

async fn malformed_requests_get_json_errors(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Errors Inc").await;
    let token = owner.access_token.as_str();

    let case = |method: Method,
                path: &'static str,
                token: Option<&'static str>,
                content_type: &'static str,
                body: &[u8]| Case {
        method,
        path,
        token,
        content_type,
        body: body.to_vec(),
        status: 0,
        code: "",
    };
    let with_token = Some("owner");
    let json_type = "application/json";
    let raw_cases = [
        Case {
            status: 400,
            code: "invalid_json",
            ..case(
                Method::POST,
                "/api/v1/branches",
                with_token,
                json_type,
                b"{\"name\":",
            )
        },
        Case {
            status: 422,
            code: "validation_failed",
            ..case(
                Method::POST,
                "/api/v1/branches",
                with_token,
                json_type,
                b"{\"name\": 42}",
            )
        },
        Case {
            status: 422,
            code: "validation_failed",
            ..case(
                Method::POST,
                "/api/v1/branches",
                with_token,
                json_type,
                b"{}",
            )
        },
        Case {
            status: 422,
            code: "validation_failed",
            ..case(
                Method::POST,
                "/api/v1/branches",
                with_token,
                json_type,
                b"{\"name\":\"A\",\"colour\":\"red\"}",
            )
        },
        Case {
            status: 422,
            code: "validation_failed",
            ..case(
                Method::POST,
                "/api/v1/branches",
                with_token,
                json_type,
                b"[1,2,3]",
            )
        },
        Case {
            status: 400,
            code: "invalid_json",
            ..case(
                Method::POST,
                "/api/v1/branches",
                with_token,
                json_type,
                &[0xff, 0xfe, 0x00],
            )
        },
        Case {
            status: 415,
            code: "unsupported_media_type",
            ..case(
                Method::POST,
                "/api/v1/branches",
                with_token,
                "text/plain",
                b"{\"name\":\"A\"}",
            )
        },
        Case {
            status: 413,
            code: "payload_too_large",
            ..case(
                Method::POST,
                "/api/v1/branches",
                with_token,
                json_type,
                &[b' '; 1024 * 1024 + 1024],
            )
        },
        Case {
            status: 422,
            code: "validation_failed",
            ..case(
                Method::POST,
                "/api/v1/auth/register",
                None,
                json_type,
                b"{\"organisation\":\"X\"}",
            )
        },
        Case {
            status: 422,
            code: "validation_failed",
            ..case(Method::POST, "/api/v1/auth/login", None, json_type, b"null")
        },
        Case {
            status: 400,
            code: "bad_request",
            ..case(
                Method::GET,
                "/api/v1/branches/not-a-uuid",
                with_token,
                json_type,
                b"",
            )
        },
        Case {
            status: 400,
            code: "bad_request",
            ..case(
                Method::GET,
                "/api/v1/branches?include_archived=maybe",
                with_token,
                json_type,
                b"",
            )
        },
        Case {
            status: 404,
            code: "not_found",
            ..case(Method::GET, "/api/v1/nowhere", with_token, json_type, b"")
        },
        Case {
            status: 404,
            code: "not_found",
            // `/` is the dashboard; a path the API does not have is the API's JSON 404.
            ..case(Method::GET, "/api/v1/nowhere", None, json_type, b"")
        },
        Case {
            status: 405,
            code: "method_not_allowed",
            ..case(Method::DELETE, "/api/v1/me", with_token, json_type, b"")
        },
        Case {
            status: 401,
            code: "unauthenticated",
            ..case(
                Method::GET,
                "/api/v1/me",
                Some("Basic dXNlcjpwYXNz"),
                json_type,
                b"",
            )
        },
    ];
    for case in raw_cases {
        let preview = String::from_utf8_lossy(&case.body[..case.body.len().min(40)]).into_owned();
        // "owner" stands for the owner's real token, which is not 'static.
        let case_token = case.token.map(|token| {
            if token == "owner" {
                owner.access_token.as_str()
            } else {
                token
            }
        });
        let answer = server
            .call_raw(
                case.method.clone(),
                case.path,
                case_token,
                case.content_type,
                case.body,
            )
            .await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (case.status, case.code),
            "{} {} {preview:?}: {:?}",
            case.method,
            case.path,
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
