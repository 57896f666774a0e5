//! Sample overview, sales and receipts.

use nexus_domain::Role;

use super::{HOSTILE_NAME, Sample};
use crate::forms::FieldErrors;
use crate::views::common::{Network, Tender};
use crate::views::overview::*;
use crate::views::receipts::*;
use crate::views::sales::*;

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

pub(crate) fn report_filter(sample: &Sample) -> ReportFilter {
    ReportFilter {
        period: "day".to_owned(),
        from: "2026-11-18".to_owned(),
        to: "2026-12-01".to_owned(),
        branches: sample.branch_choices(0, true),
    }
}

pub(crate) fn sales(sample: &Sample) -> SalesContent {
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

pub(crate) fn receipt(sample: &Sample) -> ReceiptContent {
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
        wholesale: true,
        lines: vec![
            ReceiptLine {
                name: "Royal Aroma Rice 1kg".to_owned(),
                sku: "RICE-1KG".to_owned(),
                quantity: sample.qty(2_000),
                pack: Some("carton (24)".to_owned()),
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
                pack: None,
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
                pack: None,
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
                pack: None,
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

pub(crate) fn vat(sample: &Sample) -> crate::views::vat::VatContent {
    use crate::views::vat::{VatContent, VatRow};
    let money = |minor| sample.ghs(minor);
    let row = |name: &str, standard: i64, exempt: i64, returns: i64| VatRow {
        name: name.to_owned(),
        standard_rated: money(standard),
        zero_rated: money(0),
        exempt: money(exempt),
        total_net: money(standard + exempt),
        levies: vec![
            money(standard * 15 / 100),
            money(standard / 40),
            money(standard / 40),
        ],
        tax: money(standard * 20 / 100),
        returns_net: money(returns),
        returns_tax: money(returns / 5),
    };
    VatContent {
        month: "2026-11".to_owned(),
        summary: "Nov 2026, all branches".to_owned(),
        branches: sample.branch_choices(0, true),
        errors: FieldErrors::new(),
        levies: vec![
            "VAT 15%".to_owned(),
            "NHIL 2.5%".to_owned(),
            "GETFund Levy 2.5%".to_owned(),
        ],
        rows: vec![
            row("Osu", 1_520_000, 212_000, -24_000),
            row(HOSTILE_NAME, 760_000, 98_000, -9_000),
        ],
        total: row("Total", 2_280_000, 310_000, -33_000),
        export: "/sales/vat/export?month=2026-11&branch=".to_owned(),
    }
}

pub(crate) fn items(sample: &Sample) -> crate::views::items::ItemsContent {
    use crate::format::Qty;
    use crate::views::items::{ItemLine, ItemsContent};
    let line =
        |name: &str, sku: &str, category: &str, quantity: i64, net: i64, cost: i64| ItemLine {
            name: name.to_owned(),
            sku: sku.to_owned(),
            category: category.to_owned(),
            quantity: Qty(nexus_domain::Quantity::from_milli(quantity * 1000)),
            net: sample.ghs(net),
            cost: sample.ghs(cost),
            gross_profit: sample.ghs(net - cost),
            margin: nexus_server::services::items::margin_text(
                (net != 0).then(|| (net - cost) * 10_000 / net),
            ),
            uncosted: cost == 0,
        };
    ItemsContent {
        group: "product".to_owned(),
        filter: report_filter(sample),
        errors: FieldErrors::new(),
        summary: "1 Nov – 30 Nov 2026, all branches".to_owned(),
        rows: vec![
            line(
                "Royal Aroma Rice 1kg",
                "RICE-1KG",
                "Provisions",
                412,
                1_174_200,
                951_720,
            ),
            line(HOSTILE_NAME, "HOSTILE", HOSTILE_NAME, 3, 30_000, 0),
            line(
                "Refunded Milo 400g",
                "MILO-400",
                "Drinks",
                -2,
                -8_400,
                -6_900,
            ),
        ],
        total: line("Total", "", "", 413, 1_195_800, 944_820),
        uncosted_note: Some(
            "3 sold while no cost was set: counted at no cost, so their profit is overstated."
                .to_owned(),
        ),
        export: "/sales/items/export?group=product&from=2026-11-01&to=2026-11-30&branch="
            .to_owned(),
    }
}
