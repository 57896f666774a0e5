//! Sign up, sign in, sign out, and the password reset by email.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use nexus_server::auth::{Authenticated, ClientAddress};
use nexus_server::services::{self, web_sessions};
use nexus_server::state::AppState;

use super::context::{
    PRE_SESSION_COOKIE, PageError, SESSION_COOKIE, Viewer, Visitor, cookie, redirect_with,
    sentence, set_cookie,
};
use super::input::{Fields, PublicPost};
use super::text::form_errors;
use crate::forms::FieldErrors;
use crate::views::auth::{
    ForgotPasswordContent, ResetPasswordContent, SignInContent, SignOutContent, SignUpContent,
    SignUpValues,
};
use crate::views::common::COUNTRIES;
use crate::{Flash, paths};

/// Where to go after signing in: a path of this site only, never another site.
fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        paths::OVERVIEW
    }
}

/// The redirect into a new session, with its cookie (and the pre-session cookie gone).
fn signed_in(
    visitor: &Visitor,
    started: web_sessions::StartedSession,
    to: &str,
    flash: Option<Flash>,
) -> Response {
    let mut response = match flash {
        Some(flash) => redirect_with(&visitor.config, to, flash),
        None => Redirect::to(to).into_response(),
    };
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(&visitor.config, SESSION_COOKIE, &started.cookie, None),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(&visitor.config, PRE_SESSION_COOKIE, "", Some(0)),
    );
    response
}

pub(crate) async fn sign_up_page(visitor: Visitor) -> Response {
    visitor.page(
        StatusCode::OK,
        SignUpContent {
            csrf: visitor.csrf.clone(),
            values: SignUpValues::ghana(),
            errors: FieldErrors::new(),
        },
    )
}

pub(crate) async fn sign_up(
    State(state): State<AppState>,
    client: ClientAddress,
    PublicPost { visitor, form }: PublicPost,
) -> Result<Response, PageError> {
    let values = SignUpValues {
        organisation: form.text("organisation").to_owned(),
        owner_name: form.text("owner_name").to_owned(),
        email: form.text("email").to_owned(),
        country: form.text("country").to_owned(),
        currency: form.text("currency").to_owned(),
        time_zone: form.text("time_zone").to_owned(),
    };
    let again = |errors: FieldErrors| {
        visitor.page(
            StatusCode::UNPROCESSABLE_ENTITY,
            SignUpContent {
                csrf: visitor.csrf.clone(),
                values: values.clone(),
                errors,
            },
        )
    };
    let mut errors = FieldErrors::new();
    if !COUNTRIES.iter().any(|(code, ..)| *code == values.country) {
        errors.add("country", "Choose the country the shop is in.");
    }
    if nexus_domain::Currency::parse(&values.currency).is_err() {
        errors.add("currency", "Choose the currency the shop sells in.");
    }
    if nexus_server::calendar::zone_offset_minutes(&values.time_zone).is_none() {
        errors.add("time_zone", "Choose the shop's time zone.");
    }
    if values.owner_name.is_empty() {
        errors.add("owner_name", "Enter your name.");
    }
    if !errors.is_empty() {
        return Ok(again(errors));
    }
    let registration = services::auth::Registration {
        organisation: &values.organisation,
        email: &values.email,
        password: form.raw("password"),
        name: Some(&values.owner_name),
    };
    let (tenant, owner, session) =
        match services::auth::register(&state, client, registration).await {
            Ok(registered) => registered,
            Err(error) if error.status().is_client_error() => {
                return Ok(again(form_errors(&error, &[])));
            }
            Err(error) => return Err(error.into()),
        };
    let auth = Authenticated {
        tenant,
        session: session.record.id,
        user: owner,
    };
    let current = services::settings::settings(&state, &auth).await?;
    services::settings::replace_settings(
        &state,
        &auth,
        &values.currency,
        current.tax,
        values.time_zone.clone(),
    )
    .await?;
    let mut details = web_sessions::shop_details(&state, &auth).await?;
    details.trading_name = Some(values.organisation.trim().to_owned());
    web_sessions::update_shop_details(&state, &auth, details).await?;
    let started = web_sessions::attach(&state, tenant, session.record.id).await?;
    Ok(signed_in(
        &visitor,
        started,
        paths::SETUP,
        Some(Flash::success(
            "Your shop's account is ready. A few steps and you can sell.",
        )),
    ))
}

pub(crate) async fn sign_in_page(
    viewer: Option<Viewer>,
    visitor: Visitor,
    query: Fields,
) -> Response {
    let next = local_path(query.text("next")).to_owned();
    if viewer.is_some() {
        return Redirect::to(&next).into_response();
    }
    visitor.page(
        StatusCode::OK,
        SignInContent {
            csrf: visitor.csrf.clone(),
            email: String::new(),
            next: if next == paths::OVERVIEW {
                String::new()
            } else {
                next
            },
            errors: FieldErrors::new(),
        },
    )
}

pub(crate) async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddress,
    PublicPost { visitor, form }: PublicPost,
) -> Result<Response, PageError> {
    let email = form.text("email").to_owned();
    let next = local_path(form.text("next")).to_owned();
    let refuse = |status: StatusCode, message: String| {
        visitor.page(
            status,
            SignInContent {
                csrf: visitor.csrf.clone(),
                email: email.clone(),
                next: form.text("next").to_owned(),
                errors: FieldErrors::new().with("", message),
            },
        )
    };
    let checked =
        services::auth::check_password(&state, client, &email, form.raw("password").to_owned())
            .await;
    let (tenant, user) = match checked {
        Ok(found) => found,
        Err(error) if error.status() == StatusCode::UNAUTHORIZED => {
            return Ok(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The email or password is wrong. Check both and try again.".to_owned(),
            ));
        }
        Err(error) if error.status() == StatusCode::TOO_MANY_REQUESTS => {
            let wait = error
                .retry_after_seconds()
                .map_or("a few minutes".to_owned(), |seconds| {
                    let minutes = seconds.div_ceil(60).max(1);
                    format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
                });
            return Ok(refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many tries. Wait {wait}, then sign in again."),
            ));
        }
        Err(error) => return Err(error.into()),
    };
    let started = web_sessions::start(&state, tenant, &user).await?;
    let to = if user.role.allows(nexus_domain::Permission::ViewReports) {
        next
    } else if next == paths::OVERVIEW {
        // Cashiers have no overview: their own receipts are their home.
        paths::RECEIPTS.to_owned()
    } else {
        next
    };
    Ok(signed_in(&visitor, started, &to, None))
}

pub(crate) async fn sign_out_page(viewer: Viewer) -> Response {
    viewer.page(
        crate::Section::Overview,
        SignOutContent {
            csrf: viewer.csrf.clone(),
            shop_name: viewer.shop_name(),
        },
    )
}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    super::input::SignedPost { viewer, .. }: super::input::SignedPost,
) -> Result<Response, PageError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        web_sessions::end(&state, token).await?;
    }
    let mut response = redirect_with(
        &viewer.config,
        paths::SIGN_IN,
        Flash::info("You are signed out."),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&viewer.config, SESSION_COOKIE, "", Some(0)),
    );
    Ok(response)
}

pub(crate) async fn forgot_page(visitor: Visitor) -> Response {
    visitor.page(
        StatusCode::OK,
        ForgotPasswordContent {
            csrf: visitor.csrf.clone(),
            email: String::new(),
            sent: false,
            errors: FieldErrors::new(),
        },
    )
}

pub(crate) async fn forgot(
    State(state): State<AppState>,
    client: ClientAddress,
    PublicPost { visitor, form }: PublicPost,
) -> Result<Response, PageError> {
    let email = form.text("email").to_owned();
    let asked = web_sessions::request_reset(
        &state,
        &visitor.config.mailer,
        client,
        &email,
        &visitor.config.public_url,
    )
    .await;
    let (status, sent, errors) = match asked {
        Ok(()) => (StatusCode::OK, true, FieldErrors::new()),
        Err(error) if error.status() == StatusCode::TOO_MANY_REQUESTS => (
            StatusCode::TOO_MANY_REQUESTS,
            false,
            FieldErrors::new().with(
                "",
                "Too many reset requests from here. Wait a few minutes and try again.",
            ),
        ),
        Err(error) if error.status().is_client_error() => (
            StatusCode::UNPROCESSABLE_ENTITY,
            false,
            FieldErrors::new().with("email", "Enter the email address you sign in with."),
        ),
        Err(error) => return Err(error.into()),
    };
    Ok(visitor.page(
        status,
        ForgotPasswordContent {
            csrf: visitor.csrf.clone(),
            email,
            sent,
            errors,
        },
    ))
}

pub(crate) async fn reset_page(visitor: Visitor, query: Fields) -> Response {
    visitor.page(
        StatusCode::OK,
        ResetPasswordContent {
            csrf: visitor.csrf.clone(),
            token: query.text("token").to_owned(),
            errors: FieldErrors::new(),
        },
    )
}

pub(crate) async fn reset(
    State(state): State<AppState>,
    PublicPost { visitor, form }: PublicPost,
) -> Result<Response, PageError> {
    let token = form.text("token").to_owned();
    let again = |errors: FieldErrors| {
        visitor.page(
            StatusCode::UNPROCESSABLE_ENTITY,
            ResetPasswordContent {
                csrf: visitor.csrf.clone(),
                token: token.clone(),
                errors,
            },
        )
    };
    let password = form.raw("password");
    if password != form.raw("password_again") {
        return Ok(again(
            FieldErrors::new().with("password_again", "The two passwords are not the same."),
        ));
    }
    match web_sessions::reset_password(&state, &token, password).await {
        Ok(true) => Ok(redirect_with(
            &visitor.config,
            paths::SIGN_IN,
            Flash::success("Your password is changed. Sign in with the new one."),
        )),
        Ok(false) => Ok(again(FieldErrors::new().with(
            "",
            "This link has expired or was already used. Ask for a new one.",
        ))),
        Err(error) if error.status().is_client_error() => Ok(again(
            FieldErrors::new().with("password", sentence(error.message())),
        )),
        Err(error) => Err(PageError::from(error)),
    }
}
