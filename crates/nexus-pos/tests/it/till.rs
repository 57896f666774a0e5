//! The till engine on a real station database, with the server's manual clock injected:
//! PIN sign-in and its lock, the cart and discounts, parking, tenders and change, receipt
//! numbers, refunds and voids, shifts and customers. The server is only the source of the
//! replica: it is paused before selling, so everything below runs with no network.

use std::collections::BTreeMap;
use std::time::Duration;

use nexus_domain::{Currency, Quantity, Role};
use nexus_pos::receipt::{Paper, escpos, text};
use nexus_pos::till::Returner;
use nexus_pos::{Cart, SignedIn, Station, StationError, TenderInput};
use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::json;

backend_tests!(a_till_sells_refunds_and_closes_a_shift_offline_then_syncs_it_all,);

pub(crate) struct Till {
    pub server: TestServer,
    pub station: Station,
    pub token: String,
    /// The owner's email, for the dashboard; their password is the test kit's.
    pub owner_email: String,
    pub owner_password: String,
    pub tenant: nexus_domain::TenantId,
    pub branch: String,
    pub data: std::path::PathBuf,
    pub efua: uuid::Uuid,
    pub kojo: uuid::Uuid,
    pub products: BTreeMap<&'static str, String>,
}

fn quantity(units: i64) -> Quantity {
    Quantity::from_milli(units * 1000)
}

/// A shop with one branch ("Osu"), three products, two cashiers with PINs and a manager, and
/// an enrolled station ("Till 1") that has synced once.
/// A station enrolled at `branch` as `name`, synced once, in its own scratch directory.
pub(crate) async fn enrolled(
    server: &TestServer,
    token: &str,
    branch: &str,
    name: &str,
) -> (Station, std::path::PathBuf) {
    let code = server
        .post(
            "/api/v1/stations",
            token,
            json!({ "branch_id": branch, "name": name }),
        )
        .await
        .body["enrolment_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let data = super::scratch();
    let station = Station::open(&data).await.expect("open");
    station
        .enroll(&server.base_url, &code)
        .await
        .expect("enroll");
    station.sync(server.clock.as_ref()).await.expect("sync");
    (station, data)
}

impl Till {
    /// Ama Serwaa, with a phone and a credit limit of GHS 100.00; the till has not pulled her.
    pub(crate) async fn customer_with_credit(&self) -> String {
        let made = self
            .server
            .post(
                "/api/v1/customers",
                &self.token,
                json!({ "name": "Ama Serwaa", "phone": "0244000111", "credit_limit_minor": 10_000 }),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        made.id()
    }
}

pub(crate) async fn till(backend: &Backend) -> Till {
    till_on(TestServer::start(backend).await).await
}

/// The shop of [`till`] on a server the test started.
pub(crate) async fn till_on(server: TestServer) -> Till {
    let owner = server.register("Till Shop").await;
    let token = owner.access_token.clone();
    let branch = server.create_branch(&token, "Osu").await;
    let mut products = BTreeMap::new();
    for (sku, body) in [
        (
            "RICE",
            json!({ "sku": "RICE", "name": "Rice 5kg", "price_minor": 1200, "barcode": "6001234567890" }),
        ),
        (
            "WATER",
            json!({ "sku": "WATER", "name": "Voltic water 1.5l", "price_minor": 500, "tax_class": "exempt" }),
        ),
        (
            "MILK",
            json!({ "sku": "MILK", "name": "Peak milk tin", "price_minor": 2500, "barcode": "5000000000017" }),
        ),
    ] {
        let answer = server.post("/api/v1/products", &token, body).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        products.insert(sku, answer.id());
    }
    let mut staff = Vec::new();
    for (name, role, pin) in [
        ("Efua", "cashier", "4821"),
        ("Kojo", "cashier", "1357"),
        ("Adjoa", "manager", "2468"),
    ] {
        let answer = server
            .post(
                "/api/v1/staff",
                &token,
                json!({ "email": format!("{}-{}@till.gh", name.to_lowercase(), uuid::Uuid::new_v4().simple()),
                        "name": name, "role": role, "branch_ids": [branch], "pin": pin,
                        "password": "a long enough password" }),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        staff.push(answer.id().parse::<uuid::Uuid>().expect("uuid"));
    }
    let (station, data) = enrolled(&server, &token, &branch, "Till 1").await;
    Till {
        tenant: owner.tenant_id.parse().expect("tenant id"),
        server,
        station,
        token,
        owner_email: owner.email.clone(),
        owner_password: owner.password.clone(),
        branch,
        data,
        efua: staff[0],
        kojo: staff[1],
        products,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_sign_in_offline_and_a_run_of_wrong_ones_locks() {
    let mut till = till(&Backend::Sqlite).await;
    till.server.pause().await;
    let clock = till.server.clock.clone();
    let station = &till.station;

    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("Efua's PIN");
    assert_eq!((efua.name.as_str(), efua.role), ("Efua", Role::Cashier));
    // PIN alone says who it is.
    let kojo = station
        .sign_in(clock.as_ref(), None, "1357")
        .await
        .expect("PIN only");
    assert_eq!(kojo.id, till.kojo);
    assert_eq!(station.till_staff().await.expect("staff").len(), 3);

    // Kojo's PIN is not Efua's; four wrong tries count down, the fifth locks her.
    for attempts_left in (1..=4).rev() {
        let wrong = station
            .sign_in(clock.as_ref(), Some(till.efua), "1357")
            .await;
        assert!(
            matches!(wrong, Err(StationError::WrongPin { attempts_left: left }) if left == attempts_left),
            "{wrong:?}"
        );
    }
    let locked = station
        .sign_in(clock.as_ref(), Some(till.efua), "0000")
        .await;
    assert!(
        matches!(locked, Err(StationError::PinLocked { .. })),
        "{locked:?}"
    );
    // Locked means locked: even her right PIN waits.
    let still = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await;
    assert!(
        matches!(still, Err(StationError::PinLocked { .. })),
        "{still:?}"
    );
    // Kojo is not affected.
    station
        .sign_in(clock.as_ref(), Some(till.kojo), "1357")
        .await
        .expect("another cashier signs in");
    clock.advance(Duration::from_secs(5 * 60 + 1));
    station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("the lock runs out");
    // A bad-looking PIN is simply wrong, never a crash.
    assert!(matches!(
        station.sign_in(clock.as_ref(), None, "12ab").await,
        Err(StationError::WrongPinNoName)
    ));
    // PIN-only tries lock nobody: after three wrong ones each further one waits longer, and
    // once the wait is over the right PIN signs in.
    for _ in 0..2 {
        assert!(matches!(
            station.sign_in(clock.as_ref(), None, "0000").await,
            Err(StationError::WrongPinNoName)
        ));
    }
    let mut waits = Vec::new();
    for _ in 0..6 {
        match station.sign_in(clock.as_ref(), None, "0000").await {
            Err(StationError::PinSlowed {
                retry_after_seconds,
            }) => waits.push(retry_after_seconds),
            other => panic!("a PIN-only try after a run of wrong ones: {other:?}"),
        }
        let refused = station.sign_in(clock.as_ref(), None, "1357").await;
        assert!(
            matches!(refused, Err(StationError::PinSlowed { .. })),
            "even the right PIN waits its turn: {refused:?}"
        );
        clock.advance(Duration::from_secs(
            u64::try_from(*waits.last().expect("a wait")).expect("positive"),
        ));
    }
    assert_eq!(
        waits,
        [2, 4, 8, 16, 30, 30],
        "growing waits of a few seconds"
    );
    let kojo = station
        .sign_in(clock.as_ref(), None, "1357")
        .await
        .expect("the right PIN once the wait is over");
    assert_eq!(kojo.id, till.kojo);
    let _ = std::fs::remove_dir_all(&till.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cart_scans_discounts_within_the_role_and_parks() {
    let mut till = till(&Backend::Sqlite).await;
    till.server.pause().await;
    let clock = till.server.clock.clone();
    let station = &till.station;
    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    let manager = station
        .sign_in(clock.as_ref(), None, "2468")
        .await
        .expect("manager");

    let mut cart = Cart::default();
    // A scanner types the barcode; a cashier may type the SKU in any case.
    station
        .add_to_cart(&mut cart, "6001234567890", quantity(1))
        .await
        .expect("scan");
    station
        .add_to_cart(&mut cart, "rice", quantity(1))
        .await
        .expect("sku");
    station
        .add_to_cart(&mut cart, "WATER", quantity(3))
        .await
        .expect("water");
    assert_eq!(cart.lines.len(), 2, "the second rice joins its line");
    assert_eq!(cart.lines[0].quantity, quantity(2));
    let unknown = station.add_to_cart(&mut cart, "999", quantity(1)).await;
    assert!(matches!(unknown, Err(StationError::Invalid(_))));

    // Search: barcode, SKU, and name prefixes in any case.
    let found = station.search_products("pe", 10).await.expect("search");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].sku, "MILK");
    assert_eq!(
        station
            .search_products("5000000000017", 10)
            .await
            .expect("barcode")[0]
            .sku,
        "MILK"
    );
    assert!(
        station
            .search_products("", 10)
            .await
            .expect("empty")
            .is_empty()
    );
    // Any word of the name, in any order, and a rename is found at once: the search index
    // follows the catalogue.
    let skus = async |query: &str| -> Vec<String> {
        station
            .search_products(query, 10)
            .await
            .expect("search")
            .into_iter()
            .map(|product| product.sku)
            .collect()
    };
    assert_eq!(skus("milk").await, ["MILK"]);
    assert_eq!(skus("TIN pe").await, ["MILK"]);
    let milk_id = station
        .find_product("MILK")
        .await
        .expect("find")
        .expect("milk")
        .id;
    station
        .edit_product(
            clock.as_ref(),
            manager.id,
            milk_id,
            nexus_sync::CatalogueFields {
                name: Some("Peak Évaporée milk tin".to_owned()),
                ..Default::default()
            },
        )
        .await
        .expect("rename");
    assert_eq!(skus("evaporee").await, ["MILK"], "accents fold away");

    cart.set_quantity(1, quantity(2)).expect("quantity");
    assert!(cart.set_quantity(1, Quantity::from_milli(0)).is_err());
    assert!(cart.set_quantity(7, quantity(1)).is_err());

    // Rice line: 2 x 12.00 = 24.00. A cashier gives at most 10 % (2.40), a manager 50 %.
    cart.set_line_discount(efua.role, Currency::Ghs, 0, 240)
        .expect("10 %");
    let refused = cart.set_line_discount(efua.role, Currency::Ghs, 0, 241);
    assert!(
        matches!(&refused, Err(StationError::Invalid(message)) if message.contains("ask a manager")),
        "{refused:?}"
    );
    cart.set_line_discount(manager.role, Currency::Ghs, 0, 1200)
        .expect("a manager gives 50 %");
    assert!(cart.set_discount(efua.role, Currency::Ghs, -1).is_err());

    // Park it; the cart comes back exactly as it was, once.
    let parked = station
        .park(clock.as_ref(), &efua, &cart)
        .await
        .expect("park");
    let list = station.parked().await.expect("parked");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].label, "Rice 5kg and 1 more");
    assert_eq!(station.resume(parked).await.expect("resume"), cart);
    assert!(station.resume(parked).await.is_err(), "resumed only once");
    assert!(station.parked().await.expect("parked").is_empty());

    // The manager's discount stands when the manager checks out, not when a cashier does.
    let as_cashier = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Cash {
                amount_minor: 100_000,
            }],
        )
        .await;
    assert!(
        matches!(as_cashier, Err(StationError::Invalid(_))),
        "{as_cashier:?}"
    );
    let sale = station
        .checkout(
            clock.as_ref(),
            &manager,
            &cart,
            &[TenderInput::Cash {
                amount_minor: 100_000,
            }],
        )
        .await
        .expect("manager checks out");
    // 24.00 - 12.00 + 2 x 5.00 water = 22.00
    assert_eq!(sale.total_minor, 2200);
    let _ = std::fs::remove_dir_all(&till.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenders_change_and_gap_free_receipt_numbers() {
    let mut till = till(&Backend::Sqlite).await;
    till.server.pause().await;
    let clock = till.server.clock.clone();
    let station = &till.station;
    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    let mut cart = Cart::default();
    station
        .add_to_cart(&mut cart, "RICE", quantity(1))
        .await
        .expect("rice");

    // GHS 12.00 paid with 20.00 cash: 8.00 change; VAT 1.50, NHIL 0.25, GETFund 0.25.
    let cash = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Cash { amount_minor: 2000 }],
        )
        .await
        .expect("cash");
    assert_eq!((cash.total_minor, cash.change_minor), (1200, 800));
    assert_eq!(cash.receipt_number, "OSU-TILL1-000001");
    let levies: Vec<(String, i64)> = cash
        .receipt
        .levies
        .iter()
        .map(|levy| (levy.code.clone(), levy.amount_minor))
        .collect();
    assert_eq!(
        levies,
        [
            ("VAT".to_owned(), 150),
            ("NHIL".to_owned(), 25),
            ("GETFUND".to_owned(), 25)
        ]
    );

    // Split: 10.00 mobile money and 2.00 cash.
    let momo = TenderInput::Momo {
        amount_minor: 1000,
        network: "MTN".to_owned(),
        phone: "0241234567".to_owned(),
        reference: "TX-7781".to_owned(),
    };
    let split = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[momo.clone(), TenderInput::Cash { amount_minor: 200 }],
        )
        .await
        .expect("split");
    assert_eq!(split.receipt_number, "OSU-TILL1-000002");
    assert!(split.warnings.is_empty());
    assert_eq!(split.receipt.tenders[0].network.as_deref(), Some("mtn"));

    // The same SMS transaction id again: the sale goes through, with a warning.
    let again = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[momo, TenderInput::Cash { amount_minor: 200 }],
        )
        .await
        .expect("duplicate id warns, does not refuse");
    assert_eq!(again.warnings.len(), 1, "{:?}", again.warnings);
    assert!(again.warnings[0].contains("OSU-TILL1-000002"));

    let card = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Card {
                amount_minor: 1200,
                reference: "AUTH 0042".to_owned(),
            }],
        )
        .await
        .expect("card");
    assert_eq!(card.receipt_number, "OSU-TILL1-000004");

    // Refusals number nothing: the next good sale is 000005.
    for (tenders, why) in [
        (vec![TenderInput::Cash { amount_minor: 1199 }], "still due"),
        (
            vec![TenderInput::Card {
                amount_minor: 1300,
                reference: "X".to_owned(),
            }],
            "only cash gives change",
        ),
        (
            vec![TenderInput::Momo {
                amount_minor: 1200,
                network: "vodafone".to_owned(),
                phone: "0241234567".to_owned(),
                reference: "T".to_owned(),
            }],
            "network",
        ),
        (
            vec![TenderInput::Momo {
                amount_minor: 1200,
                network: "telecel".to_owned(),
                phone: "12".to_owned(),
                reference: "T".to_owned(),
            }],
            "phone",
        ),
        (
            vec![TenderInput::Card {
                amount_minor: 1200,
                reference: " ".to_owned(),
            }],
            "reference",
        ),
        (vec![], "payment"),
    ] {
        let refused = station
            .checkout(clock.as_ref(), &efua, &cart, &tenders)
            .await;
        assert!(
            matches!(&refused, Err(StationError::Invalid(message)) if message.contains(why)),
            "{why}: {refused:?}"
        );
    }
    assert!(
        station
            .checkout(clock.as_ref(), &efua, &Cart::default(), &[])
            .await
            .is_err()
    );
    let next = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Cash { amount_minor: 1200 }],
        )
        .await
        .expect("cash");
    assert_eq!(next.receipt_number, "OSU-TILL1-000005");
    assert_eq!(
        station
            .sale_by_receipt("osu-till1-000002")
            .await
            .expect("lookup")
            .map(|sale| sale.id),
        Some(split.id)
    );

    // Receipts print every levy and the currency code, on both paper widths.
    for paper in [Paper::Mm80, Paper::Mm58] {
        let printed = text(&split.receipt, paper);
        for expected in [
            "TOTAL GHS",
            "VAT 15%",
            "NHIL 2.5%",
            "GETFund Levy 2.5%",
            "MTN MoMo",
            "(unverified)",
            "******4567",
            "OSU-TILL1-000002",
        ] {
            assert!(printed.contains(expected), "{expected} in\n{printed}");
        }
        assert!(
            printed.lines().all(|line| line.len() <= paper.columns()),
            "{printed}"
        );
        assert!(escpos(&split.receipt, paper).is_ascii());
    }
    let _ = std::fs::remove_dir_all(&till.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_and_voids_price_from_the_sale_and_return_stock() {
    let mut till = till(&Backend::Sqlite).await;
    till.server.pause().await;
    let clock = till.server.clock.clone();
    let station = &till.station;
    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    let kojo = station
        .sign_in(clock.as_ref(), Some(till.kojo), "1357")
        .await
        .expect("sign in");
    let adjoa = adjoa_approves(station, clock.as_ref()).await;
    let mut cart = Cart::default();
    station
        .add_to_cart(&mut cart, "RICE", quantity(3))
        .await
        .expect("rice");
    station
        .add_to_cart(&mut cart, "WATER", quantity(1))
        .await
        .expect("water");
    let sale = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Cash { amount_minor: 5000 }],
        )
        .await
        .expect("sale");
    assert_eq!(sale.total_minor, 4100);
    let rice: uuid::Uuid = till.products["RICE"].parse().expect("uuid");
    assert_eq!(station.stock_levels().await.expect("stock")[&rice], -3000);

    // Another cashier may not refund Efua's sale.
    let refused = station
        .refund(
            clock.as_ref(),
            Returner::approved(&kojo, &adjoa),
            sale.id,
            &[(1, quantity(1))],
            "cash",
            None,
        )
        .await;
    assert!(
        matches!(refused, Err(StationError::Invalid(_))),
        "{refused:?}"
    );

    // One rice of three back: a third of 36.00.
    let first = station
        .refund(
            clock.as_ref(),
            Returner::approved(&efua, &adjoa),
            sale.id,
            &[(1, quantity(1))],
            "cash",
            Some("torn bag"),
        )
        .await
        .expect("refund");
    assert_eq!(first.total_minor, 1200);
    assert_eq!(first.receipt.title, "REFUND");
    assert_eq!(
        first.receipt.refers_to_receipt.as_deref(),
        Some(sale.receipt_number.as_str())
    );
    let tax: i64 = first
        .receipt
        .levies
        .iter()
        .map(|levy| levy.amount_minor)
        .sum();
    assert_eq!(tax, first.receipt.tax_minor);
    assert_eq!(station.stock_levels().await.expect("stock")[&rice], -2000);

    // More than is left is refused; nothing changes.
    let too_many = station
        .refund(
            clock.as_ref(),
            Returner::approved(&efua, &adjoa),
            sale.id,
            &[(1, quantity(3))],
            "cash",
            None,
        )
        .await;
    assert!(
        matches!(too_many, Err(StationError::Invalid(_))),
        "{too_many:?}"
    );
    assert!(
        station
            .refund(
                clock.as_ref(),
                Returner::approved(&efua, &adjoa),
                sale.id,
                &[(9, quantity(1))],
                "cash",
                None
            )
            .await
            .is_err()
    );

    // The void takes back everything left: 2 rice and the water, to the last pesewa.
    assert!(
        station
            .void(
                clock.as_ref(),
                Returner::approved(&efua, &adjoa),
                sale.id,
                " "
            )
            .await
            .is_err()
    );
    let void = station
        .void(
            clock.as_ref(),
            Returner::approved(&efua, &adjoa),
            sale.id,
            "customer changed their mind",
        )
        .await
        .expect("void");
    assert_eq!(first.total_minor + void.total_minor, sale.total_minor);
    assert_eq!(station.stock_levels().await.expect("stock")[&rice], 0);
    assert!(
        station
            .void(
                clock.as_ref(),
                Returner::approved(&efua, &adjoa),
                sale.id,
                "again"
            )
            .await
            .is_err(),
        "nothing is left"
    );
    assert!(
        station
            .refund(
                clock.as_ref(),
                Returner::approved(&efua, &adjoa),
                first.id,
                &[(1, quantity(1))],
                "cash",
                None
            )
            .await
            .is_err(),
        "a refund is not refunded"
    );
    let _ = std::fs::remove_dir_all(&till.data);
}

/// Adjoa, the manager, approving at the till with her PIN (refunds and voids by a cashier
/// need it unless the station's settings say otherwise).
async fn adjoa_approves(station: &Station, clock: &dyn nexus_domain::Clock) -> SignedIn {
    station
        .approver(clock, "2468")
        .await
        .expect("Adjoa's PIN approves")
}

/// Efua signs in and sells one rice for exact cash: Efua, signed in, and the sale.
pub(crate) async fn efua_sells_a_rice(till: &Till) -> (SignedIn, nexus_pos::Committed) {
    let clock = till.server.clock.as_ref();
    let efua = till
        .station
        .sign_in(clock, Some(till.efua), "4821")
        .await
        .expect("sign in");
    let mut cart = Cart::default();
    till.station
        .add_to_cart(&mut cart, "RICE", quantity(1))
        .await
        .expect("rice");
    let sale = till
        .station
        .checkout(
            clock,
            &efua,
            &cart,
            &[TenderInput::Cash { amount_minor: 1200 }],
        )
        .await
        .expect("sale");
    (efua, sale)
}

/// Two handles on one station database (the screen and a script, or two screens' requests)
/// refunding the last item of a sale at the same moment: one refund goes through, the other
/// sees it and is refused, so the money goes back once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_refunds_of_the_same_item_at_once_give_the_money_back_once() {
    let mut till = till(&Backend::Sqlite).await;
    till.server.pause().await;
    let clock = till.server.clock.clone();
    let (efua, sale) = efua_sells_a_rice(&till).await;
    let adjoa = adjoa_approves(&till.station, clock.as_ref()).await;
    let second = Station::open(&till.data).await.expect("second handle");
    for _ in 0..5 {
        let one_rice = [(1, quantity(1))];
        let (left, right) = tokio::join!(
            till.station.refund(
                clock.as_ref(),
                Returner::approved(&efua, &adjoa),
                sale.id,
                &one_rice,
                "cash",
                None
            ),
            second.refund(
                clock.as_ref(),
                Returner::approved(&efua, &adjoa),
                sale.id,
                &one_rice,
                "cash",
                None
            ),
        );
        let done = [&left, &right]
            .iter()
            .filter(|outcome| outcome.is_ok())
            .count();
        assert!(
            done <= 1,
            "the same rice was refunded twice: {left:?} {right:?}"
        );
        for outcome in [&left, &right] {
            if let Err(error) = outcome {
                assert!(matches!(error, StationError::Invalid(_)), "{error:?}");
            }
        }
    }
    let returned = till
        .station
        .returned_lines(sale.id)
        .await
        .expect("returned");
    assert_eq!(returned.get(&1).copied(), Some(1000), "one rice back, once");
    second.close().await;
    till.station.close().await;
    till.server.stop().await;
    let _ = std::fs::remove_dir_all(&till.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_carry_the_shops_header_and_footer_from_the_dashboard() {
    let till = till(&Backend::Sqlite).await;
    let clock = till.server.clock.clone();
    let details = nexus_store::ShopDetails {
        trading_name: Some("Till Shop Enterprise".to_owned()),
        address: Some("Ring Road Central, Accra".to_owned()),
        phone: Some("030 222 3333".to_owned()),
        tin: Some("P0098765432".to_owned()),
        receipt_footer: Some("Thank you for shopping with us".to_owned()),
        skipped_steps: Vec::new(),
    };
    till.server
        .store
        .update_shop_details(
            till.tenant,
            &details,
            nexus_domain::Clock::now(clock.as_ref()),
        )
        .await
        .expect("shop details");
    till.station.sync(clock.as_ref()).await.expect("sync");
    let (_, sale) = efua_sells_a_rice(&till).await;
    let record = till
        .station
        .local_sale(sale.id)
        .await
        .expect("read")
        .expect("the sale");
    for paper in [Paper::Mm80, Paper::Mm58] {
        let printed = text(&record.receipt, paper);
        for expected in [
            "Till Shop Enterprise",
            "Ring Road Central, Accra",
            "Tel 030 222 3333",
            "TIN P0098765432",
            "Thank you for shopping with us",
        ] {
            assert!(printed.contains(expected), "{expected:?} in\n{printed}");
        }
        let bytes = escpos(&record.receipt, paper);
        assert!(
            String::from_utf8_lossy(&bytes).contains("TIN P0098765432"),
            "and on the printer"
        );
    }
    let _ = std::fs::remove_dir_all(&till.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_float_limit_is_the_stations_own_setting() {
    let mut till = till(&Backend::Sqlite).await;
    till.server.pause().await;
    let station = &till.station;
    let currency = station.till_settings().await.expect("settings").currency;
    let limit = || station.float_confirm_above(currency);
    assert_eq!(limit().await.expect("default"), 200_000, "GHS 2,000.00");
    station
        .set_float_confirm_above(Some(50_000))
        .await
        .expect("set");
    assert_eq!(limit().await.expect("set"), 50_000);
    assert!(
        station.set_float_confirm_above(Some(-1)).await.is_err(),
        "a limit below zero is refused"
    );
    assert_eq!(limit().await.expect("kept"), 50_000, "and changes nothing");
    station.set_float_confirm_above(None).await.expect("clear");
    assert_eq!(limit().await.expect("default again"), 200_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shift_closes_with_expected_against_counted() {
    let mut till = till(&Backend::Sqlite).await;
    till.server.pause().await;
    let clock = till.server.clock.clone();
    let station = &till.station;
    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    let adjoa = adjoa_approves(station, clock.as_ref()).await;
    assert!(
        station
            .close_shift(clock.as_ref(), &efua, &BTreeMap::new())
            .await
            .is_err(),
        "no shift open"
    );
    let shift = station
        .open_shift(clock.as_ref(), &efua, 10_000)
        .await
        .expect("open");
    assert!(
        station.open_shift(clock.as_ref(), &efua, 0).await.is_err(),
        "one open shift at a time"
    );
    let mut cart = Cart::default();
    station
        .add_to_cart(&mut cart, "RICE", quantity(1))
        .await
        .expect("rice");
    // Cash 20.00 for 12.00 (8.00 change); then 12.00 by mobile money; then a cash refund.
    let cash_sale = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Cash { amount_minor: 2000 }],
        )
        .await
        .expect("cash");
    station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Momo {
                amount_minor: 1200,
                network: "telecel".to_owned(),
                phone: "0201234567".to_owned(),
                reference: "TC-1".to_owned(),
            }],
        )
        .await
        .expect("momo");
    // Taken with the SMS's id, it is unverified until a network confirms that transaction.
    let unverified = station.unverified_momo_for_shift(shift.id).await;
    assert_eq!(unverified.expect("unverified"), 1200);
    station
        .note_momo_confirmed("TC-2", clock.as_ref())
        .await
        .expect("another transaction confirmed");
    assert_eq!(
        station
            .unverified_momo_for_shift(shift.id)
            .await
            .expect("unverified"),
        1200
    );
    station
        .note_momo_confirmed("TC-1", clock.as_ref())
        .await
        .expect("confirmed");
    assert_eq!(
        station
            .unverified_momo_for_shift(shift.id)
            .await
            .expect("unverified"),
        0
    );
    station
        .refund(
            clock.as_ref(),
            Returner::approved(&efua, &adjoa),
            cash_sale.id,
            &[(1, quantity(1))],
            "cash",
            None,
        )
        .await
        .expect("refund");

    let counted: BTreeMap<String, i64> = [("cash".to_owned(), 9_900), ("momo".to_owned(), 1200)]
        .into_iter()
        .collect();
    assert!(
        station
            .close_shift(
                clock.as_ref(),
                &efua,
                &[("cheque".to_owned(), 1)].into_iter().collect()
            )
            .await
            .is_err()
    );
    let closed = station
        .close_shift(clock.as_ref(), &efua, &counted)
        .await
        .expect("close");
    assert_eq!(closed.id, shift.id);
    let figures: Vec<(&str, i64, i64, i64)> = closed
        .tenders
        .iter()
        .map(|count| {
            (
                count.tender.as_str(),
                count.expected_minor,
                count.counted_minor,
                count.difference_minor,
            )
        })
        .collect();
    // Cash: float 100.00 + 20.00 taken - 8.00 change - 12.00 refunded = 100.00; 1.00 short.
    assert_eq!(
        figures,
        [
            ("card", 0, 0, 0),
            ("cash", 10_000, 9_900, -100),
            ("momo", 1200, 1200, 0)
        ]
    );
    assert!(
        station
            .open_shift_of(efua.id)
            .await
            .expect("shift")
            .is_none()
    );
    let _ = std::fs::remove_dir_all(&till.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_are_created_offline_and_go_on_the_receipt() {
    let mut till = till(&Backend::Sqlite).await;
    till.server.pause().await;
    let clock = till.server.clock.clone();
    let station = &till.station;
    let efua = station
        .sign_in(clock.as_ref(), None, "4821")
        .await
        .expect("sign in");
    let ama = station
        .create_customer(clock.as_ref(), &efua, "Ama Mensah", Some("0244000111"))
        .await
        .expect("customer");
    assert!(
        station
            .create_customer(clock.as_ref(), &efua, " ", None)
            .await
            .is_err()
    );
    assert!(
        station
            .create_customer(clock.as_ref(), &efua, "Kofi", Some("12"))
            .await
            .is_err()
    );
    assert_eq!(
        station
            .search_customers("0244000111", 5)
            .await
            .expect("phone"),
        std::slice::from_ref(&ama)
    );
    assert_eq!(
        station.search_customers("ama", 5).await.expect("name"),
        std::slice::from_ref(&ama)
    );
    let mut cart = Cart {
        customer: Some(ama.clone()),
        ..Cart::default()
    };
    station
        .add_to_cart(&mut cart, "MILK", quantity(1))
        .await
        .expect("milk");
    let sale = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Cash { amount_minor: 2500 }],
        )
        .await
        .expect("sale");
    assert_eq!(sale.receipt.customer.as_deref(), Some("Ama Mensah"));
    assert!(text(&sale.receipt, Paper::Mm58).contains("Customer: Ama Mensah"));
    let _ = std::fs::remove_dir_all(&till.data);
}

/// Everything the till recorded offline reaches the server once the service is back: sales
/// with their receipt numbers, a refund and a void, a shift and a customer; nothing is refused.
async fn a_till_sells_refunds_and_closes_a_shift_offline_then_syncs_it_all(backend: &Backend) {
    let mut till = till(backend).await;
    till.server.pause().await;
    let clock = till.server.clock.clone();
    let station = &till.station;
    let efua = station
        .sign_in(clock.as_ref(), None, "4821")
        .await
        .expect("sign in");
    let adjoa = adjoa_approves(station, clock.as_ref()).await;
    station
        .open_shift(clock.as_ref(), &efua, 5_000)
        .await
        .expect("open");
    let customer = station
        .create_customer(clock.as_ref(), &efua, "Yaw", Some("0277000222"))
        .await
        .expect("customer");
    let mut cart = Cart {
        customer: Some(customer),
        ..Cart::default()
    };
    station
        .add_to_cart(&mut cart, "RICE", quantity(2))
        .await
        .expect("rice");
    let first = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Cash { amount_minor: 3000 }],
        )
        .await
        .expect("sale");
    let second = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Momo {
                amount_minor: 2400,
                network: "airteltigo".to_owned(),
                phone: "0261234567".to_owned(),
                reference: "AT-99".to_owned(),
            }],
        )
        .await
        .expect("sale");
    station
        .refund(
            clock.as_ref(),
            Returner::approved(&efua, &adjoa),
            first.id,
            &[(1, quantity(1))],
            "cash",
            None,
        )
        .await
        .expect("refund");
    let void = station
        .void(
            clock.as_ref(),
            Returner::approved(&efua, &adjoa),
            second.id,
            "rang up twice",
        )
        .await
        .expect("void");
    station
        .close_shift(
            clock.as_ref(),
            &efua,
            &[("cash".to_owned(), 5_000)].into_iter().collect(),
        )
        .await
        .expect("close");
    assert_eq!(station.status().await.expect("status").unsynced_ops, 7);

    till.server.resume().await;
    let report = station.sync(clock.as_ref()).await.expect("sync");
    let status = station.status().await.expect("status");
    assert_eq!(
        (report.pushed, report.rejected),
        (7, 0),
        "{:?}",
        status.quarantined
    );
    assert_eq!(status.unsynced_ops, 0);
    let recorded = till
        .server
        .get(&format!("/api/v1/sales/{}", first.id), &till.token)
        .await;
    assert_eq!(recorded.status, 200, "{}", recorded.body);
    assert_eq!(
        recorded.body["receipt_number"],
        first.receipt_number.as_str()
    );
    // The void keeps who approved it at the till; a sale has nobody.
    let voided = till
        .server
        .get(&format!("/api/v1/sales/{}", void.id), &till.token)
        .await;
    assert_eq!(
        voided.body["approved_by"],
        json!(adjoa.id),
        "{}",
        voided.body
    );
    assert_eq!(recorded.body["approved_by"], json!(null));
    // Two rice sold twice, one refunded, two voided: one rice left sold.
    let stock = till
        .server
        .get(
            &format!("/api/v1/branches/{}/stock", till.branch),
            &till.token,
        )
        .await;
    let rice = till.products["RICE"].as_str();
    let on_hand = stock.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["product_id"] == rice)
        .map(|item| item["on_hand"].clone());
    assert_eq!(on_hand, Some(json!("-1")), "{}", stock.body);
    let rice_id: uuid::Uuid = rice.parse().expect("uuid");
    assert_eq!(
        station.stock_levels().await.expect("stock").get(&rice_id),
        Some(&-1000),
        "the till agrees with the server"
    );
    let _ = std::fs::remove_dir_all(&till.data);
}

/// A cashier's refund or void needs a manager's PIN at a till unless its settings say not: the
/// PIN is a manager's or owner's of the branch (a cashier's does not do), wrong ones slow the
/// next down, and a manager refunds on their own authority.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cashiers_refund_needs_a_managers_pin_unless_the_till_says_not() {
    let mut till = till(&Backend::Sqlite).await;
    till.server.pause().await;
    let clock = till.server.clock.clone();
    let (efua, sale) = efua_sells_a_rice(&till).await;
    let station = &till.station;
    let settings = station.station_settings().await.expect("settings");
    assert!(settings.returns_need_manager && settings.blind_cash_up && settings.cash_drawer);
    assert_eq!(settings.printer, None);
    let one = [(1, quantity(1))];

    let alone = station
        .refund(
            clock.as_ref(),
            Returner::alone(&efua),
            sale.id,
            &one,
            "cash",
            None,
        )
        .await;
    assert!(
        matches!(&alone, Err(StationError::Invalid(message)) if message.contains("manager's PIN")),
        "{alone:?}"
    );
    let alone = station
        .void(
            clock.as_ref(),
            Returner::alone(&efua),
            sale.id,
            "wrong item",
        )
        .await;
    assert!(matches!(alone, Err(StationError::Invalid(_))), "{alone:?}");

    // Kojo is a cashier: his PIN approves nothing. Three wrong PINs go free, then each waits.
    for _ in 0..nexus_pos::till::PIN_ONLY_FREE_TRIES {
        let refused = station.approver(clock.as_ref(), "1357").await;
        assert!(
            matches!(&refused, Err(StationError::Invalid(message)) if message.contains("not the PIN of a manager")),
            "{refused:?}"
        );
    }
    let slowed = station.approver(clock.as_ref(), "1357").await;
    assert!(
        matches!(&slowed, Err(StationError::Invalid(message)) if message.contains("wait 2 s")),
        "{slowed:?}"
    );
    let waiting = station.approver(clock.as_ref(), "2468").await;
    assert!(
        matches!(&waiting, Err(StationError::Invalid(message)) if message.contains("wait")),
        "even the right PIN waits its turn: {waiting:?}"
    );
    // Sign-in is not slowed by the approvals.
    station
        .sign_in(clock.as_ref(), None, "1357")
        .await
        .expect("Kojo signs in at once");
    clock.advance(Duration::from_secs(3));
    let adjoa = station
        .approver(clock.as_ref(), "2468")
        .await
        .expect("Adjoa approves");
    assert_eq!((adjoa.name.as_str(), adjoa.role), ("Adjoa", Role::Manager));
    let kojo = station
        .sign_in(clock.as_ref(), Some(till.kojo), "1357")
        .await
        .expect("sign in");
    let not_a_manager = station
        .refund(
            clock.as_ref(),
            Returner::approved(&efua, &kojo),
            sale.id,
            &one,
            "cash",
            None,
        )
        .await;
    assert!(
        matches!(&not_a_manager, Err(StationError::Invalid(message)) if message.contains("Kojo cannot approve")),
        "{not_a_manager:?}"
    );
    station
        .refund(
            clock.as_ref(),
            Returner::approved(&efua, &adjoa),
            sale.id,
            &one,
            "cash",
            None,
        )
        .await
        .expect("refunded with Adjoa's approval");

    // With the setting off, Efua refunds her own sales alone; the manager always could.
    let (_, second) = efua_sells_a_rice(&till).await;
    let settings = station
        .change_station_settings(&nexus_pos::SettingsChange {
            returns_need_manager: Some(false),
            ..Default::default()
        })
        .await
        .expect("change");
    assert!(!settings.returns_need_manager && settings.blind_cash_up);
    station
        .void(
            clock.as_ref(),
            Returner::alone(&efua),
            second.id,
            "rang up twice",
        )
        .await
        .expect("a void without approval");
    let _ = std::fs::remove_dir_all(&till.data);
}
