//! Packs at the till: a carton's barcode sells the carton at its price, offline; the receipt
//! says "2 bag of 10 (10)"; the till's stock and, once synced, the service's go down by the
//! pieces; a refund of one carton brings its pieces back; the service's item report counts
//! pieces and their cost. A product's category reaches the till for browsing, and leaves it when
//! the category is archived.

use nexus_domain::Quantity;
use nexus_pos::receipt::{Paper, text};
use nexus_pos::till::Returner;
use nexus_pos::{Cart, TenderInput};
use nexus_testkit::{Backend, backend_tests};
use serde_json::json;

use crate::till::till;

backend_tests!(a_pack_scanned_offline_sells_the_pack_and_moves_its_pieces,);

fn units(count: i64) -> Quantity {
    Quantity::from_milli(count * 1000)
}

async fn on_hand_at_the_service(till: &crate::till::Till, product: &str) -> String {
    let stock = till
        .server
        .get(
            &format!("/api/v1/branches/{}/stock", till.branch),
            &till.token,
        )
        .await;
    stock.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| item["product_id"] == product)
        .and_then(|item| item["on_hand"].as_str())
        .unwrap_or("none")
        .to_owned()
}

async fn a_pack_scanned_offline_sells_the_pack_and_moves_its_pieces(backend: &Backend) {
    let mut till = till(backend).await;
    let rice = till.products["RICE"].clone();
    let packed = till
        .server
        .patch(
            &format!("/api/v1/products/{rice}"),
            &till.token,
            json!({ "cost_minor": 900, "packs": [
                { "name": "bag of 10", "units": 10, "barcode": "6001234500001", "price_minor": 11_500 }
            ] }),
        )
        .await;
    assert_eq!(packed.status, 200, "{}", packed.body);
    assert_eq!(packed.body["packs"][0]["units"], 10);
    let received = till
        .server
        .post(
            &format!("/api/v1/branches/{}/stock/movements", till.branch),
            &till.token,
            json!({ "product_id": rice, "kind": "receipt", "quantity": "100" }),
        )
        .await;
    assert_eq!(received.status, 201, "{}", received.body);
    // Rice goes in a category: the till offers it there, for goods with no barcode at hand.
    let staples = till
        .server
        .post(
            "/api/v1/categories",
            &till.token,
            json!({ "name": "Staples" }),
        )
        .await
        .id();
    let moved = till
        .server
        .patch(
            &format!("/api/v1/products/{rice}"),
            &till.token,
            json!({ "category_id": staples }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let clock = till.server.clock.clone();
    till.station.sync(clock.as_ref()).await.expect("sync");
    let rice_id: uuid::Uuid = rice.parse().expect("uuid");
    let categories = till.station.categories().await.expect("categories");
    assert_eq!(categories.len(), 1, "{categories:?}");
    assert_eq!(categories[0].0.name, "Staples");
    assert_eq!(categories[0].1, 1);
    let staples_id: uuid::Uuid = staples.parse().expect("uuid");
    let in_it = till
        .station
        .products_in_category(staples_id, 10)
        .await
        .expect("products");
    assert_eq!(
        in_it
            .iter()
            .map(|product| product.sku.as_str())
            .collect::<Vec<_>>(),
        ["RICE"]
    );
    assert_eq!(
        till.station.on_hand_of(rice_id).await.expect("on hand"),
        Some(units(100))
    );

    // Offline from here: the bag's barcode is the bag, at its price; a piece is a line apart.
    till.server.pause().await;
    let station = &till.station;
    let efua = station
        .sign_in(clock.as_ref(), Some(till.efua), "4821")
        .await
        .expect("sign in");
    station
        .open_shift(clock.as_ref(), &efua, 0)
        .await
        .expect("open");
    let mut cart = Cart::default();
    let bag = station
        .add_to_cart(&mut cart, "6001234500001", units(1))
        .await
        .expect("bag");
    assert_eq!(bag.price_minor, 11_500);
    assert_eq!(bag.shown_name(), "Rice 5kg, bag of 10 (10)");
    station
        .add_to_cart(&mut cart, "6001234500001", units(1))
        .await
        .expect("second bag");
    station
        .add_to_cart(&mut cart, "RICE", units(1))
        .await
        .expect("a piece");
    assert_eq!(cart.lines.len(), 2, "{cart:?}");
    assert_eq!(cart.lines[0].quantity, units(2));
    let sale = station
        .checkout(
            clock.as_ref(),
            &efua,
            &cart,
            &[TenderInput::Cash {
                amount_minor: 24_200,
            }],
        )
        .await
        .expect("sale");
    assert_eq!(sale.total_minor, 2 * 11_500 + 1200);
    let printed = text(&sale.receipt, Paper::Mm80);
    assert!(printed.contains("2 bag of 10 (10) x 115.00"), "{printed}");
    assert!(printed.contains("1 x 12.00"), "{printed}");
    assert_eq!(
        station.on_hand_of(rice_id).await.expect("on hand"),
        Some(units(79)),
        "two bags of ten and a piece"
    );
    // One bag comes back: its ten pieces return to the shelf.
    let adjoa = station
        .approver(clock.as_ref(), "2468")
        .await
        .expect("approver");
    let refund = station
        .refund(
            clock.as_ref(),
            Returner::approved(&efua, &adjoa),
            sale.id,
            &[(1, units(1))],
            "cash",
            Some("torn bag"),
        )
        .await
        .expect("refund");
    assert_eq!(refund.total_minor, 11_500, "the bag's price goes back");
    assert!(
        text(&refund.receipt, Paper::Mm80).contains("1 bag of 10 (10) x 115.00"),
        "{}",
        text(&refund.receipt, Paper::Mm80)
    );
    assert_eq!(
        station.on_hand_of(rice_id).await.expect("on hand"),
        Some(units(89))
    );

    // Back online: the service records the bags as bags and moves their pieces.
    till.server.resume().await;
    station.sync(clock.as_ref()).await.expect("sync");
    station.sync(clock.as_ref()).await.expect("sync again");
    assert_eq!(on_hand_at_the_service(&till, &rice).await, "89");
    let recorded = till
        .server
        .get(&format!("/api/v1/sales/{}", sale.id), &till.token)
        .await;
    assert_eq!(recorded.status, 200, "{}", recorded.body);
    let line = &recorded.body["lines"][0];
    assert_eq!(line["pack"], json!({ "name": "bag of 10", "units": 10 }));
    assert_eq!(line["quantity"], "2");
    assert_eq!(line["unit_price_minor"], 11_500);
    assert_eq!(line["cost_minor"], 2 * 10 * 900);
    assert_eq!(
        station.on_hand_of(rice_id).await.expect("on hand"),
        Some(units(89)),
        "the pulled movements replace the till's own count, not add to it"
    );
    let report = till.server.get("/api/v1/reports/items", &till.token).await;
    assert_eq!(report.status, 200, "{}", report.body);
    let row = &report.body["rows"][0];
    assert_eq!(row["quantity"], "11", "{row}");
    assert_eq!(row["cost_minor"], 11 * 900, "{row}");

    let archived = till
        .server
        .patch(
            &format!("/api/v1/categories/{staples}"),
            &till.token,
            json!({ "archived": true }),
        )
        .await;
    assert_eq!(archived.status, 200, "{}", archived.body);
    station.sync(clock.as_ref()).await.expect("sync");
    assert!(
        station.categories().await.expect("categories").is_empty(),
        "an archived category is no longer offered"
    );
}
