//! Branches: the shops of an organisation, each with its own stock.

use nexus_domain::{BranchId, NonEmptyText};
use nexus_store::{Branch, NewBranch};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const NAME_MAX: usize = 120;
const ADDRESS_MAX: usize = 500;

fn parse_address(address: Option<&str>) -> ApiResult<Option<NonEmptyText>> {
    Ok(address
        .filter(|text| !text.trim().is_empty())
        .map(|text| NonEmptyText::parse("address", text, ADDRESS_MAX))
        .transpose()?)
}

/// The branch `id`, if the person may see it.
pub async fn branch(state: &AppState, auth: &Authenticated, id: Uuid) -> ApiResult<Branch> {
    let branch = BranchId::from_uuid(id);
    if !auth.actor().can_see_branch(branch) {
        return Err(ApiError::not_found("branch"));
    }
    state
        .store
        .get_branch(auth.tenant, branch)
        .await?
        .ok_or_else(|| ApiError::not_found("branch"))
}

/// Owners see every branch, others their own; archived ones only when asked.
pub async fn branches(
    state: &AppState,
    auth: &Authenticated,
    include_archived: bool,
) -> ApiResult<Vec<Branch>> {
    let mut branches = state.store.list_branches(auth.tenant).await?;
    branches.retain(|branch| {
        auth.actor().can_see_branch(branch.id) && (include_archived || branch.archived_at.is_none())
    });
    Ok(branches)
}

pub async fn create_branch(
    state: &AppState,
    auth: &Authenticated,
    name: &str,
    address: Option<&str>,
) -> ApiResult<Branch> {
    let name = NonEmptyText::parse("name", name, NAME_MAX)?;
    let address = parse_address(address)?;
    crate::services::billing::check_addition(
        state,
        auth.tenant,
        nexus_domain::billing::Addition::Branch,
    )
    .await?;
    let now = state.clock.now();
    Ok(state
        .store
        .create_branch(
            auth.tenant,
            NewBranch {
                id: BranchId::generate(now),
                name,
                address,
                now,
            },
        )
        .await?)
}

/// Renames, and sets or clears (`Some(None)`) the address.
pub async fn update_branch(
    state: &AppState,
    auth: &Authenticated,
    id: Uuid,
    name: Option<&str>,
    address: Option<Option<&str>>,
) -> ApiResult<Branch> {
    if name.is_none() && address.is_none() {
        return Err(ApiError::validation(
            "nothing to change: send name or address",
        ));
    }
    let name = name
        .map(|name| NonEmptyText::parse("name", name, NAME_MAX))
        .transpose()?;
    let address = address.map(parse_address).transpose()?;
    branch(state, auth, id).await?;
    state
        .store
        .update_branch(
            auth.tenant,
            BranchId::from_uuid(id),
            name,
            address,
            state.clock.now(),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("branch"))
}

/// The branch leaves the lists; its history stays.
pub async fn archive_branch(state: &AppState, auth: &Authenticated, id: Uuid) -> ApiResult<Branch> {
    branch(state, auth, id).await?;
    state
        .store
        .archive_branch(auth.tenant, BranchId::from_uuid(id), state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("branch"))
}
