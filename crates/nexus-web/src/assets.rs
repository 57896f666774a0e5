//! The dashboard's static files, compiled into the binary: the service needs nothing from the
//! internet and no build step to draw its pages.
//!
//! Every URL a page uses carries a fingerprint of the file (`/assets/dashboard.css?v=…`), so
//! the files are cached for a year and a new build is still picked up at once.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Where the lead mounts [`assets`]; the templates build their URLs from it.
pub const ASSETS_PATH: &str = "/assets";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const FILES: &[Asset] = &[
    Asset {
        name: "dashboard.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/dashboard.css"),
    },
    Asset {
        name: "dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/dashboard.js"),
    },
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/vendor/htmx.min.js"),
    },
    Asset {
        name: "pico.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/vendor/pico.min.css"),
    },
    Asset {
        name: "htmx.LICENSE",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../assets/vendor/htmx.LICENSE"),
    },
    Asset {
        name: "pico.LICENSE.md",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../assets/vendor/pico.LICENSE.md"),
    },
];

/// FNV-1a: not for security, only to change the URL whenever the file changes.
fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", hash & 0xffff_ffff_ffff)
}

static URLS: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|asset| {
            (
                asset.name,
                format!("{ASSETS_PATH}/{}?v={}", asset.name, fingerprint(asset.body)),
            )
        })
        .collect()
});

/// The URL of a vendored or own file, with its fingerprint. An unknown name gives a URL that
/// answers 404 rather than a panic in a template.
pub fn asset_url(name: &str) -> String {
    URLS.iter()
        .find(|(known, _)| *known == name)
        .map(|(_, url)| url.clone())
        .unwrap_or_else(|| format!("{ASSETS_PATH}/{name}"))
}

/// The router to mount at [`ASSETS_PATH`]: `GET /{file}` with the right content type, a
/// year's cache (the URLs are fingerprinted) and `nosniff`.
pub fn assets<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/{file}", get(serve))
}

async fn serve(Path(file): Path<String>) -> Response {
    let Some(asset) = FILES.iter().find(|asset| asset.name == file) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    #[test]
    fn urls_carry_a_fingerprint() {
        let url = asset_url("dashboard.css");
        assert!(url.starts_with("/assets/dashboard.css?v="), "{url}");
        assert_eq!(url.len(), "/assets/dashboard.css?v=".len() + 12);
        assert_eq!(asset_url("nope.js"), "/assets/nope.js");
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
    }

    #[tokio::test]
    async fn serves_files_with_their_type_and_a_long_cache() {
        let router: Router = assets();
        for (name, content_type) in [
            ("dashboard.css", "text/css; charset=utf-8"),
            ("dashboard.js", "text/javascript; charset=utf-8"),
            ("htmx.min.js", "text/javascript; charset=utf-8"),
            ("pico.min.css", "text/css; charset=utf-8"),
        ] {
            let response = router
                .clone()
                .oneshot(
                    Request::get(format!("/{name}?v=123"))
                        .body(Body::empty())
                        .expect("request"),
                )
                .await
                .expect("answers");
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            let headers = response.headers();
            assert_eq!(headers[header::CONTENT_TYPE], content_type, "{name}");
            assert_eq!(
                headers[header::CACHE_CONTROL],
                "public, max-age=31536000, immutable"
            );
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        }
        let missing = router
            .oneshot(
                Request::get("/../Cargo.toml")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("answers");
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }
}
