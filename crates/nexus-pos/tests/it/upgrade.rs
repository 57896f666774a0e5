//! Station databases written by earlier layouts (2, before packs, wholesale prices and
//! categories at the till; 3, before customer accounts) open with this version: the new columns
//! and tables are added, the data kept, and the till works on them.

use nexus_pos::Station;
use sqlx::Connection as _;

/// A station database of this layout, closed, and a plain connection to its file for taking
/// it back to an older layout.
async fn new_station_file() -> (std::path::PathBuf, sqlx::SqliteConnection) {
    let data = super::scratch();
    let station = Station::open(&data).await.expect("a new station");
    station.close().await;
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(data.join("station.db"));
    let connection = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("the station's file");
    (data, connection)
}

#[tokio::test]
async fn a_layout_2_station_database_is_brought_up_to_date() {
    // Back to layout 2, as a till installed before this version left it, with a customer.
    let (data, mut connection) = new_station_file().await;
    for statement in [
        "DROP INDEX products_category",
        "ALTER TABLE products DROP COLUMN category_id",
        "ALTER TABLE products DROP COLUMN wholesale_price_minor",
        "DROP INDEX product_packs_barcode",
        "DROP TABLE product_packs",
        "ALTER TABLE customers DROP COLUMN price_list",
        "DROP TABLE account_entries",
        "ALTER TABLE customers DROP COLUMN credit_limit_minor",
        "INSERT INTO customers (id, name, name_key, phone, created_at) \
         VALUES ('019b76da-a800-7000-8000-000000000001', 'Yaw', 'yaw', '0244000222', 1)",
        "PRAGMA user_version = 2",
    ] {
        sqlx::query(statement)
            .execute(&mut connection)
            .await
            .expect(statement);
    }
    connection.close().await.expect("close");

    let station = Station::open(&data)
        .await
        .expect("a layout 2 database opens");
    let found = station.search_customers("Yaw", 5).await.expect("customers");
    assert_eq!(found.len(), 1, "the customer is kept");
    assert_eq!(found[0].price_list, nexus_domain::PriceList::Retail);
    assert!(
        station
            .find_product("6001234500001")
            .await
            .expect("packs")
            .is_none()
    );
    assert!(station.categories().await.expect("categories").is_empty());
    station.close().await;
    // Opening it again changes nothing more.
    let station = Station::open(&data).await.expect("opens again");
    station.close().await;
    let _ = std::fs::remove_dir_all(&data);
}

/// Layout 3 (before customer accounts) gains the account table and the credit limits of the
/// customers it had pulled, read from their records.
#[tokio::test]
async fn a_layout_3_station_database_gains_customer_accounts() {
    let (data, mut connection) = new_station_file().await;
    let id = "019b76da-a800-7000-8000-000000000002";
    let record = serde_json::json!({ "id": id, "name": "Akosua", "phone": null,
        "price_list": "retail", "credit_limit_minor": 50_000, "updated_at": 1 });
    for statement in [
        "DROP TABLE account_entries".to_owned(),
        "ALTER TABLE customers DROP COLUMN credit_limit_minor".to_owned(),
        format!(
            "INSERT INTO customers (id, name, name_key, phone, created_at) \
             VALUES ('{id}', 'Akosua', 'akosua', NULL, 1)"
        ),
        format!(
            "INSERT INTO replica (entity, entity_id, payload) VALUES ('customer', '{id}', '{record}')"
        ),
        "PRAGMA user_version = 3".to_owned(),
    ] {
        sqlx::query(&statement)
            .execute(&mut connection)
            .await
            .expect("statement");
    }
    connection.close().await.expect("close");

    let station = Station::open(&data)
        .await
        .expect("a layout 3 database opens");
    let account = station
        .account(id.parse().expect("id"))
        .await
        .expect("account")
        .expect("the customer");
    assert_eq!(account.credit_limit_minor, Some(50_000));
    assert_eq!(
        (account.balance_minor, account.credit_left_minor),
        (0, 50_000)
    );
    station.close().await;
    let _ = std::fs::remove_dir_all(&data);
}
