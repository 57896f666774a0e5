//! The cashier screen in a real browser (Debian's headless Chromium, driven through
//! chromedriver) against the station's real HTTP server, with the cloud service stopped:
//! sign in with a PIN, open a shift, scan two products, take mobile money and cash, print the
//! receipt page, close the shift; then the service comes back, the banner goes to zero
//! unsynced and the sale is on the server.
//!
//! With `NEXUS_SCREENSHOTS=1` the sale screen and the shift close are written to `docs/` (the
//! README shows them); otherwise to the test's scratch directory.

use std::sync::Arc;
use std::time::Duration;

use nexus_pos::WorkerSettings;
use nexus_testkit::{Backend, backend_tests};

use super::webdriver::{self, Browser, ENTER, F2};

backend_tests!(a_cashier_sells_offline_in_the_browser_and_the_sale_syncs_when_the_service_returns);

/// The cashier screen of a station, served on 127.0.0.1:0 with its sync worker.
pub(super) struct Served {
    pub url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    pub(super) async fn start(
        station: Arc<nexus_pos::Station>,
        clock: Arc<nexus_testkit::ManualClock>,
        settings: WorkerSettings,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(nexus_pos::web::serve(
            station,
            clock,
            settings,
            listener,
            async {
                let _ = stopped.await;
            },
        ));
        Self { url, stop, task }
    }

    /// The screen with a worker that waits a minute between tries: for tests with the service
    /// paused, where the screen is what is tested.
    pub(super) async fn offline(
        station: Arc<nexus_pos::Station>,
        clock: Arc<nexus_testkit::ManualClock>,
    ) -> Self {
        let minute = Duration::from_secs(60);
        let settings = WorkerSettings {
            retry_first: minute,
            retry_most: minute,
            pull_every: minute,
            backups: None,
        };
        Self::start(station, clock, settings).await
    }

    /// Stops the screen and its worker, and checks that they stopped cleanly.
    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("join")
            .expect("the till screen stops cleanly");
    }
}

/// Signs in at the screen with `pin` alone and waits for the banner to name `name`.
pub(super) async fn sign_in_with_pin(
    browser: &Browser,
    screen: &str,
    pin: &str,
    name: &str,
) -> Result<(), String> {
    browser.open(&format!("{screen}/sign-in")).await?;
    browser
        .find("#pin")
        .await?
        .type_text(&format!("{pin}{ENTER}"))
        .await?;
    browser.wait_for_text("#banner .who", name).await
}

/// The browser, or why this run has none. Under CI it must be there (`.ci/run` installs it).
pub(super) fn driver_path() -> Option<std::path::PathBuf> {
    let found =
        webdriver::chromedriver().filter(|_| std::path::Path::new(webdriver::CHROMIUM).exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Chromium and chromedriver are needed for the browser tests: apt-get install chromium chromium-driver (bash .ci/run does)"
        );
        eprintln!(
            "chromium or chromedriver is missing: browser test skipped (apt-get install chromium chromium-driver)"
        );
    }
    found
}

async fn a_cashier_sells_offline_in_the_browser_and_the_sale_syncs_when_the_service_returns(
    backend: &Backend,
) {
    let Some(chromedriver) = driver_path() else {
        return;
    };
    let mut till = super::till::till(backend).await;
    let screenshots = if matches!(backend, Backend::Sqlite)
        && std::env::var("NEXUS_SCREENSHOTS").as_deref() == Ok("1")
    {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
    } else {
        till.data.join("screenshots")
    };
    std::fs::create_dir_all(&screenshots).expect("screenshot directory");

    // The outage: the cloud service is gone before the till screen even starts.
    till.server.pause().await;
    let station = Arc::new(till.station);
    let served = Served::start(
        station.clone(),
        till.server.clock.clone(),
        // Quick retries so the test sees the reconnection soon after the service returns.
        WorkerSettings {
            retry_first: Duration::from_millis(100),
            retry_most: Duration::from_millis(500),
            pull_every: Duration::from_secs(1),
            backups: None,
        },
    )
    .await;
    let screen = served.url.clone();

    let driver = webdriver::Driver::start(&chromedriver).expect("chromedriver");
    let browser = driver
        .session(&till.data.join("chromium-profile"), 1366, 768)
        .await
        .expect("a Chromium session");
    let outcome = drive(&browser, &screen, &screenshots).await;
    browser.quit().await;
    let sale_id = outcome.unwrap_or_else(|error| panic!("in the browser: {error}"));

    // The service returns on the same address: the worker notices, pushes, and the banner (which
    // polls the station every 3 s) says so.
    till.server.resume().await;
    let browser = driver
        .session(&till.data.join("chromium-profile-2"), 1366, 768)
        .await
        .expect("a Chromium session");
    let synced = back_online(&browser, &screen).await;
    browser.quit().await;
    synced.unwrap_or_else(|error| panic!("after the service returned: {error}"));

    let recorded = till
        .server
        .get(&format!("/api/v1/sales/{sale_id}"), &till.token)
        .await;
    assert_eq!(
        recorded.status, 200,
        "the sale is on the server: {}",
        recorded.body
    );
    assert_eq!(recorded.body["total_minor"], 3700);
    let kinds: Vec<&str> = recorded.body["tenders"]
        .as_array()
        .expect("tenders")
        .iter()
        .filter_map(|tender| tender["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["momo", "cash"], "{}", recorded.body);
    let shifts = till
        .server
        .get(
            &format!("/api/v1/shifts?branch={}", till.branch),
            &till.token,
        )
        .await;
    assert_eq!(shifts.status, 200, "{}", shifts.body);
    assert_eq!(
        shifts.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        shifts.body
    );
    assert!(
        shifts.body["items"][0]["closed_at"].is_number(),
        "{}",
        shifts.body
    );

    served.stop().await;
    station.close().await;
    till.server.stop().await;
    let _ = std::fs::remove_dir_all(&till.data);
}

/// The whole offline sale; answers the sale's id (from the receipt page's address).
async fn drive(
    browser: &Browser,
    screen: &str,
    screenshots: &std::path::Path,
) -> Result<String, String> {
    // Nobody is signed in: the screen asks for a PIN, and says the till is offline.
    browser.open(&format!("{screen}/")).await?;
    browser.wait_for_path("/sign-in").await?;
    browser.wait_for_text("#connectivity", "Offline").await?;
    // A PIN has digits only: its pad has no decimal point.
    let point = browser
        .script("return document.querySelectorAll('[data-pad=\".\"]').length")
        .await?;
    if point != 0 {
        return Err(format!("the PIN pad has a decimal point key ({point})"));
    }
    // A wrong PIN is refused on the page.
    browser.find("#pin").await?.type_text("9999").await?;
    browser.find("#sign-in").await?.click().await?;
    browser.wait_for_text(".error", "PIN").await?;
    // Efua's PIN alone says who she is.
    browser.find("#pin").await?.type_text("4821").await?;
    browser.find("#sign-in").await?.click().await?;
    browser.wait_for_text("#banner .who", "Efua").await?;
    no_alarm(browser, "after signing in").await?;
    // A receipt link cut short: a page written for the cashier, with the way back.
    browser
        .open(&format!("{screen}/receipts/0190-not-a-receipt"))
        .await?;
    browser.wait_for_text("#problem", "cut short").await?;
    let shown = browser.text_of("body").await?;
    if shown.contains("UUID") || shown.contains("parsing") {
        return Err(format!("the parser's words reach the cashier:\n{shown}"));
    }
    browser.find("#back-to-sale").await?.click().await?;
    browser.wait_for_path("/").await?;

    // Open a shift with GHS 100.00 in the drawer, typed as a cashier types it: into the field
    // as it comes (no clearing first), then Enter. A slip (5000) is asked about first.
    browser.open(&format!("{screen}/shift")).await?;
    browser
        .find("#float")
        .await?
        .type_text(&format!("5000{ENTER}"))
        .await?;
    browser.wait_for_text("#confirm-float", "GHS").await?;
    browser.find("#confirm-float-no").await?.click().await?;
    browser
        .find("#float")
        .await?
        .type_text(&format!("100{ENTER}"))
        .await?;
    browser.wait_for_path("/").await?;

    // A scan, as a scanner types it: digits then Enter, into the focused scan field.
    let scan = browser.find("#scan").await?;
    scan.type_text(&format!("6001234567890{ENTER}")).await?;
    browser.wait_for_text("#cart", "Rice 5kg").await?;
    let scan = browser.find("#scan").await?;
    let focused = browser
        .script("return document.activeElement && document.activeElement.id")
        .await?;
    if focused != "scan" {
        return Err(format!(
            "the scan field lost the focus after a scan (focus on {focused})"
        ));
    }
    // The cashier types a word from the middle of a name: "milk" finds "Peak milk tin".
    scan.type_text(&format!("milk{ENTER}")).await?;
    browser.wait_for_text("#cart", "Peak milk tin").await?;
    browser.wait_for_text("#total", "GHS 37.00").await?;
    let cart = browser.text_of("#cart").await?;
    for levy in ["VAT", "NHIL", "GETFund"] {
        if !cart.contains(levy) {
            return Err(format!("the cart does not show {levy}:\n{cart}"));
        }
    }
    std::fs::write(
        screenshots.join("sale-screen.png"),
        check_png(browser.screenshot().await?)?,
    )
    .map_err(|error| error.to_string())?;

    // F2 goes to payment, as its button says.
    browser.find("#scan").await?.type_text(F2).await?;
    browser.wait_for_path("/pay").await?;
    browser.wait_for_text("#due", "GHS 37.00").await?;
    // GHS 20.00 by MTN MoMo, recorded offline with the payer's number and the SMS's id.
    browser.find("#amount").await?.type_text("20").await?;
    browser.find("#momo-details summary").await?.click().await?;
    browser
        .find("#phone")
        .await?
        .type_text("0241234567")
        .await?;
    browser
        .find("#momo-reference")
        .await?
        .type_text("8123456789")
        .await?;
    browser.find("#tender-momo").await?.click().await?;
    browser.wait_for_text("#remaining", "GHS 17.00").await?;
    // 500 typed for 17.00 due is asked about, not taken.
    browser
        .find("#amount")
        .await?
        .type_text(&format!("500{ENTER}"))
        .await?;
    browser
        .wait_for_text("#confirm-tender", "GHS 17.00")
        .await?;
    browser.find("#confirm-tender-no").await?.click().await?;
    browser.wait_for_text("#remaining", "GHS 17.00").await?;
    // The rest in cash, typed on the on-screen keypad: 20 for 17.00 due.
    browser.find("#amount").await?.click().await?;
    for key in ["2", "0"] {
        browser
            .find(&format!("[data-pad=\"{key}\"]"))
            .await?
            .click()
            .await?;
    }
    browser.find("#tender-cash").await?.click().await?;
    browser.wait_for_text("#change", "GHS 3.00").await?;
    browser.find("#complete").await?.click().await?;
    browser.wait_for_url("/receipts/").await?;

    let receipt = browser.text_of("#receipt").await?;
    for expected in [
        "OSU-TILL1-000001",
        "Rice 5kg",
        "Peak milk tin",
        "VAT 15%",
        "NHIL 2.5%",
        "GETFund",
        "TOTAL GHS",
        "37.00",
        "MTN MoMo",
        "unverified",
        "Change",
        "3.00",
    ] {
        if !receipt.contains(expected) {
            return Err(format!("the receipt lacks {expected:?}:\n{receipt}"));
        }
    }
    // Sent to the customer's phone: the mobile-money payer's number is offered, and the links
    // hand the receipt to WhatsApp or the messages app, which send it when they can.
    let offered = browser
        .script("return document.getElementById('share-to').value")
        .await?;
    if offered != "0241234567" {
        return Err(format!("the payer's number is not offered: {offered}"));
    }
    browser.find("#share").await?.click().await?;
    browser.wait_for_text("#share-whatsapp", "WhatsApp").await?;
    let link = |id: &str| format!("return document.getElementById('{id}').getAttribute('href')");
    let whatsapp = browser.script(&link("share-whatsapp")).await?;
    let whatsapp = whatsapp.as_str().unwrap_or_default();
    if !whatsapp.starts_with("https://wa.me/233241234567?text=")
        || !whatsapp.contains("OSU-TILL1-000001")
    {
        return Err(format!("the WhatsApp link is not the receipt: {whatsapp}"));
    }
    let sms = browser.script(&link("share-sms")).await?;
    let sms = sms.as_str().unwrap_or_default();
    if !sms.starts_with("sms:+233241234567?body=") || !sms.contains("TOTAL") {
        return Err(format!("the SMS link is not the receipt: {sms}"));
    }
    let url = browser.url().await?;
    // Both papers: every character of every line on the paper (the pesewas included), and a
    // page that prints.
    let receipt_page = url.split('?').next().unwrap_or(&url).to_owned();
    for paper in ["80", "58"] {
        browser
            .open(&format!("{receipt_page}?paper={paper}"))
            .await?;
        browser.wait_for_text("#receipt", "TOTAL GHS").await?;
        let fits = browser
            .script(
                "const paper = document.getElementById('receipt'); \
                 return [paper.scrollWidth, paper.clientWidth];",
            )
            .await?;
        let (content, room) = (fits[0].as_i64().unwrap_or(0), fits[1].as_i64().unwrap_or(0));
        if content > room {
            return Err(format!(
                "the {paper} mm receipt overflows its paper: {content} px of text on {room} px"
            ));
        }
        let pdf = browser.print_pdf().await?;
        if !pdf.starts_with(b"%PDF") || pdf.len() < 1000 {
            return Err(format!(
                "printing the {paper} mm receipt gave {} bytes that are not a PDF",
                pdf.len()
            ));
        }
    }
    let sale_id = url
        .split("/receipts/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .ok_or_else(|| format!("no sale id in {url}"))?
        .to_owned();

    // "Next sale" starts an empty sale, which is nothing to be alarmed about.
    browser.find("#next-sale").await?.click().await?;
    browser.wait_for_path("/").await?;
    no_alarm(browser, "after Next sale").await?;

    // Still offline, and the banner counts the sale as unsynced.
    browser.open(&format!("{screen}/")).await?;
    browser.wait_for_text("#connectivity", "Offline").await?;
    browser
        .wait_for_text("#unsynced", "1 unsynced sale")
        .await?;

    // Close the shift: cash is the float plus 20.00 less 3.00 change; MoMo 20.00.
    browser.open(&format!("{screen}/shift")).await?;
    browser
        .find("#counted-cash")
        .await?
        .type_text("117.00")
        .await?;
    browser
        .find("#counted-momo")
        .await?
        .type_text("20.00")
        .await?;
    browser.find("#close-shift").await?.click().await?;
    browser.wait_for_text("#shift-close", "117.00").await?;
    let close = browser.text_of("#shift-close").await?;
    for expected in [
        "Cash GHS 117.00 GHS 117.00 GHS 0.00",
        "Mobile money GHS 20.00 GHS 20.00 GHS 0.00",
    ] {
        if !close.contains(expected) {
            return Err(format!("the shift close lacks {expected:?}:\n{close}"));
        }
    }
    std::fs::write(
        screenshots.join("shift-close.png"),
        check_png(browser.screenshot().await?)?,
    )
    .map_err(|error| error.to_string())?;
    Ok(sale_id)
}

/// Nothing shows as an error when the cashier has done nothing wrong.
async fn no_alarm(browser: &Browser, when: &str) -> Result<(), String> {
    let shown = browser
        .script(
            "return Array.from(document.querySelectorAll('.error, [role=alert]')) \
             .map(e => e.textContent.trim()).filter(t => t.length > 0).join(' | ')",
        )
        .await?;
    let shown = shown.as_str().unwrap_or_default();
    if shown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "an error shows {when} with nothing done wrong: {shown}"
        ))
    }
}

async fn back_online(browser: &Browser, screen: &str) -> Result<(), String> {
    browser.open(&format!("{screen}/sign-in")).await?;
    browser
        .wait_until(
            "the banner to say online with nothing unsynced",
            Duration::from_secs(60),
            || async {
                let online = browser.text_of("#connectivity").await? == "Online";
                // The banner is swapped every 3 s: read in one step, never a stale element.
                let count = browser.attribute_of("#unsynced", "data-count").await?;
                Ok(online && count.as_deref() == Some("0"))
            },
        )
        .await
}

fn check_png(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000 {
        Ok(bytes)
    } else {
        Err(format!(
            "the screenshot is not a PNG of a drawn page ({} bytes)",
            bytes.len()
        ))
    }
}
