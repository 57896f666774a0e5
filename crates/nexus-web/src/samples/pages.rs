//! Which pages the samples render, and with what.

use super::data::{MAKOLA, OSU};
use super::{HOSTILE_NAME, Out, Sample};
use crate::forms::{Choice, FieldErrors};
use crate::layout::{Flash, Layout, Section};
use crate::views::admin::*;
use crate::views::auth::*;
use crate::views::common::Tender;
use crate::views::errors::{ErrorContent, ErrorKind};
use crate::views::products::*;
use crate::views::receipts::*;
use crate::views::setup::*;

use super::billing::billing_pages;
use super::momo::momo_pages;
use super::people::{settings, staff_pages, tills, tills_live};
use super::reports::{items, overview, overview_live, receipt, sales, vat};
use super::stock::{inventory, inventory_live, inventory_pages, products_pages};

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
            detail: None,
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
    out.page("vat", sample.layout(Section::Sales), vat(sample));
    out.page("items", sample.layout(Section::Sales), items(sample));
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
    billing_pages(sample, out);
    momo_pages(sample, out);
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
                detail: None,
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

pub(crate) fn shop_details() -> ShopDetailsValues {
    ShopDetailsValues {
        trading_name: "Ama Provisions".to_owned(),
        address: "Oxford Street, Osu, Accra".to_owned(),
        phone: "+233 24 123 4567".to_owned(),
        tin: "C00123".to_owned(),
        receipt_footer: "Thank you for shopping with us! Medaase.".to_owned(),
    }
}

pub(crate) fn enrolment(sample: &Sample) -> EnrolmentCode {
    EnrolmentCode::new(
        "Till 3",
        "Osu",
        "K7QF-29XD-MB4T",
        "https://nexus.example.com",
        sample.locale.time(sample.ago_minutes(-24 * 60)),
    )
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
    out.fragment("vat", vat(sample));
    out.fragment("items", items(sample));
}
