//! Tenant migrations: a run with nothing to do does nothing; a tenant whose recorded version lags
//! is brought up and recorded; runs can be repeated.

use std::future::pending;

use nexus_store::migrate::migrate_all_tenants;
use nexus_testkit::{Backend, TestServer, backend_tests};
use sqlx::Connection as _;

backend_tests!(
    migrate_is_idempotent_and_repairs_lagging_tenants,
    an_interrupted_run_is_finished_by_the_next,
    migration_10_brings_existing_branches_and_shop_details_to_the_tills
);

/// Marks `tenant` as being at schema version 0 in the control directory, as a tenant created by
/// an older build would be.
async fn mark_outdated(server: &TestServer, tenant: &str) {
    let tenant: uuid::Uuid = tenant.parse().expect("tenant id");
    match server.direct_database_url() {
        Some(url) => {
            let mut connection = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::query("UPDATE nexus_control.tenants SET schema_version = 0 WHERE id = $1")
                .bind(tenant)
                .execute(&mut connection)
                .await
                .expect("update");
        }
        None => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(server.data_dir().join("control.db"));
            let mut connection = sqlx::SqliteConnection::connect_with(&options)
                .await
                .expect("open control.db");
            sqlx::query("UPDATE tenants SET schema_version = 0 WHERE id = $1")
                .bind(tenant)
                .execute(&mut connection)
                .await
                .expect("update");
        }
    }
}

async fn migrate_is_idempotent_and_repairs_lagging_tenants(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let first = server.register("Old Shop").await;
    let second = server.register("New Shop").await;

    let nothing = migrate_all_tenants(server.store.as_ref(), 4, |_| {}, pending())
        .await
        .expect("migrate");
    assert_eq!(
        (nothing.total, nothing.migrated, nothing.failures.len()),
        (0, 0, 0)
    );

    mark_outdated(&server, &first.tenant_id).await;
    let outdated = server.store.outdated_tenants().await.expect("outdated");
    assert_eq!(outdated.len(), 1);
    assert_eq!(outdated[0].to_string(), first.tenant_id);

    let mut seen = Vec::new();
    let report = migrate_all_tenants(
        server.store.as_ref(),
        2,
        |progress| seen.push(progress.done),
        pending(),
    )
    .await
    .expect("migrate");
    assert_eq!(report.total, 1);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(seen, vec![1], "progress is reported per tenant");
    assert!(
        server
            .store
            .outdated_tenants()
            .await
            .expect("outdated")
            .is_empty()
    );

    let again = migrate_all_tenants(server.store.as_ref(), 4, |_| {}, pending())
        .await
        .expect("migrate");
    assert_eq!(again.total, 0, "a second run has nothing to do");
    let tenants = server.store.list_tenants().await.expect("tenants");
    let current = nexus_store::sqlite::TENANT_MIGRATIONS.len();
    assert!(
        tenants
            .iter()
            .all(|tenant| usize::try_from(tenant.schema_version).ok() == Some(current))
    );
    assert_eq!(
        server.get("/api/v1/me", &second.access_token).await.status,
        200
    );
    assert_eq!(
        server.get("/api/v1/me", &first.access_token).await.status,
        200
    );
    server.stop().await;
}

async fn an_interrupted_run_is_finished_by_the_next(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let mut tenants = Vec::new();
    for index in 0..3 {
        let owner = server.register(&format!("Shop {index}")).await;
        mark_outdated(&server, &owner.tenant_id).await;
        tenants.push(owner);
    }
    let stopped = migrate_all_tenants(server.store.as_ref(), 2, |_| {}, std::future::ready(()))
        .await
        .expect("migrate");
    assert!(stopped.interrupted);
    assert_eq!(stopped.total, 3);
    let left = server
        .store
        .outdated_tenants()
        .await
        .expect("outdated")
        .len();
    assert_eq!(
        left,
        3 - stopped.migrated - stopped.already_current,
        "what was not reached is still outdated"
    );

    let finished = migrate_all_tenants(server.store.as_ref(), 2, |_| {}, pending())
        .await
        .expect("migrate");
    assert!(!finished.interrupted);
    assert_eq!(finished.total, left);
    assert!(
        server
            .store
            .outdated_tenants()
            .await
            .expect("outdated")
            .is_empty()
    );
    server.stop().await;
}

/// Runs `statements` on `tenant`'s own schema, then answers `(entity, payload)` of its `branch`
/// and `shop` changes in order, and whether the change counter is at the last change.
async fn on_tenant(
    server: &TestServer,
    tenant: &str,
    statements: &[&str],
) -> (Vec<(String, serde_json::Value)>, bool) {
    let tenant: nexus_domain::TenantId = tenant.parse().expect("tenant id");
    let read =
        "SELECT entity, payload FROM changes WHERE entity IN ('branch', 'shop') ORDER BY seq";
    let counted = "SELECT (SELECT last_seq FROM change_counter) = (SELECT MAX(seq) FROM changes)";
    let (rows, at_last): (Vec<(String, String)>, bool) = match server.direct_database_url() {
        Some(url) => {
            let mut connection = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::query(&format!("SET search_path TO \"{}\"", tenant.storage_name()))
                .execute(&mut connection)
                .await
                .expect("schema");
            for statement in statements {
                sqlx::query(statement)
                    .execute(&mut connection)
                    .await
                    .expect(statement);
            }
            (
                sqlx::query_as(read)
                    .fetch_all(&mut connection)
                    .await
                    .expect("read"),
                sqlx::query_scalar(counted)
                    .fetch_one(&mut connection)
                    .await
                    .expect("counter"),
            )
        }
        None => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(
                server
                    .data_dir()
                    .join("tenants")
                    .join(format!("{}.db", tenant.storage_name())),
            );
            let mut connection = sqlx::SqliteConnection::connect_with(&options)
                .await
                .expect("open the tenant's file");
            for statement in statements {
                sqlx::query(statement)
                    .execute(&mut connection)
                    .await
                    .expect(statement);
            }
            (
                sqlx::query_as(read)
                    .fetch_all(&mut connection)
                    .await
                    .expect("read"),
                sqlx::query_scalar(counted)
                    .fetch_one(&mut connection)
                    .await
                    .expect("counter"),
            )
        }
    };
    let rows = rows
        .into_iter()
        .map(|(entity, payload)| (entity, serde_json::from_str(&payload).expect("JSON")))
        .collect();
    (rows, at_last)
}

/// A tenant from before tenant migration 10 (branches and shop details never logged as
/// changes) gets them as changes when it is migrated, read by the protocol's record types, so
/// its tills learn the other branches and print the shop's header.
async fn migration_10_brings_existing_branches_and_shop_details_to_the_tills(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Old Shop").await;
    let osu = server.create_branch(&owner.access_token, "Osu").await;
    let makola = server.create_branch(&owner.access_token, "Makola").await;
    let tenant: nexus_domain::TenantId = owner.tenant_id.parse().expect("tenant id");
    let details = nexus_store::ShopDetails {
        trading_name: Some("Old Shop \"Enterprise\"".to_owned()),
        address: None,
        phone: Some("030 222 3333".to_owned()),
        tin: None,
        receipt_footer: None,
        skipped_steps: Vec::new(),
    };
    server
        .store
        .update_shop_details(
            tenant,
            &details,
            nexus_domain::Clock::now(server.clock.as_ref()),
        )
        .await
        .expect("details");
    // On PostgreSQL, migration 12 also gave the version row its primary key.
    if matches!(backend, Backend::Postgres { .. }) {
        on_tenant(
            &server,
            &owner.tenant_id,
            &["ALTER TABLE schema_version DROP CONSTRAINT schema_version_pkey"],
        )
        .await;
    }
    // As the tenant was at version 9: nothing of the kind logged.
    let (before, _) = on_tenant(
        &server,
        &owner.tenant_id,
        &[
            "DELETE FROM changes WHERE entity IN ('branch', 'shop')",
            // Nor anything of migration 14 (mobile-money reconciliation).
            "DROP TABLE momo_verdicts",
            "DROP TABLE momo_payments",
            "DROP TABLE momo_statements",
            "DROP TABLE momo_mappings",
            "DROP TABLE momo_requests",
            "DROP TABLE momo_accounts",
            "ALTER TABLE sales DROP COLUMN approved_by",
            // Nor anything of migration 12 (customer accounts) or 11 (categories and costs).
            "DROP TABLE account_entries",
            "DROP TABLE product_costs",
            "DROP TABLE purchase_order_receipts",
            "DROP TABLE purchase_order_lines",
            "DROP TABLE purchase_orders",
            "DROP TABLE suppliers",
            "DROP TABLE product_packs",
            "ALTER TABLE products DROP COLUMN wholesale_price_minor",
            "ALTER TABLE sales DROP COLUMN price_list",
            "ALTER TABLE customers DROP COLUMN price_list",
            "ALTER TABLE customers DROP COLUMN credit_limit_minor",
            "ALTER TABLE customers DROP COLUMN updated_at",
            "ALTER TABLE sale_lines DROP COLUMN pack_name",
            "ALTER TABLE sale_lines DROP COLUMN pack_units",
            "DROP TABLE categories",
            "ALTER TABLE products DROP COLUMN category_id",
            "ALTER TABLE products DROP COLUMN cost_minor",
            "ALTER TABLE sale_lines DROP COLUMN unit_cost_minor",
            "ALTER TABLE sale_lines DROP COLUMN cost_minor",
            "ALTER TABLE daily_products DROP COLUMN net_minor",
            "ALTER TABLE daily_products DROP COLUMN cost_minor",
            "ALTER TABLE daily_products DROP COLUMN uncosted_milli",
            "UPDATE schema_version SET version = 9",
        ],
    )
    .await;
    assert!(before.is_empty());
    mark_outdated(&server, &owner.tenant_id).await;
    let report = migrate_all_tenants(server.store.as_ref(), 2, |_| {}, pending())
        .await
        .expect("migrate");
    assert!(report.failures.is_empty(), "{:?}", report.failures);

    let (after, at_last) = on_tenant(&server, &owner.tenant_id, &[]).await;
    assert!(at_last, "the change counter moved past what was added");
    let branches: Vec<nexus_sync::BranchRecord> = after
        .iter()
        .filter(|(entity, _)| entity == "branch")
        .map(|(_, payload)| serde_json::from_value(payload.clone()).expect("a branch record"))
        .collect();
    // Both were made in the same millisecond of the test's clock: their order is the ids'.
    let named: std::collections::BTreeSet<(String, String)> = branches
        .iter()
        .map(|branch| (branch.id.to_string(), branch.name.clone()))
        .collect();
    assert_eq!(named.len(), branches.len(), "each branch once");
    assert_eq!(
        named,
        [(osu, "Osu".to_owned()), (makola, "Makola".to_owned())]
            .into_iter()
            .collect()
    );
    let shop: Vec<nexus_sync::ShopRecord> = after
        .iter()
        .filter(|(entity, _)| entity == "shop")
        .map(|(_, payload)| serde_json::from_value(payload.clone()).expect("a shop record"))
        .collect();
    assert_eq!(shop.len(), 1);
    assert_eq!(shop[0].trading_name, details.trading_name);
    assert_eq!(shop[0].phone, details.phone);
    assert_eq!(shop[0].address, None);
    server.stop().await;
}
