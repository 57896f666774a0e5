//! Categories: the list with its add, rename, archive and bring-back forms, and the choices
//! the product form offers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::{CategoryId, Permission};
use nexus_server::services::categories;
use nexus_server::state::AppState;
use uuid::Uuid;

use super::context::{PageError, Viewer, sentence};
use super::input::SignedPost;
use super::text::form_errors;
use crate::forms::{Choice, FieldErrors};
use crate::views::categories::{CategoriesContent, CategoryRow};
use crate::{Flash, Section, paths};

/// The categories a product can be put in, `selected` (a category id, or "") chosen. An
/// archived category stays offered to the product that is in it already, so saving the form
/// does not take it out.
pub(super) async fn category_choices(
    state: &AppState,
    viewer: &Viewer,
    selected: &str,
) -> Result<Vec<Choice>, PageError> {
    Ok(categories::categories(state, &viewer.auth, true)
        .await?
        .into_iter()
        .filter(|category| category.archived_at.is_none() || category.id.to_string() == selected)
        .map(|category| {
            let value = category.id.to_string();
            let chosen = value == selected;
            Choice::new(value, category.name).selected_if(chosen)
        })
        .collect())
}

async fn content(
    state: &AppState,
    viewer: &Viewer,
    name: String,
    errors: FieldErrors,
) -> Result<CategoriesContent, PageError> {
    let counts = categories::product_counts(state, &viewer.auth).await?;
    let rows = categories::categories(state, &viewer.auth, true)
        .await?
        .into_iter()
        .map(|category| CategoryRow {
            id: category.id.as_uuid(),
            products: counts
                .get(&category.id)
                .and_then(|count| u64::try_from(*count).ok())
                .unwrap_or(0),
            archived: category.archived_at.is_some(),
            name: category.name,
        })
        .collect();
    Ok(CategoriesContent {
        csrf: viewer.csrf.clone(),
        rows,
        can_manage: viewer.may(Permission::ManageProducts),
        name,
        errors,
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewProducts)?;
    let content = content(&state, &viewer, String::new(), FieldErrors::new()).await?;
    Ok(viewer.page(Section::Products, content))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    let name = form.text("name").to_owned();
    match categories::create_category(&state, &viewer.auth, &name).await {
        Ok(category) => Ok(viewer.redirect(
            paths::CATEGORIES,
            Flash::success(format!("{} added.", category.name)),
        )),
        Err(error) if error.status().is_client_error() => {
            let errors = form_errors(&error, &[]);
            let content = content(&state, &viewer, name, errors).await?;
            Ok(viewer.page_with(StatusCode::UNPROCESSABLE_ENTITY, Section::Products, content))
        }
        Err(error) => Err(error.into()),
    }
}

/// Renames (field `name`), archives or brings back (field `archived`).
pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    let archived = match form.optional("archived") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(PageError::Invalid("That form is not ours.".to_owned())),
    };
    let name = form.optional("name");
    let changed = categories::update_category(
        &state,
        &viewer.auth,
        CategoryId::from_uuid(id),
        name,
        archived,
    )
    .await;
    match changed {
        Ok(category) => {
            let done = match archived {
                Some(true) => format!(
                    "{} archived. Its products keep it in the reports.",
                    category.name
                ),
                Some(false) => format!("{} is back.", category.name),
                None => format!("Renamed to {}.", category.name),
            };
            Ok(viewer.redirect(paths::CATEGORIES, Flash::success(done)))
        }
        Err(error) if error.status() == StatusCode::NOT_FOUND => Err(PageError::NotFound),
        Err(error) if error.status().is_client_error() => {
            Ok(viewer.redirect(paths::CATEGORIES, Flash::error(sentence(error.message()))))
        }
        Err(error) => Err(error.into()),
    }
}
