//! The cash controls a shop owner expects and the receipt printer, in a real browser against
//! the station's screen with the service away: a quantity above 9,999 or above the stock on
//! hand is asked about, a mobile-money id already taken is flagged as it is typed, a cash sale
//! prints on the (fake) network printer and opens the drawer, "out of paper" is said and the
//! reprint works, a cashier's refund needs a manager's PIN, and the cash-up is blind.

use std::sync::Arc;
use std::time::Duration;

use nexus_pos::printer::PrinterTarget;
use nexus_pos::{Cart, SettingsChange, TenderInput};
use nexus_testkit::Backend;
use nexus_testkit::printer::FakePrinter;

use super::browser::{Served, driver_path};
use super::fits::{MEASURE, problems_of};
use super::webdriver::{self, Browser, ENTER};

/// The mobile-money id of a sale rung up before the browser comes.
const TAKEN_ID: &str = "MP2412.0931.C04417";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_till_asks_before_odd_quantities_flags_a_reused_momo_id_prints_and_needs_a_manager() {
    let Some(chromedriver) = driver_path() else {
        return;
    };
    let mut till = super::till::till(&Backend::Sqlite).await;
    till.server.pause().await;
    let clock = till.server.clock.clone();
    let station = &till.station;
    // Three rice received at the branch (by Adjoa, at this till), and a sale paid by mobile
    // money with the id that will be typed again.
    let adjoa = station
        .approver(clock.as_ref(), "2468")
        .await
        .expect("Adjoa");
    let rice: uuid::Uuid = till.products["RICE"].parse().expect("uuid");
    station
        .record_movement(
            clock.as_ref(),
            adjoa.id,
            rice,
            "receipt",
            nexus_domain::Quantity::from_milli(3000),
            None,
        )
        .await
        .expect("receipt");
    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    let mut cart = Cart::default();
    station
        .add_to_cart(&mut cart, "WATER", nexus_domain::Quantity::ONE)
        .await
        .expect("water");
    let earlier = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Momo {
                amount_minor: 500,
                network: "mtn".to_owned(),
                phone: "0241234567".to_owned(),
                reference: TAKEN_ID.to_owned(),
            }],
        )
        .await
        .expect("the earlier sale");
    let printer = FakePrinter::start().await;
    let target: PrinterTarget = printer.address().to_string().parse().expect("address");
    station
        .change_station_settings(&SettingsChange {
            printer: Some(Some(target)),
            ..SettingsChange::default()
        })
        .await
        .expect("settings");

    let station = Arc::new(till.station);
    let served = Served::offline(station.clone(), clock.clone()).await;
    let driver = webdriver::Driver::start(&chromedriver).expect("chromedriver");
    let browser = driver
        .session(&till.data.join("chromium-profile"), 1366, 768)
        .await
        .expect("a Chromium session");
    let outcome = drive(
        &browser,
        &served.url,
        &clock,
        &printer,
        &earlier.receipt_number,
    )
    .await;
    browser.quit().await;
    served.stop().await;
    station.close().await;
    till.server.stop().await;
    outcome.unwrap_or_else(|error| panic!("in the browser: {error}"));
    let _ = std::fs::remove_dir_all(&till.data);
}

/// Types `quantity` over the first line's quantity and sends it.
async fn type_quantity(browser: &Browser, quantity: &str) -> Result<(), String> {
    let field = browser.find("#cart input[name=quantity]").await?;
    field.clear().await?;
    field.type_text(&format!("{quantity}{ENTER}")).await
}

async fn quantity_shown(browser: &Browser) -> Result<String, String> {
    let value = browser
        .script("return document.querySelector('#cart input[name=quantity]').value")
        .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

async fn drive(
    browser: &Browser,
    screen: &str,
    clock: &nexus_testkit::ManualClock,
    printer: &FakePrinter,
    taken_on: &str,
) -> Result<(), String> {
    // Wrong PINs without a name lock nobody: three go free, the fourth makes the next wait
    // 2 s, and the screen says so; even the right PIN waits, then signs in.
    browser.open(&format!("{screen}/sign-in")).await?;
    for attempt in 1..=4 {
        browser
            .find("#pin")
            .await?
            .type_text(&format!("9999{ENTER}"))
            .await?;
        let expected = if attempt < 4 { "wrong PIN" } else { "wait 2 s" };
        browser.wait_for_text(".error", expected).await?;
    }
    browser
        .find("#pin")
        .await?
        .type_text(&format!("4821{ENTER}"))
        .await?;
    browser.wait_for_text(".error", "wait").await?;
    let shown = browser.text_of(".error").await?;
    if shown.contains("locked") {
        return Err(format!("PIN-only tries locked someone: {shown}"));
    }
    clock.advance(Duration::from_secs(3));
    browser
        .find("#pin")
        .await?
        .type_text(&format!("4821{ENTER}"))
        .await?;
    browser.wait_for_text("#banner .who", "Efua").await?;
    browser.open(&format!("{screen}/shift")).await?;
    browser
        .find("#float")
        .await?
        .type_text(&format!("100{ENTER}"))
        .await?;
    browser.wait_for_path("/").await?;

    // 12000 typed as a quantity (a barcode in the wrong box) is asked about; "No" keeps 1.
    browser
        .find("#scan")
        .await?
        .type_text(&format!("RICE{ENTER}"))
        .await?;
    browser.wait_for_text("#cart", "Rice 5kg").await?;
    type_quantity(browser, "12000").await?;
    browser
        .wait_for_text("#confirm-quantity", "more than 9999")
        .await?;
    browser.find("#confirm-quantity-no").await?.click().await?;
    browser.wait_for_text("#cart", "Rice 5kg").await?;
    if quantity_shown(browser).await? != "1" {
        return Err("the quantity changed although the cashier said no".to_owned());
    }
    // Five when the shop has three: asked, and sold when the cashier says yes.
    type_quantity(browser, "5").await?;
    browser
        .wait_for_text("#confirm-quantity", "3 on hand")
        .await?;
    browser.find("#confirm-quantity-yes").await?.click().await?;
    browser.wait_for_text("#total", "GHS 60.00").await?;
    if quantity_shown(browser).await? != "5" {
        return Err("the confirmed quantity is not in the cart".to_owned());
    }

    // The mobile-money id of the earlier sale is flagged while it is typed, before any sale.
    browser.find("#pay").await?.click().await?;
    browser.wait_for_path("/pay").await?;
    browser.find("#momo-details summary").await?.click().await?;
    browser
        .find("#momo-reference")
        .await?
        .type_text(TAKEN_ID)
        .await?;
    browser
        .wait_for_text("#momo-reference-check", taken_on)
        .await?;
    let check = browser.text_of("#momo-reference-check").await?;
    if !check.contains("already taken") {
        return Err(format!("the reused id is not flagged clearly: {check}"));
    }
    // A fresh id clears the flag.
    let reference = browser.find("#momo-reference").await?;
    reference.clear().await?;
    reference.type_text("MP2412.0931.C09999").await?;
    browser
        .wait_until("the flag to clear", Duration::from_secs(10), || async {
            Ok(browser.text_of("#momo-reference-check").await?.is_empty())
        })
        .await?;
    browser.find("#momo-reference").await?.clear().await?;

    // Cash, exact: the sale prints on the network printer and opens the drawer.
    browser.find("#tender-cash").await?.click().await?;
    browser.wait_for_text("#paid", "GHS 60.00").await?;
    browser.find("#complete").await?.click().await?;
    browser.wait_for_url("/receipts/").await?;
    browser.wait_for_text("#print-status", "Printed").await?;
    let number = browser
        .script("return document.getElementById('receipt').textContent.match(/OSU-TILL1-\\d+/)[0]")
        .await?;
    let number = number.as_str().unwrap_or_default().to_owned();
    let jobs = printer.wait_for_jobs(1).await;
    let job = &jobs[0];
    if !job.opens_drawer() || !job.problems().is_empty() || !job.text().contains(&number) {
        return Err(format!(
            "the printer did not get the receipt {number} with the drawer kick: {:?}\n{}",
            job.problems(),
            job.text()
        ));
    }

    let mut problems = problems_of(
        "/receipts (printer)",
        "1366x768",
        &browser.script(MEASURE).await?,
    );

    // Out of paper: said on the screen; after a new roll, the reprint prints (drawer shut).
    printer.set_out_of_paper(true);
    browser.find("#reprint").await?.click().await?;
    browser
        .wait_for_text("#print-status", "out of paper")
        .await?;
    printer.set_out_of_paper(false);
    browser.find("#reprint").await?.click().await?;
    browser.wait_for_text("#print-status", "Printed").await?;
    let jobs = printer.wait_for_jobs(3).await;
    let reprint = &jobs[2];
    if reprint.opens_drawer() || !reprint.text().contains(&number) {
        return Err("the reprint opened the drawer or is not the receipt".to_owned());
    }

    // A cashier's refund asks for a manager's PIN: Kojo's (a cashier) is refused, Adjoa's does.
    browser
        .open(&format!("{screen}/refund?receipt={number}"))
        .await?;
    browser
        .wait_for_text("#refund-form", "Manager's PIN")
        .await?;
    problems.extend(problems_of(
        "/refund (a sale)",
        "1366x768",
        &browser.script(MEASURE).await?,
    ));
    for (pin, done) in [("1357", false), ("2468", true)] {
        browser
            .find("input[name=line_1]")
            .await?
            .type_text("1")
            .await?;
        browser.find("#manager-pin").await?.type_text(pin).await?;
        browser.find("#do-refund").await?.click().await?;
        if done {
            browser.wait_for_url("/receipts/").await?;
            browser.wait_for_text("#receipt", "REFUND").await?;
        } else {
            browser
                .wait_for_text(".error", "not the PIN of a manager")
                .await?;
        }
    }

    // The cash-up is blind: nothing expected on the screen until the counts are in.
    browser.open(&format!("{screen}/shift")).await?;
    browser
        .wait_for_text("#count-first", "Count the cash")
        .await?;
    let shown = browser.text_of("main").await?;
    if shown.contains("Expected") || shown.contains("148.00") {
        return Err(format!(
            "the cash-up shows what is expected before counting:\n{shown}"
        ));
    }
    browser
        .find("#counted-cash")
        .await?
        .type_text("148.00")
        .await?;
    browser.find("#close-shift").await?.click().await?;
    browser
        .wait_for_text("#shift-close", "GHS 148.00 GHS 148.00 GHS 0.00")
        .await?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
