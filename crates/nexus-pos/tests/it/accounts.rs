//! Customer accounts at the till: a sale on account offline within the limit the till knows
//! (the last synced balance plus its own unsynced entries), refused beyond it with what is
//! left; two tills selling on account to one customer offline, the breach kept and flagged; a
//! payment on account in the drawer's count; a refund of a sale on account back onto it; and
//! after syncing, the same balance on the service and on both tills.

use nexus_domain::Quantity;
use nexus_pos::receipt::{Paper, text};
use nexus_pos::till::Returner;
use nexus_pos::{Cart, Station, TenderInput};
use nexus_testkit::{Backend, backend_tests};

use crate::till::till;

backend_tests!(two_tills_sell_on_account_offline_and_agree_after_sync,);

async fn sell_on_account(
    station: &Station,
    clock: &dyn nexus_domain::Clock,
    pin: &str,
    customer: &nexus_pos::Customer,
    bags: i64,
) -> nexus_pos::StationResult<nexus_pos::Committed> {
    let cashier = station.sign_in(clock, None, pin).await.expect("sign in");
    let mut cart = Cart {
        customer: Some(customer.clone()),
        ..Cart::default()
    };
    station
        .add_to_cart(&mut cart, "RICE", Quantity::from_milli(bags * 1000))
        .await
        .expect("rice");
    station
        .checkout(
            clock,
            &cashier,
            &cart,
            &[TenderInput::Credit {
                amount_minor: bags * 1200,
            }],
        )
        .await
}

async fn two_tills_sell_on_account_offline_and_agree_after_sync(backend: &Backend) {
    let mut till = till(backend).await;
    let ama_id: uuid::Uuid = till.customer_with_credit().await.parse().expect("uuid");
    let clock = till.server.clock.clone();
    till.station.sync(clock.as_ref()).await.expect("sync");
    let (other, other_data) =
        crate::till::enrolled(&till.server, &till.token, &till.branch, "Till 2").await;
    let customer = till
        .station
        .customer(ama_id)
        .await
        .expect("customer")
        .expect("pulled");
    assert_eq!(customer.credit_limit_minor, Some(10_000));

    till.server.pause().await;
    // Till 1, offline: five bags on account, 60.00 of 100.00.
    let sold = sell_on_account(&till.station, clock.as_ref(), "4821", &customer, 5)
        .await
        .expect("on account");
    let printed = text(&sold.receipt, Paper::Mm80);
    assert!(printed.contains("On account"), "{printed}");
    assert!(printed.contains("Owed on account now"), "{printed}");
    let account = till
        .station
        .account(ama_id)
        .await
        .expect("account")
        .expect("known");
    assert_eq!(
        (account.balance_minor, account.credit_left_minor),
        (6_000, 4_000)
    );
    // Four more would pass the limit: refused, saying what is left.
    let refused = sell_on_account(&till.station, clock.as_ref(), "4821", &customer, 4)
        .await
        .expect_err("over the limit");
    assert!(refused.to_string().contains("40.00 more"), "{refused}");
    // A sale on account needs the customer.
    let efua = till
        .station
        .sign_in(clock.as_ref(), None, "4821")
        .await
        .expect("sign in");
    let mut walk_in = Cart::default();
    till.station
        .add_to_cart(&mut walk_in, "RICE", Quantity::from_milli(1000))
        .await
        .expect("rice");
    assert!(
        till.station
            .checkout(
                clock.as_ref(),
                &efua,
                &walk_in,
                &[TenderInput::Credit { amount_minor: 1200 }]
            )
            .await
            .is_err()
    );

    // Till 2 knows only the synced balance (nothing): its sale on account goes through, and
    // together the two pass the limit. Kept, never lost.
    sell_on_account(&other, clock.as_ref(), "1357", &customer, 8)
        .await
        .expect("till 2 on account");

    // A payment on account at till 1, in cash, during Efua's shift: in the drawer's count; the
    // sale on account is not.
    till.station
        .open_shift(clock.as_ref(), &efua, 5_000)
        .await
        .expect("shift");
    let taken = till
        .station
        .take_payment(
            clock.as_ref(),
            &efua,
            ama_id,
            &TenderInput::Cash {
                amount_minor: 1_000,
            },
        )
        .await
        .expect("payment");
    assert_eq!(taken.balance_minor, 5_000);
    assert!(
        till.station
            .take_payment(
                clock.as_ref(),
                &efua,
                ama_id,
                &TenderInput::Card {
                    amount_minor: 100,
                    reference: "R".to_owned()
                },
            )
            .await
            .is_err(),
        "a payment on account is cash or mobile money"
    );
    let shift = till
        .station
        .open_shift_of(efua.id)
        .await
        .expect("shift")
        .expect("open");
    let expected = till
        .station
        .expected_for_shift(&shift)
        .await
        .expect("expected");
    assert_eq!(
        expected.get("cash"),
        Some(&6_000),
        "float and the payment: {expected:?}"
    );
    assert!(!expected.contains_key("credit"), "{expected:?}");

    // A manager refunds one bag of till 1's sale: onto the account, not out of the drawer.
    let adjoa = till
        .station
        .sign_in(clock.as_ref(), None, "2468")
        .await
        .expect("manager");
    let refund = till
        .station
        .refund(
            clock.as_ref(),
            Returner::alone(&adjoa),
            sold.id,
            &[(1, Quantity::from_milli(1000))],
            "cash",
            Some("torn bag"),
        )
        .await
        .expect("refund");
    assert_eq!(refund.receipt.tenders[0].kind, "credit");
    assert_eq!(refund.receipt.account_balance_minor, Some(3_800));

    till.server.resume().await;
    for _ in 0..2 {
        till.station.sync(clock.as_ref()).await.expect("sync 1");
        other.sync(clock.as_ref()).await.expect("sync 2");
    }
    let server_account = till
        .server
        .get(&format!("/api/v1/customers/{ama_id}/account"), &till.token)
        .await;
    assert_eq!(server_account.status, 200, "{}", server_account.body);
    // 60.00 + 96.00 on account, 10.00 paid, 12.00 refunded.
    let owed = 6_000 + 9_600 - 1_000 - 1_200;
    assert_eq!(
        server_account.body["balance_minor"], owed,
        "{}",
        server_account.body
    );
    assert_eq!(server_account.body["over_limit_minor"], owed - 10_000);
    assert_eq!(
        server_account.body["statement"].as_array().map(Vec::len),
        Some(4)
    );
    for station in [&till.station, &other] {
        let account = station
            .account(ama_id)
            .await
            .expect("account")
            .expect("known");
        assert_eq!(
            account.balance_minor, owed,
            "every till holds the same entries"
        );
        assert_eq!(account.statement.len(), 4);
    }
    // The breach is shown to the owner.
    let flagged = till
        .server
        .get("/api/v1/sync/exceptions", &till.token)
        .await;
    assert_eq!(flagged.status, 200, "{}", flagged.body);
    let kinds: Vec<&str> = flagged.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["kind"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(kinds, ["credit_over_limit"], "{}", flagged.body);
    let debtors = till
        .server
        .get("/api/v1/customers/debtors", &till.token)
        .await;
    assert_eq!(debtors.body["items"][0]["balance_minor"], owed);
    other.close().await;
    let _ = std::fs::remove_dir_all(&other_data);
}
