//! Applying what stations push. Ops are planned by `nexus_sync` (order, gaps, retries) and
//! applied through the same services the API uses, judged by the staff member each op names, so
//! a sale that arrives by sync is recorded exactly as one posted by the API.

mod apply;
mod pull;
mod push;

use nexus_domain::UnixMillis;
use nexus_sync::Hlc;

pub use pull::conflicts;
pub(crate) use pull::{PullRequest, exceptions, pull};
pub(crate) use push::push;

/// The server's clock reading as a hybrid logical clock value, for a station to correct by.
pub(crate) fn server_hlc(now: UnixMillis) -> Hlc {
    Hlc {
        wall_millis: now.as_millis(),
        counter: 0,
        node: 0,
    }
}
