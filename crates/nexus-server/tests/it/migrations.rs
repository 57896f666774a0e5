//! Tenant migrations: a run with nothing to do does nothing; a tenant whose recorded version lags
//! is brought up and recorded; runs can be repeated.

use std::future::pending;

use nexus_store::migrate::migrate_all_tenants;
use nexus_testkit::{Backend, TestServer, backend_tests};
use sqlx::Connection as _;

backend_tests!(
    migrate_is_idempotent_and_repairs_lagging_tenants,
    an_interrupted_run_is_finished_by_the_next
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
