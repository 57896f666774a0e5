//! Roles and the permission matrix: the one table every route and every sync operation checks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::BranchId;

/// A member of staff's role inside one tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Everything, including billing and staff.
    Owner,
    /// Products, stock, reports, and the cashiers of their own branches.
    Manager,
    /// Sells, refunds within limits, runs their own shift.
    Cashier,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Manager, Role::Cashier];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Cashier => "cashier",
        }
    }

    const fn column(self) -> usize {
        match self {
            Role::Owner => 0,
            Role::Manager => 1,
            Role::Cashier => 2,
        }
    }

    /// The largest discount this role gives on its own authority, in basis points of the
    /// amount discounted (a line's shelf amount, or the basket's): cashiers 10 %, managers
    /// 50 %, owners anything. The till and the server both hold a sale to it.
    pub const fn max_discount_basis_points(self) -> i64 {
        match self {
            Role::Owner => 10_000,
            Role::Manager => 5_000,
            Role::Cashier => 1_000,
        }
    }

    /// The most this role may take off `amount_minor`, rounded down to the minor unit.
    pub fn max_discount_minor(self, amount_minor: i64) -> i64 {
        let limit =
            i128::from(amount_minor.max(0)) * i128::from(self.max_discount_basis_points()) / 10_000;
        i64::try_from(limit).unwrap_or(i64::MAX)
    }

    /// Whether this role may take `discount_minor` off `amount_minor`.
    pub fn may_discount(self, discount_minor: i64, amount_minor: i64) -> bool {
        discount_minor <= self.max_discount_minor(amount_minor)
    }

    /// Whether this role may do `permission` at all. Scope rules (which branches, which staff)
    /// come on top of this; see [`may_manage_staff_member`].
    pub fn allows(self, permission: Permission) -> bool {
        PERMISSION_MATRIX
            .iter()
            .find(|row| row.0 == permission)
            .is_some_and(|row| row.1[self.column()])
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}: expected owner, manager or cashier")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "owner" => Ok(Role::Owner),
            "manager" => Ok(Role::Manager),
            "cashier" => Ok(Role::Cashier),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// Something a member of staff may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read one's own profile and sign out.
    ViewOwnProfile,
    /// See branches (owners see all, others the branches they are assigned to).
    ViewBranches,
    /// Create, rename and archive branches.
    ManageBranches,
    /// See the staff list (managers see the staff of their branches).
    ViewStaff,
    /// Create staff, change roles and branches, deactivate.
    ManageStaff,
    /// Read the organisation's settings and tax rates (a till needs them to price a sale).
    ViewSettings,
    /// Change currency, tax rates, pricing mode and time zone.
    ManageSettings,
    /// Read the catalogue.
    ViewProducts,
    /// Create and edit products and prices.
    ManageProducts,
    /// See stock levels and stock alerts (others than owners: of their own branches).
    ViewStock,
    /// Receive goods, adjust and count stock, transfer between branches.
    ManageStock,
    /// Sales reports and exports.
    ViewReports,
    /// Ring up sales.
    Sell,
    /// Look up recorded sales (others than owners: of their own branches).
    ViewSales,
    /// Refunds and voids, within the role's limits.
    Refund,
    /// Open and close one's own shift.
    RunOwnShift,
    /// Enrol and revoke shop stations.
    ManageStations,
    /// Plans, invoices and payment methods.
    ManageBilling,
}

impl Permission {
    /// Every permission, in matrix order.
    pub fn all() -> impl Iterator<Item = Permission> {
        PERMISSION_MATRIX.iter().map(|row| row.0)
    }

    /// The permission's name in the API contract (the OpenAPI security scope), snake_case.
    pub fn scope_name(self) -> &'static str {
        match self {
            Permission::ViewOwnProfile => "view_own_profile",
            Permission::ViewBranches => "view_branches",
            Permission::ManageBranches => "manage_branches",
            Permission::ViewStaff => "view_staff",
            Permission::ManageStaff => "manage_staff",
            Permission::ViewSettings => "view_settings",
            Permission::ManageSettings => "manage_settings",
            Permission::ViewProducts => "view_products",
            Permission::ManageProducts => "manage_products",
            Permission::ViewStock => "view_stock",
            Permission::ManageStock => "manage_stock",
            Permission::ViewReports => "view_reports",
            Permission::Sell => "sell",
            Permission::ViewSales => "view_sales",
            Permission::Refund => "refund",
            Permission::RunOwnShift => "run_own_shift",
            Permission::ManageStations => "manage_stations",
            Permission::ManageBilling => "manage_billing",
        }
    }

    pub fn from_scope_name(name: &str) -> Option<Permission> {
        Permission::all().find(|permission| permission.scope_name() == name)
    }
}

/// The permission matrix. Columns: owner, manager, cashier.
pub const PERMISSION_MATRIX: &[(Permission, [bool; 3])] = &[
    (Permission::ViewOwnProfile, [true, true, true]),
    (Permission::ViewBranches, [true, true, true]),
    (Permission::ManageBranches, [true, false, false]),
    (Permission::ViewStaff, [true, true, false]),
    (Permission::ManageStaff, [true, true, false]),
    (Permission::ViewSettings, [true, true, true]),
    (Permission::ManageSettings, [true, false, false]),
    (Permission::ViewProducts, [true, true, true]),
    (Permission::ManageProducts, [true, true, false]),
    (Permission::ViewStock, [true, true, true]),
    (Permission::ManageStock, [true, true, false]),
    (Permission::ViewReports, [true, true, false]),
    (Permission::Sell, [true, true, true]),
    (Permission::ViewSales, [true, true, true]),
    (Permission::Refund, [true, true, true]),
    (Permission::RunOwnShift, [true, true, true]),
    (Permission::ManageStations, [true, true, false]),
    (Permission::ManageBilling, [true, false, false]),
];

/// Who is acting, as far as scope rules care.
#[derive(Clone, Debug)]
pub struct Actor<'a> {
    pub role: Role,
    pub branches: &'a [BranchId],
}

impl Actor<'_> {
    /// Owners see every branch; everyone else only the branches they are assigned to.
    pub fn can_see_branch(&self, branch: BranchId) -> bool {
        self.role == Role::Owner || self.branches.contains(&branch)
    }
}

/// The staff-scope rule on top of [`Permission::ManageStaff`]: an owner manages anyone; a manager
/// manages only cashiers, and only when every branch the cashier has (before and after the change)
/// is one of the manager's own. `target_branches` is the union of the branches before and after.
pub fn may_manage_staff_member(
    actor: &Actor<'_>,
    target_roles: &[Role],
    target_branches: &[BranchId],
) -> bool {
    if !actor.role.allows(Permission::ManageStaff) {
        return false;
    }
    match actor.role {
        Role::Owner => true,
        Role::Manager => {
            target_roles.iter().all(|role| *role == Role::Cashier)
                && target_branches
                    .iter()
                    .all(|branch| actor.branches.contains(branch))
        }
        Role::Cashier => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::UnixMillis;

    #[test]
    fn discount_limits_rise_with_the_role() {
        // 10 % of 12.50 is exactly 1.25; a pesewa more is a manager's call.
        assert!(Role::Cashier.may_discount(125, 1250));
        assert!(!Role::Cashier.may_discount(126, 1250));
        assert!(Role::Manager.may_discount(625, 1250));
        assert!(!Role::Manager.may_discount(626, 1250));
        assert!(Role::Owner.may_discount(1250, 1250));
        assert!(Role::Cashier.may_discount(0, 0));
    }

    #[test]
    fn every_permission_has_exactly_one_row() {
        for (index, (permission, _)) in PERMISSION_MATRIX.iter().enumerate() {
            let later = PERMISSION_MATRIX[index + 1..]
                .iter()
                .filter(|row| row.0 == *permission);
            assert_eq!(later.count(), 0, "{permission:?} appears twice");
        }
    }

    #[test]
    fn owner_may_do_everything_and_cashier_no_admin() {
        for (permission, _) in PERMISSION_MATRIX {
            assert!(Role::Owner.allows(*permission), "{permission:?}");
        }
        for permission in [
            Permission::ManageStaff,
            Permission::ManageBranches,
            Permission::ManageBilling,
        ] {
            assert!(!Role::Cashier.allows(permission));
        }
        assert!(!Role::Manager.allows(Permission::ManageBilling));
    }

    #[test]
    fn managers_manage_only_cashiers_of_their_branches() {
        let at = UnixMillis::from_millis(0);
        let (mine, theirs) = (BranchId::generate(at), BranchId::generate(at));
        let manager = Actor {
            role: Role::Manager,
            branches: &[mine],
        };
        assert!(may_manage_staff_member(&manager, &[Role::Cashier], &[mine]));
        assert!(!may_manage_staff_member(
            &manager,
            &[Role::Cashier],
            &[mine, theirs]
        ));
        assert!(!may_manage_staff_member(
            &manager,
            &[Role::Manager],
            &[mine]
        ));
        assert!(!may_manage_staff_member(
            &manager,
            &[Role::Cashier, Role::Owner],
            &[mine]
        ));
        let owner = Actor {
            role: Role::Owner,
            branches: &[],
        };
        assert!(may_manage_staff_member(&owner, &[Role::Owner], &[theirs]));
        let cashier = Actor {
            role: Role::Cashier,
            branches: &[mine],
        };
        assert!(!may_manage_staff_member(
            &cashier,
            &[Role::Cashier],
            &[mine]
        ));
    }

    #[test]
    fn scope_names_are_unique_and_round_trip() {
        for permission in Permission::all() {
            assert_eq!(
                Permission::from_scope_name(permission.scope_name()),
                Some(permission)
            );
        }
        assert_eq!(Permission::from_scope_name("root"), None);
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        assert!("Owner".parse::<Role>().is_err());
        assert!("admin".parse::<Role>().is_err());
    }
}
