//! Browsing the catalogue by category, for goods with no barcode to scan: a category's products
//! as buttons, each adding one to the cart as a scan of its SKU would.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::TillQuery;
use super::{BannerView, PageResult, ScreenState, money, page, to_sign_in};

/// The most products one category shows; more is a list to search, not to browse.
const PRODUCTS_SHOWN: u32 = 200;

pub(super) struct CategoryView {
    pub id: Uuid,
    pub name: String,
    pub products: i64,
}

pub(super) struct ProductView {
    pub sku: String,
    pub name: String,
    pub price: String,
}

#[derive(Template)]
#[template(path = "browse.html")]
pub(super) struct BrowseTemplate {
    banner: BannerView,
    categories: Vec<CategoryView>,
    /// The category open, with its products.
    open: Option<(String, Vec<ProductView>)>,
}

#[derive(Deserialize)]
pub(super) struct BrowseQuery {
    category: Option<Uuid>,
}

pub(super) async fn browse_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillQuery(query): TillQuery<BrowseQuery>,
) -> PageResult {
    let Some(cashier) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let categories = screen.station.categories().await?;
    let open = match query.category {
        None => None,
        Some(wanted) => {
            let name = categories
                .iter()
                .find(|(category, _)| category.id.as_uuid() == wanted)
                .map(|(category, _)| category.name.clone());
            match name {
                None => None,
                Some(name) => {
                    let settings = screen.station.till_settings().await?;
                    let list = screen
                        .cart(&headers)
                        .map(|cart| cart.price_list())
                        .unwrap_or_default();
                    let products = screen
                        .station
                        .products_in_category(wanted, PRODUCTS_SHOWN)
                        .await?
                        .into_iter()
                        .map(|product| ProductView {
                            price: money(settings.currency, product.price_on(list)),
                            sku: product.sku,
                            name: product.name,
                        })
                        .collect();
                    Some((name, products))
                }
            }
        }
    };
    page(&BrowseTemplate {
        banner: screen.banner(Some(&cashier)).await?,
        categories: categories
            .into_iter()
            .map(|(category, products)| CategoryView {
                id: category.id.as_uuid(),
                name: category.name,
                products,
            })
            .collect(),
        open,
    })
}
