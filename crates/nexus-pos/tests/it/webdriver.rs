//! Just enough of the W3C WebDriver protocol to drive Debian's headless Chromium through
//! `chromedriver` (both from apt: `chromium`, `chromium-driver`), over the reqwest the tests
//! already have. Every call answers a `Result` whose error names the command and what the
//! driver said, so a failing browser test explains itself.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The W3C name of an element reference in answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Keys as WebDriver encodes them (the Unicode private-use code points of the spec).
pub const ENTER: &str = "\u{E007}";
pub const F2: &str = "\u{E032}";

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Where chromedriver is, if installed.
pub fn chromedriver() -> Option<PathBuf> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

/// A `chromedriver` process on a port of its own choosing, ended when dropped.
pub struct Driver {
    process: Child,
    base: String,
}

impl Driver {
    /// Starts chromedriver, up to three times: on a loaded machine it has been seen to end
    /// before it listened (CI, 2026-12-07, with many tests starting browsers at once).
    pub fn start(executable: &Path) -> Result<Self, String> {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::start_once(executable) {
                Ok(driver) => return Ok(driver),
                Err(error) => failures.push(error),
            }
        }
        Err(failures.join("; "))
    }

    fn start_once(executable: &Path) -> Result<Self, String> {
        let mut process = Command::new(executable)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", executable.display()))?;
        let stdout = process.stdout.take().ok_or("chromedriver has no stdout")?;
        // It says "ChromeDriver was started successfully on port 12345." once it listens.
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
            let status = process
                .wait()
                .map_or_else(|error| error.to_string(), |status| status.to_string());
            return Err(format!(
                "chromedriver did not say which port it listens on (it ended: {status})"
            ));
        };
        Ok(Self {
            process,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// A new headless Chromium window of `width` x `height`, with its profile in `profile`.
    pub async fn session(
        &self,
        profile: &Path,
        width: u32,
        height: u32,
    ) -> Result<Browser, String> {
        self.open_session(profile, width, height, false).await
    }

    /// As [`Driver::session`], as a phone: a touch screen and no mouse or keyboard, so that
    /// `(hover: none) and (pointer: coarse)` holds.
    pub async fn phone_session(
        &self,
        profile: &Path,
        width: u32,
        height: u32,
    ) -> Result<Browser, String> {
        self.open_session(profile, width, height, true).await
    }

    async fn open_session(
        &self,
        profile: &Path,
        width: u32,
        height: u32,
        touch: bool,
    ) -> Result<Browser, String> {
        let http = reqwest::Client::new();
        let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-dev-shm-usage",
                "--no-first-run", "--hide-scrollbars",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        if touch {
            options["mobileEmulation"] = json!({ "deviceMetrics": {
                "width": width, "height": height, "pixelRatio": 1.0, "touch": true,
            } });
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        } } });
        let answer = call(
            &http,
            reqwest::Method::POST,
            &format!("{}/session", self.base),
            Some(capabilities),
        )
        .await?;
        let session = answer["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session id in {answer}"))?;
        Ok(Browser {
            http,
            session: format!("{}/session/{session}", self.base),
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut request = http.request(method.clone(), url);
    if let Some(body) = body {
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

/// One browser window (a WebDriver session).
pub struct Browser {
    http: reqwest::Client,
    session: String,
}

/// An element found on the current page.
pub struct Element<'browser> {
    browser: &'browser Browser,
    id: String,
}

impl Browser {
    async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        call(
            &self.http,
            reqwest::Method::POST,
            &format!("{}{path}", self.session),
            Some(body),
        )
        .await
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        call(
            &self.http,
            reqwest::Method::GET,
            &format!("{}{path}", self.session),
            None,
        )
        .await
    }

    pub async fn open(&self, url: &str) -> Result<(), String> {
        self.post("/url", json!({ "url": url })).await.map(|_| ())
    }

    pub async fn url(&self) -> Result<String, String> {
        Ok(self
            .get("/url")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    pub async fn find(&self, css: &str) -> Result<Element<'_>, String> {
        let answer = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await
            .map_err(|error| format!("finding {css:?}: {error}"))?;
        let id = answer[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| format!("finding {css:?}: {answer}"))?;
        Ok(Element {
            browser: self,
            id: id.to_owned(),
        })
    }

    /// The text of the element `css`: "" when it is not on the page, or was swapped out
    /// between finding and reading it (htmx replaces parts of the page as it pleases).
    pub async fn text_of(&self, css: &str) -> Result<String, String> {
        match self.find(css).await {
            Ok(element) => Ok(element.text().await.unwrap_or_default()),
            Err(_) => Ok(String::new()),
        }
    }

    /// The attribute `name` of the element `css`, read in the page in one step: an element that
    /// htmx swaps between a find and a read would otherwise be a stale reference. `None` when
    /// there is no such element or attribute.
    pub async fn attribute_of(&self, css: &str, name: &str) -> Result<Option<String>, String> {
        let read = format!(
            "const found = document.querySelector({}); \
             return found ? found.getAttribute({}) : null;",
            json!(css),
            json!(name)
        );
        Ok(self.script(&read).await?.as_str().map(str::to_owned))
    }

    /// Runs `script` in the page and answers what it returns.
    pub async fn script(&self, script: &str) -> Result<Value, String> {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// Waits until `check` holds, asking every 100 ms for at most `limit`. The browser runs
    /// on its own, so this asks about the page; it never waits a fixed time.
    pub async fn wait_until<F, Fut>(
        &self,
        what: &str,
        limit: Duration,
        mut check: F,
    ) -> Result<(), String>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool, String>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if check().await? {
                return Ok(());
            }
            if Instant::now() > deadline {
                let url = self.url().await.unwrap_or_default();
                let body = self.text_of("body").await.unwrap_or_default();
                return Err(format!(
                    "waited {limit:?} for {what}; at {url} the page says:\n{body}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element `css` shows text containing `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> Result<(), String> {
        self.wait_until(
            &format!("{css} to show {expected:?}"),
            Duration::from_secs(15),
            || async { Ok(self.text_of(css).await?.contains(expected)) },
        )
        .await
    }

    /// Waits until the address contains `part` (a page load or redirect finished).
    pub async fn wait_for_url(&self, part: &str) -> Result<(), String> {
        self.wait_until(
            &format!("the address to contain {part:?}"),
            Duration::from_secs(15),
            || async { Ok(self.url().await?.contains(part)) },
        )
        .await
    }

    /// Waits until the page's path (without the query) is exactly `path`.
    pub async fn wait_for_path(&self, path: &str) -> Result<(), String> {
        self.wait_until(
            &format!("the page {path:?}"),
            Duration::from_secs(15),
            || async {
                let url = self.url().await?;
                let after_host = url.splitn(4, '/').nth(3).unwrap_or_default();
                let current = after_host.split('?').next().unwrap_or_default();
                Ok(format!("/{current}") == path)
            },
        )
        .await
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        decode(&self.get("/screenshot").await?)
    }

    /// The page printed as the browser prints it (what a print dialog would send), as PDF.
    pub async fn print_pdf(&self) -> Result<Vec<u8>, String> {
        decode(&self.post("/print", json!({ "background": true })).await?)
    }

    pub async fn quit(self) {
        let _ = call(&self.http, reqwest::Method::DELETE, &self.session, None).await;
    }
}

fn decode(value: &Value) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(value.as_str().ok_or("no data in the answer")?)
        .map_err(|error| error.to_string())
}

impl Element<'_> {
    fn path(&self, action: &str) -> String {
        format!("/element/{}/{action}", self.id)
    }

    pub async fn click(&self) -> Result<(), String> {
        self.browser
            .post(&self.path("click"), json!({}))
            .await
            .map(|_| ())
    }

    /// Empties an input, as selecting everything and deleting does.
    pub async fn clear(&self) -> Result<(), String> {
        self.browser
            .post(&self.path("clear"), json!({}))
            .await
            .map(|_| ())
    }

    /// Types `keys` into the element (WebDriver key codes such as [`ENTER`] included).
    pub async fn type_text(&self, keys: &str) -> Result<(), String> {
        self.browser
            .post(&self.path("value"), json!({ "text": keys }))
            .await
            .map(|_| ())
    }

    pub async fn text(&self) -> Result<String, String> {
        Ok(self
            .browser
            .get(&self.path("text"))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    pub async fn attribute(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self
            .browser
            .get(&self.path(&format!("attribute/{name}")))
            .await?
            .as_str()
            .map(str::to_owned))
    }
}
