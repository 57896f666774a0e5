//! The `nexus` binary itself: refusals and the tenant commands on an empty store.

mod backup;
mod crash;
mod demo;
mod live;
mod moving;
mod operations;
mod pgbouncer;
mod serve_process;

use std::path::PathBuf;
use std::process::{Command, Output};

fn nexus(arguments: &[&str], data_dir: &PathBuf) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nexus"))
        .args(arguments)
        .env_remove("NEXUS_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("NEXUS_CONFIG")
        .env("NEXUS_DATA", data_dir)
        .output()
        .expect("run nexus")
}

fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!(
        "nexus-cli-test-{}-{}",
        std::process::id(),
        unique_suffix()
    ))
}

fn unique_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or(0)
}

#[test]
fn a_mistyped_database_url_is_refused_and_creates_nothing() {
    let data_dir = scratch_dir();
    for url in [
        "postgress://postgres@127.0.0.1/test",
        "sqlite://nexus.db",
        "nexus.db",
    ] {
        for command in [
            &["tenants", "list", "--database-url", url][..],
            &["serve", "--listen", "127.0.0.1:0", "--database-url", url][..],
        ] {
            let output = nexus(command, &data_dir);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{command:?} should fail");
            assert!(
                stderr.contains("postgres://"),
                "{command:?}: the message says what a good URL looks like: {stderr}"
            );
        }
    }
    assert!(
        !data_dir.exists(),
        "no SQLite store was created for a bad URL"
    );
}

#[test]
fn tenant_commands_work_on_an_empty_embedded_store() {
    let data_dir = scratch_dir();
    let listed = nexus(&["tenants", "list"], &data_dir);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains("0 tenant(s)"));
    let migrated = nexus(&["tenants", "migrate", "--concurrency", "2"], &data_dir);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("0 tenant(s) needed migrating"));
    assert!(data_dir.join("control.db").exists());
    let bad_concurrency = nexus(&["tenants", "migrate", "--concurrency", "0"], &data_dir);
    assert!(!bad_concurrency.status.success());
    // Spreading tenants across nodes needs PostgreSQL with Citus, and says so.
    let distributed = nexus(&["tenants", "distribute"], &data_dir);
    assert!(!distributed.status.success());
    let said = String::from_utf8_lossy(&distributed.stderr);
    assert!(said.contains("Citus"), "{said}");
    if let Ok(url) = std::env::var("NEXUS_TEST_DATABASE_URL") {
        let on_postgres = nexus(
            &["tenants", "distribute", "--database-url", &url],
            &data_dir,
        );
        assert!(!on_postgres.status.success());
        let said = String::from_utf8_lossy(&on_postgres.stderr);
        assert!(said.contains("no citus extension"), "{said}");
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[test]
fn an_unenrolled_station_says_what_to_do() {
    let data_dir = scratch_dir();
    let station_dir = data_dir.join("station");
    let station = station_dir.to_str().expect("utf-8 path");
    let status = nexus(&["pos", "status", "--data", station, "--json"], &data_dir);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json status");
    assert_eq!(
        (
            report["enrolled"].as_bool(),
            report["unsynced_ops"].as_i64()
        ),
        (Some(false), Some(0))
    );
    let sync = nexus(&["pos", "sync", "--data", station], &data_dir);
    assert!(
        !sync.status.success(),
        "syncing an unenrolled station fails"
    );
    assert!(
        String::from_utf8_lossy(&sync.stderr).contains("nexus pos enroll"),
        "and says how to enrol"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
