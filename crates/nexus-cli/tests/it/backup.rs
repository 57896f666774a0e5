//! `nexus pos backup` and `nexus pos restore` as a shop runs them: a backup while the station
//! holds synced sales, more sales after it, and the backup put back in a new data directory.

use nexus_testkit::{Backend, TestServer};
use serde_json::json;

use super::crash::{finish, pos};

fn run(arguments: &[&str], data: &std::path::Path) -> String {
    let (ok, output) = finish(pos(arguments, data).spawn().expect("spawn nexus pos"));
    assert!(ok, "nexus pos {arguments:?}: {output}");
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_from_the_command_line_restores_numbered_above_the_service() {
    let server = TestServer::start(&Backend::Sqlite).await;
    let owner = server.register("Backup Shop").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Osu").await;
    let made = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "RICE", "name": "Rice", "price_minor": 1_000 }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let cashier = server
        .post("/api/v1/staff", token, json!({ "email": "esi@backup.gh", "name": "Esi", "role": "cashier", "branch_ids": [branch] }))
        .await
        .id();
    let code = server
        .post(
            "/api/v1/stations",
            token,
            json!({ "branch_id": branch, "name": "Till" }),
        )
        .await
        .body["enrolment_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let scratch = |what: &str| {
        std::env::temp_dir().join(format!("nexus-{what}-{}", uuid::Uuid::now_v7().simple()))
    };
    let (data, stick, fresh) = (scratch("till"), scratch("stick"), scratch("restored"));
    run(
        &["enroll", "--server", &server.base_url, "--code", &code],
        &data,
    );
    run(&["sync"], &data);
    let sell = ["sell", "--line", "RICE=1", "--cashier", &cashier];
    run(&sell, &data);
    run(&["sync"], &data);
    let stick_text = stick.to_str().expect("path");
    let backed_up = run(&["backup", "--to", stick_text, "--keep", "2"], &data);
    let file = backed_up
        .trim()
        .strip_prefix("backed up to ")
        .unwrap_or_else(|| panic!("{backed_up}"))
        .to_owned();
    assert!(run(&["status"], &data).contains("last backup: 20"));
    run(&sell, &data);
    run(&sell, &data);
    run(&["sync"], &data);

    let restored = run(&["restore", "--from", &file], &fresh);
    assert!(
        restored.contains("the service holds its writes up to 3, so the next is 4")
            && restored.contains("the next receipt is number 4"),
        "{restored}"
    );
    let status = run(&["status"], &fresh);
    assert!(status.contains("unsynced ops: 0"), "{status}");
    let sold = run(&sell, &fresh);
    assert!(sold.contains("-000004"), "{sold}");

    let (ok, refused) = finish(
        pos(&["restore", "--from", stick_text], &scratch("other"))
            .spawn()
            .expect("spawn"),
    );
    assert!(
        !ok && refused.contains("is not a station backup"),
        "{refused}"
    );
    server.stop().await;
    for dir in [data, stick, fresh] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
