//! The crash test: a real `nexus pos` process, selling and syncing, killed with SIGKILL at
//! random instants, many times. After every kill the station's database passes SQLite's
//! integrity check; after a final sync the server holds every sale the station committed, once.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::json;

backend_tests!(a_station_killed_at_random_instants_loses_and_duplicates_nothing);

const KILLS: u64 = 60;

pub(crate) fn pos(arguments: &[&str], data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nexus"));
    command
        .arg("pos")
        .args(arguments)
        .arg("--data")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Whether the process succeeded, and its stdout (or its stderr when it failed).
pub(crate) fn finish(child: Child) -> (bool, String) {
    let output = child.wait_with_output().expect("wait for nexus");
    let shown = if output.status.success() {
        &output.stdout
    } else {
        &output.stderr
    };
    (
        output.status.success(),
        String::from_utf8_lossy(shown).into_owned(),
    )
}

/// xorshift64*: the kill instants replay from the seed printed on failure.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

async fn a_station_killed_at_random_instants_loses_and_duplicates_nothing(backend: &Backend) {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let server = TestServer::start(backend).await;
    let owner = server.register("Crash Shop").await;
    let token = owner.access_token.as_str();
    let branch = server.create_branch(token, "Kaneshie").await;
    let rice = server
        .post(
            "/api/v1/products",
            token,
            json!({ "sku": "RICE", "name": "Rice", "price_minor": 1_000 }),
        )
        .await
        .id();
    let cashier = server
        .post("/api/v1/staff", token, json!({ "email": "kofi@crash.gh", "name": "Kofi", "role": "cashier", "branch_ids": [branch] }))
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
    let data = std::env::temp_dir().join(format!("nexus-crash-{}", uuid::Uuid::now_v7().simple()));
    let enrolled = finish(
        pos(
            &["enroll", "--server", &server.base_url, "--code", &code],
            &data,
        )
        .spawn()
        .expect("spawn"),
    );
    assert!(enrolled.0, "enrol: {}", enrolled.1);
    assert!(
        finish(pos(&["sync"], &data).spawn().expect("spawn")).0,
        "first sync"
    );

    let seed = std::env::var("NEXUS_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| uuid::Uuid::now_v7().as_u64_pair().1 | 1);
    let mut random = seed;
    let mut printed = Vec::new();
    let mut killed = 0;
    for round in 0..KILLS {
        let sell = !next(&mut random).is_multiple_of(3);
        let child = if sell {
            pos(&["sell", "--line", "RICE=1", "--cashier", &cashier], &data)
        } else {
            pos(&["sync"], &data)
        }
        .spawn()
        .expect("spawn nexus pos");
        let mut child = child;
        // A random instant in the process's life: starting, committing, pushing, acknowledging.
        // (This wait picks when to pull the plug; it does not wait for anything.)
        let instant = Duration::from_millis(next(&mut random) % 60);
        tokio::time::sleep(instant).await;
        let was_running = child.try_wait().expect("poll").is_none();
        if was_running {
            // Child::kill is SIGKILL on Unix: no destructor, no flush, no goodbye.
            child.kill().expect("kill -9");
            killed += 1;
        }
        let (succeeded, stdout) = finish(child);
        if succeeded && sell {
            let id = stdout
                .split_whitespace()
                .nth(1)
                .unwrap_or_else(|| {
                    panic!("round {round} (seed {seed}): unexpected output {stdout:?}")
                })
                .to_owned();
            printed.push(id);
        }
        // After every kill the database must be sound before anything else touches it.
        let station = nexus_pos::Station::open(&data)
            .await
            .expect("reopen after kill");
        let integrity = station.integrity_check().await.expect("integrity check");
        assert_eq!(
            integrity, "ok",
            "round {round} (seed {seed}, NEXUS_CRASH_SEED={seed})"
        );
        station.close().await;
    }
    assert!(killed > 0, "no process was killed mid-flight (seed {seed})");

    let (synced, output) = finish(pos(&["sync"], &data).spawn().expect("spawn"));
    assert!(synced, "final sync (seed {seed}): {output}");
    let station = nexus_pos::Station::open(&data).await.expect("open");
    let committed = station.committed_sales().await.expect("sales");
    for id in &printed {
        assert!(
            committed.iter().any(|(sale, _)| sale.to_string() == *id),
            "sale {id} was reported committed but is not in the outbox (seed {seed})"
        );
    }
    for (sale, status) in &committed {
        assert_eq!(status, "acknowledged", "sale {sale} (seed {seed})");
        let recorded = server.get(&format!("/api/v1/sales/{sale}"), token).await;
        assert_eq!(
            recorded.status, 200,
            "sale {sale} is on the server (seed {seed})"
        );
    }
    // Once each: the server's on-hand is minus one unit per committed sale.
    let stock = server
        .get(&format!("/api/v1/branches/{branch}/stock"), token)
        .await;
    let expected = if committed.is_empty() {
        None
    } else {
        Some(format!("-{}", committed.len()))
    };
    let on_hand = stock.body["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|item| item["product_id"] == rice.as_str())
        })
        .and_then(|item| item["on_hand"].as_str().map(str::to_owned));
    assert_eq!(
        on_hand,
        expected,
        "seed {seed}: {} committed sales",
        committed.len()
    );
    eprintln!(
        "crash test on {}: {KILLS} rounds, {killed} processes killed mid-flight, {} sales committed, {} reported (seed {seed})",
        backend.name(),
        committed.len(),
        printed.len()
    );
    station.close().await;
    server.stop().await;
    let _ = std::fs::remove_dir_all(&data);
}
