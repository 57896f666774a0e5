//! Categories of the catalogue: the list, with add, rename, archive and bring back.

use askama::Template;
use uuid::Uuid;

use crate::forms::FieldErrors;
use crate::fragment;
use crate::paths;

#[derive(Clone, Debug)]
pub struct CategoryRow {
    pub id: Uuid,
    pub name: String,
    /// How many products are in it.
    pub products: u64,
    pub archived: bool,
}

impl CategoryRow {
    pub fn update_url(&self) -> String {
        paths::category(&self.id)
    }
    pub fn report_url(&self) -> String {
        format!("{}?group=category", paths::ITEMS)
    }
}

/// `GET /products/categories`; posts to `/products/categories` (field `name`) and to
/// `/products/categories/{id}` (fields `name`, or `archived` = true or false).
#[derive(Template)]
#[template(path = "products/categories.html")]
pub struct CategoriesContent {
    pub csrf: String,
    /// Categories in use first, then archived ones.
    pub rows: Vec<CategoryRow>,
    pub can_manage: bool,
    /// What the add form keeps after a refused try.
    pub name: String,
    pub errors: FieldErrors,
}

impl CategoriesContent {
    pub fn action(&self) -> &'static str {
        paths::CATEGORIES
    }
    pub fn products_url(&self) -> &'static str {
        paths::PRODUCTS
    }
    pub fn items_url(&self) -> String {
        format!("{}?group=category", paths::ITEMS)
    }
}

fragment!(CategoriesContent, |_page| "Categories");
