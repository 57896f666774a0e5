//! The sales report: per day, week (from Monday) and month of the tenant's local calendar, with
//! totals that add up to the sales' own totals, by cashier and by tender, per branch, as JSON
//! and as CSV.
//!
//! Every expected figure is built from the sales as POST /api/v1/sales answered them; the
//! calendar (which day, week and month a sale belongs to) is written out by hand.

use std::collections::BTreeMap;
use std::time::Duration;

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::{Value, json};
use uuid::Uuid;

backend_tests!(
    reports_add_up_the_sales_per_day_week_and_month,
    a_branch_filter_and_a_managers_scope_restrict_the_report,
    the_report_exports_as_csv,
    bad_report_parameters_are_refused,
    split_cash_tenders_take_the_change_out_once,
    local_days_follow_the_tenants_time_zone,
);

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Unix milliseconds of `day` January 2026 at `hour:minute` UTC (Accra is UTC+0).
fn jan(day: i64, hour: i64, minute: i64) -> i64 {
    nexus_testkit::ManualClock::START.as_millis() + (day - 1) * DAY + hour * HOUR + minute * MINUTE
}

/// Unix milliseconds of `day` February 2026 at `hour:minute` UTC.
fn feb(day: i64, hour: i64, minute: i64) -> i64 {
    jan(31 + day, hour, minute)
}

fn now_millis(server: &TestServer) -> i64 {
    nexus_domain::Clock::now(server.clock.as_ref()).as_millis()
}

/// Moves the server's clock forward to `millis`.
fn set_clock(server: &TestServer, millis: i64) {
    let now = now_millis(server);
    assert!(millis >= now, "the clock only moves forward");
    server.clock.advance(Duration::from_millis(
        u64::try_from(millis - now).expect("forward"),
    ));
}

// ---------------------------------------------------------------------------------------------
// The shop
// ---------------------------------------------------------------------------------------------

/// A member of staff who signs in again whenever they need to: access tokens last 15 minutes
/// and these tests move the clock by days.
struct Staff {
    id: String,
    email: String,
    password: String,
}

impl Staff {
    async fn sign_in(&self, server: &TestServer) -> String {
        let login = server.login(&self.email, &self.password).await;
        assert_eq!(
            login.status, 200,
            "{} signs in: {:?}",
            self.email, login.body
        );
        login.body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }
}

struct Shop {
    owner: Staff,
    osu: String,
    tema: String,
    /// GHS 12.00, standard rated.
    rice: String,
    /// GHS 5.00, exempt.
    bread: String,
    /// GHS 25.50, standard rated.
    oil: String,
}

async fn open_shop(server: &TestServer) -> Shop {
    let owner = server.register("Report Traders").await;
    let token = owner.access_token.clone();
    let osu = server.create_branch(&token, "Osu").await;
    let tema = server.create_branch(&token, "Tema").await;
    let product = |sku: &'static str, price: i64, tax_class: &'static str| {
        let token = token.clone();
        async move {
            let answer = server
                .post(
                    "/api/v1/products",
                    &token,
                    json!({ "sku": sku, "name": sku, "price_minor": price, "tax_class": tax_class }),
                )
                .await;
            assert_eq!(answer.status, 201, "create {sku}: {:?}", answer.body);
            answer.id()
        }
    };
    let rice = product("RICE", 1200, "standard").await;
    let bread = product("BREAD", 500, "exempt").await;
    let oil = product("OIL", 2550, "standard").await;
    Shop {
        owner: Staff {
            id: owner.user_id,
            email: owner.email,
            password: owner.password,
        },
        osu,
        tema,
        rice,
        bread,
        oil,
    }
}

/// Creates a member of staff with a password at one branch.
async fn hire(server: &TestServer, shop: &Shop, name: &str, role: &str, branch: &str) -> Staff {
    let email = format!("{}@report-traders.gh", name.to_lowercase());
    let password = format!("{name} has a long password");
    let created = server
        .post(
            "/api/v1/staff",
            &shop.owner.sign_in(server).await,
            json!({ "email": email, "name": name, "role": role, "branch_ids": [branch], "password": password }),
        )
        .await;
    assert_eq!(created.status, 201, "hire {name}: {:?}", created.body);
    Staff {
        id: created.id(),
        email,
        password,
    }
}

fn line(product: &str, quantity: impl Into<Value>) -> Value {
    json!({ "product_id": product, "quantity": quantity.into() })
}

fn cash(amount_minor: i64) -> Value {
    json!({ "kind": "cash", "amount_minor": amount_minor })
}

fn momo(amount_minor: i64) -> Value {
    json!({ "kind": "momo", "amount_minor": amount_minor, "network": "mtn", "phone": "0241234567",
        "reference": format!("MTN{}", Uuid::now_v7().simple()) })
}

/// `cashier` signs in and rings up a sale now (or at `occurred_at` in `extra`); returns it as
/// the server answered.
async fn sell(
    server: &TestServer,
    cashier: &Staff,
    branch: &str,
    lines: Vec<Value>,
    tenders: Vec<Value>,
    extra: Value,
) -> Value {
    let mut body =
        json!({ "id": Uuid::now_v7(), "branch_id": branch, "lines": lines, "tenders": tenders });
    for (key, value) in extra.as_object().into_iter().flatten() {
        body[key] = value.clone();
    }
    let token = cashier.sign_in(server).await;
    let answer = server.post("/api/v1/sales", &token, body.clone()).await;
    assert_eq!(answer.status, 201, "sale {body}: {:?}", answer.body);
    answer.body
}

async fn refund(server: &TestServer, cashier: &Staff, sale: &Value, lines: Value) -> Value {
    let token = cashier.sign_in(server).await;
    let answer = server
        .post(
            &format!(
                "/api/v1/sales/{}/refunds",
                sale["id"].as_str().expect("sale id")
            ),
            &token,
            json!({ "id": Uuid::now_v7(), "lines": lines }),
        )
        .await;
    assert_eq!(answer.status, 201, "refund: {:?}", answer.body);
    answer.body
}

async fn report(server: &TestServer, token: &str, query: &str) -> Value {
    let answer = server
        .get(&format!("/api/v1/reports/sales?{query}"), token)
        .await;
    assert_eq!(answer.status, 200, "report {query}: {:?}", answer.body);
    answer.body
}

/// A GET whose answer is not JSON: (status, content type, body).
async fn get_text(server: &TestServer, token: &str, path: &str) -> (u16, String, String) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server.base_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {path}: {error}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.text().await.expect("body");
    (status, content_type, body)
}

// ---------------------------------------------------------------------------------------------
// What the report should say
// ---------------------------------------------------------------------------------------------

/// A sale or refund as the server answered it, with the local day, week and month it belongs
/// to (written by hand).
struct Recorded {
    day: &'static str,
    week: &'static str,
    month: &'static str,
    sale: Value,
}

impl Recorded {
    fn period_start(&self, period: &str) -> &'static str {
        match period {
            "day" => self.day,
            "week" => self.week,
            "month" => self.month,
            other => panic!("no period {other}"),
        }
    }

    fn branch(&self) -> &str {
        self.sale["branch_id"].as_str().expect("branch_id")
    }
}

fn amount(value: &Value, key: &str) -> i64 {
    value[key]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer {key} in {value}"))
}

/// The figures of a report row, or what they should be.
#[derive(Debug, Default, PartialEq, Eq)]
struct Figures {
    sales_count: i64,
    refunds_count: i64,
    gross_minor: i64,
    discount_minor: i64,
    net_minor: i64,
    tax_minor: i64,
    total_minor: i64,
    levies: BTreeMap<String, i64>,
}

impl Figures {
    /// Adds a sale or refund as POST answered it.
    fn add(&mut self, sale: &Value) {
        match sale["kind"].as_str() {
            Some("sale") => self.sales_count += 1,
            Some("refund" | "void") => self.refunds_count += 1,
            other => panic!("unexpected kind {other:?}"),
        }
        self.gross_minor += amount(sale, "gross_minor");
        self.discount_minor += amount(sale, "discount_minor");
        self.net_minor += amount(sale, "net_minor");
        self.tax_minor += amount(sale, "tax_minor");
        self.total_minor += amount(sale, "total_minor");
        for levy in sale["levies"].as_array().expect("levies") {
            let code = levy[0].as_str().expect("levy code").to_owned();
            *self.levies.entry(code).or_default() += levy[1].as_i64().expect("levy amount");
        }
    }

    /// Reads a report row (or the totals).
    fn of_row(row: &Value) -> Self {
        Self {
            sales_count: amount(row, "sales_count"),
            refunds_count: amount(row, "refunds_count"),
            gross_minor: amount(row, "gross_minor"),
            discount_minor: amount(row, "discount_minor"),
            net_minor: amount(row, "net_minor"),
            tax_minor: amount(row, "tax_minor"),
            total_minor: amount(row, "total_minor"),
            levies: row["levies"]
                .as_object()
                .unwrap_or_else(|| panic!("levies is not an object in {row}"))
                .iter()
                .map(|(code, amount)| (code.clone(), amount.as_i64().expect("levy amount")))
                .collect(),
        }
    }

    /// The total over the number of sales, rounded to the nearest pesewa; 0 without sales.
    fn average_basket_minor(&self) -> i64 {
        if self.sales_count == 0 {
            0
        } else {
            (2 * self.total_minor + self.sales_count).div_euclid(2 * self.sales_count)
        }
    }
}

fn figures_of<'a>(sales: impl IntoIterator<Item = &'a Recorded>) -> Figures {
    let mut figures = Figures::default();
    for recorded in sales {
        figures.add(&recorded.sale);
    }
    figures
}

/// Checks one report against the recorded sales it should cover: rows per period, totals, by
/// cashier and by tender.
fn assert_report_covers(report: &Value, period: &str, covered: &[&Recorded], what: &str) {
    assert_eq!(report["period"], period, "{what}");
    assert_eq!(report["currency"], "GHS", "{what}");
    assert_eq!(report["time_zone"], "Africa/Accra", "{what}");

    let mut expected_rows: BTreeMap<&str, Vec<&Recorded>> = BTreeMap::new();
    for recorded in covered {
        expected_rows
            .entry(recorded.period_start(period))
            .or_default()
            .push(recorded);
    }
    let rows = report["rows"].as_array().expect("rows");
    let starts: Vec<&str> = rows
        .iter()
        .map(|row| row["period_start"].as_str().expect("period_start"))
        .collect();
    assert_eq!(
        starts,
        expected_rows.keys().copied().collect::<Vec<_>>(),
        "{what}: one row per {period} that had sales, in order"
    );
    for (row, (start, sales)) in rows.iter().zip(&expected_rows) {
        let expected = figures_of(sales.iter().copied());
        let actual = Figures::of_row(row);
        assert_eq!(
            actual, expected,
            "{what}: the {period} starting {start} should add up its sales"
        );
        assert_eq!(
            amount(row, "average_basket_minor"),
            expected.average_basket_minor(),
            "{what}: average basket of the {period} starting {start}"
        );
        assert_eq!(
            actual.levies.values().sum::<i64>(),
            actual.tax_minor,
            "{what}: the levies of the {period} starting {start} add up to its tax"
        );
    }

    let expected_totals = figures_of(covered.iter().copied());
    assert_eq!(
        Figures::of_row(&report["totals"]),
        expected_totals,
        "{what}: totals are the sum of the sales' own totals"
    );
    assert_eq!(
        amount(&report["totals"], "average_basket_minor"),
        expected_totals.average_basket_minor(),
        "{what}: average basket over the whole range"
    );

    let mut expected_cashiers: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for recorded in covered {
        let entry = expected_cashiers
            .entry(
                recorded.sale["cashier_id"]
                    .as_str()
                    .expect("cashier")
                    .to_owned(),
            )
            .or_default();
        entry.0 += i64::from(recorded.sale["kind"] == "sale");
        entry.1 += amount(&recorded.sale, "total_minor");
    }
    let cashiers: BTreeMap<String, (i64, i64)> = report["by_cashier"]
        .as_array()
        .expect("by_cashier")
        .iter()
        .map(|row| {
            (
                row["cashier_id"].as_str().expect("cashier_id").to_owned(),
                (amount(row, "sales_count"), amount(row, "total_minor")),
            )
        })
        .collect();
    assert_eq!(
        cashiers, expected_cashiers,
        "{what}: by cashier, (sales rung up, money taken less refunds given)"
    );

    // The drawer keeps the total less what was paid otherwise: cash is net of change.
    let mut expected_tenders: BTreeMap<String, i64> = BTreeMap::new();
    for recorded in covered {
        let mut not_cash = 0;
        for tender in recorded.sale["tenders"].as_array().expect("tenders") {
            let kind = tender["kind"].as_str().expect("kind");
            if kind != "cash" {
                not_cash += amount(tender, "amount_minor");
                *expected_tenders.entry(kind.to_owned()).or_default() +=
                    amount(tender, "amount_minor");
            }
        }
        let paid_in_cash = amount(&recorded.sale, "total_minor") - not_cash;
        if paid_in_cash != 0 {
            *expected_tenders.entry("cash".to_owned()).or_default() += paid_in_cash;
        }
    }
    let tenders: BTreeMap<String, i64> = report["by_tender"]
        .as_array()
        .expect("by_tender")
        .iter()
        .map(|row| {
            (
                row["kind"].as_str().expect("kind").to_owned(),
                amount(row, "amount_minor"),
            )
        })
        .collect();
    assert_eq!(
        tenders, expected_tenders,
        "{what}: by tender, what was kept of each kind of payment"
    );
    assert_eq!(
        tenders.values().sum::<i64>(),
        expected_totals.total_minor,
        "{what}: the tenders add up to the total"
    );
}

// ---------------------------------------------------------------------------------------------
// A month and a bit of trading
// ---------------------------------------------------------------------------------------------

struct Trading {
    shop: Shop,
    ama: Staff,
    kofi: Staff,
    recorded: Vec<Recorded>,
}

/// Two cashiers at Osu and the owner at Tema, from Thursday 1 January to Monday 2 February
/// 2026, with a refund on a later day than its sale and an offline sale posted weeks late.
async fn trade(server: &TestServer) -> Trading {
    let shop = open_shop(server).await;
    let ama = hire(server, &shop, "Ama", "cashier", &shop.osu).await;
    let kofi = hire(server, &shop, "Kofi", "cashier", &shop.osu).await;
    let (osu, tema) = (shop.osu.as_str(), shop.tema.as_str());
    let (rice, bread, oil) = (shop.rice.as_str(), shop.bread.as_str(), shop.oil.as_str());
    let mut recorded = Vec::new();
    let mut keep = |day, week, month, sale| {
        recorded.push(Recorded {
            day,
            week,
            month,
            sale,
        });
    };
    let none = json!({});

    // Thursday 1 January, 09:00: Ama, paid in cash with change.
    set_clock(server, jan(1, 9, 0));
    let first = sell(
        server,
        &ama,
        osu,
        vec![line(rice, 2), line(bread, 1)],
        vec![cash(5000)],
        none.clone(),
    )
    .await;
    assert_eq!(
        (
            first["gross_minor"].as_i64(),
            first["net_minor"].as_i64(),
            first["tax_minor"].as_i64(),
            first["total_minor"].as_i64(),
            first["change_minor"].as_i64(),
        ),
        (Some(2900), Some(2500), Some(400), Some(2900), Some(2100)),
        "2 rice at 12.00 (tax inside: 20.00 net + 4.00 tax) and an exempt bread at 5.00"
    );
    assert_eq!(
        first["levies"],
        json!([["VAT", 300], ["NHIL", 50], ["GETFUND", 50]])
    );
    keep("2026-01-01", "2025-12-29", "2026-01-01", first);

    // Posted at midnight by a till whose sale ended a millisecond before: still 1 January.
    set_clock(server, jan(2, 0, 0));
    let last_of_the_day = sell(
        server,
        &kofi,
        osu,
        vec![line(oil, 1)],
        vec![momo(2550)],
        json!({ "occurred_at": jan(2, 0, 0) - 1 }),
    )
    .await;
    keep("2026-01-01", "2025-12-29", "2026-01-01", last_of_the_day);
    // Friday 2 January, 00:00:00.000 exactly: the new day.
    let first_of_the_day = sell(
        server,
        &ama,
        osu,
        vec![line(rice, 1)],
        vec![cash(1500)],
        none.clone(),
    )
    .await;
    keep("2026-01-02", "2025-12-29", "2026-01-01", first_of_the_day);

    set_clock(server, jan(2, 10, 0));
    let at_tema = sell(
        server,
        &shop.owner,
        tema,
        vec![line(rice, 1)],
        vec![cash(1200)],
        none.clone(),
    )
    .await;
    keep("2026-01-02", "2025-12-29", "2026-01-01", at_tema);

    // Sunday 4 January: still the week of Monday 29 December. Split momo and cash.
    set_clock(server, jan(4, 12, 0));
    let split = sell(
        server,
        &kofi,
        osu,
        vec![line(oil, 2), line(rice, 1)],
        vec![momo(3000), cash(4000)],
        none.clone(),
    )
    .await;
    assert_eq!(split["total_minor"], 6300);
    assert_eq!(split["change_minor"], 700);
    keep("2026-01-04", "2025-12-29", "2026-01-01", split.clone());

    // Monday 5 January: a new week. A basket discount, then Kofi refunds one oil of his own
    // Sunday sale (a cashier refunds only their own sales): the refund belongs to Monday.
    set_clock(server, jan(5, 8, 0));
    let discounted = sell(
        server,
        &ama,
        osu,
        vec![line(bread, 3)],
        vec![cash(1400)],
        json!({ "discount_minor": 100 }),
    )
    .await;
    assert_eq!(discounted["total_minor"], 1400);
    keep("2026-01-05", "2026-01-05", "2026-01-01", discounted);
    set_clock(server, jan(5, 9, 0));
    let refunded = refund(
        server,
        &kofi,
        &split,
        json!([{ "line_no": 1, "quantity": 1 }]),
    )
    .await;
    assert_eq!(refunded["kind"], "refund");
    assert_eq!(
        refunded["total_minor"], -2550,
        "one oil back at the price charged"
    );
    keep("2026-01-05", "2026-01-05", "2026-01-01", refunded);

    // Monday 2 February: a weighed sale, then a till that was offline since 4 January posts a
    // sale that happened then: it belongs to 4 January, not to the day it arrived.
    set_clock(server, feb(2, 10, 0));
    let weighed = sell(
        server,
        &kofi,
        osu,
        vec![line(rice, "1.5")],
        vec![cash(2000)],
        none.clone(),
    )
    .await;
    assert_eq!(weighed["total_minor"], 1800);
    keep("2026-02-02", "2026-02-02", "2026-02-01", weighed.clone());
    // The owner voids it: a void counts with the refunds, against the owner's takings.
    set_clock(server, feb(2, 10, 2));
    let owner_token = shop.owner.sign_in(server).await;
    let void = server
        .post(
            &format!(
                "/api/v1/sales/{}/void",
                weighed["id"].as_str().expect("sale id")
            ),
            &owner_token,
            json!({ "id": Uuid::now_v7(), "reason": "rung up on the wrong branch" }),
        )
        .await;
    assert_eq!(void.status, 201, "void: {:?}", void.body);
    assert_eq!(void.body["kind"], "void");
    assert_eq!(void.body["total_minor"], -1800);
    keep("2026-02-02", "2026-02-02", "2026-02-01", void.body);
    set_clock(server, feb(2, 10, 5));
    let offline = sell(
        server,
        &ama,
        osu,
        vec![line(bread, 1)],
        vec![momo(500)],
        json!({ "occurred_at": jan(4, 15, 0) }),
    )
    .await;
    keep("2026-01-04", "2025-12-29", "2026-01-01", offline);

    Trading {
        shop,
        ama,
        kofi,
        recorded,
    }
}

async fn reports_add_up_the_sales_per_day_week_and_month(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let trading = trade(&server).await;
    let token = &trading.shop.owner.sign_in(&server).await;
    let all: Vec<&Recorded> = trading.recorded.iter().collect();

    for period in ["day", "week", "month"] {
        let query = format!("period={period}&from=2025-12-29&to=2026-02-28");
        let body = report(&server, token, &query).await;
        assert_eq!(body["from"], "2025-12-29");
        assert_eq!(body["to"], "2026-02-28");
        assert_eq!(body["branch_id"], Value::Null, "no branch filter");
        assert_report_covers(&body, period, &all, &query);
    }

    // Hand-checked anchors, so that the sums above are not only self-consistent.
    let weeks = report(&server, token, "period=week&from=2025-12-29&to=2026-02-28").await;
    let first_week = &weeks["rows"][0];
    assert_eq!(first_week["period_start"], "2025-12-29");
    assert_eq!(
        (
            first_week["sales_count"].as_i64(),
            first_week["refunds_count"].as_i64()
        ),
        (Some(6), Some(0)),
        "Thursday to Sunday, both branches, and the late offline sale"
    );
    assert_eq!(
        first_week["total_minor"], 14_650,
        "29.00 + 25.50 + 12.00 + 12.00 + 63.00 + 5.00"
    );
    let second_week = &weeks["rows"][1];
    assert_eq!(
        (
            second_week["sales_count"].as_i64(),
            second_week["refunds_count"].as_i64(),
            second_week["total_minor"].as_i64(),
            second_week["average_basket_minor"].as_i64(),
        ),
        (Some(1), Some(1), Some(1400 - 2550), Some(1400 - 2550)),
        "Monday's refund counts against Monday's week"
    );
    assert_eq!(
        second_week["discount_minor"], 100,
        "the basket discount is reported"
    );

    // The range is of local days, both ends included; a week row is labelled by its Monday
    // even when the range starts on a Thursday.
    let range = report(&server, token, "period=week&from=2026-01-01&to=2026-01-04").await;
    let within: Vec<&Recorded> = trading
        .recorded
        .iter()
        .filter(|recorded| ("2026-01-01"..="2026-01-04").contains(&recorded.day))
        .collect();
    assert_report_covers(&range, "week", &within, "week of 1 to 4 January");
    let one_day = report(&server, token, "period=day&from=2026-01-02&to=2026-01-02").await;
    let friday: Vec<&Recorded> = trading
        .recorded
        .iter()
        .filter(|recorded| recorded.day == "2026-01-02")
        .collect();
    assert_eq!(friday.len(), 2);
    assert_report_covers(
        &one_day,
        "day",
        &friday,
        "2 January only: the sale at 23:59:59.999 the day before is not in it",
    );

    // Without from and to: from the first of this month to today (the clock says 2 February).
    let this_month = report(&server, token, "period=day").await;
    assert_eq!(
        (this_month["from"].as_str(), this_month["to"].as_str()),
        (Some("2026-02-01"), Some("2026-02-02"))
    );
    let february: Vec<&Recorded> = trading
        .recorded
        .iter()
        .filter(|recorded| recorded.month == "2026-02-01")
        .collect();
    assert_report_covers(&this_month, "day", &february, "this month by default");

    // By cashier, with names: Ama's refund of Kofi's sale comes off Ama's takings.
    let months = report(&server, token, "period=month&from=2026-01-01&to=2026-01-31").await;
    let cashier = |id: &str| {
        months["by_cashier"]
            .as_array()
            .expect("by_cashier")
            .iter()
            .find(|row| row["cashier_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no row for cashier {id}: {}", months["by_cashier"]))
    };
    let ama = cashier(&trading.ama.id);
    assert_eq!(ama["name"], "Ama");
    assert_eq!(
        (ama["sales_count"].as_i64(), ama["total_minor"].as_i64()),
        (Some(4), Some(2900 + 1200 + 1400 + 500))
    );
    let kofi = cashier(&trading.kofi.id);
    assert_eq!(kofi["name"], "Kofi");
    assert_eq!(
        (kofi["sales_count"].as_i64(), kofi["total_minor"].as_i64()),
        (Some(2), Some(2550 + 6300 - 2550)),
        "February's sale is outside January"
    );
    let tenders: BTreeMap<&str, i64> = months["by_tender"]
        .as_array()
        .expect("by_tender")
        .iter()
        .map(|row| {
            (
                row["kind"].as_str().expect("kind"),
                row["amount_minor"].as_i64().expect("amount"),
            )
        })
        .collect();
    assert_eq!(
        tenders,
        BTreeMap::from([
            ("cash", 2900 + 1200 + 1200 + 3300 + 1400 - 2550),
            ("momo", 2550 + 3000 + 500),
        ]),
        "cash net of change and of the refund paid out; momo as paid"
    );

    // A cashier does not read reports.
    let refused = server
        .get(
            "/api/v1/reports/sales?period=day&from=2026-01-01&to=2026-01-31",
            &trading.ama.sign_in(&server).await,
        )
        .await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    server.stop().await;
}

async fn a_branch_filter_and_a_managers_scope_restrict_the_report(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let trading = trade(&server).await;
    let shop = &trading.shop;
    let token = &shop.owner.sign_in(&server).await;

    for (branch, name) in [(&shop.osu, "Osu"), (&shop.tema, "Tema")] {
        let query = format!("period=month&from=2026-01-01&to=2026-02-28&branch={branch}");
        let body = report(&server, token, &query).await;
        assert_eq!(body["branch_id"], branch.as_str());
        let at_branch: Vec<&Recorded> = trading
            .recorded
            .iter()
            .filter(|recorded| recorded.branch() == branch.as_str())
            .collect();
        assert!(!at_branch.is_empty());
        assert_report_covers(&body, "month", &at_branch, &format!("{name} only"));
    }

    // A manager of Tema sees Tema without asking, and cannot ask for Osu.
    let manager = hire(&server, shop, "Efua", "manager", &shop.tema)
        .await
        .sign_in(&server)
        .await;
    let own = report(
        &server,
        &manager,
        "period=month&from=2026-01-01&to=2026-02-28",
    )
    .await;
    let at_tema: Vec<&Recorded> = trading
        .recorded
        .iter()
        .filter(|recorded| recorded.branch() == shop.tema.as_str())
        .collect();
    assert_report_covers(&own, "month", &at_tema, "a Tema manager's report");
    let other = server
        .get(
            &format!(
                "/api/v1/reports/sales?period=month&from=2026-01-01&to=2026-02-28&branch={}",
                shop.osu
            ),
            &manager,
        )
        .await;
    assert_eq!(
        other.status, 404,
        "another branch is not there for the manager: {:?}",
        other.body
    );
    server.stop().await;
}

/// Minor units as the CSV writes them: major units with two decimals.
fn major(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100)
}

async fn the_report_exports_as_csv(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let trading = trade(&server).await;
    let token = &trading.shop.owner.sign_in(&server).await;
    let query = "period=month&from=2026-01-01&to=2026-02-28";
    let json_report = report(&server, token, query).await;

    let (status, content_type, text) = get_text(
        &server,
        token,
        &format!("/api/v1/reports/sales?{query}&format=csv"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("text/csv"),
        "content type {content_type:?}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(
            "period_start,sales,refunds,gross,discounts,net,tax,VAT,NHIL,GETFUND,total,average_basket"
        ),
        "a header line, levies in the tenant's order"
    );
    let expected: Vec<String> = json_report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let levy = |code: &str| major(row["levies"][code].as_i64().unwrap_or(0));
            [
                row["period_start"].as_str().expect("start").to_owned(),
                amount(row, "sales_count").to_string(),
                amount(row, "refunds_count").to_string(),
                major(amount(row, "gross_minor")),
                major(amount(row, "discount_minor")),
                major(amount(row, "net_minor")),
                major(amount(row, "tax_minor")),
                levy("VAT"),
                levy("NHIL"),
                levy("GETFUND"),
                major(amount(row, "total_minor")),
                major(amount(row, "average_basket_minor")),
            ]
            .join(",")
        })
        .collect();
    assert_eq!(expected.len(), 2, "January and February");
    assert_eq!(
        lines[1..].to_vec(),
        expected,
        "one CSV line per JSON row, amounts in cedis"
    );

    let (status, content_type, text) = get_text(
        &server,
        token,
        &format!("/api/v1/reports/sales?{query}&format=csv&view=cashiers"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(content_type.starts_with("text/csv"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first().copied(), Some("cashier_id,name,sales,total"));
    let expected: Vec<String> = json_report["by_cashier"]
        .as_array()
        .expect("by_cashier")
        .iter()
        .map(|row| {
            format!(
                "{},{},{},{}",
                row["cashier_id"].as_str().expect("id"),
                row["name"].as_str().expect("name"),
                amount(row, "sales_count"),
                major(amount(row, "total_minor"))
            )
        })
        .collect();
    assert_eq!(expected.len(), 3, "Ama, Kofi and the owner");
    assert_eq!(lines[1..].to_vec(), expected);
    assert!(
        text.contains(&format!(
            "{},Ama,4,{}",
            trading.ama.id,
            major(2900 + 1200 + 1400 + 500)
        )),
        "{text}"
    );

    let (status, content_type, text) = get_text(
        &server,
        token,
        &format!("/api/v1/reports/sales?{query}&format=csv&view=tenders"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(content_type.starts_with("text/csv"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first().copied(), Some("tender,amount"));
    let expected: Vec<String> = json_report["by_tender"]
        .as_array()
        .expect("by_tender")
        .iter()
        .map(|row| {
            format!(
                "{},{}",
                row["kind"].as_str().expect("kind"),
                major(amount(row, "amount_minor"))
            )
        })
        .collect();
    assert_eq!(lines[1..].to_vec(), expected, "cash and momo, in cedis");

    let (status, _, text) = get_text(
        &server,
        token,
        &format!("/api/v1/reports/sales?{query}&format=csv&view=products"),
    )
    .await;
    assert_eq!(status, 422, "an unknown CSV view: {text}");
    server.stop().await;
}

async fn bad_report_parameters_are_refused(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Strict Reports").await;
    let token = owner.access_token.as_str();
    for (query, field, why) in [
        ("period=year", "period", "years are not a period"),
        (
            "period=day&from=2026-02-30",
            "from",
            "30 February does not exist",
        ),
        (
            "period=day&from=2026-2-01",
            "from",
            "a month needs two digits",
        ),
        ("period=day&to=yesterday", "to", "dates only"),
        (
            "period=day&from=2026-01-10&to=2026-01-09",
            "to",
            "to before from",
        ),
        (
            "period=day&from=2020-01-01&to=2026-01-01",
            "to",
            "more than three years at once",
        ),
        ("format=xml", "format", "json or csv only"),
    ] {
        let answer = server
            .get(&format!("/api/v1/reports/sales?{query}"), token)
            .await;
        assert_eq!(
            (
                answer.status,
                answer.error_code(),
                answer.body["error"]["field"].as_str()
            ),
            (422, "validation_failed", Some(field)),
            "{why}: {query} answered {:?}",
            answer.body
        );
    }
    let same_day = report(&server, token, "period=day&from=2026-01-01&to=2026-01-01").await;
    assert_eq!(
        same_day["rows"],
        json!([]),
        "a one-day range is fine, and empty without sales"
    );
    assert_eq!(same_day["totals"]["average_basket_minor"], 0);
    server.stop().await;
}

/// A customer pays 12.00 with two 10-cedi notes handed over as two cash tenders: 8.00 change.
/// The drawer keeps 12.00; the change must come off the cash once, not once per cash tender.
async fn split_cash_tenders_take_the_change_out_once(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = open_shop(&server).await;
    set_clock(&server, jan(6, 9, 0));
    let sale = sell(
        &server,
        &shop.owner,
        &shop.osu,
        vec![line(&shop.rice, 1)],
        vec![cash(1000), cash(1000)],
        json!({}),
    )
    .await;
    assert_eq!(
        (
            sale["total_minor"].as_i64(),
            sale["tendered_minor"].as_i64(),
            sale["change_minor"].as_i64()
        ),
        (Some(1200), Some(2000), Some(800))
    );
    let token = shop.owner.sign_in(&server).await;
    let body = report(&server, &token, "period=day&from=2026-01-06&to=2026-01-06").await;
    assert_eq!(
        body["by_tender"],
        json!([{ "kind": "cash", "amount_minor": 1200 }]),
        "cash kept is the total (12.00), whatever number of cash tenders paid it"
    );
    server.stop().await;
}

/// In Lagos (UTC+1) a sale at 23:30 UTC on 1 January is on 2 January.
async fn local_days_follow_the_tenants_time_zone(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = open_shop(&server).await;
    let token = &shop.owner.sign_in(&server).await;
    let mut settings = server.get("/api/v1/settings", token).await.body;
    settings["time_zone"] = json!("Africa/Lagos");
    let settings = json!({ "currency": settings["currency"], "tax": settings["tax"], "time_zone": settings["time_zone"] });
    let updated = server
        .call(
            reqwest::Method::PUT,
            "/api/v1/settings",
            Some(token),
            Some(settings),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);

    set_clock(&server, jan(1, 23, 30));
    let late = sell(
        &server,
        &shop.owner,
        &shop.osu,
        vec![line(&shop.rice, 1)],
        vec![cash(1200)],
        json!({}),
    )
    .await;
    let token = shop.owner.sign_in(&server).await;
    let body = report(&server, &token, "period=day&from=2026-01-01&to=2026-01-02").await;
    assert_eq!(body["time_zone"], "Africa/Lagos");
    let starts: Vec<&str> = body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["period_start"].as_str().expect("start"))
        .collect();
    assert_eq!(
        starts,
        vec!["2026-01-02"],
        "23:30 UTC is 00:30 the next day in Lagos"
    );
    assert_eq!(body["totals"]["total_minor"], late["total_minor"]);
    server.stop().await;
}
