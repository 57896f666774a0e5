//! Staff: who works for the organisation, in which role and at which branches.

use nexus_domain::roles::may_manage_staff_member;
use nexus_domain::{BranchId, Email, NonEmptyText, Password, Pin, Role, UserId};
use nexus_store::{NewUser, UserChange, UserRecord};
use uuid::Uuid;

use crate::auth::{Authenticated, hash_secret};
use crate::error::{ApiError, ApiResult};
use crate::events::Topic;
use crate::state::AppState;

/// Owners see everyone; managers see themselves and the staff who share a branch with them.
fn can_see(auth: &Authenticated, member: &UserRecord) -> bool {
    auth.user.role == Role::Owner
        || member.id == auth.user.id
        || member
            .branch_ids
            .iter()
            .any(|branch| auth.user.branch_ids.contains(branch))
}

/// Managers and cashiers work in branches; only an owner may belong to none.
fn check_has_branch(role: Role, branches: &[BranchId]) -> ApiResult<()> {
    if role != Role::Owner && branches.is_empty() {
        return Err(
            ApiError::validation(format!("a {role} must belong to at least one branch"))
                .with_field("branch_ids"),
        );
    }
    Ok(())
}

/// The member `id`, if the person may see them.
pub async fn member(state: &AppState, auth: &Authenticated, id: Uuid) -> ApiResult<UserRecord> {
    state
        .store
        .get_user(auth.tenant, UserId::from_uuid(id))
        .await?
        .filter(|member| can_see(auth, member))
        .ok_or_else(|| ApiError::not_found("staff member"))
}

pub async fn staff(state: &AppState, auth: &Authenticated) -> ApiResult<Vec<UserRecord>> {
    let mut staff = state.store.list_users(auth.tenant).await?;
    staff.retain(|member| can_see(auth, member));
    Ok(staff)
}

/// Cashiers who only sell at a till need no email. They get an address under this domain
/// (reserved: no mail reaches it, nobody types it), which keeps the login directory's one
/// address per person.
pub const TILL_ONLY_DOMAIN: &str = "till-only.invalid";

/// Whether `email` is the placeholder of a till-only cashier.
pub fn is_till_only(email: &str) -> bool {
    email.ends_with(&format!("@{TILL_ONLY_DOMAIN}"))
}

/// A new member of staff as typed; an empty email for a cashier who only uses a till.
pub struct NewStaff {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub branch_ids: Vec<BranchId>,
    /// For the dashboard and the API; cashiers who only use a till may have none.
    pub password: Option<String>,
    /// 4 to 8 digits, for signing in at a shop station.
    pub pin: Option<String>,
}

pub async fn add_member(
    state: &AppState,
    auth: &Authenticated,
    new: NewStaff,
) -> ApiResult<UserRecord> {
    let role = new.role;
    let now = state.clock.now();
    let id = UserId::generate(now);
    let email = if new.email.trim().is_empty() && role == Role::Cashier {
        Email::parse(&format!("{}@{TILL_ONLY_DOMAIN}", id.as_uuid().simple()))?
    } else {
        Email::parse(&new.email).map_err(|error| ApiError::from(error).with_field("email"))?
    };
    let name = NonEmptyText::parse("name", &new.name, 200)?;
    let password = new.password.as_deref().map(Password::parse).transpose()?;
    let pin = new.pin.as_deref().map(Pin::parse).transpose()?;
    check_has_branch(role, &new.branch_ids)?;
    if !may_manage_staff_member(&auth.actor(), &[role], &new.branch_ids) {
        return Err(ApiError::forbidden(
            "a manager may only add cashiers to their own branches",
        ));
    }
    let password_hash = match password {
        Some(password) => Some(hash_secret(password.expose().to_owned()).await?),
        None => None,
    };
    let pin_hash = match pin {
        Some(pin) => Some(hash_secret(pin.expose().to_owned()).await?),
        None => None,
    };
    let user = NewUser {
        id,
        email,
        name,
        role,
        branch_ids: new.branch_ids,
        password_hash,
        pin_hash,
    };
    let created = state.store.create_user(auth.tenant, user, now).await?;
    state.events.publish(auth.tenant, Topic::Staff).await;
    Ok(created)
}

/// Changes role, branches or active state (deactivating ends every session of theirs).
pub async fn change_member(
    state: &AppState,
    auth: &Authenticated,
    id: Uuid,
    change: UserChange,
) -> ApiResult<UserRecord> {
    if change.role.is_none() && change.branch_ids.is_none() && change.active.is_none() {
        return Err(ApiError::validation(
            "nothing to change: send role, branch_ids or active",
        ));
    }
    let member = member(state, auth, id).await?;
    let new_role = change.role.unwrap_or(member.role);
    let new_branches = change
        .branch_ids
        .clone()
        .unwrap_or_else(|| member.branch_ids.clone());
    let mut touched_branches = member.branch_ids.clone();
    touched_branches.extend(new_branches.iter().copied());
    if !may_manage_staff_member(&auth.actor(), &[member.role, new_role], &touched_branches) {
        return Err(ApiError::forbidden(
            "a manager may only manage cashiers of their own branches",
        ));
    }
    check_has_branch(new_role, &new_branches)?;
    let changed = state
        .store
        .update_user(auth.tenant, &member, change, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("staff member"))?;
    state.events.publish(auth.tenant, Topic::Staff).await;
    Ok(changed)
}

/// Sets a new password or PIN (or both) for the member `id`, with the same rights as any other
/// change of theirs; their sessions go on.
pub async fn set_credentials(
    state: &AppState,
    auth: &Authenticated,
    id: Uuid,
    password: Option<String>,
    pin: Option<String>,
) -> ApiResult<UserRecord> {
    let password = password.as_deref().map(Password::parse).transpose()?;
    let pin = pin.as_deref().map(Pin::parse).transpose()?;
    let member = member(state, auth, id).await?;
    if !may_manage_staff_member(&auth.actor(), &[member.role], &member.branch_ids)
        && member.id != auth.user.id
    {
        return Err(ApiError::forbidden(
            "a manager may only manage cashiers of their own branches",
        ));
    }
    let mut change = UserChange::default();
    if let Some(password) = password {
        change.password_hash = Some(hash_secret(password.expose().to_owned()).await?);
    }
    if let Some(pin) = pin {
        change.pin_hash = Some(hash_secret(pin.expose().to_owned()).await?);
    }
    let changed = state
        .store
        .update_user(auth.tenant, &member, change, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("staff member"))?;
    state.events.publish(auth.tenant, Topic::Staff).await;
    Ok(changed)
}
