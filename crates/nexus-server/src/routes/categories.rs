//! Categories of the catalogue, which the item report adds products up by.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use nexus_domain::CategoryId;
use nexus_store::Category;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authorized, permits};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::services::categories;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryQuery {
    /// Archived categories too, after the others.
    #[serde(default)]
    include_archived: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CategoryList {
    /// By name.
    items: Vec<Category>,
}

/// `GET /api/v1/categories`
#[utoipa::path(get, path = "/api/v1/categories", tag = "products", params(CategoryQuery), security(("bearer" = ["view_products"])),
    responses((status = 200, body = CategoryList), crate::error::CommonErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authorized<permits::ViewProducts>,
    ApiQuery(query): ApiQuery<CategoryQuery>,
) -> ApiResult<Json<CategoryList>> {
    let items = categories::categories(&state, &auth, query.include_archived).await?;
    Ok(Json(CategoryList { items }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCategoryRequest {
    /// 1 to 80 characters; unique whatever the letter case.
    name: String,
}

/// `POST /api/v1/categories`: a name taken already (in any letter case) is a 409.
#[utoipa::path(post, path = "/api/v1/categories", tag = "products", request_body = CreateCategoryRequest, security(("bearer" = ["manage_products"])),
    responses((status = 201, body = nexus_store::Category), crate::error::CommonErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiJson(request): ApiJson<CreateCategoryRequest>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    let created = categories::create_category(&state, &auth, &request.name).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateCategoryRequest {
    name: Option<String>,
    /// `true` archives it (its products keep it, no product can be put in it); `false` brings
    /// it back.
    archived: Option<bool>,
}

/// `PATCH /api/v1/categories/{id}`: rename, archive or bring back.
#[utoipa::path(patch, path = "/api/v1/categories/{id}", tag = "products", params(("id" = uuid::Uuid, Path, description = "The resource id")), request_body = UpdateCategoryRequest, security(("bearer" = ["manage_products"])),
    responses((status = 200, body = nexus_store::Category), crate::error::CommonErrors))]
pub(crate) async fn update(
    State(state): State<AppState>,
    auth: Authorized<permits::ManageProducts>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateCategoryRequest>,
) -> ApiResult<Json<Category>> {
    Ok(Json(
        categories::update_category(
            &state,
            &auth,
            CategoryId::from_uuid(id),
            request.name.as_deref(),
            request.archived,
        )
        .await?,
    ))
}
