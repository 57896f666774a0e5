//! The dashboard's handlers: each reads the request, calls the service's own services (the
//! ones the JSON API calls), fills a view model and answers with [`crate::respond`]. None
//! reads the store for anything a service decides.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use nexus_server::App;
use nexus_server::error::ApiError;
use nexus_server::mail::{MailError, Mailer};
use nexus_server::state::AppState;

use crate::paths;

mod accounts;
mod admin;
mod billing;
mod categories;
mod context;
mod customers;
mod input;
mod inventory;
mod items;
mod live;
mod momo;
mod orders;
mod overview;
mod products;
mod public;
mod receipts;
mod sales;
mod setup;
mod staff;
mod text;
mod vat;

use context::PageError;
pub use context::WebConfig;

/// The policy every dashboard answer carries: scripts, styles and everything else from this
/// origin only (no inline script or style anywhere), no framing, no form posted elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The service with the dashboard at `/`: the pages, the static files and the not-found page.
pub fn serve_dashboard(app: App) -> Result<App, MailError> {
    let settings = app.settings();
    let config = WebConfig {
        public_url: settings.public_url.clone(),
        secure_cookies: settings.public_url.starts_with("https://"),
        session_idle: settings.session_idle,
        mailer: Arc::new(Mailer::new(settings.mail.clone())?),
    };
    let (pages, not_found) = pages(config);
    Ok(app.with_pages(pages, not_found))
}

/// The dashboard's routes, and what answers a path none of them (nor the API) has.
pub fn pages(config: WebConfig) -> (Router<AppState>, MethodRouter<AppState>) {
    let config: context::Config = Arc::new(config);
    let upload_limit = DefaultBodyLimit::max(nexus_server::services::imports::IMPORT_MAX_BYTES);
    let router = Router::new()
        .route(
            paths::SIGN_UP,
            get(public::sign_up_page).post(public::sign_up),
        )
        .route(
            paths::SIGN_IN,
            get(public::sign_in_page).post(public::sign_in),
        )
        .route(
            paths::SIGN_OUT,
            get(public::sign_out_page).post(public::sign_out),
        )
        .route(
            paths::FORGOT_PASSWORD,
            get(public::forgot_page).post(public::forgot),
        )
        .route(
            paths::RESET_PASSWORD,
            get(public::reset_page).post(public::reset),
        )
        .route(paths::SETUP, get(setup::checklist))
        .route(paths::SETUP_SHOP, get(setup::shop_page).post(setup::shop))
        .route(
            paths::SETUP_BRANCH,
            get(setup::branch_page).post(setup::branch),
        )
        .route(
            paths::SETUP_PRODUCTS,
            get(setup::products_page).post(setup::product),
        )
        .route(
            "/setup/products/import",
            post(setup::import).layer(upload_limit),
        )
        .route(
            paths::SETUP_CASHIER,
            get(setup::cashier_page).post(setup::cashier),
        )
        .route(paths::SETUP_TILL, get(setup::till_page).post(setup::till))
        .route("/setup/{step}/skip", post(setup::skip))
        .route(paths::OVERVIEW, get(overview::overview))
        .route("/overview/live", get(overview::live))
        .route("/events", get(live::events))
        .route(paths::SALES, get(sales::sales))
        .route("/sales/export/{table}", get(sales::export))
        .route(paths::VAT, get(vat::vat_page))
        .route("/sales/vat/export", get(vat::vat_export))
        .route(paths::ITEMS, get(items::items_page))
        .route("/sales/items/export", get(items::items_export))
        .route(paths::RECEIPTS, get(receipts::list))
        .route("/receipts/{id}", get(receipts::detail))
        .route("/receipts/{id}/refund", post(receipts::refund))
        .route("/receipts/{id}/void", post(receipts::void))
        .route(paths::PRODUCTS, get(products::list).post(products::create))
        .route(paths::PRODUCT_NEW, get(products::new_page))
        .route(
            paths::CATEGORIES,
            get(categories::list).post(categories::create),
        )
        .route("/products/categories/{id}", post(categories::update))
        .route(
            paths::ORDERS,
            get(orders::orders_page).post(orders::create_order),
        )
        .route(paths::SUPPLIERS, post(orders::add_supplier))
        .route("/inventory/orders/{id}", get(orders::order_page))
        .route("/inventory/orders/{id}/receive", post(orders::receive))
        .route("/inventory/orders/{id}/close", post(orders::close))
        .route(
            paths::CUSTOMERS,
            get(customers::list).post(customers::create),
        )
        .route(paths::DEBTORS, get(accounts::debtors_page))
        .route(
            "/customers/{id}",
            get(customers::edit_page).post(customers::update),
        )
        .route("/customers/{id}/account", get(accounts::account_page))
        .route("/customers/{id}/payments", post(accounts::take_payment))
        .route(
            paths::PRODUCTS_IMPORT,
            get(products::import_page)
                .post(products::import)
                .layer(upload_limit),
        )
        .route("/products/import/{job}", get(products::import_status_page))
        .route(paths::PRODUCTS_EXPORT, get(products::export))
        .route("/products/{id}", post(products::update))
        .route("/products/{id}/edit", get(products::edit_page))
        .route("/products/{id}/archive", post(products::archive))
        .route(paths::INVENTORY, get(inventory::inventory))
        .route("/inventory/live", get(inventory::live))
        .route(
            paths::INVENTORY_RECEIVE,
            get(inventory::receive_page).post(inventory::receive),
        )
        .route(
            paths::INVENTORY_ADJUST,
            get(inventory::adjust_page).post(inventory::adjust),
        )
        .route(
            paths::INVENTORY_COUNT,
            get(inventory::count_page).post(inventory::count),
        )
        .route(
            paths::INVENTORY_TRANSFER,
            get(inventory::transfer_page).post(inventory::transfer),
        )
        .route("/inventory/products/{id}", get(inventory::movements))
        .route(paths::STAFF, get(staff::list).post(staff::create))
        .route(paths::STAFF_NEW, get(staff::new_page))
        .route("/staff/{id}", post(staff::update))
        .route("/staff/{id}/edit", get(staff::edit_page))
        .route("/staff/{id}/deactivate", post(staff::deactivate))
        .route(paths::SHIFTS, get(staff::shifts))
        .route(paths::PERFORMANCE, get(staff::performance))
        .route("/shifts/performance/export", get(staff::performance_export))
        .route(
            paths::BRANCHES,
            get(admin::branches).post(admin::create_branch),
        )
        .route("/branches/{id}", post(admin::rename_branch))
        .route("/branches/{id}/archive", post(admin::archive_branch))
        .route(paths::TILLS, get(admin::tills).post(admin::create_till))
        .route("/tills/live", get(admin::tills_live))
        .route(paths::TILL_NEW, get(admin::till_new))
        .route("/tills/{id}/revoke", post(admin::revoke_till))
        .route(paths::CONFLICTS, get(admin::conflicts))
        .route(paths::MOBILE_MONEY, get(momo::page))
        .route(
            paths::MOBILE_MONEY_STATEMENTS,
            post(momo::upload).layer(DefaultBodyLimit::max(
                nexus_server::services::momo::STATEMENT_MAX_BYTES,
            )),
        )
        .route(
            paths::MOBILE_MONEY_LAYOUT,
            post(momo::save_layout).layer(DefaultBodyLimit::max(
                nexus_server::services::momo::STATEMENT_MAX_BYTES * 3,
            )),
        )
        .route(paths::MOBILE_MONEY_ACCOUNT, post(momo::save_account))
        .route(
            "/mobile-money/exceptions/{sale}/{position}/sign-off",
            post(momo::sign_off),
        )
        .route(paths::BILLING, get(billing::billing_page))
        .route(paths::BILLING_CHECKOUT, post(billing::checkout))
        .route(paths::BILLING_MANAGE, post(billing::manage))
        .route(
            paths::SETTINGS,
            get(admin::settings).post(admin::save_settings),
        )
        .nest(crate::assets::ASSETS_PATH, crate::assets())
        .layer(axum::middleware::from_fn(context::render_errors))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::Extension(config));
    let not_found = MethodRouter::new()
        .fallback(not_found)
        .layer(axum::middleware::from_fn(context::render_errors))
        .layer(axum::middleware::from_fn(security_headers));
    (router, not_found)
}

/// A path nothing serves: JSON under `/api/`, as the API alone answers, a page otherwise.
async fn not_found(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        ApiError::not_found("route").into_response()
    } else {
        PageError::NotFound.into_response()
    }
}

/// Headers every page carries: the CSP, no sniffing, no framing, no referrer to other sites.
async fn security_headers(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if is_api {
        return response;
    }
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
