//! What a probe of the service found: a cashier could set any price, and a NUL character was a
//! 500 on PostgreSQL and, through sync, a till that never synced again.

use nexus_testkit::{Backend, TestServer, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

use crate::sync::{batch, op, push, sale_op, statuses, till};

backend_tests!(
    a_cashier_may_not_set_a_price_and_a_manager_may,
    a_station_sale_beyond_its_cashiers_rights_is_kept_and_flagged,
    control_characters_are_refused_naming_the_field,
    a_poisoned_op_between_two_good_ones_does_not_block_them,
    the_database_refusing_data_is_the_requests_fault
);

async fn sign_in_as(server: &TestServer, email: &str, password: &str) -> String {
    let signed_in = server.login(email, password).await;
    assert_eq!(signed_in.status, 200, "{:?}", signed_in.body);
    signed_in.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn sale_at(branch: &str, product: &str, price: i64) -> Value {
    json!({
        "id": uuid::Uuid::now_v7(), "branch_id": branch,
        "lines": [{ "product_id": product, "quantity": 1, "unit_price_minor": price }],
        "tenders": [{ "kind": "cash", "amount_minor": 2000 }],
    })
}

async fn a_cashier_may_not_set_a_price_and_a_manager_may(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Price Check").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Osu").await;
    let rice = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "RICE", "name": "Rice", "price_minor": 1200 }),
        )
        .await
        .id();
    for (email, role) in [
        ("cashier@price.gh", "cashier"),
        ("manager@price.gh", "manager"),
    ] {
        let added = server
            .post("/api/v1/staff", token, json!({ "email": email, "name": role, "role": role, "branch_ids": [branch], "password": "a long password" }))
            .await;
        assert_eq!(added.status, 201, "{:?}", added.body);
    }
    let cashier = sign_in_as(&server, "cashier@price.gh", "a long password").await;
    let refused = server
        .post("/api/v1/sales", &cashier, sale_at(&branch, &rice, 0))
        .await;
    assert_eq!((refused.status, refused.error_code()), (403, "forbidden"));
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("set_price"),
        "the refusal names the permission: {:?}",
        refused.body
    );
    let at_catalogue_price = server
        .post("/api/v1/sales", &cashier, sale_at(&branch, &rice, 1200))
        .await;
    assert_eq!(
        at_catalogue_price.status, 201,
        "{:?}",
        at_catalogue_price.body
    );
    let manager = sign_in_as(&server, "manager@price.gh", "a long password").await;
    let reduced = server
        .post("/api/v1/sales", &manager, sale_at(&branch, &rice, 1000))
        .await;
    assert_eq!(
        (reduced.status, reduced.body["total_minor"].as_i64()),
        (201, Some(1000)),
        "{:?}",
        reduced.body
    );
    server.stop().await;
}

async fn a_station_sale_beyond_its_cashiers_rights_is_kept_and_flagged(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let mut free_rice = sale_op(&till, 1, &till.cashier);
    free_rice["payload"]["sale"]["lines"][0]["unit_price_minor"] = json!(0);
    let sale_id = free_rice["entity_id"].as_str().expect("id").to_owned();
    let normal = sale_op(&till, 2, &till.cashier);
    let (status, answer) = push(&server, &till, batch(vec![free_rice, normal])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        statuses(&answer),
        vec![(1, "applied".to_owned()), (2, "applied".to_owned())],
        "the sale happened at the till: it is never dropped"
    );
    let owner = till.owner.access_token.as_str();
    let recorded = server.get(&format!("/api/v1/sales/{sale_id}"), owner).await;
    assert_eq!(recorded.body["total_minor"], 0, "{:?}", recorded.body);
    let exceptions = server.get("/api/v1/sync/exceptions", owner).await;
    assert_eq!(exceptions.status, 200, "{:?}", exceptions.body);
    let items = exceptions.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "only the sale beyond the rights: {items:?}");
    assert_eq!(items[0]["sale_id"], sale_id.as_str());
    assert_eq!(items[0]["kind"], "price_override");
    assert_eq!(items[0]["staff_id"], till.cashier.as_str());
    assert!(
        items[0]["detail"].as_str().unwrap_or("").contains("0.00"),
        "{:?}",
        items[0]
    );
    // Pushed again (a lost answer), nothing is flagged twice.
    let mut again = sale_op(&till, 1, &till.cashier);
    again["op_id"] = json!(uuid::Uuid::now_v7());
    let _ = push(&server, &till, batch(vec![again])).await;
    let after = server.get("/api/v1/sync/exceptions", owner).await;
    assert_eq!(after.body["items"].as_array().map(Vec::len), Some(1));
    server.stop().await;
}

async fn control_characters_are_refused_naming_the_field(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Poison").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Osu").await;
    let rice = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "RICE", "name": "Rice", "price_minor": 1200 }),
        )
        .await
        .id();
    let sale = server
        .post("/api/v1/sales", token, sale_at(&branch, &rice, 1200))
        .await;
    assert_eq!(sale.status, 201, "{:?}", sale.body);
    let sale_id = sale.id();
    let requests: Vec<(Method, String, Option<Value>, &str)> = vec![
        (Method::GET, "/api/v1/products?q=%00".to_owned(), None, "q"),
        (
            Method::GET,
            "/api/v1/customers?q=a%00b".to_owned(),
            None,
            "q",
        ),
        (
            Method::POST,
            format!("/api/v1/sales/{sale_id}/refunds"),
            Some(
                json!({ "id": uuid::Uuid::now_v7(), "lines": [{ "line_no": 1, "quantity": 1 }], "reason": "bad\u{0}reason" }),
            ),
            "reason",
        ),
        (
            Method::POST,
            format!("/api/v1/sales/{sale_id}/void"),
            Some(json!({ "id": uuid::Uuid::now_v7(), "reason": "\u{0}" })),
            "reason",
        ),
        (
            Method::POST,
            format!("/api/v1/branches/{branch}/stock/movements"),
            Some(
                json!({ "product_id": rice, "kind": "adjustment", "quantity": "-1", "reason": "broken\u{0}" }),
            ),
            "reason",
        ),
        (
            Method::POST,
            "/api/v1/branches".to_owned(),
            Some(json!({ "name": "Mak\u{0}ola" })),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/products".to_owned(),
            Some(json!({ "sku": "OIL", "name": "Oil\u{7}", "price_minor": 100 })),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/staff".to_owned(),
            Some(json!({ "email": "ab\u{0}c@x.gh", "name": "X", "role": "owner" })),
            "email",
        ),
    ];
    for (method, path, body, field) in requests {
        let answer = server.call(method.clone(), &path, Some(token), body).await;
        assert_eq!(
            (answer.status, answer.body["error"]["field"].as_str()),
            (422, Some(field)),
            "{method} {path}: {:?}",
            answer.body
        );
    }
    // A reason over several lines keeps its line breaks.
    let refund = server
        .post(
            &format!("/api/v1/sales/{sale_id}/refunds"),
            token,
            json!({ "id": uuid::Uuid::now_v7(), "lines": [{ "line_no": 1, "quantity": 1 }], "reason": "torn bag\nreplaced" }),
        )
        .await;
    assert_eq!(refund.status, 201, "{:?}", refund.body);
    server.stop().await;
}

async fn a_poisoned_op_between_two_good_ones_does_not_block_them(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let till = till(&server).await;
    let good = sale_op(&till, 1, &till.cashier);
    let poisoned = op(
        &till,
        2,
        "customer",
        &uuid::Uuid::now_v7().to_string(),
        "create",
        json!({ "actor_id": till.cashier, "name": "Abena\u{0}", "phone": "0244123456" }),
    );
    let also_good = sale_op(&till, 3, &till.cashier);
    let body = batch(vec![good, poisoned, also_good]);
    let (status, answer) = push(&server, &till, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        statuses(&answer),
        vec![
            (1, "applied".to_owned()),
            (2, "rejected".to_owned()),
            (3, "applied".to_owned())
        ],
        "{answer}"
    );
    assert_eq!(
        answer["acknowledged_seq"], 3,
        "the station moves past it: {answer}"
    );
    let report = server
        .get(
            "/api/v1/reports/sales?from=2025-12-01&to=2026-12-31",
            &till.owner.access_token,
        )
        .await;
    assert_eq!(report.body["totals"]["sales_count"], 2, "{:?}", report.body);
    // An app version with a NUL in it is a contact like any other, not a failed push.
    let mut odd = batch(vec![sale_op(&till, 4, &till.cashier)]);
    odd["app_version"] = json!("0.1\u{0}");
    let (status, answer) = push(&server, &till, odd).await;
    assert_eq!(status, 200, "{answer}");
    server.stop().await;
}

async fn the_database_refusing_data_is_the_requests_fault(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Direct").await;
    let tenant: nexus_domain::TenantId = owner.tenant_id.parse().expect("tenant");
    // Past every check of the service, straight to the store: what the database itself says.
    let refused = server
        .store
        .create_customer(
            tenant,
            nexus_store::NewCustomer {
                id: uuid::Uuid::now_v7(),
                name: "Abena\u{0}".to_owned(),
                phone: None,
                price_list: nexus_domain::PriceList::Retail,
                credit_limit_minor: None,
                created_by: nexus_domain::UserId::from_uuid(owner.user_id.parse().expect("user")),
                created_at: nexus_domain::UnixMillis::from_millis(1_767_225_600_000),
            },
        )
        .await;
    match backend {
        // PostgreSQL cannot store a NUL (SQLSTATE 22021): a data error, never a fault to retry.
        Backend::Postgres { .. } => {
            let error = refused.expect_err("PostgreSQL refuses a NUL");
            assert!(error.is_data_error(), "{error}");
            assert!(!error.is_service_fault(), "{error}");
        }
        // SQLite stores it; the service's own checks are what keep it out.
        Backend::Sqlite => assert!(refused.is_ok()),
    }
    server.stop().await;
}
