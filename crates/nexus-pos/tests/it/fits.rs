//! The cashier screen fits the devices it runs on: a 1366×768 till and 360 and 390 px phones
//! (as phones: touch, no keyboard). With 30 lines in the cart the total and Pay stay on the
//! screen; no page scrolls sideways; every visible control is at least 48×48 px; the
//! function-key labels show only where there is a keyboard. With `NEXUS_SCREENSHOTS=1` the
//! phone's cart is written to `docs/`.

use std::sync::Arc;
use std::time::Duration;

use nexus_testkit::Backend;
use serde_json::{Value, json};

use super::browser::{Served, driver_path, sign_in_with_pin};
use super::webdriver::{self, Browser, ENTER};

/// Lines in the cart, each a product of its own.
const LINES: usize = 30;

/// The page's width against the window's, controls under 48 px, where the total and Pay are,
/// and whether a function-key label shows.
pub(super) const MEASURE: &str = r#"
const small = [];
const selector = 'a, button, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea, summary, label.staff-choice';
for (const element of document.querySelectorAll(selector)) {
  const box = element.getBoundingClientRect();
  if (box.width === 0 && box.height === 0) continue;
  if (box.width < 47.5 || box.height < 47.5) {
    small.push(element.tagName + ' "' + (element.textContent || element.placeholder || element.name || '').trim().slice(0, 30) + '" ' + Math.round(box.width) + 'x' + Math.round(box.height));
  }
}
const place = (css) => {
  const element = document.querySelector(css);
  if (!element) return null;
  const box = element.getBoundingClientRect();
  return { top: box.top, bottom: box.bottom, left: box.left, right: box.right };
};
const key = document.querySelector('kbd.key');
return {
  width: window.innerWidth,
  height: window.innerHeight,
  scroll: document.documentElement.scrollWidth,
  small: small,
  total: place('#total'),
  pay: place('#pay'),
  keys: !!key && key.getBoundingClientRect().width > 0,
};
"#;

/// What is wrong with the page at `path` as measured.
pub(super) fn problems_of(path: &str, label: &str, measured: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let width = measured["width"].as_f64().unwrap_or(0.0);
    let scroll = measured["scroll"].as_f64().unwrap_or(0.0);
    if scroll > width + 0.5 {
        problems.push(format!(
            "{path} at {label}: scrolls sideways (page {scroll} px in a {width} px window)"
        ));
    }
    for small in measured["small"].as_array().into_iter().flatten() {
        problems.push(format!("{path} at {label}: control under 48 px: {small}"));
    }
    problems
}

/// Whether the element at `place` is wholly on the screen.
fn on_screen(place: &Value, measured: &Value) -> bool {
    let edge = |name: &str| place[name].as_f64().unwrap_or(f64::NAN);
    let (width, height) = (
        measured["width"].as_f64().unwrap_or(0.0),
        measured["height"].as_f64().unwrap_or(0.0),
    );
    edge("left") >= 0.0
        && edge("top") >= 0.0
        && edge("right") <= width + 0.5
        && edge("bottom") <= height + 0.5
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_till_fits_a_till_and_a_phone_with_thirty_lines() {
    let Some(chromedriver) = driver_path() else {
        return;
    };
    let mut till = super::till::till(&Backend::Sqlite).await;
    let category = till
        .server
        .post(
            "/api/v1/categories",
            &till.token,
            json!({ "name": "Family size packs and other long names" }),
        )
        .await
        .id();
    for line in 1..=LINES {
        let answer = till
            .server
            .post(
                "/api/v1/products",
                &till.token,
                json!({ "sku": format!("ITEM-{line:02}"), "name": format!("Item {line:02} Family Size Pack"), "price_minor": 100 * line, "category_id": category }),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    // An open order, so the stock page is measured with its receiving form.
    let supplier = till
        .server
        .post(
            "/api/v1/suppliers",
            &till.token,
            json!({ "name": "Kasapreko Distributors and Sons Limited" }),
        )
        .await
        .id();
    let item = till
        .server
        .get("/api/v1/products?q=ITEM-01", &till.token)
        .await
        .body["items"][0]["id"]
        .as_str()
        .expect("ITEM-01")
        .to_owned();
    let order = till
        .server
        .post(
            "/api/v1/purchase-orders",
            &till.token,
            json!({ "supplier_id": supplier, "branch_id": till.branch,
                "lines": [{ "product_id": item, "quantity": 48, "cost_minor": 50 }] }),
        )
        .await;
    assert_eq!(order.status, 201, "{}", order.body);
    // A customer with credit, so the account page and the pay page's account are measured.
    let customer = till
        .server
        .post(
            "/api/v1/customers",
            &till.token,
            json!({ "name": "Ama Serwaa Provisions and General Goods", "phone": "0244000111",
                "credit_limit_minor": 1_000_000 }),
        )
        .await
        .id();
    till.station
        .sync(till.server.clock.as_ref())
        .await
        .expect("sync the products");
    till.server.pause().await;
    let station = Arc::new(till.station);
    let served = Served::offline(station.clone(), till.server.clock.clone()).await;
    let screen = served.url.clone();
    let driver = webdriver::Driver::start(&chromedriver).expect("chromedriver");
    let mut problems = Vec::new();
    for (width, height, phone) in [(360, 640, true), (390, 844, true), (1366, 768, false)] {
        let profile = till.data.join(format!("profile-{width}"));
        let browser = if phone {
            driver.phone_session(&profile, width, height).await
        } else {
            driver.session(&profile, width, height).await
        }
        .expect("a Chromium session");
        let label = format!("{width}x{height}");
        let outcome = check(&browser, &screen, &label, phone, &category, &customer).await;
        browser.quit().await;
        problems.extend(outcome.unwrap_or_else(|error| panic!("at {label}: {error}")));
    }
    served.stop().await;
    station.close().await;
    till.server.stop().await;
    let _ = std::fs::remove_dir_all(&till.data);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Signs in, fills the cart with 30 lines and measures every page; the problems found.
async fn check(
    browser: &Browser,
    screen: &str,
    label: &str,
    phone: bool,
    category: &str,
    customer: &str,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    browser.open(&format!("{screen}/sign-in")).await?;
    problems.extend(problems_of(
        "/sign-in",
        label,
        &browser.script(MEASURE).await?,
    ));
    sign_in_with_pin(browser, screen, "4821", "Efua").await?;
    for line in 1..=LINES {
        browser
            .find("#scan")
            .await?
            .type_text(&format!("ITEM-{line:02}{ENTER}"))
            .await?;
        browser
            .wait_for_text("#cart", &format!("Item {line:02} Family"))
            .await?;
    }
    let measured = browser.script(MEASURE).await?;
    problems.extend(problems_of("/ (30 lines)", label, &measured));
    if label == "390x844" && std::env::var("NEXUS_SCREENSHOTS").as_deref() == Ok("1") {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        std::fs::write(
            docs.join("till-phone-390x844.png"),
            browser.screenshot().await?,
        )
        .map_err(|error| error.to_string())?;
    }
    for what in ["total", "pay"] {
        if !on_screen(&measured[what], &measured) {
            problems.push(format!(
                "/ at {label}: with {LINES} lines the {what} is off the screen: {} in {}x{}",
                measured[what], measured["width"], measured["height"]
            ));
        }
    }
    let keys = measured["keys"].as_bool().unwrap_or(false);
    if keys == phone {
        problems.push(format!(
            "/ at {label}: function-key labels {} on a {}",
            if keys { "show" } else { "are hidden" },
            if phone {
                "phone, which has no keyboard"
            } else {
                "till with a keyboard"
            }
        ));
    }
    for path in [
        "/pay",
        "/shift",
        "/refund",
        "/parked",
        "/customer",
        "/stock",
        "/settings",
        "/browse",
        &format!("/browse?category={category}"),
        "/customer?q=Ama",
        &format!("/customer/{customer}/account"),
    ] {
        browser.open(&format!("{screen}{path}")).await?;
        browser.wait_for_text("#banner", "unsynced").await?;
        problems.extend(problems_of(path, label, &browser.script(MEASURE).await?));
    }
    // The customer attached: the payment page offers their account.
    browser.open(&format!("{screen}/customer?q=Ama")).await?;
    browser
        .find(".customer-row form button")
        .await?
        .click()
        .await?;
    browser.wait_for_path("/").await?;
    browser.open(&format!("{screen}/pay")).await?;
    browser.wait_for_text("#on-account", "Ama Serwaa").await?;
    problems.extend(problems_of(
        "/pay (a customer with credit)",
        label,
        &browser.script(MEASURE).await?,
    ));
    // The sale paid exactly in cash: its receipt page, with the sharing form.
    browser.open(&format!("{screen}/pay")).await?;
    browser.find("#tender-cash").await?.click().await?;
    browser
        .wait_until("the sale to be paid", Duration::from_secs(15), || async {
            Ok(browser.text_of("#remaining").await?.is_empty())
        })
        .await?;
    browser.find("#complete").await?.click().await?;
    browser.wait_for_url("/receipts/").await?;
    browser.wait_for_text("#receipt", "TOTAL").await?;
    problems.extend(problems_of(
        "/receipts/…",
        label,
        &browser.script(MEASURE).await?,
    ));
    Ok(problems)
}
