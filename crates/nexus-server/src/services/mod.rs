//! The service layer: the logic that the JSON handlers and the dashboard's pages both call.
//!
//! A service takes the application state, the person acting (an [`crate::auth::Authenticated`],
//! or a station's credential for a push) and parsed input; it checks the rules of the permission
//! matrix and the domain, calls the store, tells live pages what changed, and returns records or
//! an [`crate::error::ApiError`] whose message is for the person. Handlers parse, authorize, call
//! one service and answer; no handler reads the store itself and no route module imports
//! another.

pub mod accounts;
pub mod auth;
pub mod billing;
pub mod branches;
pub mod catalogue;
pub mod categories;
pub mod customers;
pub mod imports;
pub mod items;
pub mod momo;
pub mod momo_requests;
pub mod overview;
pub mod purchasing;
pub mod receipts;
pub mod reports;
pub mod sales;
pub mod settings;
pub mod shifts;
pub mod staff;
pub mod stations;
pub mod stock;
pub mod sync;
pub mod vat;
pub mod web_sessions;

use nexus_domain::{BranchId, Role};

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};

/// The branches a list or report covers: the one asked for (which the person must be able to
/// see), or all the person sees (`None` for an owner: every branch, archived ones included).
pub fn branch_scope(
    auth: &Authenticated,
    requested: Option<uuid::Uuid>,
) -> ApiResult<Option<Vec<BranchId>>> {
    match requested {
        Some(branch) => {
            let branch = BranchId::from_uuid(branch);
            if !auth.actor().can_see_branch(branch) {
                return Err(ApiError::not_found("branch").with_field("branch"));
            }
            Ok(Some(vec![branch]))
        }
        None if auth.user.role == Role::Owner => Ok(None),
        None => Ok(Some(auth.user.branch_ids.clone())),
    }
}
