//! The stock ledger: on-hand is the latest count (by occurred_at, then id) plus every other
//! movement ordered after it, whatever order the movements arrive in. Checked against a slow
//! reference over random out-of-order movements, and through the API: receipts, adjustments,
//! counts, transfers, alerts, and the movements that sales and refunds write.

use std::time::Duration;

use nexus_domain::{BranchId, MovementId, ProductId, Quantity, TenantId, UnixMillis};
use nexus_store::{MovementKind, NewMovement};
use nexus_testkit::{Answer, Backend, Owner, TestServer, backend_tests};
use serde_json::{Value, json};
use uuid::Uuid;

backend_tests!(
    on_hand_matches_a_reference_over_random_out_of_order_movements,
    receipts_adjustments_and_counts_through_the_api,
    a_transfer_moves_both_sides_or_nothing,
    low_stock_and_reconciliation_alerts,
    low_stock_follows_reorder_levels_and_new_branches,
    a_sale_takes_stock_out_and_its_refund_puts_it_back,
    goods_refunded_after_a_count_are_back_on_hand,
);

// ---------------------------------------------------------------------------------------------
// The property test
// ---------------------------------------------------------------------------------------------

/// Seeds of the random ledgers; a failure names the seed, so it can be replayed alone.
const SEEDS: [u64; 5] = [0x9E37_79B9_7F4A_7C15, 1, 42, 0xDEAD_BEEF_CAFE_F00D, 2026];
const MOVEMENTS_PER_SEED: usize = 60;
/// occurred_at falls on one of this many minutes, so 60 movements share minutes (ties).
const OCCURRED_SLOTS: u64 = 20;

/// xorshift64: small, deterministic, and enough to shuffle a ledger.
struct Xorshift(u64);

impl Xorshift {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-enough in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// In `low..=high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = u64::try_from(high - low + 1).expect("a non-empty range");
        low + i64::try_from(self.below(span)).expect("fits")
    }

    /// A quantity in thousandths: mostly whole units, sometimes a weight like 1.375.
    fn quantity_milli(&mut self, low_units: i64, high_units: i64) -> i64 {
        if self.below(4) == 0 {
            self.between(low_units * 1000, high_units * 1000)
        } else {
            self.between(low_units, high_units) * 1000
        }
    }
}

/// One ledger row, as the reference sees it (both what the test applied and what the store
/// kept are brought to this shape).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    occurred_at: i64,
    id: Uuid,
    kind: MovementKind,
    quantity_milli: i64,
}

impl Entry {
    fn of_new(movement: &NewMovement) -> Self {
        Self {
            occurred_at: movement.occurred_at.as_millis(),
            id: movement.id.as_uuid(),
            kind: movement.kind,
            quantity_milli: movement.quantity.milli(),
        }
    }

    fn of_stored(movement: &nexus_store::Movement) -> Self {
        Self {
            occurred_at: movement.occurred_at.as_millis(),
            id: movement.id.as_uuid(),
            kind: movement.kind,
            quantity_milli: movement.quantity.milli(),
        }
    }
}

/// The ledger in ledger order: (occurred_at, id as a UUID).
fn in_ledger_order(entries: &[Entry]) -> Vec<Entry> {
    let mut ordered = entries.to_vec();
    ordered.sort_by_key(|entry| (entry.occurred_at, entry.id));
    ordered
}

/// The slow reference: from scratch over every movement, the last count in ledger order plus
/// every non-count after it (or every non-count, when nothing was ever counted). Also returns
/// when the latest count happened.
fn reference_level(entries: &[Entry]) -> (i64, Option<i64>) {
    let ordered = in_ledger_order(entries);
    let latest_count = ordered
        .iter()
        .rposition(|entry| entry.kind == MovementKind::Count);
    let (counted, after, counted_at) = match latest_count {
        Some(index) => (
            ordered[index].quantity_milli,
            &ordered[index + 1..],
            Some(ordered[index].occurred_at),
        ),
        None => (0, &ordered[..], None),
    };
    let changes: i64 = after
        .iter()
        .filter(|entry| entry.kind != MovementKind::Count)
        .map(|entry| entry.quantity_milli)
        .sum();
    (counted + changes, counted_at)
}

fn random_movement(
    rng: &mut Xorshift,
    branch: BranchId,
    product: ProductId,
    window_start: i64,
) -> NewMovement {
    let (kind, quantity_milli) = match rng.below(100) {
        0..=39 => (MovementKind::Receipt, rng.quantity_milli(1, 20)),
        40..=74 => {
            let magnitude = rng.quantity_milli(1, 15);
            let signed = if rng.below(2) == 0 {
                magnitude
            } else {
                -magnitude
            };
            (MovementKind::Adjustment, signed)
        }
        _ => (MovementKind::Count, rng.quantity_milli(0, 40)),
    };
    let slot = i64::try_from(rng.below(OCCURRED_SLOTS)).expect("fits");
    let occurred_at = window_start + slot * 60_000;
    // The id's time part is unrelated to occurred_at and to the order of arrival, so ties on
    // occurred_at are broken by ids in no particular order. A wide range keeps id times
    // distinct, so the id order (and the run) replays from the seed.
    let id_time = window_start + i64::try_from(rng.below(3_000_000_000)).expect("fits");
    NewMovement {
        id: MovementId::generate(UnixMillis::from_millis(id_time)),
        branch,
        product,
        kind,
        quantity: Quantity::from_milli(quantity_milli),
        reason: (kind == MovementKind::Adjustment).then(|| "property test".to_owned()),
        source: None,
        actor: None,
        occurred_at: UnixMillis::from_millis(occurred_at),
        recorded_at: UnixMillis::from_millis(window_start + 86_400_000),
    }
}

fn describe(entries: &[Entry]) -> String {
    in_ledger_order(entries)
        .iter()
        .map(|entry| {
            format!(
                "  t+{}min {} {:?} {}",
                (entry.occurred_at % 3_600_000) / 60_000,
                entry.id,
                entry.kind,
                Quantity::from_milli(entry.quantity_milli)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn on_hand_matches_a_reference_over_random_out_of_order_movements(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Ledger Property Ltd").await;
    let token = owner.access_token.as_str();
    let branch_text = server.create_branch(token, "Kejetia").await;
    let tenant: TenantId = owner.tenant_id.parse().expect("tenant id");
    let branch: BranchId = branch_text.parse().expect("branch id");
    let window_start = nexus_testkit::ManualClock::START.as_millis() - 3_600_000;

    for seed in SEEDS {
        // A product of its own per seed, so every seed starts from an empty ledger.
        let product_text =
            create_product(&server, token, &format!("PROP-{seed:X}"), 1000, None).await;
        let product: ProductId = product_text.parse().expect("product id");
        let mut rng = Xorshift::new(seed);
        let mut applied: Vec<Entry> = Vec::new();

        for step in 1..=MOVEMENTS_PER_SEED {
            let movement = random_movement(&mut rng, branch, product, window_start);
            let entry = Entry::of_new(&movement);
            applied.push(entry.clone());
            let returned = server
                .store
                .record_movement(tenant, movement)
                .await
                .unwrap_or_else(|error| {
                    panic!("seed {seed:#x} step {step}: record_movement failed: {error}")
                });
            let (expected_milli, expected_count_at) = reference_level(&applied);
            let expected = Quantity::from_milli(expected_milli);
            let context = || {
                format!(
                    "seed {seed:#x}, step {step}, just applied {entry:?}; ledger in order:\n{}",
                    describe(&applied)
                )
            };

            assert_eq!(
                returned.on_hand,
                expected,
                "on-hand returned by record_movement differs from the reference; {}",
                context()
            );
            assert_eq!(
                returned.last_count_at.map(UnixMillis::as_millis),
                expected_count_at,
                "last_count_at should be the occurred_at of the latest count in ledger order; {}",
                context()
            );

            let levels = server
                .store
                .stock_levels(tenant, branch, None, 100_000)
                .await
                .expect("stock levels");
            let level = levels
                .iter()
                .find(|level| level.product_id == product)
                .unwrap_or_else(|| panic!("no stock level for the product; {}", context()));
            assert_eq!(
                level.on_hand,
                expected,
                "on-hand read back by stock_levels differs from the reference; {}",
                context()
            );

            let stored: Vec<Entry> = server
                .store
                .movements(tenant, branch, product)
                .await
                .expect("movements")
                .iter()
                .map(Entry::of_stored)
                .collect();
            assert_eq!(
                stored,
                in_ledger_order(&applied),
                "the stored ledger should hold every movement applied, in (occurred_at, id) order; {}",
                context()
            );
            assert_eq!(
                reference_level(&stored).0,
                expected_milli,
                "the reference over the stored ledger should agree; {}",
                context()
            );
        }
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Through the API
// ---------------------------------------------------------------------------------------------

struct Shop {
    owner: Owner,
    osu: String,
    tema: String,
    rice: String,
    oil: String,
}

impl Shop {
    fn token(&self) -> &str {
        &self.owner.access_token
    }
}

/// An owner with two branches, rice (GHS 12.00, reorder at 5) and oil (GHS 25.50, no reorder
/// level).
async fn open_shop(server: &TestServer) -> Shop {
    let owner = server.register("Stock Room Ltd").await;
    let token = owner.access_token.as_str();
    let osu = server.create_branch(token, "Osu").await;
    let tema = server.create_branch(token, "Tema").await;
    let rice = create_product(server, token, "RICE-5KG", 1200, Some("5")).await;
    let oil = create_product(server, token, "OIL-1L", 2550, None).await;
    Shop {
        owner,
        osu,
        tema,
        rice,
        oil,
    }
}

async fn create_product(
    server: &TestServer,
    token: &str,
    sku: &str,
    price_minor: i64,
    reorder_level: Option<&str>,
) -> String {
    let mut body =
        json!({ "sku": sku, "name": format!("Product {sku}"), "price_minor": price_minor });
    if let Some(level) = reorder_level {
        body["reorder_level"] = json!(level);
    }
    let answer = server.post("/api/v1/products", token, body).await;
    assert_eq!(
        answer.status, 201,
        "create product {sku}: {:?}",
        answer.body
    );
    answer.id()
}

/// Moves the clock on a second, so that movements made one after the other never tie on
/// occurred_at (a tie would be broken by the ids' random bits).
fn tick(server: &TestServer) {
    server.clock.advance(Duration::from_secs(1));
}

fn now_millis(server: &TestServer) -> i64 {
    nexus_domain::Clock::now(server.clock.as_ref()).as_millis()
}

async fn record(server: &TestServer, shop: &Shop, branch: &str, body: Value) -> Answer {
    tick(server);
    server
        .post(
            &format!("/api/v1/branches/{branch}/stock/movements"),
            shop.token(),
            body,
        )
        .await
}

/// The branch's on-hand of the product as the API reports it ("0" when it never moved).
async fn on_hand(server: &TestServer, shop: &Shop, branch: &str, product: &str) -> String {
    let stock = server
        .get(&format!("/api/v1/branches/{branch}/stock"), shop.token())
        .await;
    assert_eq!(stock.status, 200, "{:?}", stock.body);
    stock.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {:?}", stock.body))
        .iter()
        .find(|item| item["product_id"] == product)
        .map_or_else(
            || "0".to_owned(),
            |item| {
                item["on_hand"]
                    .as_str()
                    .unwrap_or_else(|| panic!("on_hand is not a decimal string: {item:?}"))
                    .to_owned()
            },
        )
}

/// How many ledger rows the branch holds for the product (read from the store).
async fn ledger_rows(server: &TestServer, shop: &Shop, branch: &str, product: &str) -> usize {
    let tenant: TenantId = shop.owner.tenant_id.parse().expect("tenant");
    server
        .store
        .movements(
            tenant,
            branch.parse().expect("branch"),
            product.parse().expect("product"),
        )
        .await
        .expect("movements")
        .len()
}

/// (branch_id, product_id, on_hand) of every alert in a list answer.
fn alert_keys(answer: &Answer) -> Vec<(String, String, String)> {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {:?}", answer.body))
        .iter()
        .map(|alert| {
            (
                alert["branch_id"].as_str().unwrap_or("").to_owned(),
                alert["product_id"].as_str().unwrap_or("").to_owned(),
                alert["on_hand"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn receipts_adjustments_and_counts_through_the_api(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = open_shop(&server).await;
    let (osu, rice) = (shop.osu.clone(), shop.rice.clone());
    assert_eq!(
        on_hand(&server, &shop, &osu, &rice).await,
        "0",
        "nothing before the first movement"
    );

    let receipt = record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "receipt", "quantity": 10 }),
    )
    .await;
    assert_eq!(receipt.status, 201, "{:?}", receipt.body);
    assert_eq!(receipt.body["kind"], "receipt");
    assert_eq!(
        receipt.body["quantity"], "10",
        "quantities answer as strings"
    );
    assert_eq!(receipt.body["on_hand"], "10");

    let weighed = record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "receipt", "quantity": "0.25" }),
    )
    .await;
    assert_eq!(
        weighed.body["on_hand"], "10.25",
        "fractions add up exactly: {:?}",
        weighed.body
    );

    for (body, field, why) in [
        (
            json!({ "product_id": rice, "kind": "receipt", "quantity": 0 }),
            "quantity",
            "a receipt of nothing",
        ),
        (
            json!({ "product_id": rice, "kind": "receipt", "quantity": -1 }),
            "quantity",
            "a negative receipt",
        ),
        (
            json!({ "product_id": rice, "kind": "adjustment", "quantity": -2 }),
            "reason",
            "an adjustment without a reason",
        ),
        (
            json!({ "product_id": rice, "kind": "adjustment", "quantity": -2, "reason": "   " }),
            "reason",
            "an adjustment with a blank reason",
        ),
        (
            json!({ "product_id": rice, "kind": "adjustment", "quantity": 0, "reason": "nothing" }),
            "quantity",
            "an adjustment of nothing",
        ),
        (
            json!({ "product_id": rice, "kind": "count", "quantity": -1 }),
            "quantity",
            "a negative count",
        ),
        (
            json!({ "product_id": rice, "kind": "theft", "quantity": 1 }),
            "kind",
            "an unknown kind",
        ),
        (
            json!({ "product_id": rice, "kind": "receipt", "quantity": 1, "occurred_at": now_millis(&server) + 3_600_000 }),
            "occurred_at",
            "a movement dated an hour ahead",
        ),
        (
            json!({ "product_id": Uuid::now_v7(), "kind": "receipt", "quantity": 1 }),
            "product_id",
            "a product that does not exist",
        ),
    ] {
        let refused = record(&server, &shop, &osu, body.clone()).await;
        assert_eq!(
            (refused.status, refused.body["error"]["field"].as_str()),
            (422, Some(field)),
            "{why} is refused: {body} answered {:?}",
            refused.body
        );
    }
    assert_eq!(
        on_hand(&server, &shop, &osu, &rice).await,
        "10.25",
        "refused movements change nothing"
    );
    assert_eq!(
        ledger_rows(&server, &shop, &osu, &rice).await,
        2,
        "and write no ledger rows"
    );

    let adjustment = record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "adjustment", "quantity": "-2.25", "reason": "bags torn by rats" }),
    )
    .await;
    assert_eq!(adjustment.status, 201, "{:?}", adjustment.body);
    assert_eq!(adjustment.body["on_hand"], "8");

    let count = record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "count", "quantity": "7.5" }),
    )
    .await;
    assert_eq!(count.status, 201, "{:?}", count.body);
    assert_eq!(
        count.body["on_hand"], "7.5",
        "a count sets on-hand to what was counted"
    );
    let counted_at = now_millis(&server);

    let before_the_count = record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "adjustment", "quantity": -3, "reason": "found late: spoiled last week", "occurred_at": counted_at - 60_000 }),
    )
    .await;
    assert_eq!(before_the_count.status, 201, "{:?}", before_the_count.body);
    assert_eq!(
        before_the_count.body["on_hand"], "7.5",
        "a movement dated before the latest count changes nothing: the count already saw it"
    );
    let after_the_count = record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "receipt", "quantity": 2 }),
    )
    .await;
    assert_eq!(after_the_count.body["on_hand"], "9.5");
    let older_count = record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "count", "quantity": 100, "occurred_at": counted_at - 120_000 }),
    )
    .await;
    assert_eq!(
        older_count.body["on_hand"], "9.5",
        "a count older than the latest count changes nothing"
    );
    let late_count = record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "count", "quantity": 4, "occurred_at": counted_at + 500 }),
    )
    .await;
    assert_eq!(
        late_count.body["on_hand"], "6",
        "a count arriving late but dated after the latest count re-sums what came after it (4 + the receipt of 2)"
    );

    let stock = server
        .get(&format!("/api/v1/branches/{osu}/stock"), shop.token())
        .await;
    let items = stock.body["items"].as_array().expect("items");
    assert_eq!(
        items.len(),
        1,
        "only products that moved at the branch: {items:?}"
    );
    assert_eq!(items[0]["product_id"], rice.as_str());
    assert_eq!(items[0]["branch_id"], osu.as_str());
    assert_eq!(items[0]["on_hand"], "6");
    assert_eq!(
        items[0]["last_count_at"],
        json!(counted_at + 500),
        "last_count_at is when the latest count happened"
    );
    assert_eq!(
        ledger_rows(&server, &shop, &osu, &rice).await,
        8,
        "every accepted movement is kept"
    );
    assert_eq!(
        on_hand(&server, &shop, &shop.tema, &rice).await,
        "0",
        "other branches are untouched"
    );
    let unknown_branch = server
        .get(
            &format!("/api/v1/branches/{}/stock", Uuid::now_v7()),
            shop.token(),
        )
        .await;
    assert_eq!(unknown_branch.status, 404, "{:?}", unknown_branch.body);
    server.stop().await;
}

async fn a_transfer_moves_both_sides_or_nothing(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = open_shop(&server).await;
    let (osu, tema, rice, oil) = (
        shop.osu.clone(),
        shop.tema.clone(),
        shop.rice.clone(),
        shop.oil.clone(),
    );
    for (product, quantity) in [(&rice, 20), (&oil, 6)] {
        let receipt = record(
            &server,
            &shop,
            &osu,
            json!({ "product_id": product, "kind": "receipt", "quantity": quantity }),
        )
        .await;
        assert_eq!(receipt.status, 201, "{:?}", receipt.body);
    }
    tick(&server);

    let transfer = server
        .post(
            "/api/v1/stock/transfers",
            shop.token(),
            json!({ "from_branch_id": osu, "to_branch_id": tema, "lines": [
                { "product_id": rice, "quantity": "7.5" },
                { "product_id": oil, "quantity": 2 },
            ] }),
        )
        .await;
    assert_eq!(transfer.status, 201, "{:?}", transfer.body);
    assert!(
        transfer.body["id"].is_string(),
        "a transfer answers its id: {:?}",
        transfer.body
    );
    assert_eq!(on_hand(&server, &shop, &osu, &rice).await, "12.5");
    assert_eq!(on_hand(&server, &shop, &tema, &rice).await, "7.5");
    assert_eq!(on_hand(&server, &shop, &osu, &oil).await, "4");
    assert_eq!(on_hand(&server, &shop, &tema, &oil).await, "2");

    let tenant: TenantId = shop.owner.tenant_id.parse().expect("tenant");
    let tema_rice = server
        .store
        .movements(
            tenant,
            tema.parse().expect("branch"),
            rice.parse().expect("product"),
        )
        .await
        .expect("movements");
    assert_eq!(
        tema_rice
            .iter()
            .map(|movement| (movement.kind, movement.quantity.to_string()))
            .collect::<Vec<_>>(),
        vec![(MovementKind::TransferIn, "7.5".to_owned())],
        "the receiving side has one transfer_in row"
    );
    let osu_rice_kinds: Vec<MovementKind> = server
        .store
        .movements(
            tenant,
            osu.parse().expect("branch"),
            rice.parse().expect("product"),
        )
        .await
        .expect("movements")
        .iter()
        .map(|movement| movement.kind)
        .collect();
    assert_eq!(
        osu_rice_kinds,
        vec![MovementKind::Receipt, MovementKind::TransferOut]
    );

    // A transfer whose second line names a product that does not exist: the first line's
    // movements must not survive on either side.
    tick(&server);
    let rows_before = (
        ledger_rows(&server, &shop, &osu, &rice).await,
        ledger_rows(&server, &shop, &tema, &rice).await,
    );
    let half_bad = server
        .post(
            "/api/v1/stock/transfers",
            shop.token(),
            json!({ "from_branch_id": osu, "to_branch_id": tema, "lines": [
                { "product_id": rice, "quantity": 1 },
                { "product_id": Uuid::now_v7(), "quantity": 1 },
            ] }),
        )
        .await;
    assert_eq!(
        (half_bad.status, half_bad.error_code()),
        (422, "validation_failed"),
        "an unknown product is refused: {:?}",
        half_bad.body
    );
    assert_eq!(
        on_hand(&server, &shop, &osu, &rice).await,
        "12.5",
        "nothing left the sending branch"
    );
    assert_eq!(
        on_hand(&server, &shop, &tema, &rice).await,
        "7.5",
        "nothing reached the receiving branch"
    );
    assert_eq!(
        (
            ledger_rows(&server, &shop, &osu, &rice).await,
            ledger_rows(&server, &shop, &tema, &rice).await,
        ),
        rows_before,
        "no ledger rows were written on either side"
    );

    for (body, why) in [
        (
            json!({ "from_branch_id": osu, "to_branch_id": osu, "lines": [{ "product_id": rice, "quantity": 1 }] }),
            "a transfer to the same branch",
        ),
        (
            json!({ "from_branch_id": osu, "to_branch_id": tema, "lines": [] }),
            "a transfer of nothing",
        ),
        (
            json!({ "from_branch_id": osu, "to_branch_id": tema, "lines": [{ "product_id": rice, "quantity": 0 }] }),
            "a zero quantity",
        ),
        (
            json!({ "from_branch_id": osu, "to_branch_id": tema, "lines": [{ "product_id": rice, "quantity": 1 }, { "product_id": oil, "quantity": -1 }] }),
            "a negative quantity",
        ),
        (
            json!({ "from_branch_id": osu, "to_branch_id": Uuid::now_v7(), "lines": [{ "product_id": rice, "quantity": 1 }] }),
            "a branch that does not exist",
        ),
    ] {
        let refused = server
            .post("/api/v1/stock/transfers", shop.token(), body.clone())
            .await;
        assert_eq!(
            refused.status, 422,
            "{why} is refused: {body} answered {:?}",
            refused.body
        );
    }
    assert_eq!(on_hand(&server, &shop, &osu, &rice).await, "12.5");
    assert_eq!(on_hand(&server, &shop, &tema, &rice).await, "7.5");
    assert_eq!(on_hand(&server, &shop, &osu, &oil).await, "4");
    assert_eq!(on_hand(&server, &shop, &tema, &oil).await, "2");

    // Out of stock is not a reason to refuse: the ledger records what physically moved, and
    // the negative shows up for reconciliation.
    tick(&server);
    let more_than_there_is = server
        .post(
            "/api/v1/stock/transfers",
            shop.token(),
            json!({ "from_branch_id": tema, "to_branch_id": osu, "lines": [{ "product_id": oil, "quantity": 3 }] }),
        )
        .await;
    assert_eq!(
        more_than_there_is.status, 201,
        "{:?}",
        more_than_there_is.body
    );
    assert_eq!(on_hand(&server, &shop, &tema, &oil).await, "-1");
    assert_eq!(on_hand(&server, &shop, &osu, &oil).await, "7");
    server.stop().await;
}

async fn low_stock_and_reconciliation_alerts(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = open_shop(&server).await;
    let (osu, tema, rice, oil) = (
        shop.osu.clone(),
        shop.tema.clone(),
        shop.rice.clone(),
        shop.oil.clone(),
    );
    let low_stock = || server.get("/api/v1/alerts/low-stock", shop.token());
    let reconciliation = || server.get("/api/v1/alerts/reconciliation", shop.token());
    // A product with a reorder level that a branch has never stocked is at 0 there: low.
    let never_stocked = alert_keys(&low_stock().await);
    assert!(
        never_stocked
            .iter()
            .all(|(_, product, on_hand)| *product == rice && on_hand == "0"),
        "only rice has a reorder level: {never_stocked:?}"
    );
    assert_eq!(
        never_stocked.len(),
        2,
        "at both branches: {never_stocked:?}"
    );

    // Rice reorders at 5: 6 on hand is fine, 5 is "at or below".
    record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "receipt", "quantity": 6 }),
    )
    .await;
    // (Tema has never stocked rice, so it stays low there; these checks are about Osu.)
    let at_osu = |keys: Vec<(String, String, String)>| {
        keys.into_iter()
            .filter(|(branch, _, _)| *branch == osu)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        at_osu(alert_keys(&low_stock().await)),
        vec![],
        "6 on hand is above the reorder level of 5"
    );
    record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "adjustment", "quantity": -1, "reason": "sample opened" }),
    )
    .await;
    assert_eq!(
        at_osu(alert_keys(&low_stock().await)),
        vec![(osu.clone(), rice.clone(), "5".to_owned())],
        "on-hand at the reorder level is low stock"
    );
    let alert = low_stock().await;
    assert_eq!(alert.body["items"][0]["sku"], "RICE-5KG");
    assert_eq!(
        alert.body["items"][0]["reorder_level"], "5",
        "the alert shows the reorder level"
    );

    // Oil has no reorder level: a positive on-hand never alerts, a negative one always does.
    record(
        &server,
        &shop,
        &tema,
        json!({ "product_id": oil, "kind": "receipt", "quantity": 1 }),
    )
    .await;
    assert!(
        !alert_keys(&low_stock().await)
            .iter()
            .any(|(_, product, _)| product == &oil),
        "no reorder level, nothing low"
    );
    record(
        &server,
        &shop,
        &tema,
        json!({ "product_id": oil, "kind": "adjustment", "quantity": -3, "reason": "miscounted delivery" }),
    )
    .await;
    let negative = (tema.clone(), oil.clone(), "-2".to_owned());
    assert_eq!(
        alert_keys(&reconciliation().await),
        vec![negative.clone()],
        "a negative on-hand needs reconciling; rice at 5 does not"
    );
    let low = alert_keys(&low_stock().await);
    assert!(
        low.contains(&negative) && low.contains(&(osu.clone(), rice.clone(), "5".to_owned())),
        "low stock includes negatives too: {low:?}"
    );

    // A count reconciles the negative.
    record(
        &server,
        &shop,
        &tema,
        json!({ "product_id": oil, "kind": "count", "quantity": 0 }),
    )
    .await;
    assert_eq!(
        alert_keys(&reconciliation().await),
        vec![],
        "counted: reconciled"
    );
    // Restocking above the reorder level clears the low-stock alert.
    record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "receipt", "quantity": 10 }),
    )
    .await;
    assert_eq!(at_osu(alert_keys(&low_stock().await)), vec![]);

    // Alerts are of the branches one can see: a manager of Tema sees Tema's only.
    record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": oil, "kind": "adjustment", "quantity": -1, "reason": "leaking bottle" }),
    )
    .await;
    record(
        &server,
        &shop,
        &tema,
        json!({ "product_id": oil, "kind": "adjustment", "quantity": -2, "reason": "leaking bottles" }),
    )
    .await;
    let manager = server
        .post(
            "/api/v1/staff",
            shop.token(),
            json!({ "email": "efua@stockroom.gh", "name": "Efua", "role": "manager", "branch_ids": [tema], "password": "manager password" }),
        )
        .await;
    assert_eq!(manager.status, 201, "{:?}", manager.body);
    let manager_token = server
        .login("efua@stockroom.gh", "manager password")
        .await
        .body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let owner_sees = alert_keys(&reconciliation().await);
    assert_eq!(
        owner_sees.len(),
        2,
        "the owner sees both branches: {owner_sees:?}"
    );
    let manager_sees = alert_keys(
        &server
            .get("/api/v1/alerts/reconciliation", &manager_token)
            .await,
    );
    assert_eq!(
        manager_sees,
        vec![(tema.clone(), oil.clone(), "-2".to_owned())],
        "the Tema manager sees Tema only"
    );

    // An archived product leaves the alerts.
    let archived = server
        .post(
            &format!("/api/v1/products/{oil}/archive"),
            shop.token(),
            json!({}),
        )
        .await;
    assert_eq!(archived.status, 200, "{:?}", archived.body);
    assert_eq!(alert_keys(&reconciliation().await), vec![]);
    assert!(
        alert_keys(&low_stock().await)
            .iter()
            .all(|(_, product, _)| *product != oil),
        "no alert names the archived product"
    );
    server.stop().await;
}

async fn set_reorder_level(server: &TestServer, shop: &Shop, product: &str, level: Value) {
    let answer = server
        .patch(
            &format!("/api/v1/products/{product}"),
            shop.token(),
            json!({ "reorder_level": level }),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

/// The alerts read the level rows, which carry their product's reorder level: a branch opened
/// later, a reorder level set or cleared afterwards, and the dashboard's counts must all follow.
async fn low_stock_follows_reorder_levels_and_new_branches(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = open_shop(&server).await;
    let Shop {
        osu,
        tema,
        rice,
        oil,
        ..
    } = &shop;
    let low = async || alert_keys(&server.get("/api/v1/alerts/low-stock", shop.token()).await);
    let sorted = |mut keys: Vec<(String, String, String)>| {
        keys.sort();
        keys
    };
    let zero =
        |branch: &String, product: &String| (branch.clone(), product.clone(), "0".to_owned());

    // A branch opened after rice got its reorder level has never stocked it: low there too.
    let kasoa = server.create_branch(shop.token(), "Kasoa").await;
    assert_eq!(
        sorted(low().await),
        sorted(vec![zero(osu, rice), zero(tema, rice), zero(&kasoa, rice)]),
        "rice is low at the three branches, the new one included"
    );

    // Oil gets a reorder level later: low wherever it is not stocked above it.
    set_reorder_level(&server, &shop, oil, json!("2")).await;
    record(
        &server,
        &shop,
        osu,
        json!({ "product_id": oil, "kind": "receipt", "quantity": 5 }),
    )
    .await;
    let with_oil = low().await;
    assert!(
        with_oil.contains(&zero(tema, oil)) && with_oil.contains(&zero(&kasoa, oil)),
        "oil is low where it was never stocked: {with_oil:?}"
    );
    assert!(
        !with_oil
            .iter()
            .any(|(branch, product, _)| branch == osu && product == oil),
        "5 at Osu is above the new reorder level of 2: {with_oil:?}"
    );
    let alert = server.get("/api/v1/alerts/low-stock", shop.token()).await;
    let oil_alert = alert.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|item| item["product_id"] == oil.as_str()))
        .cloned()
        .expect("an oil alert");
    assert_eq!(
        oil_alert["reorder_level"], "2",
        "the alert shows the new level"
    );

    // Raising the level above what Osu holds makes it low there as well.
    set_reorder_level(&server, &shop, oil, json!("8")).await;
    assert!(
        low()
            .await
            .contains(&(osu.clone(), oil.clone(), "5".to_owned())),
        "5 is at or below 8"
    );

    // Rice's reorder level cleared: rice leaves the alerts everywhere.
    set_reorder_level(&server, &shop, rice, Value::Null).await;
    let low = sorted(low().await);
    assert_eq!(
        low,
        sorted(vec![
            (osu.clone(), oil.clone(), "5".to_owned()),
            zero(tema, oil),
            zero(&kasoa, oil)
        ]),
        "only oil is low now"
    );

    // The dashboard's counts are of the same alerts, per branch too.
    let tenant: TenantId = shop.owner.tenant_id.parse().expect("tenant");
    let counts = server
        .store
        .alert_counts(tenant, None)
        .await
        .expect("alert counts");
    assert_eq!(counts, (3, 0), "three low, none negative");
    let kasoa_id = BranchId::from_uuid(kasoa.parse().expect("branch id"));
    let at_kasoa = server
        .store
        .alert_counts(tenant, Some(&[kasoa_id]))
        .await
        .expect("alert counts at Kasoa");
    assert_eq!(at_kasoa, (1, 0));
    server.stop().await;
}

async fn a_sale_takes_stock_out_and_its_refund_puts_it_back(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = open_shop(&server).await;
    let (osu, rice, oil) = (shop.osu.clone(), shop.rice.clone(), shop.oil.clone());
    record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": rice, "kind": "receipt", "quantity": 10 }),
    )
    .await;
    record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": oil, "kind": "count", "quantity": 4 }),
    )
    .await;
    tick(&server);

    let sale_id = Uuid::now_v7().to_string();
    let sale = server
        .post(
            "/api/v1/sales",
            shop.token(),
            json!({ "id": sale_id, "branch_id": osu,
                "lines": [{ "product_id": rice, "quantity": "2.5" }, { "product_id": oil, "quantity": 3 }],
                "tenders": [{ "kind": "cash", "amount_minor": 20_000 }] }),
        )
        .await;
    assert_eq!(sale.status, 201, "{:?}", sale.body);
    assert_eq!(sale.body["total_minor"], 10_650, "2.5 x 12.00 + 3 x 25.50");
    assert_eq!(on_hand(&server, &shop, &osu, &rice).await, "7.5");
    assert_eq!(on_hand(&server, &shop, &osu, &oil).await, "1");

    let again = server
        .post(
            "/api/v1/sales",
            shop.token(),
            json!({ "id": sale_id, "branch_id": osu,
                "lines": [{ "product_id": rice, "quantity": "2.5" }, { "product_id": oil, "quantity": 3 }],
                "tenders": [{ "kind": "cash", "amount_minor": 20_000 }] }),
        )
        .await;
    assert_eq!(again.status, 200, "the same sale again is the original");
    assert_eq!(
        on_hand(&server, &shop, &osu, &rice).await,
        "7.5",
        "a retried sale takes nothing out twice"
    );

    tick(&server);
    let refund = server
        .post(
            &format!("/api/v1/sales/{sale_id}/refunds"),
            shop.token(),
            json!({ "id": Uuid::now_v7(), "lines": [{ "line_no": 1, "quantity": "1.5" }, { "line_no": 2, "quantity": 3 }] }),
        )
        .await;
    assert_eq!(refund.status, 201, "{:?}", refund.body);
    assert_eq!(on_hand(&server, &shop, &osu, &rice).await, "9");
    assert_eq!(on_hand(&server, &shop, &osu, &oil).await, "4");

    let tenant: TenantId = shop.owner.tenant_id.parse().expect("tenant");
    let rice_ledger: Vec<(MovementKind, String)> = server
        .store
        .movements(
            tenant,
            osu.parse().expect("branch"),
            rice.parse().expect("product"),
        )
        .await
        .expect("movements")
        .iter()
        .map(|movement| (movement.kind, movement.quantity.to_string()))
        .collect();
    assert_eq!(
        rice_ledger,
        vec![
            (MovementKind::Receipt, "10".to_owned()),
            (MovementKind::Sale, "-2.5".to_owned()),
            (MovementKind::Refund, "1.5".to_owned()),
        ],
        "the sale and the refund are ledger rows of their own"
    );

    // A void cancels what is left of the sale (1 rice) and puts it back.
    tick(&server);
    let void = server
        .post(
            &format!("/api/v1/sales/{sale_id}/void"),
            shop.token(),
            json!({ "id": Uuid::now_v7(), "reason": "customer changed their mind" }),
        )
        .await;
    assert_eq!(void.status, 201, "{:?}", void.body);
    assert_eq!(
        on_hand(&server, &shop, &osu, &rice).await,
        "10",
        "refund and void together put back all 2.5 sold"
    );
    assert_eq!(
        on_hand(&server, &shop, &osu, &oil).await,
        "4",
        "the oil was already refunded in full"
    );

    // A sale dated before the latest count was already seen by that count.
    tick(&server);
    let counted = record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": oil, "kind": "count", "quantity": 10 }),
    )
    .await;
    assert_eq!(counted.body["on_hand"], "10");
    let counted_at = now_millis(&server);
    tick(&server);
    let offline_sale = server
        .post(
            "/api/v1/sales",
            shop.token(),
            json!({ "id": Uuid::now_v7(), "branch_id": osu, "occurred_at": counted_at - 60_000,
                "lines": [{ "product_id": oil, "quantity": 2 }],
                "tenders": [{ "kind": "cash", "amount_minor": 5_100 }] }),
        )
        .await;
    assert_eq!(offline_sale.status, 201, "{:?}", offline_sale.body);
    assert_eq!(
        on_hand(&server, &shop, &osu, &oil).await,
        "10",
        "an offline sale from before the count does not come off the counted level"
    );
    server.stop().await;
}

/// A refund happens after its sale. If a till sends a refund dated before the sale (a clock
/// set wrong, or a typo), the server must either refuse it or keep it in order after the sale;
/// otherwise the ledger files the returned goods before the latest count, where they change
/// nothing, and they vanish from on-hand.
async fn goods_refunded_after_a_count_are_back_on_hand(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = open_shop(&server).await;
    let (osu, oil) = (shop.osu.clone(), shop.oil.clone());
    let counted = record(
        &server,
        &shop,
        &osu,
        json!({ "product_id": oil, "kind": "count", "quantity": 5 }),
    )
    .await;
    assert_eq!(counted.body["on_hand"], "5");
    let counted_at = now_millis(&server);
    tick(&server);
    let sale = server
        .post(
            "/api/v1/sales",
            shop.token(),
            json!({ "id": Uuid::now_v7(), "branch_id": osu,
                "lines": [{ "product_id": oil, "quantity": 1 }],
                "tenders": [{ "kind": "cash", "amount_minor": 2550 }] }),
        )
        .await;
    assert_eq!(sale.status, 201, "{:?}", sale.body);
    assert_eq!(on_hand(&server, &shop, &osu, &oil).await, "4");

    tick(&server);
    let refund = server
        .post(
            &format!("/api/v1/sales/{}/refunds", sale.id()),
            shop.token(),
            json!({ "id": Uuid::now_v7(), "lines": [{ "line_no": 1, "quantity": 1 }],
                "occurred_at": counted_at - 3_600_000 }),
        )
        .await;
    match refund.status {
        422 => assert_eq!(
            on_hand(&server, &shop, &osu, &oil).await,
            "4",
            "a refused refund changes nothing"
        ),
        201 => {
            let refunded_at = refund.body["occurred_at"].as_i64().expect("occurred_at");
            assert!(
                refunded_at >= sale.body["occurred_at"].as_i64().expect("occurred_at"),
                "a refund accepted for a sale is not dated before that sale: sale at {}, refund at {refunded_at}",
                sale.body["occurred_at"]
            );
            assert_eq!(
                on_hand(&server, &shop, &osu, &oil).await,
                "5",
                "the bottle sold after the count and refunded is back on the shelf"
            );
        }
        other => panic!("unexpected answer {other}: {:?}", refund.body),
    }
    server.stop().await;
}
