//! `nexus demo` as a newcomer runs it: the first run seeds the shop and serves both the cloud
//! service and the cashier screen; the till sells from the seeded catalogue; a second run
//! carries on without seeding again; a directory left half-seeded is refused.

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Everything printed so far.
    printed: Vec<String>,
}

impl Demo {
    fn start(data: &std::path::Path) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nexus"))
            .args([
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--till-listen",
                "127.0.0.1:0",
                "--data",
            ])
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
    fn line_with(&mut self, marker: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(180)) {
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
    fn stop(&mut self) {
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
    demo.stop();

    // A second run carries on from the same directory, without seeding again.
    let mut again = Demo::start(&data);
    again.address("Cashier screen");
    again.line_with("Press Ctrl-C");
    assert!(
        !again.printed.iter().any(|line| line.contains("seeding")),
        "{:?}",
        again.printed
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
