//! A push's answers commit with the sales it ends on: a fault while writing them leaves neither
//! the sales nor their answers, and the station's retry applies them once.

use nexus_testkit::{Backend, TestServer, backend_tests};
use sqlx::Connection as _;

use crate::sync::{batch, on_hand, push, sale_op, statuses, till};

backend_tests!(a_fault_in_the_last_write_keeps_neither_the_sales_nor_their_answers);

/// Runs statements in the tenant's own storage, behind the service's back: `postgres` on
/// PostgreSQL, `sqlite` on SQLite.
async fn in_tenant(server: &TestServer, tenant: &str, postgres: &[&str], sqlite: &[&str]) {
    let tenant: nexus_domain::TenantId = tenant.parse().expect("tenant id");
    match server.direct_database_url() {
        Some(url) => {
            let mut connection = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::query(&format!("SET search_path TO \"{}\"", tenant.storage_name()))
                .execute(&mut connection)
                .await
                .expect("schema");
            for statement in postgres {
                sqlx::query(statement)
                    .execute(&mut connection)
                    .await
                    .expect(statement);
            }
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
            for statement in sqlite {
                sqlx::query(statement)
                    .execute(&mut connection)
                    .await
                    .expect(statement);
            }
        }
    }
}

async fn a_fault_in_the_last_write_keeps_neither_the_sales_nor_their_answers(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let tenant = till.owner.tenant_id.clone();
    let sales = vec![
        sale_op(&till, 1, &till.cashier),
        sale_op(&till, 2, &till.cashier),
    ];
    assert_eq!(on_hand(&server, &till).await, "0");
    // Writing a push's answers fails as a disk would. They share one transaction with the
    // sales; when they had one of their own, the sales had committed before it failed.
    in_tenant(
        &server,
        &tenant,
        &[
            "CREATE FUNCTION refuse_answers() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'the disk went away' USING ERRCODE = '58030'; END $$",
            "CREATE TRIGGER refuse_answers BEFORE INSERT ON sync_ops \
             FOR EACH ROW EXECUTE FUNCTION refuse_answers()",
        ],
        &["CREATE TRIGGER refuse_answers BEFORE INSERT ON sync_ops \
           BEGIN SELECT RAISE(ABORT, 'the disk went away'); END"],
    )
    .await;
    let (status, answer) = push(&server, &till, batch(sales.clone())).await;
    assert!(status >= 500, "{status} {answer}");
    for sale in &sales {
        let id = sale["entity_id"].as_str().expect("sale id");
        let found = server
            .get(&format!("/api/v1/sales/{id}"), &till.owner.access_token)
            .await;
        assert_eq!(found.status, 404, "{:?}", found.body);
    }
    assert_eq!(on_hand(&server, &till).await, "0");

    in_tenant(
        &server,
        &tenant,
        &[
            "DROP TRIGGER refuse_answers ON sync_ops",
            "DROP FUNCTION refuse_answers()",
        ],
        &["DROP TRIGGER refuse_answers"],
    )
    .await;
    let (status, answer) = push(&server, &till, batch(sales.clone())).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        statuses(&answer),
        vec![(1, "applied".into()), (2, "applied".into())],
        "{answer}"
    );
    assert_eq!(answer["acknowledged_seq"], 2, "{answer}");
    // The same push again is answered from the recorded answers, and nothing moves twice.
    let (_, again) = push(&server, &till, batch(sales)).await;
    assert_eq!(
        statuses(&again),
        vec![(1, "duplicate".into()), (2, "duplicate".into())],
        "{again}"
    );
    assert_eq!(on_hand(&server, &till).await, "-2");
    server.stop().await;
}
