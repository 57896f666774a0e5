//! The HTTP routes. Handlers are thin: parse, authorize, call the store, answer.

mod auth;
mod branches;
mod health;
mod products;
mod reports;
mod sales;
mod settings;
mod staff;
mod stock;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/api/v1/auth/register", post(auth::register))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/refresh", post(auth::refresh))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/me", get(auth::me))
        .route("/api/v1/staff", get(staff::list).post(staff::create))
        .route("/api/v1/staff/{id}", get(staff::get).patch(staff::update))
        .route("/api/v1/staff/{id}/deactivate", post(staff::deactivate))
        .route(
            "/api/v1/branches",
            get(branches::list).post(branches::create),
        )
        .route(
            "/api/v1/branches/{id}",
            get(branches::get).patch(branches::update),
        )
        .route("/api/v1/branches/{id}/archive", post(branches::archive))
        .route("/api/v1/branches/{id}/stock", get(stock::levels))
        .route(
            "/api/v1/branches/{id}/stock/movements",
            post(stock::record_movement),
        )
        .route("/api/v1/stock/transfers", post(stock::transfer))
        .route("/api/v1/alerts/low-stock", get(stock::low_stock))
        .route("/api/v1/alerts/reconciliation", get(stock::reconciliation))
        .route("/api/v1/settings", get(settings::get).put(settings::put))
        .route(
            "/api/v1/products",
            get(products::list).post(products::create),
        )
        .route(
            "/api/v1/products/import",
            post(products::import).layer(DefaultBodyLimit::max(products::IMPORT_MAX_BYTES)),
        )
        .route("/api/v1/products/export", get(products::export))
        .route(
            "/api/v1/products/{id}",
            get(products::get).patch(products::update),
        )
        .route("/api/v1/products/{id}/archive", post(products::archive))
        .route("/api/v1/sales", post(sales::create))
        .route("/api/v1/sales/{id}", get(sales::get))
        .route("/api/v1/sales/{id}/refunds", post(sales::refund))
        .route("/api/v1/sales/{id}/void", post(sales::void))
        .route("/api/v1/reports/sales", get(reports::sales))
}
