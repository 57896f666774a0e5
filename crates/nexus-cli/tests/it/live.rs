//! Live updates across processes: two `nexus serve` processes on one PostgreSQL database; a
//! station syncs a sale through one, and the dashboard open on the other hears of it (through
//! PostgreSQL NOTIFY) and shows it.

use std::time::Duration;

use nexus_domain::{Quantity, SystemClock};
use nexus_pos::Station;
use nexus_testkit::{Backend, ScratchDatabase};
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::serve_process::ServeProcess;

fn cookie_of(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|line| {
            let pair = line.split(';').next()?;
            let (key, value) = pair.split_once('=')?;
            (key == name && !value.is_empty()).then(|| value.to_owned())
        })
}

/// Signs in through the dashboard's form; returns the session cookie's value.
async fn dashboard_session(base: &str, email: &str, password: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let form = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .expect("sign-in page");
    let pre_session = cookie_of(&form, "nexus_csrf").expect("a pre-session token");
    let page = form.text().await.expect("page");
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).expect("the form carries the token") + marker.len();
    let token = &page[at..at + page[at..].find('"').expect("end")];
    let signed_in = client
        .post(format!("{base}/sign-in"))
        .header(COOKIE, format!("nexus_csrf={pre_session}"))
        .form(&[("csrf", token), ("email", email), ("password", password)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 303);
    cookie_of(&signed_in, "nexus_session").expect("a session")
}

async fn api(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_synced_through_one_process_reaches_a_dashboard_on_the_other() {
    let Some(Backend::Postgres { admin_url, .. }) = Backend::postgres_from_env() else {
        eprintln!("skipped: set NEXUS_TEST_DATABASE_URL to run it");
        return;
    };
    let mut database = ScratchDatabase::create(&admin_url, None).await;
    let syncing = ServeProcess::start(&database.url(), &database.direct_url());
    let watching = ServeProcess::start(&database.url(), &database.direct_url());
    let client = reqwest::Client::new();
    let api_base = format!("{}/api/v1", syncing.base_url);

    let email = "owner@two-processes.example";
    let password = "two processes, one database";
    let owner = api(
        &client,
        format!("{api_base}/auth/register"),
        None,
        json!({ "organisation": "Two Process Traders", "email": email, "password": password }),
    )
    .await;
    let token = owner["access_token"].as_str().expect("token").to_owned();
    let branch = api(
        &client,
        format!("{api_base}/branches"),
        Some(&token),
        json!({ "name": "Osu" }),
    )
    .await["id"]
        .as_str()
        .expect("branch")
        .to_owned();
    api(
        &client,
        format!("{api_base}/products"),
        Some(&token),
        json!({ "sku": "GARI", "name": "Gari 1kg", "price_minor": 1_750 }),
    )
    .await;
    let cashier: uuid::Uuid = api(
        &client,
        format!("{api_base}/staff"),
        Some(&token),
        json!({ "email": "kojo@two-processes.example", "name": "Kojo", "role": "cashier", "branch_ids": [branch] }),
    )
    .await["id"]
        .as_str()
        .expect("cashier")
        .parse()
        .expect("uuid");
    let code = api(
        &client,
        format!("{api_base}/stations"),
        Some(&token),
        json!({ "branch_id": branch, "name": "Till 1" }),
    )
    .await["enrolment_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let station_dir =
        std::env::temp_dir().join(format!("nexus-live-{}", uuid::Uuid::now_v7().simple()));
    let station = Station::open(&station_dir).await.expect("station");
    station
        .enroll(&syncing.base_url, &code)
        .await
        .expect("enrol");
    station.sync(&SystemClock).await.expect("first sync");

    // The owner's dashboard is open on the other process, listening.
    let session = dashboard_session(&watching.base_url, email, password).await;
    let mut events = client
        .get(format!("{}/events", watching.base_url))
        .header(COOKIE, format!("nexus_session={session}"))
        .send()
        .await
        .expect("event stream");
    assert_eq!(events.status(), 200);

    station
        .sell(
            &SystemClock,
            cashier,
            &[("GARI".to_owned(), Quantity::from_milli(2_000))],
        )
        .await
        .expect("sell");
    station.sync(&SystemClock).await.expect("sync the sale");

    let mut heard = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while !heard.contains("event: sales\n") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .unwrap_or_else(|_| panic!("no sales event on the other process within 2 s: {heard:?}"))
            .expect("the stream stays open")
            .expect("the stream does not end");
        heard.push_str(&String::from_utf8_lossy(&chunk));
    }
    let live = client
        .get(format!("{}/overview/live", watching.base_url))
        .header(COOKIE, format!("nexus_session={session}"))
        .header("HX-Request", "true")
        .send()
        .await
        .expect("live fragment");
    assert_eq!(live.status(), 200);
    let fragment = live.text().await.expect("fragment");
    assert!(
        fragment.contains("35.00"),
        "the other process shows the synced sale (2 x GHS 17.50): {fragment}"
    );
    station.close().await;
    let _ = std::fs::remove_dir_all(&station_dir);
    drop((syncing, watching));
    database.drop_now().await;
}
