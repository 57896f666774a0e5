//! A new owner signs up and is led through the first-run steps, all in forms; each step can be
//! skipped and found again; signing out ends the session on the server.

use nexus_testkit::{Backend, TestServer, backend_tests};

use crate::client::{Browser, Page};

backend_tests!(
    a_new_owner_signs_up_and_sets_the_shop_up_step_by_step,
    a_skipped_step_stays_on_the_checklist,
    the_products_step_imports_a_csv_and_shows_every_bad_line,
);

pub async fn sign_up(server: &TestServer, organisation: &str, email: &str) -> Browser {
    let browser = Browser::new(server);
    let form = browser.get("/sign-up").await;
    assert_eq!(form.status, 200);
    let created = browser
        .post(
            "/sign-up",
            &[
                ("organisation", organisation),
                ("owner_name", "Ama Mensah"),
                ("email", email),
                ("password", "a long and private password"),
                ("country", "GH"),
                ("currency", "GHS"),
                ("time_zone", "Africa/Accra"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "sign-up: {}", created.text());
    assert_eq!(created.location.as_deref(), Some("/setup"));
    browser
}

fn session_cookie_line(page: &Page) -> &str {
    page.set_cookies
        .iter()
        .find(|line| line.starts_with("nexus_session="))
        .map(String::as_str)
        .expect("a session cookie is set")
}

async fn a_new_owner_signs_up_and_sets_the_shop_up_step_by_step(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let anonymous = Browser::new(&server);
    let home = anonymous.get("/").await;
    assert_eq!(home.status, 303, "the dashboard asks a stranger to sign in");
    assert_eq!(home.location.as_deref(), Some("/sign-in"));

    let browser = Browser::new(&server);
    browser.get("/sign-up").await;
    let created = browser
        .post(
            "/sign-up",
            &[
                ("organisation", "Adjoa Provisions"),
                ("owner_name", "Adjoa Boateng"),
                ("email", "adjoa@provisions.example"),
                ("password", "a long and private password"),
                ("country", "GH"),
                ("currency", "GHS"),
                ("time_zone", "Africa/Accra"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.text());
    let cookie = session_cookie_line(&created);
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http public URL: no Secure flag, or the browser would drop it: {cookie}"
    );

    let checklist = browser.follow(created).await;
    assert_eq!(checklist.status, 200);
    let text = checklist.text();
    for step in [
        "shop's details",
        "first branch",
        "products",
        "first cashier",
        "first till",
    ] {
        assert!(
            text.to_lowercase().contains(&step.to_lowercase()),
            "{step} on the checklist: {text}"
        );
    }

    // Shop details: the receipt header.
    browser.get("/setup/shop").await;
    let saved = browser
        .post(
            "/setup/shop",
            &[
                ("trading_name", "Adjoa's Corner Shop"),
                ("address", "12 Oxford Street, Osu, Accra"),
                ("phone", "0302 123 456"),
                ("tin", "C0012345678"),
                ("receipt_footer", "Thank you for shopping with us"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let settings = browser.get("/settings").await;
    assert!(settings.body.contains("12 Oxford Street, Osu, Accra"));
    assert!(settings.body.contains("C0012345678"));

    // The first branch.
    browser.get("/setup/branch").await;
    let branch = browser
        .post(
            "/setup/branch",
            &[("name", "Osu"), ("address", "Oxford Street")],
        )
        .await;
    assert_eq!(branch.status, 303, "{}", branch.text());
    let branches = browser.get("/branches").await;
    assert!(branches.text().contains("Osu"));

    // A product through the form, its price in cedis as typed.
    browser.get("/setup/products").await;
    let product = browser
        .post(
            "/setup/products",
            &[
                ("sku", "MILO-400"),
                ("name", "Milo 400g"),
                ("price", "38.50"),
                ("barcode", ""),
                ("reorder_level", "6"),
                ("tax_class", "standard"),
            ],
        )
        .await;
    assert_eq!(product.status, 303, "{}", product.text());
    let products = browser.get("/products?q=milo").await;
    let text = products.text();
    assert!(text.contains("Milo 400g"), "{text}");
    assert!(
        text.contains("38.50"),
        "amounts in cedis, not pesewas: {text}"
    );

    // The first cashier, with a PIN.
    let form = browser.get("/setup/cashier").await;
    let osu = form
        .body
        .split("<option value=\"")
        .skip(1)
        .find(|option| option.contains(">Osu<"))
        .and_then(|option| option.split('"').next())
        .expect("Osu is offered")
        .to_owned();
    let cashier = browser
        .post(
            "/setup/cashier",
            &[
                ("name", "Kofi Owusu"),
                ("email", ""),
                ("branch", &osu),
                ("pin", "4821"),
                ("pin_again", "4821"),
            ],
        )
        .await;
    assert_eq!(cashier.status, 303, "{}", cashier.text());
    let staff = browser.get("/staff").await;
    assert!(staff.text().contains("Kofi Owusu"));

    // The first till: the code as text and QR, with the command to type.
    browser.get("/setup/till").await;
    let till = browser
        .post("/setup/till", &[("name", "Till 1"), ("branch", &osu)])
        .await;
    assert_eq!(till.status, 200, "{}", till.text());
    let code = till
        .body
        .split("<code id=\"enrolment-code\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the code is shown")
        .to_owned();
    assert!(!code.is_empty());
    assert!(
        till.text()
            .contains(&format!("nexus pos enroll --server {}", server.base_url)),
        "the exact command: {}",
        till.text()
    );
    assert!(till.text().contains(&code));
    assert!(till.body.contains("<svg"), "the QR code is drawn");

    let done = browser.get("/setup").await;
    assert_eq!(done.status, 200);
    assert!(
        !done.body.contains("/setup/shop/skip"),
        "nothing is left to skip once everything is done"
    );

    // Signing out ends the session on the server: the old cookie is worthless.
    let replay = browser.clone_session();
    let page = browser.get("/sign-out").await;
    assert_eq!(page.status, 200);
    let out = browser.post("/sign-out", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(
        replay.get("/").await.status,
        303,
        "replayed cookie after sign-out"
    );
    assert_eq!(replay.get("/").await.location.as_deref(), Some("/sign-in"));

    // And the owner signs in again with the password chosen at sign-up.
    let again = Browser::new(&server);
    let overview = again
        .sign_in("adjoa@provisions.example", "a long and private password")
        .await;
    assert_eq!(overview.status, 200);
    assert!(overview.text().contains("Adjoa's Corner Shop"));
    server.stop().await;
}

async fn a_skipped_step_stays_on_the_checklist(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let browser = sign_up(&server, "Skipper Stores", "owner@skipper.example").await;
    browser.get("/setup").await;
    let skipped = browser.post("/setup/shop/skip", &[]).await;
    assert_eq!(skipped.status, 303, "{}", skipped.text());
    let checklist = browser.get("/setup").await;
    let text = checklist.text();
    assert!(text.contains("Skipped"), "{text}");
    assert!(
        checklist.body.contains("href=\"/setup/shop\""),
        "a skipped step can be found again"
    );
    let unknown = browser.post("/setup/no-such-step/skip", &[]).await;
    assert_eq!(unknown.status, 404);
    server.stop().await;
}

/// Polls an import's progress fragment, as the page does every second, until it stops polling.
pub async fn finished_import(browser: &Browser, started: &Page) -> Page {
    let job = started
        .body
        .split("/products/import/")
        .nth(1)
        .and_then(|rest| rest.split(['"', '?', '&']).next())
        .unwrap_or_else(|| panic!("the progress names the job: {}", started.text()))
        .to_owned();
    for _ in 0..400 {
        let progress = browser
            .get_fragment(&format!("/products/import/{job}"))
            .await;
        assert_eq!(progress.status, 200, "{}", progress.text());
        if !progress.body.contains("hx-trigger=\"every 1s\"") {
            return progress;
        }
        // A background job: wait as the page would, in short steps.
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the import did not finish");
}

async fn the_products_step_imports_a_csv_and_shows_every_bad_line(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let browser = sign_up(&server, "Import Stores", "owner@import.example").await;
    browser.get("/setup/products").await;
    let bad = b"sku,name,price\nA1,Good one,1.00\nA2,,2.00\nA3,Bad price,abc\n";
    let started = browser
        .post_file("/setup/products/import", "file", "products.csv", bad)
        .await;
    assert_eq!(started.status, 202, "{}", started.text());
    let refused = finished_import(&browser, &started).await;
    let text = refused.text();
    // The first-run import keeps the good lines and lists the bad ones to fix.
    assert!(
        text.contains("1 products added and 0 updated. 2 lines were left out"),
        "{text}"
    );
    assert!(
        text.contains(" 3 A2 name "),
        "line 3 with its SKU and column: {text}"
    );
    assert!(
        text.contains(" 4 A3 price "),
        "line 4 with its SKU and column: {text}"
    );
    assert!(text.contains("\"abc\" is not an amount in GHS"), "{text}");
    let products = browser.get("/products").await;
    assert!(
        products.text().contains("Good one"),
        "the good line is saved"
    );

    let no_header = browser
        .post_file(
            "/setup/products/import",
            "file",
            "products.csv",
            b"what,ever\n1,2\n",
        )
        .await;
    assert_eq!(no_header.status, 422, "{}", no_header.text());
    assert!(
        no_header.text().contains("Unknown column \"what\""),
        "{}",
        no_header.text()
    );

    let good = b"sku,name,price\nB1,Sardines 125g,9.50\nB2,Peak Milk 400g,32.00\n";
    let started = browser
        .post_file("/setup/products/import", "file", "products.csv", good)
        .await;
    assert_eq!(started.status, 202, "{}", started.text());
    let done = finished_import(&browser, &started).await;
    assert!(
        done.text().contains("Done: 2 products added"),
        "{}",
        done.text()
    );
    let products = browser.get("/products").await;
    let text = products.text();
    assert!(
        text.contains("Sardines 125g") && text.contains("Peak Milk 400g"),
        "{text}"
    );
    assert!(text.contains("9.50"), "{text}");
    server.stop().await;
}
