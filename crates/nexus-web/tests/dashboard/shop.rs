//! A shop set up through the API, for tests about what the pages show of it.

use nexus_testkit::{Owner, TestServer};
use serde_json::{Value, json};

pub struct Member {
    pub id: String,
    pub email: String,
    pub password: String,
}

pub struct Shop {
    pub owner: Owner,
    pub osu: String,
    pub makola: String,
    pub rice: String,
    pub manager: Member,
    pub cashier: Member,
}

/// An organisation with two branches, a product with stock at both, a manager and a cashier
/// at Osu, and `tag` in every name so that another tenant's pages can be searched for it.
pub async fn shop(server: &TestServer, tag: &str) -> Shop {
    let owner = server.register(&format!("{tag} Traders")).await;
    let token = owner.access_token.clone();
    let osu = server.create_branch(&token, &format!("{tag} Osu")).await;
    let makola = server.create_branch(&token, &format!("{tag} Makola")).await;
    let rice = server
        .post(
            "/api/v1/products",
            &token,
            json!({ "sku": format!("{tag}-RICE"), "name": format!("{tag} Rice 5kg"), "price_minor": 12_000 }),
        )
        .await
        .id();
    for branch in [&osu, &makola] {
        let receipt = server
            .post(
                &format!("/api/v1/branches/{branch}/stock/movements"),
                &token,
                json!({ "product_id": rice, "kind": "receipt", "quantity": "50" }),
            )
            .await;
        assert_eq!(receipt.status, 201, "{:?}", receipt.body);
    }
    let manager = hire(server, &token, tag, "manager", &osu).await;
    let cashier = hire(server, &token, tag, "cashier", &osu).await;
    Shop {
        owner,
        osu,
        makola,
        rice,
        manager,
        cashier,
    }
}

async fn hire(server: &TestServer, token: &str, tag: &str, role: &str, branch: &str) -> Member {
    let email = format!("{role}@{}.example", tag.to_lowercase());
    let password = format!("{tag} {role} has a long password");
    let created = server
        .post(
            "/api/v1/staff",
            token,
            json!({ "email": email, "name": format!("{tag} {role}"), "role": role,
                    "branch_ids": [branch], "password": password }),
        )
        .await;
    assert_eq!(created.status, 201, "hire {role}: {:?}", created.body);
    Member {
        id: created.id(),
        email,
        password,
    }
}

/// A cash sale of `quantity` bags of rice at `branch`, by the owner; returns the sale.
pub async fn sell(server: &TestServer, shop: &Shop, branch: &str, quantity: u32) -> Value {
    let total = 12_000 * i64::from(quantity);
    let sale = server
        .post(
            "/api/v1/sales",
            &shop.owner.access_token,
            json!({ "id": uuid::Uuid::now_v7(), "branch_id": branch,
                    "lines": [{ "product_id": shop.rice, "quantity": quantity }],
                    "tenders": [{ "kind": "cash", "amount_minor": total }] }),
        )
        .await;
    assert_eq!(sale.status, 201, "{:?}", sale.body);
    sale.body
}
