//! The sample shop's records: branches, products, staff, sales.

use nexus_domain::TaxClass;

use super::{HOSTILE_NAME, Sample};
use crate::charts::{BarChart, ChartText, Point};
use crate::forms::Choice;
use crate::views::admin::TillRow;
use crate::views::inventory::StockRow;
use crate::views::products::{BadLine, ImportState, ImportStatus, ProductRow};
use crate::views::receipts::{ReceiptRow, ReceiptStatus};

pub const OSU: u128 = 1;
pub const MAKOLA: u128 = 2;

/// (id, sku, name, barcode, price in pesewas, tax class, reorder level in thousandths)
type ProductSeed = (
    u128,
    &'static str,
    &'static str,
    Option<&'static str>,
    i64,
    TaxClass,
    i64,
);

pub const PRODUCTS: &[ProductSeed] = &[
    (
        101,
        "RICE-1KG",
        "Royal Aroma Rice 1kg",
        Some("6030000000018"),
        2_850,
        TaxClass::Exempt,
        20_000,
    ),
    (
        102,
        "OIL-FRYTOL-1L",
        "Frytol Cooking Oil 1L",
        Some("6030000000025"),
        4_200,
        TaxClass::Standard,
        12_000,
    ),
    (
        103,
        "MILO-400",
        "Milo 400g tin",
        Some("6030000000032"),
        5_650,
        TaxClass::Standard,
        6_000,
    ),
    (
        104,
        "IDEAL-MILK",
        "Ideal Evaporated Milk 160g",
        Some("6030000000049"),
        1_150,
        TaxClass::Standard,
        48_000,
    ),
    (
        105,
        "GARI-1KG",
        "Gari 1kg (loose)",
        None,
        1_500,
        TaxClass::Exempt,
        10_000,
    ),
    (
        106,
        "VOLTIC-1.5",
        "Voltic Mineral Water 1.5L",
        Some("6030000000063"),
        700,
        TaxClass::Standard,
        24_000,
    ),
    (
        107,
        "HOSTILE",
        HOSTILE_NAME,
        Some("6030000000070"),
        100,
        TaxClass::ZeroRated,
        0,
    ),
];

impl Sample {
    pub fn branch_choices(&self, selected: u128, with_all: bool) -> Vec<Choice> {
        let mut choices = Vec::new();
        if with_all {
            choices.push(Choice::new("", "All branches").selected_if(selected == 0));
        }
        choices.push(Choice::new(self.id(OSU).to_string(), "Osu").selected_if(selected == OSU));
        if self.is_owner() {
            choices.push(
                Choice::new(self.id(MAKOLA).to_string(), "Makola").selected_if(selected == MAKOLA),
            );
        }
        choices
    }

    pub fn product_rows(&self) -> Vec<ProductRow> {
        PRODUCTS
            .iter()
            .map(
                |(id, sku, name, barcode, price, tax_class, reorder)| ProductRow {
                    id: self.id(*id),
                    sku: (*sku).to_owned(),
                    name: (*name).to_owned(),
                    barcode: barcode.map(str::to_owned),
                    price: self.ghs(*price),
                    tax_class: *tax_class,
                    reorder_level: self.qty(*reorder),
                },
            )
            .collect()
    }

    /// On-hand per product at Osu: rice running low, gari below zero.
    pub fn stock_rows(&self) -> Vec<StockRow> {
        let on_hand = [14_000, 36_000, 9_000, 120_000, -2_500, 60_000, 1_000];
        PRODUCTS
            .iter()
            .zip(on_hand)
            .map(|((id, sku, name, _, _, _, reorder), on_hand)| StockRow {
                product_id: self.id(*id),
                sku: (*sku).to_owned(),
                name: (*name).to_owned(),
                on_hand: self.qty(on_hand),
                reorder_level: self.qty(*reorder),
            })
            .collect()
    }

    pub fn receipt_rows(&self) -> Vec<ReceiptRow> {
        let rows = [
            (
                "OSU-T1-000482",
                4,
                "Osu",
                "Efua Mensah",
                8_550,
                "MTN MoMo",
                ReceiptStatus::Completed,
            ),
            (
                "OSU-T1-000481",
                19,
                "Osu",
                "Efua Mensah",
                2_850,
                "Cash",
                ReceiptStatus::PartlyRefunded,
            ),
            (
                "MAK-T1-000210",
                47,
                "Makola",
                "Kwame Asante",
                12_300,
                "Cash + Telecel Cash",
                ReceiptStatus::Completed,
            ),
            (
                "OSU-T2-000077",
                95,
                "Osu",
                "Kofi Boateng",
                5_650,
                "Card",
                ReceiptStatus::Voided,
            ),
            (
                "OSU-T1-000480",
                130,
                "Osu",
                HOSTILE_NAME,
                100,
                "Cash",
                ReceiptStatus::Refunded,
            ),
        ];
        rows.iter()
            .enumerate()
            .map(
                |(index, (number, minutes, branch, cashier, total, paid_by, status))| ReceiptRow {
                    id: self.id(500 + index as u128),
                    number: (*number).to_owned(),
                    at: self.locale.time(self.ago_minutes(*minutes)),
                    branch: (*branch).to_owned(),
                    cashier: (*cashier).to_owned(),
                    total: self.ghs(*total),
                    paid_by: (*paid_by).to_owned(),
                    status: *status,
                },
            )
            .collect()
    }

    pub fn till_rows(&self) -> Vec<TillRow> {
        let ago = |minutes: Option<i64>| self.locale.ago(minutes.map(|m| self.ago_minutes(m)));
        vec![
            TillRow {
                id: self.id(301),
                name: "Till 1".to_owned(),
                branch: "Osu".to_owned(),
                online: true,
                last_contact: ago(Some(0)),
                last_push: ago(Some(2)),
                unsynced_ops: 0,
                unsynced_since: ago(None),
                app_version: "0.1.0".to_owned(),
                waiting_for_enrolment: false,
            },
            TillRow {
                id: self.id(302),
                name: "Till 2".to_owned(),
                branch: "Osu".to_owned(),
                online: false,
                last_contact: ago(Some(190)),
                last_push: ago(Some(195)),
                unsynced_ops: 37,
                unsynced_since: ago(Some(188)),
                app_version: "0.1.0".to_owned(),
                waiting_for_enrolment: false,
            },
            TillRow {
                id: self.id(303),
                name: HOSTILE_NAME.to_owned(),
                branch: "Makola".to_owned(),
                online: false,
                last_contact: ago(None),
                last_push: ago(None),
                unsynced_ops: 0,
                unsynced_since: ago(None),
                app_version: String::new(),
                waiting_for_enrolment: true,
            },
        ]
    }

    pub fn import_running(&self) -> ImportStatus {
        ImportStatus {
            status_url: "/imports/0190-sample/status".to_owned(),
            file_name: "products-december.csv".to_owned(),
            state: ImportState::Running {
                done_lines: 12_000,
                total_lines: 50_000,
            },
        }
    }

    pub fn import_finished(&self) -> ImportStatus {
        ImportStatus {
            status_url: "/imports/0190-sample/status".to_owned(),
            file_name: "products-december.csv".to_owned(),
            state: ImportState::Finished {
                created: 184,
                updated: 12,
                saved: true,
                bad_lines: vec![
                    BadLine {
                        line: 7,
                        sku: "MILO-400".to_owned(),
                        column: "price".to_owned(),
                        problem: "Enter a price such as 12.50, not \"12,50\".".to_owned(),
                    },
                    BadLine {
                        line: 19,
                        sku: HOSTILE_NAME.to_owned(),
                        column: "barcode".to_owned(),
                        problem: "This barcode already belongs to Royal Aroma Rice 1kg.".to_owned(),
                    },
                ],
            },
        }
    }

    pub fn daily_chart(&self) -> BarChart {
        let start = self.locale.time(self.ago_minutes(60 * 24 * 13)).date().0;
        let points: Vec<Point> = (0..14)
            .map(|offset| {
                let day = self.locale.day(start + offset);
                // A refund-heavy Sunday goes below zero.
                let minor = if offset == 5 {
                    -18_500
                } else {
                    150_000 + (offset as i64 % 4) * 42_500 + (offset as i64) * 3_100
                };
                Point::new(day.short(), minor).with_long_label(day.to_string())
            })
            .collect();
        BarChart::build(
            ChartText {
                id: "sales-chart",
                title: "Takings per day",
                description: "Takings of each day from 18 November to 1 December 2026, all branches. One day, 23 November, had more refunds than sales.",
                label_heading: "Day",
                value_heading: "Takings",
            },
            self.locale.currency,
            &points,
        )
    }
}
