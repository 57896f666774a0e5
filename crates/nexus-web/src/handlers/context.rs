//! Who is asking, and how a page answers: the session cookie and its CSRF token, the shop's
//! locale, flash messages carried across a redirect, and the error pages.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::Method;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nexus_domain::billing::{Standing, Status};
use nexus_domain::{Permission, Role};
use nexus_server::auth::Authenticated;
use nexus_server::error::ApiError;
use nexus_server::mail::Mailer;
use nexus_server::services;
use nexus_server::state::AppState;
use nexus_store::{ShopDetails, TenantSettings};

use crate::format::ShopLocale;
use crate::views::errors::{ErrorContent, ErrorKind};
use crate::{
    BillingNotice, Flash, FlashKind, Fragment, Layout, Section, SignedInUser, paths, respond,
};

pub(crate) const SESSION_COOKIE: &str = "nexus_session";
pub(crate) const PRE_SESSION_COOKIE: &str = "nexus_csrf";
const FLASH_COOKIE: &str = "nexus_flash";

/// What the pages need beyond the service's state.
pub struct WebConfig {
    /// Where people reach the service: the links in emails and the enrolment command.
    pub public_url: String,
    /// Cookies are marked Secure when the public URL is https.
    pub secure_cookies: bool,
    pub session_idle: std::time::Duration,
    pub mailer: Arc<Mailer>,
}

pub(crate) type Config = Arc<WebConfig>;

/// The value of the cookie `name`, if the request carries it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: HttpOnly always, Secure when served over https; `max_age` zero
/// removes the cookie. The session cookie is SameSite=Lax, so that following a link into the
/// dashboard works while another site's form cannot post with it.
pub(crate) fn set_cookie(
    config: &WebConfig,
    name: &str,
    value: &str,
    max_age_seconds: Option<i64>,
) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if config.secure_cookies {
        text.push_str("; Secure");
    }
    if let Some(seconds) = max_age_seconds {
        text.push_str(&format!("; Max-Age={seconds}"));
    }
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("nexus_invalid=1"))
}

fn config_of(parts: &Parts) -> Result<Config, PageError> {
    parts
        .extensions
        .get::<Config>()
        .cloned()
        .ok_or_else(|| PageError::Failed(ApiError::internal("the dashboard is not configured")))
}

/// A flash message to show on the next page, carried in a short-lived cookie.
fn flash_cookie(config: &WebConfig, flash: &Flash) -> HeaderValue {
    let kind = match flash.kind {
        FlashKind::Success => 's',
        FlashKind::Info => 'i',
        FlashKind::Warning => 'w',
        FlashKind::Error => 'e',
    };
    let value = URL_SAFE_NO_PAD.encode(format!("{kind}{}", flash.message));
    set_cookie(config, FLASH_COOKIE, &value, Some(60))
}

fn read_flash(headers: &HeaderMap) -> Option<Flash> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cookie(headers, FLASH_COOKIE)?)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut characters = text.chars();
    let kind = characters.next()?;
    let message: String = characters.collect();
    Some(match kind {
        's' => Flash::success(message),
        'w' => Flash::warning(message),
        'e' => Flash::error(message),
        _ => Flash::info(message),
    })
}

/// A redirect after a form, with a message for the page it leads to.
pub(crate) fn redirect_with(config: &WebConfig, to: &str, flash: Flash) -> Response {
    let mut response = Redirect::to(to).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, flash_cookie(config, &flash));
    response
}

/// The signed-in person, with what every page of theirs needs.
pub(crate) struct Viewer {
    pub auth: Authenticated,
    pub csrf: String,
    pub settings: TenantSettings,
    pub shop: ShopDetails,
    pub locale: ShopLocale,
    pub config: Config,
    headers: HeaderMap,
    flash: Option<Flash>,
    setup_steps_left: usize,
    /// Where the organisation stands with its plan; `None` when billing is off.
    pub billing: Option<Standing>,
}

/// What may still be posted while the dashboard is read-only: paying, and signing out.
fn allowed_while_read_only(path: &str) -> bool {
    path == paths::BILLING || path.starts_with("/billing/") || path == paths::SIGN_OUT
}

impl Viewer {
    pub fn role(&self) -> Role {
        self.auth.user.role
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.role().allows(permission)
    }

    /// Refuses the page unless the person's role allows `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), PageError> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(PageError::Forbidden)
        }
    }

    pub fn shop_name(&self) -> String {
        self.shop
            .trading_name
            .clone()
            .unwrap_or_else(|| "Your shop".to_owned())
    }

    pub fn layout(&self, section: Section) -> Layout {
        let user = SignedInUser {
            name: self.auth.user.name.clone(),
            role: self.role(),
        };
        let mut layout = Layout::signed_in(self.shop_name(), user, section, self.csrf.clone());
        layout.setup_steps_left = self.setup_steps_left;
        match &self.billing {
            None => layout.nav.retain(|section| *section != Section::Billing),
            Some(standing) => layout.billing_notice = self.billing_notice(standing),
        }
        if let Some(flash) = &self.flash {
            layout = layout.with_flash(flash.clone());
        }
        layout
    }

    pub fn setup_steps_left(&self) -> usize {
        self.setup_steps_left
    }

    /// The banner of a payment overdue, worded for who reads it.
    fn billing_notice(&self, standing: &Standing) -> Option<BillingNotice> {
        let owner = self.may(Permission::ManageBilling);
        let message = match (standing.status, standing.grace_ends_at) {
            (Status::PastDue, Some(ends)) => format!(
                "The last Nexus payment did not go through. {} by {} to keep changing things here; the tills keep selling whatever happens.",
                if owner {
                    "Pay"
                } else {
                    "The owner needs to pay"
                },
                self.locale.time(ends.as_millis()).date()
            ),
            (Status::Restricted, _) => format!(
                "A Nexus payment is overdue, so the dashboard is read-only: every page and export opens, nothing can be changed. The tills keep selling and syncing.{}",
                if owner { "" } else { " Ask the owner to pay." }
            ),
            _ => return None,
        };
        Some(BillingNotice {
            message,
            pay_link: owner.then_some(paths::BILLING),
            restricted: standing.status == Status::Restricted,
        })
    }

    /// The page (or its fragment) in `section`, 200.
    pub fn page<C: Fragment>(&self, section: Section, content: C) -> Response {
        self.page_with(StatusCode::OK, section, content)
    }

    /// The page with `status`: 422 for a form sent back with its mistakes.
    pub fn page_with<C: Fragment>(
        &self,
        status: StatusCode,
        section: Section,
        content: C,
    ) -> Response {
        let mut response = respond(&self.headers, status, self.layout(section), content);
        if self.flash.is_some() {
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&self.config, FLASH_COOKIE, "", Some(0)),
            );
        }
        response
    }

    /// The page, and the browser going on from it to `url` by itself: how the dashboard sends
    /// someone to a payment provider, since its forms may only post to this origin.
    pub fn page_going_to<C: Fragment>(
        &self,
        section: Section,
        content: C,
        url: String,
    ) -> Response {
        let mut layout = self.layout(section);
        layout.go_on_to = Some(url);
        respond(&self.headers, StatusCode::OK, layout, content)
    }

    pub fn redirect(&self, to: &str, flash: Flash) -> Response {
        redirect_with(&self.config, to, flash)
    }

    /// Whether a POST carried the session's CSRF token, as the form field or the htmx header.
    pub fn csrf_matches(&self, field: Option<&str>) -> bool {
        let header = self
            .headers
            .get("x-csrf-token")
            .and_then(|value| value.to_str().ok());
        [field, header]
            .into_iter()
            .flatten()
            .any(|token| constant_time_eq(token.as_bytes(), self.csrf.as_bytes()))
    }
}

/// Compares secrets without stopping at the first difference.
pub(crate) fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0_u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let config = config_of(parts)?;
        let next = parts
            .uri
            .path_and_query()
            .map(|path| path.as_str().to_owned())
            .unwrap_or_default();
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(PageError::SignIn { next });
        };
        let Some((auth, csrf)) =
            services::web_sessions::resume(state, token, config.session_idle).await?
        else {
            return Err(PageError::SignIn { next });
        };
        let settings = state
            .store
            .settings(auth.tenant)
            .await
            .map_err(ApiError::from)?;
        let shop = services::web_sessions::shop_details(state, &auth).await?;
        let locale = ShopLocale::new(
            settings.currency,
            &settings.time_zone,
            state.clock.now().as_millis(),
        );
        let setup_steps_left = if auth.user.role == Role::Owner {
            super::setup::steps_left(state, &auth, &shop).await?
        } else {
            0
        };
        let billing = services::billing::standing(state, auth.tenant)
            .await?
            .map(|(_, standing)| standing);
        // One check for every form: a restricted organisation's dashboard only reads, and
        // nothing it posts (but paying and signing out) reaches a handler.
        if parts.method == Method::POST
            && billing.as_ref().is_some_and(Standing::read_only)
            && !allowed_while_read_only(parts.uri.path())
        {
            return Err(PageError::ReadOnly);
        }
        Ok(Self {
            auth,
            csrf,
            settings,
            shop,
            locale,
            config,
            headers: parts.headers.clone(),
            flash: read_flash(&parts.headers),
            setup_steps_left,
            billing,
        })
    }
}

/// Someone not signed in: the pre-session CSRF token of the public forms (a cookie compared
/// with the form's field, so nobody can sign a visitor into someone else's account), and
/// whether that cookie must be set.
pub(crate) struct Visitor {
    pub csrf: String,
    new_token: bool,
    pub config: Config,
    headers: HeaderMap,
    flash: Option<Flash>,
}

impl Visitor {
    pub fn page<C: Fragment>(&self, status: StatusCode, content: C) -> Response {
        let mut layout = Layout::public(self.csrf.clone());
        if let Some(flash) = &self.flash {
            layout = layout.with_flash(flash.clone());
        }
        let mut response = respond(&self.headers, status, layout, content);
        if self.new_token {
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&self.config, PRE_SESSION_COOKIE, &self.csrf, None),
            );
        }
        if self.flash.is_some() {
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&self.config, FLASH_COOKIE, "", Some(0)),
            );
        }
        response
    }

    /// Whether a public form's `csrf` field matches the visitor's cookie.
    pub fn csrf_matches(&self, field: Option<&str>) -> bool {
        !self.new_token
            && field.is_some_and(|field| constant_time_eq(field.as_bytes(), self.csrf.as_bytes()))
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, PageError> {
        let config = config_of(parts)?;
        let existing = cookie(&parts.headers, PRE_SESSION_COOKIE)
            .filter(|token| token.len() >= 16 && token.len() <= 64)
            .map(str::to_owned);
        let (csrf, new_token) = match existing {
            Some(token) => (token, false),
            None => (
                URL_SAFE_NO_PAD.encode(nexus_server::auth::random_bytes(24)?),
                true,
            ),
        };
        Ok(Self {
            csrf,
            new_token,
            config,
            headers: parts.headers.clone(),
            flash: read_flash(&parts.headers),
        })
    }
}

/// A page for anyone: signed in or not (the sign-in page sends the signed-in on).
impl OptionalFromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, PageError> {
        match <Viewer as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(viewer) => Ok(Some(viewer)),
            Err(PageError::SignIn { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// Why a page cannot be shown. Turned into the error page (or, for "sign in first", a
/// redirect) by [`render_errors`], which knows whether a fragment or a page was asked for.
#[derive(Debug)]
pub(crate) enum PageError {
    SignIn {
        next: String,
    },
    Forbidden,
    NotFound,
    /// A request no form sends (a hand-edited link): said plainly, 400.
    Invalid(String),
    /// A form posted without its CSRF token, or with another session's.
    Csrf,
    /// A change while the organisation is restricted (a payment long overdue): 402.
    ReadOnly,
    Failed(ApiError),
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        match error.status() {
            StatusCode::UNAUTHORIZED => PageError::SignIn {
                next: String::new(),
            },
            StatusCode::FORBIDDEN => PageError::Forbidden,
            StatusCode::NOT_FOUND => PageError::NotFound,
            status if status.is_client_error() => PageError::Invalid(sentence(error.message())),
            _ => PageError::Failed(error),
        }
    }
}

/// What [`PageError`] leaves in the response for [`render_errors`].
#[derive(Clone, Debug)]
struct ErrorPage {
    kind: ErrorKind,
    detail: Option<String>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, kind, detail) = match self {
            PageError::SignIn { next } => {
                let target = if next.is_empty() || next == paths::OVERVIEW {
                    paths::SIGN_IN.to_owned()
                } else {
                    format!("{}?next={}", paths::SIGN_IN, percent_encode(&next))
                };
                let mut response = Redirect::to(&target).into_response();
                if let Ok(value) = HeaderValue::from_str(&target) {
                    // htmx follows this instead of swapping the sign-in page into a region.
                    response.headers_mut().insert("hx-redirect", value);
                }
                return response;
            }
            PageError::Forbidden => (StatusCode::FORBIDDEN, ErrorKind::Forbidden, None),
            PageError::NotFound => (StatusCode::NOT_FOUND, ErrorKind::NotFound, None),
            PageError::Invalid(message) => (
                StatusCode::BAD_REQUEST,
                ErrorKind::Invalid,
                Some(message),
            ),
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                ErrorKind::Invalid,
                Some(
                    "This form had expired or came from another page. Go back, reload the page and try again."
                        .to_owned(),
                ),
            ),
            PageError::ReadOnly => (StatusCode::PAYMENT_REQUIRED, ErrorKind::ReadOnly, None),
            PageError::Failed(error) => {
                error.log();
                (
                    error.status(),
                    ErrorKind::Failed { reference: None },
                    None,
                )
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorPage { kind, detail });
        response
    }
}

/// Renders the error pages [`PageError`] asked for: the fragment alone to htmx, the whole
/// page otherwise, with the request id as the reference of a failure.
pub(crate) async fn render_errors(request: Request, next: Next) -> Response {
    let headers = request.headers().clone();
    let signed_in = cookie(&headers, SESSION_COOKIE).is_some();
    let mut response = next.run(request).await;
    let Some(page) = response.extensions_mut().remove::<ErrorPage>() else {
        return response;
    };
    let status = response.status();
    let kind = match page.kind {
        ErrorKind::Failed { .. } => ErrorKind::Failed {
            reference: headers
                .get("x-request-id")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
        },
        other => other,
    };
    let content = ErrorContent {
        kind,
        signed_in,
        detail: page.detail,
    };
    respond(&headers, status, Layout::public(String::new()), content)
}

/// A message of the service, as a sentence for a screen: capitalised, with a full stop.
pub(crate) fn sentence(message: &str) -> String {
    let mut characters = message.chars();
    let mut text: String = match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => return String::new(),
    };
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// Percent-encodes a path for a query parameter.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_sentences() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; nexus_session=t.s; b=2"),
        );
        assert_eq!(cookie(&headers, "nexus_session"), Some("t.s"));
        assert_eq!(cookie(&headers, "c"), None);
        assert_eq!(sentence("the email is wrong"), "The email is wrong.");
        assert_eq!(sentence("Done!"), "Done!");
        assert_eq!(
            percent_encode("/sales?from=2026-01-01&x=a b"),
            "/sales%3Ffrom%3D2026-01-01%26x%3Da%20b"
        );
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
