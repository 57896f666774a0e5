//! `catalogue_import`: a CSV of `rows` new products imported through the real endpoint while a
//! cashier rings up sales one after another through the API; the time from the upload to the
//! job's end, and the longest any sale waited meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nexus_domain::SystemClock;
use nexus_server::{App, SecretString, Settings};
use serde_json::{Value, json};

use crate::recreate_database;

fn text<E: std::fmt::Display>(error: E) -> String {
    error.to_string()
}

async fn answer(response: reqwest::Response) -> Result<Value, String> {
    let status = response.status();
    let url = response.url().to_string();
    let value: Value = response.json().await.map_err(text)?;
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!("{url}: {status} {value}"))
    }
}

pub(crate) async fn catalogue_import(
    postgres: Option<String>,
    rows: usize,
) -> Result<String, String> {
    let scratch = std::env::temp_dir().join(format!("nexus-bench-import-{}", uuid::Uuid::now_v7()));
    let mut settings = Settings::defaults();
    settings.data_dir = scratch.clone();
    settings.log = "warn".to_owned();
    if let Some(url) = &postgres {
        recreate_database(url).await?;
        settings.database_url = Some(SecretString::new(url.clone()));
    }
    let backend = if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let app = App::open(settings, Arc::new(SystemClock))
        .await
        .map_err(text)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(text)?;
    let base = format!("http://{}/api/v1", listener.local_addr().map_err(text)?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));

    let http = reqwest::Client::new();
    let registered = answer(
        http.post(format!("{base}/auth/register"))
            .json(&json!({ "organisation": "Import Bench", "email": "owner@import.bench", "password": "bench password" }))
            .send()
            .await
            .map_err(text)?,
    )
    .await?;
    let token = registered["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let branch = answer(
        http.post(format!("{base}/branches"))
            .bearer_auth(&token)
            .json(&json!({ "name": "Osu" }))
            .send()
            .await
            .map_err(text)?,
    )
    .await?["id"]
        .as_str()
        .ok_or("no branch")?
        .to_owned();
    let rice = answer(
        http.post(format!("{base}/products"))
            .bearer_auth(&token)
            .json(&json!({ "sku": "RICE-1KG", "name": "Rice 1kg", "price_minor": 2200 }))
            .send()
            .await
            .map_err(text)?,
    )
    .await?["id"]
        .as_str()
        .ok_or("no product")?
        .to_owned();

    let mut csv = String::from("sku,name,price,barcode,tax_class,reorder_level\n");
    for row in 0..rows {
        csv.push_str(&format!(
            "SKU-{row:06},Product number {row},{}.{:02},60300{row:08},standard,{}\n",
            1 + row % 500,
            row % 100,
            row % 7
        ));
    }
    eprintln!(
        "importing {rows} products ({} bytes) while selling…",
        csv.len()
    );
    let started = Instant::now();
    let job = answer(
        http.post(format!("{base}/products/import"))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .map_err(text)?,
    )
    .await?;
    let job_url = format!("{base}/jobs/{}", job["id"].as_str().ok_or("no job")?);
    let mut longest = Duration::ZERO;
    let mut sales = 0;
    let outcome = loop {
        let sale_started = Instant::now();
        answer(
            http.post(format!("{base}/sales"))
                .bearer_auth(&token)
                .json(&json!({
                    "id": uuid::Uuid::now_v7(), "branch_id": branch,
                    "lines": [{ "product_id": rice, "quantity": 1 }],
                    "tenders": [{ "kind": "cash", "amount_minor": 2200 }],
                }))
                .send()
                .await
                .map_err(text)?,
        )
        .await?;
        longest = longest.max(sale_started.elapsed());
        sales += 1;
        let state = answer(
            http.get(&job_url)
                .bearer_auth(&token)
                .send()
                .await
                .map_err(text)?,
        )
        .await?;
        if state["state"] != "running" {
            break state;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!("{sales} sales during the import; the job said {outcome}");
    if outcome["state"] != "succeeded" || outcome["created"].as_u64() != Some(rows as u64) {
        return Err(format!(
            "the import did not create every product: {outcome}"
        ));
    }
    Ok(format!(
        "catalogue_import backend={backend} rows={rows} seconds={seconds:.2} max_sale_wait_ms={:.0}",
        longest.as_secs_f64() * 1000.0
    ))
}
