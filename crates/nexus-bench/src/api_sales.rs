//! `api_sales`: online 5-line sales of one tenant's one branch through `POST /api/v1/sales`,
//! from `concurrency` clients at once, each sending its next sale when the last is answered.
//! Every sale sells from the same 20 products, as the tills of one busy shop do.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::service::BenchService;

pub(crate) async fn api_sales(
    database_url: String,
    concurrency: usize,
    seconds: u64,
) -> Result<String, String> {
    let concurrency = concurrency.max(1);
    let service = BenchService::start(&database_url, "api-sales").await?;
    let shop = service.shop("Online", "online@bench.example", 20).await?;
    eprintln!("{concurrency} clients selling for {seconds} s…");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut clients = tokio::task::JoinSet::new();
    for client_index in 0..concurrency {
        let http = service.client.clone();
        let url = format!("{}/api/v1/sales", service.base);
        let token = shop.token.clone();
        let branch = shop.branch.clone();
        let products = shop.products.clone();
        clients.spawn(async move {
            let mut latencies = Vec::new();
            let mut sale_index = client_index;
            while Instant::now() < deadline {
                let lines: Vec<_> = (0..5)
                    .map(|line| {
                        json!({ "product_id": products[(sale_index + line * 3) % products.len()], "quantity": 1 })
                    })
                    .collect();
                let body = json!({ "id": uuid::Uuid::now_v7(), "branch_id": branch, "lines": lines,
                    "tenders": [{ "kind": "cash", "amount_minor": 100_000 }] });
                let sent = Instant::now();
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .map_err(|error| error.to_string())?;
                let status = response.status();
                let answer = response.text().await.map_err(|error| error.to_string())?;
                if status != reqwest::StatusCode::CREATED {
                    return Err(format!("a sale was answered {status}: {answer}"));
                }
                latencies.push(sent.elapsed());
                sale_index += concurrency;
            }
            Ok::<_, String>(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(joined) = clients.join_next().await {
        latencies.extend(joined.map_err(|error| error.to_string())??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    service.stop().await;
    latencies.sort();
    eprintln!(
        "{} sales in {elapsed:.1} s, p50 {:.1} ms",
        latencies.len(),
        crate::percentile(&latencies, 50)
    );
    Ok(format!(
        "api_sales backend=postgres concurrency={concurrency} sales_per_s={:.0} p99_ms={:.1}",
        latencies.len() as f64 / elapsed,
        crate::percentile(&latencies, 99)
    ))
}
