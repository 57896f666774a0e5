//! Categories of the catalogue: what the item report adds products up by.

use nexus_domain::{CategoryId, NonEmptyText};
use nexus_store::{Category, CategoryChange};

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const NAME_MAX: usize = 80;

fn parse_name(text: &str) -> ApiResult<NonEmptyText> {
    NonEmptyText::parse("name", text, NAME_MAX)
        .map_err(|error| ApiError::validation(error.to_string()).with_field("name"))
}

/// A category name another category has already, whatever its letter case, is a 409.
fn name_taken(error: nexus_store::StoreError, name: &NonEmptyText) -> ApiError {
    match error {
        nexus_store::StoreError::Conflict { .. } => ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "conflict",
            format!("there is a category called {:?} already", name.as_str()),
        )
        .with_field("name"),
        other => other.into(),
    }
}

pub async fn create_category(
    state: &AppState,
    auth: &Authenticated,
    name: &str,
) -> ApiResult<Category> {
    let name = parse_name(name)?;
    let now = state.clock.now();
    state
        .store
        .create_category(auth.tenant, CategoryId::generate(now), name.clone(), now)
        .await
        .map_err(|error| name_taken(error, &name))
}

/// Every category by name, archived ones last when asked for.
pub async fn categories(
    state: &AppState,
    auth: &Authenticated,
    include_archived: bool,
) -> ApiResult<Vec<Category>> {
    let mut all = state.store.list_categories(auth.tenant).await?;
    if include_archived {
        all.sort_by_key(|category| category.archived_at.is_some());
    } else {
        all.retain(|category| category.archived_at.is_none());
    }
    Ok(all)
}

/// How many products (archived ones aside) each category holds; absent means none.
pub async fn product_counts(
    state: &AppState,
    auth: &Authenticated,
) -> ApiResult<std::collections::HashMap<CategoryId, i64>> {
    Ok(state
        .store
        .products_per_category(auth.tenant)
        .await?
        .into_iter()
        .collect())
}

pub async fn update_category(
    state: &AppState,
    auth: &Authenticated,
    id: CategoryId,
    name: Option<&str>,
    archived: Option<bool>,
) -> ApiResult<Category> {
    let name = name.map(parse_name).transpose()?;
    if name.is_none() && archived.is_none() {
        return Err(ApiError::validation(
            "nothing to change: give name or archived",
        ));
    }
    let change = CategoryChange {
        name: name.clone(),
        archived,
    };
    state
        .store
        .update_category(auth.tenant, id, change, state.clock.now())
        .await
        .map_err(|error| match &name {
            Some(name) => name_taken(error, name),
            None => error.into(),
        })?
        .ok_or_else(|| ApiError::not_found("category"))
}
