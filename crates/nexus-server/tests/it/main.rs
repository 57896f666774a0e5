//! Integration tests: the real server on 127.0.0.1:0, driven over HTTP, on SQLite always and on
//! PostgreSQL when NEXUS_TEST_DATABASE_URL is set.

mod accounts;
mod auth;
mod billing;
mod catalogue;
mod connections;
mod contract;
mod customers;
mod errors;
mod hardening;
mod items;
mod ledger;
mod mail;
mod migrations;
mod momo;
mod momo_requests;
mod operations;
mod purchasing;
mod reports;
mod sales;
mod sharding;
mod staff_and_branches;
mod stations;
mod sync;
mod sync_atomic;
mod tenancy;
mod vat;
mod webhook_fixtures;

use nexus_testkit::TestServer;

/// A cashier of `branch`, signed in: their access token.
async fn cashier_of(server: &TestServer, token: &str, branch: &str) -> String {
    let email = format!("c-{}@x.gh", uuid::Uuid::new_v4().simple());
    let body = serde_json::json!({ "email": email, "name": "Esi", "role": "cashier",
        "branch_ids": [branch], "password": "cashier password" });
    assert_eq!(server.post("/api/v1/staff", token, body).await.status, 201);
    server.login(&email, "cashier password").await.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// On-hand of `product` at `branch` as the API says it, "none" without a level.
async fn on_hand_at(server: &TestServer, token: &str, branch: &str, product: &str) -> String {
    let stock = server
        .get(&format!("/api/v1/branches/{branch}/stock"), token)
        .await;
    stock.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| item["product_id"] == product)
        .and_then(|item| item["on_hand"].as_str())
        .unwrap_or("none")
        .to_owned()
}
