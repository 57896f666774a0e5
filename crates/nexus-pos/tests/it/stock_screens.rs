//! A manager works the shop's stock at the till in a real browser (a 390 px phone) with the
//! service away: receives a delivery, counts a shelf and sends goods to another branch; a
//! cashier is told the page is a manager's. The manager then sets the till's printer up on its
//! settings page and prints a test page on the (fake) network printer. When the service is
//! back the server's stock says exactly what was done. With `NEXUS_SCREENSHOTS=1` the stock
//! page is written to `docs/`.

use std::sync::Arc;

use nexus_testkit::Backend;
use nexus_testkit::printer::FakePrinter;
use serde_json::Value;

use super::browser::{Served, driver_path, sign_in_with_pin};
use super::fits::{MEASURE, problems_of};
use super::webdriver::{self, Browser};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_receives_counts_sends_stock_and_sets_up_the_printer_at_the_till_offline() {
    let Some(chromedriver) = driver_path() else {
        return;
    };
    let mut till = super::till::till(&Backend::Sqlite).await;
    let makola = till.server.create_branch(&till.token, "Makola").await;
    till.station
        .sync(till.server.clock.as_ref())
        .await
        .expect("sync the branches");
    till.server.pause().await;
    let station = Arc::new(till.station);
    let served = Served::offline(station.clone(), till.server.clock.clone()).await;
    let driver = webdriver::Driver::start(&chromedriver).expect("chromedriver");
    let browser = driver
        .phone_session(&till.data.join("chromium-profile"), 390, 844)
        .await
        .expect("a Chromium session");
    let printer = FakePrinter::start().await;
    let outcome = drive(&browser, &served.url, &printer).await;
    browser.quit().await;
    let problems = outcome.unwrap_or_else(|error| panic!("in the browser: {error}"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The service returns: the three ops push, and the server's stock is what was done.
    served.stop().await;
    till.server.resume().await;
    let report = station
        .sync(till.server.clock.as_ref())
        .await
        .expect("sync");
    assert_eq!((report.pushed, report.rejected), (3, 0), "{report:?}");
    let status = station.status().await.expect("status");
    assert!(status.quarantined.is_empty(), "{:?}", status.quarantined);
    let on_hand = |body: &Value, product: &str| {
        body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|item| item["product_id"] == product)
            .map(|item| item["on_hand"].clone())
    };
    let osu = till
        .server
        .get(
            &format!("/api/v1/branches/{}/stock", till.branch),
            &till.token,
        )
        .await;
    assert_eq!(
        on_hand(&osu.body, &till.products["RICE"]),
        Some("22".into()),
        "{}",
        osu.body
    );
    assert_eq!(
        on_hand(&osu.body, &till.products["MILK"]),
        Some("10".into()),
        "{}",
        osu.body
    );
    let makola = till
        .server
        .get(&format!("/api/v1/branches/{makola}/stock"), &till.token)
        .await;
    assert_eq!(
        on_hand(&makola.body, &till.products["RICE"]),
        Some("2".into()),
        "{}",
        makola.body
    );
    station.close().await;
    till.server.stop().await;
    let _ = std::fs::remove_dir_all(&till.data);
}

/// Drives the stock page; the controls it found too small or a page too wide.
async fn drive(
    browser: &Browser,
    screen: &str,
    printer: &FakePrinter,
) -> Result<Vec<String>, String> {
    // A cashier has no stock button, and the page tells them whose it is.
    sign_in_with_pin(browser, screen, "4821", "Efua").await?;
    if browser.find("#stock").await.is_ok() {
        return Err("a cashier is offered the stock page".to_owned());
    }
    browser.open(&format!("{screen}/stock")).await?;
    browser
        .wait_for_text("#stock-not-allowed", "manager")
        .await?;
    browser.open(&format!("{screen}/")).await?;
    browser
        .find("form[action='/sign-out'] button")
        .await?
        .click()
        .await?;

    sign_in_with_pin(browser, screen, "2468", "Adjoa").await?;
    browser.find("#stock").await?.click().await?;
    browser.wait_for_path("/stock").await?;
    let mut problems = problems_of("/stock", "390x844", &browser.script(MEASURE).await?);

    if std::env::var("NEXUS_SCREENSHOTS").as_deref() == Ok("1") {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        std::fs::write(
            docs.join("till-stock-390x844.png"),
            browser.screenshot().await?,
        )
        .map_err(|error| error.to_string())?;
    }

    // A delivery of 24 rice, by its barcode.
    browser
        .find("#receive-product")
        .await?
        .type_text("6001234567890")
        .await?;
    browser
        .find("#receive-quantity")
        .await?
        .type_text("24")
        .await?;
    browser.find("#receive").await?.click().await?;
    browser
        .wait_for_text("#stock-done", "Received 24 × Rice 5kg: 24 on hand now")
        .await?;
    // A product the shop does not have is said so, and nothing is recorded.
    browser
        .find("#count-product")
        .await?
        .type_text("sugar")
        .await?;
    browser
        .find("#count-quantity")
        .await?
        .type_text("10")
        .await?;
    browser.find("#count").await?.click().await?;
    browser
        .wait_for_text(".error", "no product matches \"sugar\"")
        .await?;
    // "milk" is Peak milk tin alone: ten on the shelf.
    browser
        .find("#count-product")
        .await?
        .type_text("milk")
        .await?;
    browser
        .find("#count-quantity")
        .await?
        .type_text("10")
        .await?;
    browser.find("#count").await?.click().await?;
    browser
        .wait_for_text("#stock-done", "Counted 10 × Peak milk tin")
        .await?;
    // Two rice to Makola; a quantity that is not one is refused first.
    for (quantity, expected) in [("two", ".error"), ("2", "#stock-done")] {
        let to = browser.find("#transfer-to").await?;
        to.click().await?;
        browser
            .find("#transfer-to option:nth-child(2)")
            .await?
            .click()
            .await?;
        browser
            .find("#transfer-product-1")
            .await?
            .type_text("RICE")
            .await?;
        browser
            .find("#transfer-quantity-1")
            .await?
            .type_text(quantity)
            .await?;
        browser.find("#transfer").await?.click().await?;
        let text = if expected == ".error" {
            "line 1"
        } else {
            "Sent to Makola: 2 × Rice 5kg"
        };
        browser.wait_for_text(expected, text).await?;
    }

    // The till's settings: a printer address that is not one is refused; the fake printer's,
    // on 58 mm paper, is kept, and the test page prints a ruler of 32 digits on one line.
    browser.open(&format!("{screen}/")).await?;
    browser.find("#settings").await?.click().await?;
    browser.wait_for_path("/settings").await?;
    problems.extend(problems_of(
        "/settings",
        "390x844",
        &browser.script(MEASURE).await?,
    ));
    browser
        .find("#printer")
        .await?
        .type_text("the printer")
        .await?;
    browser.find("#save-settings").await?.click().await?;
    browser
        .wait_for_text(".error", "not a printer's address")
        .await?;
    let field = browser.find("#printer").await?;
    field.clear().await?;
    field.type_text(&printer.address().to_string()).await?;
    browser
        .find("#paper option[value='58']")
        .await?
        .click()
        .await?;
    browser.find("#save-settings").await?.click().await?;
    browser.wait_for_text("#settings-done", "Saved").await?;
    browser.find("#test-print").await?.click().await?;
    browser.wait_for_text("#settings-done", "test page").await?;
    let jobs = printer.wait_for_jobs(1).await;
    let text = jobs[0].text();
    if !text
        .lines()
        .any(|line| line == "12345678901234567890123456789012")
        || !jobs[0].problems().is_empty()
    {
        return Err(format!("the test page is not a 58 mm one:\n{text}"));
    }
    Ok(problems)
}
