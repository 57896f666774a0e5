//! What every long-running command shares: logging to stderr, and stopping on Ctrl-C or
//! SIGTERM.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// `json_lines`: one JSON object a line (the service's `log_format = json`), for a collector.
pub(crate) fn init_logging(filter: &str, json_lines: bool) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if !json_lines {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    } else {
        // One object a line; the request's span (tenant, request id, route) rides on each, and
        // the list of enclosing spans is left out because the request span is the only one.
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    }
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled: a service manager (or a test) may stop the process the instant
/// it says it is ready, and a SIGTERM before the handler is in place would kill it outright,
/// unclean.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let interrupted = async {
                match interrupt {
                    Some(mut interrupt) => {
                        interrupt.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let terminated = async {
                match terminate {
                    Some(mut terminate) => {
                        terminate.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = interrupted => {}
                () = terminated => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
