//! `nexus`: the one binary. `nexus serve` runs the cloud service, `nexus pos` the shop station
//! (`nexus pos serve` its cashier screen), `nexus demo` both with a seeded shop, and
//! `nexus tenants` administers tenants.
//!
//! Each command family is a module; this file only parses and dispatches. A build with
//! `--no-default-features --features station` is the station alone: the `pos` commands, and no
//! server or PostgreSQL code linked in.

#[cfg(not(any(feature = "server", feature = "station")))]
compile_error!("build nexus with the `server` feature, the `station` feature, or both");

mod daemon;
#[cfg(all(feature = "server", feature = "station"))]
mod demo;
#[cfg(feature = "station")]
mod pos;
#[cfg(feature = "server")]
mod serve;
#[cfg(feature = "server")]
mod store;
#[cfg(feature = "server")]
mod tenants;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    #[cfg(feature = "server")]
    Serve(serve::ServeArgs),
    /// Administer tenants (organisations).
    #[cfg(feature = "server")]
    Tenants {
        #[command(subcommand)]
        command: tenants::TenantsCommand,
    },
    /// Administer a whole store: copy every tenant from one store to another.
    #[cfg(feature = "server")]
    Store {
        #[command(subcommand)]
        command: store::StoreCommand,
    },
    /// Try Nexus: the cloud service and one shop station with a seeded Accra shop, in one
    /// process. Prints the cashier screen's address and the demo PINs.
    #[cfg(all(feature = "server", feature = "station"))]
    Demo(demo::DemoArgs),
    /// The shop station: enrol it, serve the cashier screen, sell, sync, see its state.
    #[cfg(feature = "station")]
    Pos {
        #[command(subcommand)]
        command: pos::PosCommand,
    },
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
            #[cfg(feature = "server")]
            Command::Serve(args) => serve::run(args).await,
            #[cfg(feature = "server")]
            Command::Tenants { command } => tenants::run(command).await,
            #[cfg(feature = "server")]
            Command::Store { command } => store::run(command).await,
            #[cfg(all(feature = "server", feature = "station"))]
            Command::Demo(args) => demo::run(args, daemon::shutdown_signal()).await,
            #[cfg(feature = "station")]
            Command::Pos { command } => pos::run(command).await,
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_commands_are_those_of_the_features_built() {
        Cli::command().debug_assert();
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|command| command.get_name().to_owned())
            .collect();
        let has = |name: &str| names.iter().any(|known| known == name);
        assert_eq!(has("serve"), cfg!(feature = "server"), "{names:?}");
        assert_eq!(has("tenants"), cfg!(feature = "server"), "{names:?}");
        assert_eq!(has("pos"), cfg!(feature = "station"), "{names:?}");
        assert_eq!(
            has("demo"),
            cfg!(all(feature = "server", feature = "station")),
            "{names:?}"
        );
    }
}
