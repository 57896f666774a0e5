//! Every URL the templates link to or post to, in one place. The handlers are mounted at
//! these paths; to move a page, change it here and the templates follow.
//!
//! URLs that depend on a query the handler built (CSV exports, "next page" links, live
//! fragments with their filters) are not here: the view models carry them.

use uuid::Uuid;

pub const OVERVIEW: &str = "/";
pub const SIGN_UP: &str = "/sign-up";
pub const SIGN_IN: &str = "/sign-in";
pub const SIGN_OUT: &str = "/sign-out";
pub const FORGOT_PASSWORD: &str = "/forgot-password";
pub const RESET_PASSWORD: &str = "/reset-password";

pub const SETUP: &str = "/setup";
pub const SETUP_SHOP: &str = "/setup/shop";
pub const SETUP_BRANCH: &str = "/setup/branch";
pub const SETUP_PRODUCTS: &str = "/setup/products";
pub const SETUP_CASHIER: &str = "/setup/cashier";
pub const SETUP_TILL: &str = "/setup/till";

pub const BILLING: &str = "/billing";
pub const BILLING_CHECKOUT: &str = "/billing/checkout";
pub const BILLING_MANAGE: &str = "/billing/manage";

pub const SALES: &str = "/sales";
pub const VAT: &str = "/sales/vat";
pub const RECEIPTS: &str = "/receipts";
pub const PRODUCTS: &str = "/products";
pub const PRODUCT_NEW: &str = "/products/new";
pub const PRODUCTS_IMPORT: &str = "/products/import";
pub const PRODUCTS_EXPORT: &str = "/products/export";
pub const CATEGORIES: &str = "/products/categories";
pub const CUSTOMERS: &str = "/customers";
pub const DEBTORS: &str = "/customers/debtors";
pub const ITEMS: &str = "/sales/items";
pub const INVENTORY: &str = "/inventory";
pub const INVENTORY_RECEIVE: &str = "/inventory/receive";
pub const INVENTORY_ADJUST: &str = "/inventory/adjust";
pub const INVENTORY_COUNT: &str = "/inventory/count";
pub const INVENTORY_TRANSFER: &str = "/inventory/transfer";
pub const ORDERS: &str = "/inventory/orders";
pub const SUPPLIERS: &str = "/inventory/suppliers";
pub const STAFF: &str = "/staff";
pub const STAFF_NEW: &str = "/staff/new";
pub const SHIFTS: &str = "/shifts";
pub const PERFORMANCE: &str = "/shifts/performance";
pub const BRANCHES: &str = "/branches";
pub const TILLS: &str = "/tills";
pub const TILL_NEW: &str = "/tills/new";
pub const CONFLICTS: &str = "/conflicts";
pub const MOBILE_MONEY: &str = "/mobile-money";
pub const MOBILE_MONEY_STATEMENTS: &str = "/mobile-money/statements";
pub const MOBILE_MONEY_LAYOUT: &str = "/mobile-money/layout";
pub const MOBILE_MONEY_ACCOUNT: &str = "/mobile-money/account";
pub const SETTINGS: &str = "/settings";

/// `POST` here skips a first-run step; the step stays listed on the checklist.
pub fn setup_skip(step: &str) -> String {
    format!("{SETUP}/{step}/skip")
}

pub fn receipt(id: &Uuid) -> String {
    format!("{RECEIPTS}/{id}")
}

pub fn receipt_refund(id: &Uuid) -> String {
    format!("{RECEIPTS}/{id}/refund")
}

pub fn receipt_void(id: &Uuid) -> String {
    format!("{RECEIPTS}/{id}/void")
}

pub fn product(id: &Uuid) -> String {
    format!("{PRODUCTS}/{id}")
}

pub fn product_edit(id: &Uuid) -> String {
    format!("{PRODUCTS}/{id}/edit")
}

pub fn product_archive(id: &Uuid) -> String {
    format!("{PRODUCTS}/{id}/archive")
}

/// A product's stock movements in one branch.
pub fn product_movements(product: &Uuid, branch: &Uuid) -> String {
    format!("{INVENTORY}/products/{product}?branch={branch}")
}

pub fn staff_member(id: &Uuid) -> String {
    format!("{STAFF}/{id}")
}

pub fn staff_edit(id: &Uuid) -> String {
    format!("{STAFF}/{id}/edit")
}

pub fn staff_deactivate(id: &Uuid) -> String {
    format!("{STAFF}/{id}/deactivate")
}

pub fn branch(id: &Uuid) -> String {
    format!("{BRANCHES}/{id}")
}

pub fn momo_sign_off(sale: &Uuid, position: i32) -> String {
    format!("{MOBILE_MONEY}/exceptions/{sale}/{position}/sign-off")
}

pub fn branch_archive(id: &Uuid) -> String {
    format!("{BRANCHES}/{id}/archive")
}

pub fn till_revoke(id: &Uuid) -> String {
    format!("{TILLS}/{id}/revoke")
}

pub fn category(id: &Uuid) -> String {
    format!("{CATEGORIES}/{id}")
}

pub fn customer(id: &Uuid) -> String {
    format!("{CUSTOMERS}/{id}")
}

pub fn customer_account(id: &Uuid) -> String {
    format!("{CUSTOMERS}/{id}/account")
}

pub fn customer_payments(id: &Uuid) -> String {
    format!("{CUSTOMERS}/{id}/payments")
}

pub fn order(id: &Uuid) -> String {
    format!("{ORDERS}/{id}")
}
