//! The contract, served: `GET /api/openapi.json` and a browsable page at `GET /api/docs`.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// A self-contained page (no CDN: it must work on a shop's flaky connection and in tests)
/// that reads the document and lists every operation with its scope and schemas.
const DOCS_PAGE: &str = include_str!("docs.html");

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(document))
        .route("/api/docs", get(page))
}

async fn document(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.as_ref().clone(),
    )
        .into_response()
}

async fn page() -> Html<&'static str> {
    Html(DOCS_PAGE)
}
