//! Tenant isolation below the API: one connection shared by two tenants. (Isolation through
//! every API operation is tested from the OpenAPI document in `contract`.)

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::{Value, json};

backend_tests!(two_tenants_through_one_connection_never_cross);

/// With a pool of one connection every request of both tenants shares one PostgreSQL session:
/// a search path that outlived its transaction would show up here as crossed rows. On SQLite the
/// same test checks the per-tenant files.
async fn two_tenants_through_one_connection_never_cross(backend: &Backend) {
    let server =
        TestServer::start_with(backend, |settings| settings.database_max_connections = 1).await;
    let tenant_a = server.register("Single A").await;
    let tenant_b = server.register("Single B").await;
    let base_url = server.base_url.clone();
    let mut tasks = Vec::new();
    for round in 0..12 {
        for (label, owner) in [("A", &tenant_a), ("B", &tenant_b)] {
            let token = owner.access_token.clone();
            let url = base_url.clone();
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                let created = client
                    .post(format!("{url}/api/v1/branches"))
                    .bearer_auth(&token)
                    .json(&json!({ "name": format!("{label}-{round}") }))
                    .send()
                    .await
                    .expect("create");
                assert_eq!(created.status(), 201);
                let listed: Value = client
                    .get(format!("{url}/api/v1/branches"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("list")
                    .json()
                    .await
                    .expect("json");
                for branch in listed.as_array().expect("array") {
                    let name = branch["name"].as_str().expect("name");
                    assert!(name.starts_with(label), "tenant {label} saw {name}");
                }
            }));
        }
    }
    for task in tasks {
        task.await.expect("request task");
    }
    for (label, owner) in [("A", &tenant_a), ("B", &tenant_b)] {
        let listed = server
            .get("/api/v1/branches", &owner.access_token)
            .await
            .body;
        let names: Vec<&str> = listed
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|branch| branch["name"].as_str())
            .collect();
        assert_eq!(names.len(), 12, "{label}: {names:?}");
        assert!(
            names.iter().all(|name| name.starts_with(label)),
            "{label}: {names:?}"
        );
    }

    if let Some(url) = server.database_url() {
        // Outside a tenant transaction the search path names no tenant schema: a query that
        // forgot its tenant fails instead of reading someone's rows.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .expect("connect");
        let store = nexus_store::postgres::PgStore::connect(
            url,
            &nexus_store::StoreOptions {
                max_connections: 1,
                ..Default::default()
            },
        )
        .await
        .expect("store");
        let tenant: nexus_domain::TenantId = tenant_a.tenant_id.parse().expect("tenant id");
        use nexus_store::BranchStore as _;
        assert_eq!(
            store.list_branches(tenant).await.expect("branches").len(),
            12
        );
        // Unnamed statements, as the store's own: through PgBouncer a named one would fail for
        // another reason and prove nothing.
        let missing = |answer: Result<Vec<sqlx::postgres::PgRow>, sqlx::Error>| {
            answer
                .err()
                .is_some_and(|error| error.to_string().contains("\"branches\" does not exist"))
        };
        let leaked = sqlx::query("SELECT id FROM branches")
            .persistent(false)
            .fetch_all(store.pool())
            .await;
        assert!(
            missing(leaked),
            "after a tenant transaction the same connection must not see tenant tables"
        );
        let fresh = sqlx::query("SELECT id FROM branches")
            .persistent(false)
            .fetch_all(&pool)
            .await;
        assert!(missing(fresh), "a plain connection sees no tenant tables");
        pool.close().await;
        store.pool().close().await;
    }
    server.stop().await;
}
