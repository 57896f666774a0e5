//! What an operator sees and relies on: the metrics listener (requests by route and status,
//! sync ops by outcome, the pool and the tenants open) and a shutdown that finishes the
//! requests in flight.

use std::time::Duration;

use nexus_testkit::{Backend, TestServer, backend_tests};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::sync::{batch, pull, push, sale_op, statuses, till};

backend_tests!(
    metrics_count_requests_sync_outcomes_and_the_pool,
    shutdown_refuses_new_connections_and_finishes_requests_in_flight,
    a_long_pull_waits_for_the_next_change_and_answers_with_it
);

async fn with_metrics(backend: &Backend) -> TestServer {
    TestServer::start_with(backend, |settings| {
        settings.metrics_listen = Some("127.0.0.1:0".parse().expect("address"));
    })
    .await
}

async fn scrape(server: &TestServer) -> String {
    let url = server.metrics_url.as_deref().expect("a metrics listener");
    let response = reqwest::get(url).await.expect("scrape");
    assert_eq!(response.status(), 200);
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    response.text().await.expect("body")
}

/// The value of the sample named exactly `series` (name and labels as written).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
}

async fn metrics_count_requests_sync_outcomes_and_the_pool(backend: &Backend) {
    let server = with_metrics(backend).await;
    let till = till(&server).await;
    let ops = vec![
        sale_op(&till, 1, &till.cashier),
        // Nobody on the staff: refused, and counted as rejected.
        sale_op(&till, 2, &till.owner.user_id.replace('0', "1")),
    ];
    let (status, first) = push(&server, &till, batch(ops.clone())).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        statuses(&first),
        vec![(1, "applied".into()), (2, "rejected".into())],
        "{first}"
    );
    let (status, again) = push(&server, &till, batch(ops)).await;
    assert_eq!(status, 200, "{again}");
    let missing = format!("/api/v1/products/{}", uuid::Uuid::now_v7());
    assert_eq!(
        server.get(&missing, &till.owner.access_token).await.status,
        404
    );

    let text = scrape(&server).await;
    for (outcome, count) in [("applied", 1.0), ("rejected", 1.0), ("duplicate", 2.0)] {
        assert_eq!(
            sample(
                &text,
                &format!("nexus_sync_ops_total{{outcome=\"{outcome}\"}}")
            ),
            Some(count),
            "{outcome}\n{text}"
        );
    }
    let pushes = "method=\"POST\",route=\"/api/v1/sync/push\",status=\"200\"";
    assert_eq!(
        sample(&text, &format!("nexus_http_requests_total{{{pushes}}}")),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("nexus_http_request_duration_seconds_count{{{pushes}}}")
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!("nexus_http_request_duration_seconds_bucket{{{pushes},le=\"+Inf\"}}")
        ),
        Some(2.0)
    );
    assert!(
        sample(
            &text,
            &format!("nexus_http_request_duration_seconds_sum{{{pushes}}}")
        )
        .is_some_and(|seconds| seconds > 0.0)
    );
    // The route's pattern, never the path asked for: clients cannot multiply the series.
    assert_eq!(
        sample(
            &text,
            "nexus_http_requests_total{method=\"GET\",route=\"/api/v1/products/{id}\",status=\"404\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains(&missing), "{text}");
    assert!(
        sample(&text, "nexus_db_connections_max").is_some_and(|max| max >= 1.0),
        "{text}"
    );
    assert!(sample(&text, "nexus_db_connections_in_use").is_some());
    assert!(
        sample(&text, "nexus_tenants_open").is_some_and(|open| open >= 1.0),
        "the shop's tenant was served\n{text}"
    );
    assert_eq!(sample(&text, "nexus_http_requests_in_flight"), Some(0.0));

    // Each listener serves its own: no metrics on the public address, no API on the metrics one.
    let public = reqwest::get(format!("{}/metrics", server.base_url))
        .await
        .expect("get");
    assert_eq!(public.status(), 404);
    let metrics_url = server.metrics_url.clone().expect("metrics");
    let api_on_metrics = reqwest::get(metrics_url.replace("/metrics", "/api/v1/products"))
        .await
        .expect("get");
    assert_eq!(api_on_metrics.status(), 404);
    server.stop().await;

    let plain = TestServer::start(backend).await;
    assert!(plain.metrics_url.is_none(), "metrics are off by default");
    plain.stop().await;
}

/// Waits, in short steps and at most 30 s, until `ready` answers true.
async fn until(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !ready().await {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn shutdown_refuses_new_connections_and_finishes_requests_in_flight(backend: &Backend) {
    let mut server = with_metrics(backend).await;
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let body = br#"{"email":"nobody@example.com","password":"not the password"}"#;
    let (first_half, second_half) = body.split_at(body.len() / 2);
    let mut connection = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    connection
        .write_all(head.as_bytes())
        .await
        .expect("write head");
    connection
        .write_all(first_half)
        .await
        .expect("write half the body");
    until("the sign-in is in flight", async || {
        sample(&scrape(&server).await, "nexus_http_requests_in_flight") == Some(1.0)
    })
    .await;

    server.begin_stopping();
    until("new connections are refused", async || {
        tokio::net::TcpStream::connect(&address).await.is_err()
    })
    .await;
    // The metrics listener stays up while the service drains.
    assert_eq!(
        sample(&scrape(&server).await, "nexus_http_requests_in_flight"),
        Some(1.0)
    );

    connection
        .write_all(second_half)
        .await
        .expect("write the rest of the body");
    let mut answer = Vec::new();
    connection
        .read_to_end(&mut answer)
        .await
        .expect("read the answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the request in flight is answered by its handler, not cut off: {answer}"
    );
    assert!(answer.contains("\"unauthenticated\""), "{answer}");
    server.stop().await;
}

async fn a_long_pull_waits_for_the_next_change_and_answers_with_it(backend: &Backend) {
    let server = with_metrics(backend).await;
    let till = till(&server).await;
    let (status, everything) = pull(&server, &till, "protocol_version=1&cursor=0&limit=1000").await;
    assert_eq!(status, 200, "{everything}");
    let end = everything["next_cursor"].as_u64().expect("cursor");
    let (status, refused) = pull(
        &server,
        &till,
        &format!("protocol_version=1&cursor={end}&wait_seconds=61"),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["field"], "wait_seconds", "{refused}");

    let waiting = format!("protocol_version=1&cursor={end}&wait_seconds=60");
    let long_pull = pull(&server, &till, &waiting);
    let change_the_price = async {
        until("the long pull is waiting", async || {
            sample(&scrape(&server).await, "nexus_http_requests_in_flight") == Some(1.0)
        })
        .await;
        // Another till's contact announces itself too; it must not answer the wait.
        let (status, _) = pull(&server, &till, &format!("protocol_version=1&cursor={end}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            sample(&scrape(&server).await, "nexus_http_requests_in_flight"),
            Some(1.0),
            "still waiting after a contact that brought nothing"
        );
        let changed = server
            .patch(
                &format!("/api/v1/products/{}", till.rice),
                &till.owner.access_token,
                serde_json::json!({ "price_minor": 1350 }),
            )
            .await;
        assert_eq!(changed.status, 200, "{:?}", changed.body);
    };
    let ((status, page), ()) = tokio::join!(long_pull, change_the_price);
    assert_eq!(status, 200, "{page}");
    let changes = page["changes"].as_array().expect("changes");
    assert!(
        changes
            .iter()
            .any(|change| change["entity"] == "product" && change["payload"]["price_minor"] == 1350),
        "{page}"
    );
    server.stop().await;
}
