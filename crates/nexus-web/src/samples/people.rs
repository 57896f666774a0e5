//! Sample staff, tills and settings.

use nexus_domain::Role;

use super::data::OSU;
use super::{HOSTILE_NAME, Out, Sample};
use crate::forms::FieldErrors;
use crate::layout::Section;
use crate::views::admin::*;
use crate::views::staff::*;

use super::pages::shop_details;
use super::reports::report_filter;

pub(crate) fn staff_pages(sample: &Sample, out: &mut Out) {
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

pub(crate) fn settings(sample: &Sample) -> SettingsContent {
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
