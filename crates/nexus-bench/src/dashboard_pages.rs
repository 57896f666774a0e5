//! `dashboard_pages`: one tenant with 100,000 products (stocked at its branch) and a year of
//! sales (1,000,000 by default) up to today, then the merchant dashboard's pages, each timed
//! through the real server over HTTP with a signed-in owner's session cookie.
//!
//! Products and their stock levels are inserted by SQL in multi-row statements; the sales come
//! from [`crate::bulk_load`], each given one line of one of the first 10,000 products (the lower
//! ones sell more), and the report rollups (the per-product and per-payment ones included) are
//! then rebuilt by the store's `rebuild_report_rollups`.

use std::time::{Duration, Instant};

use nexus_domain::calendar;
use nexus_domain::{Clock as _, SystemClock, ean13};
use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{StatusCode, redirect};

use crate::bulk_load::{BenchService, OWNER_PASSWORD, TenantSql};
use crate::percentile;
use crate::pos_benches::{XorShift, product_name, text};

/// Products per insert statement (11 values each, well within either backend's limits).
const PRODUCTS_PER_STATEMENT: usize = 1_000;
/// Products the sales are spread over.
const PRODUCTS_SOLD: usize = 10_000;
/// Untimed requests of each page before its timed ones.
const WARM_UP: usize = 10;

/// What the timings are kept under, in the order of the printed line.
const KEYS: [&str; 5] = ["overview", "sales", "receipts", "products", "inventory"];

/// Each sale's one line, of product `x * x / sold` where `x` is spread evenly over `0..sold` by
/// the sale's second (unique to each sale), so that the lower products sell most.
const LINES_SQL: &str = "INSERT INTO {schema}sale_lines (sale_id, line_no, product_id, sku, name, \
     tax_class, quantity_milli, unit_price_minor, gross_minor, discount_minor, net_minor, tax_minor, \
     total_minor, refers_to_line) \
     SELECT sales.id, 1, products.id, products.sku, products.name, products.tax_class, 1000, \
     sales.gross_minor, sales.gross_minor, 0, sales.net_minor, sales.tax_minor, sales.total_minor, NULL \
     FROM {schema}sales JOIN {schema}products ON products.sku = 'SKU-' || CAST( \
     ((sales.occurred_at / 1000 * 7919) % {sold}) * ((sales.occurred_at / 1000 * 7919) % {sold}) / {sold} AS TEXT)";

/// Product `index`: its reorder level (every other product has one) and its on-hand at the
/// branch: one in 200 below zero, one in 50 low, the others comfortably stocked.
fn stock_of(index: usize) -> (Option<i64>, i64) {
    let reorder = index.is_multiple_of(2).then_some(10_000);
    let on_hand = if index.is_multiple_of(200) {
        -3_000
    } else if index % 50 == 2 {
        4_000
    } else {
        20_000 + (index % 180) as i64 * 1_000
    };
    (reorder, on_hand)
}

/// `products` products named like "Peak Milk 400g" with SKUs `SKU-<index>` and EAN-13
/// barcodes, and a stock level of each at `branch`.
async fn load_products(
    tenant: &mut TenantSql,
    products: usize,
    branch: uuid::Uuid,
) -> Result<(), String> {
    let now = SystemClock.now();
    let mut random = XorShift::new(0x5eed_0012);
    let branch = tenant.uuid(branch);
    let mut first = 0;
    while first < products {
        let last = (first + PRODUCTS_PER_STATEMENT).min(products);
        let mut rows = Vec::with_capacity(last - first);
        let mut levels = Vec::with_capacity(last - first);
        for index in first..last {
            let id = tenant.uuid(nexus_domain::ids::new_v7(now));
            let name = product_name(&mut random).replace('\'', "''");
            let (reorder, on_hand) = stock_of(index);
            rows.push(format!(
                "({id}, 'SKU-{index}', '{barcode}', '{name}', '{search}', {price}, 'standard', {reorder}, {at}, {at}, NULL)",
                barcode = ean13(600_000_000_000 + index as u64),
                search = name.to_lowercase(),
                price = 100 + random.below(50_000),
                reorder = reorder.map_or("NULL".to_owned(), |level| level.to_string()),
                at = now.as_millis(),
            ));
            levels.push(format!(
                "({branch}, {id}, NULL, NULL, 0, {on_hand}, {on_hand}, {at}, {reorder})",
                at = now.as_millis(),
                reorder = reorder.map_or("NULL".to_owned(), |level| level.to_string()),
            ));
        }
        tenant
            .execute(&format!(
                "INSERT INTO {{schema}}products (id, sku, barcode, name, search_name, price_minor, \
                 tax_class, reorder_level_milli, created_at, updated_at, archived_at) VALUES {}; \
                 INSERT INTO {{schema}}stock_levels (branch_id, product_id, count_occurred_at, \
                 count_movement_id, count_milli, delta_milli, on_hand_milli, updated_at, \
                 reorder_level_milli) VALUES {}",
                rows.join(", "),
                levels.join(", ")
            ))
            .await?;
        first = last;
    }
    Ok(())
}

/// The value of cookie `name` among the `Set-Cookie` headers.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, value)| key.trim() == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

fn start_of(body: &str) -> String {
    body.chars().take(600).collect()
}

/// Signs the owner in through the dashboard's form; the session cookie (`nexus_session=…`).
async fn sign_in(client: &reqwest::Client, base: &str, email: &str) -> Result<String, String> {
    let response = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .map_err(text)?;
    let status = response.status();
    let csrf_cookie = set_cookie(response.headers(), "nexus_csrf");
    let body = response.text().await.map_err(text)?;
    if status != StatusCode::OK {
        return Err(format!("GET /sign-in: {status}: {}", start_of(&body)));
    }
    let csrf_cookie = csrf_cookie.ok_or("GET /sign-in set no nexus_csrf cookie")?;
    let marker = "name=\"csrf\" value=\"";
    let csrf = body
        .find(marker)
        .map(|at| &body[at + marker.len()..])
        .and_then(|rest| rest.split('"').next())
        .ok_or("the sign-in form has no csrf field")?;
    let response = client
        .post(format!("{base}/sign-in"))
        .header(COOKIE, format!("nexus_csrf={csrf_cookie}"))
        .form(&[
            ("csrf", csrf),
            ("email", email),
            ("password", OWNER_PASSWORD),
        ])
        .send()
        .await
        .map_err(text)?;
    let status = response.status();
    let session = set_cookie(response.headers(), "nexus_session");
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.text().await.map_err(text)?;
    match session {
        Some(session) if status == StatusCode::SEE_OTHER => {
            eprintln!("signed in (303 to {location})");
            Ok(format!("nexus_session={session}"))
        }
        _ => Err(format!(
            "POST /sign-in: {status} (no session cookie): {}",
            start_of(&body)
        )),
    }
}

/// One page: its name for the messages, the key it is timed under, its path, and a piece of
/// text its answer must hold (so that an empty table does not pass for a fast one).
struct PageRequest {
    name: &'static str,
    key: &'static str,
    path: String,
    must_hold: &'static str,
}

async fn get_page(
    client: &reqwest::Client,
    base: &str,
    session: &str,
    page: &PageRequest,
) -> Result<Duration, String> {
    let started = Instant::now();
    let response = client
        .get(format!("{base}{}", page.path))
        .header(COOKIE, session)
        .send()
        .await
        .map_err(text)?;
    let status = response.status();
    let kind = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.text().await.map_err(text)?;
    let elapsed = started.elapsed();
    if status != StatusCode::OK {
        return Err(format!(
            "{} page (GET {}) answered {status}, not 200 OK: {}",
            page.name,
            page.path,
            start_of(&body)
        ));
    }
    if !kind.starts_with("text/html") || !body.contains(page.must_hold) {
        return Err(format!(
            "{} page (GET {}) is not the page expected ({kind}, no {:?}): {}",
            page.name,
            page.path,
            page.must_hold,
            start_of(&body)
        ));
    }
    Ok(elapsed)
}

pub(crate) async fn run(
    postgres: Option<String>,
    sales: u64,
    products: usize,
    requests: usize,
    keep: bool,
) -> Result<String, String> {
    if products == 0 || sales == 0 || requests == 0 {
        return Err("--sales, --products and --requests must be at least 1".to_owned());
    }
    let mut service = BenchService::start(postgres, "dashboard", true).await?;
    service.keep = keep;
    let backend = service.backend();
    let today = calendar::local_day(SystemClock.now().as_millis(), 0);
    let first_day = i64::from(today) - 364;

    let seeding = Instant::now();
    let mut tenant = service.tenant_sql().await?;
    eprintln!("loading {products} products with their stock at the branch…");
    load_products(&mut tenant, products, service.branch).await?;
    eprintln!(
        "  products in {:.1} s; loading {sales} sales over the 365 days to today…",
        seeding.elapsed().as_secs_f64()
    );
    tenant
        .load_sales(sales, first_day, service.branch, service.owner)
        .await?;
    let lines_started = Instant::now();
    tenant
        .execute(&LINES_SQL.replace("{sold}", &PRODUCTS_SOLD.min(products).to_string()))
        .await?;
    eprintln!(
        "  sale lines in {:.1} s",
        lines_started.elapsed().as_secs_f64()
    );
    let rebuild_started = Instant::now();
    service
        .store
        .rebuild_report_rollups(service.tenant)
        .await
        .map_err(text)?;
    let rebuild = rebuild_started.elapsed();
    if backend == "postgres" {
        tenant.execute("ANALYZE").await?;
    }
    // A receipt about 900,000 sales back (nine tenths of them when fewer), newest first: where
    // the "Older" links would have led.
    let deep = (sales * 9 / 10).min(900_000);
    let (at, id) = tenant
        .time_and_id(&format!(
            "SELECT occurred_at, id FROM {{schema}}sales ORDER BY occurred_at DESC, id DESC \
             LIMIT 1 OFFSET {deep}"
        ))
        .await?;
    drop(tenant);
    let seeded = seeding.elapsed();
    eprintln!(
        "seeded in {:.1} s (rollups rebuilt in {:.1} s)",
        seeded.as_secs_f64(),
        rebuild.as_secs_f64()
    );

    let client = reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .map_err(text)?;
    let base = service.base.clone();
    let session = sign_in(&client, &base, &service.email).await?;
    let day = |offset: i32| calendar::format_day(today - offset);
    let pages = [
        PageRequest {
            name: "overview",
            key: "overview",
            path: "/".to_owned(),
            must_hold: "This month",
        },
        PageRequest {
            name: "sales (the last 30 days by day)",
            key: "sales",
            path: format!("/sales?period=day&from={}&to={}", day(29), day(0)),
            must_hold: "SKU-",
        },
        PageRequest {
            name: "receipts (first page)",
            key: "receipts",
            path: "/receipts".to_owned(),
            must_hold: "before=",
        },
        PageRequest {
            name: "receipts (a deep page)",
            key: "receipts",
            path: format!("/receipts?before={at}.{id}"),
            must_hold: "before=",
        },
        PageRequest {
            name: "products (first page)",
            key: "products",
            path: "/products".to_owned(),
            must_hold: "SKU-",
        },
        PageRequest {
            name: "products (search \"milk\")",
            key: "products",
            path: "/products?q=milk".to_owned(),
            must_hold: "SKU-",
        },
        PageRequest {
            name: "inventory",
            key: "inventory",
            path: format!("/inventory?branch={}", service.branch),
            must_hold: "SKU-",
        },
    ];
    // Each key's p99 is its slowest page's.
    let mut worst = [0.0_f64; KEYS.len()];
    for page in &pages {
        for _ in 0..WARM_UP {
            get_page(&client, &base, &session, page).await?;
        }
        let mut timings = Vec::with_capacity(requests);
        for _ in 0..requests {
            timings.push(get_page(&client, &base, &session, page).await?);
        }
        timings.sort();
        let p99 = percentile(&timings, 99);
        eprintln!(
            "  {:<34} p50_ms={:.2} p99_ms={p99:.2} max_ms={:.2}",
            page.name,
            percentile(&timings, 50),
            percentile(&timings, 100)
        );
        let slot = KEYS
            .iter()
            .position(|key| *key == page.key)
            .ok_or("a page without a key")?;
        worst[slot] = worst[slot].max(p99);
    }
    service.finish().await;
    let figures: Vec<String> = KEYS
        .iter()
        .zip(worst)
        .map(|(key, p99)| format!("p99_ms_{key}={p99:.2}"))
        .collect();
    eprintln!(
        "seeding ({products} products, {sales} sales from {}) took {:.1} s",
        calendar::format_day(today - 364),
        seeded.as_secs_f64()
    );
    Ok(format!(
        "dashboard_pages backend={backend} sales={sales} products={products} {}",
        figures.join(" ")
    ))
}
