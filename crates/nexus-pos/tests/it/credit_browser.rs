//! A sale on account in a real browser (Debian's headless Chromium): with the service stopped
//! the cashier attaches a customer with credit, puts the sale on their account, and takes a
//! payment on it at the till; the service returns, the till syncs, and the owner reads the
//! statement in the dashboard.

use std::sync::Arc;

use nexus_testkit::{Backend, backend_tests};

use super::browser::{Served, driver_path, sign_in_with_pin};
use super::webdriver::{self, Browser, ENTER, F2};

backend_tests!(a_sale_on_account_offline_and_a_payment_reach_the_statement,);

async fn a_sale_on_account_offline_and_a_payment_reach_the_statement(backend: &Backend) {
    let Some(chromedriver) = driver_path() else {
        return;
    };
    let mut till = super::till::till(backend).await;
    let ama = till.customer_with_credit().await;
    till.station
        .sync(till.server.clock.as_ref())
        .await
        .expect("sync");

    till.server.pause().await;
    let station = Arc::new(till.station);
    let served = Served::offline(station.clone(), till.server.clock.clone()).await;
    let driver = webdriver::Driver::start(&chromedriver).expect("chromedriver");
    let browser = driver
        .session(&till.data.join("chromium-credit"), 1366, 768)
        .await
        .expect("a Chromium session");
    let at_till = on_account_at_the_till(&browser, &served.url).await;
    if let Err(error) = at_till {
        browser.quit().await;
        panic!("at the till: {error}");
    }

    till.server.resume().await;
    station
        .sync(till.server.clock.as_ref())
        .await
        .expect("sync after the outage");
    let statement = statement_in_the_dashboard(
        &browser,
        &till.server.base_url,
        &till.owner_email,
        &till.owner_password,
        &ama,
    )
    .await;
    browser.quit().await;
    statement.unwrap_or_else(|error| panic!("in the dashboard: {error}"));

    served.stop().await;
    station.close().await;
    till.server.stop().await;
    let _ = std::fs::remove_dir_all(&till.data);
}

async fn on_account_at_the_till(browser: &Browser, screen: &str) -> Result<(), String> {
    sign_in_with_pin(browser, screen, "4821", "Efua").await?;
    browser
        .find("#scan")
        .await?
        .type_text(&format!("6001234567890{ENTER}"))
        .await?;
    browser.wait_for_text("#cart", "Rice 5kg").await?;
    // The customer, found by name and attached.
    browser.open(&format!("{screen}/customer?q=Ama")).await?;
    browser
        .find(".customer-row form button")
        .await?
        .click()
        .await?;
    browser.wait_for_path("/").await?;
    browser.find("#scan").await?.type_text(F2).await?;
    browser.wait_for_path("/pay").await?;
    browser.wait_for_text("#on-account", "Ama Serwaa").await?;
    browser.wait_for_text("#credit-left", "GHS 100.00").await?;
    // The amount left empty: the exact amount due goes on the account.
    browser.find("#tender-credit").await?.click().await?;
    browser.wait_for_text("#credit-left", "GHS 88.00").await?;
    browser.find("#complete").await?.click().await?;
    browser.wait_for_url("/receipts/").await?;
    let receipt = browser.text_of("#receipt").await?;
    for said in ["On account", "Owed on account now", "12.00"] {
        if !receipt.contains(said) {
            return Err(format!("the receipt does not say {said:?}:\n{receipt}"));
        }
    }
    // A payment on account, in cash, still offline.
    browser.open(&format!("{screen}/customer?q=Ama")).await?;
    browser
        .find(".customer-row a[href$='/account']")
        .await?
        .click()
        .await?;
    browser.wait_for_text("#owed", "GHS 12.00").await?;
    browser
        .find("#payment-amount")
        .await?
        .type_text("5")
        .await?;
    browser.find("#pay-cash").await?.click().await?;
    browser
        .wait_for_text("#payment-taken", "Now owed: GHS 7.00")
        .await?;
    browser.wait_for_text("#owed", "GHS 7.00").await
}

async fn statement_in_the_dashboard(
    browser: &Browser,
    base: &str,
    email: &str,
    password: &str,
    customer: &str,
) -> Result<(), String> {
    browser.open(&format!("{base}/sign-in")).await?;
    browser
        .find("#signin-email")
        .await?
        .type_text(email)
        .await?;
    browser
        .find("#signin-password")
        .await?
        .type_text(&format!("{password}{ENTER}"))
        .await?;
    browser.wait_for_path("/").await?;
    browser
        .open(&format!("{base}/customers/{customer}/account"))
        .await?;
    browser.wait_for_text("#account-owed", "7.00").await?;
    let statement = browser.text_of("#statement").await?;
    for said in ["Sale on account", "Payment (cash)", "12.00", "5.00"] {
        if !statement.contains(said) {
            return Err(format!(
                "the statement does not show {said:?}:\n{statement}"
            ));
        }
    }
    // Who owes what names her, with a reminder to send.
    browser.open(&format!("{base}/customers/debtors")).await?;
    browser.wait_for_text("#debtors", "Ama Serwaa").await?;
    let link = browser
        .find("#debtors a[href^='https://wa.me/233244000111']")
        .await?
        .attribute("href")
        .await?
        .unwrap_or_default();
    if !link.contains("7.00") {
        return Err(format!("the reminder does not say what is owed: {link}"));
    }
    Ok(())
}
