//! The cashier screen's HTTP surface without a browser: what a cashier's mistakes and a
//! malformed request get (a message on the page, never a 500), who may see what, and sessions
//! that end after a long idle time. The browser test covers the happy path end to end.

use std::sync::Arc;
use std::time::Duration;

use nexus_pos::WorkerSettings;
use reqwest::StatusCode;

struct Screen {
    base: String,
    http: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Screen {
    async fn start(till: super::till::Till) -> (Screen, super::till::Till) {
        // A second handle on the fixture's station database, as a second process would open it.
        let station = Arc::new(nexus_pos::Station::open(&till.data).await.expect("open"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(nexus_pos::web::serve(
            station,
            till.server.clock.clone(),
            WorkerSettings::default(),
            listener,
            async {
                let _ = stopped.await;
            },
        ));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        (
            Screen {
                base,
                http,
                stop,
                served,
            },
            till,
        )
    }

    async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &str,
    ) -> (StatusCode, String, Option<String>) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("post");
        let status = response.status();
        // The session cookie when one is set (sign-in), else where it redirects to.
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let cookie =
            header("set-cookie").and_then(|value| value.split(';').next().map(str::to_owned));
        let location = cookie.or_else(|| header("location"));
        (status, response.text().await.expect("text"), location)
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> (StatusCode, String, Option<String>) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("get");
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        (status, response.text().await.expect("text"), location)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.served.await.expect("join").expect("served");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_answers_mistakes_with_messages_and_ends_idle_sessions() {
    let till = super::till::till(&nexus_testkit::Backend::Sqlite).await;
    let (screen, mut till) = Screen::start(till).await;
    till.server.pause().await;

    // Nobody signed in: every page sends them to sign in, nothing else shows.
    for path in ["/", "/pay", "/shift", "/refund", "/parked", "/customer"] {
        let (status, _, location) = screen.get(path, None).await;
        assert_eq!(
            (status, location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/sign-in")),
            "{path}"
        );
    }
    let (status, _, _) = screen.post("/scan", None, "code=RICE").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = screen
        .get(&format!("/receipts/{}", uuid::Uuid::now_v7()), None)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // A wrong PIN is a 401 page saying so; a malformed staff id is as good as none.
    let (status, page, _) = screen.post("/sign-in", None, "pin=0000").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("wrong PIN"), "{page}");
    let (status, _, cookie) = screen
        .post("/sign-in", None, "staff_id=not-a-uuid&pin=4821")
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = cookie.expect("session cookie");
    assert!(cookie.starts_with("nexus_till="), "{cookie}");
    let cookie = Some(cookie.as_str());

    // Cashier mistakes come back on the page as messages.
    let (status, page, _) = screen.post("/scan", cookie, "code=NO-SUCH-THING").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("nothing matches"), "{page}");
    let (_, page, _) = screen.post("/scan", cookie, "code=2*RICE").await;
    assert!(
        page.contains("Rice 5kg") && page.contains("GHS 24.00"),
        "{page}"
    );
    let (status, page, _) = screen
        .post("/cart/0/quantity", cookie, "quantity=lots")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("cannot read &#34;lots&#34; as a quantity")
            && !page.contains("plain decimal"),
        "said for a cashier: {page}"
    );
    let (status, page, _) = screen.post("/cart/7/remove", cookie, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("there is no line 8"), "{page}");
    // A cashier may not give away half the basket.
    let (_, page, _) = screen.post("/cart/discount", cookie, "amount=12.00").await;
    assert!(
        page.contains("ask a manager"),
        "a cashier's big discount is refused: {page}"
    );
    let (_, page, _) = screen
        .post("/pay/tender", cookie, "kind=cash&amount=-5")
        .await;
    assert!(page.contains("class=\"error\""), "{page}");
    let (_, page, _) = screen
        .post(
            "/pay/tender",
            cookie,
            "kind=momo&amount=5.00&network=mtn&phone=&reference=",
        )
        .await;
    assert!(
        page.contains("class=\"error\""),
        "mobile money needs a phone and a transaction id: {page}"
    );
    let (_, page, _) = screen
        .post("/pay/tender", cookie, "kind=bitcoin&amount=5.00")
        .await;
    assert!(page.contains("not a way to pay"), "{page}");
    // Asking the customer's phone needs their number, and asks at most what is due.
    let (status, page, _) = screen
        .post(
            "/pay/momo-request",
            cookie,
            "kind=momo&amount=&network=mtn&phone=",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Enter the payer&#39;s phone number"),
        "{page}"
    );
    let (_, page, _) = screen
        .post(
            "/pay/momo-request",
            cookie,
            "kind=momo&amount=30.00&network=mtn&phone=0244123456",
        )
        .await;
    assert!(
        page.contains("at most what is still due, GHS 24.00"),
        "{page}"
    );
    let (_, page, _) = screen
        .post(
            "/pay/momo-request",
            cookie,
            "kind=momo&amount=ten&network=mtn&phone=0244123456",
        )
        .await;
    assert!(page.contains("class=\"error\""), "{page}");
    let (_, page, _) = screen
        .post(
            "/pay/momo-request",
            cookie,
            "kind=momo&amount=&network=mtn&phone=12",
        )
        .await;
    assert!(page.contains("as a phone number"), "{page}");
    let (_, _, location) = screen.get("/pay/momo-request", cookie).await;
    assert_eq!(location.as_deref(), Some("/pay"), "nothing is waiting");
    // With the service away the request waits, asked again under its id; meanwhile the sale
    // cannot be completed another way, or the customer could pay twice.
    let (status, _, location) = screen
        .post(
            "/pay/momo-request",
            cookie,
            "kind=momo&amount=&network=mtn&phone=0244123456",
        )
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/pay/momo-request"))
    );
    let (status, page, _) = screen.get("/pay/momo-request", cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No answer from the service"), "{page}");
    let (_, page, _) = screen.post("/pay/complete", cookie, "").await;
    assert!(page.contains("still being asked"), "{page}");
    let (_, _, location) = screen.post("/pay/momo-request/stop", cookie, "").await;
    assert_eq!(location.as_deref(), Some("/pay"));
    // Not enough paid: the sale is not completed, and says why.
    let (status, page, _) = screen.post("/pay/complete", cookie, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("class=\"error\""), "{page}");
    // 5000 for 24.00 due is asked about, not taken; confirmed, it is taken.
    let (_, page, _) = screen
        .post("/pay/tender", cookie, "kind=cash&amount=5000")
        .await;
    assert!(page.contains("id=\"confirm-tender\""), "{page}");
    let (_, page, _) = screen.get("/pay", cookie).await;
    assert!(!page.contains("id=\"change\""), "nothing taken yet: {page}");
    let (status, _, _) = screen
        .post(
            "/pay/tender",
            cookie,
            "kind=cash&amount=5000.00&confirmed=true",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page, _) = screen.get("/pay", cookie).await;
    assert!(
        page.contains("id=\"change\""),
        "taken once confirmed: {page}"
    );
    screen.post("/pay/clear", cookie, "").await;
    // Enter on the empty amount is the exact amount due.
    let (status, _, _) = screen
        .post("/pay/tender", cookie, "kind=cash&amount=")
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page, _) = screen.get("/pay", cookie).await;
    assert!(
        !page.contains("id=\"remaining\"") && !page.contains("id=\"change\""),
        "paid exactly: {page}"
    );
    screen.post("/pay/clear", cookie, "").await;
    // Malformed paths and forms are refused with a 4xx, not a 500, on a page that says what
    // happened in the cashier's words and leads back to the sale.
    let (status, page, _) = screen.post("/cart/x/quantity", cookie, "quantity=1").await;
    assert!(status.is_client_error(), "{status}");
    assert!(page.contains("Back to the sale"), "{page}");
    let (status, page, _) = screen.get("/receipts/not-an-id", cookie).await;
    assert!(status.is_client_error(), "{status}");
    assert!(
        page.contains("cut short") && !page.contains("UUID"),
        "{page}"
    );
    let (status, page, _) = screen
        .post("/cart/0/quantity", cookie, "quantity=1&quantity=2")
        .await;
    assert!(status.is_client_error(), "{status}");
    assert!(page.contains("nothing was recorded"), "{page}");
    let (status, _, _) = screen
        .get(&format!("/receipts/{}", uuid::Uuid::now_v7()), cookie)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page, _) = screen.get("/refund?receipt=OSU-TILL1-999999", cookie).await;
    assert!(page.contains("no sale with receipt"), "{page}");
    let (_, page, _) = screen.post("/shift/open", cookie, "float=abc").await;
    assert!(
        page.contains("cannot read &#34;abc&#34; as the float") && page.contains("12.50"),
        "{page}"
    );
    let (status, _, _) = screen.get("/assets/../Cargo.toml", None).await;
    assert!(status.is_client_error(), "{status}");

    // A parked cart the till's database no longer reads (damaged on disk): taking it back is
    // the till's failure, said as such without the parser's words, and the cart stays parked.
    screen.post("/park", cookie, "label=Kofi").await;
    let database = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        till.data.join("station.db").display()
    ))
    .await
    .expect("the station's database");
    sqlx::query("UPDATE parked_carts SET cart = '{\"lines\": 7'")
        .execute(&database)
        .await
        .expect("damage it");
    let parked: String = sqlx::query_scalar("SELECT id FROM parked_carts")
        .fetch_one(&database)
        .await
        .expect("parked");
    let (status, page, _) = screen
        .post(&format!("/parked/{parked}/resume"), cookie, "")
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        page.contains("Something went wrong inside the till") && !page.contains("EOF"),
        "{page}"
    );
    let still: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM parked_carts")
        .fetch_one(&database)
        .await
        .expect("count");
    assert_eq!(
        still, 1,
        "the damaged cart is still parked, for support to recover"
    );
    sqlx::query("DELETE FROM parked_carts")
        .execute(&database)
        .await
        .expect("clear");
    database.close().await;
    screen.post("/scan", cookie, "code=2*RICE").await;

    // The cart is still there, then a session idle for over 12 hours is signed out.
    let (_, page, _) = screen.get("/", cookie).await;
    assert!(page.contains("Rice 5kg"), "{page}");
    till.server.clock.advance(Duration::from_secs(13 * 60 * 60));
    let (status, _, location) = screen.get("/", cookie).await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/sign-in"))
    );

    screen.stop().await;
    till.station.close().await;
    till.server.stop().await;
    let _ = std::fs::remove_dir_all(&till.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_wrong_pins_is_refused_and_locks_only_the_cashier_it_names() {
    let till = super::till::till(&nexus_testkit::Backend::Sqlite).await;
    let (screen, mut till) = Screen::start(till).await;
    till.server.pause().await;

    // A phone on the shop's Wi-Fi sends 48 wrong PINs for Efua at once, and 48 PIN-only
    // guesses of which half hang up before the answer.
    let mut attempts = tokio::task::JoinSet::new();
    for attempt in 0..96_usize {
        let (http, url) = (screen.http.clone(), format!("{}/sign-in", screen.base));
        let guess = format!("{:04}", 5000 + attempt);
        let (named, body) = if attempt.is_multiple_of(2) {
            (true, format!("staff_id={}&pin={guess}", till.efua))
        } else {
            (false, format!("pin={guess}"))
        };
        attempts.spawn(async move {
            let mut request = http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            if !named && attempt % 4 == 1 {
                request = request.timeout(Duration::from_millis(5));
            }
            let answer = match request.send().await {
                Ok(answer) => answer,
                Err(error) if !named && error.is_timeout() => return (named, None),
                Err(error) => panic!("a sign-in went unanswered: {error}"),
            };
            let status = answer.status();
            (
                named,
                Some((status, answer.text().await.unwrap_or_default())),
            )
        });
    }
    let mut named_answers = Vec::new();
    while let Some(answer) = attempts.join_next().await {
        let (named, answer) = answer.expect("join");
        let Some((status, page)) = answer else {
            continue;
        };
        // Every answer is a refusal saying why: no 500, no sign-in.
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
        assert!(
            page.contains("wrong PIN") || page.contains("is locked"),
            "{page}"
        );
        if named {
            named_answers.push(page);
        }
    }
    // However many arrive together, they count one by one: four say how many tries are left,
    // the fifth locks Efua, and the rest are refused as locked without a PIN check.
    assert_eq!(named_answers.len(), 48);
    for left in 1..=4 {
        let counted = named_answers
            .iter()
            .filter(|page| page.contains(&format!("wrong PIN ({left} more tries")))
            .count();
        assert_eq!(counted, 1, "{left} tries left");
    }
    assert_eq!(
        named_answers
            .iter()
            .filter(|page| page.contains("is locked"))
            .count(),
        44
    );

    // Efua is locked, even with her right PIN; Kojo, by name, signs in at once.
    let efua = format!("staff_id={}&pin=4821", till.efua);
    let (status, page, _) = screen.post("/sign-in", None, &efua).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("is locked"), "{page}");
    let (status, _, cookie) = screen
        .post(
            "/sign-in",
            None,
            &format!("staff_id={}&pin=1357", till.kojo),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(cookie.is_some_and(|cookie| cookie.starts_with("nexus_till=")));
    // The PIN-only guesses locked nobody: they only slowed PIN-only sign-in at this till, for
    // seconds. Once the wait is over, Kojo's PIN alone signs him in.
    let (status, page, _) = screen.post("/sign-in", None, "pin=1357").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        page.contains("wait") && page.contains("choose your name"),
        "{page}"
    );
    till.server.clock.advance(Duration::from_secs(
        nexus_pos::till::PIN_ONLY_LONGEST_WAIT_SECONDS as u64,
    ));
    let (status, _, cookie) = screen.post("/sign-in", None, "pin=1357").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "PIN-only sign-in is not locked"
    );
    assert!(cookie.is_some());
    // The lock runs out for Efua as it always did.
    till.server.clock.advance(Duration::from_secs(5 * 60 + 1));
    let (status, _, cookie) = screen.post("/sign-in", None, &efua).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(cookie.is_some());

    screen.stop().await;
    till.station.close().await;
    till.server.stop().await;
    let _ = std::fs::remove_dir_all(&till.data);
}
