//! `nexus demo` as a newcomer runs it: the first run seeds the shop with 60 days of history and
//! serves both the cloud service and the cashier screen; the owner's reports show the history;
//! the till sells from the seeded catalogue; a second run carries on without seeding again; a
//! directory left half-seeded is refused.
//!
//! The history keeps its 60 days but rings up fewer sales a day than the default
//! (`--history-sales`, a hidden flag), so that a debug build seeds it in well under a minute.

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// Sales on an ordinary weekday at the start of the history, both branches together.
const HISTORY_SALES: &str = "30";
const HISTORY_DAYS: i32 = 60;

pub(crate) struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Everything printed so far.
    printed: Vec<String>,
}

impl Demo {
    fn start(data: &std::path::Path) -> Demo {
        Demo::start_with(data, &["--history-sales", HISTORY_SALES])
    }

    /// The demo on `data` with `history` flags (`--history-days`, `--history-sales`).
    pub(crate) fn start_with(data: &std::path::Path, history: &[&str]) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nexus"))
            .args([
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--till-listen",
                "127.0.0.1:0",
            ])
            .args(history)
            .arg("--data")
            .arg(data)
            .env_remove("NEXUS_DATABASE_URL")
            .env_remove("DATABASE_URL")
            .env_remove("NEXUS_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nexus demo");
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Demo {
            child,
            lines,
            printed: Vec::new(),
        }
    }

    /// Reads what the demo prints until a line contains `marker`; answers that line.
    pub(crate) fn line_with(&mut self, marker: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(300)) {
                Ok(line) => {
                    self.printed.push(line.clone());
                    if line.contains(marker) {
                        return line;
                    }
                }
                Err(error) => panic!(
                    "no line with {marker:?} ({error}); the demo printed:\n{}",
                    self.printed.join("\n")
                ),
            }
        }
    }

    /// The `http://…` address on the first line that contains `marker`.
    fn address(&mut self, marker: &str) -> String {
        let line = self.line_with(marker);
        line.split_whitespace()
            .find(|word| word.starts_with("http://"))
            .map(|url| url.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
    }

    /// SIGTERM, as a service manager stops it; it must stop cleanly.
    pub(crate) fn stop(&mut self) {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(terminated.success());
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "the demo stopped with {status}");
    }
}

impl Drop for Demo {
    /// A failing test must not leave a demo running (it would hold the test's output open).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const DAY_MILLIS: i64 = 86_400_000;

fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn today() -> i32 {
    nexus_domain::calendar::local_day(unix_millis(), 0)
}

/// The owner's daily sales report over the history's 60 days (Africa/Accra is UTC).
struct History {
    path: String,
    report: Value,
}

impl History {
    async fn read<F, R>(get: &F) -> History
    where
        F: Fn(&str) -> R,
        R: std::future::Future<Output = Value>,
    {
        let today = today();
        let path = format!(
            "/api/v1/reports/sales?period=day&from={}&to={}",
            nexus_domain::calendar::format_day(today - HISTORY_DAYS + 1),
            nexus_domain::calendar::format_day(today)
        );
        let report = get(&path).await;
        History { path, report }
    }

    /// Checks that the history has content for the charts; answers its number of sales.
    fn check(&self) -> i64 {
        let report = &self.report;
        let rows = report["rows"].as_array().expect("rows");
        let trading_days = rows
            .iter()
            .filter(|row| row["sales_count"].as_i64() > Some(0))
            .count();
        // Every day but perhaps today, which may not have opened yet.
        assert!(
            trading_days >= usize::try_from(HISTORY_DAYS - 1).unwrap_or(0),
            "sales on {trading_days} of the last 60 days: {report}"
        );
        let totals = &report["totals"];
        let sales = totals["sales_count"].as_i64().unwrap_or(0);
        assert!(sales > 1000, "{totals}");
        assert!(totals["refunds_count"].as_i64() > Some(0), "{totals}");
        assert!(totals["discount_minor"].as_i64() > Some(0), "{totals}");
        for kind in ["cash", "momo", "card"] {
            assert!(
                report["by_tender"]
                    .as_array()
                    .is_some_and(|tenders| tenders.iter().any(|tender| tender["kind"] == kind
                        && tender["amount_minor"].as_i64() > Some(0))),
                "paid by {kind}: {}",
                report["by_tender"]
            );
        }
        for cashier in ["Efua Mensah", "Kwame Asante", "Akosua Darko", "Yaw Asare"] {
            assert!(
                report["by_cashier"].as_array().is_some_and(|rows| rows
                    .iter()
                    .any(|row| row["name"] == cashier && row["sales_count"].as_i64() > Some(0))),
                "{cashier} rang up sales: {}",
                report["by_cashier"]
            );
        }
        // The shop grows: the last seven full days sold more than the first seven.
        let week_from = |first: i32| -> i64 {
            let days: Vec<String> = (first..first + 7)
                .map(nexus_domain::calendar::format_day)
                .collect();
            rows.iter()
                .filter(|row| days.iter().any(|day| row["period_start"] == day.as_str()))
                .filter_map(|row| row["sales_count"].as_i64())
                .sum()
        };
        let first_week = week_from(today() - HISTORY_DAYS + 1);
        let last_week = week_from(today() - 7);
        assert!(
            last_week > first_week,
            "the last 7 full days ({last_week}) sold more than the first 7 ({first_week})"
        );
        sales
    }
}

fn cookie_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_seeds_an_accra_shop_and_its_till_sells_from_it() {
    let data = super::scratch_dir();
    let mut demo = Demo::start(&data);
    let till = demo.address("Cashier screen");
    let cloud = demo.address("Cloud service");
    let api = cloud.trim_end_matches("/api/docs").to_owned();
    demo.line_with("Press Ctrl-C");
    let printed = demo.printed.join("\n");
    assert!(
        printed.contains(&format!(
            "Dashboard        {api}/   (sign in as ama@demo.nexus.example / \"nexus demo owner\")"
        )),
        "the demo prints the dashboard and the owner's sign-in: {printed}"
    );
    assert!(
        printed.contains("rang up") && printed.contains("over 60 days"),
        "{printed}"
    );
    for pin in [
        "1234   Efua Mensah (cashier)",
        "5678   Kwame Asante (cashier)",
        "2468   Kofi Boateng (manager)",
    ] {
        assert!(
            printed.contains(pin),
            "the demo prints its sign-ins: {printed}"
        );
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    // The till lists the staff who have PINs, and Efua signs in with hers.
    let page = http
        .get(format!("{till}/sign-in"))
        .send()
        .await
        .expect("sign-in page");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("text");
    for name in ["Efua Mensah", "Kwame Asante", "Kofi Boateng"] {
        assert!(page.contains(name), "{name} can sign in at the till");
    }
    let signed_in = http
        .post(format!("{till}/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("pin=1234")
        .send()
        .await
        .expect("sign in");
    assert_eq!(
        signed_in.status(),
        303,
        "a good PIN goes to the sale screen"
    );
    let cookie = cookie_of(&signed_in);
    // The first demo barcode rings up the first product of the seeded catalogue.
    let cart = http
        .post(format!("{till}/scan"))
        .header("cookie", &cookie)
        .header("hx-request", "true")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("code={}", nexus_domain::ean13(603_000_000_001)))
        .send()
        .await
        .expect("scan");
    assert_eq!(cart.status(), 200);
    let cart = cart.text().await.expect("text");
    assert!(
        cart.contains("Royal Aroma Rice 1kg") && cart.contains("GHS 22.00"),
        "{cart}"
    );

    // The cloud service has the shop: the owner signs in and sees two branches, 200 products
    // and something low on stock.
    let login: Value = http
        .post(format!("{api}/api/v1/auth/login"))
        .json(&json!({ "email": "ama@demo.nexus.example", "password": "nexus demo owner" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["access_token"].as_str().expect("token").to_owned();
    let get = |path: &str| {
        let request = http.get(format!("{api}{path}")).bearer_auth(&token);
        async move {
            request
                .send()
                .await
                .expect("get")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    assert_eq!(
        get("/api/v1/branches").await.as_array().map(Vec::len),
        Some(2)
    );
    let products = get("/api/v1/products?limit=500").await;
    assert_eq!(products["items"].as_array().map(Vec::len), Some(200));
    let low = get("/api/v1/alerts/low-stock").await;
    assert!(
        low["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty()),
        "{low}"
    );
    let history = History::read(&get).await;
    let rang_up = history.check();

    // The dashboard, signed into with what the demo printed: its charts have the history.
    let form = http
        .get(format!("{api}/sign-in"))
        .send()
        .await
        .expect("dashboard sign-in page");
    let pre_session = cookie_of(&form);
    let page = form.text().await.expect("page");
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).expect("a CSRF field") + marker.len();
    let csrf = page[at..at + page[at..].find('"').expect("end")].to_owned();
    let signed_in = http
        .post(format!("{api}/sign-in"))
        .header(reqwest::header::COOKIE, pre_session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "ama@demo.nexus.example"),
            ("password", "nexus demo owner"),
        ])
        .send()
        .await
        .expect("dashboard sign-in");
    assert_eq!(signed_in.status(), 303);
    let session = signed_in
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|line| line.starts_with("nexus_session="))
        .and_then(|line| line.split(';').next())
        .expect("a dashboard session")
        .to_owned();
    let from = nexus_domain::calendar::format_day(today() - HISTORY_DAYS + 1);
    let sales_page = http
        .get(format!("{api}/sales?period=day&from={from}"))
        .header(reqwest::header::COOKIE, &session)
        .send()
        .await
        .expect("sales page");
    assert_eq!(sales_page.status(), 200);
    let sales_page = sales_page.text().await.expect("sales page");
    let bars = sales_page.matches("<rect class=\"bar").count();
    assert!(
        bars >= 50,
        "the daily chart has a bar for (nearly) every day of the history: {bars}"
    );
    let overview = http
        .get(format!("{api}/"))
        .header(reqwest::header::COOKIE, &session)
        .send()
        .await
        .expect("overview")
        .text()
        .await
        .expect("overview");
    assert!(overview.contains("Best sellers this week"), "{overview}");
    // Billing is on, against the in-repo stand-in providers: the owner sees the plans and a way
    // to pay for each by card and by mobile money.
    let billing = http
        .get(format!("{api}/billing"))
        .header(reqwest::header::COOKIE, &session)
        .send()
        .await
        .expect("billing page");
    assert_eq!(billing.status(), 200);
    let billing = billing.text().await.expect("billing page");
    for expected in [
        "Pay for Shop: card, with Stripe",
        "Pay for Shop: mobile money, with Paystack",
        "Sales recorded",
    ] {
        assert!(billing.contains(expected), "{expected} in {billing}");
    }

    let branches = get("/api/v1/branches").await;
    let branch = |name: &str| {
        branches
            .as_array()
            .and_then(|all| all.iter().find(|branch| branch["name"] == name))
            .and_then(|branch| branch["id"].as_str())
            .unwrap_or_else(|| panic!("no branch {name} in {branches}"))
            .to_owned()
    };
    let (osu, makola) = (branch("Osu"), branch("Makola"));
    // Both branches traded.
    for (name, id) in [("Osu", &osu), ("Makola", &makola)] {
        let report = get(&format!("{}&branch={id}", history.path)).await;
        assert!(
            report["totals"]["sales_count"].as_i64() > Some(rang_up / 4),
            "{name} has its share of the sales: {}",
            report["totals"]
        );
    }
    // Osu counted its stock once, weeks ago: every product's on-hand there is that count plus
    // what moved since; Makola never counted.
    let osu_stock = get(&format!("/api/v1/branches/{osu}/stock")).await;
    let osu_stock = osu_stock["items"].as_array().expect("stock items");
    let counted: std::collections::BTreeSet<i64> = osu_stock
        .iter()
        .filter_map(|level| level["last_count_at"].as_i64())
        .collect();
    assert_eq!(counted.len(), 1, "one count at Osu: {counted:?}");
    assert_eq!(
        osu_stock
            .iter()
            .filter(|level| level["last_count_at"].as_i64().is_some())
            .count(),
        200,
        "the count covered every product"
    );
    let counted_at = counted.first().copied().unwrap_or_default();
    let now = unix_millis();
    assert!(
        counted_at < now - DAY_MILLIS && counted_at > now - i64::from(HISTORY_DAYS) * DAY_MILLIS,
        "the count happened during the history: {counted_at}"
    );
    for level in osu_stock {
        let on_hand: f64 = level["on_hand"]
            .as_str()
            .and_then(|text| text.parse().ok())
            .unwrap_or(-1.0);
        assert!(on_hand >= 0.0, "no shelf at Osu is below zero: {level}");
    }
    let makola_stock = get(&format!("/api/v1/branches/{makola}/stock")).await;
    assert!(
        makola_stock["items"]
            .as_array()
            .is_some_and(|items| items.iter().all(|level| level["last_count_at"].is_null())),
        "{makola_stock}"
    );
    demo.stop();

    // The service is stopped: the till still sells, here from the command line as support
    // scripts do, with a shift, split tenders and a reused mobile-money transaction id.
    let station = data.join("station");
    let pos = |arguments: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_nexus"))
            .arg("pos")
            .args(arguments)
            .arg("--data")
            .arg(&station)
            .output()
            .expect("run nexus pos");
        assert!(
            output.status.success(),
            "nexus pos {arguments:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    };
    let on_hand = |output: std::process::Output| -> i64 {
        let stock: Value = serde_json::from_slice(&output.stdout).expect("json");
        stock[0]["on_hand"]
            .as_str()
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(|| panic!("no on-hand in {stock}"))
    };
    let before = on_hand(pos(&["stock", "--sku", "DEMO-01-1", "--json"]));
    pos(&["shift", "open", "--pin", "1234", "--float", "100.00"]);
    let receipt = pos(&[
        "sell",
        "--pin",
        "1234",
        "--item",
        "DEMO-01-1:2",
        "--pay",
        "momo:10.00:mtn:0241234567:8123456789",
        "--pay",
        "cash:40.00",
    ]);
    let receipt = String::from_utf8_lossy(&receipt.stdout).into_owned();
    for expected in [
        "OSU-TILL1-000001",
        "2 x 22.00",
        "VAT 15%",
        "NHIL 2.5%",
        "GETFund",
        "TOTAL GHS",
        "Change",
    ] {
        assert!(
            receipt.contains(expected),
            "the printed receipt lacks {expected:?}:\n{receipt}"
        );
    }
    let again_momo = pos(&[
        "sell",
        "--pin",
        "1234",
        "--item",
        "DEMO-02-2:1",
        "--pay",
        "momo:9.00:mtn:0241234567:8123456789",
        "--json",
    ]);
    let sale: Value = serde_json::from_slice(&again_momo.stdout).expect("json");
    assert_eq!(sale["receipt_number"], "OSU-TILL1-000002");
    assert_eq!(
        (sale["total_minor"].as_i64(), sale["change_minor"].as_i64()),
        (Some(900), Some(0))
    );
    assert!(
        String::from_utf8_lossy(&again_momo.stderr)
            .contains("already used on receipt OSU-TILL1-000001"),
        "a reused transaction id warns"
    );
    let closed = pos(&[
        "shift", "close", "--pin", "1234", "--cash", "134.00", "--momo", "19.00", "--json",
    ]);
    let closed: Value = serde_json::from_slice(&closed.stdout).expect("json");
    for count in closed["tenders"].as_array().expect("tenders") {
        assert_eq!(count["difference_minor"], 0, "{closed}");
    }
    let after = on_hand(pos(&["stock", "--sku", "DEMO-01-1", "--json"]));
    assert_eq!(
        after,
        before - 2,
        "the two sold are off the station's stock at once"
    );

    // A second run carries on from the same directory without seeding again, and the till
    // syncs what it sold while the service was down.
    let mut again = Demo::start(&data);
    again.address("Cashier screen");
    let api = again
        .address("Cloud service")
        .trim_end_matches("/api/docs")
        .to_owned();
    again.line_with("Press Ctrl-C");
    assert!(
        !again.printed.iter().any(|line| line.contains("seeding")),
        "{:?}",
        again.printed
    );
    let sale_id = sale["sale_id"].as_str().expect("sale id").to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let answer = http
            .get(format!("{api}/api/v1/sales/{sale_id}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        if answer.status() == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the offline sale never reached the service"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Nothing was rung up again: the service has the history and the till's two sales.
    let get_again = |path: &str| {
        let request = http.get(format!("{api}{path}")).bearer_auth(&token);
        async move {
            request
                .send()
                .await
                .expect("get")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let after = History::read(&get_again).await;
    assert_eq!(
        after.report["totals"]["sales_count"].as_i64(),
        Some(rang_up + 2),
        "the second run seeded nothing: {}",
        after.report["totals"]
    );
    again.stop();

    // A directory whose first run was cut short is refused with a way out, not half-used.
    std::fs::remove_file(data.join("seeded")).expect("marker");
    let refused = Command::new(env!("CARGO_BIN_EXE_nexus"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--till-listen",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(&data)
        .output()
        .expect("run");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("did not finish") && stderr.contains("delete it"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&data);
}
