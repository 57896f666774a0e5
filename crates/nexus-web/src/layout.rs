//! What every signed-in page shows around its content: the header with the shop and the
//! person, the navigation, flash messages and the footer.

use nexus_domain::{Permission, Role};

use crate::assets::asset_url;
use crate::paths;

/// The frame of a full page. Built once per request by the handler; never part of a fragment.
#[derive(Clone, Debug)]
pub struct Layout {
    /// `None` on the public pages (sign-in, sign-up…), which show the product name instead.
    pub shop_name: Option<String>,
    pub user: Option<SignedInUser>,
    /// The sections this person may open, in the order shown ([`Section::visible_to`] gives
    /// the default for a role).
    pub nav: Vec<Section>,
    pub current: Option<Section>,
    pub flashes: Vec<Flash>,
    /// The session's CSRF token: every POST form carries it as the `csrf` field, and the
    /// script sends it as `X-CSRF-Token` on every htmx request.
    pub csrf: String,
    /// Where the script opens its `EventSource` (see the crate docs); only used when signed in.
    pub live_events_url: String,
    /// First-run steps neither done nor skipped: while above zero, the header links to them.
    pub setup_steps_left: usize,
    /// A payment overdue: shown above every page while it lasts.
    pub billing_notice: Option<BillingNotice>,
    /// Where the browser goes on by itself (a payment provider's page): forms may only post
    /// to this origin, so a page that says where it goes, and goes, stands in for a redirect.
    pub go_on_to: Option<String>,
}

/// The grace or restriction banner: what happened, what it means, and for the owner the way
/// to pay.
#[derive(Clone, Debug)]
pub struct BillingNotice {
    pub message: String,
    /// Only the owner pays, so only the owner's banner links to the billing page.
    pub pay_link: Option<&'static str>,
    /// Restricted (the dashboard is read-only) rather than in grace.
    pub restricted: bool,
}

impl BillingNotice {
    pub fn class(&self) -> &'static str {
        if self.restricted {
            "billing-notice restricted"
        } else {
            "billing-notice"
        }
    }
}

impl Layout {
    /// The frame of a page anyone may open.
    pub fn public(csrf: impl Into<String>) -> Self {
        Self {
            shop_name: None,
            user: None,
            nav: Vec::new(),
            current: None,
            flashes: Vec::new(),
            csrf: csrf.into(),
            live_events_url: String::new(),
            setup_steps_left: 0,
            billing_notice: None,
            go_on_to: None,
        }
    }

    /// The frame of a signed-in page, with the role's default navigation.
    pub fn signed_in(
        shop_name: impl Into<String>,
        user: SignedInUser,
        current: Section,
        csrf: impl Into<String>,
    ) -> Self {
        Self {
            shop_name: Some(shop_name.into()),
            nav: Section::visible_to(user.role),
            user: Some(user),
            current: Some(current),
            flashes: Vec::new(),
            csrf: csrf.into(),
            live_events_url: "/events".to_owned(),
            setup_steps_left: 0,
            billing_notice: None,
            go_on_to: None,
        }
    }

    pub fn with_flash(mut self, flash: Flash) -> Self {
        self.flashes.push(flash);
        self
    }

    pub fn asset(&self, name: &str) -> String {
        asset_url(name)
    }

    pub fn is_current(&self, section: &Section) -> bool {
        self.current.as_ref() == Some(section)
    }

    pub fn home(&self) -> &'static str {
        if self.user.is_some() {
            paths::OVERVIEW
        } else {
            paths::SIGN_IN
        }
    }

    pub fn sign_out(&self) -> &'static str {
        paths::SIGN_OUT
    }

    pub fn setup(&self) -> &'static str {
        paths::SETUP
    }

    /// The overview has its own, larger reminder; every other page shows this one.
    pub fn show_setup_reminder(&self) -> bool {
        self.setup_steps_left > 0 && self.current != Some(Section::Overview)
    }
}

#[derive(Clone, Debug)]
pub struct SignedInUser {
    pub name: String,
    pub role: Role,
}

impl SignedInUser {
    pub fn role_label(&self) -> &'static str {
        role_label(self.role)
    }
}

/// "Owner", "Manager", "Cashier", as the screens name roles.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Manager => "Manager",
        Role::Cashier => "Cashier",
    }
}

/// The dashboard's sections, in navigation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    Overview,
    Sales,
    Receipts,
    Products,
    Customers,
    Inventory,
    Staff,
    Shifts,
    Branches,
    Tills,
    Conflicts,
    MobileMoney,
    Settings,
    Billing,
}

impl Section {
    pub const ALL: [Section; 14] = [
        Section::Overview,
        Section::Sales,
        Section::Receipts,
        Section::Products,
        Section::Customers,
        Section::Inventory,
        Section::Staff,
        Section::Shifts,
        Section::Branches,
        Section::Tills,
        Section::Conflicts,
        Section::MobileMoney,
        Section::Settings,
        Section::Billing,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::Sales => "Sales",
            Section::Receipts => "Receipts",
            Section::Products => "Products",
            Section::Customers => "Customers",
            Section::Inventory => "Inventory",
            Section::Staff => "Staff",
            Section::Shifts => "Shifts",
            Section::Branches => "Branches",
            Section::Tills => "Tills",
            Section::Conflicts => "Conflicts",
            Section::MobileMoney => "Mobile money",
            Section::Settings => "Settings",
            Section::Billing => "Billing",
        }
    }

    pub fn path(&self) -> &'static str {
        match self {
            Section::Overview => paths::OVERVIEW,
            Section::Sales => paths::SALES,
            Section::Receipts => paths::RECEIPTS,
            Section::Products => paths::PRODUCTS,
            Section::Customers => paths::CUSTOMERS,
            Section::Inventory => paths::INVENTORY,
            Section::Staff => paths::STAFF,
            Section::Shifts => paths::SHIFTS,
            Section::Branches => paths::BRANCHES,
            Section::Tills => paths::TILLS,
            Section::Conflicts => paths::CONFLICTS,
            Section::MobileMoney => paths::MOBILE_MONEY,
            Section::Settings => paths::SETTINGS,
            Section::Billing => paths::BILLING,
        }
    }

    /// The permission a section needs to be listed; the handler still checks its own.
    pub fn permission(&self) -> Permission {
        match self {
            Section::Overview | Section::Sales => Permission::ViewReports,
            Section::Receipts | Section::Customers => Permission::ViewSales,
            Section::Products => Permission::ViewProducts,
            Section::Inventory => Permission::ViewStock,
            Section::Staff => Permission::ViewStaff,
            Section::Shifts => Permission::RunOwnShift,
            Section::Branches => Permission::ViewBranches,
            Section::Tills => Permission::ManageStations,
            Section::Conflicts => Permission::ManageProducts,
            Section::MobileMoney => Permission::ReconcileMomo,
            Section::Settings => Permission::ViewSettings,
            Section::Billing => Permission::ManageBilling,
        }
    }

    /// The sections a role may see, from the permission matrix.
    pub fn visible_to(role: Role) -> Vec<Section> {
        Section::ALL
            .into_iter()
            .filter(|section| role.allows(section.permission()))
            .collect()
    }
}

/// A one-line message shown at the top of the next page ("Product saved.").
#[derive(Clone, Debug)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

impl Flash {
    pub fn success(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Success,
            message: message.into(),
        }
    }

    pub fn info(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Info,
            message: message.into(),
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Warning,
            message: message.into(),
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Error,
            message: message.into(),
        }
    }

    pub fn class(&self) -> &'static str {
        match self.kind {
            FlashKind::Success => "flash success",
            FlashKind::Info => "flash info",
            FlashKind::Warning => "flash warning",
            FlashKind::Error => "flash error",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Info,
    Warning,
    Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_see_the_sections_the_matrix_allows() {
        assert_eq!(Section::visible_to(Role::Owner), Section::ALL.to_vec());
        let manager = Section::visible_to(Role::Manager);
        assert!(manager.contains(&Section::Tills) && manager.contains(&Section::Settings));
        let cashier = Section::visible_to(Role::Cashier);
        assert!(cashier.contains(&Section::Shifts));
        assert!(!cashier.contains(&Section::Sales) && !cashier.contains(&Section::Staff));
    }
}
