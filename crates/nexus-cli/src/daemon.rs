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

pub(crate) async fn shutdown_signal() {
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
