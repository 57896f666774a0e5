//! Tenant pools are opened and closed all day by the SQLite store's least-recently-used cache.
//! Under load, many times over, none may leave a task behind that keeps the runtime from
//! stopping (sqlx-core 0.8.6's pool maintenance can spin a core forever after such churn).

use std::sync::Arc;
use std::time::Duration;

use nexus_domain::{Email, NonEmptyText, Role, SessionId, TenantId, UnixMillis, UserId};
use nexus_store::sqlite::SqliteStore;
use nexus_store::{ControlStore as _, NewSession, NewTenant, NewUser, StoreOptions};

const TENANTS: usize = 12;
const WORKERS: usize = 6;
const ROUNDS: usize = 120;

async fn churn(data_dir: std::path::PathBuf) -> usize {
    let store = Arc::new(
        SqliteStore::open(
            &data_dir,
            &StoreOptions {
                max_open_tenants: 2,
                ..StoreOptions::default()
            },
        )
        .await
        .expect("open the store"),
    );
    let now = UnixMillis::from_millis(1_767_225_600_000);
    let mut tenants = Vec::new();
    for index in 0..TENANTS {
        let tenant = TenantId::generate(now);
        let owner = UserId::generate(now);
        store
            .register_tenant(NewTenant {
                id: tenant,
                name: NonEmptyText::parse("organisation", &format!("Shop {index}"), 200)
                    .expect("name"),
                owner: NewUser {
                    id: owner,
                    email: Email::parse(&format!("owner{index}@churn.test")).expect("email"),
                    name: NonEmptyText::parse("name", "Owner", 200).expect("name"),
                    role: Role::Owner,
                    branch_ids: Vec::new(),
                    password_hash: Some("not a real hash".to_owned()),
                    pin_hash: None,
                },
                owner_session: NewSession {
                    id: SessionId::generate(now),
                    user: owner,
                    refresh_token_hash: vec![u8::try_from(index).expect("small"); 32],
                    refresh_expires_at: now.plus_seconds(60),
                    now,
                },
                now,
            })
            .await
            .expect("register");
        tenants.push(tenant);
    }
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let (store, tenants) = (store.clone(), tenants.clone());
        workers.push(tokio::spawn(async move {
            let mut done = 0;
            for round in 0..ROUNDS {
                // Each step names another tenant than the last: with two kept open, nearly every
                // step closes one pool and opens another.
                let tenant = tenants[(worker * 5 + round * 7) % tenants.len()];
                use nexus_store::SettingsStore as _;
                store.settings(tenant).await.expect("settings");
                done += 1;
            }
            done
        }));
    }
    let mut done = 0;
    for worker in workers {
        done += worker.await.expect("worker");
    }
    store.close().await;
    done
}

#[test]
fn many_pools_opened_and_closed_under_load_then_the_runtime_stops() {
    let data_dir = std::env::temp_dir().join(format!("nexus-pool-churn-{}", uuid::Uuid::now_v7()));
    let (finished, stopped) = std::sync::mpsc::channel();
    let dir = data_dir.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let done = runtime.block_on(churn(dir));
        // Dropping the runtime waits for every worker thread: a task that never yields would
        // hold this forever.
        drop(runtime);
        let _ = finished.send(done);
    });
    let done = stopped
        .recv_timeout(Duration::from_secs(120))
        .expect("the runtime stopped after the churn (a task kept spinning)");
    assert_eq!(done, WORKERS * ROUNDS);
    let _ = std::fs::remove_dir_all(data_dir);
}
