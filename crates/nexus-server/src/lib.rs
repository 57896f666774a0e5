//! The Nexus cloud service as a library.
//!
//! [`launch`] runs it: `launch(settings, listener, shutdown)`. Tests bind `127.0.0.1:0`, open
//! an [`App`] with a clock they control, and drive it over real HTTP.

pub mod auth;
pub mod billing;
pub use nexus_domain::calendar;
pub mod error;
pub mod events;
pub mod extract;
pub mod mail;
pub mod metrics;
pub mod momo;
mod routes;
mod serve;
pub mod services;
pub mod settings;
pub mod state;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use nexus_domain::{Clock, SystemClock};
use nexus_store::{Store, StoreOptions};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::{Level, Span};

pub use serve::{Stopping, peer_address};
pub use settings::{LogFormat, SecretString, Settings, SettingsError, SettingsLayer};

use crate::auth::TokenKeys;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Store(#[from] nexus_store::StoreError),
    #[error("the JWT secret must be at least 32 characters long")]
    WeakJwtSecret,
    #[error("serving HTTP: {0}")]
    Serve(#[from] std::io::Error),
}

/// The service, opened and ready to serve.
pub struct App {
    settings: Settings,
    state: AppState,
    api: Router<AppState>,
    /// What answers a path no route has, when pages are served (an HTML page for people).
    page_fallback: Option<MethodRouter<AppState>>,
    /// The metrics listener, once bound ([`App::bind_metrics`]).
    metrics_listener: Option<TcpListener>,
}

impl App {
    /// Opens the store the settings name (migrating its control data) and loads the signing key.
    pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, LaunchError> {
        let location = settings.store_location()?;
        let options = StoreOptions {
            max_connections: settings.database_max_connections,
            ..StoreOptions::default()
        };
        let store = nexus_store::open(&location, &options).await?;
        Self::with_store(settings, store, clock).await
    }

    pub async fn with_store(
        settings: Settings,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, LaunchError> {
        let secret = match &settings.jwt_secret {
            Some(secret) if secret.expose().len() < 32 => return Err(LaunchError::WeakJwtSecret),
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => {
                let candidate = auth::random_bytes(32).map_err(|_| {
                    LaunchError::Serve(std::io::Error::other(
                        "the system random number generator failed",
                    ))
                })?;
                store.signing_secret(&candidate).await?
            }
        };
        let (api, document) = routes::api_routes();
        let openapi_json = document.to_json().map_err(|error| {
            LaunchError::Serve(std::io::Error::other(format!(
                "rendering the OpenAPI document: {error}"
            )))
        })?;
        let events = match store.backend() {
            nexus_store::BackendKind::Sqlite => events::Events::in_process(),
            nexus_store::BackendKind::Postgres => {
                if settings.database_listen_url.is_none()
                    && settings
                        .database_url
                        .as_ref()
                        .is_some_and(|url| url.expose().contains(":6432/"))
                {
                    // PgBouncer's usual port. A LISTEN through it in transaction mode leaves its
                    // server connection subscribed, and other requests' queries then fail on
                    // the notifications that arrive there.
                    tracing::warn!(
                        "the database URL looks like PgBouncer (port 6432): set NEXUS_DATABASE_LISTEN_URL to a direct PostgreSQL URL for live updates"
                    );
                }
                let url = settings
                    .database_listen_url
                    .as_ref()
                    .or(settings.database_url.as_ref())
                    .map(|url| url.expose().to_owned())
                    .unwrap_or_default();
                events::Events::through_database(store.clone(), url).await?
            }
        };
        let state = AppState {
            store,
            clock,
            tokens: TokenKeys::from_secret(&secret),
            openapi_json: Arc::new(openapi_json),
            trusted_proxies: Arc::new(settings.trusted_proxies.clone()),
            registration_limit: nexus_domain::throttle::Policy::Window {
                limit: settings.registrations_per_hour,
                seconds: 60 * 60,
            },
            sign_ins: Arc::default(),
            events,
            billing: Arc::new(billing::Billing::from_settings(&settings.billing)),
            momo: Arc::new(momo::Networks::from_settings(&settings.momo)),
            public_url: Arc::from(settings.public_url.as_str()),
            metrics: Arc::default(),
            longest_pull_wait: settings
                .http
                .idle_timeout
                .saturating_sub(Duration::from_secs(5))
                .min(Duration::from_secs(nexus_sync::LONGEST_PULL_WAIT_SECONDS)),
        };
        Ok(Self {
            settings,
            state,
            api,
            page_fallback: None,
            metrics_listener: None,
        })
    }

    /// Serves `pages` (the merchant dashboard) beside the API, on the same state; `not_found`
    /// answers every path no route has (it must answer `/api/` paths with
    /// [`ApiError::not_found`], as the API alone does).
    pub fn with_pages(
        mut self,
        pages: Router<AppState>,
        not_found: MethodRouter<AppState>,
    ) -> Self {
        self.api = self.api.merge(pages);
        self.page_fallback = Some(not_found);
        self
    }

    /// The state the handlers share, for pages built on the same services.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The settings the service runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.state.store
    }

    pub fn router(&self) -> Router {
        let api = match &self.page_fallback {
            Some(not_found) => self.api.clone().fallback(not_found.clone()),
            None => self
                .api
                .clone()
                .fallback(|| async { ApiError::not_found("route") }),
        };
        router(api, self.state.clone(), &self.settings)
    }

    /// Binds the metrics listener the settings name, if any, and says where it is (port 0
    /// becomes a real port). [`App::serve`] binds it when this was not called.
    pub async fn bind_metrics(&mut self) -> Result<Option<std::net::SocketAddr>, LaunchError> {
        if self.metrics_listener.is_none()
            && let Some(address) = self.settings.metrics_listen
        {
            let listener = TcpListener::bind(address).await.map_err(|error| {
                LaunchError::Serve(std::io::Error::new(
                    error.kind(),
                    format!("cannot listen for metrics on {address}: {error}"),
                ))
            })?;
            self.metrics_listener = Some(listener);
        }
        self.metrics_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()
            .map_err(LaunchError::Serve)
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight. The metrics
    /// listener, when there is one, stays up until they are done, so the drain can be watched.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), LaunchError> {
        self.bind_metrics().await?;
        let limits = self.settings.http.clone();
        let settling = self.settings.billing.enabled().then(|| {
            tokio::spawn(services::billing::settle_every(
                self.state.clone(),
                self.settings.billing.settle_every,
            ))
        });
        let _stop_settling = AbortOnDrop(settling);
        let _stop_following_up = AbortOnDrop(Some(tokio::spawn(
            services::momo_requests::check_open_every(
                self.state.clone(),
                self.settings.momo.follow_up_every,
            ),
        )));
        let Some(metrics_listener) = self.metrics_listener.take() else {
            serve::serve(listener, self.router(), limits, shutdown).await?;
            return Ok(());
        };
        let (stop_metrics, metrics_stopping) = tokio::sync::watch::channel(false);
        let metrics = tokio::spawn(serve::serve(
            metrics_listener,
            metrics::router(self.state.clone()),
            limits.clone(),
            async move {
                let mut stopping = metrics_stopping;
                let _ = stopping.wait_for(|stopping| *stopping).await;
            },
        ));
        let served = serve::serve(listener, self.router(), limits, shutdown).await;
        let _ = stop_metrics.send(true);
        let _ = metrics.await;
        served?;
        Ok(())
    }
}

/// Stops a background task when the server it belongs to stops, however `serve` returns.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// Runs the service on `listener` with the system clock until `shutdown` completes.
pub async fn launch(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LaunchError> {
    App::open(settings, Arc::new(SystemClock))
        .await?
        .serve(listener, shutdown)
        .await
}

fn is_health_check(path: &str) -> bool {
    path == "/healthz" || path == "/readyz"
}

/// Runs the rest of the request on its own task, so a client that goes away mid-request (a till
/// losing power half-way through a push) cannot cancel a handler between two statements of a
/// database transaction. The work finishes and commits or rolls back whole; only the answer is
/// dropped. (A transaction future dropped mid-way leaves its pooled connection unusable for
/// `BEGIN` until the connection is recycled, which the crash test found.)
async fn run_to_completion(request: Request, next: axum::middleware::Next) -> Response {
    use tracing::Instrument as _;
    let handler = tokio::spawn(next.run(request).instrument(Span::current()));
    match handler.await {
        Ok(response) => response,
        // Panics are caught inside (CatchPanicLayer); this is the runtime shutting down.
        Err(_) => ApiError::internal("the request was abandoned").into_response(),
    }
}

fn router(api: Router<AppState>, state: AppState, settings: &Settings) -> Router {
    let max_body_bytes = settings.max_body_bytes;
    // The largest body any route takes: the body deadline reads up to this much, and each route
    // applies its own limit to what was read.
    let body_cap = max_body_bytes.max(routes::LARGEST_BODY_BYTES);
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            let request_id = request
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or("-")
                .to_owned();
            let route = request
                .extensions()
                .get::<MatchedPath>()
                .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
            // Health checks are polled constantly; they log at debug so they do not drown the rest.
            if is_health_check(request.uri().path()) {
                tracing::debug_span!("request", method = %request.method(), route, request_id, tenant = tracing::field::Empty)
            } else {
                tracing::info_span!("request", method = %request.method(), route, request_id, tenant = tracing::field::Empty)
            }
        })
        .on_request(())
        .on_response(|response: &Response, latency: Duration, span: &Span| {
            let status = response.status().as_u16();
            let latency_ms = latency.as_secs_f64() * 1000.0;
            if span.metadata().is_some_and(|metadata| *metadata.level() == Level::DEBUG) {
                tracing::debug!(status, latency_ms, "answered");
            } else {
                tracing::info!(status, latency_ms, "answered");
            }
        });
    api.method_not_allowed_fallback(|| async {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not take that method",
        )
    })
    .layer(DefaultBodyLimit::max(max_body_bytes))
    .layer(CatchPanicLayer::custom(
        |_panic: Box<dyn std::any::Any + Send>| {
            ApiError::internal("a handler panicked").into_response()
        },
    ))
    .layer(axum::middleware::from_fn(run_to_completion))
    .layer(axum::middleware::from_fn_with_state(
        (settings.http.body_timeout, body_cap),
        serve::read_body_within,
    ))
    // Outside the body deadline and the handler, so a request still sending its body counts
    // as in flight.
    .layer(axum::middleware::from_fn_with_state(
        state.metrics.clone(),
        metrics::count_requests,
    ))
    .layer(trace)
    .layer(PropagateRequestIdLayer::x_request_id())
    .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
    .with_state(state)
}
