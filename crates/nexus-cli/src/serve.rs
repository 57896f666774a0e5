//! `nexus serve`: the cloud service, and where the server's data is (shared with `nexus tenants`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use nexus_server::{Settings, SettingsLayer};

use crate::daemon::{init_logging, shutdown_signal};

/// Where the data is. Flags win over `NEXUS_*` variables, which win over the config file.
#[derive(Args, Clone)]
pub(crate) struct StorageArgs {
    /// Data directory of the embedded SQLite store [env: NEXUS_DATA] [default: nexus-data]
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// PostgreSQL URL, e.g. postgres://user@host/db [env: NEXUS_DATABASE_URL, DATABASE_URL].
    /// Unset: the embedded SQLite store.
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
    /// TOML config file with the same settings in snake_case [env: NEXUS_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Address to listen on [env: NEXUS_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// PostgreSQL connection pool size [env: NEXUS_DATABASE_MAX_CONNECTIONS] [default: 10]
    #[arg(long, value_name = "N")]
    max_connections: Option<u32>,
    /// Log filter, e.g. info or nexus_server=debug [env: NEXUS_LOG] [default: info]
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
    /// Log lines as text for people or json for a log collector [env: NEXUS_LOG_FORMAT]
    /// [default: text]
    #[arg(long, value_name = "text|json")]
    log_format: Option<nexus_server::LogFormat>,
    /// Serve Prometheus metrics at http://ADDR/metrics, apart from the public address
    /// [env: NEXUS_METRICS_LISTEN] [default: off]
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// Stripe's API, for a test server; the secret keys come only from the environment or
    /// the config file, never a flag that `ps` shows [env: NEXUS_STRIPE_API_BASE]
    /// [default: https://api.stripe.com]
    #[arg(long, value_name = "URL")]
    stripe_api_base: Option<String>,
    /// Paystack's API, for a test server [env: NEXUS_PAYSTACK_API_BASE]
    /// [default: https://api.paystack.co]
    #[arg(long, value_name = "URL")]
    paystack_api_base: Option<String>,
    /// MTN MoMo's Open API, for requests to pay; the sandbox is
    /// https://sandbox.momodeveloper.mtn.com [env: NEXUS_MTN_MOMO_API_BASE]
    /// [default: https://proxy.momoapi.mtn.com]
    #[arg(long, value_name = "URL")]
    mtn_momo_api_base: Option<String>,
}

impl StorageArgs {
    pub(crate) fn layer(&self) -> SettingsLayer {
        SettingsLayer {
            data: self.data.clone(),
            database_url: self
                .database_url
                .clone()
                .map(nexus_server::SecretString::new),
            ..SettingsLayer::default()
        }
    }

    /// Flags, then environment, then the config file, then defaults.
    pub(crate) fn settings(&self, flags: SettingsLayer) -> Result<Settings, String> {
        let lookup = |name: &str| std::env::var(name).ok();
        let environment = SettingsLayer::from_env(&lookup).map_err(|error| error.to_string())?;
        let config_path = self.config.clone().or_else(|| {
            lookup("NEXUS_CONFIG")
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        });
        let file = config_path
            .map(|path| SettingsLayer::from_toml_file(&path))
            .transpose()
            .map_err(|error| error.to_string())?;
        Ok(Settings::resolve(flags, environment, file))
    }
}

pub(crate) async fn run(args: ServeArgs) -> Result<(), String> {
    let mut flags = args.storage.layer();
    flags.listen = args.listen;
    flags.database_max_connections = args.max_connections;
    flags.log = args.log.clone();
    flags.log_format = args.log_format;
    flags.metrics_listen = args.metrics_listen;
    flags.stripe_api_base = args.stripe_api_base.clone();
    flags.paystack_api_base = args.paystack_api_base.clone();
    flags.mtn_momo_api_base = args.mtn_momo_api_base.clone();
    let mut settings = args.storage.settings(flags)?;
    init_logging(
        &settings.log,
        settings.log_format == nexus_server::LogFormat::Json,
    );
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", settings.listen))?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    settings.listening_on(address);
    tracing::info!(store = %settings.describe_store(), "opening the store");
    let public_url = settings.public_url.clone();
    let app = nexus_server::App::open(settings, Arc::new(nexus_domain::SystemClock))
        .await
        .map_err(|error| error.to_string())?;
    let mut app = nexus_web::serve_dashboard(app).map_err(|error| error.to_string())?;
    if let Some(metrics) = app
        .bind_metrics()
        .await
        .map_err(|error| error.to_string())?
    {
        tracing::info!("metrics at http://{metrics}/metrics");
    }
    // Before saying it serves: a stop the instant after must find the handler in place.
    let stopped = shutdown_signal();
    tracing::info!(%address, "Nexus is serving; dashboard at {public_url}/, API at {public_url}/api/v1, health at {public_url}/healthz");
    app.serve(listener, stopped)
        .await
        .map_err(|error| error.to_string())?;
    tracing::info!("stopped");
    Ok(())
}
