//! Two `nexus serve` processes on one PostgreSQL database through PgBouncer in transaction mode,
//! each with a pool larger than PgBouncer's, serving many tenants at once: every request
//! succeeds and no tenant sees another's data.
//!
//! Runs when `NEXUS_TEST_PGBOUNCER_URL` names a PgBouncer in front of `NEXUS_TEST_DATABASE_URL`
//! (`bash .ci/pgbouncer start` gives one); under `CI=true` it must run.

use nexus_testkit::{Backend, ScratchDatabase};
use serde_json::{Value, json};

use crate::serve_process::ServeProcess;

/// Counts every request that does not answer as expected.
async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
    expected: u16,
    errors: &std::sync::atomic::AtomicUsize,
) -> Value {
    let mut request = client.request(method.clone(), &url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if status != expected {
        errors.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        eprintln!("{method} {url}: {status} (wanted {expected}): {answer}");
    }
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_through_pgbouncer_serve_concurrent_tenants_without_crossing() {
    let Some(Backend::Postgres {
        admin_url,
        pooler_url: Some(pooler_url),
    }) = Backend::postgres_from_env()
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but NEXUS_TEST_PGBOUNCER_URL is unset: the PgBouncer test must run in CI"
        );
        eprintln!("skipped: set NEXUS_TEST_DATABASE_URL and NEXUS_TEST_PGBOUNCER_URL to run it");
        return;
    };
    let mut database = ScratchDatabase::create(&admin_url, Some(&pooler_url)).await;
    let servers = [
        ServeProcess::start(&database.url(), &database.direct_url()),
        ServeProcess::start(&database.url(), &database.direct_url()),
    ];
    let client = reqwest::Client::new();
    let errors = std::sync::atomic::AtomicUsize::new(0);
    let base = |index: usize| format!("{}/api/v1", servers[index % 2].base_url);

    const TENANTS: usize = 8;
    const SALES: usize = 6;
    let shops = futures_util::future::join_all((0..TENANTS).map(|tenant| {
        let (client, errors) = (&client, &errors);
        async move {
            let registered = call(
                client,
                reqwest::Method::POST,
                format!("{}/auth/register", base(tenant)),
                None,
                Some(json!({
                    "organisation": format!("Shop {tenant}"),
                    "email": format!("owner{tenant}@pgbouncer.test"),
                    "password": "a long enough password",
                })),
                201,
                errors,
            )
            .await;
            let token = registered["access_token"].as_str().unwrap_or("").to_owned();
            let branch = call(
                client,
                reqwest::Method::POST,
                format!("{}/branches", base(tenant + 1)),
                Some(&token),
                Some(json!({ "name": "Osu" })),
                201,
                errors,
            )
            .await["id"]
                .clone();
            let product = call(
                client,
                reqwest::Method::POST,
                format!("{}/products", base(tenant)),
                Some(&token),
                Some(json!({ "sku": format!("SKU-{tenant}"), "name": "Rice", "price_minor": 1000 + tenant })),
                201,
                errors,
            )
            .await["id"]
                .clone();
            let mut sales = Vec::new();
            for sale in 0..SALES {
                let id = uuid::Uuid::now_v7().to_string();
                call(
                    client,
                    reqwest::Method::POST,
                    format!("{}/sales", base(tenant + sale)),
                    Some(&token),
                    Some(json!({
                        "id": id,
                        "branch_id": branch,
                        "lines": [{ "product_id": product, "quantity": 1 }],
                        "tenders": [{ "kind": "cash", "amount_minor": 5000 }],
                    })),
                    201,
                    errors,
                )
                .await;
                sales.push(id);
            }
            (token, sales)
        }
    }))
    .await;

    // Every tenant, through either process, sees its own product and sales and nobody else's.
    for (tenant, (token, sales)) in shops.iter().enumerate() {
        for server in 0..2 {
            let products = call(
                &client,
                reqwest::Method::GET,
                format!("{}/products", base(server)),
                Some(token),
                None,
                200,
                &errors,
            )
            .await;
            let skus: Vec<&str> = products["items"]
                .as_array()
                .or(products.as_array())
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| item["sku"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(
                skus,
                vec![format!("SKU-{tenant}").as_str()],
                "tenant {tenant}"
            );
            for sale in sales {
                let found = call(
                    &client,
                    reqwest::Method::GET,
                    format!("{}/sales/{sale}", base(server)),
                    Some(token),
                    None,
                    200,
                    &errors,
                )
                .await;
                assert_eq!(
                    found["total_minor"],
                    json!(1000 + tenant),
                    "tenant {tenant}"
                );
            }
        }
        let neighbour = &shops[(tenant + 1) % TENANTS].1[0];
        call(
            &client,
            reqwest::Method::GET,
            format!("{}/sales/{neighbour}", base(tenant)),
            Some(token),
            None,
            404,
            &errors,
        )
        .await;
    }
    assert_eq!(
        errors.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "every request answered as expected"
    );
    drop(servers);
    database.drop_now().await;
}
