//! Backups of a station and putting one back: a week-old backup restored while the service holds
//! newer sales from the same till, a backup copied back by hand, the refusals of a restore that
//! cannot be done safely, and the daily backup of a serving station.

use std::time::Duration;

use nexus_domain::{Clock as _, Quantity, ReceiptNumber};
use nexus_pos::{BackupSettings, Cart, SignedIn, Station, StationError, TenderInput};
use nexus_testkit::{Backend, backend_tests};

use super::till::{Till, till};

backend_tests!(
    a_week_old_backup_restores_behind_the_service_and_reuses_no_number,
    a_backup_copied_back_by_hand_has_its_new_sales_quarantined_not_lost,
);

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// One rice sold at `station` for exact cash: the sale's id and receipt number.
async fn sell_rice(till: &Till, station: &Station, cashier: &SignedIn) -> (String, String) {
    let mut cart = Cart::default();
    station
        .add_to_cart(&mut cart, "RICE", Quantity::from_milli(1000))
        .await
        .expect("rice");
    let sold = station
        .checkout(
            till.server.clock.as_ref(),
            cashier,
            &cart,
            &[TenderInput::Cash { amount_minor: 1200 }],
        )
        .await
        .expect("sold");
    (sold.id.to_string(), sold.receipt_number)
}

/// The receipt number the service holds for each of `sales`, in order; `None` for a sale it
/// does not hold.
async fn on_the_service(till: &Till, sales: &[(String, String)]) -> Vec<Option<String>> {
    // Signed in afresh: the clock may have moved past the first token's life.
    let signed_in = till
        .server
        .login(&till.owner_email, &till.owner_password)
        .await;
    let token = signed_in.body["access_token"]
        .as_str()
        .expect("an access token");
    let mut numbers = Vec::new();
    for (id, _) in sales {
        let sale = till.server.get(&format!("/api/v1/sales/{id}"), token).await;
        assert!(sale.status == 200 || sale.status == 404, "{}", sale.body);
        numbers.push(
            (sale.status == 200)
                .then(|| sale.body["receipt_number"].as_str().map(str::to_owned))
                .flatten(),
        );
    }
    numbers
}

/// The receipt numbers of `sales` as the till printed them.
fn printed(sales: &[(String, String)]) -> Vec<Option<String>> {
    sales
        .iter()
        .map(|(_, number)| Some(number.clone()))
        .collect()
}

async fn a_week_old_backup_restores_behind_the_service_and_reuses_no_number(backend: &Backend) {
    let till = till(backend).await;
    let clock = till.server.clock.clone();
    let station = &till.station;
    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    let mut sales = Vec::new();
    for _ in 0..2 {
        sales.push(sell_rice(&till, station, &efua).await);
    }
    station.sync(clock.as_ref()).await.expect("sync");
    // Sold after the last sync: unsynced when the backup is taken, synced later by the till.
    sales.push(sell_rice(&till, station, &efua).await);
    let stick = super::scratch();
    let backup = station
        .back_up(&stick, 7, clock.now())
        .await
        .expect("backed up while open");

    // A week of selling and syncing after the backup; then the till's disk dies.
    clock.advance(7 * DAY);
    for _ in 0..3 {
        sales.push(sell_rice(&till, station, &efua).await);
    }
    let report = station.sync(clock.as_ref()).await.expect("sync");
    assert_eq!(report.rejected, 0, "{report:?}");
    assert_eq!(on_the_service(&till, &sales).await, printed(&sales));
    station.close().await;
    std::fs::remove_dir_all(&till.data).expect("the disk dies");

    let fresh = super::scratch();
    let restored = nexus_pos::restore(&fresh, &backup, clock.as_ref())
        .await
        .expect("restored");
    assert_eq!(
        (
            restored.acknowledged_seq,
            restored.receipt_seq,
            restored.already_synced
        ),
        (6, 6, 1),
        "the service holds six sales of this till, one of them unsynced in the backup: {restored:?}"
    );
    assert_eq!(restored.replaced, None);

    let back = Station::open(&fresh).await.expect("open the restored till");
    let status = back.status().await.expect("status");
    assert_eq!(
        status.unsynced_ops, 0,
        "what the service holds counts as synced"
    );
    let efua = back
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    let next = sell_rice(&till, &back, &efua).await;
    let number: ReceiptNumber = next.1.parse().expect("a receipt number");
    assert_eq!(
        number.seq(),
        7,
        "above every receipt on the service: {next:?}"
    );
    let report = back.sync(clock.as_ref()).await.expect("sync");
    assert_eq!((report.pushed, report.rejected), (1, 0), "{report:?}");
    sales.push(next);
    assert_eq!(
        on_the_service(&till, &sales).await,
        printed(&sales),
        "every sale once, the new one under its own number"
    );
    let mut numbers: Vec<&String> = sales.iter().map(|(_, number)| number).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 7, "no receipt number twice: {sales:?}");
    let signed_in = till
        .server
        .login(&till.owner_email, &till.owner_password)
        .await;
    let token = signed_in.body["access_token"].as_str().expect("token");
    let stock = till
        .server
        .get(&format!("/api/v1/branches/{}/stock", till.branch), token)
        .await;
    let rice = stock.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["product_id"] == till.products["RICE"].as_str())
        .cloned()
        .unwrap_or_else(|| panic!("rice on the stock list: {}", stock.body));
    assert_eq!(rice["on_hand"], "-7", "{rice}");
    let levels = back.stock_levels().await.expect("levels");
    let rice_id: uuid::Uuid = till.products["RICE"].parse().expect("uuid");
    assert_eq!(
        levels.get(&rice_id).copied(),
        Some(-7_000),
        "the restored till's stock is the service's"
    );
    let status = back.status().await.expect("status");
    assert_eq!((status.unsynced_ops, status.quarantined.len()), (0, 0));
    back.close().await;
    till.server.stop().await;
    for dir in [fresh, stick] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

async fn a_backup_copied_back_by_hand_has_its_new_sales_quarantined_not_lost(backend: &Backend) {
    let till = till(backend).await;
    let clock = till.server.clock.clone();
    let station = &till.station;
    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    let mut sales = vec![sell_rice(&till, station, &efua).await];
    station.sync(clock.as_ref()).await.expect("sync");
    let stick = super::scratch();
    let backup = station
        .back_up(&stick, 7, clock.now())
        .await
        .expect("backed up");
    clock.advance(DAY);
    for _ in 0..2 {
        sales.push(sell_rice(&till, station, &efua).await);
    }
    station.sync(clock.as_ref()).await.expect("sync");
    station.close().await;

    // Put back without `nexus pos restore`: the till does not know what the service holds.
    let copied = super::scratch();
    std::fs::create_dir_all(&copied).expect("dir");
    std::fs::copy(&backup, copied.join("station.db")).expect("copy");
    let back = Station::open(&copied).await.expect("open");
    let efua = back
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    let reused = sell_rice(&till, &back, &efua).await;
    let report = back.sync(clock.as_ref()).await.expect("sync");
    // Answered `duplicate` before (a retry of seq 2), the sale was marked synced and lost.
    assert_eq!(report.rejected, 1, "{report:?}");
    let status = back.status().await.expect("status");
    assert_eq!(status.quarantined.len(), 1, "{status:?}");
    assert_eq!(
        status.quarantined[0].code.as_deref(),
        Some("seq_reused"),
        "{status:?}"
    );
    assert_eq!(
        back.committed_sales()
            .await
            .expect("sales")
            .last()
            .map(|(_, state)| state.clone()),
        Some("rejected".to_owned()),
        "kept on the till, shown as not synced"
    );
    assert_eq!(on_the_service(&till, &sales).await, printed(&sales));
    assert_eq!(on_the_service(&till, &[reused]).await, [None]);
    back.close().await;
    till.server.stop().await;
    for dir in [copied, stick, till.data] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn a_restore_refuses_what_it_cannot_do_safely_and_changes_nothing() {
    let mut till = till(&Backend::Sqlite).await;
    let clock = till.server.clock.clone();
    let station = &till.station;
    let stick = super::scratch();
    let backup = station
        .back_up(&stick, 7, clock.now())
        .await
        .expect("backed up");

    let not_a_backup = stick.join("notes.txt");
    std::fs::write(&not_a_backup, "shopping list").expect("write");
    let target = super::scratch();
    let refused = nexus_pos::restore(&target, &not_a_backup, clock.as_ref()).await;
    assert!(
        matches!(&refused, Err(StationError::Invalid(message)) if message.contains("is not a station backup")),
        "{refused:?}"
    );

    // The service is away: the restore cannot learn what it holds, so it does nothing.
    till.server.pause().await;
    let refused = nexus_pos::restore(&target, &backup, clock.as_ref()).await;
    assert!(
        matches!(&refused, Err(StationError::Invalid(message)) if message.contains("cannot be reached") && message.contains("Nothing was changed")),
        "{refused:?}"
    );
    assert!(!target.join("station.db").exists());
    assert!(!target.join("restoring").exists());

    // A station that holds unsynced sales is not replaced.
    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    sell_rice(&till, station, &efua).await;
    let refused = nexus_pos::restore(&till.data, &backup, clock.as_ref()).await;
    assert!(
        matches!(&refused, Err(StationError::Invalid(message)) if message.contains("holds 1 write not yet synced")),
        "{refused:?}"
    );
    assert_eq!(station.status().await.expect("status").unsynced_ops, 1);

    // Once synced, it is kept aside and the backup takes its place.
    till.server.resume().await;
    station.sync(clock.as_ref()).await.expect("sync");
    station.close().await;
    let restored = nexus_pos::restore(&till.data, &backup, clock.as_ref())
        .await
        .expect("restored over a synced station");
    let aside = restored.replaced.clone().expect("kept aside");
    assert!(aside.join("station.db").exists(), "{restored:?}");
    assert_eq!((restored.acknowledged_seq, restored.receipt_seq), (1, 1));
    till.server.stop().await;
    for dir in [stick, target, till.data] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn backups_keep_the_newest_and_a_serving_station_takes_its_daily_one() {
    let till = till(&Backend::Sqlite).await;
    let clock = till.server.clock.clone();
    let stick = super::scratch();
    let mut taken = Vec::new();
    for _ in 0..4 {
        taken.push(
            till.station
                .back_up(&stick, 2, clock.now())
                .await
                .expect("backed up"),
        );
        clock.advance(DAY);
    }
    let kept: Vec<_> = nexus_pos::backup::backups_in(&stick)
        .expect("list")
        .into_iter()
        .map(|backup| backup.path)
        .collect();
    assert_eq!(kept, taken[2..], "the newest two");
    let (last, problem) = till.station.backup_state().await.expect("state");
    assert!(last.is_some() && problem.is_none());

    // A file where the directory should be: the attempt fails, says why, and keeps nothing.
    let blocked = stick.join("blocked");
    std::fs::write(&blocked, "").expect("write");
    assert!(
        till.station
            .back_up(&blocked, 2, clock.now())
            .await
            .is_err()
    );
    let (_, problem) = till.station.backup_state().await.expect("state");
    assert!(problem.is_some_and(|problem| problem.contains("blocked")));

    // Serving with a backup directory that holds nothing recent: a backup at once.
    let daily = super::scratch();
    let station = std::sync::Arc::new(till.station);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = nexus_pos::WorkerSettings {
        backups: Some(BackupSettings::daily(daily.clone(), 7)),
        ..nexus_pos::WorkerSettings::default()
    };
    let served = tokio::spawn(nexus_pos::web::serve(
        station.clone(),
        clock.clone(),
        settings,
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    let appeared = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let found = nexus_pos::backup::backups_in(&daily).expect("list");
            if let Some(backup) = found.first() {
                return backup.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the daily backup within the patience");
    assert_eq!(
        appeared.taken_at.as_millis(),
        clock.now().as_millis() / 1000 * 1000,
        "taken when the station started serving"
    );
    let _ = stop.send(());
    served.await.expect("joined").expect("served");
    station.close().await;
    till.server.stop().await;
    for dir in [stick, daily, till.data] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
