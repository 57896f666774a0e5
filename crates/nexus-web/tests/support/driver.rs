//! WebDriver for the browser tests: Debian's headless Chromium through chromedriver, driven
//! over its HTTP protocol, with the page measurements and the axe-core run they share.
// Two test binaries include this file and each uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Controls narrower or lower than 48 px, whether the page is wider than the window, and where
/// the page's main action (`.main-action`) is on the screen as the page opens.
pub const MEASURE: &str = r#"
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
const main = document.querySelector('.main-action');
const mainBox = main && main.getBoundingClientRect();
return {
  inner: window.innerWidth,
  innerHeight: window.innerHeight,
  main: main && {
    text: (main.textContent || '').trim().slice(0, 40),
    left: mainBox.left, right: mainBox.right, top: mainBox.top, bottom: mainBox.bottom,
  },
  scroll: document.documentElement.scrollWidth,
  small: small,
  styles: document.querySelectorAll('style').length,
};
"#;

pub fn chromedriver() -> Option<PathBuf> {
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

pub struct Driver {
    process: Child,
    base: String,
    http: reqwest::Client,
}

impl Driver {
    pub fn start(executable: &Path) -> Result<Self, String> {
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

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if method != reqwest::Method::GET {
            request = request.json(&body);
        }
        let response = request
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

    pub async fn session(&self, profile: &Path, width: u32, height: u32) -> Result<String, String> {
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

    pub async fn open(&self, session: &str, url: &str) -> Result<(), String> {
        self.call(
            reqwest::Method::POST,
            &format!("{session}/url"),
            json!({ "url": url }),
        )
        .await
        .map(|_| ())
    }

    pub async fn script(&self, session: &str, script: &str) -> Result<Value, String> {
        self.call(
            reqwest::Method::POST,
            &format!("{session}/execute/sync"),
            json!({ "script": script, "args": [] }),
        )
        .await
    }

    /// Console messages since the last call: errors include CSP violations.
    pub async fn console_errors(&self, session: &str) -> Result<Vec<String>, String> {
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

    pub async fn wait_for(
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

/// The element reference key of the WebDriver protocol.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Driver {
    /// The first element matching `css`.
    pub async fn find(&self, session: &str, css: &str) -> Result<String, String> {
        let found = self
            .call(
                reqwest::Method::POST,
                &format!("{session}/element"),
                json!({ "using": "css selector", "value": css }),
            )
            .await
            .map_err(|error| format!("find {css}: {error}"))?;
        found[ELEMENT]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no element {css}"))
    }

    /// Types `text` into the element matching `css`, as a person at the keyboard would.
    pub async fn type_into(&self, session: &str, css: &str, text: &str) -> Result<(), String> {
        let element = self.find(session, css).await?;
        self.call(
            reqwest::Method::POST,
            &format!("{session}/element/{element}/clear"),
            json!({}),
        )
        .await?;
        self.call(
            reqwest::Method::POST,
            &format!("{session}/element/{element}/value"),
            json!({ "text": text }),
        )
        .await
        .map(|_| ())
    }

    pub async fn click(&self, session: &str, css: &str) -> Result<(), String> {
        let element = self.find(session, css).await?;
        self.call(
            reqwest::Method::POST,
            &format!("{session}/element/{element}/click"),
            json!({}),
        )
        .await
        .map(|_| ())
    }

    pub async fn current_url(&self, session: &str) -> Result<String, String> {
        let url = self
            .call(reqwest::Method::GET, &format!("{session}/url"), json!(null))
            .await?;
        Ok(url.as_str().unwrap_or_default().to_owned())
    }

    /// The page as a PNG.
    pub async fn screenshot(&self, session: &str) -> Result<Vec<u8>, String> {
        use base64::Engine as _;
        let encoded = self
            .call(
                reqwest::Method::GET,
                &format!("{session}/screenshot"),
                json!(null),
            )
            .await?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .map_err(|error| format!("screenshot: {error}"))
    }
}

/// Serious and critical axe-core findings on the current page.
pub async fn axe_violations(
    driver: &Driver,
    session: &str,
    axe: &str,
) -> Result<Vec<String>, String> {
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
