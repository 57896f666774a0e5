//! Pure types and rules shared by the Nexus server and the shop station. No I/O lives here.

pub mod calendar;
pub mod ids;
pub mod money;
#[cfg(feature = "openapi")]
mod openapi;
pub mod quantity;
pub mod roles;
pub mod sale;
pub mod stock;
pub mod tax;
pub mod time;
pub mod values;

pub use ids::{BranchId, MovementId, ProductId, SaleId, SessionId, TenantId, TransferId, UserId};
pub use money::Currency;
pub use quantity::Quantity;
pub use roles::{Permission, Role};
pub use sale::{SaleKind, TenderKind};
pub use stock::MovementKind;
pub use tax::{
    Levy, LineInput, LineTax, PriceMode, SaleTotals, TaxClass, TaxRules, allocate, compute_line,
    compute_sale,
};
pub use time::{Clock, SystemClock, UnixMillis};
pub use values::{Email, NonEmptyText, Password, Pin, ValueError, ean13};
