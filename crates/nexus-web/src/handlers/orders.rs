//! Purchase orders from the inventory pages: suppliers, a new order, an order's receipts and
//! its close, on the same services as `/api/v1/purchase-orders`.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::{BranchId, Permission, ProductId, Quantity};
use nexus_server::services::{self, purchasing};
use nexus_server::state::AppState;
use uuid::Uuid;

use super::context::{PageError, Viewer, sentence};
use super::input::{Fields, SignedPost, parse_amount, parse_quantity};
use super::text::form_errors;
use crate::format::Qty;
use crate::forms::{Choice, FieldErrors};
use crate::views::orders::{OrderContent, OrderLineRow, OrderLineValues, OrderRow, OrdersContent};
use crate::{Flash, Section, paths};

const FORM_LINES: usize = 5;

async fn branch_names(
    state: &AppState,
    viewer: &Viewer,
) -> Result<HashMap<BranchId, String>, PageError> {
    Ok(services::branches::branches(state, &viewer.auth, true)
        .await?
        .into_iter()
        .map(|branch| (branch.id, branch.name))
        .collect())
}

async fn supplier_names(
    state: &AppState,
    viewer: &Viewer,
) -> Result<HashMap<Uuid, String>, PageError> {
    Ok(purchasing::suppliers(state, &viewer.auth)
        .await?
        .into_iter()
        .map(|supplier| (supplier.id, supplier.name))
        .collect())
}

struct OrderForm {
    supplier: String,
    branch: String,
    lines: Vec<OrderLineValues>,
    errors: FieldErrors,
    supplier_name: String,
    supplier_errors: FieldErrors,
}

impl Default for OrderForm {
    fn default() -> Self {
        Self {
            supplier: String::new(),
            branch: String::new(),
            lines: vec![OrderLineValues::default(); FORM_LINES],
            errors: FieldErrors::new(),
            supplier_name: String::new(),
            supplier_errors: FieldErrors::new(),
        }
    }
}

async fn orders_content(
    state: &AppState,
    viewer: &Viewer,
    form: OrderForm,
) -> Result<OrdersContent, PageError> {
    let branches = branch_names(state, viewer).await?;
    let suppliers = purchasing::suppliers(state, &viewer.auth).await?;
    let supplier_of: HashMap<Uuid, String> = suppliers
        .iter()
        .map(|supplier| (supplier.id, supplier.name.clone()))
        .collect();
    let orders = purchasing::purchase_orders(state, &viewer.auth)
        .await?
        .into_iter()
        .map(|order| {
            let ordered: i64 = order.lines.iter().map(|line| line.quantity.milli()).sum();
            let received: i64 = order.lines.iter().map(|line| line.received.milli()).sum();
            OrderRow {
                id: order.id,
                at: viewer.locale.time(order.created_at.as_millis()),
                supplier: supplier_of
                    .get(&order.supplier_id)
                    .cloned()
                    .unwrap_or_default(),
                branch: branches.get(&order.branch_id).cloned().unwrap_or_default(),
                open: order.status == "open",
                progress: format!(
                    "{} of {}",
                    Qty(Quantity::from_milli(received)),
                    Qty(Quantity::from_milli(ordered))
                ),
            }
        })
        .collect();
    Ok(OrdersContent {
        csrf: viewer.csrf.clone(),
        orders,
        suppliers: suppliers
            .into_iter()
            .map(|supplier| {
                let value = supplier.id.to_string();
                let chosen = value == form.supplier;
                Choice::new(value, supplier.name).selected_if(chosen)
            })
            .collect(),
        branches: super::admin::branch_choices(state, viewer, &form.branch).await?,
        lines: form.lines,
        errors: form.errors,
        supplier_name: form.supplier_name,
        supplier_errors: form.supplier_errors,
        can_manage: viewer.may(Permission::ManageStock),
    })
}

pub(crate) async fn orders_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewStock)?;
    let content = orders_content(&state, &viewer, OrderForm::default()).await?;
    Ok(viewer.page(Section::Inventory, content))
}

pub(crate) async fn add_supplier(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    match purchasing::create_supplier(
        &state,
        &viewer.auth,
        form.text("name"),
        form.optional("phone"),
    )
    .await
    {
        Ok(supplier) => Ok(viewer.redirect(
            paths::ORDERS,
            Flash::success(format!("{} added.", supplier.name)),
        )),
        Err(error) if error.status().is_client_error() => {
            let refused = OrderForm {
                supplier_name: form.text("name").to_owned(),
                supplier_errors: form_errors(&error, &[]),
                ..OrderForm::default()
            };
            let content = orders_content(&state, &viewer, refused).await?;
            Ok(viewer.page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                Section::Inventory,
                content,
            ))
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn create_order(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    let currency = viewer.settings.currency;
    let mut typed = Vec::new();
    let mut good = Vec::new();
    for index in 0..form.rows("product", 200) {
        let mut line = OrderLineValues {
            product: form.text(&format!("product_{index}")).trim().to_owned(),
            quantity: form.text(&format!("quantity_{index}")).trim().to_owned(),
            cost: form.text(&format!("cost_{index}")).trim().to_owned(),
            error: None,
        };
        if line.product.is_empty() && line.quantity.is_empty() && line.cost.is_empty() {
            continue;
        }
        let found =
            services::catalogue::product_by_code(&state, &viewer.auth, &line.product).await?;
        let quantity = parse_quantity(&line.quantity, false);
        let cost = parse_amount(&line.cost, currency);
        match (found, quantity, cost) {
            (None, _, _) => {
                line.error = Some(format!(
                    "No product has the SKU or barcode “{}”.",
                    line.product
                ));
            }
            (Some(_), Err(message), _) | (Some(_), _, Err(message)) => line.error = Some(message),
            (Some(product), Ok(quantity), Ok(cost_minor)) => {
                good.push(purchasing::OrderLineInput {
                    product_id: product.id,
                    quantity,
                    cost_minor,
                })
            }
        }
        typed.push(line);
    }
    let supplier = form.uuid("supplier").ok().flatten();
    let branch = form.uuid("branch").ok().flatten();
    let again = |lines: Vec<OrderLineValues>, errors: FieldErrors| {
        let mut lines = lines;
        let target = (lines.len() + 2).max(FORM_LINES);
        lines.resize_with(target, OrderLineValues::default);
        OrderForm {
            supplier: form.text("supplier").to_owned(),
            branch: form.text("branch").to_owned(),
            lines,
            errors,
            ..OrderForm::default()
        }
    };
    let mut errors = FieldErrors::new();
    if typed.iter().any(|line| line.error.is_some()) {
        errors.add_form("Some lines need another look: see the messages beside them.");
    } else if typed.is_empty() {
        errors.add_form("Add at least one product, with how many and what one costs.");
    }
    let (Some(supplier), Some(branch), true) = (supplier, branch, errors.is_empty()) else {
        if supplier.is_none() {
            errors.add("supplier", "Choose the supplier.");
        }
        if branch.is_none() {
            errors.add("branch", "Choose the branch the goods go to.");
        }
        let content = orders_content(&state, &viewer, again(typed, errors)).await?;
        return Ok(viewer.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Section::Inventory,
            content,
        ));
    };
    match purchasing::create_purchase_order(
        &state,
        &viewer.auth,
        supplier,
        BranchId::from_uuid(branch),
        good,
    )
    .await
    {
        Ok(order) => Ok(viewer.redirect(
            &paths::order(&order.id),
            Flash::success("Order placed. Receive the goods here when they arrive."),
        )),
        Err(error) if error.status().is_client_error() => {
            let content =
                orders_content(&state, &viewer, again(typed, form_errors(&error, &[]))).await?;
            Ok(viewer.page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                Section::Inventory,
                content,
            ))
        }
        Err(error) => Err(error.into()),
    }
}

async fn order_content(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    typed: Option<&Fields>,
    errors: FieldErrors,
) -> Result<OrderContent, PageError> {
    let order = purchasing::purchase_order(state, &viewer.auth, id).await?;
    let ids: Vec<ProductId> = order.lines.iter().map(|line| line.product_id).collect();
    let products: HashMap<ProductId, String> =
        services::sales::products_named(state.store.as_ref(), viewer.auth.tenant, ids)
            .await
            .map_err(nexus_server::error::ApiError::from)?
            .into_values()
            .map(|product| (product.id, format!("{} ({})", product.name, product.sku)))
            .collect();
    let suppliers = supplier_names(state, viewer).await?;
    let branches = branch_names(state, viewer).await?;
    let now = state.clock.now();
    Ok(OrderContent {
        csrf: viewer.csrf.clone(),
        id,
        supplier: suppliers
            .get(&order.supplier_id)
            .cloned()
            .unwrap_or_default(),
        branch: branches.get(&order.branch_id).cloned().unwrap_or_default(),
        at: viewer.locale.time(order.created_at.as_millis()),
        open: order.status == "open",
        lines: order
            .lines
            .iter()
            .map(|line| OrderLineRow {
                line_no: line.line_no,
                product: products.get(&line.product_id).cloned().unwrap_or_default(),
                ordered: Qty(line.quantity),
                received: Qty(line.received),
                cost: viewer.locale.money(line.cost_minor),
                value: typed
                    .map(|form| form.text(&format!("receive_{}", line.line_no)).to_owned())
                    .unwrap_or_default(),
            })
            .collect(),
        receipts: order
            .receipts
            .iter()
            .map(|receipt| viewer.locale.time(receipt.received_at.as_millis()))
            .collect(),
        // A refused try keeps its id: sending the corrected form counts once too.
        receipt_id: typed
            .and_then(|form| form.uuid("receipt").ok().flatten())
            .unwrap_or_else(|| nexus_domain::ids::new_v7(now)),
        errors,
        can_manage: viewer.may(Permission::ManageStock),
    })
}

pub(crate) async fn order_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewStock)?;
    let content = order_content(&state, &viewer, id, None, FieldErrors::new()).await?;
    Ok(viewer.page(Section::Inventory, content))
}

pub(crate) async fn receive(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    let order = purchasing::purchase_order(&state, &viewer.auth, id).await?;
    let refused = async |errors: FieldErrors| -> Result<Response, PageError> {
        let content = order_content(&state, &viewer, id, Some(&form), errors).await?;
        Ok(viewer.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Section::Inventory,
            content,
        ))
    };
    let Some(receipt) = form.uuid("receipt").ok().flatten() else {
        return Err(PageError::Invalid("That form is not ours.".to_owned()));
    };
    let mut lines = Vec::new();
    for line in &order.lines {
        let typed = form.text(&format!("receive_{}", line.line_no)).trim();
        if typed.is_empty() {
            continue;
        }
        match parse_quantity(typed, false) {
            Ok(quantity) if quantity.is_positive() => lines.push((line.product_id, quantity)),
            Ok(_) => {}
            Err(message) => return refused(FieldErrors::new().with("", message)).await,
        }
    }
    if lines.is_empty() {
        return refused(FieldErrors::new().with("", "Type how many of each product arrived."))
            .await;
    }
    match purchasing::receive(&state, &viewer.auth, id, receipt, lines).await {
        Ok((_, true)) => Ok(viewer.redirect(
            &paths::order(&id),
            Flash::success("Received: the branch's stock and the products' costs are updated."),
        )),
        Ok((_, false)) => Ok(viewer.redirect(
            &paths::order(&id),
            Flash::info("That receipt was recorded already; nothing was counted twice."),
        )),
        Err(error) if error.status().is_client_error() => {
            refused(FieldErrors::new().with("", sentence(error.message()))).await
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn close(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, .. }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    purchasing::close(&state, &viewer.auth, id).await?;
    Ok(viewer.redirect(
        &paths::order(&id),
        Flash::success("Order closed. Nothing more is received against it."),
    ))
}
