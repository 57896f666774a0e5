//! What a pull brings down: the record each kind of [`Change`] carries. The server sends every
//! change through these types, and the station reads every change it applies through them, so
//! a field the station relies on cannot silently go missing.
//!
//! Unknown fields are ignored here, unlike in ops: a newer server may say more than this
//! station reads.

use nexus_domain::{
    BranchId, Currency, MovementId, MovementKind, ProductId, Quantity, Role, TaxClass, TaxRules,
    UnixMillis, UserId,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Change;

/// A record type and the `entity` of the changes that carry it.
pub trait Record: Serialize + DeserializeOwned {
    const ENTITY: &'static str;
}

impl Record for ProductRecord {
    const ENTITY: &'static str = "product";
}
impl Record for SettingsRecord {
    const ENTITY: &'static str = "settings";
}
impl Record for ShopRecord {
    const ENTITY: &'static str = "shop";
}
impl Record for StaffRecord {
    const ENTITY: &'static str = "staff";
}
impl Record for MovementRecord {
    const ENTITY: &'static str = "stock_movement";
}
impl Record for BranchRecord {
    const ENTITY: &'static str = "branch";
}
impl Record for CustomerRecord {
    const ENTITY: &'static str = "customer";
}
impl Record for CategoryRecord {
    const ENTITY: &'static str = "category";
}
impl Record for PurchaseOrderRecord {
    const ENTITY: &'static str = "purchase_order";
}
impl Record for AccountEntryRecord {
    const ENTITY: &'static str = "account_entry";
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("a {entity} change could not be read: {source}")]
    Unreadable {
        entity: String,
        source: serde_json::Error,
    },
    #[error("{0:?} is not a kind of change this protocol version knows")]
    UnknownEntity(String),
}

impl Change {
    /// This change's record, read as `R`.
    pub fn read_record<R: Record>(&self) -> Result<R, RecordError> {
        R::deserialize(&self.payload).map_err(|source| RecordError::Unreadable {
            entity: R::ENTITY.to_owned(),
            source,
        })
    }
}

fn through<R: Record>(text: &str) -> Result<serde_json::Value, RecordError> {
    let unreadable = |source| RecordError::Unreadable {
        entity: R::ENTITY.to_owned(),
        source,
    };
    let record: R = serde_json::from_str(text).map_err(unreadable)?;
    serde_json::to_value(&record).map_err(unreadable)
}

/// The payload of a change of `entity` as it goes on the wire, from the JSON the change log
/// kept: read as its record type and written back, so that only what the protocol says is sent.
pub fn change_payload(entity: &str, stored: &str) -> Result<serde_json::Value, RecordError> {
    match entity {
        ProductRecord::ENTITY => through::<ProductRecord>(stored),
        SettingsRecord::ENTITY => through::<SettingsRecord>(stored),
        ShopRecord::ENTITY => through::<ShopRecord>(stored),
        StaffRecord::ENTITY => through::<StaffRecord>(stored),
        MovementRecord::ENTITY => through::<MovementRecord>(stored),
        BranchRecord::ENTITY => through::<BranchRecord>(stored),
        CustomerRecord::ENTITY => through::<CustomerRecord>(stored),
        CategoryRecord::ENTITY => through::<CategoryRecord>(stored),
        PurchaseOrderRecord::ENTITY => through::<PurchaseOrderRecord>(stored),
        AccountEntryRecord::ENTITY => through::<AccountEntryRecord>(stored),
        other => Err(RecordError::UnknownEntity(other.to_owned())),
    }
}

/// An `account_entry` change, for every station of the tenant: one sale on credit, refund to
/// an account or payment on account, wherever it was taken. A till adds up the entries it
/// holds, its own among them, for what a customer owes; the entry's id is the sale's, refund's
/// or payment's, so a till's own entry and the server's copy of it are one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountEntryRecord {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub kind: nexus_domain::account::EntryKind,
    /// What it adds to what the customer owes; payments and refunds are negative.
    pub amount_minor: i64,
    pub occurred_at: UnixMillis,
}

/// A `purchase_order` change, for the stations of the order's branch: what was ordered and
/// what has arrived, so that a manager receives the rest at the till, offline too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PurchaseOrderRecord {
    pub id: Uuid,
    pub supplier_name: String,
    pub branch_id: BranchId,
    /// "open" or "closed".
    pub status: String,
    pub created_at: UnixMillis,
    pub lines: Vec<PurchaseOrderLineRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PurchaseOrderLineRecord {
    pub line_no: i32,
    pub product_id: ProductId,
    pub quantity: Quantity,
    pub received: Quantity,
}

/// A `category` change, for every station: the groups a cashier browses products by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryRecord {
    pub id: nexus_domain::CategoryId,
    pub name: String,
    /// Set once archived: the till no longer offers it.
    pub archived_at: Option<UnixMillis>,
}

/// A `customer` change, for every station of the tenant: who they are, the list their sales are
/// priced on, and their credit limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerRecord {
    pub id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub price_list: nexus_domain::PriceList,
    /// What they may owe the shop; absent: no credit.
    pub credit_limit_minor: Option<i64>,
    pub updated_at: UnixMillis,
}

/// A `product` change: the product as it now is in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductRecord {
    pub id: ProductId,
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub price_minor: i64,
    pub tax_class: TaxClass,
    pub reorder_level: Option<Quantity>,
    /// The cartons and crates it is also sold by; absent when it has none (as in records from
    /// before packs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<nexus_domain::pack::Pack>,
    /// Its price on the wholesale list; absent: the retail price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wholesale_price_minor: Option<i64>,
    /// The category a cashier finds it under; absent for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<nexus_domain::CategoryId>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
    /// Set once the product is archived: a till no longer sells it.
    pub archived_at: Option<UnixMillis>,
}

/// The `shop` change (entity id nil): what heads and ends every receipt, from the shop's
/// details in the dashboard.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShopRecord {
    pub trading_name: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// The taxpayer identification number.
    pub tin: Option<String>,
    pub receipt_footer: Option<String>,
}

/// The `settings` change (entity id nil): what a till prices and dates by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsRecord {
    pub currency: Currency,
    pub tax: TaxRules,
    /// An IANA zone name among those Nexus knows.
    pub time_zone: String,
}

/// A `staff` change, logged for each branch the member works at before and after a change: what
/// a till needs to sign them in with their PIN while offline. A station whose branch is not in
/// `branch_ids` drops them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffRecord {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub active: bool,
    /// argon2id; absent for staff who have no PIN.
    pub pin_hash: Option<String>,
    pub branch_ids: Vec<BranchId>,
}

impl StaffRecord {
    /// Whether they can sign in at a till: active, with a PIN.
    pub fn signs_in_at_tills(&self) -> bool {
        self.active && self.pin_hash.is_some()
    }
}

/// A `branch` change, for every station: a branch of the shop by name, so that a till can send
/// goods to it. An archived branch takes no more transfers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BranchRecord {
    pub id: BranchId,
    pub name: String,
    pub archived_at: Option<UnixMillis>,
}

/// A `stock_movement` change: one entry of the station's branch's ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovementRecord {
    pub id: MovementId,
    pub branch_id: BranchId,
    pub product_id: ProductId,
    pub kind: MovementKind,
    /// A signed change; for a count, the level counted.
    pub quantity: Quantity,
    pub reason: Option<String>,
    pub occurred_at: UnixMillis,
    /// The sale, return or transfer that caused it; `None` for receipts, adjustments and
    /// counts. A station matches it to its own ops, so it never counts one of its sales twice.
    pub source_id: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// Each record as the change log holds it.
    fn stored() -> Vec<(&'static str, Value)> {
        let id = Uuid::now_v7();
        vec![
            (
                "product",
                json!({ "id": id, "sku": "RICE-5KG", "barcode": null, "name": "Rice 5kg",
                    "price_minor": 1200, "tax_class": "standard", "reorder_level": "2.5",
                    "created_at": 1, "updated_at": 2, "archived_at": null }),
            ),
            (
                "settings",
                json!({ "currency": "GHS", "time_zone": "Africa/Accra", "tax": { "enabled": true,
                    "mode": "inclusive", "levies": [{ "code": "VAT", "name": "VAT", "rate_basis_points": 1500 }] } }),
            ),
            (
                "staff",
                json!({ "id": id, "name": "Efua", "role": "cashier", "active": true,
                    "pin_hash": "$argon2id$v=19$x", "branch_ids": [id] }),
            ),
            (
                "stock_movement",
                json!({ "id": id, "branch_id": id, "product_id": id, "kind": "transfer_out",
                    "quantity": "-3", "reason": null, "occurred_at": 5, "source_id": id }),
            ),
        ]
    }

    #[test]
    fn changes_go_out_as_the_change_log_kept_them() {
        for (entity, record) in stored() {
            let sent = change_payload(entity, &record.to_string()).expect(entity);
            assert_eq!(sent, record, "{entity}");
        }
        assert!(matches!(
            change_payload("invoice", "{}"),
            Err(RecordError::UnknownEntity(_))
        ));
    }

    #[test]
    fn a_record_missing_a_field_is_an_error_not_a_default() {
        let mut product = stored().remove(0).1;
        product
            .as_object_mut()
            .expect("object")
            .remove("price_minor");
        let change = Change {
            seq: 1,
            entity: "product".to_owned(),
            entity_id: Uuid::now_v7(),
            payload: product,
        };
        let refused = change.read_record::<ProductRecord>().expect_err("no price");
        assert!(refused.to_string().contains("price_minor"), "{refused}");
        // A newer server's extra fields are ignored.
        let mut staff = stored().remove(2).1;
        staff["nickname"] = json!("Fifi");
        let change = Change {
            payload: staff,
            entity: "staff".to_owned(),
            ..change
        };
        assert!(
            change
                .read_record::<StaffRecord>()
                .expect("reads")
                .signs_in_at_tills()
        );
    }
}
