//! Categories, costs, packs and the item report. A line is costed at the unit cost in effect
//! when it was sold, whenever it reaches the service; for random sales by the piece and by the
//! crate, at retail and at wholesale, with discounts, refunds, voids and exempt items, the report
//! by product and by category adds up to the receipts exactly.

use std::collections::BTreeMap;
use std::time::Duration;

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::{Value, json};
use uuid::Uuid;

backend_tests!(
    categories_are_made_renamed_and_archived,
    packs_sell_by_the_carton_and_move_their_pieces,
    the_item_report_adds_up_to_the_receipts_at_the_costs_of_the_moment,
    bad_item_report_queries_are_refused
);

const MINUTE: i64 = 60 * 1000;

async fn categories_are_made_renamed_and_archived(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Category Traders").await;
    let token = owner.access_token.as_str();
    let drinks = server
        .post("/api/v1/categories", token, json!({ "name": "Drinks" }))
        .await;
    assert_eq!(drinks.status, 201, "{}", drinks.body);
    let drinks_id = drinks.id();
    for (body, status, field) in [
        (json!({ "name": "  drinks " }), 409, "name"),
        (json!({ "name": "" }), 422, "name"),
        (json!({ "name": "x".repeat(81) }), 422, "name"),
    ] {
        let refused = server.post("/api/v1/categories", token, body.clone()).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.body);
        assert_eq!(refused.body["error"]["field"], field, "{}", refused.body);
    }
    let provisions = server
        .post("/api/v1/categories", token, json!({ "name": "Provisions" }))
        .await
        .id();

    // A product goes in a category and has a cost; an unknown category is refused.
    let malt = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "MALT", "name": "Malta Guinness", "price_minor": 800,
                "category_id": drinks_id, "cost_minor": 550 }),
        )
        .await;
    assert_eq!(malt.status, 201, "{}", malt.body);
    assert_eq!(malt.body["category_id"], drinks_id.as_str());
    assert_eq!(malt.body["cost_minor"], 550);
    let malt = malt.id();
    for body in [
        json!({ "sku": "X1", "name": "X", "price_minor": 1, "category_id": Uuid::now_v7() }),
        json!({ "sku": "X2", "name": "X", "price_minor": 1, "cost_minor": -1 }),
    ] {
        let refused = server.post("/api/v1/products", token, body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.body);
    }
    let moved = server
        .patch(
            &format!("/api/v1/products/{malt}"),
            token,
            json!({ "category_id": provisions, "cost_minor": 600 }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["category_id"], provisions.as_str());
    assert_eq!(moved.body["cost_minor"], 600);

    // Renamed, then archived: out of the list, and no product can be put in it.
    let renamed = server
        .patch(
            &format!("/api/v1/categories/{drinks_id}"),
            token,
            json!({ "name": "Soft drinks" }),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["name"], "Soft drinks");
    let clash = server
        .patch(
            &format!("/api/v1/categories/{drinks_id}"),
            token,
            json!({ "name": "PROVISIONS" }),
        )
        .await;
    assert_eq!(clash.status, 409, "{}", clash.body);
    let archived = server
        .patch(
            &format!("/api/v1/categories/{drinks_id}"),
            token,
            json!({ "archived": true }),
        )
        .await;
    assert_eq!(archived.status, 200, "{}", archived.body);
    assert!(archived.body["archived_at"].is_i64(), "{}", archived.body);
    let listed = server.get("/api/v1/categories", token).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let names: Vec<&str> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|category| category["name"].as_str())
        .collect();
    assert_eq!(names, ["Provisions"]);
    let all = server
        .get("/api/v1/categories?include_archived=true", token)
        .await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(2));
    let into_archived = server
        .patch(
            &format!("/api/v1/products/{malt}"),
            token,
            json!({ "category_id": drinks_id }),
        )
        .await;
    assert_eq!(into_archived.status, 422, "{}", into_archived.body);
    assert_eq!(into_archived.body["error"]["field"], "category_id");
    let nothing = server
        .patch(&format!("/api/v1/categories/{drinks_id}"), token, json!({}))
        .await;
    assert_eq!(nothing.status, 422, "{}", nothing.body);
    let unknown = server
        .patch(
            &format!("/api/v1/categories/{}", Uuid::now_v7()),
            token,
            json!({ "name": "Ghost" }),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let out = server
        .patch(
            &format!("/api/v1/products/{malt}"),
            token,
            json!({ "category_id": null }),
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(out.body["category_id"], Value::Null);

    // A cashier sees the catalogue but not what goods cost the shop, and makes no categories.
    let branch = server.create_branch(token, "Osu").await;
    let cashier = super::cashier_of(&server, token, &branch).await;
    let seen = server
        .get(&format!("/api/v1/products/{malt}"), &cashier)
        .await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["cost_minor"], Value::Null, "{}", seen.body);
    let listed = server.get("/api/v1/products", &cashier).await;
    assert!(
        listed.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|product| product["cost_minor"].is_null()),
        "{}",
        listed.body
    );
    let made = server
        .post("/api/v1/categories", &cashier, json!({ "name": "Mine" }))
        .await;
    assert_eq!(made.status, 403, "{}", made.body);
    let report = server.get("/api/v1/reports/items", &cashier).await;
    assert_eq!(report.status, 403, "{}", report.body);
    server.stop().await;
}

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

/// What the report should say of one product or category, summed from receipts.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Sums {
    quantity_milli: i64,
    net: i64,
    cost: i64,
}

impl Sums {
    fn of(row: &Value) -> Self {
        let quantity: f64 = row["quantity"]
            .as_str()
            .and_then(|text| text.parse().ok())
            .unwrap_or(f64::NAN);
        let sums = Self {
            quantity_milli: (quantity * 1000.0).round() as i64,
            net: row["net_minor"].as_i64().unwrap_or(i64::MIN),
            cost: row["cost_minor"].as_i64().unwrap_or(i64::MIN),
        };
        assert_eq!(
            row["gross_profit_minor"].as_i64(),
            Some(sums.net - sums.cost),
            "{row}"
        );
        sums
    }
}

/// A product of the test: its id, its category, and its costs as (from, unit cost).
type Costed = (String, Option<String>, Vec<(i64, i64)>);

/// The base units a sold or returned line moved, in thousandths: a crate of 12 is 12.
fn base_milli(line: &Value) -> i64 {
    let quantity: f64 = line["quantity"].as_str().expect("q").parse().expect("q");
    let units = line["pack"]["units"].as_i64().unwrap_or(1);
    (quantity * 1000.0).round() as i64 * units
}

/// Half away from zero, as the shop's money is rounded.
fn line_cost(unit: i64, quantity_milli: i64) -> i64 {
    let product = i128::from(unit) * i128::from(quantity_milli);
    let rounded = (product.abs() + 500) / 1000;
    i64::try_from(if product < 0 { -rounded } else { rounded }).expect("fits")
}

async fn the_item_report_adds_up_to_the_receipts_at_the_costs_of_the_moment(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Profit Traders").await;
    let mut token = owner.access_token.clone();
    let mut refresh = owner.refresh_token.clone();
    let branch = server.create_branch(&token, "Osu").await;
    let drinks = server
        .post("/api/v1/categories", &token, json!({ "name": "Drinks" }))
        .await
        .id();
    // (id, category, cost history as (from, unit cost))
    let mut products: Vec<Costed> = Vec::new();
    for (sku, price, class, category, cost) in [
        ("MALT", 800, "standard", Some(&drinks), Some(550)),
        ("WATER", 300, "exempt", Some(&drinks), None),
        ("RICE", 2850, "standard", None, Some(2310)),
        ("SHEA", 4399, "zero_rated", None, Some(1999)),
    ] {
        let mut body = json!({ "sku": sku, "name": sku, "price_minor": price, "tax_class": class });
        // Malt also sells by the crate, and both have wholesale prices; so does rice.
        if sku == "MALT" {
            body["wholesale_price_minor"] = json!(700);
            body["packs"] = json!([{ "name": "crate", "units": 12, "price_minor": 9000,
                "wholesale_price_minor": 8000 }]);
        }
        if sku == "RICE" {
            body["wholesale_price_minor"] = json!(2600);
        }
        if let Some(category) = category {
            body["category_id"] = json!(category);
        }
        if let Some(cost) = cost {
            body["cost_minor"] = json!(cost);
        }
        let answer = server.post("/api/v1/products", &token, body).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let created_at = answer.body["created_at"].as_i64().expect("created_at");
        let history = cost
            .map(|cost| vec![(created_at, cost)])
            .unwrap_or_default();
        products.push((answer.id(), category.cloned(), history));
    }

    let trader = server
        .post(
            "/api/v1/customers",
            &token,
            json!({ "name": "Auntie Akos", "price_list": "wholesale" }),
        )
        .await
        .id();
    // What a line should cost the buyer, by SKU position, list and pack.
    let list_price = |index: usize, wholesale: bool, crate_of_malt: bool| -> i64 {
        match (index, wholesale, crate_of_malt) {
            (0, false, true) => 9000,
            (0, true, true) => 8000,
            (0, false, false) => 800,
            (0, true, false) => 700,
            (1, _, _) => 300,
            (2, false, _) => 2850,
            (2, true, _) => 2600,
            _ => 4399,
        }
    };
    let mut crates_sold = 0;
    let mut wholesale_sales = 0;
    let seed = std::env::var("NEXUS_ITEMS_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x1be5_c057_u64);
    let mut random = Random(seed);
    let mut receipts: Vec<Value> = Vec::new();
    let mut first_at = i64::MAX;
    // Lines that took a cost older than the product's cost when the sale arrived.
    let mut costed_in_the_past = 0;
    for step in 0..36 {
        // Time passes; a token lasts 15 minutes, so it is refreshed as a dashboard would.
        server.clock.advance(Duration::from_millis(
            u64::try_from(5 * MINUTE).expect("ms"),
        ));
        let pair = server.refresh(&refresh).await;
        assert_eq!(pair.status, 200, "{}", pair.body);
        token = pair.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        refresh = pair.body["refresh_token"]
            .as_str()
            .expect("token")
            .to_owned();
        // Now and then a cost changes, from now on.
        if random.below(3) == 0 {
            let index = usize::try_from(random.below(products.len() as u64)).expect("index");
            let cost = 100 + random.below(3000);
            let changed = server
                .patch(
                    &format!("/api/v1/products/{}", products[index].0),
                    &token,
                    json!({ "cost_minor": cost }),
                )
                .await;
            assert_eq!(changed.status, 200, "{}", changed.body);
            let from = changed.body["updated_at"].as_i64().expect("updated_at");
            products[index].2.push((from, cost));
        }
        // A sale rung up a little while ago, as one that waited offline: it may predate the
        // change just made, and must take the cost of its own moment.
        let now = nexus_testkit::ManualClock::START.as_millis() + (step + 1) * 5 * MINUTE;
        let at = now - random.below(u64::try_from(8 * MINUTE).expect("ms"));
        first_at = first_at.min(at);
        let mut lines = Vec::new();
        for (index, (product, _, _)) in products.iter().enumerate() {
            if random.below(2) == 0 {
                continue;
            }
            let quantity = format!("{}.{}", random.below(4) + 1, random.below(10));
            let mut line = json!({ "product_id": product, "quantity": quantity });
            if index == 0 && random.below(3) == 0 {
                line["quantity"] = json!(random.below(2) + 1);
                line["pack"] = json!({ "name": "crate", "units": 12 });
            }
            if random.below(3) == 0 {
                line["discount_minor"] = json!(random.below(200));
            }
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push(json!({ "product_id": products[0].0, "quantity": 2 }));
        }
        let mut body = json!({ "id": Uuid::now_v7(), "branch_id": branch, "occurred_at": at,
            "lines": lines, "tenders": [{ "kind": "cash", "amount_minor": 10_000_000 }] });
        if random.below(4) == 0 {
            body["discount_minor"] = json!(random.below(300));
        }
        let wholesale = random.below(4) == 0;
        if wholesale {
            body["price_list"] = json!("wholesale");
            body["customer_id"] = json!(trader);
            wholesale_sales += 1;
        }
        let sale = server.post("/api/v1/sales", &token, body.clone()).await;
        assert_eq!(sale.status, 201, "{body}: {}", sale.body);
        // Each line's cost is the unit cost of the sale's moment times its quantity.
        for line in sale.body["lines"].as_array().expect("lines") {
            let product = products
                .iter()
                .find(|(id, _, _)| line["product_id"] == id.as_str())
                .expect("product");
            let unit = product
                .2
                .iter()
                .rev()
                .find(|(from, _)| *from <= at)
                .map(|(_, cost)| *cost);
            assert_eq!(line["unit_cost_minor"].as_i64(), unit, "{line} at {at}");
            let index = products
                .iter()
                .position(|(id, _, _)| line["product_id"] == id.as_str())
                .expect("index");
            let by_crate = !line["pack"].is_null();
            crates_sold += i32::from(by_crate);
            assert_eq!(
                line["unit_price_minor"].as_i64(),
                Some(list_price(index, wholesale, by_crate)),
                "{line} (wholesale: {wholesale})"
            );
            if unit.is_some() && unit != product.2.last().map(|(_, cost)| *cost) {
                costed_in_the_past += 1;
            }
            let milli = base_milli(line);
            assert_eq!(
                line["cost_minor"].as_i64(),
                unit.map(|unit| line_cost(unit, milli)),
                "{line}"
            );
        }
        let id = sale.body["id"].as_str().expect("id").to_owned();
        receipts.push(sale.body);
        let returned = match random.below(5) {
            0 => Some(
                server
                    .post(
                        &format!("/api/v1/sales/{id}/refunds"),
                        &token,
                        json!({ "id": Uuid::now_v7(), "lines": [{ "line_no": 1, "quantity": "1" }] }),
                    )
                    .await,
            ),
            1 => Some(
                server
                    .post(
                        &format!("/api/v1/sales/{id}/void"),
                        &token,
                        json!({ "id": Uuid::now_v7(), "reason": "rang up twice" }),
                    )
                    .await,
            ),
            _ => None,
        };
        if let Some(returned) = returned {
            assert_eq!(returned.status, 201, "{}", returned.body);
            receipts.push(returned.body);
        }
    }

    // The receipts summed by product and by category.
    let mut by_product: BTreeMap<String, Sums> = BTreeMap::new();
    let mut by_category: BTreeMap<String, Sums> = BTreeMap::new();
    let mut total = Sums::default();
    let mut voided_cost = 0;
    let mut uncosted_milli = 0;
    for receipt in &receipts {
        for line in receipt["lines"].as_array().expect("lines") {
            let product = line["product_id"].as_str().expect("product").to_owned();
            let category = products
                .iter()
                .find(|(id, _, _)| *id == product)
                .and_then(|(_, category, _)| category.clone())
                .unwrap_or_default();
            let add = Sums {
                quantity_milli: base_milli(line),
                net: line["net_minor"].as_i64().expect("net"),
                cost: line["cost_minor"].as_i64().unwrap_or(0),
            };
            if receipt["kind"] == "void" {
                voided_cost += add.cost;
            }
            if line["cost_minor"].is_null() {
                uncosted_milli += add.quantity_milli;
            }
            for sums in [
                by_product.entry(product.clone()).or_default(),
                by_category.entry(category).or_default(),
                &mut total,
            ] {
                sums.quantity_milli += add.quantity_milli;
                sums.net += add.net;
                sums.cost += add.cost;
            }
        }
    }
    assert!(voided_cost < 0, "seed {seed} voids something with a cost");
    assert!(crates_sold > 0, "seed {seed} sells crates");
    assert!(wholesale_sales > 0, "seed {seed} sells at wholesale");
    assert!(
        costed_in_the_past > 0,
        "seed {seed} has a sale that arrives after a cost change it predates"
    );
    assert!(
        uncosted_milli > 0,
        "seed {seed} sells something with no cost yet"
    );
    let from = nexus_server::calendar::format_day(nexus_server::calendar::local_day(first_at, 0));
    for (group, expected) in [("product", &by_product), ("category", &by_category)] {
        let answer = server
            .get(
                &format!("/api/v1/reports/items?group={group}&from={from}"),
                &token,
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let key = if group == "product" {
            "product_id"
        } else {
            "category_id"
        };
        let found: BTreeMap<String, Sums> = answer.body["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                (
                    row[key].as_str().unwrap_or_default().to_owned(),
                    Sums::of(row),
                )
            })
            .collect();
        assert_eq!(&found, expected, "by {group} (seed {seed})");
        assert_eq!(
            Sums::of(&answer.body["totals"]),
            total,
            "in total (seed {seed})"
        );
        // Water had no cost at first: what sold of it then is counted as sold without one.
        let uncosted: f64 = answer.body["totals"]["uncosted_quantity"]
            .as_str()
            .and_then(|text| text.parse().ok())
            .expect("uncosted");
        assert_eq!(
            (uncosted * 1000.0).round() as i64,
            uncosted_milli,
            "{}",
            answer.body["totals"]
        );
    }
    // A later cost change rewrites nothing already sold.
    let before = server
        .get(&format!("/api/v1/reports/items?from={from}"), &token)
        .await
        .body["totals"]
        .clone();
    let changed = server
        .patch(
            &format!("/api/v1/products/{}", products[0].0),
            &token,
            json!({ "cost_minor": 9999 }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let after = server
        .get(&format!("/api/v1/reports/items?from={from}"), &token)
        .await
        .body["totals"]
        .clone();
    assert_eq!(before, after);

    // The CSV: a row per product and the total, in cedis.
    let csv = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/reports/items?group=category&from={from}&format=csv",
            server.base_url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.expect("text");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 2 + by_category.len(), "{text}");
    assert!(
        rows[0].starts_with("category,quantity,net,cost,gross_profit"),
        "{text}"
    );
    assert!(rows.iter().any(|row| row.starts_with("Drinks,")), "{text}");
    assert!(
        rows.iter().any(|row| row.starts_with("Uncategorised,")),
        "{text}"
    );
    let cedis = |minor: i64| {
        format!(
            "{}{}.{:02}",
            if minor < 0 { "-" } else { "" },
            minor.abs() / 100,
            minor.abs() % 100
        )
    };
    let last = rows.last().expect("total row");
    assert!(
        last.contains(&format!(",{},{},", cedis(total.net), cedis(total.cost))),
        "{last}"
    );

    // The rollups rebuilt from the receipts give the same report.
    server
        .store
        .rebuild_report_rollups(owner.tenant_id.parse().expect("tenant"))
        .await
        .expect("rebuild");
    let rebuilt = server
        .get(&format!("/api/v1/reports/items?from={from}"), &token)
        .await
        .body["totals"]
        .clone();
    assert_eq!(rebuilt, after);
    server.stop().await;
}

async fn bad_item_report_queries_are_refused(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Item Refusals").await;
    let token = owner.access_token.as_str();
    for (query, field) in [
        ("group=supplier", "group"),
        ("from=2026-02-30", "from"),
        ("from=2026-02-01&to=2026-01-01", "to"),
        ("format=xml", "format"),
        ("branch=nope", ""),
        ("colour=red", ""),
    ] {
        let answer = server
            .get(&format!("/api/v1/reports/items?{query}"), token)
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
    let empty = server.get("/api/v1/reports/items", token).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.body["rows"], json!([]));
    assert_eq!(empty.body["totals"]["net_minor"], 0);
    assert_eq!(empty.body["totals"]["margin_basis_points"], Value::Null);
    server.stop().await;
}

async fn packs_sell_by_the_carton_and_move_their_pieces(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Pack Traders").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Osu").await;
    let malt = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "MALT", "name": "Malta Guinness", "price_minor": 800, "barcode": "111",
                "cost_minor": 550,
                "packs": [{ "name": "carton", "units": 24, "barcode": "222", "price_minor": 18_000 }] }),
        )
        .await;
    assert_eq!(malt.status, 201, "{}", malt.body);
    assert_eq!(
        malt.body["packs"],
        json!([{ "name": "carton", "units": 24, "barcode": "222", "price_minor": 18_000 }])
    );
    let malt = malt.id();
    // A scan must name one thing: a pack's barcode is no product's, and no product's is a pack's.
    for (body, status, field) in [
        (
            json!({ "sku": "X1", "name": "X", "price_minor": 1, "packs": [{ "name": "box", "units": 2, "barcode": "111", "price_minor": 2 }] }),
            409,
            "packs",
        ),
        (
            json!({ "sku": "X2", "name": "X", "price_minor": 1, "packs": [{ "name": "box", "units": 2, "barcode": "222", "price_minor": 2 }] }),
            409,
            "packs",
        ),
        (
            json!({ "sku": "X3", "name": "X", "price_minor": 1, "barcode": "222" }),
            409,
            "barcode",
        ),
        (
            json!({ "sku": "X4", "name": "X", "price_minor": 1, "packs": [{ "name": "box", "units": 1, "price_minor": 2 }] }),
            422,
            "packs",
        ),
        (
            json!({ "sku": "X5", "name": "X", "price_minor": 1, "packs": [{ "name": "box", "units": 2, "price_minor": 2 }, { "name": "BOX", "units": 3, "price_minor": 2 }] }),
            422,
            "packs",
        ),
    ] {
        let refused = server.post("/api/v1/products", token, body.clone()).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.body);
        assert_eq!(refused.body["error"]["field"], field, "{}", refused.body);
    }
    let received = server
        .post(
            &format!("/api/v1/branches/{branch}/stock/movements"),
            token,
            json!({ "product_id": malt, "kind": "receipt", "quantity": "100" }),
        )
        .await;
    assert_eq!(received.status, 201, "{}", received.body);

    // Two cartons and three bottles: the cartons at the carton's price, 51 bottles out.
    let sale = server
        .post(
            "/api/v1/sales",
            token,
            json!({ "id": Uuid::now_v7(), "branch_id": branch,
                "lines": [
                    { "product_id": malt, "quantity": 2, "pack": { "name": "carton", "units": 24 } },
                    { "product_id": malt, "quantity": 3 }
                ],
                "tenders": [{ "kind": "cash", "amount_minor": 38_400 }] }),
        )
        .await;
    assert_eq!(sale.status, 201, "{}", sale.body);
    assert_eq!(sale.body["total_minor"], 2 * 18_000 + 3 * 800);
    assert_eq!(
        sale.body["lines"][0]["pack"],
        json!({ "name": "carton", "units": 24 })
    );
    assert_eq!(sale.body["lines"][0]["cost_minor"], 2 * 24 * 550);
    assert_eq!(sale.body["lines"][1]["pack"], Value::Null);
    assert_eq!(
        super::on_hand_at(&server, token, &branch, &malt).await,
        "49"
    );
    for (line, says) in [
        (
            json!({ "product_id": malt, "quantity": 1, "pack": { "name": "carton", "units": 12 } }),
            "holds 24",
        ),
        (
            json!({ "product_id": malt, "quantity": 1, "pack": { "name": "crate", "units": 24 } }),
            "no pack called",
        ),
        (
            json!({ "product_id": malt, "quantity": "1.5", "pack": { "name": "carton", "units": 24 } }),
            "sold whole",
        ),
    ] {
        let refused = server
            .post(
                "/api/v1/sales",
                token,
                json!({ "id": Uuid::now_v7(), "branch_id": branch, "lines": [line],
                    "tenders": [{ "kind": "cash", "amount_minor": 100_000 }] }),
            )
            .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(
            refused.body["error"]["message"]
                .as_str()
                .is_some_and(|message| message.contains(says)),
            "{says}: {}",
            refused.body
        );
    }
    assert_eq!(
        super::on_hand_at(&server, token, &branch, &malt).await,
        "49",
        "refusals move nothing"
    );

    // One carton back: 24 bottles back, its cost taken off.
    let id = sale.id();
    let refund = server
        .post(
            &format!("/api/v1/sales/{id}/refunds"),
            token,
            json!({ "id": Uuid::now_v7(), "lines": [{ "line_no": 1, "quantity": "1" }] }),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    assert_eq!(refund.body["total_minor"], -18_000);
    assert_eq!(
        refund.body["lines"][0]["pack"],
        json!({ "name": "carton", "units": 24 })
    );
    assert_eq!(refund.body["lines"][0]["cost_minor"], -24 * 550);
    assert_eq!(
        super::on_hand_at(&server, token, &branch, &malt).await,
        "73"
    );
    let report = server.get("/api/v1/reports/items", token).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.body["rows"][0]["quantity"], "27", "{}", report.body);
    assert_eq!(report.body["rows"][0]["cost_minor"], 27 * 550);

    // A carton changed since a till sold it offline: the sale is kept as the till sold it.
    let changed = server
        .patch(
            &format!("/api/v1/products/{malt}"),
            token,
            json!({ "packs": [] }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["packs"], json!([]));
    server.stop().await;
}
