//! Every sample page in a real browser (Debian's headless Chromium through chromedriver),
//! served with the dashboard's real asset router and the strict Content-Security-Policy:
//! on a 360 px phone no page scrolls sideways and every control is at least 48 px; the
//! browser reports no CSP violation or script error; a live region refreshes when its topic's
//! event arrives, sending the CSRF header; the copy button copies the enrolment command.
//!
//! With `NEXUS_AXE_JS=/path/to/axe.min.js` (from the axe-core npm package) every page is also
//! run through axe-core, and any serious or critical violation fails the test.
//!
//! Skipped without Chromium and chromedriver, except under `CI=true`, where it fails.

use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

#[path = "support/driver.rs"]
mod driver;
use driver::{Driver, MEASURE, axe_violations, chromedriver};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The sample pages under `/pages/{name}`, the real assets, and stand-ins for the lead's
/// `/events` stream and a live fragment that says which CSRF header it received.
fn app() -> Router {
    let samples: Vec<(String, String)> = nexus_web::render_samples();
    Router::new()
        .nest("/assets", nexus_web::assets())
        .route(
            "/pages/{*name}",
            get(move |UrlPath(name): UrlPath<String>| {
                let page = samples
                    .iter()
                    .find(|(sample, _)| *sample == name)
                    .map(|(_, html)| html.clone());
                async move {
                    match page {
                        Some(html) => html_response(html),
                        None => (StatusCode::NOT_FOUND, "no such sample").into_response(),
                    }
                }
            }),
        )
        .route(
            "/events",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/event-stream"),
                        (header::CACHE_CONTROL, "no-store"),
                    ],
                    "event: unrelated\ndata: {}\n\nevent: sales\ndata: {}\n\nevent: sales\ndata: {}\n\n",
                )
            }),
        )
        .route(
            "/live/{*region}",
            get(|headers: HeaderMap| async move {
                let token = headers
                    .get("x-csrf-token")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("none")
                    .to_owned();
                html_response(format!("<p id=\"refreshed\">token {token}</p>"))
            }),
        )
}

fn html_response(html: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
        ],
        html,
    )
        .into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone_obeys_the_csp_and_updates_live() {
    let Some(executable) = chromedriver() else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(async move { axum::serve(listener, app()).await });
    let profile = std::env::temp_dir().join(format!("nexus-web-browser-{}", std::process::id()));
    let driver = Driver::start(&executable).expect("chromedriver");
    let outcome = drive(&driver, &base, &profile).await;
    drop(driver);
    server.abort();
    let _ = std::fs::remove_dir_all(&profile);
    if let Err(problems) = outcome {
        panic!("{problems}");
    }
}

async fn drive(driver: &Driver, base: &str, profile: &Path) -> Result<(), String> {
    let session = driver.session(profile, 360, 640).await?;
    let mut problems = Vec::new();
    let axe = std::env::var_os("NEXUS_AXE_JS")
        .map(|path| std::fs::read_to_string(&path).map_err(|error| format!("{path:?}: {error}")))
        .transpose()?;
    for (name, _) in nexus_web::render_samples() {
        driver
            .open(&session, &format!("{base}/pages/{name}"))
            .await?;
        let measured = driver.script(&session, MEASURE).await?;
        // A phone widens its layout viewport to fit content that overflows, so both the
        // window and the document must stay at the phone's 360 px.
        let inner = measured["inner"].as_i64().unwrap_or(0);
        let scroll = measured["scroll"].as_i64().unwrap_or(0);
        if inner > 360 || scroll > 360 {
            problems.push(format!(
                "{name}: wider than the phone (window {inner} px, page {scroll} px)"
            ));
        }
        for small in measured["small"].as_array().into_iter().flatten() {
            problems.push(format!("{name}: control under 48 px: {small}"));
        }
        if measured["styles"].as_i64() != Some(0) {
            problems.push(format!("{name}: a <style> element was injected"));
        }
        for error in driver.console_errors(&session).await? {
            problems.push(format!("{name}: console: {error}"));
        }
        if let Some(axe) = &axe {
            for violation in axe_violations(driver, &session, axe).await? {
                problems.push(format!("{name}: axe: {violation}"));
            }
        }
    }

    // The overview's live region refreshes on a `sales` event, through htmx, with the token.
    driver
        .open(&session, &format!("{base}/pages/owner/overview"))
        .await?;
    let refreshed = driver
        .wait_for(
            &session,
            "var p = document.querySelector('[data-live-topics] #refreshed'); return p && p.textContent;",
            Duration::from_secs(10),
        )
        .await?;
    if refreshed != json!(format!("token {}", nexus_web::samples::SAMPLE_CSRF)) {
        problems.push(format!("live region: {refreshed}"));
    }

    // The copy button says what it did (copied, or selected for Ctrl+C).
    driver
        .open(&session, &format!("{base}/pages/owner/till-enrolment"))
        .await?;
    driver
        .script(
            &session,
            "document.querySelector('[data-copy]').click(); return true;",
        )
        .await?;
    driver
        .wait_for(
            &session,
            "return document.querySelector('.copy-status').textContent.length > 0;",
            Duration::from_secs(5),
        )
        .await?;
    for error in driver.console_errors(&session).await? {
        problems.push(format!("live and copy: console: {error}"));
    }
    let _ = driver
        .call(reqwest::Method::DELETE, &session, json!({}))
        .await;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
