//! The monthly VAT return adds up to the receipts exactly: random sales of standard-rated,
//! exempt and zero-rated goods, by the piece and by the bag, at retail and at wholesale, with
//! line and basket discounts, at two branches over two months,
//! some refunded or voided later (in the same month or the next); for each month the return, per
//! branch and in total, equals the sums over the recorded receipts, and its CSV says the same.

use std::collections::BTreeMap;
use std::time::Duration;

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::{Value, json};
use uuid::Uuid;

backend_tests!(
    the_vat_return_adds_up_to_the_receipts_exactly,
    bad_vat_queries_are_refused
);

const DAY: i64 = 24 * 60 * 60 * 1000;

/// xorshift64: small and deterministic, so a failing seed replays.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> i64 {
        i64::try_from(self.next() % bound).unwrap_or(0)
    }
}

/// The figures of a return as the test adds them up from receipts.
#[derive(Default, Debug, PartialEq, Eq)]
struct Sums {
    standard: i64,
    zero: i64,
    exempt: i64,
    levies: BTreeMap<String, i64>,
    returns_net: i64,
    returns_tax: i64,
}

impl Sums {
    fn add(&mut self, receipt: &Value) {
        let returned = receipt["kind"] != "sale";
        for line in receipt["lines"].as_array().into_iter().flatten() {
            let net = line["net_minor"].as_i64().expect("net");
            match line["tax_class"].as_str() {
                Some("exempt") => self.exempt += net,
                Some("zero_rated") => self.zero += net,
                _ => self.standard += net,
            }
            if returned {
                self.returns_net += net;
                self.returns_tax += line["tax_minor"].as_i64().expect("tax");
            }
            for levy in line["levies"].as_array().into_iter().flatten() {
                let code = levy[0].as_str().expect("code").to_owned();
                *self.levies.entry(code).or_default() += levy[1].as_i64().expect("amount");
            }
        }
    }

    /// The return's figures in the same shape.
    fn of(figures: &Value) -> Self {
        let amount = |key: &str| figures[key].as_i64().unwrap_or(i64::MIN);
        let levies = figures["levies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|levy| levy["amount_minor"] != 0)
            .map(|levy| {
                (
                    levy["code"].as_str().unwrap_or_default().to_owned(),
                    levy["amount_minor"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        let sums = Self {
            standard: amount("standard_rated_net_minor"),
            zero: amount("zero_rated_net_minor"),
            exempt: amount("exempt_net_minor"),
            levies,
            returns_net: amount("returns_net_minor"),
            returns_tax: amount("returns_tax_minor"),
        };
        assert_eq!(
            amount("total_net_minor"),
            sums.standard + sums.zero + sums.exempt,
            "{figures}"
        );
        assert_eq!(
            amount("tax_minor"),
            sums.levies.values().sum::<i64>(),
            "{figures}"
        );
        sums
    }

    fn without_zero_levies(mut self) -> Self {
        self.levies.retain(|_, amount| *amount != 0);
        self
    }
}

/// Unix milliseconds of 1 January 2026, 00:00 in Accra (UTC).
fn january() -> i64 {
    nexus_testkit::ManualClock::START.as_millis()
}

async fn the_vat_return_adds_up_to_the_receipts_exactly(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("VAT Traders").await;
    let token = owner.access_token.clone();
    let branches = [
        server.create_branch(&token, "Osu").await,
        server.create_branch(&token, "Tema").await,
    ];
    let mut products = Vec::new();
    for (sku, price, class) in [
        ("RICE", 1200, "standard"),
        ("BREAD", 500, "exempt"),
        ("OIL", 2550, "standard"),
        ("SHEA", 4399, "zero_rated"),
    ] {
        let mut body = json!({ "sku": sku, "name": sku, "price_minor": price, "tax_class": class });
        if sku == "RICE" {
            body["wholesale_price_minor"] = json!(1100);
            body["packs"] = json!([{ "name": "bag of 5", "units": 5, "price_minor": 5800,
                "wholesale_price_minor": 5500 }]);
        }
        let answer = server.post("/api/v1/products", &token, body).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        products.push(answer.id());
    }
    // Everything below happened in January and February; the clock is past both.
    server.clock.advance(Duration::from_millis(
        u64::try_from(62 * DAY).expect("days"),
    ));
    let token = server.login(&owner.email, &owner.password).await.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let seed = std::env::var("NEXUS_VAT_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x5eed_7a11_u64);
    let mut random = Random(seed);
    let trader = server
        .post(
            "/api/v1/customers",
            &token,
            json!({ "name": "Auntie Akos", "price_list": "wholesale" }),
        )
        .await
        .id();
    let (mut bags, mut wholesale) = (0, 0);
    let mut receipts: Vec<(i64, String, Value)> = Vec::new();
    for _ in 0..40 {
        let branch = branches[usize::try_from(random.below(2)).unwrap_or(0)].clone();
        let at = january() + random.below(59) * DAY + random.below(DAY as u64);
        let mut lines = Vec::new();
        for product in &products {
            if random.below(2) == 0 {
                continue;
            }
            let quantity = random.below(5) + 1;
            let mut line = json!({ "product_id": product, "quantity": quantity });
            if *product == products[0] && random.below(3) == 0 {
                line["pack"] = json!({ "name": "bag of 5", "units": 5 });
                bags += 1;
            }
            if random.below(3) == 0 {
                line["discount_minor"] = json!(random.below(400));
            }
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push(json!({ "product_id": products[0], "quantity": 1 }));
        }
        let mut body = json!({ "id": Uuid::now_v7(), "branch_id": branch, "occurred_at": at,
            "lines": lines, "tenders": [{ "kind": "cash", "amount_minor": 10_000_000 }] });
        if random.below(4) == 0 {
            body["discount_minor"] = json!(random.below(300));
        }
        if random.below(4) == 0 {
            body["price_list"] = json!("wholesale");
            body["customer_id"] = json!(trader);
            wholesale += 1;
        }
        let sale = server.post("/api/v1/sales", &token, body.clone()).await;
        assert_eq!(sale.status, 201, "{body}: {}", sale.body);
        let sale = sale.body;
        receipts.push((at, branch.clone(), sale.clone()));
        // Some come back later: the first line in part, or everything.
        let later = (at + random.below(10) * DAY).min(january() + 59 * DAY - 1);
        let id = sale["id"].as_str().expect("id");
        let returned = match random.below(6) {
            0 => Some(
                server
                    .post(
                        &format!("/api/v1/sales/{id}/refunds"),
                        &token,
                        json!({ "id": Uuid::now_v7(), "occurred_at": later,
                            "lines": [{ "line_no": 1, "quantity": "1" }] }),
                    )
                    .await,
            ),
            1 => Some(
                server
                    .post(
                        &format!("/api/v1/sales/{id}/void"),
                        &token,
                        json!({ "id": Uuid::now_v7(), "occurred_at": later, "reason": "rang up twice" }),
                    )
                    .await,
            ),
            _ => None,
        };
        if let Some(returned) = returned {
            assert_eq!(returned.status, 201, "{}", returned.body);
            receipts.push((later, branch, returned.body));
        }
    }

    assert!(
        bags > 0 && wholesale > 0,
        "seed {seed} sells bags and at wholesale"
    );
    for (month, from) in [("2026-01", january()), ("2026-02", january() + 31 * DAY)] {
        let to = from + if month == "2026-01" { 31 } else { 28 } * DAY;
        let mut expected: BTreeMap<String, Sums> = BTreeMap::new();
        let mut total = Sums::default();
        for (at, branch, receipt) in &receipts {
            if (from..to).contains(at) {
                expected.entry(branch.clone()).or_default().add(receipt);
                total.add(receipt);
            }
        }
        let answer = server
            .get(&format!("/api/v1/reports/vat?month={month}"), &token)
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let report = &answer.body;
        assert_eq!(report["month"], month);
        let found: BTreeMap<String, Sums> = report["branches"]
            .as_array()
            .expect("branches")
            .iter()
            .map(|row| {
                (
                    row["branch_id"].as_str().unwrap_or_default().to_owned(),
                    Sums::of(row),
                )
            })
            .collect();
        let expected: BTreeMap<String, Sums> = expected
            .into_iter()
            .map(|(branch, sums)| (branch, sums.without_zero_levies()))
            .collect();
        assert_eq!(found, expected, "{month} per branch (seed {seed})");
        let total = total.without_zero_levies();
        assert_eq!(
            Sums::of(&report["total"]),
            total,
            "{month} in total (seed {seed})"
        );
        assert!(total.returns_net < 0, "{month} has returns to net");

        // The CSV: a row per branch and the total, the same figures in cedis.
        let csv = reqwest::Client::new()
            .get(format!(
                "{}/api/v1/reports/vat?month={month}&format=csv",
                server.base_url
            ))
            .bearer_auth(&token)
            .send()
            .await
            .expect("csv");
        assert_eq!(csv.status(), 200);
        let text = csv.text().await.expect("text");
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 2 + found.len(), "{text}");
        assert!(
            rows[0].starts_with("month,branch,standard_rated_net"),
            "{text}"
        );
        let cedis = |minor: i64| format!("{}.{:02}", minor.div_euclid(100), minor.rem_euclid(100));
        let last = rows.last().expect("total row");
        assert!(
            last.starts_with(&format!("{month},Total,{},", cedis(total.standard))),
            "{last}"
        );
    }
    // One branch alone is that branch's figures.
    let osu = server
        .get(
            &format!("/api/v1/reports/vat?month=2026-01&branch={}", branches[0]),
            &token,
        )
        .await;
    assert_eq!(osu.status, 200, "{}", osu.body);
    let rows = osu.body["branches"].as_array().expect("branches");
    assert!(
        rows.iter()
            .all(|row| row["branch_id"] == branches[0].as_str())
    );
    server.stop().await;
}

async fn bad_vat_queries_are_refused(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("VAT Refusals").await;
    let token = owner.access_token.as_str();
    for (query, field) in [
        ("month=2026-13", "month"),
        ("month=2026-1", "month"),
        ("month=November", "month"),
        ("format=xml", "format"),
        ("branch=not-a-branch", ""),
        ("colour=red", ""),
    ] {
        let answer = server
            .get(&format!("/api/v1/reports/vat?{query}"), token)
            .await;
        assert!(
            answer.status == 400 || answer.status == 422,
            "{query}: {} {}",
            answer.status,
            answer.body
        );
        if !field.is_empty() {
            assert_eq!(
                answer.body["error"]["field"], field,
                "{query}: {}",
                answer.body
            );
        }
    }
    // Last month by default, empty for a new shop.
    let empty = server.get("/api/v1/reports/vat", token).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.body["branches"], json!([]));
    assert_eq!(empty.body["total"]["tax_minor"], 0);
    server.stop().await;
}
