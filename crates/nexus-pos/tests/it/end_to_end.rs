//! A real server and two real stations on loopback: the server goes down, both tills keep
//! selling the same product, the server comes back, both sync, and everyone agrees. Then the
//! background worker: it notices the outage, backs off, and syncs by itself on reconnection.

use std::sync::Arc;
use std::time::Duration;

use nexus_domain::Quantity;
use nexus_pos::{Connectivity, Station, StationError, SyncWorker, WorkerSettings};
use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::json;

backend_tests!(
    two_stations_sell_through_an_outage_and_agree_afterwards,
    the_sync_worker_reconnects_by_itself,
    the_tills_list_tells_last_contact_from_last_push_and_clears_what_waits,
    a_price_change_reaches_an_online_till_at_once_through_one_long_pull,
);

struct Shop {
    token: String,
    branch: String,
    cashier: uuid::Uuid,
}

async fn shop(server: &TestServer) -> Shop {
    let owner = server.register("Outage Shop").await;
    let token = owner.access_token.clone();
    let branch = server.create_branch(&token, "Osu").await;
    let rice = server
        .post(
            "/api/v1/products",
            &token,
            json!({ "sku": "RICE", "name": "Rice 5kg", "price_minor": 12_000 }),
        )
        .await
        .id();
    let receipt = server
        .post(
            &format!("/api/v1/branches/{branch}/stock/movements"),
            &token,
            json!({ "product_id": rice, "kind": "receipt", "quantity": "20" }),
        )
        .await;
    assert_eq!(receipt.status, 201, "{}", receipt.body);
    let cashier = server
        .post("/api/v1/staff", &token, json!({ "email": "ama@outage.gh", "name": "Ama", "role": "cashier", "branch_ids": [branch] }))
        .await
        .id()
        .parse()
        .expect("uuid");
    Shop {
        token,
        branch,
        cashier,
    }
}

async fn enrolled_station(
    server: &TestServer,
    shop: &Shop,
    name: &str,
) -> (Station, std::path::PathBuf) {
    let code = server
        .post(
            "/api/v1/stations",
            &shop.token,
            json!({ "branch_id": shop.branch, "name": name }),
        )
        .await
        .body["enrolment_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let dir = std::env::temp_dir().join(format!("nexus-e2e-{}", uuid::Uuid::now_v7().simple()));
    let station = Station::open(&dir).await.expect("open");
    station
        .enroll(&server.base_url, &code)
        .await
        .expect("enrol");
    station
        .sync(server.clock.as_ref())
        .await
        .expect("first sync");
    (station, dir)
}

async fn rice_on_hand(station: &Station) -> i64 {
    let levels = station.stock_levels().await.expect("levels");
    assert_eq!(levels.len(), 1, "{levels:?}");
    levels.values().copied().next().unwrap_or_default()
}

async fn two_stations_sell_through_an_outage_and_agree_afterwards(backend: &Backend) {
    let mut server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let (first, first_dir) = enrolled_station(&server, &shop, "Till 1").await;
    let (second, second_dir) = enrolled_station(&server, &shop, "Till 2").await;
    assert_eq!(rice_on_hand(&first).await, 20_000);

    server.pause().await;
    let clock = server.clock.clone();
    let mut sales = Vec::new();
    for (station, count) in [(&first, 3), (&second, 2)] {
        for _ in 0..count {
            let (sale, total) = station
                .sell(
                    clock.as_ref(),
                    shop.cashier,
                    &[("RICE".to_owned(), Quantity::from_milli(1_000))],
                )
                .await
                .expect("selling needs no server");
            assert_eq!(total, 12_000, "priced and taxed locally, tax-inclusive");
            sales.push(sale);
        }
        let offline = station.sync(clock.as_ref()).await;
        assert!(
            matches!(offline, Err(StationError::Unreachable { .. })),
            "{offline:?}"
        );
    }
    // Each till counts its own sales while offline; neither knows of the other's yet.
    assert_eq!(rice_on_hand(&first).await, 17_000);
    assert_eq!(rice_on_hand(&second).await, 18_000);

    server.resume().await;
    for station in [&first, &second, &first] {
        station
            .sync(clock.as_ref())
            .await
            .expect("sync after the outage");
    }
    for sale in &sales {
        let recorded = server
            .get(&format!("/api/v1/sales/{sale}"), &shop.token)
            .await;
        assert_eq!(recorded.status, 200, "sale {sale} reached the server");
    }
    let stock = server
        .get(
            &format!("/api/v1/branches/{}/stock", shop.branch),
            &shop.token,
        )
        .await;
    assert_eq!(
        stock.body["items"][0]["on_hand"], "15",
        "five sales, each once"
    );
    assert_eq!(rice_on_hand(&first).await, 15_000);
    assert_eq!(rice_on_hand(&second).await, 15_000);
    for station in [&first, &second] {
        let status = station.status().await.expect("status");
        assert_eq!((status.unsynced_ops, status.quarantined.len()), (0, 0));
        station.close().await;
    }
    server.stop().await;
    let _ = std::fs::remove_dir_all(first_dir);
    let _ = std::fs::remove_dir_all(second_dir);
}

const PATIENCE: Duration = Duration::from_secs(30);

/// A sync worker for `station`, once it has reached the service.
async fn online_worker(
    server: &TestServer,
    station: &Arc<Station>,
    settings: WorkerSettings,
) -> (
    SyncWorker,
    tokio::sync::watch::Receiver<nexus_pos::WorkerState>,
) {
    let worker = SyncWorker::start(station.clone(), server.clock.clone(), settings);
    let mut state = worker.state();
    tokio::time::timeout(
        PATIENCE,
        state.wait_for(|state| state.connectivity == Connectivity::Online),
    )
    .await
    .expect("online in time")
    .expect("worker alive");
    (worker, state)
}

async fn the_sync_worker_reconnects_by_itself(backend: &Backend) {
    let mut server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let (station, dir) = enrolled_station(&server, &shop, "Till 1").await;
    let station = Arc::new(station);
    let settings = WorkerSettings {
        retry_first: Duration::from_millis(20),
        retry_most: Duration::from_millis(200),
        pull_every: Duration::from_secs(3_600),
        backups: None,
    };
    let (worker, mut state) = online_worker(&server, &station, settings).await;
    let patience = PATIENCE;

    server.pause().await;
    let (sale, _) = station
        .sell(
            server.clock.as_ref(),
            shop.cashier,
            &[("RICE".to_owned(), Quantity::from_milli(2_000))],
        )
        .await
        .expect("sell");
    worker.wake();
    // The worker may have noticed the outage already, during the pause (the service answered
    // its waiting long pull as it stopped); either way the screen comes to show the sale.
    let offline = tokio::time::timeout(
        patience,
        state.wait_for(|state| {
            matches!(state.connectivity, Connectivity::Offline { .. }) && state.unsynced_ops > 0
        }),
    )
    .await
    .expect("offline noticed in time")
    .expect("worker alive")
    .clone();
    assert_eq!(
        offline.unsynced_ops, 1,
        "the cashier screen shows the unsynced sale"
    );
    assert!(offline.unsynced_since.is_some());

    // No one tells the worker: its probes find the server back and it syncs at once.
    server.resume().await;
    tokio::time::timeout(
        patience,
        state.wait_for(|state| {
            state.connectivity == Connectivity::Online && state.unsynced_ops == 0
        }),
    )
    .await
    .expect("synced after reconnection in time")
    .expect("worker alive");
    let recorded = server
        .get(&format!("/api/v1/sales/{sale}"), &shop.token)
        .await;
    assert_eq!(recorded.status, 200);

    // A revoked station is told so, and the worker says why instead of retrying blindly.
    let stations = server.get("/api/v1/stations", &shop.token).await;
    let id = stations.body[0]["id"]
        .as_str()
        .expect("station id")
        .to_owned();
    let revoked = server
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/stations/{id}"),
            Some(&shop.token),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    worker.wake();
    tokio::time::timeout(
        patience,
        state.wait_for(|state| matches!(state.connectivity, Connectivity::Refused(_))),
    )
    .await
    .expect("refusal noticed in time")
    .expect("worker alive");
    worker.stop().await;
    station.close().await;
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// What `GET /api/v1/stations` says of a till: the last push only moves when the till pushed
/// something, the last contact moves on every push or pull, and nothing is said to wait once a
/// full sync sent everything (the tills page showed "2 minutes" for a till that synced 2 s
/// before, `null` right after a full sync, and a stale "unsynced since").
async fn the_tills_list_tells_last_contact_from_last_push_and_clears_what_waits(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let shop = shop(&server).await;
    let (station, dir) = enrolled_station(&server, &shop, "Till 1").await;
    let listed = |server: &TestServer| {
        let token = shop.token.clone();
        let url = format!("{}/api/v1/stations", server.base_url);
        async move {
            let stations: serde_json::Value = reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("stations")
                .json()
                .await
                .expect("json");
            stations[0].clone()
        }
    };
    let clock = server.clock.clone();
    station
        .sell(
            clock.as_ref(),
            shop.cashier,
            &[("RICE".to_owned(), Quantity::from_milli(1_000))],
        )
        .await
        .expect("sell");
    let pushed_at = nexus_domain::Clock::now(clock.as_ref()).as_millis();
    station.sync(clock.as_ref()).await.expect("sync the sale");
    let after_push = listed(&server).await;
    assert_eq!(
        after_push["last_sync_at"].as_i64(),
        Some(pushed_at),
        "{after_push}"
    );
    assert_eq!(
        after_push["last_contact_at"].as_i64(),
        Some(pushed_at),
        "{after_push}"
    );
    assert!(
        after_push["unsynced_since"].is_null(),
        "nothing waits: {after_push}"
    );
    assert_eq!(after_push["unsynced_ops"].as_i64(), Some(0), "{after_push}");

    // Two minutes later the till syncs with nothing to push: it was in contact, it pushed
    // nothing.
    clock.advance(Duration::from_secs(120));
    let pulled_at = nexus_domain::Clock::now(clock.as_ref()).as_millis();
    station
        .sync(clock.as_ref())
        .await
        .expect("a sync with nothing to push");
    let after_pull = listed(&server).await;
    assert_eq!(
        after_pull["last_contact_at"].as_i64(),
        Some(pulled_at),
        "{after_pull}"
    );
    assert_eq!(
        after_pull["last_sync_at"].as_i64(),
        Some(pushed_at),
        "{after_pull}"
    );
    assert!(after_pull["unsynced_since"].is_null(), "{after_pull}");
    station.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    server.stop().await;
}

/// Long pulls answered by the service so far, from its metrics.
async fn pulls_answered(server: &TestServer) -> u64 {
    let url = server.metrics_url.as_deref().expect("metrics");
    let text = reqwest::get(url)
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    text.lines()
        .find_map(|line| {
            line.strip_prefix(
                "nexus_http_requests_total{method=\"GET\",route=\"/api/v1/sync/pull\",status=\"200\"} ",
            )
        })
        .and_then(|count| count.parse().ok())
        .unwrap_or(0)
}

async fn a_price_change_reaches_an_online_till_at_once_through_one_long_pull(backend: &Backend) {
    let server = TestServer::start_with(backend, |settings| {
        settings.metrics_listen = Some("127.0.0.1:0".parse().expect("address"));
    })
    .await;
    let shop = shop(&server).await;
    let (station, dir) = enrolled_station(&server, &shop, "Till 1").await;
    let station = Arc::new(station);
    // Each long pull may wait the longest the protocol allows: only the service's answer to a
    // change can bring the new price within the test's patience.
    let settings = WorkerSettings {
        retry_first: Duration::from_secs(60),
        retry_most: Duration::from_secs(60),
        pull_every: Duration::from_secs(nexus_sync::LONGEST_PULL_WAIT_SECONDS),
        backups: None,
    };
    let (worker, _state) = online_worker(&server, &station, settings).await;
    let patience = PATIENCE;
    let rice = station
        .find_product("RICE")
        .await
        .expect("find")
        .expect("rice on the till");
    assert_eq!(rice.price_minor, 12_000);
    let pulls_before = pulls_answered(&server).await;

    let changed = server
        .patch(
            &format!("/api/v1/products/{}", rice.id),
            &shop.token,
            json!({ "price_minor": 13_500 }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let price = station
            .find_product("RICE")
            .await
            .expect("find")
            .map(|product| product.price_minor);
        if price == Some(13_500) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the till still sells at {price:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        pulls_answered(&server).await - pulls_before,
        1,
        "the change came as the answer to the long pull that was waiting, and nothing else was asked"
    );
    worker.stop().await;
    station.close().await;
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
