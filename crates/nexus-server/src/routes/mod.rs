//! The HTTP routes. Handlers are thin: parse, authorize, call the store, answer.

mod auth;
mod branches;
mod health;
mod staff;

use axum::Router;
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
}
