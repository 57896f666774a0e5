//! Products: the list, the form, archive, and CSV import and export.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nexus_domain::{CategoryId, Currency, Permission, ProductId, Quantity, TaxClass};
use nexus_server::services::catalogue::{self, ProductEdit, ProductInput};
use nexus_server::services::imports::{self, ImportJob, ImportMode};
use nexus_server::state::AppState;
use nexus_store::{Pack, Product};
use uuid::Uuid;

use super::context::{PageError, Viewer, percent_encode};
use super::input::{Fields, SignedPost, Upload, parse_amount, parse_quantity};
use super::text::form_errors;
use crate::format::Qty;
use crate::forms::FieldErrors;
use crate::views::products::{
    BadLine, ImportState, ImportStatus, PackValues, ProductFormContent, ProductImportContent,
    ProductRow, ProductValues, ProductsContent,
};
use crate::{Flash, Section, paths};

const PRODUCTS_PER_PAGE: u32 = 50;

/// The service's field names where the form's differ.
const PRODUCT_FIELDS: &[(&str, &str)] = &[
    ("price_minor", "price"),
    ("cost_minor", "cost"),
    ("category_id", "category"),
    ("wholesale_price_minor", "wholesale_price"),
];

pub(super) fn values_of(product: &Product, currency: Currency) -> ProductValues {
    ProductValues {
        sku: product.sku.clone(),
        name: product.name.clone(),
        price: currency.format_minor(product.price_minor),
        barcode: product.barcode.clone().unwrap_or_default(),
        tax_class: product.tax_class.as_str().to_owned(),
        reorder_level: product
            .reorder_level
            .map(|level| Qty(level).to_string())
            .unwrap_or_default(),
        category: product
            .category_id
            .map(|category| category.to_string())
            .unwrap_or_default(),
        cost: product
            .cost_minor
            .map(|cost| currency.format_minor(cost))
            .unwrap_or_default(),
        packs: product
            .packs
            .iter()
            .map(|pack| PackValues {
                name: pack.name.clone(),
                units: pack.units.to_string(),
                barcode: pack.barcode.clone().unwrap_or_default(),
                price: currency.format_minor(pack.price_minor),
                wholesale_price: pack
                    .wholesale_price_minor
                    .map(|price| currency.format_minor(price))
                    .unwrap_or_default(),
            })
            .collect(),
        wholesale_price: product
            .wholesale_price_minor
            .map(|price| currency.format_minor(price))
            .unwrap_or_default(),
    }
}

pub(super) fn values_from(form: &Fields) -> ProductValues {
    ProductValues {
        sku: form.text("sku").to_owned(),
        name: form.text("name").to_owned(),
        price: form.text("price").to_owned(),
        barcode: form.text("barcode").to_owned(),
        tax_class: form.text("tax_class").to_owned(),
        reorder_level: form.text("reorder_level").to_owned(),
        category: form.text("category").to_owned(),
        cost: form.text("cost").to_owned(),
        packs: (0..nexus_domain::pack::MAX_PACKS)
            .map(|index| PackValues {
                name: form.text(&format!("pack_name_{index}")).trim().to_owned(),
                units: form.text(&format!("pack_units_{index}")).trim().to_owned(),
                barcode: form
                    .text(&format!("pack_barcode_{index}"))
                    .trim()
                    .to_owned(),
                price: form.text(&format!("pack_price_{index}")).trim().to_owned(),
                wholesale_price: form
                    .text(&format!("pack_wholesale_{index}"))
                    .trim()
                    .to_owned(),
            })
            .filter(|pack| {
                !(pack.name.is_empty()
                    && pack.units.is_empty()
                    && pack.barcode.is_empty()
                    && pack.price.is_empty()
                    && pack.wholesale_price.is_empty())
            })
            .collect(),
        wholesale_price: form.text("wholesale_price").to_owned(),
    }
}

/// The pack rows as packs, or the message for the first row typed wrong.
fn read_packs(values: &ProductValues, currency: Currency) -> Result<Vec<Pack>, String> {
    values
        .packs
        .iter()
        .enumerate()
        .map(|(index, pack)| {
            let row = index + 1;
            if pack.name.is_empty() {
                return Err(format!("Name pack {row}, e.g. carton."));
            }
            let units = pack.units.parse::<u32>().map_err(|_| {
                format!(
                    "Say how many pieces the {} holds, as a whole number such as 24.",
                    pack.name
                )
            })?;
            let price_minor = parse_amount(&pack.price, currency)
                .map_err(|message| format!("The {}'s price: {message}", pack.name))?;
            let wholesale_price_minor = if pack.wholesale_price.is_empty() {
                None
            } else {
                Some(
                    parse_amount(&pack.wholesale_price, currency).map_err(|message| {
                        format!("The {}'s wholesale price: {message}", pack.name)
                    })?,
                )
            };
            Ok(Pack {
                name: pack.name.clone(),
                units,
                barcode: Some(pack.barcode.clone()).filter(|barcode| !barcode.is_empty()),
                price_minor,
                wholesale_price_minor,
            })
        })
        .collect()
}

/// The form's values as a new product, or a message per field typed wrong.
pub(super) fn read_product(
    values: &ProductValues,
    currency: Currency,
) -> Result<ProductInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let price = parse_amount(&values.price, currency)
        .map_err(|message| errors.add("price", message))
        .unwrap_or(0);
    let tax_class = match values.tax_class.as_str() {
        "" => Some(TaxClass::Standard),
        text => match text.parse::<TaxClass>() {
            Ok(class) => Some(class),
            Err(_) => {
                errors.add("tax_class", "Choose one of the tax classes.");
                None
            }
        },
    };
    let reorder_level = if values.reorder_level.is_empty() {
        None
    } else {
        parse_quantity(&values.reorder_level, false)
            .map_err(|message| errors.add("reorder_level", message))
            .ok()
    };
    let cost_minor = if values.cost.trim().is_empty() {
        None
    } else {
        parse_amount(&values.cost, currency)
            .map_err(|message| errors.add("cost", message))
            .ok()
    };
    let category_id = if values.category.is_empty() {
        None
    } else {
        match values.category.parse::<Uuid>() {
            Ok(id) => Some(CategoryId::from_uuid(id)),
            Err(_) => {
                errors.add("category", "Choose one of the categories.");
                None
            }
        }
    };
    let wholesale_price_minor = if values.wholesale_price.trim().is_empty() {
        None
    } else {
        parse_amount(&values.wholesale_price, currency)
            .map_err(|message| errors.add("wholesale_price", message))
            .ok()
    };
    let packs = read_packs(values, currency)
        .map_err(|message| errors.add("packs", message))
        .unwrap_or_default();
    if values.name.is_empty() {
        errors.add("name", "Enter the product's name.");
    }
    if values.sku.is_empty() {
        errors.add(
            "sku",
            "Enter a SKU: the short code you know the product by.",
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ProductInput {
        sku: values.sku.clone(),
        name: values.name.clone(),
        price_minor: price,
        barcode: Some(values.barcode.clone()).filter(|barcode| !barcode.is_empty()),
        tax_class,
        reorder_level,
        category_id,
        cost_minor,
        packs,
        wholesale_price_minor,
    })
}

/// Creates the product the form describes: the product, or the form's errors.
pub(super) async fn create_from_form(
    state: &AppState,
    viewer: &Viewer,
    values: &ProductValues,
) -> Result<Result<Product, FieldErrors>, PageError> {
    let input = match read_product(values, viewer.settings.currency) {
        Ok(input) => input,
        Err(errors) => return Ok(Err(errors)),
    };
    match catalogue::create_product(state, &viewer.auth, input).await {
        Ok(product) => Ok(Ok(product)),
        Err(error) if error.status().is_client_error() => {
            Ok(Err(form_errors(&error, PRODUCT_FIELDS)))
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewProducts)?;
    let search = query.optional("q").map(str::to_owned);
    let after = match query.uuid("after") {
        Ok(after) => after.map(ProductId::from_uuid),
        Err(_) => return Err(PageError::Invalid("That page link is not ours.".to_owned())),
    };
    let page = catalogue::list_products(
        &state,
        &viewer.auth,
        search.clone(),
        after,
        Some(PRODUCTS_PER_PAGE),
        false,
    )
    .await?;
    let query_text = search.unwrap_or_default();
    let next_page_url = page.next_after.map(|after| {
        format!(
            "{}?q={}&after={}",
            paths::PRODUCTS,
            percent_encode(&query_text),
            after.as_uuid()
        )
    });
    let rows = page
        .items
        .iter()
        .map(|product| ProductRow {
            id: product.id.as_uuid(),
            sku: product.sku.clone(),
            name: product.name.clone(),
            barcode: product.barcode.clone(),
            price: viewer.locale.money(product.price_minor),
            tax_class: product.tax_class,
            reorder_level: Qty(product.reorder_level.unwrap_or(Quantity::ZERO)),
        })
        .collect();
    Ok(viewer.page(
        Section::Products,
        ProductsContent {
            csrf: viewer.csrf.clone(),
            query: query_text,
            rows,
            next_page_url,
            can_manage: viewer.may(Permission::ManageProducts),
            export_url: paths::PRODUCTS_EXPORT.to_owned(),
        },
    ))
}

async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    product_id: Option<Uuid>,
    values: ProductValues,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let categories = super::categories::category_choices(state, viewer, &values.category).await?;
    Ok(viewer.page_with(
        status,
        Section::Products,
        ProductFormContent {
            csrf: viewer.csrf.clone(),
            product_id,
            values,
            errors,
            currency_code: viewer.settings.currency.code().to_owned(),
            categories,
        },
    ))
}

pub(crate) async fn new_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    form_page(
        &state,
        &viewer,
        StatusCode::OK,
        None,
        ProductValues::default(),
        FieldErrors::new(),
    )
    .await
}

pub(crate) async fn create(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    let values = values_from(&form);
    match create_from_form(&state, &viewer, &values).await? {
        Ok(product) => Ok(viewer.redirect(
            paths::PRODUCTS,
            Flash::success(format!("{} added.", product.name)),
        )),
        Err(errors) => {
            form_page(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                values,
                errors,
            )
            .await
        }
    }
}

pub(crate) async fn edit_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    let product = catalogue::product(&state, &viewer.auth, ProductId::from_uuid(id)).await?;
    if product.archived_at.is_some() {
        return Err(PageError::NotFound);
    }
    form_page(
        &state,
        &viewer,
        StatusCode::OK,
        Some(id),
        values_of(&product, viewer.settings.currency),
        FieldErrors::new(),
    )
    .await
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    let values = values_from(&form);
    let again = async |errors| {
        form_page(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(id),
            values.clone(),
            errors,
        )
        .await
    };
    let input = match read_product(&values, viewer.settings.currency) {
        Ok(input) => input,
        Err(errors) => return again(errors).await,
    };
    let edit = ProductEdit {
        sku: Some(input.sku),
        name: Some(input.name),
        price_minor: Some(input.price_minor),
        barcode: Some(input.barcode),
        tax_class: input.tax_class,
        reorder_level: Some(input.reorder_level),
        category_id: Some(input.category_id),
        // A cost once set is replaced, not cleared: an empty field leaves it as it is.
        cost_minor: input.cost_minor,
        // The form shows every pack: what it sends is the whole list.
        packs: Some(input.packs),
        // An empty field sells at the retail price on the wholesale list.
        wholesale_price_minor: Some(input.wholesale_price_minor),
    };
    match catalogue::update_product(&state, &viewer.auth, ProductId::from_uuid(id), edit).await {
        Ok(product) => Ok(viewer.redirect(
            paths::PRODUCTS,
            Flash::success(format!("{} saved.", product.name)),
        )),
        Err(error) if error.status() == StatusCode::NOT_FOUND => Err(PageError::NotFound),
        Err(error) if error.status().is_client_error() => {
            again(form_errors(&error, PRODUCT_FIELDS)).await
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn archive(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, .. }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    let product =
        catalogue::archive_product(&state, &viewer.auth, ProductId::from_uuid(id)).await?;
    Ok(viewer.redirect(
        paths::PRODUCTS,
        Flash::success(format!(
            "{} archived. It leaves the tills at their next sync.",
            product.name
        )),
    ))
}

pub(crate) async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewProducts)?;
    let csv = catalogue::export_csv(&state, &viewer.auth).await?;
    Ok(csv_download("products.csv", csv))
}

/// A CSV file to save, never shown inline.
pub(super) fn csv_download(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// An import job as its progress fragment shows it.
pub(super) fn import_status(job: &ImportJob, file_name: &str) -> ImportStatus {
    let state = match job.state.as_str() {
        "running" if job.rows_done == 0 && job.rows_total == 0 => ImportState::Queued,
        "running" => ImportState::Running {
            done_lines: u64::try_from(job.rows_done).unwrap_or(0),
            total_lines: u64::try_from(job.rows_total).unwrap_or(0),
        },
        "failed" if job.rows_done == 0 && !job.errors.is_empty() => ImportState::Finished {
            created: 0,
            updated: 0,
            saved: false,
            bad_lines: bad_lines(job),
        },
        "failed" => ImportState::Failed {
            message: job
                .message
                .clone()
                .unwrap_or_else(|| "the service stopped it; import the file again".to_owned()),
        },
        _ => ImportState::Finished {
            created: job.created as u64,
            updated: job.updated as u64,
            saved: true,
            bad_lines: bad_lines(job),
        },
    };
    ImportStatus {
        status_url: format!(
            "{}/{}?file={}",
            paths::PRODUCTS_IMPORT,
            job.id,
            percent_encode(file_name)
        ),
        file_name: file_name.to_owned(),
        state,
    }
}

fn bad_lines(job: &ImportJob) -> Vec<BadLine> {
    job.errors
        .iter()
        .map(|error| BadLine {
            line: error.line,
            sku: error.sku.clone(),
            column: error.column.clone().unwrap_or_default(),
            problem: super::context::sentence(&error.reason),
        })
        .collect()
}

/// Starts an import from an upload: the job's status, or the form's errors.
pub(super) async fn start_upload(
    state: &AppState,
    upload: &Upload,
    mode: ImportMode,
) -> Result<Result<ImportStatus, FieldErrors>, PageError> {
    let Some((file_name, bytes)) = &upload.file else {
        return Ok(Err(
            FieldErrors::new().with("file", "Choose a CSV file to import.")
        ));
    };
    match imports::start_import(state, &upload.viewer.auth, bytes, mode).await {
        Ok(job) => Ok(Ok(import_status(&job, file_name))),
        Err(error) if error.status().is_client_error() => Ok(Err(
            FieldErrors::new().with("file", super::context::sentence(error.message()))
        )),
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn import_page(viewer: Viewer) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    Ok(viewer.page(
        Section::Products,
        ProductImportContent {
            csrf: viewer.csrf.clone(),
            mode: "all_or_nothing".to_owned(),
            errors: FieldErrors::new(),
            status: None,
        },
    ))
}

pub(crate) async fn import(
    State(state): State<AppState>,
    upload: Upload,
) -> Result<Response, PageError> {
    upload.viewer.require(Permission::ManageProducts)?;
    let mode_text = upload.fields.text("mode").to_owned();
    let mode = match ImportMode::parse(Some(mode_text.as_str()).filter(|m| !m.is_empty())) {
        Ok(mode) => mode,
        Err(_) => ImportMode::AllOrNothing,
    };
    let (status_code, status, errors) = match start_upload(&state, &upload, mode).await? {
        Ok(status) => (StatusCode::ACCEPTED, Some(status), FieldErrors::new()),
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, None, errors),
    };
    let viewer = &upload.viewer;
    Ok(viewer.page_with(
        status_code,
        Section::Products,
        ProductImportContent {
            csrf: viewer.csrf.clone(),
            mode: mode_text,
            errors,
            status,
        },
    ))
}

pub(crate) async fn import_status_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(job): Path<Uuid>,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    let job = imports::import_job(&state, &viewer.auth, job).await?;
    let file = query.optional("file").unwrap_or("the file");
    let status = import_status(&job, file);
    Ok(super::live::fragment(status))
}
