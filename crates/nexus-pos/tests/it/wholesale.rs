//! Wholesale at the till: a trader the owner put on the wholesale list in the dashboard reaches
//! the till at its next sync; a cart for them is priced at wholesale offline, the receipt says
//! so, and the service records the sale at wholesale with nothing flagged.

use nexus_domain::{PriceList, Quantity};
use nexus_pos::receipt::{Paper, text};
use nexus_pos::{Cart, TenderInput};
use nexus_testkit::{Backend, backend_tests};
use serde_json::json;

use crate::till::till;

backend_tests!(a_trader_on_the_wholesale_list_buys_at_wholesale_at_the_till,);

async fn a_trader_on_the_wholesale_list_buys_at_wholesale_at_the_till(backend: &Backend) {
    let mut till = till(backend).await;
    let rice = till.products["RICE"].clone();
    let priced = till
        .server
        .patch(
            &format!("/api/v1/products/{rice}"),
            &till.token,
            json!({ "wholesale_price_minor": 1000 }),
        )
        .await;
    assert_eq!(priced.status, 200, "{}", priced.body);
    let trader = till
        .server
        .post(
            "/api/v1/customers",
            &till.token,
            json!({ "name": "Auntie Akos", "phone": "0244000111", "price_list": "wholesale" }),
        )
        .await;
    assert_eq!(trader.status, 201, "{}", trader.body);
    let clock = till.server.clock.clone();
    till.station.sync(clock.as_ref()).await.expect("sync");

    till.server.pause().await;
    let station = &till.station;
    let found = station
        .search_customers("0244000111", 5)
        .await
        .expect("search");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].price_list, PriceList::Wholesale);
    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    station
        .open_shift(clock.as_ref(), &efua, 0)
        .await
        .expect("open");
    let mut cart = Cart {
        customer: Some(found[0].clone()),
        ..Cart::default()
    };
    for code in ["RICE", "WATER"] {
        station
            .add_to_cart(&mut cart, code, Quantity::from_milli(2000))
            .await
            .expect(code);
    }
    // Rice at its wholesale price; water has none, so it sells at retail.
    let total = 2 * 1000 + 2 * 500;
    let sale = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Cash {
                amount_minor: total,
            }],
        )
        .await
        .expect("sale");
    assert_eq!(sale.total_minor, total);
    let printed = text(&sale.receipt, Paper::Mm80);
    assert!(printed.contains("Wholesale prices"), "{printed}");
    assert!(printed.contains("Customer: Auntie Akos"), "{printed}");
    // A walk-in's cart is retail.
    let mut walk_in = Cart::default();
    station
        .add_to_cart(&mut walk_in, "RICE", Quantity::from_milli(1000))
        .await
        .expect("rice");
    let retail = station
        .checkout(
            clock.as_ref(),
            &efua,
            &walk_in,
            &[TenderInput::Cash { amount_minor: 1200 }],
        )
        .await
        .expect("sale");
    assert!(!text(&retail.receipt, Paper::Mm80).contains("Wholesale"));

    till.server.resume().await;
    station.sync(clock.as_ref()).await.expect("sync");
    let recorded = till
        .server
        .get(&format!("/api/v1/sales/{}", sale.id), &till.token)
        .await;
    assert_eq!(recorded.status, 200, "{}", recorded.body);
    assert_eq!(recorded.body["price_list"], "wholesale");
    assert_eq!(recorded.body["total_minor"], total);
    assert_eq!(recorded.body["customer_id"], trader.body["id"]);
    let flagged = till
        .server
        .get("/api/v1/sync/exceptions", &till.token)
        .await;
    assert_eq!(flagged.status, 200, "{}", flagged.body);
    assert_eq!(flagged.body["items"], json!([]), "{}", flagged.body);
}
