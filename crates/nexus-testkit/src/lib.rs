//! Test support: a real Nexus server on `127.0.0.1:0`, on SQLite (always) or PostgreSQL (when
//! `NEXUS_TEST_DATABASE_URL` is set), with a clock the test moves by hand.
//!
//! Each PostgreSQL test server gets a database of its own, created from the admin URL and dropped
//! when the server stops, so tests run in parallel without seeing each other's tenants.
//!
//! [`smtp::SmtpSink`] is an SMTP server on `127.0.0.1:0` for the email tests.

pub mod printer;
pub mod smtp;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use nexus_domain::{Clock, UnixMillis};
use nexus_fake_provider::{FakeConfig, FakeProvider};
use nexus_server::billing::BillingSettings;
use nexus_server::{App, Settings};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::sync::oneshot;
use uuid::Uuid;

/// A clock that only moves when told to. Starts at 2026-01-01T00:00:00Z.
#[derive(Debug)]
pub struct ManualClock {
    millis: AtomicI64,
}

impl ManualClock {
    pub const START: UnixMillis = UnixMillis::from_millis(1_767_225_600_000);

    pub fn new() -> Self {
        Self {
            millis: AtomicI64::new(Self::START.as_millis()),
        }
    }

    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixMillis {
        UnixMillis::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

/// Which storage backend a test server runs on.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    /// `admin_url` names a database the tests may create and drop databases from. With
    /// `pooler_url` (PgBouncer in front of the same PostgreSQL), servers reach their scratch
    /// database through it; databases are still created and dropped directly.
    Postgres {
        admin_url: String,
        pooler_url: Option<String>,
    },
}

impl Backend {
    /// PostgreSQL from `NEXUS_TEST_DATABASE_URL`, or `None` when it is unset. Under `CI=true`
    /// an unset variable is a failure, never a silent skip. `NEXUS_TEST_PGBOUNCER_URL` (any
    /// database name; only its server part is used) puts PgBouncer between the servers and it.
    pub fn postgres_from_env() -> Option<Backend> {
        let set = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|url| !url.trim().is_empty())
        };
        match set("NEXUS_TEST_DATABASE_URL") {
            Some(admin_url) => Some(Backend::Postgres {
                admin_url,
                pooler_url: set("NEXUS_TEST_PGBOUNCER_URL"),
            }),
            None => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true but NEXUS_TEST_DATABASE_URL is unset: the PostgreSQL tests must run in CI"
                );
                None
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

/// Replaces the database name in a PostgreSQL URL, keeping any query string.
pub fn with_database(url: &str, database: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (url, None),
    };
    let scheme_end = before_query.find("://").map_or(0, |index| index + 3);
    let base = match before_query[scheme_end..].find('/') {
        Some(slash) => &before_query[..scheme_end + slash],
        None => before_query,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// A scratch PostgreSQL database, dropped (with its connections) on `drop_now` or on drop.
pub struct ScratchDatabase {
    admin_url: String,
    pooler_url: Option<String>,
    name: String,
    dropped: bool,
}

impl ScratchDatabase {
    pub async fn create(admin_url: &str, pooler_url: Option<&str>) -> Self {
        let name = format!("nexus_test_{}", Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|error| {
                panic!("cannot reach PostgreSQL at NEXUS_TEST_DATABASE_URL: {error}")
            });
        sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
        let _ = admin.close().await;
        Self {
            admin_url: admin_url.to_owned(),
            pooler_url: pooler_url.map(str::to_owned),
            name,
            dropped: false,
        }
    }

    /// The database on PostgreSQL itself, never through the pooler: where live updates listen
    /// (LISTEN cannot pass through PgBouncer in transaction mode).
    pub fn direct_url(&self) -> String {
        with_database(&self.admin_url, &self.name)
    }

    /// Where a server reaches the database: through the pooler when there is one.
    pub fn url(&self) -> String {
        with_database(
            self.pooler_url.as_deref().unwrap_or(&self.admin_url),
            &self.name,
        )
    }

    pub async fn drop_now(&mut self) {
        if self.dropped {
            return;
        }
        self.dropped = true;
        if let Ok(mut admin) = sqlx::PgConnection::connect(&self.admin_url).await {
            let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
            let _ = sqlx::Executor::execute(&mut admin, statement.as_str()).await;
            let _ = admin.close().await;
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // A test that panicked never reached `stop`; clean up on a thread of our own, since
        // the test's runtime may be gone.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let mut scratch = ScratchDatabase {
                    admin_url,
                    pooler_url: None,
                    name,
                    dropped: false,
                };
                scratch.drop_now().await;
            });
        });
        let _ = cleanup.join();
    }
}

/// A scratch directory for the SQLite store, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create() -> Self {
        let path = std::env::temp_dir().join(format!("nexus-test-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()));
        Self(path)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An answer from the server: status and JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The `error.code` of an error answer, or "" when there is none.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The number of items in a list answer; fails the test when the body is not a list.
    pub fn list_len(&self) -> usize {
        self.body
            .as_array()
            .map_or_else(|| panic!("not a list: {:?}", self.body), Vec::len)
    }

    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {:?}", self.body))
            .to_owned()
    }
}

/// A signed-in organisation owner, as `register` returns it.
#[derive(Clone, Debug)]
pub struct Owner {
    pub tenant_id: String,
    pub user_id: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// A running server and what a test needs to talk to it.
pub struct TestServer {
    pub base_url: String,
    pub clock: Arc<ManualClock>,
    pub backend: Backend,
    /// The server's own store, for checks the API cannot make.
    pub store: Arc<dyn nexus_store::Store>,
    /// `http://…/metrics` when the settings asked for a metrics listener.
    pub metrics_url: Option<String>,
    database_url: Option<String>,
    settings: Settings,
    address: std::net::SocketAddr,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    database: Option<ScratchDatabase>,
    _data_dir: ScratchDir,
}

impl TestServer {
    pub async fn start(backend: &Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// A server billing through both providers, each pointed at an in-repo fake that keeps
    /// the server's clock and delivers its webhooks to the server.
    pub async fn start_billed(backend: &Backend) -> (Self, FakeProvider) {
        Self::start_billed_with(backend, |_| {}).await
    }

    /// [`TestServer::start_billed`] with the settings changed by `tweak` first.
    pub async fn start_billed_with(
        backend: &Backend,
        tweak: impl FnOnce(&mut Settings),
    ) -> (Self, FakeProvider) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake provider");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let keys = FakeConfig::test();
        let server = Self::start_with(backend, |settings| {
            settings.billing = BillingSettings::both_under(
                &base,
                &keys.stripe_secret_key,
                &keys.stripe_webhook_secret,
                &keys.paystack_secret_key,
            );
            tweak(settings);
        })
        .await;
        let clock = Arc::clone(&server.clock);
        let config = FakeConfig {
            now: Some(Arc::new(move || clock.now().as_seconds())),
            ..keys
        };
        let fake = FakeProvider::start_on(listener, config)
            .await
            .expect("start the fake provider");
        fake.set_webhook_targets(
            Some(format!(
                "{}/api/v1/billing/webhooks/stripe",
                server.base_url
            )),
            Some(format!(
                "{}/api/v1/billing/webhooks/paystack",
                server.base_url
            )),
        );
        (server, fake)
    }

    /// A server whose MTN MoMo requests to pay go to the in-repo fake network, which keeps the
    /// server's clock. The shop's account there is the fake's test account
    /// ([`TestServer::set_fake_momo_account`]).
    pub async fn start_with_momo(backend: &Backend) -> (Self, FakeProvider) {
        Self::start_with_momo_and(backend, |_| {}).await
    }

    /// [`TestServer::start_with_momo`] with the settings changed by `tweak` first.
    pub async fn start_with_momo_and(
        backend: &Backend,
        tweak: impl FnOnce(&mut Settings),
    ) -> (Self, FakeProvider) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake network");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = Self::start_with(backend, |settings| {
            settings.momo.mtn_api_base = format!("{base}/mtn");
            tweak(settings);
        })
        .await;
        let clock = Arc::clone(&server.clock);
        let config = FakeConfig {
            now: Some(Arc::new(move || clock.now().as_seconds())),
            ..FakeConfig::test()
        };
        let fake = FakeProvider::start_on(listener, config)
            .await
            .expect("start the fake network");
        (server, fake)
    }

    /// Saves the fake network's test account as the organisation's MTN MoMo account.
    pub async fn set_fake_momo_account(&self, token: &str, fake: &FakeProvider) -> Answer {
        let config = fake.config();
        self.call(
            reqwest::Method::PUT,
            "/api/v1/momo/accounts/mtn",
            Some(token),
            Some(serde_json::json!({
                "api_user": config.mtn_api_user,
                "api_key": config.mtn_api_key,
                "subscription_key": config.mtn_subscription_key,
                "target_environment": config.mtn_target_environment,
            })),
        )
        .await
    }

    /// The billing account the server holds for the organisation (a fresh trial if billing
    /// never looked at it): its provider, customer and subscription references.
    pub async fn billing_account(&self, tenant_id: &str) -> nexus_domain::billing::Account {
        let tenant = nexus_domain::TenantId::from_uuid(tenant_id.parse().expect("tenant id"));
        let now = self.clock.now();
        let fresh = nexus_domain::billing::Account::new_trial(
            nexus_domain::billing::BillingCurrency::Ghs,
            now,
        );
        self.store
            .billing_account(tenant, &fresh, now)
            .await
            .expect("the billing account")
            .account
    }

    /// Starts a server after letting the test adjust its settings.
    pub async fn start_with(backend: &Backend, configure: impl FnOnce(&mut Settings)) -> Self {
        let data_dir = ScratchDir::create();
        let mut settings = Settings::defaults();
        settings.data_dir = data_dir.0.clone();
        // Every test client comes from 127.0.0.1; tests of the registration limit set their own.
        settings.registrations_per_hour = i32::MAX;
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres {
                admin_url,
                pooler_url,
            } => Some(ScratchDatabase::create(admin_url, pooler_url.as_deref()).await),
        };
        settings.database_url = database
            .as_ref()
            .map(|database| nexus_server::SecretString::new(database.url()));
        // As deployed behind PgBouncer: live updates listen on a direct connection.
        settings.database_listen_url = database
            .as_ref()
            .map(|database| nexus_server::SecretString::new(database.direct_url()));
        configure(&mut settings);
        let clock = Arc::new(ManualClock::new());
        let database_url = settings
            .database_url
            .as_ref()
            .map(|url| url.expose().to_owned());
        let (store, address, metrics, shutdown, task) =
            Self::serve(settings.clone(), clock.clone(), "127.0.0.1:0").await;
        Self {
            base_url: format!("http://{address}"),
            clock,
            backend: backend.clone(),
            store,
            metrics_url: metrics.map(|address| format!("http://{address}/metrics")),
            database_url,
            settings,
            address,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown),
            task: Some(task),
            database,
            _data_dir: data_dir,
        }
    }

    async fn serve(
        settings: Settings,
        clock: Arc<ManualClock>,
        address: &str,
    ) -> (
        Arc<dyn nexus_store::Store>,
        std::net::SocketAddr,
        Option<std::net::SocketAddr>,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        // Bound before the server task starts, so requests queue instead of being refused: no
        // sleeping until the server is "up".
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .unwrap_or_else(|error| panic!("bind {address}: {error}"));
        let address = listener.local_addr().expect("local address");
        let mut settings = settings;
        settings.listening_on(address);
        let app = App::open(settings, clock)
            .await
            .unwrap_or_else(|error| panic!("cannot open the app: {error}"));
        let mut app = nexus_web::serve_dashboard(app)
            .unwrap_or_else(|error| panic!("cannot set up the dashboard's mail: {error}"));
        let metrics = app
            .bind_metrics()
            .await
            .unwrap_or_else(|error| panic!("cannot bind the metrics listener: {error}"));
        let store = app.store().clone();
        let (shutdown, shutdown_signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stop = async {
                let _ = shutdown_signal.await;
            };
            if let Err(error) = app.serve(listener, stop).await {
                panic!("server failed: {error}");
            }
        });
        (store, address, metrics, shutdown, task)
    }

    /// Tells the server to stop, as SIGTERM would, without waiting: it stops accepting and
    /// finishes what is in flight. `pause` or `stop` then waits for it.
    pub fn begin_stopping(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Takes the server off the network (as an outage would), keeping its data; `resume` brings
    /// it back on the same address.
    pub async fn pause(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Reopens the server on its old address, from the data it had.
    pub async fn resume(&mut self) {
        assert!(self.task.is_none(), "the server is already running");
        let (store, _, metrics, shutdown, task) = Self::serve(
            self.settings.clone(),
            self.clock.clone(),
            &self.address.to_string(),
        )
        .await;
        self.store = store;
        self.metrics_url = metrics.map(|address| format!("http://{address}/metrics"));
        self.shutdown = Some(shutdown);
        self.task = Some(task);
    }

    /// The PostgreSQL URL of this server's scratch database; `None` on SQLite.
    /// The URL the server reaches its database by (through PgBouncer when one is configured).
    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref()
    }

    /// The scratch database's URL on PostgreSQL itself, never through a pooler: for a test's own
    /// checks and set-up statements, which use session features a pooler does not carry.
    pub fn direct_database_url(&self) -> Option<String> {
        self.database
            .as_ref()
            .map(|database| with_database(&database.admin_url, &database.name))
    }

    /// The SQLite data directory (used on both backends for anything kept on disk).
    pub fn data_dir(&self) -> &std::path::Path {
        &self._data_dir.0
    }

    /// Stops the server, waits for it, and drops its scratch database.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(database) = self.database.as_mut() {
            database.drop_now().await;
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Self::send(request, path, body).await
    }

    /// Sends `request` with `body` as JSON, if any, and reads the answer.
    async fn send(mut request: reqwest::RequestBuilder, path: &str, body: Option<Value>) -> Answer {
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("request to {path} failed: {error}"));
        Self::answer(response).await
    }

    /// Calls as an enrolled till: `Authorization: Station <credential>`.
    pub async fn call_as_station(
        &self,
        method: Method,
        path: &str,
        credential: &str,
        body: Option<Value>,
    ) -> Answer {
        let request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Station {credential}"),
            );
        Self::send(request, path, body).await
    }

    /// Sends raw bytes with the given content type.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Self::send(request, path, None).await
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_default();
        // JSON when the body is JSON; anything else (a CSV export, say) as a string.
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// Registers an organisation and returns its signed-in owner.
    pub async fn register(&self, organisation: &str) -> Owner {
        let email = format!("owner-{}@example.gh", Uuid::new_v4().simple());
        let password = "correct horse battery".to_owned();
        let answer = self
            .call(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({ "organisation": organisation, "email": email, "password": password })),
            )
            .await;
        assert_eq!(answer.status, 201, "register: {:?}", answer.body);
        let text = |key: &str| {
            answer.body[key]
                .as_str()
                .unwrap_or_else(|| panic!("no {key}"))
                .to_owned()
        };
        Owner {
            tenant_id: text("tenant_id"),
            user_id: text("user_id"),
            email,
            password,
            access_token: text("access_token"),
            refresh_token: text("refresh_token"),
        }
    }

    /// Swaps a refresh token for a new pair.
    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        let body = json!({ "refresh_token": refresh_token });
        self.call(Method::POST, "/api/v1/auth/refresh", None, Some(body))
            .await
    }

    /// Ends the session a refresh token belongs to.
    pub async fn logout(&self, refresh_token: &str) -> Answer {
        let body = json!({ "refresh_token": refresh_token });
        self.call(Method::POST, "/api/v1/auth/logout", None, Some(body))
            .await
    }

    /// Creates a branch called `name` and returns its id; any other answer fails the test.
    pub async fn create_branch(&self, token: &str, name: &str) -> String {
        let answer = self
            .post("/api/v1/branches", token, json!({ "name": name }))
            .await;
        assert_eq!(
            answer.status, 201,
            "create branch {name}: {:?}",
            answer.body
        );
        answer.id()
    }

    /// Signs in with email and password; returns the token pair's JSON.
    /// Follows a background job (`GET location`) until it is no longer running; its last
    /// answer. Jobs run on the server's own tasks, so this waits in short steps, at most a
    /// minute.
    pub async fn wait_for_job(&self, location: &str, token: &str) -> Answer {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let answer = self.get(location, token).await;
            assert_eq!(answer.status, 200, "{location}: {:?}", answer.body);
            if answer.body["state"] != "running" {
                return answer;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{location} still running after a minute: {:?}",
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": email, "password": password })),
        )
        .await
    }
}

/// Runs `test` on SQLite, and on PostgreSQL too when `NEXUS_TEST_DATABASE_URL` is set.
/// Generates one `#[tokio::test]` per backend so each shows up (and fails) by name.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&$crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match $crate::Backend::postgres_from_env() {
                        Some(backend) => super::$name(&backend).await,
                        None => eprintln!("NEXUS_TEST_DATABASE_URL is unset; PostgreSQL case skipped"),
                    }
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
