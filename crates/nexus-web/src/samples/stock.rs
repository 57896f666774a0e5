//! Sample products and inventory.

use super::data::{MAKOLA, OSU};
use super::{HOSTILE_NAME, Out, Sample, saved};
use crate::forms::{Choice, FieldErrors};
use crate::layout::Section;
use crate::views::inventory::*;
use crate::views::products::*;

pub(crate) fn products_pages(sample: &Sample, out: &mut Out) {
    let layout = || sample.layout(Section::Products);
    out.page(
        "products",
        layout().with_flash(saved()),
        ProductsContent {
            csrf: sample.csrf(),
            query: String::new(),
            rows: sample.product_rows(),
            next_page_url: Some("/products?after=HOSTILE".to_owned()),
            can_manage: true,
            export_url: crate::paths::PRODUCTS_EXPORT.to_owned(),
        },
    );
    out.page(
        "products-search-empty",
        layout(),
        ProductsContent {
            csrf: sample.csrf(),
            query: HOSTILE_NAME.to_owned(),
            rows: Vec::new(),
            next_page_url: None,
            can_manage: true,
            export_url: crate::paths::PRODUCTS_EXPORT.to_owned(),
        },
    );
    out.page(
        "product-new",
        layout(),
        ProductFormContent {
            csrf: sample.csrf(),
            product_id: None,
            values: ProductValues {
                sku: "RICE-1KG".to_owned(),
                name: "Royal Aroma Rice 1kg".to_owned(),
                price: "28.50".to_owned(),
                barcode: "6030000000018".to_owned(),
                tax_class: "exempt".to_owned(),
                reorder_level: "20".to_owned(),
                category: sample.id(301).to_string(),
                cost: "23.10".to_owned(),
                packs: vec![PackValues {
                    name: "bag of 10".to_owned(),
                    units: "10".to_owned(),
                    barcode: "6030000000025".to_owned(),
                    price: "270.00".to_owned(),
                    wholesale_price: "255.00".to_owned(),
                }],
                wholesale_price: "26.00".to_owned(),
            },
            errors: FieldErrors::new().with("sku", "Another product already has the SKU RICE-1KG."),
            currency_code: "GHS".to_owned(),
            categories: category_choices(sample, 301),
        },
    );
    out.page(
        "product-edit",
        layout(),
        ProductFormContent {
            csrf: sample.csrf(),
            product_id: Some(sample.id(107)),
            values: ProductValues {
                sku: "HOSTILE".to_owned(),
                name: HOSTILE_NAME.to_owned(),
                price: sample.ghs(100).input_value(),
                barcode: String::new(),
                tax_class: "zero_rated".to_owned(),
                reorder_level: "0".to_owned(),
                category: String::new(),
                cost: String::new(),
                packs: vec![PackValues {
                    name: HOSTILE_NAME.to_owned(),
                    units: "twelve".to_owned(),
                    barcode: String::new(),
                    price: "1,000.00".to_owned(),
                    wholesale_price: String::new(),
                }],
                wholesale_price: String::new(),
            },
            errors: FieldErrors::new()
                .with("cost", "Enter an amount such as 12.50.")
                .with(
                    "packs",
                    "Say how many pieces the pack holds, as a whole number such as 24.",
                ),
            currency_code: "GHS".to_owned(),
            categories: category_choices(sample, 0),
        },
    );
    let customers_layout = || sample.layout(Section::Customers);
    let row = |id: u128, name: &str, phone: &str, wholesale: bool, limit: Option<i64>| {
        crate::views::customers::CustomerRow {
            id: sample.id(id),
            name: name.to_owned(),
            phone: phone.to_owned(),
            wholesale,
            credit_limit: limit.map(|limit| sample.ghs(limit)),
            owed: sample.ghs(limit.map_or(0, |limit| limit / 4)),
        }
    };
    out.page(
        "customers",
        customers_layout().with_flash(saved()),
        crate::views::customers::CustomersContent {
            csrf: sample.csrf(),
            query: String::new(),
            rows: vec![
                row(
                    401,
                    "Auntie Akos Provisions",
                    "0244000111",
                    true,
                    Some(500_000),
                ),
                row(402, HOSTILE_NAME, "", false, None),
            ],
            can_manage: true,
            values: crate::views::customers::CustomerValues {
                name: "Kofi".to_owned(),
                phone: "12".to_owned(),
                price_list: "retail".to_owned(),
                credit_limit: String::new(),
            },
            errors: FieldErrors::new().with("phone", "A phone number has 9 to 15 digits."),
            currency_code: "GHS".to_owned(),
        },
    );
    out.page(
        "customer-edit",
        customers_layout(),
        crate::views::customers::CustomerFormContent {
            csrf: sample.csrf(),
            id: sample.id(401),
            values: crate::views::customers::CustomerValues {
                name: HOSTILE_NAME.to_owned(),
                phone: "0244000111".to_owned(),
                price_list: "wholesale".to_owned(),
                credit_limit: "5,000.00".to_owned(),
            },
            errors: FieldErrors::new(),
            currency_code: "GHS".to_owned(),
        },
    );
    let statement_row = |minutes: i64, what: &str, amount: i64, balance: i64| {
        crate::views::accounts::StatementRow {
            at: sample.locale.time(sample.ago_minutes(minutes)),
            what: what.to_owned(),
            receipt: Some("OSU-TILL1-000042".to_owned()),
            amount: sample.ghs(amount),
            balance: sample.ghs(balance),
        }
    };
    out.page(
        "customer-account",
        customers_layout().with_flash(saved()),
        crate::views::accounts::AccountContent {
            csrf: sample.csrf(),
            id: sample.id(401),
            name: HOSTILE_NAME.to_owned(),
            owed: sample.ghs(520_000),
            limit: Some(sample.ghs(500_000)),
            left: sample.ghs(0),
            over_limit: Some(sample.ghs(20_000)),
            statement: vec![
                statement_row(30, "Payment (mobile money)", -100_000, 520_000),
                statement_row(90, "Sale on account", 620_000, 620_000),
            ],
            can_take_payment: true,
            values: crate::views::accounts::PaymentValues {
                id: sample.id(403).to_string(),
                amount: "abc".to_owned(),
                kind: "cash".to_owned(),
                ..Default::default()
            },
            errors: FieldErrors::new().with("amount", "Enter an amount such as 12.50."),
            currency_code: "GHS".to_owned(),
        },
    );
    out.page(
        "debtors",
        customers_layout(),
        crate::views::accounts::DebtorsContent {
            rows: vec![crate::views::accounts::DebtorRow {
                id: sample.id(401),
                name: HOSTILE_NAME.to_owned(),
                phone: "0244000111".to_owned(),
                owed: sample.ghs(520_000),
                limit: Some(sample.ghs(500_000)),
                over_limit: true,
                oldest: sample.locale.time(sample.ago_minutes(60 * 24 * 9)),
                whatsapp: Some("https://wa.me/233244000111?text=Hello".to_owned()),
            }],
            total: sample.ghs(520_000),
            over_limit: 1,
        },
    );
    let inventory_layout = || sample.layout(Section::Inventory);
    out.page(
        "orders",
        inventory_layout().with_flash(saved()),
        crate::views::orders::OrdersContent {
            csrf: sample.csrf(),
            orders: vec![crate::views::orders::OrderRow {
                id: sample.id(501),
                at: sample.locale.time(sample.ago_minutes(90)),
                supplier: HOSTILE_NAME.to_owned(),
                branch: "Osu".to_owned(),
                open: true,
                progress: "12 of 36".to_owned(),
            }],
            suppliers: vec![
                Choice::new(sample.id(502).to_string(), HOSTILE_NAME).selected_if(true),
            ],
            branches: sample.branch_choices(0, false),
            lines: vec![
                crate::views::orders::OrderLineValues {
                    product: "RICE-1KG".to_owned(),
                    quantity: "24".to_owned(),
                    cost: "twenty".to_owned(),
                    error: Some("Enter an amount such as 12.50.".to_owned()),
                },
                crate::views::orders::OrderLineValues::default(),
            ],
            errors: FieldErrors::new().with(
                "",
                "Some lines need another look: see the messages beside them.",
            ),
            supplier_name: String::new(),
            supplier_errors: FieldErrors::new(),
            can_manage: true,
        },
    );
    out.page(
        "order",
        inventory_layout(),
        crate::views::orders::OrderContent {
            csrf: sample.csrf(),
            id: sample.id(501),
            supplier: HOSTILE_NAME.to_owned(),
            branch: "Osu".to_owned(),
            at: sample.locale.time(sample.ago_minutes(90)),
            open: true,
            lines: vec![crate::views::orders::OrderLineRow {
                line_no: 1,
                product: "Royal Aroma Rice 1kg (RICE-1KG)".to_owned(),
                ordered: crate::format::Qty(nexus_domain::Quantity::from_milli(36_000)),
                received: crate::format::Qty(nexus_domain::Quantity::from_milli(12_000)),
                cost: sample.ghs(2_310),
                value: String::new(),
            }],
            receipts: vec![sample.locale.time(sample.ago_minutes(30))],
            receipt_id: sample.id(503),
            errors: FieldErrors::new(),
            can_manage: true,
        },
    );
    out.page(
        "categories",
        layout().with_flash(saved()),
        crate::views::categories::CategoriesContent {
            csrf: sample.csrf(),
            rows: vec![
                category_row(sample, 301, "Provisions", 42, false),
                category_row(sample, 302, "Drinks", 18, false),
                category_row(sample, 303, HOSTILE_NAME, 1, false),
                category_row(sample, 304, "Stationery", 0, true),
            ],
            can_manage: true,
            name: "Drinks".to_owned(),
            errors: FieldErrors::new().with("name", "This name is already used."),
        },
    );
    out.page(
        "products-import",
        layout(),
        ProductImportContent {
            csrf: sample.csrf(),
            mode: "valid_rows".to_owned(),
            errors: FieldErrors::new(),
            status: Some(sample.import_finished()),
        },
    );
}

pub(crate) fn inventory_pages(sample: &Sample, out: &mut Out) {
    let layout = || sample.layout(Section::Inventory);
    out.page("inventory", layout(), inventory(sample));
    let lines = |filled: &[(&str, &str, Option<&str>)]| {
        let mut lines: Vec<LineValues> = filled
            .iter()
            .map(|(product, quantity, error)| LineValues {
                product: (*product).to_owned(),
                quantity: (*quantity).to_owned(),
                error: error.map(str::to_owned),
            })
            .collect();
        lines.resize_with(5, LineValues::default);
        lines
    };
    out.page(
        "inventory-receive",
        layout(),
        ReceiveContent {
            csrf: sample.csrf(),
            branches: sample.branch_choices(OSU, false),
            reference: "DN-2026-1187".to_owned(),
            lines: lines(&[
                ("6030000000018", "50", None),
                (
                    HOSTILE_NAME,
                    "3",
                    Some("No product has this SKU or barcode."),
                ),
            ]),
            errors: FieldErrors::new(),
        },
    );
    out.page(
        "inventory-adjust",
        layout(),
        AdjustContent {
            csrf: sample.csrf(),
            branches: sample.branch_choices(OSU, false),
            product: "MILO-400".to_owned(),
            quantity: "-2".to_owned(),
            reason: "damaged".to_owned(),
            note: "Tins dented in delivery".to_owned(),
            errors: FieldErrors::new(),
        },
    );
    out.page(
        "inventory-count",
        layout(),
        CountContent {
            csrf: sample.csrf(),
            branch_id: sample.id(OSU),
            branch_name: "Osu".to_owned(),
            rows: sample
                .stock_rows()
                .into_iter()
                .enumerate()
                .map(|(index, row)| CountRow {
                    product_id: row.product_id,
                    sku: row.sku,
                    name: row.name,
                    expected: row.on_hand,
                    counted: match index {
                        0 => "14".to_owned(),
                        1 => "3O".to_owned(),
                        _ => String::new(),
                    },
                    error: (index == 1).then(|| "Type a number such as 30 or 1.5.".to_owned()),
                })
                .collect(),
            errors: FieldErrors::new(),
            next_page_url: Some("/inventory/count?branch=osu&after=HOSTILE".to_owned()),
        },
    );
    let mut to = sample.branch_choices(MAKOLA, false);
    if to.len() == 1 {
        to.push(Choice::new(sample.id(MAKOLA).to_string(), "Makola").selected_if(true));
    }
    out.page(
        "inventory-transfer",
        layout(),
        TransferContent {
            csrf: sample.csrf(),
            from: sample.branch_choices(OSU, false),
            to,
            note: String::new(),
            lines: lines(&[("RICE-1KG", "10", None)]),
            errors: FieldErrors::new().with("to", "Choose a branch other than Osu."),
        },
    );
    out.page(
        "inventory-movements",
        layout(),
        MovementsContent {
            product_name: HOSTILE_NAME.to_owned(),
            sku: "HOSTILE".to_owned(),
            branch_name: "Osu".to_owned(),
            on_hand: sample.qty(1_000),
            rows: [
                (
                    4,
                    MovementKind::Sale,
                    -1_000,
                    1_000,
                    "",
                    "Receipt OSU-T1-000482",
                ),
                (
                    60,
                    MovementKind::Count,
                    2_000,
                    2_000,
                    "Monthly count",
                    "Kofi Boateng",
                ),
                (
                    600,
                    MovementKind::Adjustment,
                    -500,
                    1_500,
                    "Damaged",
                    "Kofi Boateng",
                ),
                (
                    2_000,
                    MovementKind::Receipt,
                    2_000,
                    2_000,
                    "DN-2026-1101",
                    "Ama Owusu",
                ),
            ]
            .into_iter()
            .map(
                |(minutes, kind, quantity, balance, reason, source)| MovementRow {
                    at: sample.locale.time(sample.ago_minutes(minutes)),
                    kind,
                    quantity: sample.qty(quantity),
                    balance: sample.qty(balance),
                    reason: reason.to_owned(),
                    source: source.to_owned(),
                },
            )
            .collect(),
            next_page_url: Some("/inventory/products/x?branch=osu&after=2".to_owned()),
        },
    );
}

pub(crate) fn inventory(sample: &Sample) -> InventoryContent {
    InventoryContent {
        branch_name: "Osu".to_owned(),
        branches: sample.branch_choices(OSU, false),
        query: String::new(),
        can_manage: true,
        live_url: "/live/inventory?branch=osu".to_owned(),
        live: inventory_live(sample),
    }
}

pub(crate) fn inventory_live(sample: &Sample) -> InventoryLive {
    let rows = sample.stock_rows();
    InventoryLive {
        branch_id: sample.id(OSU),
        reconciliation: rows
            .iter()
            .filter(|row| row.is_negative())
            .cloned()
            .collect(),
        low_stock: rows
            .iter()
            .filter(|row| row.is_low() && !row.is_negative())
            .cloned()
            .collect(),
        on_hand: rows,
        next_page_url: None,
        as_of: sample.locale.time(sample.ago_minutes(0)),
    }
}

fn category_choices(sample: &Sample, selected: u128) -> Vec<Choice> {
    [(301, "Provisions"), (302, "Drinks"), (303, HOSTILE_NAME)]
        .into_iter()
        .map(|(id, name)| Choice::new(sample.id(id).to_string(), name).selected_if(id == selected))
        .collect()
}

fn category_row(
    sample: &Sample,
    id: u128,
    name: &str,
    products: u64,
    archived: bool,
) -> crate::views::categories::CategoryRow {
    crate::views::categories::CategoryRow {
        id: sample.id(id),
        name: name.to_owned(),
        products,
        archived,
    }
}
