//! Which pages the samples render, and with what.

use nexus_domain::Role;

use super::data::{MAKOLA, OSU};
use super::{HOSTILE_NAME, Out, Sample, saved};
use crate::forms::{Choice, FieldErrors};
use crate::layout::{Flash, Layout, Section};
use crate::views::admin::*;
use crate::views::auth::*;
use crate::views::common::{Network, Tender};
use crate::views::errors::{ErrorContent, ErrorKind};
use crate::views::inventory::*;
use crate::views::overview::*;
use crate::views::products::*;
use crate::views::receipts::*;
use crate::views::sales::*;
use crate::views::setup::*;
use crate::views::staff::*;

pub(crate) fn public_pages(sample: &Sample, out: &mut Out) {
    let layout = || Layout::public(sample.csrf());
    out.page(
        "sign-up",
        layout(),
        SignUpContent {
            csrf: sample.csrf(),
            values: SignUpValues::ghana(),
            errors: FieldErrors::new(),
        },
    );
    out.page(
        "sign-up-with-errors",
        layout(),
        SignUpContent {
            csrf: sample.csrf(),
            values: SignUpValues {
                organisation: HOSTILE_NAME.to_owned(),
                owner_name: "Ama Owusu".to_owned(),
                email: "ama@@example".to_owned(),
                ..SignUpValues::ghana()
            },
            errors: FieldErrors::new()
                .with("email", "Enter an email address such as ama@example.com.")
                .with("password", "Use at least 12 characters."),
        },
    );
    out.page(
        "sign-in",
        layout(),
        SignInContent {
            csrf: sample.csrf(),
            email: "ama@demo.nexus.example".to_owned(),
            next: "/sales".to_owned(),
            errors: FieldErrors::new().with("", "The email or the password is wrong."),
        },
    );
    out.page(
        "forgot-password",
        layout(),
        ForgotPasswordContent {
            csrf: sample.csrf(),
            email: String::new(),
            sent: false,
            errors: FieldErrors::new(),
        },
    );
    out.page(
        "forgot-password-sent",
        layout(),
        ForgotPasswordContent {
            csrf: sample.csrf(),
            email: "ama@demo.nexus.example".to_owned(),
            sent: true,
            errors: FieldErrors::new(),
        },
    );
    out.page(
        "reset-password",
        layout(),
        ResetPasswordContent {
            csrf: sample.csrf(),
            token: "rst_8f3a0c".to_owned(),
            errors: FieldErrors::new()
                .with("password_again", "The two passwords are not the same."),
        },
    );
    out.page(
        "error-404",
        layout(),
        ErrorContent {
            kind: ErrorKind::NotFound,
            signed_in: false,
        },
    );
}

pub(crate) fn signed_in_pages(sample: &Sample, out: &mut Out) {
    let csrf = Sample::csrf;
    let owner = sample.is_owner();
    out.page(
        "sign-out",
        sample.layout(Section::Overview),
        SignOutContent {
            csrf: csrf(sample),
            shop_name: "Ama Provisions".to_owned(),
        },
    );
    setup_pages(sample, out);
    out.page(
        "overview",
        sample.layout(Section::Overview),
        overview(sample),
    );
    out.page("sales", sample.layout(Section::Sales), sales(sample));
    out.page(
        "receipts",
        sample.layout(Section::Receipts),
        ReceiptsContent {
            search: ReceiptSearch {
                from: "2026-11-01".to_owned(),
                to: "2026-12-01".to_owned(),
                branches: sample.branch_choices(0, true),
                cashiers: vec![
                    Choice::new("", "Anyone").selected_if(true),
                    Choice::new(sample.id(11).to_string(), "Efua Mensah"),
                    Choice::new(sample.id(12).to_string(), HOSTILE_NAME),
                ],
                tenders: Tender::choices(None),
                ..ReceiptSearch::default()
            },
            errors: FieldErrors::new(),
            rows: sample.receipt_rows(),
            next_page_url: Some("/receipts?after=0190abc&from=2026-11-01".to_owned()),
        },
    );
    out.page("receipt", sample.layout(Section::Receipts), receipt(sample));
    products_pages(sample, out);
    inventory_pages(sample, out);
    staff_pages(sample, out);
    out.page(
        "branches",
        sample.layout(Section::Branches),
        BranchesContent {
            csrf: csrf(sample),
            rows: vec![
                BranchRow {
                    id: sample.id(OSU),
                    name: "Osu".to_owned(),
                    address: Some("Oxford Street, Osu, Accra".to_owned()),
                    tills: 2,
                    staff: 3,
                },
                BranchRow {
                    id: sample.id(MAKOLA),
                    name: HOSTILE_NAME.to_owned(),
                    address: None,
                    tills: 1,
                    staff: 1,
                },
            ],
            can_manage: owner,
            values: BranchValues::default(),
            errors: FieldErrors::new(),
        },
    );
    out.page("tills", sample.layout(Section::Tills), tills(sample));
    out.page(
        "till-new",
        sample.layout(Section::Tills),
        TillNewContent {
            csrf: csrf(sample),
            values: TillValues::default(),
            branches: sample.branch_choices(OSU, false),
            errors: FieldErrors::new().with("name", "Give the till a name, such as Till 3."),
        },
    );
    out.page(
        "till-enrolment",
        sample
            .layout(Section::Tills)
            .with_flash(Flash::success("Till 3 added.")),
        EnrolmentContent {
            code: enrolment(sample),
        },
    );
    out.page(
        "conflicts",
        sample.layout(Section::Conflicts),
        ConflictsContent {
            rows: vec![
                ConflictRow {
                    at: sample.locale.time(sample.ago_minutes(75)),
                    subject: "Royal Aroma Rice 1kg".to_owned(),
                    field: "Price".to_owned(),
                    seen: "GHS 27.50".to_owned(),
                    replaced: "GHS 28.00".to_owned(),
                    winner: "GHS 28.50".to_owned(),
                    who: "Kofi Boateng at Till 2, Osu".to_owned(),
                },
                ConflictRow {
                    at: sample.locale.time(sample.ago_minutes(60 * 26)),
                    subject: HOSTILE_NAME.to_owned(),
                    field: "Name".to_owned(),
                    seen: HOSTILE_NAME.to_owned(),
                    replaced: "Milo 400g".to_owned(),
                    winner: "Milo 400g tin".to_owned(),
                    who: "Ama Owusu on the dashboard".to_owned(),
                },
            ],
            next_page_url: None,
        },
    );
    out.page(
        "settings",
        sample.layout(Section::Settings),
        settings(sample),
    );
    for (name, kind) in [
        ("error-403", ErrorKind::Forbidden),
        ("error-404", ErrorKind::NotFound),
        (
            "error-500",
            ErrorKind::Failed {
                reference: Some("req-7d1f03".to_owned()),
            },
        ),
    ] {
        out.page(
            name,
            sample.layout(Section::Overview),
            ErrorContent {
                kind,
                signed_in: true,
            },
        );
    }
}

fn setup_pages(sample: &Sample, out: &mut Out) {
    let csrf = sample.csrf();
    let layout = || sample.layout(Section::Overview);
    out.page(
        "setup",
        layout(),
        SetupChecklistContent {
            items: SetupStep::ALL
                .into_iter()
                .map(|step| ChecklistItem {
                    step,
                    state: match step {
                        SetupStep::Shop | SetupStep::Branch | SetupStep::Products => {
                            StepState::Done
                        }
                        SetupStep::Cashier => StepState::Skipped,
                        SetupStep::Till => StepState::ToDo,
                    },
                })
                .collect(),
        },
    );
    out.page(
        "setup-shop",
        layout(),
        SetupShopContent {
            csrf: csrf.clone(),
            values: shop_details(),
            errors: FieldErrors::new().with("tin", "A TIN has 11 characters, such as C0012345678."),
        },
    );
    out.page(
        "setup-branch",
        layout(),
        SetupBranchContent {
            csrf: csrf.clone(),
            values: BranchValues {
                name: "Osu".to_owned(),
                address: "Oxford Street, Osu, Accra".to_owned(),
            },
            errors: FieldErrors::new(),
        },
    );
    out.page(
        "setup-products",
        layout(),
        SetupProductsContent {
            csrf: csrf.clone(),
            values: ProductValues {
                name: "Frytol Cooking Oil 1L".to_owned(),
                sku: "OIL-FRYTOL-1L".to_owned(),
                price: "42,00".to_owned(),
                ..ProductValues::default()
            },
            errors: FieldErrors::new().with("price", "Enter a price such as 42.00."),
            import_errors: FieldErrors::new(),
            import: Some(sample.import_running()),
            added: vec!["Royal Aroma Rice 1kg".to_owned(), HOSTILE_NAME.to_owned()],
            product_count: 2,
            currency_code: "GHS".to_owned(),
        },
    );
    out.page(
        "setup-cashier",
        layout(),
        SetupCashierContent {
            csrf: csrf.clone(),
            values: CashierValues {
                name: "Efua Mensah".to_owned(),
                email: String::new(),
                branch: sample.id(OSU).to_string(),
            },
            branches: sample.branch_choices(OSU, false),
            errors: FieldErrors::new().with("pin", "A PIN is 4 to 6 digits."),
        },
    );
    out.page(
        "setup-till",
        layout(),
        SetupTillContent {
            csrf: csrf.clone(),
            values: TillValues::default(),
            branches: sample.branch_choices(OSU, false),
            errors: FieldErrors::new(),
            enrolment: None,
        },
    );
    out.page(
        "setup-till-code",
        layout(),
        SetupTillContent {
            csrf,
            values: TillValues {
                name: "Till 1".to_owned(),
                branch: sample.id(OSU).to_string(),
            },
            branches: sample.branch_choices(OSU, false),
            errors: FieldErrors::new(),
            enrolment: Some(enrolment(sample)),
        },
    );
}

fn shop_details() -> ShopDetailsValues {
    ShopDetailsValues {
        trading_name: "Ama Provisions".to_owned(),
        address: "Oxford Street, Osu, Accra".to_owned(),
        phone: "+233 24 123 4567".to_owned(),
        tin: "C00123".to_owned(),
        receipt_footer: "Thank you for shopping with us! Medaase.".to_owned(),
    }
}

fn enrolment(sample: &Sample) -> EnrolmentCode {
    EnrolmentCode::new(
        "Till 3",
        "Osu",
        "K7QF-29XD-MB4T",
        "https://nexus.example.com",
        sample.locale.time(sample.ago_minutes(-24 * 60)),
    )
}

pub(crate) fn overview(sample: &Sample) -> OverviewContent {
    OverviewContent {
        shop_name: "Ama Provisions".to_owned(),
        setup_steps_left: if sample.is_owner() { 2 } else { 0 },
        live_url: "/live/overview".to_owned(),
        live: overview_live(sample),
    }
}

pub(crate) fn overview_live(sample: &Sample) -> OverviewLive {
    let money = |minor| sample.ghs(minor);
    OverviewLive {
        periods: vec![
            PeriodTotal::new("Today", "yesterday", money(284_550), money(254_000), 96),
            PeriodTotal::new(
                "This week",
                "last week",
                money(512_300),
                money(560_000),
                171,
            ),
            PeriodTotal::new("This month", "last month", money(512_300), money(0), 171),
        ],
        tenders: vec![
            TenderTotal {
                tender: Tender::Cash,
                total: money(131_200),
                count: 52,
                percent: 46,
            },
            TenderTotal {
                tender: Tender::MobileMoney(Network::Mtn),
                total: money(98_750),
                count: 31,
                percent: 35,
            },
            TenderTotal {
                tender: Tender::MobileMoney(Network::Telecel),
                total: money(21_600),
                count: 6,
                percent: 8,
            },
            TenderTotal {
                tender: Tender::MobileMoney(Network::AirtelTigo),
                total: money(9_000),
                count: 2,
                percent: 3,
            },
            TenderTotal {
                tender: Tender::Card,
                total: money(24_000),
                count: 5,
                percent: 8,
            },
        ],
        top_products: vec![
            TopProduct {
                name: "Royal Aroma Rice 1kg".to_owned(),
                quantity: sample.qty(64_000),
                total: money(182_400),
            },
            TopProduct {
                name: "Gari 1kg (loose)".to_owned(),
                quantity: sample.qty(41_500),
                total: money(62_250),
            },
            TopProduct {
                name: HOSTILE_NAME.to_owned(),
                quantity: sample.qty(3_000),
                total: money(300),
            },
        ],
        low_stock: 2,
        negative_stock: 1,
        low_stock_url: "/inventory#low-stock".to_owned(),
        negative_stock_url: "/inventory#reconciliation".to_owned(),
        tills: vec![
            TillHealth {
                name: "Till 1".to_owned(),
                branch: "Osu".to_owned(),
                online: true,
                last_contact: sample.locale.ago(Some(sample.ago_minutes(0))),
                unsynced_ops: 0,
                unsynced_since: sample.locale.ago(None),
            },
            TillHealth {
                name: "Till 2".to_owned(),
                branch: "Osu".to_owned(),
                online: false,
                last_contact: sample.locale.ago(Some(sample.ago_minutes(190))),
                unsynced_ops: 37,
                unsynced_since: sample.locale.ago(Some(sample.ago_minutes(188))),
            },
        ],
        as_of: sample.locale.time(sample.ago_minutes(0)),
    }
}

fn report_filter(sample: &Sample) -> ReportFilter {
    ReportFilter {
        period: "day".to_owned(),
        from: "2026-11-18".to_owned(),
        to: "2026-12-01".to_owned(),
        branches: sample.branch_choices(0, true),
    }
}

fn sales(sample: &Sample) -> SalesContent {
    let money = |minor| sample.ghs(minor);
    let export =
        |view: &str| format!("/sales.csv?view={view}&period=day&from=2026-11-18&to=2026-12-01");
    SalesContent {
        filter: report_filter(sample),
        errors: FieldErrors::new(),
        summary: "18 Nov to 1 Dec 2026, all branches".to_owned(),
        total: money(2_845_500),
        sales_count: 942,
        refunds: money(-41_250),
        average_basket: money(3_021),
        chart: sample.daily_chart(),
        by_branch: vec![
            BranchSales {
                branch: "Osu".to_owned(),
                sales_count: 611,
                total: money(1_902_000),
                refunds: money(-30_000),
                net: money(1_872_000),
            },
            BranchSales {
                branch: HOSTILE_NAME.to_owned(),
                sales_count: 331,
                total: money(943_500),
                refunds: money(-11_250),
                net: money(932_250),
            },
        ],
        by_cashier: vec![
            CashierSales {
                cashier: "Efua Mensah".to_owned(),
                sales_count: 402,
                total: money(1_204_000),
                refunds: money(-12_000),
                voids: 1,
            },
            CashierSales {
                cashier: "Kwame Asante".to_owned(),
                sales_count: 331,
                total: money(943_500),
                refunds: money(-11_250),
                voids: 0,
            },
        ],
        by_tender: Tender::ALL
            .into_iter()
            .zip([1_300_000, 980_000, 260_000, 55_500, 250_000])
            .map(|(tender, total)| TenderSales {
                tender,
                count: (total / 3_000) as u64,
                total: money(total),
            })
            .collect(),
        by_product: sample
            .product_rows()
            .into_iter()
            .map(|row| ProductSales {
                quantity: sample.qty(row.price.minor * 7),
                total: money(row.price.minor * 7_000 / 1_000 * 7),
                name: row.name,
                sku: row.sku,
            })
            .collect(),
        exports: SalesExports {
            periods: export("periods"),
            branches: export("branches"),
            cashiers: export("cashiers"),
            tenders: export("tenders"),
            products: export("products"),
        },
    }
}

fn receipt(sample: &Sample) -> ReceiptContent {
    let money = |minor| sample.ghs(minor);
    let can_manage = matches!(sample.role, Role::Owner | Role::Manager);
    ReceiptContent {
        csrf: sample.csrf(),
        id: sample.id(501),
        number: "OSU-T1-000481".to_owned(),
        at: sample.locale.time(sample.ago_minutes(19)),
        branch: "Osu".to_owned(),
        till: "Till 1".to_owned(),
        cashier: "Efua Mensah".to_owned(),
        status: ReceiptStatus::PartlyRefunded,
        customer: Some("Adwoa Sarpong (024 555 0101)".to_owned()),
        lines: vec![
            ReceiptLine {
                name: "Royal Aroma Rice 1kg".to_owned(),
                sku: "RICE-1KG".to_owned(),
                quantity: sample.qty(2_000),
                unit_price: money(2_850),
                discount: money(0),
                total: money(5_700),
                refundable: sample.qty(1_000),
                refund_value: "1".to_owned(),
            },
            ReceiptLine {
                name: "Frytol Cooking Oil 1L".to_owned(),
                sku: "OIL-FRYTOL-1L".to_owned(),
                quantity: sample.qty(1_000),
                unit_price: money(4_200),
                discount: money(200),
                total: money(4_000),
                refundable: sample.qty(1_000),
                refund_value: String::new(),
            },
            ReceiptLine {
                name: "Gari 1kg (loose)".to_owned(),
                sku: "GARI-1KG".to_owned(),
                quantity: sample.qty(1_500),
                unit_price: money(1_500),
                discount: money(0),
                total: money(2_250),
                refundable: sample.qty(0),
                refund_value: String::new(),
            },
            ReceiptLine {
                name: HOSTILE_NAME.to_owned(),
                sku: "HOSTILE".to_owned(),
                quantity: sample.qty(1_000),
                unit_price: money(100),
                discount: money(0),
                total: money(100),
                refundable: sample.qty(1_000),
                refund_value: String::new(),
            },
        ],
        subtotal: money(12_250),
        discount: money(-200),
        levies: vec![
            LevyLine {
                name: "VAT 15%".to_owned(),
                amount: money(513),
            },
            LevyLine {
                name: "NHIL 2.5%".to_owned(),
                amount: money(85),
            },
            LevyLine {
                name: "GETFund Levy 2.5%".to_owned(),
                amount: money(85),
            },
        ],
        tax_total: money(683),
        total: money(12_050),
        tax_note: "Prices include VAT, NHIL and GETFund.".to_owned(),
        tenders: vec![
            TenderLine {
                label: "MTN MoMo".to_owned(),
                amount: money(10_000),
                reference: Some("024 123 4567 · 8123456789".to_owned()),
                unverified: true,
            },
            TenderLine {
                label: "Cash".to_owned(),
                amount: money(3_000),
                reference: None,
                unverified: false,
            },
        ],
        change: money(950),
        refunds: vec![RefundRecord {
            at: sample.locale.time(sample.ago_minutes(10)),
            by: "Kofi Boateng".to_owned(),
            amount: money(2_250),
            lines: vec!["1.5 × Gari 1kg (loose)".to_owned()],
            reason: "Weevils in the bag".to_owned(),
        }],
        void: None,
        can_refund: can_manage,
        can_void: can_manage,
        refund_errors: FieldErrors::new().with("qty_0", "At most 1 can still be refunded."),
        void_errors: FieldErrors::new(),
        refund_reason: HOSTILE_NAME.to_owned(),
        void_reason: String::new(),
    }
}

fn products_pages(sample: &Sample, out: &mut Out) {
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
            },
            errors: FieldErrors::new().with("sku", "Another product already has the SKU RICE-1KG."),
            currency_code: "GHS".to_owned(),
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
            },
            errors: FieldErrors::new(),
            currency_code: "GHS".to_owned(),
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

fn inventory_pages(sample: &Sample, out: &mut Out) {
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

fn staff_pages(sample: &Sample, out: &mut Out) {
    let owner = sample.is_owner();
    let member =
        |n: u128, name: &str, email: Option<&str>, role: Role, branches: &[&str], active: bool| {
            StaffRow {
                id: sample.id(n),
                name: name.to_owned(),
                email: email.map(str::to_owned),
                role,
                branches: branches.iter().map(|branch| (*branch).to_owned()).collect(),
                active,
                has_pin: role != Role::Owner,
                can_edit: owner || role == Role::Cashier,
            }
        };
    out.page(
        "staff",
        sample.layout(Section::Staff),
        StaffContent {
            csrf: sample.csrf(),
            rows: vec![
                member(
                    10,
                    "Ama Owusu",
                    Some("ama@demo.nexus.example"),
                    Role::Owner,
                    &[],
                    true,
                ),
                member(
                    13,
                    "Kofi Boateng",
                    Some("kofi@demo.nexus.example"),
                    Role::Manager,
                    &["Osu"],
                    true,
                ),
                member(11, "Efua Mensah", None, Role::Cashier, &["Osu"], true),
                member(
                    12,
                    HOSTILE_NAME,
                    None,
                    Role::Cashier,
                    &["Osu", "Makola"],
                    false,
                ),
            ],
            can_add: true,
        },
    );
    let roles = if owner {
        Role::ALL.to_vec()
    } else {
        vec![Role::Cashier]
    };
    out.page(
        "staff-new",
        sample.layout(Section::Staff),
        StaffFormContent {
            csrf: sample.csrf(),
            staff_id: None,
            values: StaffValues {
                name: "Kwame Asante".to_owned(),
                email: String::new(),
                role: "cashier".to_owned(),
            },
            roles: roles.clone(),
            branches: sample.branch_choices(OSU, false),
            errors: FieldErrors::new()
                .with("pin", "Give a PIN or a password, so they can sign in."),
        },
    );
    out.page(
        "staff-edit",
        sample.layout(Section::Staff),
        StaffFormContent {
            csrf: sample.csrf(),
            staff_id: Some(sample.id(12)),
            values: StaffValues {
                name: HOSTILE_NAME.to_owned(),
                email: String::new(),
                role: "cashier".to_owned(),
            },
            roles,
            branches: sample.branch_choices(OSU, false),
            errors: FieldErrors::new(),
        },
    );
    let money = |minor| sample.ghs(minor);
    let tender = |label: &str, expected: i64, counted: Option<i64>| ShiftTender {
        label: label.to_owned(),
        expected: money(expected),
        counted: counted.map(money),
        difference: counted.map(|counted| money(counted - expected)),
    };
    out.page(
        "shifts",
        sample.layout(Section::Shifts),
        ShiftsContent {
            filter: report_filter(sample),
            errors: FieldErrors::new(),
            rows: vec![
                ShiftRow {
                    cashier: "Efua Mensah".to_owned(),
                    branch: "Osu".to_owned(),
                    till: "Till 1".to_owned(),
                    opened: sample.locale.time(sample.ago_minutes(360)),
                    closed: None,
                    float: money(20_000),
                    tenders: vec![
                        tender("Cash", 151_200, None),
                        tender("MTN MoMo", 98_750, None),
                    ],
                },
                ShiftRow {
                    cashier: HOSTILE_NAME.to_owned(),
                    branch: "Makola".to_owned(),
                    till: "Till 1".to_owned(),
                    opened: sample.locale.time(sample.ago_minutes(60 * 30)),
                    closed: Some(sample.locale.time(sample.ago_minutes(60 * 20))),
                    float: money(20_000),
                    tenders: vec![
                        tender("Cash", 88_400, Some(86_400)),
                        tender("Telecel Cash", 21_600, Some(21_600)),
                        tender("Card", 5_000, Some(5_500)),
                    ],
                },
            ],
            next_page_url: None,
            can_see_performance: true,
        },
    );
    out.page(
        "performance",
        sample.layout(Section::Shifts),
        PerformanceContent {
            filter: report_filter(sample),
            errors: FieldErrors::new(),
            summary: "18 Nov to 1 Dec 2026, all branches".to_owned(),
            rows: vec![
                PerformanceRow {
                    cashier: "Efua Mensah".to_owned(),
                    sales_count: 402,
                    total: money(1_204_000),
                    refunds: money(-12_000),
                    refund_count: 3,
                    voids: 1,
                    average_basket: money(2_995),
                    cash_difference: money(0),
                },
                PerformanceRow {
                    cashier: HOSTILE_NAME.to_owned(),
                    sales_count: 331,
                    total: money(943_500),
                    refunds: money(-11_250),
                    refund_count: 2,
                    voids: 0,
                    average_basket: money(2_850),
                    cash_difference: money(-2_000),
                },
            ],
            export_url: "/shifts/performance.csv?from=2026-11-18&to=2026-12-01".to_owned(),
        },
    );
}

pub(crate) fn tills(sample: &Sample) -> TillsContent {
    TillsContent {
        can_manage: true,
        live_url: "/live/tills".to_owned(),
        live: tills_live(sample),
    }
}

pub(crate) fn tills_live(sample: &Sample) -> TillsLive {
    TillsLive {
        csrf: sample.csrf(),
        can_manage: true,
        rows: sample.till_rows(),
        as_of: sample.locale.time(sample.ago_minutes(0)),
    }
}

fn settings(sample: &Sample) -> SettingsContent {
    let levy = |code: &str, name: &str, rate: &str| LevyValues {
        code: code.to_owned(),
        name: name.to_owned(),
        rate: rate.to_owned(),
    };
    SettingsContent {
        csrf: sample.csrf(),
        can_edit: sample.is_owner(),
        values: SettingsValues {
            currency: "GHS".to_owned(),
            time_zone: "Africa/Accra".to_owned(),
            tax_enabled: true,
            price_mode: "inclusive".to_owned(),
            levies: vec![
                levy("VAT", "VAT", "15"),
                levy("NHIL", "NHIL", "2.5"),
                levy("GETFUND", "GETFund Levy", "2.5"),
            ],
            shop: shop_details(),
        },
        errors: FieldErrors::new()
            .with("levy_rate_2", "Enter the rate as a percentage such as 2.5."),
    }
}

pub(crate) fn fragments(sample: &Sample, out: &mut Out) {
    out.fragment("overview-live", overview_live(sample));
    out.fragment("inventory-live", inventory_live(sample));
    out.fragment("tills-live", tills_live(sample));
    out.fragment("import-running", sample.import_running());
    out.fragment("import-finished", sample.import_finished());
    out.fragment("sales-chart", sample.daily_chart());
    // The content fragments htmx swaps into #content.
    out.fragment("overview", overview(sample));
    out.fragment("inventory", inventory(sample));
    out.fragment("tills", tills(sample));
    out.fragment("sales", sales(sample));
}
