//! What an operator's Prometheus scrapes, on a listener of its own (`metrics_listen`, off by
//! default) so that the figures are never on the public address: requests by route and status
//! with their latency, requests in flight, sync ops by outcome, the database pool and the tenant
//! databases open. Written in the Prometheus text format (version 0.0.4) by hand: a few counters
//! do not need a metrics crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use nexus_store::PoolStats;
use nexus_sync::{OpResult, OpStatus};

use crate::state::AppState;

/// Upper bounds of the latency buckets, in microseconds: from a cached page (a few ms) to a
/// push of 500 sales on a slow disk (seconds).
const BUCKET_BOUNDS_MICROS: [u64; 12] = [
    5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
    10_000_000, 30_000_000,
];

/// One series of requests: its labels.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RequestKey {
    method: &'static str,
    /// The route's pattern (`/api/v1/products/{id}`), never the path itself, so that the
    /// number of series stays bounded whatever clients ask for.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Default)]
struct Latencies {
    /// Requests whose latency was at most each bound (not cumulative here; summed on output).
    buckets: [u64; BUCKET_BOUNDS_MICROS.len()],
    count: u64,
    sum_micros: u64,
}

impl Latencies {
    fn observe(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        if let Some(bucket) = BUCKET_BOUNDS_MICROS
            .iter()
            .position(|bound| micros <= *bound)
        {
            self.buckets[bucket] += 1;
        }
        self.count += 1;
        self.sum_micros = self.sum_micros.saturating_add(micros);
    }
}

/// The service's counters, shared by every request.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RequestKey, Latencies>>,
    in_flight: AtomicI64,
    ops_applied: AtomicU64,
    ops_duplicate: AtomicU64,
    ops_rejected: AtomicU64,
}

/// Counts a request in flight until dropped, however the request ends.
struct InFlight<'m>(&'m AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Methods outside the usual ones share one label, so a client inventing methods cannot
/// create series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    fn record(&self, key: RequestKey, latency: Duration) {
        // A poisoned lock only means another request panicked while counting; the counts are
        // still whole numbers worth keeping.
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        requests.entry(key).or_default().observe(latency);
    }

    /// Counts the outcomes of one push that was recorded.
    pub fn count_sync_ops(&self, results: &[OpResult]) {
        for result in results {
            let counter = match result.status {
                OpStatus::Applied => &self.ops_applied,
                OpStatus::Duplicate => &self.ops_duplicate,
                OpStatus::Rejected => &self.ops_rejected,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The whole exposition, with the store's pool as it is now.
    pub fn render(&self, pool: &PoolStats) -> String {
        let mut out = String::new();
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        family(
            &mut out,
            "nexus_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route and status.",
        );
        for (key, latencies) in &requests {
            let _ = writeln!(
                out,
                "nexus_http_requests_total{{{}}} {}",
                request_labels(key),
                latencies.count
            );
        }
        family(
            &mut out,
            "nexus_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its answer, by method, route and status.",
        );
        for (key, latencies) in &requests {
            let labels = request_labels(key);
            let mut cumulative = 0;
            for (bound, in_bucket) in BUCKET_BOUNDS_MICROS.iter().zip(latencies.buckets) {
                cumulative += in_bucket;
                let _ = writeln!(
                    out,
                    "nexus_http_request_duration_seconds_bucket{{{labels},le=\"{}\"}} {cumulative}",
                    seconds(*bound)
                );
            }
            let _ = writeln!(
                out,
                "nexus_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                latencies.count
            );
            let _ = writeln!(
                out,
                "nexus_http_request_duration_seconds_sum{{{labels}}} {}",
                seconds(latencies.sum_micros)
            );
            let _ = writeln!(
                out,
                "nexus_http_request_duration_seconds_count{{{labels}}} {}",
                latencies.count
            );
        }
        gauge(
            &mut out,
            "nexus_http_requests_in_flight",
            "Requests being answered now.",
            self.in_flight.load(Ordering::Relaxed).max(0),
        );
        family(
            &mut out,
            "nexus_sync_ops_total",
            "counter",
            "Ops pushed by stations, by outcome: applied, duplicate (already had) or rejected.",
        );
        for (outcome, counter) in [
            ("applied", &self.ops_applied),
            ("duplicate", &self.ops_duplicate),
            ("rejected", &self.ops_rejected),
        ] {
            let _ = writeln!(
                out,
                "nexus_sync_ops_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        gauge(
            &mut out,
            "nexus_db_connections_in_use",
            "Database connections lent out now.",
            pool.in_use,
        );
        gauge(
            &mut out,
            "nexus_db_connections_idle",
            "Database connections open and waiting in the pool.",
            pool.idle,
        );
        gauge(
            &mut out,
            "nexus_db_connections_max",
            "The most connections the pool may open.",
            pool.max,
        );
        gauge(
            &mut out,
            "nexus_tenants_open",
            "Tenant databases open now (SQLite files kept open; on PostgreSQL every tenant is a schema behind the one pool, so the tenants served since start).",
            pool.tenants_open,
        );
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    family(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

fn request_labels(key: &RequestKey) -> String {
    format!(
        "method=\"{}\",route=\"{}\",status=\"{}\"",
        key.method,
        escape_label(&key.route),
        key.status
    )
}

/// A label value as the text format wants it: backslash, double quote and newline escaped.
fn escape_label(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Microseconds as decimal seconds, exactly (no float rounding in the bucket bounds).
fn seconds(micros: u64) -> String {
    let whole = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Middleware: counts every request by its route's pattern and status, and how long it took.
pub(crate) async fn count_requests(
    State(metrics): State<std::sync::Arc<Metrics>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let _in_flight = metrics.enter();
    let response = next.run(request).await;
    let key = RequestKey {
        method,
        route,
        status: response.status().as_u16(),
    };
    metrics.record(key, started.elapsed());
    response
}

/// `GET /metrics` on the metrics listener.
async fn exposition(State(state): State<AppState>) -> Response {
    let body = state.metrics.render(&state.store.pool_stats());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// What the metrics listener serves: `/metrics` and nothing else.
pub(crate) fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(exposition))
        .fallback(|| async {
            (
                axum::http::StatusCode::NOT_FOUND,
                "only /metrics is served here\n",
            )
        })
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_bounds_exact() {
        let metrics = Metrics::default();
        let key = RequestKey {
            method: "GET",
            route: "/api/v1/products/{id}".to_owned(),
            status: 200,
        };
        for millis in [1, 7, 7, 40_000] {
            metrics.record(key.clone(), Duration::from_millis(millis));
        }
        let text = metrics.render(&PoolStats::default());
        let labels = "method=\"GET\",route=\"/api/v1/products/{id}\",status=\"200\"";
        for expected in [
            format!("nexus_http_requests_total{{{labels}}} 4"),
            format!("nexus_http_request_duration_seconds_bucket{{{labels},le=\"0.005\"}} 1"),
            format!("nexus_http_request_duration_seconds_bucket{{{labels},le=\"0.01\"}} 3"),
            format!("nexus_http_request_duration_seconds_bucket{{{labels},le=\"30\"}} 3"),
            format!("nexus_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 4"),
            format!("nexus_http_request_duration_seconds_sum{{{labels}}} 40.015"),
            format!("nexus_http_request_duration_seconds_count{{{labels}}} 4"),
        ] {
            assert!(
                text.lines().any(|line| line == expected),
                "{expected}\n{text}"
            );
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(seconds(2_500_000), "2.5");
        assert_eq!(seconds(25_000), "0.025");
    }

    #[test]
    fn every_family_is_declared_once_before_its_samples() {
        let metrics = Metrics::default();
        metrics.record(
            RequestKey {
                method: "POST",
                route: "/x".to_owned(),
                status: 201,
            },
            Duration::from_millis(3),
        );
        let text = metrics.render(&PoolStats::default());
        let mut declared = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap_or_default();
                assert!(declared.insert(name.to_owned()), "{name} declared twice");
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap_or_default();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|suffix| {
                        name.strip_suffix(suffix)
                            .filter(|family| declared.contains(*family))
                    })
                    .unwrap_or(name);
                assert!(declared.contains(family), "{line} before its TYPE");
            }
        }
    }
}
