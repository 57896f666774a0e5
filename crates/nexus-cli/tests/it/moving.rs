//! A shop that began on the embedded store moves: `nexus tenants export`, `nexus store copy`
//! to PostgreSQL (to a second SQLite store when no PostgreSQL is configured) and back with
//! `nexus tenants import`, every row arriving, the service on the new store answering the
//! owner's reports as the old one did; a damaged export refused with nothing left behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nexus_testkit::{Backend, ScratchDatabase};
use serde_json::{Value, json};

use crate::demo::Demo;
use crate::serve_process::ServeProcess;

fn nexus(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nexus"))
        .args(arguments)
        .env_remove("NEXUS_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("NEXUS_CONFIG")
        .env_remove("NEXUS_DATA")
        .output()
        .expect("run nexus")
}

/// Runs `nexus arguments`, which must succeed; its standard output.
fn succeeds(arguments: &[&str]) -> String {
    let output = nexus(arguments);
    assert!(
        output.status.success(),
        "nexus {arguments:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `nexus arguments`, which must fail; its standard error.
fn fails(arguments: &[&str]) -> String {
    let output = nexus(arguments);
    assert!(
        !output.status.success(),
        "nexus {arguments:?} should have failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `--data DIR` or `--database-url URL`, whichever `target` is.
fn store_flag(target: &str) -> [&str; 2] {
    if target.contains("://") {
        ["--database-url", target]
    } else {
        ["--data", target]
    }
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// An export as the backend-neutral thing it describes: the header's tenant, logins and
/// counts, and each table's rows in a stable order, with every uuid written as bytes and every
/// boolean as 0 or 1 (SQLite holds them so).
struct Contents {
    header: Value,
    tables: BTreeMap<String, Vec<String>>,
}

fn neutral(value: &Value) -> Value {
    match value {
        Value::Bool(flag) => json!(i64::from(*flag)),
        Value::Object(object) => match object.get("uuid").and_then(Value::as_str) {
            Some(id) => json!({ "hex": id.replace('-', "") }),
            None => value.clone(),
        },
        other => other.clone(),
    }
}

fn contents(file: &Path) -> Contents {
    let text = std::fs::read_to_string(file).expect("read the export");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().expect("a header")).expect("JSON");
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in lines {
        let value: Value = serde_json::from_str(line).expect("a JSON line");
        if let Value::Array(cells) = &value {
            let (table, columns) = current.as_ref().expect("a table line first");
            // Columns by name, so that a backend that lists them in another order agrees.
            let row: BTreeMap<&str, Value> = columns
                .iter()
                .map(String::as_str)
                .zip(cells.iter().map(neutral))
                .collect();
            tables
                .entry(table.clone())
                .or_default()
                .push(serde_json::to_string(&row).expect("row"));
        } else if let Some(table) = value["table"].as_str() {
            let columns = value["columns"]
                .as_array()
                .expect("columns")
                .iter()
                .map(|column| column.as_str().expect("a column name").to_owned())
                .collect();
            tables.entry(table.to_owned()).or_default();
            current = Some((table.to_owned(), columns));
        }
    }
    for rows in tables.values_mut() {
        rows.sort();
    }
    Contents {
        header: json!({
            "tenant": header["tenant"],
            "logins": header["logins"],
            "schema_version": header["schema_version"],
            "tables": header["tables"],
            "rows": header["rows"],
        }),
        tables,
    }
}

fn assert_same(left: &Contents, right: &Contents, what: &str) {
    assert_eq!(left.header, right.header, "{what}: the headers");
    assert_eq!(
        left.tables.keys().collect::<Vec<_>>(),
        right.tables.keys().collect::<Vec<_>>(),
        "{what}: the tables"
    );
    for (table, rows) in &left.tables {
        let other = &right.tables[table];
        assert_eq!(rows.len(), other.len(), "{what}: rows of {table}");
        if let Some((a, b)) = rows.iter().zip(other).find(|(a, b)| a != b) {
            panic!("{what}: table {table} differs:\n  {a}\n  {b}");
        }
    }
}

/// The demo owner's 7-day sales report from the service on `target`.
async fn owner_report(target: &str) -> Value {
    let server = ServeProcess::on(target);
    let http = reqwest::Client::new();
    let signed_in: Value = http
        .post(format!("{}/api/v1/auth/login", server.base_url))
        .json(&json!({ "email": "ama@demo.nexus.example", "password": "nexus demo owner" }))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("JSON");
    let token = signed_in["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("the owner signs in on {target}: {signed_in}"));
    let today = nexus_domain::calendar::local_day(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time")
                .as_millis(),
        )
        .expect("millis"),
        0,
    );
    let path = format!(
        "/api/v1/reports/sales?period=day&from={}&to={}",
        nexus_domain::calendar::format_day(today - 6),
        nexus_domain::calendar::format_day(today)
    );
    http.get(format!("{}{path}", server.base_url))
        .bearer_auth(token)
        .send()
        .await
        .expect("report")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_moves_off_the_embedded_store_and_back_losing_nothing() {
    let scratch =
        std::env::temp_dir().join(format!("nexus-moving-{}", uuid::Uuid::now_v7().simple()));
    let demo_dir = scratch.join("demo");
    let mut demo = Demo::start_with(&demo_dir, &["--history-days", "7", "--history-sales", "12"]);
    demo.line_with("Press Ctrl-C");
    demo.stop();
    let cloud = demo_dir.join("cloud");
    let cloud = path_text(&cloud);

    let listed = succeeds(&["tenants", "list", "--data", cloud]);
    let tenant = listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .find(|word| uuid::Uuid::parse_str(word).is_ok())
        .unwrap_or_else(|| panic!("a tenant in {listed}"))
        .to_owned();
    let first = scratch.join("from-sqlite.jsonl");
    let exported = succeeds(&[
        "tenants",
        "export",
        "--data",
        cloud,
        "--tenant",
        &tenant,
        "--out",
        path_text(&first),
    ]);
    assert!(exported.contains("exported tenant"), "{exported}");
    let original = contents(&first);
    assert!(
        original.tables["sales"].len() > 50 && !original.tables["sale_lines"].is_empty(),
        "the demo's history is in the export: {} sales",
        original.tables["sales"].len()
    );

    // The whole store to PostgreSQL (or, without one, to a second embedded store).
    let mut database = match Backend::postgres_from_env() {
        Some(Backend::Postgres { admin_url, .. }) => {
            Some(ScratchDatabase::create(&admin_url, None).await)
        }
        _ => None,
    };
    let second_dir = scratch.join("second");
    let target = match &database {
        Some(database) => database.url(),
        None => path_text(&second_dir).to_owned(),
    };
    let copied = succeeds(&["store", "copy", "--from", cloud, "--to", &target]);
    assert!(copied.contains("1 tenant(s) copied"), "{copied}");
    let again = succeeds(&["store", "copy", "--from", cloud, "--to", &target]);
    assert!(
        again.contains("0 tenant(s) copied (0 rows), 1 already there"),
        "a second run finds the work done: {again}"
    );

    let moved = scratch.join("from-target.jsonl");
    let [flag, value] = store_flag(&target);
    succeeds(&[
        "tenants",
        "export",
        flag,
        value,
        "--tenant",
        &tenant,
        "--out",
        path_text(&moved),
    ]);
    assert_same(&original, &contents(&moved), "after the copy");

    // The service on the new store answers the owner as the old one did.
    let before = owner_report(cloud).await;
    let after = owner_report(&target).await;
    assert!(
        before["totals"]["sales_count"].as_i64() > Some(0),
        "{before}"
    );
    assert_eq!(before["totals"], after["totals"]);
    assert_eq!(before["rows"], after["rows"]);
    assert_eq!(before["by_tender"], after["by_tender"]);

    // Back to a fresh embedded store from the target's export; once only.
    let back_dir = scratch.join("back");
    let back = path_text(&back_dir);
    let imported = succeeds(&[
        "tenants",
        "import",
        "--data",
        back,
        "--file",
        path_text(&moved),
    ]);
    assert!(
        imported.contains("imported Ama Provisions, Accra"),
        "{imported}"
    );
    let refused = fails(&[
        "tenants",
        "import",
        "--data",
        back,
        "--file",
        path_text(&moved),
    ]);
    assert!(refused.contains("already on this server"), "{refused}");
    let round_trip = scratch.join("round-trip.jsonl");
    succeeds(&[
        "tenants",
        "export",
        "--data",
        back,
        "--tenant",
        &tenant,
        "--out",
        path_text(&round_trip),
    ]);
    assert_same(&original, &contents(&round_trip), "after the round trip");

    if let Some(database) = database.as_mut() {
        database.drop_now().await;
    }
    let _ = std::fs::remove_dir_all(&scratch);
}

/// Each target: an embedded store in `dir`, and a PostgreSQL scratch database when configured.
async fn fresh_targets(dir: &Path) -> (Vec<String>, Vec<ScratchDatabase>) {
    let mut targets = vec![path_text(dir).to_owned()];
    let mut databases = Vec::new();
    if let Some(Backend::Postgres { admin_url, .. }) = Backend::postgres_from_env() {
        let database = ScratchDatabase::create(&admin_url, None).await;
        targets.push(database.url());
        databases.push(database);
    }
    (targets, databases)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_export_is_refused_and_leaves_nothing_behind() {
    let scratch: PathBuf =
        std::env::temp_dir().join(format!("nexus-damaged-{}", uuid::Uuid::now_v7().simple()));
    // A tenant with a sale and its refund (a row referring to a row of its own table).
    let server = nexus_testkit::TestServer::start(&Backend::Sqlite).await;
    let owner = server.register("Damaged Shop").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Osu").await;
    let product = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "RICE", "name": "Rice", "price_minor": 1_000 }),
        )
        .await
        .id();
    let sale = server
        .post(
            "/api/v1/sales",
            token,
            json!({ "id": uuid::Uuid::now_v7(), "branch_id": branch, "lines": [{ "product_id": product, "quantity": 2 }],
                    "tenders": [{ "kind": "cash", "amount_minor": 2_000 }] }),
        )
        .await;
    assert_eq!(sale.status, 201, "{}", sale.body);
    let refund = server
        .post(
            &format!("/api/v1/sales/{}/refunds", sale.id()),
            token,
            json!({ "id": uuid::Uuid::now_v7(), "lines": [{ "line_no": 1, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    let data = server.data_dir().to_owned();
    let listed = succeeds(&["tenants", "list", "--data", path_text(&data)]);
    let tenant = listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .find(|word| uuid::Uuid::parse_str(word).is_ok())
        .unwrap_or_else(|| panic!("a tenant in {listed}"))
        .to_owned();
    std::fs::create_dir_all(&scratch).expect("scratch");
    let whole = scratch.join("whole.jsonl");
    succeeds(&[
        "tenants",
        "export",
        "--data",
        path_text(&data),
        "--tenant",
        &tenant,
        "--out",
        path_text(&whole),
    ]);
    let text = std::fs::read_to_string(&whole).expect("export");
    let lines: Vec<&str> = text.lines().collect();
    let cut = scratch.join("cut.jsonl");
    std::fs::write(&cut, lines[..lines.len() - 3].join("\n")).expect("write");
    let bent = scratch.join("bent.jsonl");
    let sale_row = lines
        .iter()
        .position(|line| line.starts_with("{\"table\":\"sales\""))
        .expect("a sales table")
        + 1;
    let mut altered: Vec<String> = lines.iter().map(|line| (*line).to_owned()).collect();
    altered[sale_row] = altered[sale_row].replacen('[', "[\"not an id\",", 1);
    std::fs::write(&bent, altered.join("\n")).expect("write");
    let not_one = scratch.join("notes.txt");
    std::fs::write(&not_one, "shopping list: rice, oil\n").expect("write");

    let (targets, mut databases) = fresh_targets(&scratch.join("target")).await;
    for target in &targets {
        let [flag, value] = store_flag(target);
        for (file, says) in [
            (&cut, "cut short"),
            (&bent, "values for"),
            (&not_one, "does not begin like a Nexus tenant export"),
        ] {
            let refused = fails(&["tenants", "import", flag, value, "--file", path_text(file)]);
            assert!(refused.contains(says), "{target}: {refused}");
            let listed = succeeds(&["tenants", "list", flag, value]);
            assert!(listed.contains("0 tenant(s)"), "{target}: {listed}");
        }
        // Nothing was left claimed: the whole file goes in afterwards.
        let imported = succeeds(&[
            "tenants",
            "import",
            flag,
            value,
            "--file",
            path_text(&whole),
        ]);
        assert!(imported.contains("imported Damaged Shop"), "{imported}");
    }
    for database in &mut databases {
        database.drop_now().await;
    }
    server.stop().await;
    let _ = std::fs::remove_dir_all(&scratch);
}
