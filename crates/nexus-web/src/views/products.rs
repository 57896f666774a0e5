//! Products: the searchable list, the create and edit form, and CSV import with its progress.

use askama::Template;
use nexus_domain::TaxClass;
use uuid::Uuid;

use crate::format::{Money, Qty};
use crate::forms::{Choice, FieldErrors};
use crate::paths;
use crate::views::common::{tax_class_choices, tax_class_label};
use crate::{fragment, html_safe};

/// `GET /products?q=&after=`: the catalogue, a page at a time.
#[derive(Template)]
#[template(path = "products/list.html")]
pub struct ProductsContent {
    pub csrf: String,
    /// What was searched for (barcode, SKU or part of the name).
    pub query: String,
    pub rows: Vec<ProductRow>,
    /// The keyset link to the next page, `None` on the last one.
    pub next_page_url: Option<String>,
    /// Owners and managers: the add, edit, archive, import and export controls.
    pub can_manage: bool,
    pub export_url: String,
}

#[derive(Clone, Debug)]
pub struct ProductRow {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub barcode: Option<String>,
    pub price: Money,
    pub tax_class: TaxClass,
    pub reorder_level: Qty,
}

impl ProductRow {
    pub fn edit_url(&self) -> String {
        paths::product_edit(&self.id)
    }
    pub fn archive_url(&self) -> String {
        paths::product_archive(&self.id)
    }
    pub fn tax_label(&self) -> &'static str {
        tax_class_label(self.tax_class)
    }
}

impl ProductsContent {
    pub fn search_url(&self) -> &'static str {
        paths::PRODUCTS
    }
    pub fn new_url(&self) -> &'static str {
        paths::PRODUCT_NEW
    }
    pub fn import_url(&self) -> &'static str {
        paths::PRODUCTS_IMPORT
    }
    pub fn categories_url(&self) -> &'static str {
        paths::CATEGORIES
    }
}

fragment!(ProductsContent, |_page| "Products");

/// What the product form keeps between tries; the price in major units ("12.50").
#[derive(Clone, Debug, Default)]
pub struct ProductValues {
    pub sku: String,
    pub name: String,
    pub price: String,
    pub barcode: String,
    /// "standard", "exempt" or "zero_rated".
    pub tax_class: String,
    pub reorder_level: String,
    /// The category's id, "" for none.
    pub category: String,
    /// What one unit costs the shop, in major units; "" while unknown.
    pub cost: String,
    /// The product's packs as typed; the form adds a blank row for a new one.
    pub packs: Vec<PackValues>,
    /// Its price on the wholesale list, in major units; "" for the retail price.
    pub wholesale_price: String,
}

/// One pack row of the product form (fields `pack_name_N`, `pack_units_N`, `pack_barcode_N`,
/// `pack_price_N`); a row left blank is no pack.
#[derive(Clone, Debug, Default)]
pub struct PackValues {
    pub name: String,
    pub units: String,
    pub barcode: String,
    /// In major units.
    pub price: String,
    /// In major units; "" for the retail price.
    pub wholesale_price: String,
}

impl ProductValues {
    /// The pack rows to show: those typed, and one blank to add another (up to the limit).
    pub fn pack_rows(&self) -> Vec<(usize, PackValues)> {
        let mut rows: Vec<PackValues> = self.packs.clone();
        if rows.len() < nexus_domain::pack::MAX_PACKS {
            rows.push(PackValues::default());
        }
        rows.into_iter().enumerate().collect()
    }

    pub fn tax_classes(&self) -> Vec<Choice> {
        tax_class_choices(if self.tax_class.is_empty() {
            "standard"
        } else {
            &self.tax_class
        })
    }
}

/// `GET /products/new`, `GET /products/{id}/edit`; posts to `/products` or `/products/{id}`.
/// Fields: sku, name, price, barcode, tax_class, reorder_level, category, cost.
#[derive(Template)]
#[template(path = "products/form.html")]
pub struct ProductFormContent {
    pub csrf: String,
    /// `None` for a new product.
    pub product_id: Option<Uuid>,
    pub values: ProductValues,
    pub errors: FieldErrors,
    /// "GHS": shown beside the price field.
    pub currency_code: String,
    /// The categories a product can go in, the product's own selected.
    pub categories: Vec<Choice>,
}

impl ProductFormContent {
    pub fn action(&self) -> String {
        match &self.product_id {
            Some(id) => paths::product(id),
            None => paths::PRODUCTS.to_owned(),
        }
    }
    pub fn archive_url(&self) -> Option<String> {
        self.product_id.as_ref().map(paths::product_archive)
    }
    pub fn back(&self) -> &'static str {
        paths::PRODUCTS
    }
    pub fn categories_url(&self) -> &'static str {
        paths::CATEGORIES
    }
}

fragment!(ProductFormContent, |page| if page.product_id.is_some() {
    format!("Edit {}", page.values.name)
} else {
    "Add a product".to_owned()
});

/// `GET/POST /products/import`: a file input (multipart field `file`, and `mode`), then the
/// job's progress. Fields: file, mode ("all_or_nothing" or "valid_rows").
#[derive(Template)]
#[template(path = "products/import.html")]
pub struct ProductImportContent {
    pub csrf: String,
    pub mode: String,
    pub errors: FieldErrors,
    /// The running or finished import, when there is one.
    pub status: Option<ImportStatus>,
}

impl ProductImportContent {
    pub fn action(&self) -> &'static str {
        paths::PRODUCTS_IMPORT
    }
    pub fn export_url(&self) -> &'static str {
        paths::PRODUCTS_EXPORT
    }
    pub fn back(&self) -> &'static str {
        paths::PRODUCTS
    }
    pub fn all_or_nothing(&self) -> bool {
        self.mode != "valid_rows"
    }
}

fragment!(
    ProductImportContent,
    |_page| "Import products from a CSV file"
);

/// An import job, as its status fragment shows it. While it runs, the fragment polls
/// `status_url` every second (htmx `every 1s`, swapping itself); once finished it stops.
#[derive(Clone, Debug, Template)]
#[template(path = "products/import_status.html")]
pub struct ImportStatus {
    /// The URL answering this same fragment with the job's latest state.
    pub status_url: String,
    pub file_name: String,
    pub state: ImportState,
}

#[derive(Clone, Debug)]
pub enum ImportState {
    Queued,
    Running {
        done_lines: u64,
        total_lines: u64,
    },
    Finished {
        created: u64,
        updated: u64,
        /// In all-or-nothing mode any bad line means nothing was saved.
        saved: bool,
        bad_lines: Vec<BadLine>,
    },
    Failed {
        message: String,
    },
}

/// A line of the file that could not be imported.
#[derive(Clone, Debug)]
pub struct BadLine {
    /// The line number in the file, header included (as a spreadsheet shows it).
    pub line: u64,
    pub sku: String,
    /// The column at fault ("price"), or empty for the whole line.
    pub column: String,
    pub problem: String,
}

impl ImportStatus {
    pub fn is_running(&self) -> bool {
        matches!(
            self.state,
            ImportState::Queued | ImportState::Running { .. }
        )
    }

    /// (done, total, percent) while running.
    pub fn progress(&self) -> Option<(u64, u64, u64)> {
        match self.state {
            ImportState::Running {
                done_lines,
                total_lines,
            } => {
                let percent = (done_lines.saturating_mul(100))
                    .checked_div(total_lines)
                    .unwrap_or(0)
                    .min(100);
                Some((done_lines, total_lines.max(done_lines), percent))
            }
            _ => None,
        }
    }
}

html_safe!(ImportStatus);
