//! A real station against a real server on 127.0.0.1:0: enrolment, selling with no network,
//! sync (push and pull), retries, quarantine, and a server that is gone.

mod accounts;
mod backup;
mod browser;
mod controls;
mod credit_browser;
mod end_to_end;
mod fits;
mod momo_browser;
mod orders;
mod packs;
mod printing;
mod receipt_golden;
mod screen;
mod simulation;
mod stock_screens;
mod till;
mod upgrade;
mod webdriver;
mod wholesale;

use nexus_pos::{Station, StationError};
use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::{Value, json};

backend_tests!(a_station_sells_offline_and_syncs_everything_once);

fn scratch() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("nexus-pos-test-{}", uuid::Uuid::now_v7().simple()))
}

fn sale(branch: &str, product: &str) -> Value {
    json!({ "id": uuid::Uuid::now_v7(), "branch_id": branch, "occurred_at": 1_767_225_000_000_i64,
            "lines": [{ "product_id": product, "quantity": 1, "unit_price_minor": 1200 }],
            "tenders": [{ "kind": "cash", "amount_minor": 1200 }] })
}

/// A sale body as the protocol reads it.
fn new_sale(body: Value) -> nexus_sync::NewSale {
    serde_json::from_value(body).expect("a sale the protocol reads")
}

async fn a_station_sells_offline_and_syncs_everything_once(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Station Shop").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Makola").await;
    let rice = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "RICE", "name": "Rice", "price_minor": 1200 }),
        )
        .await
        .id();
    let cashier: uuid::Uuid = server
        .post("/api/v1/staff", token, json!({ "email": format!("c-{}@x.gh", uuid::Uuid::new_v4().simple()), "name": "Efua", "role": "cashier", "branch_ids": [branch], "pin": "4821" }))
        .await
        .id()
        .parse()
        .expect("uuid");
    let code = server
        .post(
            "/api/v1/stations",
            token,
            json!({ "branch_id": branch, "name": "Till 1" }),
        )
        .await
        .body["enrolment_code"]
        .as_str()
        .expect("code")
        .to_owned();

    let data = scratch();
    let station = Station::open(&data).await.expect("open");
    assert!(matches!(
        station.sync(server.clock.as_ref()).await,
        Err(StationError::NotEnrolled)
    ));
    station
        .enroll(&server.base_url, &code)
        .await
        .expect("enroll");
    assert!(station.status().await.expect("status").enrolled);

    // Selling needs no network: three sales go to the outbox with gap-free seqs.
    let mut sales = Vec::new();
    for expected_seq in 1..=3 {
        let body = sale(&branch, &rice);
        sales.push(body["id"].as_str().expect("id").to_owned());
        assert_eq!(
            station
                .record_sale(server.clock.as_ref(), cashier, new_sale(body))
                .await
                .expect("record"),
            expected_seq
        );
    }
    let before = station.status().await.expect("status");
    assert_eq!(before.unsynced_ops, 3);
    assert!(before.unsynced_since.is_some());

    let report = station.sync(server.clock.as_ref()).await.expect("sync");
    assert_eq!((report.pushed, report.rejected), (3, 0), "{report:?}");
    assert!(
        report.pulled >= 2,
        "settings and catalogue come down: {report:?}"
    );
    for id in &sales {
        let recorded = server.get(&format!("/api/v1/sales/{id}"), token).await;
        assert_eq!(
            recorded.status, 200,
            "the server holds every sale the station recorded"
        );
    }
    let stock = server
        .get(&format!("/api/v1/branches/{branch}/stock"), token)
        .await;
    assert_eq!(stock.body["items"][0]["on_hand"], "-3", "each sale once");
    let after = station.status().await.expect("status");
    assert_eq!((after.unsynced_ops, after.unsynced_since), (0, None));
    assert!(after.last_sync_at.is_some() && after.pull_cursor > 0);
    assert_eq!(
        station
            .replica("product", &rice)
            .await
            .expect("replica")
            .map(|product| product["sku"].clone()),
        Some(json!("RICE"))
    );

    // Syncing again sends nothing and changes nothing.
    assert_eq!(
        station
            .sync(server.clock.as_ref())
            .await
            .expect("sync")
            .pushed,
        0
    );

    // A sale the server refuses is quarantined and does not block the next one.
    let mut bad = sale(&branch, &rice);
    bad["lines"][0]["product_id"] = json!(uuid::Uuid::now_v7());
    station
        .record_sale(server.clock.as_ref(), cashier, new_sale(bad))
        .await
        .expect("record");
    station
        .record_sale(
            server.clock.as_ref(),
            cashier,
            new_sale(sale(&branch, &rice)),
        )
        .await
        .expect("record");
    let report = station.sync(server.clock.as_ref()).await.expect("sync");
    assert_eq!((report.pushed, report.rejected), (2, 1));
    let status = station.status().await.expect("status");
    assert_eq!(status.unsynced_ops, 0);
    assert_eq!(status.quarantined.len(), 1);
    assert_eq!(status.quarantined[0].seq, 4);

    // The server goes away: selling goes on, sync says so clearly, nothing is lost.
    server.stop().await;
    station
        .record_sale(
            &nexus_domain::SystemClock,
            cashier,
            new_sale(sale(&branch, &rice)),
        )
        .await
        .expect("record offline");
    let offline = station.sync(&nexus_domain::SystemClock).await;
    assert!(
        matches!(offline, Err(StationError::Unreachable { .. })),
        "{offline:?}"
    );
    assert_eq!(
        station.status().await.expect("status").unsynced_ops,
        1,
        "kept for the next sync"
    );
    let _ = std::fs::remove_dir_all(&data);
}
