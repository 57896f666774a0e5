//! Roles and the permission matrix: the one table every route and every sync operation checks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{BranchId, UserId};

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

/// A permission named as a type, so that a request extractor can state in its signature what
/// it needs (`Authorized<permits::Sell>` on the server).
pub trait PermissionMarker: Send + Sync + 'static {
    const PERMISSION: Permission;
}

/// The permission matrix is written once, here: each row makes a [`Permission`] variant, its
/// scope name, its row of [`PERMISSION_MATRIX`] and its marker type in [`permits`].
macro_rules! permissions {
    ($($(#[doc = $doc:literal])* $name:ident = $scope:literal: [$owner:literal, $manager:literal, $cashier:literal],)*) => {
        /// Something a member of staff may be allowed to do.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Permission {
            $($(#[doc = $doc])* $name,)*
        }

        impl Permission {
            /// The permission's name in the API contract (the OpenAPI security scope),
            /// snake_case.
            pub fn scope_name(self) -> &'static str {
                match self {
                    $(Permission::$name => $scope,)*
                }
            }
        }

        /// The permission matrix. Columns: owner, manager, cashier.
        pub const PERMISSION_MATRIX: &[(Permission, [bool; 3])] = &[
            $((Permission::$name, [$owner, $manager, $cashier]),)*
        ];

        /// One marker type per permission, for [`PermissionMarker`].
        pub mod permits {
            $(
                $(#[doc = $doc])*
                #[derive(Debug)]
                pub struct $name;

                impl super::PermissionMarker for $name {
                    const PERMISSION: super::Permission = super::Permission::$name;
                }
            )*
        }
    };
}

permissions! {
    //                                                   owner  manager cashier
    /// Read one's own profile and sign out.
    ViewOwnProfile = "view_own_profile":               [true,  true,  true],
    /// See branches (owners see all, others the branches they are assigned to).
    ViewBranches = "view_branches":                    [true,  true,  true],
    /// Create, rename and archive branches.
    ManageBranches = "manage_branches":                [true,  false, false],
    /// See the staff list (managers see the staff of their branches).
    ViewStaff = "view_staff":                          [true,  true,  false],
    /// Create staff, change roles and branches, deactivate.
    ManageStaff = "manage_staff":                      [true,  true,  false],
    /// Read the organisation's settings and tax rates (a till needs them to price a sale).
    ViewSettings = "view_settings":                    [true,  true,  true],
    /// Change currency, tax rates, pricing mode and time zone.
    ManageSettings = "manage_settings":                [true,  false, false],
    /// Read the catalogue.
    ViewProducts = "view_products":                    [true,  true,  true],
    /// Create and edit products and prices.
    ManageProducts = "manage_products":                [true,  true,  false],
    /// See stock levels and stock alerts (others than owners: of their own branches).
    ViewStock = "view_stock":                          [true,  true,  true],
    /// Receive goods, adjust and count stock, transfer between branches.
    ManageStock = "manage_stock":                      [true,  true,  false],
    /// Sales reports and exports.
    ViewReports = "view_reports":                      [true,  true,  false],
    /// Ring up sales.
    Sell = "sell":                                     [true,  true,  true],
    /// Sell at a price other than the catalogue's.
    SetPrice = "set_price":                            [true,  true,  false],
    /// Look up recorded sales (others than owners: of their own branches).
    ViewSales = "view_sales":                          [true,  true,  true],
    /// Refunds and voids of one's own sales.
    Refund = "refund":                                 [true,  true,  true],
    /// Refunds and voids of sales someone else rang up, on top of [`Permission::Refund`].
    RefundAnySale = "refund_any_sale":                 [true,  true,  false],
    /// Open and close one's own shift.
    RunOwnShift = "run_own_shift":                     [true,  true,  true],
    /// Close a shift someone else opened, on top of [`Permission::RunOwnShift`].
    CloseAnyShift = "close_any_shift":                 [true,  true,  false],
    /// Create customers from the dashboard or the API, put them on the wholesale list and set
    /// their credit limit (a till records walk-in customers with [`Permission::Sell`]).
    ManageCustomers = "manage_customers":              [true,  true,  false],
    /// Enrol and revoke shop stations.
    ManageStations = "manage_stations":                [true,  true,  false],
    /// Plans, invoices and payment methods.
    ManageBilling = "manage_billing":                  [true,  false, false],
    /// Upload mobile-money statements, see the reconciliation and sign off its exceptions.
    ReconcileMomo = "reconcile_momo":                  [true,  true,  false],
}

impl Permission {
    /// Every permission, in matrix order.
    pub fn all() -> impl Iterator<Item = Permission> {
        PERMISSION_MATRIX.iter().map(|row| row.0)
    }

    pub fn from_scope_name(name: &str) -> Option<Permission> {
        Permission::all().find(|permission| permission.scope_name() == name)
    }
}

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

/// Whose sales a member of staff may refund or void: their own with [`Permission::Refund`],
/// anyone's with [`Permission::RefundAnySale`] as well. `seller` rang the sale up.
pub fn may_return_sale(role: Role, actor: UserId, seller: UserId) -> Result<(), NotTheirSale> {
    let allowed = role.allows(Permission::Refund)
        && (actor == seller || role.allows(Permission::RefundAnySale));
    if allowed {
        Ok(())
    } else {
        Err(NotTheirSale { role })
    }
}

/// A return refused by [`may_return_sale`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {role} may only refund or void their own sales; ask a manager")]
pub struct NotTheirSale {
    pub role: Role,
}

/// Whose shift a member of staff may close: their own with [`Permission::RunOwnShift`],
/// anyone's with [`Permission::CloseAnyShift`] as well. `opener` opened the shift.
pub fn may_close_shift(role: Role, actor: UserId, opener: UserId) -> bool {
    role.allows(Permission::RunOwnShift)
        && (actor == opener || role.allows(Permission::CloseAnyShift))
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
    fn cashiers_return_and_close_only_their_own() {
        let at = UnixMillis::from_millis(0);
        let (me, someone) = (UserId::generate(at), UserId::generate(at));
        assert!(may_return_sale(Role::Cashier, me, me).is_ok());
        assert_eq!(
            may_return_sale(Role::Cashier, me, someone).map_err(|error| error.to_string()),
            Err("a cashier may only refund or void their own sales; ask a manager".to_owned())
        );
        assert!(may_return_sale(Role::Manager, me, someone).is_ok());
        assert!(may_return_sale(Role::Owner, me, someone).is_ok());
        assert!(may_close_shift(Role::Cashier, me, me));
        assert!(!may_close_shift(Role::Cashier, me, someone));
        assert!(may_close_shift(Role::Manager, me, someone));
    }

    #[test]
    fn every_permission_has_a_marker_naming_it() {
        fn named<P: PermissionMarker>(_: P) -> Permission {
            P::PERMISSION
        }
        assert_eq!(named(permits::Sell), Permission::Sell);
        assert_eq!(named(permits::RefundAnySale), Permission::RefundAnySale);
        assert_eq!(Permission::all().count(), PERMISSION_MATRIX.len());
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
