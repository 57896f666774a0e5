//! Pure types and rules shared by the Nexus server and the shop station. No I/O lives here.

pub mod ids;
pub mod roles;
pub mod time;
pub mod values;

pub use ids::{BranchId, SessionId, TenantId, UserId};
pub use roles::{Permission, Role};
pub use time::{Clock, SystemClock, UnixMillis};
pub use values::{Email, NonEmptyText, Password, Pin, ValueError};
