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

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Controls narrower or lower than 48 px, and whether the page is wider than the window.
const MEASURE: &str = r#"
const small = [];
const selector = 'a[role=button], button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, summary, nav a, .row-action, .check label, .stat-link';
for (const element of document.querySelectorAll(selector)) {
  const box = element.getBoundingClientRect();
  if (box.width === 0 && box.height === 0) continue;
  if (element.closest('.visually-hidden')) continue;
  if (box.height < 47.5 || box.width < 47.5) {
    small.push(element.tagName + ' "' + (element.textContent || element.name || '').trim().slice(0, 40) + '" ' + Math.round(box.width) + 'x' + Math.round(box.height));
  }
}
return {
  inner: window.innerWidth,
  scroll: document.documentElement.scrollWidth,
  small: small,
  styles: document.querySelectorAll('style').length,
};
"#;

fn chromedriver() -> Option<PathBuf> {
    let found = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .filter(|_| Path::new(CHROMIUM).exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Chromium and chromedriver are needed for the browser tests: apt-get install chromium chromium-driver"
        );
        eprintln!("chromium or chromedriver is missing: browser test skipped");
    }
    found
}

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

struct Driver {
    process: Child,
    base: String,
    http: reqwest::Client,
}

impl Driver {
    fn start(executable: &Path) -> Result<Self, String> {
        use std::io::BufRead as _;
        let mut process = Command::new(executable)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start chromedriver: {error}"))?;
        let stdout = process.stdout.take().ok_or("chromedriver has no stdout")?;
        let mut port = None;
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.map_err(|error| error.to_string())?;
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                port = rest.trim_end_matches('.').trim().parse::<u16>().ok();
                break;
            }
        }
        let Some(port) = port else {
            let _ = process.kill();
            return Err("chromedriver did not say its port".to_owned());
        };
        Ok(Self {
            process,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .request(method.clone(), &url)
            .json(&body)
            .send()
            .await
            .map_err(|error| format!("{method} {url}: {error}"))?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .map_err(|error| format!("{method} {url}: {error}"))?;
        if status.is_success() {
            Ok(answer["value"].clone())
        } else {
            Err(format!("{method} {url}: {status}: {}", answer["value"]))
        }
    }

    async fn session(&self, profile: &Path, width: u32, height: u32) -> Result<String, String> {
        let answer = self
            .call(
                reqwest::Method::POST,
                "/session",
                json!({ "capabilities": { "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:loggingPrefs": { "browser": "ALL" },
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        // A window cannot be narrower than 500 px; a phone's viewport can.
                        "mobileEmulation": { "deviceMetrics": {
                            "width": width, "height": height, "pixelRatio": 1,
                        } },
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                            format!("--window-size={width},{height}"),
                            format!("--user-data-dir={}", profile.display()),
                        ],
                    },
                } } }),
            )
            .await?;
        answer["sessionId"]
            .as_str()
            .map(|id| format!("/session/{id}"))
            .ok_or_else(|| format!("no session id in {answer}"))
    }

    async fn open(&self, session: &str, url: &str) -> Result<(), String> {
        self.call(
            reqwest::Method::POST,
            &format!("{session}/url"),
            json!({ "url": url }),
        )
        .await
        .map(|_| ())
    }

    async fn script(&self, session: &str, script: &str) -> Result<Value, String> {
        self.call(
            reqwest::Method::POST,
            &format!("{session}/execute/sync"),
            json!({ "script": script, "args": [] }),
        )
        .await
    }

    /// Console messages since the last call: errors include CSP violations.
    async fn console_errors(&self, session: &str) -> Result<Vec<String>, String> {
        let logs = self
            .call(
                reqwest::Method::POST,
                &format!("{session}/se/log"),
                json!({ "type": "browser" }),
            )
            .await?;
        Ok(logs
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect())
    }

    async fn wait_for(
        &self,
        session: &str,
        script: &str,
        limit: Duration,
    ) -> Result<Value, String> {
        let deadline = Instant::now() + limit;
        loop {
            let value = self.script(session, script).await?;
            if value.as_bool() != Some(false) && !value.is_null() {
                return Ok(value);
            }
            if Instant::now() > deadline {
                return Err(format!("waited {limit:?} for {script}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Serious and critical axe-core findings on the current page.
async fn axe_violations(driver: &Driver, session: &str, axe: &str) -> Result<Vec<String>, String> {
    driver
        .script(session, &format!("{axe}; return true;"))
        .await?;
    let found = driver
        .call(
            reqwest::Method::POST,
            &format!("{session}/execute/async"),
            json!({ "script": "const done = arguments[arguments.length - 1]; axe.run(document, { resultTypes: ['violations'] }).then(result => done(result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));", "args": [] }),
        )
        .await?;
    Ok(found
        .as_array()
        .into_iter()
        .flatten()
        .map(|violation| violation.as_str().unwrap_or_default().to_owned())
        .collect())
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
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
