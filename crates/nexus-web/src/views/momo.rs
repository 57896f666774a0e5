//! The mobile-money reconciliation pages: uploading a network's statement, confirming its
//! layout on the first upload, the exceptions to sign off, the statements so far, and what
//! each cashier took per shift.

use askama::Template;

use crate::format::{Money, ShopTime};
use crate::forms::{Choice, FieldErrors};
use crate::{fragment, paths};

/// `GET /mobile-money`; the upload form posts to `/mobile-money/statements` (multipart: network,
/// file), each sign-off to `/mobile-money/exceptions/{sale}/{position}/sign-off` (note).
#[derive(Template)]
#[template(path = "momo/index.html")]
pub struct MomoContent {
    pub csrf: String,
    pub networks: Vec<Choice>,
    pub errors: FieldErrors,
    pub exceptions: Vec<ExceptionRow>,
    pub statements: Vec<StatementLine>,
    pub takings: Vec<TakingsLine>,
    /// The shop's MTN MoMo account for requests to pay, for those who may change it.
    pub account: Option<AccountForm>,
    /// Paid on a customer's phone, with no sale.
    pub unclaimed: Vec<UnclaimedRow>,
}

/// A request paid on a customer's phone whose sale never reached the service.
#[derive(Clone, Debug)]
pub struct UnclaimedRow {
    pub paid: ShopTime,
    pub network: &'static str,
    pub phone: String,
    pub amount: Money,
    pub transaction_id: String,
}

impl MomoContent {
    pub fn upload_action(&self) -> &'static str {
        paths::MOBILE_MONEY_STATEMENTS
    }
    pub fn account_action(&self) -> &'static str {
        paths::MOBILE_MONEY_ACCOUNT
    }
}

/// The account form: what is saved, the keys only as whether they are. Posts `api_user`,
/// `api_key`, `subscription_key`, `target_environment`, `currency_code`.
#[derive(Clone, Debug, Default)]
pub struct AccountForm {
    pub api_user: String,
    pub target_environment: String,
    pub currency_code: String,
    pub keys_saved: bool,
    pub saved_at: Option<ShopTime>,
}

impl AccountForm {
    pub fn key_hint(&self) -> &'static str {
        if self.keys_saved {
            "Saved. Leave it empty to keep it; it is never shown again."
        } else {
            "From MTN's developer portal; it is never shown again."
        }
    }
}

#[derive(Clone, Debug)]
pub struct ExceptionRow {
    pub at: ShopTime,
    pub receipt: String,
    pub network: &'static str,
    /// The transaction id the cashier typed.
    pub reference: String,
    pub amount: Money,
    /// What the statement lists under that id: "GHS 10.00", or "not listed".
    pub listed: String,
    pub state: &'static str,
    pub sign_off_url: String,
    /// Unique per row, for the note's label.
    pub note_id: String,
}

#[derive(Clone, Debug)]
pub struct StatementLine {
    pub uploaded: ShopTime,
    pub network: &'static str,
    pub payments: u32,
    pub matched: u32,
    pub amount_differs: u32,
    pub not_found: u32,
    pub claimed_twice: u32,
}

#[derive(Clone, Debug)]
pub struct TakingsLine {
    pub shift: String,
    pub cashier: String,
    pub sales: u32,
    pub cash: Money,
    pub verified: Money,
    pub unverified: Money,
}

fragment!(MomoContent, |_page| "Mobile money");

/// The first upload of a network: its columns to choose, a guess chosen already, and the first
/// rows as read with it. Posts to `/mobile-money/layout` with the statement carried along.
#[derive(Template)]
#[template(path = "momo/layout.html")]
pub struct LayoutContent {
    pub csrf: String,
    pub network: &'static str,
    pub network_name: &'static str,
    /// The statement as uploaded, sent back with the layout so it needs no second upload.
    pub statement: String,
    pub transaction_id: Vec<Choice>,
    pub time: Vec<Choice>,
    pub amount: Vec<Choice>,
    pub payer: Vec<Choice>,
    pub status: Vec<Choice>,
    pub time_format: Vec<Choice>,
    pub rows: Vec<PreviewLine>,
    pub problem: Option<String>,
    pub errors: FieldErrors,
}

impl LayoutContent {
    pub fn action(&self) -> &'static str {
        paths::MOBILE_MONEY_LAYOUT
    }
    pub fn back(&self) -> &'static str {
        paths::MOBILE_MONEY
    }
}

#[derive(Clone, Debug)]
pub struct PreviewLine {
    pub transaction_id: String,
    pub at: ShopTime,
    pub amount: Money,
    pub payer: String,
}

fragment!(LayoutContent, |page| format!(
    "{} statement layout",
    page.network_name
));
