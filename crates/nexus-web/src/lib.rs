//! The merchant dashboard's presentation: view models, askama templates, SVG charts and QR
//! codes, formatting, and the static files (htmx 2, Pico CSS, `dashboard.css`,
//! `dashboard.js`). Handlers fill the view models from the services and hand them to
//! [`respond`]; nothing here reads a database or knows a session.
//!
//! # Pages and fragments
//!
//! Every page is a content *fragment* (a [`Fragment`]: a template of its own, such as
//! [`views::overview::OverviewContent`] rendering `overview/overview.html`) wrapped in a [`Page`] with
//! the [`Layout`] (header, navigation, flash messages, footer). The same handler answers both:
//!
//! - a request with `HX-Request: true` and neither `HX-Boosted` nor
//!   `HX-History-Restore-Request` gets the fragment alone (the search and filter forms, the
//!   "Next page" links and the live regions ask for it, and swap it into `#content` or into
//!   their own region);
//! - every other request gets the full page.
//!
//! [`respond`] makes that choice from the request headers, sets `Vary` so no cache mixes the
//! two, and `Cache-Control: no-store` because the pages hold the shop's figures.
//! State-changing forms are ordinary `POST` forms (answered with a redirect and a flash, or
//! the same page with its field errors and status 422); the ones that ask for confirmation
//! carry `hx-boost` and `hx-confirm`, so htmx asks first and then swaps the full answer in,
//! while without the script the form still posts.
//!
//! # CSRF
//!
//! The handler puts the session's token in [`Layout::csrf`] and in the `csrf` field of every
//! view model that has a form. Every `<form method="post">` sends it as the hidden field
//! `csrf`; the page carries `<meta name="csrf-token">` and `dashboard.js` sends it as the
//! `X-CSRF-Token` header on every htmx request. The server must accept either and refuse a
//! POST with neither. The sign-in and sign-up forms carry one too (a pre-session token), so
//! nobody can sign a visitor into someone else's account. The two CSV import forms are
//! `multipart/form-data` posts without htmx: there `csrf` is a multipart field.
//!
//! # Live updates
//!
//! The overview, inventory and tills pages refresh parts of themselves through server-sent
//! events. A live region is an element with
//! `data-live-url="<fragment URL>" data-live-topics="sales stock tills"`. On signed-in pages
//! the layout carries `<meta name="live-events" content="/events">` ([`Layout::live_events_url`]).
//! `dashboard.js` opens one `EventSource` on that URL when the page has a live region, and on
//! each event whose *event name* is one of a region's topics it fetches the region's URL with
//! htmx and replaces the region's inside (several events within 300 ms cause one fetch).
//! When the stream fails it reconnects with a growing delay (1 s, doubling, at most 60 s),
//! and after reconnecting it refreshes every region once, since events may have been missed.
//!
//! The `/events` handler therefore sends, for the signed-in tenant (and the branches the
//! person may see), `event: sales` after a sale, refund or void is recorded, `event: stock`
//! after a stock movement, and `event: tills` after a till syncs, is enrolled or revoked; the
//! `data:` line is ignored (send `data: {}`). Comment lines (`: ping`) every ~25 s keep
//! proxies from closing the stream. The live fragment URLs answer the fragments
//! [`views::overview::OverviewLive`], [`views::inventory::InventoryLive`] and
//! [`views::admin::TillsLive`].
//!
//! A CSV import's progress is a poll, not an event: [`views::products::ImportStatus`]
//! renders with `hx-get="<status_url>" hx-trigger="every 1s" hx-swap="outerHTML"` while the
//! job runs, and without them once it has finished, so the polling stops by itself.
//!
//! # What a handler provides
//!
//! - a [`Layout`]: shop name, the person and their role, the sections they may see
//!   ([`Section::visible_to`] gives the role's default), the current section, flash messages,
//!   the CSRF token, the number of first-run steps left;
//! - the content view model, with amounts as [`format::Money`], times as
//!   [`format::ShopTime`] / [`format::Ago`] made through one [`format::ShopLocale`] (the
//!   shop's currency and time zone), quantities as [`format::Qty`];
//! - the URLs that depend on its own query (CSV exports, next pages, live fragments); the
//!   fixed routes are in [`paths`], and the handlers are mounted there;
//! - for forms sent back after a mistake: what was typed (never passwords or PINs) and a
//!   [`forms::FieldErrors`] with one message per field;
//! - [`assets()`] mounted at [`assets::ASSETS_PATH`].
//!
//! # Tests and samples
//!
//! [`samples::render_samples`] renders every page with realistic data (Ama Provisions in
//! Accra, GHS, a product named `<script>alert(1)</script>`) for an owner and a manager, and
//! [`samples::render_fragment_samples`] the fragments fetched alone. `tests/pages.rs` checks
//! them: escaping, the CSRF field of every POST form, no inline style or script or `on…=`
//! attribute, one `<h1>` and a `<title>`, headings in order, a label for every field, ids
//! unique and every ARIA reference resolved. `tests/browser.rs` opens every page in headless
//! Chromium on a 360 px phone under the real CSP (no sideways scrolling, 48 px controls, no
//! console error, a live region refreshing with the CSRF header); with
//! `NEXUS_AXE_JS=/path/to/axe.min.js` it also runs axe-core on each page.
//! `NEXUS_WEB_DUMP=dir cargo test -p nexus-web --test dump` writes the samples to files.

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub mod assets;
pub mod charts;
pub mod format;
pub mod forms;
mod handlers;
pub mod layout;
pub mod paths;
pub mod qr;
pub mod samples;
pub mod views;

pub use assets::assets;
pub use handlers::{CONTENT_SECURITY_POLICY, WebConfig, pages, serve_dashboard};
pub use layout::{BillingNotice, Flash, FlashKind, Layout, Section, SignedInUser};
pub use samples::{render_fragment_samples, render_samples};

/// The content of a page: a template that renders alone (for htmx) and inside a [`Page`].
/// Its output is already escaped HTML, hence `HtmlSafe`.
pub trait Fragment: Template + askama::filters::HtmlSafe {
    /// The page's `<title>` and the subject of its one `<h1>` ("Products").
    fn title(&self) -> String;
}

/// A full page: the layout around a fragment.
#[derive(Template)]
#[template(path = "page.html")]
pub struct Page<C: Fragment> {
    pub layout: Layout,
    pub content: C,
}

impl<C: Fragment> Page<C> {
    pub fn new(layout: Layout, content: C) -> Self {
        Self { layout, content }
    }
}

/// Marks a view model as a fragment whose title is the expression given.
macro_rules! fragment {
    ($type:ty, |$this:ident| $title:expr) => {
        impl askama::filters::HtmlSafe for $type {}
        impl $crate::Fragment for $type {
            fn title(&self) -> String {
                let $this = self;
                ($title).into()
            }
        }
    };
}
pub(crate) use fragment;

/// Marks a template as safe to place inside another one (a live region, a chart).
macro_rules! html_safe {
    ($($type:ty),* $(,)?) => {
        $(impl askama::filters::HtmlSafe for $type {})*
    };
}
pub(crate) use html_safe;

html_safe!(charts::BarChart, qr::QrSvg);

/// Whether the request asks for the fragment alone (see the crate docs).
pub fn wants_fragment(headers: &HeaderMap) -> bool {
    let is = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.eq_ignore_ascii_case("true"))
    };
    is("hx-request") && !is("hx-boosted") && !is("hx-history-restore-request")
}

/// The page or its fragment, as the request asks, with `status` (422 for a form sent back
/// with errors, 403 and 404 for the error pages).
pub fn respond<C: Fragment>(
    headers: &HeaderMap,
    status: StatusCode,
    layout: Layout,
    content: C,
) -> Response {
    let rendered = if wants_fragment(headers) {
        content.render()
    } else {
        Page::new(layout, content).render()
    };
    let mut response = match rendered {
        Ok(html) => (status, html).into_response(),
        // A template that fails to render is a bug; say so plainly rather than half a page.
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong showing this page.",
        )
            .into_response(),
    };
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response_headers.insert(
        header::VARY,
        HeaderValue::from_static("HX-Request, HX-Boosted, HX-History-Restore-Request"),
    );
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_only_for_plain_htmx_requests() {
        let mut headers = HeaderMap::new();
        assert!(!wants_fragment(&headers));
        headers.insert("hx-request", HeaderValue::from_static("true"));
        assert!(wants_fragment(&headers));
        headers.insert("hx-boosted", HeaderValue::from_static("true"));
        assert!(!wants_fragment(&headers));
        headers.remove("hx-boosted");
        headers.insert(
            "hx-history-restore-request",
            HeaderValue::from_static("true"),
        );
        assert!(!wants_fragment(&headers));
    }
}
