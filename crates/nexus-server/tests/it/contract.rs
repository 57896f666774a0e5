//! Tests driven by the OpenAPI document, so that a new route cannot escape them:
//! - every authenticated operation answers each role exactly as its security scope and the
//!   permission matrix say;
//! - every operation with a path id answers 404 for another organisation's ids and changes
//!   nothing of that organisation.

use nexus_domain::{Permission, Role};
use nexus_testkit::{Backend, Owner, TestServer, backend_tests};
use reqwest::Method;
use serde_json::{Map, Value, json};

backend_tests!(
    every_operation_answers_each_role_as_its_scope_says,
    every_operation_refuses_another_tenants_ids
);

struct Operation {
    method: Method,
    path: String,
    /// The permission named by the operation's security scope; `None` for public operations.
    permission: Option<Permission>,
    body_schema: Option<Value>,
    json_body: bool,
    /// Called by an enrolled station (`Authorization: Station …`) rather than a person.
    station: bool,
}

async fn operations(server: &TestServer) -> (Value, Vec<Operation>) {
    let document = server
        .call(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(document.status, 200);
    assert_eq!(
        document.body["openapi"]
            .as_str()
            .map(|version| version.starts_with("3.1")),
        Some(true)
    );
    let mut found = Vec::new();
    for (path, item) in document.body["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let scopes: Vec<&str> = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|requirement| requirement["bearer"].as_array())
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            assert!(
                scopes.len() <= 1,
                "{method} {path}: one permission per operation"
            );
            let permission = scopes.first().map(|scope| {
                Permission::from_scope_name(scope)
                    .unwrap_or_else(|| panic!("{method} {path}: unknown scope {scope}"))
            });
            let content = &operation["requestBody"]["content"];
            let station = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|requirement| requirement.get("station").is_some());
            found.push(Operation {
                station,
                method: method.to_uppercase().parse().expect("method"),
                path: path.clone(),
                permission,
                body_schema: content["application/json"]["schema"]
                    .as_object()
                    .map(|schema| Value::Object(schema.clone())),
                json_body: !content.is_null(),
            });
        }
    }
    (document.body, found)
}

/// A value of the shape `schema` describes, with every property present: enums take their first
/// value, UUIDs are fresh, quantities "1". Good enough to get past parsing, so that what is
/// tested is the route's authorization and lookup, not its validation.
fn sample(document: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or("");
        return sample(
            document,
            &document["components"]["schemas"][name],
            depth + 1,
        );
    }
    for combinator in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = schema[combinator].as_array() {
            let mut merged = Map::new();
            for part in parts {
                match sample(document, part, depth + 1) {
                    Value::Object(object) => merged.extend(object),
                    Value::Null => {}
                    other if combinator != "allOf" => return other,
                    _ => {}
                }
            }
            return Value::Object(merged);
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        return values.first().cloned().unwrap_or(Value::Null);
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null")
            .unwrap_or("null")
            .to_owned(),
        Value::String(kind) => kind.clone(),
        _ if schema["properties"].is_object() => "object".to_owned(),
        _ => "null".to_owned(),
    };
    match kind.as_str() {
        "object" => {
            let mut object = Map::new();
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                object.insert(name.clone(), sample(document, property, depth + 1));
            }
            Value::Object(object)
        }
        "array" => json!([sample(document, &schema["items"], depth + 1)]),
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        "string" if schema["format"] == "uuid" => json!(uuid::Uuid::now_v7()),
        "string" if schema["pattern"].is_string() => json!("1"),
        "string" => json!("x1"),
        _ => Value::Null,
    }
}

fn body_for(document: &Value, operation: &Operation) -> Option<Value> {
    match &operation.body_schema {
        Some(schema) => Some(sample(document, schema, 0)),
        None if operation.json_body => Some(json!({})),
        None => None,
    }
}

async fn member(server: &TestServer, owner: &Owner, role: Role, branch: &str) -> String {
    let email = format!("{role}-{}@example.gh", uuid::Uuid::new_v4().simple());
    let body = json!({ "email": email, "name": role.as_str(), "role": role.as_str(), "branch_ids": [branch], "password": "member password" });
    let created = server
        .post("/api/v1/staff", &owner.access_token, body)
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let login = server.login(&email, "member password").await;
    login.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

async fn every_operation_answers_each_role_as_its_scope_says(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Contract Roles").await;
    let branch = server.create_branch(&owner.access_token, "Home").await;
    let tokens = [
        (Role::Owner, owner.access_token.clone()),
        (
            Role::Manager,
            member(&server, &owner, Role::Manager, &branch).await,
        ),
        (
            Role::Cashier,
            member(&server, &owner, Role::Cashier, &branch).await,
        ),
    ];
    let (document, operations) = operations(&server).await;
    let mut checked = 0;
    for operation in operations
        .iter()
        .filter(|operation| operation.permission.is_some())
    {
        let permission = operation.permission.expect("filtered");
        let path = operation
            .path
            .replace("{id}", &uuid::Uuid::now_v7().to_string());
        for (role, token) in &tokens {
            let body = body_for(&document, operation);
            let answer = server
                .call(operation.method.clone(), &path, Some(token), body)
                .await;
            let said = format!(
                "{role} {} {} ({}): {} {:?}",
                operation.method,
                operation.path,
                permission.scope_name(),
                answer.status,
                answer.body
            );
            if role.allows(permission) {
                assert!(
                    answer.status != 401 && answer.status != 403 && answer.status < 500,
                    "should be allowed: {said}"
                );
            } else {
                assert_eq!(
                    (answer.status, answer.error_code()),
                    (403, "forbidden"),
                    "should be denied: {said}"
                );
            }
            // Without a token every one of them is a 401.
            let anonymous = server
                .call(
                    operation.method.clone(),
                    &path,
                    None,
                    body_for(&document, operation),
                )
                .await;
            assert_eq!(
                anonymous.status, 401,
                "{} {} without a token",
                operation.method, operation.path
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 3 * 30,
        "only {checked} checks: did the document lose operations?"
    );
    server.stop().await;
}

/// One of each kind of thing an operation can name in its path, in one organisation.
struct Fixture {
    owner: Owner,
    ids: Vec<(&'static str, String)>,
    /// The organisation's enrolled station.
    credential: String,
}

async fn fixture(server: &TestServer, name: &str) -> Fixture {
    let owner = server.register(name).await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, &format!("{name} Main")).await;
    let staff = server
        .post("/api/v1/staff", token, json!({ "email": format!("c-{}@example.gh", uuid::Uuid::new_v4().simple()), "name": "C", "role": "cashier", "branch_ids": [branch] }))
        .await
        .id();
    let product = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "P1", "name": "Product", "price_minor": 1000 }),
        )
        .await
        .id();
    let sale = server
        .post(
            "/api/v1/sales",
            token,
            json!({ "id": uuid::Uuid::now_v7(), "branch_id": branch, "lines": [{ "product_id": product, "quantity": 2 }], "tenders": [{ "kind": "cash", "amount_minor": 2000 }] }),
        )
        .await;
    assert_eq!(sale.status, 201, "{:?}", sale.body);
    let station = server
        .post(
            "/api/v1/stations",
            token,
            json!({ "branch_id": branch, "name": "Till 1" }),
        )
        .await;
    assert_eq!(station.status, 201, "{:?}", station.body);
    let enrolled = server
        .call(
            Method::POST,
            "/api/v1/stations/enroll",
            None,
            Some(json!({ "enrolment_code": station.body["enrolment_code"] })),
        )
        .await;
    assert_eq!(enrolled.status, 200, "{:?}", enrolled.body);
    let credential = enrolled.body["credential"]
        .as_str()
        .expect("credential")
        .to_owned();
    // A request to pay, as a till's would be kept (no network is needed to keep one).
    let tenant: nexus_domain::TenantId = owner.tenant_id.parse().expect("tenant id");
    let at = nexus_domain::Clock::now(server.clock.as_ref());
    let (request, _) = server
        .store
        .open_momo_request(
            tenant,
            &nexus_store::MomoRequestRecord {
                id: uuid::Uuid::new_v4(),
                network: nexus_domain::momo::Network::Mtn,
                phone: "233244123456".to_owned(),
                amount_minor: 100,
                currency_code: "GHS".to_owned(),
                station_id: None,
                state: nexus_domain::momo::RequestState::Pending,
                reason: None,
                transaction_id: None,
                sale_id: None,
                created_at: at,
                checked_at: at,
                updated_at: at,
            },
        )
        .await
        .expect("a request to pay");
    let job = server
        .call_raw(
            reqwest::Method::POST,
            "/api/v1/products/import",
            Some(token),
            "text/csv",
            b"sku,name,price\nJOB-1,Imported,1.00\n".to_vec(),
        )
        .await;
    assert_eq!(job.status, 202, "{:?}", job.body);
    // Written before anything is compared, so the catalogue holds still.
    let done = server
        .wait_for_job(&format!("/api/v1/jobs/{}", job.id()), token)
        .await;
    assert_eq!(done.body["state"], "succeeded", "{:?}", done.body);
    let category = server
        .post(
            "/api/v1/categories",
            token,
            json!({ "name": format!("{name} Drinks") }),
        )
        .await;
    assert_eq!(category.status, 201, "{:?}", category.body);
    let customer = server
        .post(
            "/api/v1/customers",
            token,
            json!({ "name": format!("{name} Trader"), "price_list": "wholesale" }),
        )
        .await;
    assert_eq!(customer.status, 201, "{:?}", customer.body);
    let supplier = server
        .post(
            "/api/v1/suppliers",
            token,
            json!({ "name": format!("{name} Supplier") }),
        )
        .await
        .id();
    let order = server
        .post(
            "/api/v1/purchase-orders",
            token,
            json!({ "supplier_id": supplier, "branch_id": branch,
                "lines": [{ "product_id": product, "quantity": 1, "cost_minor": 1 }] }),
        )
        .await;
    assert_eq!(order.status, 201, "{:?}", order.body);
    let ids = vec![
        ("/purchase-orders/", order.id()),
        ("/customers/", customer.id()),
        ("/categories/", category.id()),
        ("/branches/", branch),
        ("/staff/", staff),
        ("/products/", product),
        ("/sales/", sale.id()),
        ("/stations/", station.id()),
        ("/jobs/", job.id()),
        ("/momo/requests/", request.id.to_string()),
        ("/momo/callbacks/", request.id.to_string()),
    ];
    Fixture {
        owner,
        ids,
        credential,
    }
}

/// `operation` called by the organisation's station.
async fn as_station(
    server: &TestServer,
    credential: &str,
    operation: &Operation,
    path: &str,
    body: Option<Value>,
) -> nexus_testkit::Answer {
    server
        .call_as_station(operation.method.clone(), path, credential, body)
        .await
}

/// Everything of an organisation that an operation could change.
async fn snapshot(server: &TestServer, fixture: &Fixture) -> Vec<Value> {
    let token = fixture.owner.access_token.as_str();
    let id_of = |kind: &str| {
        fixture
            .ids
            .iter()
            .find(|(known, _)| *known == kind)
            .map(|(_, id)| id.clone())
            .unwrap_or_default()
    };
    let branch = &id_of("/branches/");
    let mut state = Vec::new();
    for path in [
        "/api/v1/branches?include_archived=true".to_owned(),
        "/api/v1/staff".to_owned(),
        "/api/v1/products?include_archived=true".to_owned(),
        format!("/api/v1/branches/{branch}/stock"),
        format!("/api/v1/sales/{}", id_of("/sales/")),
        format!("/api/v1/customers/{}", id_of("/customers/")),
        format!("/api/v1/purchase-orders/{}", id_of("/purchase-orders/")),
        "/api/v1/categories?include_archived=true".to_owned(),
        "/api/v1/reports/sales?from=2025-01-01&to=2027-12-31".to_owned(),
        "/api/v1/stations".to_owned(),
    ] {
        let answer = server.get(&path, token).await;
        assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
        state.push(answer.body);
    }
    state
}

async fn every_operation_refuses_another_tenants_ids(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let tenant_a = fixture(&server, "Tenant A").await;
    let tenant_b = fixture(&server, "Tenant B").await;
    let before = snapshot(&server, &tenant_b).await;
    let (document, operations) = operations(&server).await;
    let mut checked = 0;
    for operation in operations
        .iter()
        .filter(|operation| operation.path.contains("{id}"))
    {
        let (_, id) = tenant_b
            .ids
            .iter()
            .find(|(kind, _)| operation.path.contains(kind))
            .unwrap_or_else(|| {
                panic!(
                    "{} {}: no fixture names this kind of id",
                    operation.method, operation.path
                )
            });
        // A network's callback names the organisation in its path: tenant A's, with B's id.
        let path = operation
            .path
            .replace("{id}", id)
            .replace("{network}", "mtn")
            .replace("{tenant}", &tenant_a.owner.tenant_id.replace('-', ""));
        let answer = if operation.station {
            as_station(
                &server,
                &tenant_a.credential,
                operation,
                &path,
                body_for(&document, operation),
            )
            .await
        } else {
            server
                .call(
                    operation.method.clone(),
                    &path,
                    Some(&tenant_a.owner.access_token),
                    body_for(&document, operation),
                )
                .await
        };
        assert_eq!(
            (answer.status, answer.error_code()),
            (404, "not_found"),
            "{} {} with tenant B's id: {:?}",
            operation.method,
            operation.path,
            answer.body
        );
        checked += 1;
    }
    assert!(
        checked >= 15,
        "only {checked} operations with ids: did the document lose some?"
    );
    assert_eq!(
        snapshot(&server, &tenant_b).await,
        before,
        "tenant B is unchanged"
    );
    server.stop().await;
}
