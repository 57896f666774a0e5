//! Live pages: a sale, a stock change or a till enrolling reaches a signed-in page's event
//! stream, and the fragment the page then fetches shows it.

use std::time::Duration;

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::json;

use crate::client::Browser;
use crate::shop::{sell, shop};

backend_tests!(a_sale_elsewhere_reaches_the_open_overview_through_its_event_stream);

/// An open `GET /events`, read as the browser's EventSource reads it.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    pub async fn open(browser: &Browser) -> Self {
        let response = reqwest::Client::new()
            .get(format!("{}/events", browser.base))
            .header("accept", "text/event-stream")
            .header(
                "cookie",
                format!(
                    "nexus_session={}",
                    browser.cookie("nexus_session").expect("signed in")
                ),
            )
            .send()
            .await
            .expect("the event stream opens");
        assert_eq!(response.status(), 200);
        assert!(
            response
                .headers()
                .get("content-type")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .starts_with("text/event-stream")
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// Waits (at most `within`) for an event named `name`; returns everything read up to it.
    pub async fn expect(&mut self, name: &str, within: Duration) -> String {
        let wanted = format!("event: {name}\n");
        let deadline = tokio::time::Instant::now() + within;
        while !self.buffer.contains(&wanted) {
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {name} event within {within:?}: {:?}", self.buffer))
                .expect("the stream stays open")
                .expect("the stream does not end");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
        std::mem::take(&mut self.buffer)
    }
}

async fn a_sale_elsewhere_reaches_the_open_overview_through_its_event_stream(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server, "Live").await;
    let other = crate::shop::shop(&server, "Quiet").await;
    let browser = Browser::signed_in(&server, &shop.owner).await;
    let overview = browser.get("/").await;
    assert!(
        overview.body.contains("data-live-url=\"/overview/live\"")
            && overview
                .body
                .contains("data-live-topics=\"sales stock tills\""),
        "the live region fetches its fragment"
    );
    let mut events = EventStream::open(&browser).await;
    let quiet = Browser::signed_in(&server, &other.owner).await;
    let mut quiet_events = EventStream::open(&quiet).await;

    sell(&server, &shop, &shop.osu, 2).await;
    let _ = events.expect("sales", Duration::from_secs(2)).await;
    let fragment = browser.get_fragment("/overview/live").await;
    assert_eq!(fragment.status, 200);
    assert!(
        !fragment.body.contains("<html"),
        "htmx gets the fragment alone"
    );
    assert!(fragment.text().contains("240.00"), "{}", fragment.text());

    // Stock changed by another user reaches the inventory page's stream.
    let moved = server
        .post(
            &format!("/api/v1/branches/{}/stock/movements", shop.osu),
            &shop.owner.access_token,
            json!({ "product_id": shop.rice, "kind": "receipt", "quantity": "5" }),
        )
        .await;
    assert_eq!(moved.status, 201);
    let _ = events.expect("stock", Duration::from_secs(2)).await;

    // The other organisation heard none of it. One sale announces both sales and stock, in no
    // set order, so each check ends on an event of a topic the other organisation has not yet
    // produced: its own till for the sales and stock above, then its own stock for the till below.
    let quiet_till = server
        .post(
            "/api/v1/stations",
            &other.owner.access_token,
            json!({ "branch_id": other.osu, "name": "Quiet till" }),
        )
        .await;
    assert_eq!(quiet_till.status, 201, "{:?}", quiet_till.body);
    let heard = quiet_events.expect("tills", Duration::from_secs(2)).await;
    assert!(
        !heard.contains("event: sales") && !heard.contains("event: stock"),
        "another organisation's events: {heard}"
    );

    // A till being created reaches the tills page.
    let till = server
        .post(
            "/api/v1/stations",
            &shop.owner.access_token,
            json!({ "branch_id": shop.osu, "name": "Till 9" }),
        )
        .await;
    assert_eq!(till.status, 201, "{:?}", till.body);
    let _ = events.expect("tills", Duration::from_secs(2)).await;

    let quiet_stock = server
        .post(
            &format!("/api/v1/branches/{}/stock/movements", other.osu),
            &other.owner.access_token,
            json!({ "product_id": other.rice, "kind": "receipt", "quantity": "1" }),
        )
        .await;
    assert_eq!(quiet_stock.status, 201);
    let heard = quiet_events.expect("stock", Duration::from_secs(2)).await;
    assert!(
        !heard.contains("event: sales") && !heard.contains("event: tills"),
        "another organisation's events: {heard}"
    );
    server.stop().await;
}
