//! `nexus`: the one binary. `nexus serve` runs the cloud service; `nexus tenants` administers
//! tenants. The station's subcommands join as the station is built.

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use nexus_server::{Settings, SettingsLayer};
use nexus_store::StoreOptions;
use nexus_store::migrate::{MigrateProgress, migrate_all_tenants};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "nexus",
    version,
    about = "Nexus Retail OS: offline-first point of sale and cloud service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the cloud service (API and sign-in). With no flags: SQLite under ./nexus-data,
    /// listening on 127.0.0.1:8080.
    Serve(ServeArgs),
    /// Administer tenants (organisations).
    Tenants {
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// The shop station: enrol it, sync it, see its state.
    Pos {
        #[command(subcommand)]
        command: PosCommand,
    },
}

#[derive(Subcommand)]
enum PosCommand {
    /// Enrol this station with the one-time code from the dashboard or API.
    Enroll {
        /// The cloud service, e.g. http://127.0.0.1:8080
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        #[command(flatten)]
        station: StationArgs,
    },
    /// Push everything unsynced and pull everything new, once.
    Sync(StationArgs),
    /// Ring up a cash sale offline, priced and taxed from the last sync: prints the sale's id
    /// once it is committed locally.
    Sell {
        /// A product's SKU or barcode and a quantity, e.g. `RICE-5KG=2`; repeat for more lines.
        #[arg(long = "line", value_name = "CODE=QUANTITY", required = true)]
        lines: Vec<String>,
        /// The staff id of the cashier (of this branch, as of the last sync).
        #[arg(long)]
        cashier: String,
        #[command(flatten)]
        station: StationArgs,
    },
    /// Enrolment, unsynced sales and since when, last sync, quarantined ops.
    Status {
        #[command(flatten)]
        station: StationArgs,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct StationArgs {
    /// The station's data directory [default: nexus-station]
    #[arg(long, value_name = "DIR", default_value = "nexus-station")]
    data: PathBuf,
}

#[derive(Subcommand)]
enum TenantsCommand {
    /// List every tenant with its schema version.
    List(StorageArgs),
    /// Bring every tenant to this build's schema version. Safe to interrupt and run again.
    Migrate {
        #[command(flatten)]
        storage: StorageArgs,
        /// Tenants migrated at the same time.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
    },
}

/// Where the data is. Flags win over `NEXUS_*` variables, which win over the config file.
#[derive(Args, Clone)]
struct StorageArgs {
    /// Data directory of the embedded SQLite store [env: NEXUS_DATA] [default: nexus-data]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// PostgreSQL URL, e.g. postgres://user@host/db [env: NEXUS_DATABASE_URL, DATABASE_URL].
    /// Unset: the embedded SQLite store.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// TOML config file with the same settings in snake_case [env: NEXUS_CONFIG]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
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
}

impl StorageArgs {
    fn layer(&self) -> SettingsLayer {
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
    fn settings(&self, flags: SettingsLayer) -> Result<Settings, String> {
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

fn init_logging(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let mut flags = args.storage.layer();
    flags.listen = args.listen;
    flags.database_max_connections = args.max_connections;
    flags.log = args.log.clone();
    let settings = args.storage.settings(flags)?;
    init_logging(&settings.log);
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", settings.listen))?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    tracing::info!(store = %settings.describe_store(), "opening the store");
    let app = nexus_server::App::open(settings, Arc::new(nexus_domain::SystemClock))
        .await
        .map_err(|error| error.to_string())?;
    tracing::info!(%address, "Nexus is serving; API at http://{address}/api/v1, health at http://{address}/healthz");
    app.serve(listener, shutdown_signal())
        .await
        .map_err(|error| error.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

async fn open_store(storage: &StorageArgs) -> Result<Arc<dyn nexus_store::Store>, String> {
    let settings = storage.settings(storage.layer())?;
    let location = settings
        .store_location()
        .map_err(|error| error.to_string())?;
    nexus_store::open(&location, &StoreOptions::default())
        .await
        .map_err(|error| error.to_string())
}

async fn list_tenants(storage: StorageArgs) -> Result<(), String> {
    let store = open_store(&storage).await?;
    let tenants = store
        .list_tenants()
        .await
        .map_err(|error| error.to_string())?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{:<36}  {:>6}  NAME", "TENANT", "SCHEMA");
    for tenant in &tenants {
        let _ = writeln!(
            out,
            "{:<36}  {:>6}  {}",
            tenant.id, tenant.schema_version, tenant.name
        );
    }
    let _ = writeln!(out, "{} tenant(s)", tenants.len());
    Ok(())
}

/// A progress bar on a terminal; a line every tenth of the way otherwise (logs, CI).
fn progress_printer() -> impl FnMut(MigrateProgress) {
    let on_terminal = std::io::stderr().is_terminal();
    let mut last_tenth = 0;
    move |progress: MigrateProgress| {
        let mut err = std::io::stderr().lock();
        let total = progress.total.max(1);
        if on_terminal {
            let width = 30;
            let filled = progress.done * width / total;
            let _ = write!(
                err,
                "\r[{}{}] {}/{} tenants, {} failed, {:.1} s ",
                "#".repeat(filled),
                " ".repeat(width - filled),
                progress.done,
                progress.total,
                progress.failed,
                progress.elapsed.as_secs_f64()
            );
            if progress.done == progress.total {
                let _ = writeln!(err);
            }
        } else {
            let tenth = progress.done * 10 / total;
            if tenth > last_tenth || progress.done == progress.total {
                last_tenth = tenth;
                let _ = writeln!(
                    err,
                    "migrated {}/{} tenants ({} failed)",
                    progress.done, progress.total, progress.failed
                );
            }
        }
    }
}

async fn migrate_tenants(storage: StorageArgs, concurrency: u16) -> Result<(), String> {
    let store = open_store(&storage).await?;
    let report = migrate_all_tenants(
        store.as_ref(),
        usize::from(concurrency),
        progress_printer(),
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await
    .map_err(|error| error.to_string())?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} tenant(s) needed migrating: {} migrated, {} already current, {} failed, in {:.1} s",
        report.total,
        report.migrated,
        report.already_current,
        report.failures.len(),
        report.elapsed.as_secs_f64()
    );
    for (tenant, error) in &report.failures {
        let _ = writeln!(out, "  {tenant}: {error}");
    }
    if report.interrupted {
        return Err("interrupted; run `nexus tenants migrate` again to finish".to_owned());
    }
    if !report.failures.is_empty() {
        return Err(format!(
            "{} tenant(s) failed to migrate",
            report.failures.len()
        ));
    }
    Ok(())
}

async fn pos(command: PosCommand) -> Result<(), String> {
    let clock = nexus_domain::SystemClock;
    let open = |data: PathBuf| async move {
        nexus_pos::Station::open(&data)
            .await
            .map_err(|error| error.to_string())
    };
    let mut out = std::io::stdout().lock();
    match command {
        PosCommand::Enroll {
            server,
            code,
            station,
        } => {
            let station = open(station.data).await?;
            let id = station
                .enroll(&server, &code)
                .await
                .map_err(|error| error.to_string())?;
            let _ = writeln!(
                out,
                "enrolled as station {id}; run `nexus pos sync` to fetch the catalogue"
            );
        }
        PosCommand::Sync(station) => {
            let station = open(station.data).await?;
            let report = station
                .sync(&clock)
                .await
                .map_err(|error| error.to_string())?;
            let _ = writeln!(
                out,
                "pushed {} op(s) ({} refused), pulled {} change(s)",
                report.pushed, report.rejected, report.pulled
            );
        }
        PosCommand::Sell {
            lines,
            cashier,
            station,
        } => {
            let cashier: nexus_domain::UserId = cashier
                .parse::<uuid::Uuid>()
                .map(nexus_domain::UserId::from_uuid)
                .map_err(|_| format!("--cashier {cashier:?} is not a staff id"))?;
            let mut parsed = Vec::with_capacity(lines.len());
            for line in &lines {
                let (code, quantity) = line
                    .rsplit_once('=')
                    .ok_or_else(|| format!("--line {line:?}: expected CODE=QUANTITY"))?;
                let quantity: nexus_domain::Quantity = quantity
                    .parse()
                    .map_err(|error| format!("--line {line:?}: {error}"))?;
                parsed.push((code.to_owned(), quantity));
            }
            let station = open(station.data).await?;
            let (sale, total) = station
                .sell(&clock, cashier.as_uuid(), &parsed)
                .await
                .map_err(|error| error.to_string())?;
            let _ = writeln!(out, "sale {sale} recorded, total {total} (minor units)");
        }
        PosCommand::Status { station, json } => {
            let station = open(station.data).await?;
            let status = station.status().await.map_err(|error| error.to_string())?;
            if json {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&status).unwrap_or_default()
                );
            } else {
                let _ = writeln!(
                    out,
                    "enrolled: {}",
                    if status.enrolled {
                        status.server.as_deref().unwrap_or("yes")
                    } else {
                        "no"
                    }
                );
                let _ = writeln!(out, "unsynced ops: {}", status.unsynced_ops);
                if let Some(since) = status.unsynced_since {
                    let _ = writeln!(out, "unsynced since: {since} (Unix ms)");
                }
                let _ = writeln!(
                    out,
                    "last sync: {}",
                    status
                        .last_sync_at
                        .map_or_else(|| "never".to_owned(), |at| format!("{at} (Unix ms)"))
                );
                let _ = writeln!(out, "quarantined ops: {}", status.quarantined.len());
                for op in &status.quarantined {
                    let _ = writeln!(
                        out,
                        "  seq {}: {} {}",
                        op.seq,
                        op.code.as_deref().unwrap_or(""),
                        op.message.as_deref().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("nexus: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Tenants {
                command: TenantsCommand::List(storage),
            } => list_tenants(storage).await,
            Command::Tenants {
                command:
                    TenantsCommand::Migrate {
                        storage,
                        concurrency,
                    },
            } => migrate_tenants(storage, concurrency).await,
            Command::Pos { command } => pos(command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("nexus: {message}");
            ExitCode::FAILURE
        }
    }
}
