//! Receiving a purchase order at the till: the order made in the dashboard reaches its branch's
//! till; a manager receives part of it offline; the till's stock counts it at once; once synced
//! the service records it once, however often the push is repeated, and the order shows it.

use nexus_domain::Quantity;
use nexus_testkit::{Backend, backend_tests};
use serde_json::json;

use crate::till::till;

backend_tests!(a_manager_receives_an_order_at_the_till_offline,);

async fn a_manager_receives_an_order_at_the_till_offline(backend: &Backend) {
    let mut till = till(backend).await;
    let rice = till.products["RICE"].clone();
    let supplier = till
        .server
        .post(
            "/api/v1/suppliers",
            &till.token,
            json!({ "name": "Olam Ghana" }),
        )
        .await
        .id();
    let order = till
        .server
        .post(
            "/api/v1/purchase-orders",
            &till.token,
            json!({ "supplier_id": supplier, "branch_id": till.branch,
                "lines": [{ "product_id": rice, "quantity": 10, "cost_minor": 900 }] }),
        )
        .await;
    assert_eq!(order.status, 201, "{}", order.body);
    let order_id: uuid::Uuid = order.id().parse().expect("uuid");
    let clock = till.server.clock.clone();
    till.station.sync(clock.as_ref()).await.expect("sync");
    let open = till.station.open_orders().await.expect("orders");
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].supplier_name, "Olam Ghana");
    let rice_id: uuid::Uuid = rice.parse().expect("uuid");

    till.server.pause().await;
    let manager = till
        .station
        .approver(clock.as_ref(), "2468")
        .await
        .expect("Adjoa");
    let refused = till
        .station
        .receive_order(
            clock.as_ref(),
            manager.id,
            order_id,
            &[(uuid::Uuid::now_v7(), Quantity::from_milli(1000))],
        )
        .await;
    assert!(refused.is_err(), "a product not on the order");
    till.station
        .receive_order(
            clock.as_ref(),
            manager.id,
            order_id,
            &[(rice_id, Quantity::from_milli(4000))],
        )
        .await
        .expect("receive");
    assert_eq!(
        till.station.on_hand_of(rice_id).await.expect("on hand"),
        Some(Quantity::from_milli(4000)),
        "counted at once, offline"
    );

    till.server.resume().await;
    till.station.sync(clock.as_ref()).await.expect("sync");
    till.station.sync(clock.as_ref()).await.expect("sync again");
    let recorded = till
        .server
        .get(&format!("/api/v1/purchase-orders/{order_id}"), &till.token)
        .await;
    assert_eq!(recorded.status, 200, "{}", recorded.body);
    assert_eq!(
        recorded.body["lines"][0]["received"], "4",
        "{}",
        recorded.body
    );
    assert_eq!(recorded.body["receipts"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        till.station.on_hand_of(rice_id).await.expect("on hand"),
        Some(Quantity::from_milli(4000)),
        "the service's movement replaces the till's own count, not adds to it"
    );
    let open = till.station.open_orders().await.expect("orders");
    assert_eq!(open[0].lines[0].received, Quantity::from_milli(4000));
    let product = till
        .server
        .get(&format!("/api/v1/products/{rice}"), &till.token)
        .await;
    assert_eq!(product.body["cost_minor"], 900);

    // Closed in the dashboard: it leaves the till.
    let closed = till
        .server
        .post(
            &format!("/api/v1/purchase-orders/{order_id}/close"),
            &till.token,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    till.station.sync(clock.as_ref()).await.expect("sync");
    assert!(till.station.open_orders().await.expect("orders").is_empty());
}
