//! `respond` gives htmx the fragment and everyone else the page, with headers that keep
//! caches from mixing the two.

use axum::body::to_bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use nexus_web::views::errors::{ErrorContent, ErrorKind};
use nexus_web::{Layout, respond};

async fn body(response: axum::response::Response) -> String {
    let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

fn not_found() -> ErrorContent {
    ErrorContent {
        kind: ErrorKind::NotFound,
        signed_in: false,
        detail: None,
    }
}

#[tokio::test]
async fn pages_for_browsers_fragments_for_htmx() {
    let page = respond(
        &HeaderMap::new(),
        StatusCode::NOT_FOUND,
        Layout::public("token"),
        not_found(),
    );
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let headers = page.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(
        headers[header::VARY]
            .to_str()
            .is_ok_and(|vary| vary.contains("HX-Request"))
    );
    let html = body(page).await;
    assert!(html.starts_with("<!doctype html>"));
    assert!(
        html.contains("<title>We can&#39;t find this page · Nexus</title>"),
        "{html}"
    );

    let mut htmx = HeaderMap::new();
    htmx.insert("HX-Request", HeaderValue::from_static("true"));
    let fragment = body(respond(
        &htmx,
        StatusCode::NOT_FOUND,
        Layout::public("token"),
        not_found(),
    ))
    .await;
    assert!(!fragment.contains("<html"), "{fragment}");
    assert!(
        fragment.contains("<h1>We can&#39;t find this page</h1>"),
        "{fragment}"
    );

    htmx.insert("HX-Boosted", HeaderValue::from_static("true"));
    let boosted = body(respond(
        &htmx,
        StatusCode::OK,
        Layout::public("token"),
        not_found(),
    ))
    .await;
    assert!(
        boosted.starts_with("<!doctype html>"),
        "a boosted link swaps the whole body"
    );
}
