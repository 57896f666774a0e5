//! The first-run path after sign-up: a checklist and one page per step. Every step can be
//! skipped (`POST /setup/{step}/skip`) and stays on the checklist, which the overview and the
//! header link to while steps are left.

use askama::Template;

use crate::forms::{Choice, FieldErrors};
use crate::fragment;
use crate::paths;
use crate::views::admin::EnrolmentCode;
use crate::views::products::{ImportStatus, ProductValues};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetupStep {
    Shop,
    Branch,
    Products,
    Cashier,
    Till,
}

impl SetupStep {
    pub const ALL: [SetupStep; 5] = [
        SetupStep::Shop,
        SetupStep::Branch,
        SetupStep::Products,
        SetupStep::Cashier,
        SetupStep::Till,
    ];

    /// The step's name in URLs: `/setup/{slug}`.
    pub fn slug(&self) -> &'static str {
        match self {
            SetupStep::Shop => "shop",
            SetupStep::Branch => "branch",
            SetupStep::Products => "products",
            SetupStep::Cashier => "cashier",
            SetupStep::Till => "till",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            SetupStep::Shop => "Your shop's details",
            SetupStep::Branch => "Your first branch",
            SetupStep::Products => "Your products",
            SetupStep::Cashier => "Your first cashier",
            SetupStep::Till => "Your first till",
        }
    }

    pub fn description(&self) -> &'static str {
        match self {
            SetupStep::Shop => "The name, address, phone and TIN printed at the top of receipts.",
            SetupStep::Branch => "Where you sell. Each branch keeps its own stock.",
            SetupStep::Products => "Add a few by hand or import them all from a spreadsheet.",
            SetupStep::Cashier => "Someone who sells at the till, with a PIN to sign in.",
            SetupStep::Till => "Connect the shop's computer so it can sell, even offline.",
        }
    }

    pub fn path(&self) -> &'static str {
        match self {
            SetupStep::Shop => paths::SETUP_SHOP,
            SetupStep::Branch => paths::SETUP_BRANCH,
            SetupStep::Products => paths::SETUP_PRODUCTS,
            SetupStep::Cashier => paths::SETUP_CASHIER,
            SetupStep::Till => paths::SETUP_TILL,
        }
    }

    pub fn skip_path(&self) -> String {
        paths::setup_skip(self.slug())
    }

    /// 1 to 5.
    pub fn number(&self) -> usize {
        SetupStep::ALL
            .iter()
            .position(|step| step == self)
            .map_or(1, |index| index + 1)
    }

    pub fn total(&self) -> usize {
        SetupStep::ALL.len()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepState {
    ToDo,
    Done,
    Skipped,
}

#[derive(Clone, Debug)]
pub struct ChecklistItem {
    pub step: SetupStep,
    pub state: StepState,
}

impl ChecklistItem {
    pub fn state_label(&self) -> &'static str {
        match self.state {
            StepState::ToDo => "To do",
            StepState::Done => "Done",
            StepState::Skipped => "Skipped",
        }
    }
    pub fn state_class(&self) -> &'static str {
        match self.state {
            StepState::ToDo => "todo",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
        }
    }
    pub fn is_done(&self) -> bool {
        self.state == StepState::Done
    }
}

/// `GET /setup`: every step with its state.
#[derive(Template)]
#[template(path = "setup/checklist.html")]
pub struct SetupChecklistContent {
    pub items: Vec<ChecklistItem>,
}

impl SetupChecklistContent {
    pub fn steps_left(&self) -> usize {
        self.items.iter().filter(|item| !item.is_done()).count()
    }
    pub fn overview(&self) -> &'static str {
        paths::OVERVIEW
    }
}

fragment!(SetupChecklistContent, |_page| "Set up your shop");

/// The receipt header and footer; the same fields on the settings page.
#[derive(Clone, Debug, Default)]
pub struct ShopDetailsValues {
    pub trading_name: String,
    pub address: String,
    pub phone: String,
    /// Ghana Revenue Authority taxpayer identification number.
    pub tin: String,
    pub receipt_footer: String,
}

/// `GET/POST /setup/shop`. Fields: trading_name, address, phone, tin, receipt_footer.
#[derive(Template)]
#[template(path = "setup/shop.html")]
pub struct SetupShopContent {
    pub csrf: String,
    pub values: ShopDetailsValues,
    pub errors: FieldErrors,
}

impl SetupShopContent {
    pub fn step(&self) -> SetupStep {
        SetupStep::Shop
    }
}

fragment!(SetupShopContent, |page| page.step().label());

#[derive(Clone, Debug, Default)]
pub struct BranchValues {
    pub name: String,
    pub address: String,
}

/// `GET/POST /setup/branch`. Fields: name, address.
#[derive(Template)]
#[template(path = "setup/branch.html")]
pub struct SetupBranchContent {
    pub csrf: String,
    pub values: BranchValues,
    pub errors: FieldErrors,
}

impl SetupBranchContent {
    pub fn step(&self) -> SetupStep {
        SetupStep::Branch
    }
}

fragment!(SetupBranchContent, |page| page.step().label());

/// `GET/POST /setup/products` (one product: sku, name, price, barcode, tax_class,
/// reorder_level) and `POST /setup/products/import` (multipart: file, mode).
#[derive(Template)]
#[template(path = "setup/products.html")]
pub struct SetupProductsContent {
    pub csrf: String,
    pub values: ProductValues,
    pub errors: FieldErrors,
    pub import_errors: FieldErrors,
    pub import: Option<ImportStatus>,
    /// Names of the products added so far, newest first (a few).
    pub added: Vec<String>,
    pub product_count: u64,
    pub currency_code: String,
}

impl SetupProductsContent {
    pub fn step(&self) -> SetupStep {
        SetupStep::Products
    }
    pub fn import_action(&self) -> String {
        format!("{}/import", paths::SETUP_PRODUCTS)
    }
}

fragment!(SetupProductsContent, |page| page.step().label());

#[derive(Clone, Debug, Default)]
pub struct CashierValues {
    pub name: String,
    pub email: String,
    pub branch: String,
}

/// `GET/POST /setup/cashier`. Fields: name, email (optional), pin, pin_again, branch.
#[derive(Template)]
#[template(path = "setup/cashier.html")]
pub struct SetupCashierContent {
    pub csrf: String,
    pub values: CashierValues,
    pub branches: Vec<Choice>,
    pub errors: FieldErrors,
}

impl SetupCashierContent {
    pub fn step(&self) -> SetupStep {
        SetupStep::Cashier
    }
}

fragment!(SetupCashierContent, |page| page.step().label());

#[derive(Clone, Debug, Default)]
pub struct TillValues {
    pub name: String,
    pub branch: String,
}

/// `GET/POST /setup/till`. Fields: name, branch. After the POST, `enrolment` holds the code.
#[derive(Template)]
#[template(path = "setup/till.html")]
pub struct SetupTillContent {
    pub csrf: String,
    pub values: TillValues,
    pub branches: Vec<Choice>,
    pub errors: FieldErrors,
    pub enrolment: Option<EnrolmentCode>,
}

impl SetupTillContent {
    pub fn step(&self) -> SetupStep {
        SetupStep::Till
    }
    pub fn checklist(&self) -> &'static str {
        paths::SETUP
    }
}

fragment!(SetupTillContent, |page| page.step().label());
