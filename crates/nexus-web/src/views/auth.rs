//! The public pages: sign up, sign in, sign out, forgot and reset password. Each form comes
//! back with what was typed (never a password) and a message per field.

use askama::Template;

use crate::forms::{Choice, FieldErrors};
use crate::fragment;
use crate::paths;
use crate::views::common::{country_choices, currency_choices, zone_choices};

/// What the sign-up form keeps between tries.
#[derive(Clone, Debug, Default)]
pub struct SignUpValues {
    pub organisation: String,
    pub owner_name: String,
    pub email: String,
    /// ISO code from [`crate::views::common::COUNTRIES`].
    pub country: String,
    /// "GHS", "NGN", "XOF".
    pub currency: String,
    pub time_zone: String,
}

impl SignUpValues {
    /// A fresh form: Ghana, cedis, Accra time.
    pub fn ghana() -> Self {
        Self {
            country: "GH".to_owned(),
            currency: "GHS".to_owned(),
            time_zone: "Africa/Accra".to_owned(),
            ..Self::default()
        }
    }
}

/// `GET/POST /sign-up`. Fields: organisation, owner_name, email, password, country,
/// currency, time_zone.
#[derive(Template)]
#[template(path = "auth/sign_up.html")]
pub struct SignUpContent {
    pub csrf: String,
    pub values: SignUpValues,
    pub errors: FieldErrors,
}

impl SignUpContent {
    pub fn action(&self) -> &'static str {
        paths::SIGN_UP
    }
    pub fn sign_in(&self) -> &'static str {
        paths::SIGN_IN
    }
    pub fn countries(&self) -> Vec<Choice> {
        country_choices(&self.values.country)
    }
    pub fn currencies(&self) -> Vec<Choice> {
        currency_choices(&self.values.currency)
    }
    pub fn zones(&self) -> Vec<Choice> {
        zone_choices(&self.values.time_zone)
    }
}

fragment!(SignUpContent, |_page| "Create your shop's account");

/// `GET/POST /sign-in`. Fields: email, password, and `next` (where to go afterwards).
#[derive(Template)]
#[template(path = "auth/sign_in.html")]
pub struct SignInContent {
    pub csrf: String,
    pub email: String,
    /// A local path to return to after signing in; empty for the overview.
    pub next: String,
    pub errors: FieldErrors,
}

impl SignInContent {
    pub fn action(&self) -> &'static str {
        paths::SIGN_IN
    }
    pub fn forgot(&self) -> &'static str {
        paths::FORGOT_PASSWORD
    }
    pub fn sign_up(&self) -> &'static str {
        paths::SIGN_UP
    }
}

fragment!(SignInContent, |_page| "Sign in");

/// `GET /sign-out` asks; its form posts to `/sign-out`.
#[derive(Template)]
#[template(path = "auth/sign_out.html")]
pub struct SignOutContent {
    pub csrf: String,
    pub shop_name: String,
}

impl SignOutContent {
    pub fn action(&self) -> &'static str {
        paths::SIGN_OUT
    }
    pub fn home(&self) -> &'static str {
        paths::OVERVIEW
    }
}

fragment!(SignOutContent, |_page| "Sign out");

/// `GET/POST /forgot-password`. Field: email. After a POST, `sent` is true whether or not
/// the address has an account, so the page never tells who is registered.
#[derive(Template)]
#[template(path = "auth/forgot_password.html")]
pub struct ForgotPasswordContent {
    pub csrf: String,
    pub email: String,
    pub sent: bool,
    pub errors: FieldErrors,
}

impl ForgotPasswordContent {
    pub fn action(&self) -> &'static str {
        paths::FORGOT_PASSWORD
    }
    pub fn sign_in(&self) -> &'static str {
        paths::SIGN_IN
    }
}

fragment!(ForgotPasswordContent, |_page| "Forgot your password?");

/// `GET/POST /reset-password`. Fields: token (hidden, from the emailed link), password,
/// password_again. An expired token is a form error ("This link has expired…").
#[derive(Template)]
#[template(path = "auth/reset_password.html")]
pub struct ResetPasswordContent {
    pub csrf: String,
    pub token: String,
    pub errors: FieldErrors,
}

impl ResetPasswordContent {
    pub fn action(&self) -> &'static str {
        paths::RESET_PASSWORD
    }
    pub fn forgot(&self) -> &'static str {
        paths::FORGOT_PASSWORD
    }
}

fragment!(ResetPasswordContent, |_page| "Choose a new password");
