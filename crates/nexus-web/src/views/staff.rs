//! Staff and their roles, shifts with expected against counted, and cashier performance.

use askama::Template;
use nexus_domain::Role;
use uuid::Uuid;

use crate::format::{Money, ShopTime};
use crate::forms::{Choice, FieldErrors};
use crate::fragment;
use crate::layout::role_label;
use crate::paths;
use crate::views::sales::ReportFilter;

/// `GET /staff`.
#[derive(Template)]
#[template(path = "staff/list.html")]
pub struct StaffContent {
    pub csrf: String,
    pub rows: Vec<StaffRow>,
    pub can_add: bool,
}

impl StaffContent {
    pub fn new_url(&self) -> &'static str {
        paths::STAFF_NEW
    }
    pub fn performance(&self) -> &'static str {
        paths::PERFORMANCE
    }
}

fragment!(StaffContent, |_page| "Staff");

#[derive(Clone, Debug)]
pub struct StaffRow {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    /// Branch names; owners work everywhere.
    pub branches: Vec<String>,
    pub active: bool,
    pub has_pin: bool,
    /// Whether the signed-in person may change this one (managers: cashiers of their
    /// branches; nobody: the last owner).
    pub can_edit: bool,
}

impl StaffRow {
    pub fn role_label(&self) -> &'static str {
        role_label(self.role)
    }
    pub fn edit_url(&self) -> String {
        paths::staff_edit(&self.id)
    }
    pub fn deactivate_url(&self) -> String {
        paths::staff_deactivate(&self.id)
    }
    pub fn branch_list(&self) -> String {
        if self.role == Role::Owner && self.branches.is_empty() {
            "All branches".to_owned()
        } else {
            self.branches.join(", ")
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct StaffValues {
    pub name: String,
    pub email: String,
    /// "owner", "manager", "cashier".
    pub role: String,
}

/// `GET /staff/new` (posts to `/staff`) and `GET /staff/{id}/edit` (posts to `/staff/{id}`).
/// Fields: name and email (on add only; the edit page shows them), role, branches (repeated,
/// one per ticked branch id), pin, password. On edit, an empty PIN or password leaves it as
/// it was.
#[derive(Template)]
#[template(path = "staff/form.html")]
pub struct StaffFormContent {
    pub csrf: String,
    pub staff_id: Option<Uuid>,
    pub values: StaffValues,
    /// The roles this person may give (managers: cashier only).
    pub roles: Vec<Role>,
    /// Every branch this person may assign, ticked when assigned.
    pub branches: Vec<Choice>,
    pub errors: FieldErrors,
}

impl StaffFormContent {
    pub fn action(&self) -> String {
        match &self.staff_id {
            Some(id) => paths::staff_member(id),
            None => paths::STAFF.to_owned(),
        }
    }
    pub fn role_choices(&self) -> Vec<Choice> {
        self.roles
            .iter()
            .map(|role| {
                Choice::new(role.as_str(), role_label(*role))
                    .selected_if(role.as_str() == self.values.role)
            })
            .collect()
    }
    pub fn deactivate_url(&self) -> Option<String> {
        self.staff_id.as_ref().map(paths::staff_deactivate)
    }
    pub fn back(&self) -> &'static str {
        paths::STAFF
    }
}

fragment!(StaffFormContent, |page| match page.staff_id {
    Some(_) => format!("Edit {}", page.values.name),
    None => "Add a member of staff".to_owned(),
});

/// `GET /shifts?branch=&from=&to=`: newest first; cashiers see their own.
#[derive(Template)]
#[template(path = "staff/shifts.html")]
pub struct ShiftsContent {
    pub filter: ReportFilter,
    pub errors: FieldErrors,
    pub rows: Vec<ShiftRow>,
    pub next_page_url: Option<String>,
    /// Owners and managers: the link to cashier performance.
    pub can_see_performance: bool,
}

impl ShiftsContent {
    pub fn action(&self) -> &'static str {
        paths::SHIFTS
    }
    pub fn performance(&self) -> &'static str {
        paths::PERFORMANCE
    }
}

fragment!(ShiftsContent, |_page| "Shifts");

#[derive(Clone, Debug)]
pub struct ShiftRow {
    pub cashier: String,
    pub branch: String,
    pub till: String,
    pub opened: ShopTime,
    /// `None` while the shift is open.
    pub closed: Option<ShopTime>,
    pub float: Money,
    pub tenders: Vec<ShiftTender>,
}

impl ShiftRow {
    /// The sum of the differences of the closed tenders.
    pub fn is_balanced(&self) -> bool {
        self.tenders.iter().all(|tender| {
            tender
                .difference
                .is_none_or(|difference| difference.is_zero())
        })
    }
}

#[derive(Clone, Debug)]
pub struct ShiftTender {
    /// "Cash", "MTN MoMo".
    pub label: String,
    pub expected: Money,
    /// `None` while open.
    pub counted: Option<Money>,
    /// Counted less expected: negative is money missing.
    pub difference: Option<Money>,
}

impl ShiftTender {
    pub fn difference_class(&self) -> &'static str {
        match self.difference {
            Some(difference) if difference.minor < 0 => "difference short",
            Some(difference) if difference.minor > 0 => "difference over",
            _ => "difference",
        }
    }
    pub fn difference_words(&self) -> &'static str {
        match self.difference {
            Some(difference) if difference.minor < 0 => "short",
            Some(difference) if difference.minor > 0 => "over",
            Some(_) => "exact",
            None => "",
        }
    }
}

/// `GET /shifts/performance?from=&to=&branch=`.
#[derive(Template)]
#[template(path = "staff/performance.html")]
pub struct PerformanceContent {
    pub filter: ReportFilter,
    pub errors: FieldErrors,
    pub summary: String,
    pub rows: Vec<PerformanceRow>,
    pub export_url: String,
}

impl PerformanceContent {
    pub fn action(&self) -> &'static str {
        paths::PERFORMANCE
    }
}

fragment!(PerformanceContent, |_page| "Cashier performance");

#[derive(Clone, Debug)]
pub struct PerformanceRow {
    pub cashier: String,
    pub sales_count: u64,
    pub total: Money,
    pub refunds: Money,
    pub refund_count: u64,
    pub voids: u64,
    pub average_basket: Money,
    /// Counted less expected cash over the period's closed shifts.
    pub cash_difference: Money,
}
