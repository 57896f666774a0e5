//! Deterministic simulation of sync: several stations, each with its own real SQLite database,
//! against one real server, through a fault-injecting proxy per station. A seed decides the whole
//! schedule: sales (some by the carton), price edits, counts, receipts and transfers; offline
//! periods; crashes (the station's database closed and reopened, outbox and all); lost answers
//! (the server applied a push, the station never heard); duplicated pushes; old pushes delivered
//! again late; and clock skew of up to a day either way. Some sales go on the account of a trader
//! on the wholesale list, payments are taken on it, and managers receive purchase orders at the
//! tills. After every schedule the four guarantees of DESIGN.md section 6 are checked, and two
//! more: the customer's balance is the same on the server and on every till, and equals the
//! sales on account less the payments; and each purchase-order receipt counted once, however
//! often its push was retried or replayed.
//!
//! `NEXUS_SIM_SEED=…` re-runs one seed alone; `NEXUS_SIM_SEEDS=N` runs N seeds (300 by default).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use nexus_domain::{Clock, Quantity, UnixMillis};
use nexus_pos::Station;
use nexus_testkit::{Backend, ManualClock, TestServer, backend_tests};
use serde_json::{Value, json};

backend_tests!(the_sync_guarantees_hold_under_random_schedules);

const DEFAULT_SEEDS: u64 = 300;
const STEPS: usize = 40;

/// xorshift64*: a small generator whose whole state is the seed, so a schedule replays exactly.
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn percent(&mut self, chance: u64) -> bool {
        self.below(100) < chance
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A station's clock: the server's clock shifted by a fixed skew (a till whose date is wrong).
struct SkewedClock {
    server: Arc<ManualClock>,
    skew_millis: i64,
}

impl Clock for SkewedClock {
    fn now(&self) -> UnixMillis {
        UnixMillis::from_millis(self.server.now().as_millis() + self.skew_millis)
    }
}

/// What the proxy in front of one station does to its traffic.
struct ProxyControl {
    offline: bool,
    random: Random,
    /// Percent of pushes whose answer is lost after the server applied them.
    lose_answers: u64,
    /// Percent of pushes delivered twice.
    duplicate: u64,
    /// Pushes seen so far, for late redelivery.
    captured: Vec<(String, Bytes)>,
}

struct Proxy {
    base_url: String,
    control: Arc<Mutex<ProxyControl>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

#[derive(Clone)]
struct ProxyState {
    target: String,
    client: reqwest::Client,
    control: Arc<Mutex<ProxyControl>>,
}

impl Proxy {
    async fn start(target: &str, seed: u64) -> Self {
        let control = Arc::new(Mutex::new(ProxyControl {
            offline: false,
            random: Random::new(seed),
            lose_answers: 0,
            duplicate: 0,
            captured: Vec::new(),
        }));
        let state = ProxyState {
            target: target.to_owned(),
            client: reqwest::Client::new(),
            control: control.clone(),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            base_url,
            control,
            stop: Some(stop),
        }
    }

    fn control(&self) -> std::sync::MutexGuard<'_, ProxyControl> {
        self.control.lock().expect("proxy control")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

enum Fault {
    None,
    Offline,
    LoseAnswer,
    Duplicate,
}

async fn forward(
    axum::extract::State(proxy): axum::extract::State<ProxyState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_push = uri.path() == "/api/v1/sync/push";
    let authorization = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let fault = {
        let mut control = proxy.control.lock().expect("proxy control");
        if control.offline {
            Fault::Offline
        } else if is_push {
            control.captured.push((authorization.clone(), body.clone()));
            let (lose, duplicate) = (control.lose_answers, control.duplicate);
            if control.random.percent(lose) {
                Fault::LoseAnswer
            } else if control.random.percent(duplicate) {
                Fault::Duplicate
            } else {
                Fault::None
            }
        } else {
            Fault::None
        }
    };
    if matches!(fault, Fault::Offline) {
        return (StatusCode::SERVICE_UNAVAILABLE, "offline").into_response();
    }
    let url = format!(
        "{}{}",
        proxy.target,
        uri.path_and_query().map_or("/", |path| path.as_str())
    );
    let send = || {
        let mut request = proxy
            .client
            .request(method.clone(), &url)
            .body(body.clone());
        for name in ["authorization", "content-type", "accept"] {
            if let Some(value) = headers.get(name) {
                request = request.header(name, value);
            }
        }
        request.send()
    };
    let mut answer = send().await;
    if matches!(fault, Fault::Duplicate) {
        answer = send().await;
    }
    let Ok(answer) = answer else {
        return (StatusCode::BAD_GATEWAY, "the server is gone").into_response();
    };
    if matches!(fault, Fault::LoseAnswer) {
        // The server did the work; the station never hears of it.
        return (StatusCode::GATEWAY_TIMEOUT, "the answer was lost").into_response();
    }
    let status = answer.status();
    let content_type = answer.headers().get("content-type").cloned();
    let bytes = answer.bytes().await.unwrap_or_default();
    let mut response = (status, bytes).into_response();
    if let Some(content_type) = content_type {
        response.headers_mut().insert("content-type", content_type);
    }
    response
}

struct SimStation {
    name: String,
    dir: std::path::PathBuf,
    station: Option<Station>,
    branch: String,
    clock: SkewedClock,
    proxy: Proxy,
    /// Ops this station said it committed: after any crash, its outbox still holds them all.
    committed_ops: i64,
}

impl SimStation {
    fn station(&self) -> &Station {
        self.station.as_ref().expect("station open")
    }
}

struct World {
    tenant: String,
    owner_refresh: String,
    owner_token: String,
    branches: Vec<String>,
    products: Vec<String>,
    manager: uuid::Uuid,
    cashiers: BTreeMap<String, uuid::Uuid>,
    stations: Vec<SimStation>,
    /// The customer with credit every till sells to on account.
    customer: uuid::Uuid,
    /// What the tills committed on the account: sales on account less payments.
    owed: i64,
    /// Entries the tills committed on the account.
    entries: usize,
    /// The open purchase order of each branch, and what the tills received against it
    /// (thousandths) in how many receipts.
    orders: BTreeMap<String, (uuid::Uuid, i64, usize)>,
}

/// Fails the seed with a message, instead of panicking, so the seed can be reported.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

async fn the_sync_guarantees_hold_under_random_schedules(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let seeds: Vec<u64> = match std::env::var("NEXUS_SIM_SEED") {
        Ok(seed) => vec![seed.trim().parse().expect("NEXUS_SIM_SEED is a number")],
        Err(_) => {
            let count = std::env::var("NEXUS_SIM_SEEDS")
                .ok()
                .and_then(|count| count.trim().parse().ok())
                .unwrap_or(DEFAULT_SEEDS);
            (1..=count).collect()
        }
    };
    // Station files in memory when the machine has /dev/shm: a simulated crash closes and
    // reopens the database in this process, which memory survives as disk would, and the
    // durability of a real kill -9 is the crash test's job.
    let shared_memory = std::path::Path::new("/dev/shm");
    let parent = if shared_memory.is_dir() {
        shared_memory.to_owned()
    } else {
        std::env::temp_dir()
    };
    let scratch = parent.join(format!("nexus-sim-{}", uuid::Uuid::now_v7().simple()));
    let mut totals = Totals::default();
    for &seed in &seeds {
        if let Err(message) = run_seed(&server, &scratch, seed, &mut totals).await {
            let _ = std::fs::remove_dir_all(&scratch);
            panic!(
                "simulation on {} failed at seed {seed}: {message}\n\
                 re-run it alone with NEXUS_SIM_SEED={seed}",
                backend.name()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!(
        "simulation on {}: {} seeds, {} sales, {} edits, {} stock ops, {} account entries, {} order receipts, {} crashes, {} syncs ({} failed), {} late redeliveries, {} conflicts logged",
        backend.name(),
        seeds.len(),
        totals.sales,
        totals.edits,
        totals.stock_ops,
        totals.account_entries,
        totals.order_receipts,
        totals.crashes,
        totals.syncs,
        totals.failed_syncs,
        totals.replays,
        totals.conflicts
    );
    // The schedules must exercise what they claim to, or passing proves little.
    if seeds.len() >= 50 {
        assert!(totals.crashes > 0 && totals.failed_syncs > 0 && totals.replays > 0);
        assert!(totals.conflicts > 0, "no concurrent edit was ever logged");
        assert!(totals.account_entries > 0 && totals.order_receipts > 0);
    }
    server.stop().await;
}

#[derive(Default)]
struct Totals {
    sales: u64,
    edits: u64,
    stock_ops: u64,
    crashes: u64,
    syncs: u64,
    failed_syncs: u64,
    replays: u64,
    conflicts: u64,
    account_entries: u64,
    order_receipts: u64,
}

async fn setup(
    server: &TestServer,
    scratch: &std::path::Path,
    seed: u64,
    random: &mut Random,
) -> Result<World, String> {
    let owner = server.register(&format!("Sim {seed}")).await;
    let token = owner.access_token.clone();
    let branches = vec![
        server.create_branch(&token, "Makola").await,
        server.create_branch(&token, "Kejetia").await,
    ];
    let mut products = Vec::new();
    for (index, name) in ["Rice", "Milo", "Sugar"].iter().enumerate() {
        // Rice is sold by the carton of 6 too, and at wholesale to traders.
        let mut body = json!({ "sku": format!("P{index}"), "name": name, "price_minor": 150 });
        if index == 0 {
            body["wholesale_price_minor"] = json!(140);
            body["packs"] = json!([{ "name": "carton", "units": 6, "price_minor": 800 }]);
        }
        let created = server.post("/api/v1/products", &token, body).await;
        ensure!(created.status == 201, "product: {}", created.body);
        products.push(created.id());
        for branch in &branches {
            let receipt = server
                .post(
                    &format!("/api/v1/branches/{branch}/stock/movements"),
                    &token,
                    json!({ "product_id": products[index], "kind": "receipt", "quantity": "50" }),
                )
                .await;
            ensure!(receipt.status == 201, "opening stock: {}", receipt.body);
        }
    }
    let staff = |role: &str, branches: &[String]| {
        json!({ "email": format!("{role}-{}@sim.gh", uuid::Uuid::now_v7().simple()), "name": role,
                "role": role, "branch_ids": branches })
    };
    let manager = server
        .post("/api/v1/staff", &token, staff("manager", &branches))
        .await;
    ensure!(manager.status == 201, "manager: {}", manager.body);
    let mut cashiers = BTreeMap::new();
    for branch in &branches {
        let cashier = server
            .post(
                "/api/v1/staff",
                &token,
                staff("cashier", std::slice::from_ref(branch)),
            )
            .await;
        ensure!(cashier.status == 201, "cashier: {}", cashier.body);
        cashiers.insert(
            branch.clone(),
            cashier.id().parse().map_err(|_| "cashier id")?,
        );
    }
    let customer = server
        .post(
            "/api/v1/customers",
            &token,
            json!({ "name": "Ama", "phone": "0244000111", "credit_limit_minor": 100_000_000,
                "price_list": "wholesale" }),
        )
        .await;
    ensure!(customer.status == 201, "customer: {}", customer.body);
    let supplier = server
        .post("/api/v1/suppliers", &token, json!({ "name": "Olam" }))
        .await;
    ensure!(supplier.status == 201, "supplier: {}", supplier.body);
    let mut orders = BTreeMap::new();
    for branch in &branches {
        let order = server
            .post(
                "/api/v1/purchase-orders",
                &token,
                json!({ "supplier_id": supplier.id(), "branch_id": branch,
                    "lines": [{ "product_id": products[0], "quantity": 100_000, "cost_minor": 90 }] }),
            )
            .await;
        ensure!(order.status == 201, "order: {}", order.body);
        orders.insert(
            branch.clone(),
            (order.id().parse().map_err(|_| "order id")?, 0, 0),
        );
    }
    // Two tills at the first branch, one at the second; clocks up to a day out either way.
    let mut stations = Vec::new();
    for (index, branch) in [&branches[0], &branches[0], &branches[1]]
        .into_iter()
        .enumerate()
    {
        let code = server
            .post(
                "/api/v1/stations",
                &token,
                json!({ "branch_id": branch, "name": format!("Till {index}") }),
            )
            .await;
        ensure!(code.status == 201, "station: {}", code.body);
        let proxy = Proxy::start(
            &server.base_url,
            seed.wrapping_mul(31).wrapping_add(index as u64),
        )
        .await;
        let dir = scratch.join(format!("seed-{seed}-till-{index}"));
        let station = Station::open(&dir)
            .await
            .map_err(|error| error.to_string())?;
        station
            .enroll(
                &proxy.base_url,
                code.body["enrolment_code"].as_str().unwrap_or_default(),
            )
            .await
            .map_err(|error| format!("enrol: {error}"))?;
        let skew_millis = if random.percent(40) {
            random.below(48 * 3_600_000) as i64 - 24 * 3_600_000
        } else {
            random.below(4_000) as i64 - 2_000
        };
        let clock = SkewedClock {
            server: server.clock.clone(),
            skew_millis,
        };
        stations.push(SimStation {
            name: format!("till {index}"),
            dir,
            station: Some(station),
            branch: branch.clone(),
            clock,
            proxy,
            committed_ops: 0,
        });
    }
    Ok(World {
        tenant: owner.tenant_id.clone(),
        owner_refresh: owner.refresh_token.clone(),
        owner_token: token,
        branches,
        products,
        manager: manager.id().parse().map_err(|_| "manager id")?,
        cashiers,
        stations,
        customer: customer.id().parse().map_err(|_| "customer id")?,
        owed: 0,
        entries: 0,
        orders,
    })
}

async fn run_seed(
    server: &TestServer,
    scratch: &std::path::Path,
    seed: u64,
    totals: &mut Totals,
) -> Result<(), String> {
    let mut random = Random::new(seed);
    let mut world = setup(server, scratch, seed, &mut random).await?;
    // Each till pulls the catalogue before the day starts, as an enrolled till would.
    for sim in &world.stations {
        sim.station()
            .sync(&sim.clock)
            .await
            .map_err(|error| format!("first sync: {error}"))?;
    }
    for sim in &world.stations {
        let mut control = sim.proxy.control();
        control.lose_answers = random.below(30);
        control.duplicate = random.below(30);
    }
    let prices = [120_i64, 150, 180, 200];
    for step in 0..STEPS {
        server
            .clock
            .advance(Duration::from_millis(random.below(90_000)));
        let which = random.below(world.stations.len() as u64) as usize;
        let roll = random.below(100);
        let products = world.products.clone();
        let manager = world.manager;
        let other_branch = world
            .branches
            .iter()
            .find(|branch| **branch != world.stations[which].branch)
            .cloned()
            .unwrap_or_default();
        let cashier = world.cashiers[&world.stations[which].branch];
        let customer = world.customer;
        let order = world.orders[&world.stations[which].branch].0;
        let sim = &mut world.stations[which];
        let context = |what: &str, error: nexus_pos::StationError| {
            format!("step {step}, {} {what}: {error}", sim.name)
        };
        match roll {
            0..=34 if random.percent(30) => {
                // On the customer's account, or a payment on it, rung up at the till.
                let signed_in = nexus_pos::SignedIn {
                    id: cashier,
                    name: "cashier".to_owned(),
                    role: nexus_domain::Role::Cashier,
                };
                if random.percent(70) {
                    let known = sim
                        .station()
                        .customer(customer)
                        .await
                        .map_err(|error| context("customer", error))?
                        .ok_or("the till never pulled the customer")?;
                    let mut cart = nexus_pos::Cart {
                        customer: Some(known),
                        ..nexus_pos::Cart::default()
                    };
                    let code = format!("P{}", random.below(products.len() as u64));
                    sim.station()
                        .add_to_cart(
                            &mut cart,
                            &code,
                            Quantity::from_milli(1_000 * (1 + random.below(3) as i64)),
                        )
                        .await
                        .map_err(|error| context("cart", error))?;
                    let settings = sim
                        .station()
                        .till_settings()
                        .await
                        .map_err(|error| context("settings", error))?;
                    let total = Station::price(&settings, &cart)
                        .map_err(|error| context("price", error))?
                        .totals
                        .total_minor;
                    sim.station()
                        .checkout(
                            &sim.clock,
                            &signed_in,
                            &cart,
                            &[nexus_pos::TenderInput::Credit {
                                amount_minor: total,
                            }],
                        )
                        .await
                        .map_err(|error| context("sale on account", error))?;
                    world.owed += total;
                    totals.sales += 1;
                } else {
                    let amount = 50 * (1 + random.below(10) as i64);
                    sim.station()
                        .take_payment(
                            &sim.clock,
                            &signed_in,
                            customer,
                            &nexus_pos::TenderInput::Cash {
                                amount_minor: amount,
                            },
                        )
                        .await
                        .map_err(|error| context("payment on account", error))?;
                    world.owed -= amount;
                }
                world.entries += 1;
                totals.account_entries += 1;
                sim.committed_ops += 1;
            }
            0..=34 => {
                let lines: Vec<Value> = (0..=random.below(2))
                    .map(|_| {
                        let product = random.pick(&products).clone();
                        let quantity = (1 + random.below(3)).to_string();
                        if product == products[0] && random.percent(25) {
                            json!({ "product_id": product, "quantity": quantity, "unit_price_minor": 800,
                                    "pack": { "name": "carton", "units": 6 } })
                        } else {
                            json!({ "product_id": product, "quantity": quantity, "unit_price_minor": 150 })
                        }
                    })
                    .collect();
                let sale = json!({ "id": nexus_domain::ids::new_v7(sim.clock.now()), "branch_id": sim.branch,
                    "occurred_at": sim.clock.now().as_millis(), "lines": lines,
                    "tenders": [{ "kind": "cash", "amount_minor": 100_000 }] });
                let sale = serde_json::from_value(sale).map_err(|_| "a sale the protocol reads")?;
                sim.station()
                    .record_sale(&sim.clock, cashier, sale)
                    .await
                    .map_err(|error| context("sale", error))?;
                sim.committed_ops += 1;
                totals.sales += 1;
            }
            35..=44 => {
                let product: uuid::Uuid =
                    random.pick(&products).parse().map_err(|_| "product id")?;
                let fields = nexus_sync::CatalogueFields {
                    price_minor: Some(*random.pick(&prices)),
                    ..nexus_sync::CatalogueFields::default()
                };
                sim.station()
                    .edit_product(&sim.clock, manager, product, fields)
                    .await
                    .map_err(|error| context("price edit", error))?;
                sim.committed_ops += 1;
                totals.edits += 1;
            }
            45..=59 => {
                let product: uuid::Uuid =
                    random.pick(&products).parse().map_err(|_| "product id")?;
                let quantity = Quantity::from_milli(1_000 * (1 + random.below(10) as i64));
                let kind = *random.pick(&["receipt", "count", "adjustment", "transfer", "order"]);
                let outcome = if kind == "order" {
                    let first: uuid::Uuid = products[0].parse().map_err(|_| "product id")?;
                    let received = sim
                        .station()
                        .receive_order(&sim.clock, manager, order, &[(first, quantity)])
                        .await;
                    if received.is_ok() {
                        let tally = world
                            .orders
                            .get_mut(&sim.branch)
                            .ok_or("the branch's order")?;
                        tally.1 += quantity.milli();
                        tally.2 += 1;
                        totals.order_receipts += 1;
                    }
                    received
                } else if kind == "transfer" {
                    let to: uuid::Uuid = other_branch.parse().map_err(|_| "branch id")?;
                    sim.station()
                        .record_transfer(&sim.clock, manager, to, &[(product, quantity)])
                        .await
                } else {
                    let (quantity, reason) = match kind {
                        "adjustment" => (Quantity::from_milli(-quantity.milli()), Some("damaged")),
                        _ => (quantity, None),
                    };
                    sim.station()
                        .record_movement(&sim.clock, manager, product, kind, quantity, reason)
                        .await
                };
                outcome.map_err(|error| context(kind, error))?;
                sim.committed_ops += 1;
                totals.stock_ops += 1;
            }
            60..=84 => {
                totals.syncs += 1;
                if sim.station().sync(&sim.clock).await.is_err() {
                    totals.failed_syncs += 1;
                }
            }
            85..=89 => {
                // A crash: the process is gone; what it committed is on disk.
                let station = sim.station.take().expect("open");
                station.close().await;
                drop(station);
                let reopened = Station::open(&sim.dir)
                    .await
                    .map_err(|error| context("reopen", error))?;
                let integrity = reopened
                    .integrity_check()
                    .await
                    .map_err(|error| context("integrity", error))?;
                ensure!(
                    integrity == "ok",
                    "step {step}: {} after a crash: {integrity}",
                    sim.name
                );
                let ops = reopened
                    .outbox_len()
                    .await
                    .map_err(|error| context("outbox", error))?;
                ensure!(
                    ops == sim.committed_ops,
                    "step {step}: {} lost ops in a crash: {ops} of {}",
                    sim.name,
                    sim.committed_ops
                );
                sim.station = Some(reopened);
                totals.crashes += 1;
            }
            90..=95 => {
                let mut control = sim.proxy.control();
                control.offline = !control.offline;
            }
            _ => {
                // An old push delivered again, late and out of order.
                let captured = {
                    let mut control = sim.proxy.control();
                    let count = control.captured.len() as u64;
                    let index = control.random.below(count) as usize;
                    (count > 0).then(|| control.captured[index].clone())
                };
                if let Some((authorization, body)) = captured {
                    let _ = reqwest::Client::new()
                        .post(format!("{}/api/v1/sync/push", server.base_url))
                        .header("authorization", authorization)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    totals.replays += 1;
                }
            }
        }
    }

    // Everyone comes back online with a clean network and syncs until nothing moves.
    for sim in &world.stations {
        let mut control = sim.proxy.control();
        control.offline = false;
        control.lose_answers = 0;
        control.duplicate = 0;
    }
    for round in 0..3 {
        for sim in &world.stations {
            sim.station()
                .sync(&sim.clock)
                .await
                .map_err(|error| format!("final sync round {round}, {}: {error}", sim.name))?;
        }
    }
    // The schedule outlived the owner's 15-minute access token.
    let refreshed = server.refresh(&world.owner_refresh).await;
    ensure!(refreshed.status == 200, "refresh: {}", refreshed.body);
    world.owner_token = refreshed.body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let conflicts = server
        .get("/api/v1/sync/conflicts?limit=200", &world.owner_token)
        .await;
    ensure!(conflicts.status == 200, "conflicts: {}", conflicts.body);
    totals.conflicts += conflicts.body["items"].as_array().map_or(0, Vec::len) as u64;
    check_guarantees(server, &world).await?;
    for sim in &mut world.stations {
        if let Some(station) = sim.station.take() {
            station.close().await;
        }
        let _ = std::fs::remove_dir_all(&sim.dir);
    }
    Ok(())
}

async fn check_guarantees(server: &TestServer, world: &World) -> Result<(), String> {
    let token = &world.owner_token;
    // 1. No committed sale lost or duplicated: every sale a till committed is on the server,
    //    none is quarantined, and the server's sale movements are exactly the tills' lines.
    let mut sold: BTreeMap<(String, String), i64> = BTreeMap::new();
    for sim in &world.stations {
        let status = sim
            .station()
            .status()
            .await
            .map_err(|error| error.to_string())?;
        ensure!(
            status.unsynced_ops == 0,
            "{} still has {} unsynced ops",
            sim.name,
            status.unsynced_ops
        );
        // Every op the schedule makes is valid: a refusal here is a bug, not a quarantine.
        if let Some(refused) = status.quarantined.first() {
            return Err(format!("{}: an op was refused: {refused:?}", sim.name));
        }
        for (sale_id, op_status) in sim
            .station()
            .committed_sales()
            .await
            .map_err(|error| error.to_string())?
        {
            ensure!(
                op_status == "acknowledged",
                "{}: sale {sale_id} is {op_status}",
                sim.name
            );
            let recorded = server.get(&format!("/api/v1/sales/{sale_id}"), token).await;
            ensure!(
                recorded.status == 200,
                "sale {sale_id} of {} is not on the server",
                sim.name
            );
            for line in recorded.body["lines"].as_array().into_iter().flatten() {
                let quantity: Quantity = serde_json::from_value(line["quantity"].clone())
                    .map_err(|error| error.to_string())?;
                // A carton moves its pieces.
                let units = line["pack"]["units"].as_i64().unwrap_or(1);
                *sold
                    .entry((
                        sim.branch.clone(),
                        line["product_id"].as_str().unwrap_or_default().to_owned(),
                    ))
                    .or_default() += quantity.milli() * units;
            }
        }
    }
    let levels = server_levels(server, token, &world.branches).await?;
    let tenant = nexus_domain::TenantId::from_uuid(world.tenant.parse().map_err(|_| "tenant id")?);
    for branch in &world.branches {
        for product in &world.products {
            let movements = server
                .store
                .movements(
                    tenant,
                    nexus_domain::BranchId::from_uuid(branch.parse().map_err(|_| "branch")?),
                    nexus_domain::ProductId::from_uuid(product.parse().map_err(|_| "product")?),
                )
                .await
                .map_err(|error| error.to_string())?;
            let server_sold: i64 = movements
                .iter()
                .filter(|movement| movement.kind == nexus_store::MovementKind::Sale)
                .map(|movement| -movement.quantity.milli())
                .sum();
            let expected = sold
                .get(&(branch.clone(), product.clone()))
                .copied()
                .unwrap_or(0);
            ensure!(
                server_sold == expected,
                "branch {branch} product {product}: the server's ledger sold {server_sold} milli, the tills' sales {expected}"
            );
            // 3. On-hand is the ledger, exactly.
            let entries: Vec<nexus_sync::LedgerEntry> = movements
                .iter()
                .map(|movement| nexus_sync::LedgerEntry {
                    occurred_at: movement.occurred_at.as_millis(),
                    id: movement.id.as_uuid(),
                    is_count: movement.kind == nexus_store::MovementKind::Count,
                    quantity_milli: movement.quantity.milli(),
                })
                .collect();
            let ledger = nexus_sync::on_hand_milli(&entries);
            let level = levels
                .get(&(branch.clone(), product.clone()))
                .copied()
                .unwrap_or(0);
            ensure!(
                level == ledger,
                "branch {branch} product {product}: on-hand {level} but the ledger says {ledger}"
            );
        }
    }
    // 2. Everyone agrees on stock, catalogue and staff.
    let catalogue = server.get("/api/v1/products?limit=200", token).await;
    let server_products: BTreeSet<(String, String, i64)> = catalogue.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|product| {
            (
                product["id"].as_str().unwrap_or_default().to_owned(),
                product["name"].as_str().unwrap_or_default().to_owned(),
                product["price_minor"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let staff = server.get("/api/v1/staff", token).await;
    for sim in &world.stations {
        let station = sim.station();
        let till_levels = station
            .stock_levels()
            .await
            .map_err(|error| error.to_string())?;
        for product in &world.products {
            let here = till_levels
                .get(&product.parse::<uuid::Uuid>().map_err(|_| "product")?)
                .copied()
                .unwrap_or(0);
            let there = levels
                .get(&(sim.branch.clone(), product.clone()))
                .copied()
                .unwrap_or(0);
            ensure!(
                here == there,
                "{}: on-hand of {product} is {here} at the till, {there} on the server",
                sim.name
            );
        }
        let replica_products: BTreeSet<(String, String, i64)> = station
            .replica_all("product")
            .await
            .map_err(|error| error.to_string())?
            .iter()
            .map(|product| {
                (
                    product["id"].as_str().unwrap_or_default().to_owned(),
                    product["name"].as_str().unwrap_or_default().to_owned(),
                    product["price_minor"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        ensure!(
            replica_products == server_products,
            "{}: catalogue {replica_products:?} differs from the server's {server_products:?}",
            sim.name
        );
        let replica_staff: BTreeSet<String> = station
            .replica_all("staff")
            .await
            .map_err(|error| error.to_string())?
            .iter()
            .map(|member| member["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        let server_staff: BTreeSet<String> = staff
            .body
            .as_array()
            .into_iter()
            .flatten()
            .filter(|member| {
                member["branch_ids"].as_array().is_some_and(|branches| {
                    branches.iter().any(|id| id.as_str() == Some(&sim.branch))
                })
            })
            .map(|member| member["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        ensure!(
            replica_staff == server_staff,
            "{}: staff {replica_staff:?} differs from the server's {server_staff:?}",
            sim.name
        );
    }
    // 5. The customer's balance: on the server and on every till, what the tills put on the
    //    account less what was paid, each entry once.
    let account = server
        .get(
            &format!("/api/v1/customers/{}/account", world.customer),
            token,
        )
        .await;
    ensure!(account.status == 200, "account: {}", account.body);
    let server_owed = account.body["balance_minor"].as_i64().unwrap_or(i64::MIN);
    let server_entries = account.body["statement"].as_array().map_or(0, Vec::len);
    ensure!(
        server_owed == world.owed && server_entries == world.entries,
        "the server says the customer owes {server_owed} in {server_entries} entries; the tills committed {} in {}",
        world.owed,
        world.entries
    );
    for sim in &world.stations {
        let till_account = sim
            .station()
            .account(world.customer)
            .await
            .map_err(|error| error.to_string())?
            .ok_or("the till lost the customer")?;
        ensure!(
            till_account.balance_minor == world.owed
                && till_account.statement.len() == world.entries,
            "{}: the customer owes {} in {} entries at the till, {} in {} on the server",
            sim.name,
            till_account.balance_minor,
            till_account.statement.len(),
            server_owed,
            server_entries
        );
    }
    // 6. Each purchase-order receipt counted once, whatever was retried or replayed.
    for (branch, (order, received, receipts)) in &world.orders {
        let recorded = server
            .get(&format!("/api/v1/purchase-orders/{order}"), token)
            .await;
        ensure!(recorded.status == 200, "order: {}", recorded.body);
        let on_server: Quantity =
            serde_json::from_value(recorded.body["lines"][0]["received"].clone())
                .map_err(|error| error.to_string())?;
        let counted = recorded.body["receipts"].as_array().map_or(0, Vec::len);
        ensure!(
            on_server.milli() == *received && counted == *receipts,
            "branch {branch}: the order shows {} received in {counted} receipts; the tills received {received} in {receipts}",
            on_server.milli()
        );
    }
    Ok(())
}

/// On-hand per (branch, product) as the server's API reports it, in thousandths.
async fn server_levels(
    server: &TestServer,
    token: &str,
    branches: &[String],
) -> Result<BTreeMap<(String, String), i64>, String> {
    let mut levels = BTreeMap::new();
    for branch in branches {
        let stock = server
            .get(&format!("/api/v1/branches/{branch}/stock"), token)
            .await;
        ensure!(stock.status == 200, "stock: {}", stock.body);
        for item in stock.body["items"].as_array().into_iter().flatten() {
            let on_hand = serde_json::from_value::<Quantity>(item["on_hand"].clone())
                .map_err(|error| error.to_string())?;
            levels.insert(
                (
                    branch.clone(),
                    item["product_id"].as_str().unwrap_or_default().to_owned(),
                ),
                on_hand.milli(),
            );
        }
    }
    Ok(levels)
}
