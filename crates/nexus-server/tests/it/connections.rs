//! Slow, stalled and surplus clients: a half-sent header, a trickled body and an idle kept-alive
//! connection are closed within their timeouts, and connections past the cap wait their turn.

use std::time::Duration;

use nexus_testkit::{Backend, TestServer, backend_tests};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

backend_tests!(
    a_half_sent_header_is_closed_within_the_timeout,
    a_trickled_body_is_answered_408_within_the_timeout,
    an_idle_kept_alive_connection_is_closed,
    connections_past_the_cap_wait_for_a_free_one
);

/// Far above every timeout the tests set: only a connection nobody closes reaches it.
const NEVER: Duration = Duration::from_secs(20);

async fn server_with_short_timeouts(backend: &Backend) -> TestServer {
    TestServer::start_with(backend, |settings| {
        settings.http.header_timeout = Duration::from_secs(1);
        settings.http.body_timeout = Duration::from_secs(1);
        settings.http.idle_timeout = Duration::from_secs(2);
    })
    .await
}

fn address(server: &TestServer) -> String {
    server.base_url.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; what it sent, or a failure if it never does.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(NEVER, async {
        let mut buffer = [0_u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server never closed the connection");
    String::from_utf8_lossy(&received).into_owned()
}

async fn a_half_sent_header_is_closed_within_the_timeout(backend: &Backend) {
    let server = server_with_short_timeouts(backend).await;
    let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: nexus\r\nX-Half: ")
        .await
        .expect("write");
    let answer = read_until_closed(&mut stream).await;
    assert!(
        !answer.contains("200 OK"),
        "no answer to half a request: {answer}"
    );
    // The service itself is unharmed.
    assert_eq!(
        server
            .call(reqwest::Method::GET, "/healthz", None, None)
            .await
            .status,
        200
    );
    server.stop().await;
}

async fn a_trickled_body_is_answered_408_within_the_timeout(backend: &Backend) {
    let server = server_with_short_timeouts(backend).await;
    let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
    stream
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: nexus\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{",
        )
        .await
        .expect("write");
    let trickle = async {
        // A byte every 200 ms would keep any per-chunk timeout happy; the whole body is late.
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if stream.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(1500), trickle).await;
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    server.stop().await;
}

async fn an_idle_kept_alive_connection_is_closed(backend: &Backend) {
    let server = server_with_short_timeouts(backend).await;
    let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: nexus\r\n\r\n")
        .await
        .expect("write");
    // The answer comes, then nothing more is asked: the server closes the connection.
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.stop().await;
}

async fn connections_past_the_cap_wait_for_a_free_one(backend: &Backend) {
    let server = TestServer::start_with(backend, |settings| {
        settings.http.max_connections = 1;
        settings.http.header_timeout = Duration::from_secs(30);
    })
    .await;
    let holder = TcpStream::connect(address(&server)).await.expect("connect");
    // Accepted first (the backlog is served in order), it takes the only slot.
    let mut probe = TcpStream::connect(address(&server)).await.expect("connect");
    probe
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: nexus\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut first = [0_u8; 12];
    let early = tokio::time::timeout(Duration::from_millis(700), probe.read(&mut first)).await;
    assert!(
        early.is_err(),
        "a second connection was served while the only slot was taken"
    );
    drop(holder);
    let answer = read_until_closed(&mut probe).await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "served once the slot was free: {answer}"
    );
    server.stop().await;
}
