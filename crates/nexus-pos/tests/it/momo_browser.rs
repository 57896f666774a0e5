//! Request to pay at the till in a real browser (Debian's headless Chromium), against the
//! in-repo fake MTN MoMo: the cashier asks the customer's phone, the screen shows the request
//! pending, the customer approves and the screen moves on by itself to the payment, paid; the
//! sale syncs with its tender verified. A customer who declines is told as such, and no tender
//! is taken.

use std::sync::Arc;

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::json;

use super::browser::{Served, driver_path, sign_in_with_pin};
use super::webdriver::{self, Browser, ENTER, F2};

backend_tests!(the_till_waits_for_the_customers_phone_and_completes_only_when_paid,);

async fn the_till_waits_for_the_customers_phone_and_completes_only_when_paid(backend: &Backend) {
    let Some(chromedriver) = driver_path() else {
        return;
    };
    let (server, fake) = TestServer::start_with_momo(backend).await;
    let till = super::till::till_on(server).await;
    let saved = till.server.set_fake_momo_account(&till.token, &fake).await;
    assert_eq!(saved.status, 204, "{:?}", saved.body);
    till.station
        .sync(till.server.clock.as_ref())
        .await
        .expect("sync");
    let station = Arc::new(till.station);
    let served = Served::offline(station.clone(), till.server.clock.clone()).await;
    let driver = webdriver::Driver::start(&chromedriver).expect("chromedriver");
    let browser = driver
        .session(&till.data.join("chromium-momo"), 1366, 768)
        .await
        .expect("a Chromium session");
    let at_till = at_the_till(&browser, &served.url, &fake, &till.server.clock).await;
    browser.quit().await;
    let (receipt, sale) = at_till.unwrap_or_else(|error| panic!("at the till: {error}"));

    station
        .sync(till.server.clock.as_ref())
        .await
        .expect("sync the sale");
    let paid_at_network = fake
        .momo_requests()
        .into_iter()
        .filter(|request| request["status"] == "SUCCESSFUL")
        .collect::<Vec<_>>();
    assert_eq!(paid_at_network.len(), 1, "{paid_at_network:?}");
    let transaction = paid_at_network[0]["financialTransactionId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        receipt.contains(&transaction),
        "the receipt names the network's transaction {transaction}:\n{receipt}"
    );
    let momo = fake.momo_requests();
    assert_eq!(momo.len(), 2, "one paid, one declined: {momo:?}");
    let synced = till
        .server
        .get(&format!("/api/v1/sales/{sale}"), &till.token)
        .await;
    assert_eq!(synced.status, 200, "{:?}", synced.body);
    let tender = &synced.body["tenders"][0];
    assert_eq!(
        (
            tender["kind"].clone(),
            tender["reference"].clone(),
            tender["verified"].clone()
        ),
        (json!("momo"), json!(transaction), json!(true)),
        "the tender is the network's payment, verified: {}",
        synced.body
    );

    served.stop().await;
    station.close().await;
    till.server.stop().await;
    let _ = std::fs::remove_dir_all(&till.data);
}

/// The newest request the fake network holds.
fn newest_request(fake: &nexus_fake_provider::FakeProvider) -> Result<String, String> {
    fake.momo_requests()
        .last()
        .and_then(|request| request["referenceId"].as_str().map(str::to_owned))
        .ok_or_else(|| "the network holds no request".to_owned())
}

async fn ask_phone(browser: &Browser, screen: &str, phone: &str) -> Result<(), String> {
    browser.open(&format!("{screen}/")).await?;
    browser
        .find("#scan")
        .await?
        .type_text(&format!("6001234567890{ENTER}"))
        .await?;
    browser.wait_for_text("#cart", "Rice 5kg").await?;
    browser.find("#scan").await?.type_text(F2).await?;
    browser.wait_for_path("/pay").await?;
    browser.find("#momo-details summary").await?.click().await?;
    browser.find("#phone").await?.type_text(phone).await?;
    browser.find("#tender-momo-request").await?.click().await?;
    browser.wait_for_path("/pay/momo-request").await?;
    browser
        .wait_for_text("#momo-request-state", "Waiting for the customer to approve")
        .await
}

async fn at_the_till(
    browser: &Browser,
    screen: &str,
    fake: &nexus_fake_provider::FakeProvider,
    clock: &nexus_testkit::ManualClock,
) -> Result<(String, String), String> {
    // The service asks the network at most every two seconds of its clock, which stands still
    // in a test unless moved.
    let a_moment = || clock.advance(std::time::Duration::from_secs(3));
    sign_in_with_pin(browser, screen, "4821", "Efua").await?;

    // The sandbox's number for a customer who declines: told why, and nothing taken.
    ask_phone(browser, screen, "46733123451").await?;
    a_moment();
    fake.momo_approve(&newest_request(fake)?).await?;
    browser
        .wait_for_text("#momo-request-failed", "declined")
        .await?;
    browser.find("#momo-request-back").await?.click().await?;
    browser.wait_for_path("/pay").await?;
    let pay = browser.text_of(".pay").await?;
    if pay.contains("Mobile money (") {
        return Err(format!("a declined request left a tender:\n{pay}"));
    }

    // Approved: the screen moves on by itself, and the sale can be completed.
    browser.open(&format!("{screen}/")).await?;
    browser.find("#scan").await?.type_text(F2).await?;
    browser.wait_for_path("/pay").await?;
    browser.find("#momo-details summary").await?.click().await?;
    browser
        .find("#phone")
        .await?
        .type_text("024 412 3456")
        .await?;
    browser.find("#tender-momo-request").await?.click().await?;
    browser.wait_for_path("/pay/momo-request").await?;
    browser
        .wait_for_text("#momo-request-state", "Waiting for the customer to approve")
        .await?;
    a_moment();
    fake.momo_approve(&newest_request(fake)?).await?;
    browser.wait_for_path("/pay").await?;
    browser
        .wait_for_text(".pay", "paid on the customer's phone")
        .await?;
    browser.find("#complete").await?.click().await?;
    browser.wait_for_url("/receipts/").await?;
    let url = browser.url().await?;
    let sale = url
        .split("/receipts/")
        .nth(1)
        .and_then(|rest| rest.split(['?', '/']).next())
        .ok_or_else(|| format!("no sale in {url}"))?
        .to_owned();
    Ok((browser.text_of("#receipt").await?, sale))
}
