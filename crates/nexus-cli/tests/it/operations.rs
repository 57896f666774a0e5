//! `nexus serve` as an operator runs it under a supervisor: JSON log lines for the collector,
//! Prometheus metrics on their own listener, and a clean stop on SIGTERM.

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The message of a JSON log line, whatever else it carries.
fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or_default()
}

/// The URL that follows `marker` in `text`, up to the next space or comma.
fn url_after<'t>(text: &'t str, marker: &str) -> Option<&'t str> {
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    Some(&rest[..rest.find([' ', ',']).unwrap_or(rest.len())])
}

#[test]
fn serve_writes_json_logs_serves_metrics_apart_and_stops_on_sigterm() {
    let data_dir = crate::scratch_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexus"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .arg("--data")
        .arg(&data_dir)
        .env_remove("NEXUS_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("NEXUS_CONFIG")
        .env_remove("NEXUS_LOG_FORMAT")
        .env("NEXUS_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nexus serve");
    let stderr = child.stderr.take().expect("stderr");
    let (send, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed: Vec<Value> = Vec::new();
    let next = |printed: &mut Vec<Value>| -> Value {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|error| panic!("nexus serve fell silent ({error}): {printed:?}"));
        let parsed: Value = serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("not a JSON log line ({error}): {line}"));
        assert!(parsed["timestamp"].is_string(), "{line}");
        assert!(parsed["level"].is_string(), "{line}");
        printed.push(parsed.clone());
        parsed
    };
    let mut metrics_url = None;
    let base_url = loop {
        let line = next(&mut printed);
        let text = message(&line);
        if let Some(url) = url_after(text, "metrics at ") {
            metrics_url = Some(url.to_owned());
        }
        if let Some(url) = url_after(text, "API at ") {
            break url.trim_end_matches("/api/v1").to_owned();
        }
    };
    let metrics_url = metrics_url.expect("the metrics address is logged before the API's");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let scraped = runtime.block_on(async {
        let health = reqwest::get(format!("{base_url}/healthz"))
            .await
            .expect("healthz");
        assert_eq!(health.status(), 200);
        let missing = reqwest::get(format!("{base_url}/api/v1/no-such-thing"))
            .await
            .expect("get");
        assert_eq!(missing.status(), 404);
        reqwest::get(&metrics_url)
            .await
            .expect("scrape")
            .text()
            .await
            .expect("body")
    });
    assert!(
        scraped.lines().any(|line| line
            == "nexus_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"),
        "{scraped}"
    );
    assert!(
        scraped
            .lines()
            .any(|line| line.starts_with("nexus_tenants_open ")),
        "{scraped}"
    );

    // A request's log line carries its span: route and request id, for the collector to join on.
    let answered = loop {
        let line = next(&mut printed);
        if message(&line) == "answered" && line["fields"]["status"] == 404 {
            break line;
        }
    };
    assert!(answered["span"]["route"].is_string(), "{answered}");
    assert!(
        answered["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() >= 32),
        "{answered}"
    );

    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(terminated.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "a SIGTERM stop is a clean exit: {status}");
    let mut rest = Vec::new();
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(10)) {
        rest.push(serde_json::from_str::<Value>(&line).expect("a JSON log line"));
    }
    assert!(
        rest.iter().any(|line| message(line) == "stopped"),
        "{rest:?}"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
