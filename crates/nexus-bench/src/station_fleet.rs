//! `station_fleet`: many tills against one server process. The service runs as a child of the
//! bench (so that its resident memory is its own) on a fresh PostgreSQL database, reached
//! directly or through PgBouncer. Shops of `per_shop` tills each are registered and their tills
//! enrolled through the API (untimed); then every till rings up a sale every `sale_seconds`
//! and syncs every `cycle_seconds` as the station's worker does: it pushes what it sold since
//! the last cycle and pulls every change since its cursor. Each till starts at a random point
//! of its first cycle, as tills switched on through a morning do.
//!
//! The stations are the protocol's wire messages, not whole stations: 10,000 SQLite replicas
//! would measure this machine's disk, not the service. They share the bench's two cores with
//! the service, PostgreSQL and PgBouncer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nexus_domain::{SaleId, SystemClock, UnixMillis};
use nexus_sync::{Action, Entity, Hlc, Op, PushRequest};
use serde_json::{Value, json};

use crate::percentile;
use crate::pos_rss::{child_address, process_kb};

fn text<E: std::fmt::Display>(error: E) -> String {
    error.to_string()
}

/// How the fleet behaves.
pub(crate) struct Fleet {
    pub(crate) stations: usize,
    pub(crate) minutes: f64,
    pub(crate) per_shop: usize,
    pub(crate) sale_seconds: f64,
    pub(crate) cycle_seconds: f64,
    /// The server's connection limit, when not its default.
    pub(crate) max_connections: Option<usize>,
}

/// One enrolled till and what it sells.
#[derive(Clone)]
struct Till {
    credential: String,
    device: uuid::Uuid,
    branch: Value,
    cashier: Value,
    products: Arc<Vec<Value>>,
}

/// What the tills measured, shared.
#[derive(Default)]
struct Tally {
    cycles: AtomicU64,
    sales: AtomicU64,
    errors: AtomicU64,
}

/// The child: the service on `database_url`, live updates on `listen_url`.
pub(crate) async fn station_fleet_server(
    database_url: String,
    listen_url: String,
    pool: u32,
    max_connections: Option<usize>,
) -> Result<String, String> {
    use std::io::Write as _;
    let mut settings = nexus_server::Settings::defaults();
    settings.data_dir = std::env::temp_dir().join(format!(
        "nexus-bench-fleet-{}",
        uuid::Uuid::now_v7().simple()
    ));
    settings.database_url = Some(nexus_server::SecretString::new(database_url));
    settings.database_listen_url = Some(nexus_server::SecretString::new(listen_url));
    settings.database_max_connections = pool;
    if let Some(limit) = max_connections {
        settings.http.max_connections = limit;
    }
    settings.log = "warn".to_owned();
    // Every shop registers from 127.0.0.1.
    settings.registrations_per_hour = i32::MAX;
    let app = nexus_server::App::open(settings, Arc::new(SystemClock))
        .await
        .map_err(text)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(text)?;
    let address = listener.local_addr().map_err(text)?;
    writeln!(std::io::stdout().lock(), "listening {address}").map_err(text)?;
    app.serve(listener, std::future::pending())
        .await
        .map_err(text)?;
    Ok("station_fleet_server stopped".to_owned())
}

pub(crate) async fn station_fleet(
    fleet: Fleet,
    database_url: String,
    pgbouncer: Option<String>,
    pool: u32,
) -> Result<String, String> {
    crate::recreate_database(&database_url).await?;
    let served_url = match &pgbouncer {
        Some(base) => pooled_url(base, &database_url)?,
        None => database_url.clone(),
    };
    let exe = std::env::current_exe().map_err(text)?;
    let mut command = std::process::Command::new(exe);
    command
        .args(["station_fleet_server", "--database-url", &served_url])
        .args(["--listen-url", &database_url])
        .args(["--pool", &pool.to_string()]);
    if let Some(limit) = fleet.max_connections {
        command.args(["--max-connections", &limit.to_string()]);
    }
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .map_err(text)?;
    let outcome = drive(&mut child, &fleet).await;
    let _ = child.kill();
    let _ = child.wait();
    let line = outcome?;
    Ok(format!(
        "station_fleet backend=postgres stations={} {line}",
        fleet.stations
    ))
}

/// `database_url`'s database name on the PgBouncer at `base` (`postgres://user@host:6432`).
fn pooled_url(base: &str, database_url: &str) -> Result<String, String> {
    let database = database_url
        .rsplit_once('/')
        .map(|(_, name)| name)
        .ok_or("the database URL names no database")?;
    let base = base.trim_end_matches('/');
    // A PgBouncer URL given with a database keeps only its server part.
    let server = match base.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)),
        None => return Err(format!("{base} is not a postgres:// URL")),
    };
    Ok(format!("{server}/{database}"))
}

async fn call(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request.send().await.map_err(text)?;
    let status = response.status();
    let body: Value = response.json().await.map_err(text)?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!("{status}: {body}"))
    }
}

/// Registers one shop with its branch and five products and enrols `tills` tills in it.
async fn open_shop(
    http: reqwest::Client,
    base: String,
    index: usize,
    tills: usize,
) -> Result<Vec<Till>, String> {
    let registered = call(http.post(format!("{base}/auth/register")).json(&json!({
        "organisation": format!("Fleet shop {index}"),
        "email": format!("fleet-{index}-{}@bench.example", uuid::Uuid::now_v7().simple()),
        "password": "fleet bench password",
    })))
    .await?;
    let token = registered["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let branch = call(
        http.post(format!("{base}/branches"))
            .bearer_auth(&token)
            .json(&json!({ "name": "Makola" })),
    )
    .await?["id"]
        .clone();
    let mut products = Vec::new();
    for product in 0..5 {
        products.push(
            call(
                http.post(format!("{base}/products"))
                    .bearer_auth(&token)
                    .json(&json!({ "sku": format!("P{product}"), "name": format!("Product {product}"), "price_minor": 500 + product * 50 })),
            )
            .await?["id"]
                .clone(),
        );
    }
    let products = Arc::new(products);
    let mut enrolled = Vec::with_capacity(tills);
    for till in 0..tills {
        let code = call(
            http.post(format!("{base}/stations"))
                .bearer_auth(&token)
                .json(&json!({ "branch_id": branch, "name": format!("Till {}", till + 1) })),
        )
        .await?["enrolment_code"]
            .clone();
        let station = call(
            http.post(format!("{base}/stations/enroll"))
                .json(&json!({ "enrolment_code": code })),
        )
        .await?;
        enrolled.push(Till {
            credential: station["credential"]
                .as_str()
                .ok_or("no credential")?
                .to_owned(),
            device: station["station_id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .ok_or("no station id")?,
            branch: branch.clone(),
            cashier: registered["user_id"].clone(),
            products: products.clone(),
        });
    }
    Ok(enrolled)
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

fn sale_op(till: &Till, seq: u64) -> Op {
    let now = now_millis();
    let at = UnixMillis::from_millis(now);
    let sale_id = SaleId::generate(at).as_uuid();
    let lines: Vec<Value> = (0..3)
        .map(|line| {
            let product = &till.products[(seq as usize + line) % till.products.len()];
            json!({ "product_id": product, "quantity": 1, "unit_price_minor": 500 })
        })
        .collect();
    Op {
        op_id: SaleId::generate(at).as_uuid(),
        device_id: till.device,
        seq,
        hlc: Hlc {
            wall_millis: now,
            counter: 0,
            node: 1,
        },
        entity: Entity::Sale,
        entity_id: sale_id,
        action: Action::Create,
        payload: json!({ "cashier_id": till.cashier, "sale": { "id": sale_id, "branch_id": till.branch,
            "occurred_at": now, "lines": lines, "tenders": [{ "kind": "cash", "amount_minor": 1500 }] } }),
    }
}

/// One till's day: sells and syncs until `until`; answers its push and pull times.
async fn run_till(
    http: reqwest::Client,
    base: String,
    till: Till,
    fleet: (f64, f64),
    first_cycle: Duration,
    until: Instant,
    tally: Arc<Tally>,
) -> (Vec<Duration>, Vec<Duration>) {
    let (sale_every, cycle_every) = (
        Duration::from_secs_f64(fleet.0),
        Duration::from_secs_f64(fleet.1),
    );
    let (mut pushes, mut pulls) = (Vec::new(), Vec::new());
    let (mut seq, mut cursor, mut pending) = (0_u64, 0_u64, Vec::<Op>::new());
    let started = Instant::now();
    let mut next_sale = started + first_cycle.mul_f64(fleet.0 / fleet.1);
    let mut next_cycle = started + first_cycle;
    let authorization = format!("Station {}", till.credential);
    loop {
        let wake = next_sale.min(next_cycle);
        if wake >= until {
            break;
        }
        tokio::time::sleep_until(wake.into()).await;
        // The sales rung up while the last sync was under way, as a till goes on selling.
        while Instant::now() >= next_sale && next_sale < until {
            seq += 1;
            pending.push(sale_op(&till, seq));
            tally.sales.fetch_add(1, Ordering::Relaxed);
            next_sale += sale_every;
        }
        if Instant::now() < next_cycle {
            continue;
        }
        // As the station's worker: the next sync a whole interval after this one starts, never
        // a burst of catching up after a slow or failed one.
        next_cycle = (next_cycle + cycle_every).max(Instant::now() + cycle_every);
        let mut failed = false;
        if !pending.is_empty() {
            let request = PushRequest {
                protocol_version: nexus_sync::PROTOCOL_VERSION,
                ops: pending.clone(),
                unsynced_since: None,
                app_version: "fleet".to_owned(),
                sent_at: None,
            };
            let sent = Instant::now();
            let answer = call(
                http.post(format!("{base}/sync/push"))
                    .header("authorization", &authorization)
                    .json(&request),
            )
            .await;
            pushes.push(sent.elapsed());
            let applied = answer.as_ref().map_or(0, |answer| {
                answer["results"].as_array().map_or(0, |results| {
                    results
                        .iter()
                        .filter(|result| result["status"] == "applied")
                        .count()
                })
            });
            if applied == pending.len() {
                pending.clear();
            } else {
                failed = true;
                if tally.errors.load(Ordering::Relaxed) < 5 {
                    eprintln!("a push was not applied whole: {answer:?}");
                }
            }
        }
        loop {
            let sent = Instant::now();
            let page = call(
                http.get(format!(
                    "{base}/sync/pull?protocol_version=1&cursor={cursor}&limit=500"
                ))
                .header("authorization", &authorization),
            )
            .await;
            pulls.push(sent.elapsed());
            match page {
                Ok(page) => {
                    cursor = page["next_cursor"].as_u64().unwrap_or(cursor);
                    if page["has_more"] != true {
                        break;
                    }
                }
                Err(error) => {
                    failed = true;
                    if tally.errors.load(Ordering::Relaxed) < 5 {
                        eprintln!("a pull failed: {error}");
                    }
                    break;
                }
            }
        }
        if failed {
            tally.errors.fetch_add(1, Ordering::Relaxed);
        } else {
            tally.cycles.fetch_add(1, Ordering::Relaxed);
        }
    }
    (pushes, pulls)
}

async fn drive(child: &mut std::process::Child, fleet: &Fleet) -> Result<String, String> {
    let address = child_address(child).await?;
    let pid = child.id();
    let base = format!("http://{address}/api/v1");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(2048)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(text)?;

    let shops = fleet.stations.div_ceil(fleet.per_shop.max(1));
    eprintln!(
        "opening {shops} shops of up to {} tills each (untimed)…",
        fleet.per_shop
    );
    let setup = Instant::now();
    let mut tills = Vec::with_capacity(fleet.stations);
    let mut opening = tokio::task::JoinSet::new();
    let mut next_shop = 0;
    while next_shop < shops || !opening.is_empty() {
        while next_shop < shops && opening.len() < 8 {
            let in_this = fleet
                .per_shop
                .min(fleet.stations - next_shop * fleet.per_shop);
            opening.spawn(open_shop(http.clone(), base.clone(), next_shop, in_this));
            next_shop += 1;
        }
        if let Some(opened) = opening.join_next().await {
            tills.extend(opened.map_err(text)??);
            if tills.len() % 1000 < fleet.per_shop {
                eprintln!(
                    "  {} tills in {:.0} s",
                    tills.len(),
                    setup.elapsed().as_secs_f64()
                );
            }
        }
    }
    let status_now = move |field: &str| process_kb(pid, field);
    eprintln!(
        "{} tills selling every {} s and syncing every {} s for {} min; the server holds {} kB",
        tills.len(),
        fleet.sale_seconds,
        fleet.cycle_seconds,
        fleet.minutes,
        status_now("VmRSS")
    );
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(fleet.minutes * 60.0);
    let mut running = tokio::task::JoinSet::new();
    // Spread over the first cycle by a fixed stride, so runs are alike.
    let count = tills.len().max(1);
    for (index, till) in tills.into_iter().enumerate() {
        let offset = Duration::from_secs_f64(
            fleet.cycle_seconds * ((index * 7919) % count) as f64 / count as f64,
        );
        running.spawn(run_till(
            http.clone(),
            base.clone(),
            till,
            (fleet.sale_seconds, fleet.cycle_seconds),
            offset,
            until,
            tally.clone(),
        ));
    }
    let reporter = {
        let tally = tally.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(30)).await;
                eprintln!(
                    "  {:.0} s: {} cycles, {} sales, {} failed cycles",
                    started.elapsed().as_secs_f64(),
                    tally.cycles.load(Ordering::Relaxed),
                    tally.sales.load(Ordering::Relaxed),
                    tally.errors.load(Ordering::Relaxed)
                );
            }
        })
    };
    let (mut pushes, mut pulls) = (Vec::new(), Vec::new());
    while let Some(joined) = running.join_next().await {
        let (push, pull) = joined.map_err(text)?;
        pushes.extend(push);
        pulls.extend(pull);
    }
    reporter.abort();
    let elapsed = started.elapsed().as_secs_f64();
    let peak_mb = status_now("VmHWM") as f64 / 1024.0;
    pushes.sort();
    pulls.sort();
    let cycles = tally.cycles.load(Ordering::Relaxed);
    let errors = tally.errors.load(Ordering::Relaxed);
    eprintln!(
        "{cycles} cycles and {errors} failed in {elapsed:.0} s; {} sales made; push p50 {:.1} ms, pull p50 {:.1} ms",
        tally.sales.load(Ordering::Relaxed),
        percentile(&pushes, 50),
        percentile(&pulls, 50)
    );
    Ok(format!(
        "sync_cycles_per_s={:.1} push_p99_ms={:.1} pull_p99_ms={:.1} errors={errors} server_rss_mb={peak_mb:.0}",
        cycles as f64 / elapsed,
        percentile(&pushes, 99),
        percentile(&pulls, 99)
    ))
}
