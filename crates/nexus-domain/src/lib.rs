//! Pure types and rules shared by the Nexus server and the shop station. No I/O lives here.

pub mod account;
pub mod billing;
pub mod calendar;
pub mod cost;
pub mod ids;
pub mod limits;
pub mod momo;
pub mod money;
#[cfg(feature = "openapi")]
mod openapi;
pub mod pack;
pub mod phone;
pub mod price_list;
pub mod quantity;
pub mod receipt;
pub mod returns;
pub mod roles;
pub mod sale;
pub mod secrets;
pub mod stock;
pub mod tax;
pub mod tender;
pub mod throttle;
pub mod time;
pub mod values;

pub use ids::{
    BranchId, CategoryId, MovementId, ProductId, SaleId, SessionId, TenantId, TransferId, UserId,
};
pub use money::Currency;
pub use price_list::PriceList;
pub use quantity::Quantity;
pub use receipt::{ReceiptNumber, ReceiptPrefix};
pub use returns::{PricedReturn, ReturnError, ReturnedLine, Returning, SoldLine, price_return};
pub use roles::{Permission, Role};
pub use sale::SaleKind;
pub use stock::MovementKind;
pub use tax::{
    Levy, LineInput, LineTax, PriceMode, SaleTotals, TaxClass, TaxRules, allocate, compute_line,
    compute_sale,
};
pub use tender::{Tender, TenderError, TenderKind};
pub use time::{Clock, SystemClock, UnixMillis};
pub use values::{Email, NonEmptyText, Password, Pin, ValueError, ean13};
