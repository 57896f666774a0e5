//! The error pages: 403, 404 and everything else.

use askama::Template;
use axum::http::StatusCode;

use crate::fragment;
use crate::paths;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Forbidden,
    NotFound,
    /// A request no page sends (an edited link, an expired form): `detail` says what.
    Invalid,
    /// A change refused because a payment is long overdue (the dashboard is read-only).
    ReadOnly,
    /// Anything else; `reference` is the request id the log holds, if any.
    Failed {
        reference: Option<String>,
    },
}

/// Shown with [`ErrorContent::status`]. `home` is where "Go back" leads (the overview when
/// signed in, the sign-in page otherwise).
#[derive(Template)]
#[template(path = "errors/error.html")]
pub struct ErrorContent {
    pub kind: ErrorKind,
    pub signed_in: bool,
    /// What exactly was wrong, when the person can act on it.
    pub detail: Option<String>,
}

impl ErrorContent {
    pub fn status(&self) -> StatusCode {
        match self.kind {
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::ReadOnly => StatusCode::PAYMENT_REQUIRED,
            ErrorKind::Failed { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    pub fn heading(&self) -> &'static str {
        match self.kind {
            ErrorKind::Forbidden => "You don't have access to this page",
            ErrorKind::NotFound => "We can't find this page",
            ErrorKind::Invalid => "We couldn't use that request",
            ErrorKind::ReadOnly => "The dashboard is read-only until the overdue payment is made",
            ErrorKind::Failed { .. } => "Something went wrong",
        }
    }
    pub fn explanation(&self) -> &'static str {
        match self.kind {
            ErrorKind::Forbidden => {
                "Your role does not include this page. If you need it, ask the shop's owner."
            }
            ErrorKind::NotFound => {
                "The link may be old, or what it pointed to was archived. Check the address, or start again from the overview."
            }
            ErrorKind::Invalid => "Nothing was changed. Go back and try again from the page.",
            ErrorKind::ReadOnly => {
                "Nothing was changed. Every page and export still opens, and the tills keep selling and syncing. The shop's owner can pay on the Billing page, and everything opens again at once."
            }
            ErrorKind::Failed { .. } => {
                "It is not your fault and nothing you entered was lost. Try again in a minute. The tills keep selling meanwhile."
            }
        }
    }
    pub fn reference(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Failed { reference } => reference.as_deref(),
            _ => None,
        }
    }
    pub fn home(&self) -> &'static str {
        if self.signed_in {
            paths::OVERVIEW
        } else {
            paths::SIGN_IN
        }
    }
}

fragment!(ErrorContent, |page| page.heading());
