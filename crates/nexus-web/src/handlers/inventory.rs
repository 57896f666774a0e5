//! Inventory: on-hand at a branch with its alerts (refreshed live), receiving goods,
//! adjustments, counts, transfers, and one product's history.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::{Permission, ProductId, Quantity};
use nexus_server::services::{self, stock};
use nexus_server::state::AppState;
use nexus_store::{Branch, MovementKind as StoreKind};
use nexus_sync::TransferLine;
use uuid::Uuid;

use super::context::{PageError, Viewer, percent_encode, sentence};
use super::input::{Fields, SignedPost, parse_quantity};
use super::live::fragment;
use crate::format::Qty;
use crate::forms::{Choice, FieldErrors};
use crate::views::inventory::{
    ADJUSTMENT_REASONS, AdjustContent, CountContent, CountRow, InventoryContent, InventoryLive,
    LineValues, MovementKind, MovementRow, MovementsContent, ReceiveContent, StockRow,
    TransferContent,
};
use crate::{Flash, Section, paths};

const ROWS_PER_PAGE: u32 = 50;
const ALERTS_SHOWN: u32 = 50;
/// Lines a receiving or transfer form offers.
const FORM_LINES: usize = 8;

/// The branch a page is about: the one asked for (which the person must see), or their first.
async fn branch_of(
    state: &AppState,
    viewer: &Viewer,
    query: &Fields,
    field: &str,
) -> Result<Option<Branch>, PageError> {
    let branches = services::branches::branches(state, &viewer.auth, false).await?;
    match query.uuid(field) {
        Ok(Some(id)) => Ok(Some(
            branches
                .into_iter()
                .find(|branch| branch.id.as_uuid() == id)
                .ok_or(PageError::NotFound)?,
        )),
        Ok(None) => Ok(branches.into_iter().next()),
        Err(_) => Err(PageError::NotFound),
    }
}

fn no_branch(viewer: &Viewer) -> Response {
    viewer.redirect(
        paths::BRANCHES,
        Flash::info("Add a branch first: stock is kept per branch."),
    )
}

async fn live_content(
    state: &AppState,
    viewer: &Viewer,
    branch: &Branch,
    query: &Fields,
) -> Result<InventoryLive, PageError> {
    let id = branch.id.as_uuid();
    let search = query.optional("q").map(str::to_owned);
    let after = query
        .uuid("after")
        .map_err(|_| PageError::Invalid("That page link is not ours.".to_owned()))?
        .map(ProductId::from_uuid);
    let page = stock::branch_stock(
        state,
        &viewer.auth,
        id,
        search.clone(),
        after,
        ROWS_PER_PAGE,
    )
    .await?;
    let row = |product: &nexus_store::Product, on_hand: Quantity| StockRow {
        product_id: product.id.as_uuid(),
        sku: product.sku.clone(),
        name: product.name.clone(),
        on_hand: Qty(on_hand),
        reorder_level: Qty(product.reorder_level.unwrap_or(Quantity::ZERO)),
    };
    let alert_rows = |alerts: Vec<nexus_store::StockAlert>| -> Vec<StockRow> {
        alerts
            .into_iter()
            .map(|alert| StockRow {
                product_id: alert.product_id.as_uuid(),
                sku: alert.sku,
                name: alert.name,
                on_hand: Qty(alert.on_hand),
                reorder_level: Qty(alert.reorder_level.unwrap_or(Quantity::ZERO)),
            })
            .collect()
    };
    let (negative, _) = stock::alerts(
        state,
        &viewer.auth,
        true,
        Some(id),
        None,
        Some(ALERTS_SHOWN),
    )
    .await?;
    let (alerts, _) = stock::alerts(
        state,
        &viewer.auth,
        false,
        Some(id),
        None,
        Some(ALERTS_SHOWN),
    )
    .await?;
    let low: Vec<_> = alerts
        .into_iter()
        .filter(|alert| !alert.on_hand.is_negative())
        .collect();
    let next_page_url = page.next_after.map(|after| {
        format!(
            "{}?branch={id}&q={}&after={}",
            paths::INVENTORY,
            percent_encode(search.as_deref().unwrap_or("")),
            after.as_uuid()
        )
    });
    Ok(InventoryLive {
        branch_id: id,
        reconciliation: alert_rows(negative),
        low_stock: alert_rows(low),
        on_hand: page
            .rows
            .iter()
            .map(|(product, on_hand)| row(product, *on_hand))
            .collect(),
        next_page_url,
        as_of: viewer.locale.time(viewer.locale.now_millis),
    })
}

async fn branch_choices(
    state: &AppState,
    viewer: &Viewer,
    selected: &Uuid,
) -> Result<Vec<Choice>, PageError> {
    super::admin::branch_choices(state, viewer, &selected.to_string()).await
}

pub(crate) async fn inventory(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewStock)?;
    let Some(branch) = branch_of(&state, &viewer, &query, "branch").await? else {
        return Ok(no_branch(&viewer));
    };
    let live = live_content(&state, &viewer, &branch, &query).await?;
    let id = branch.id.as_uuid();
    let search = query.text("q").to_owned();
    Ok(viewer.page(
        Section::Inventory,
        InventoryContent {
            branch_name: branch.name.clone(),
            branches: branch_choices(&state, &viewer, &id).await?,
            live_url: format!("/inventory/live?branch={id}&q={}", percent_encode(&search)),
            query: search,
            can_manage: viewer.may(Permission::ManageStock),
            live,
        },
    ))
}

pub(crate) async fn live(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewStock)?;
    let Some(branch) = branch_of(&state, &viewer, &query, "branch").await? else {
        return Err(PageError::NotFound);
    };
    Ok(fragment(
        live_content(&state, &viewer, &branch, &query).await?,
    ))
}

/// The lines of a receiving or transfer form: as typed, each with its product and quantity
/// when both read well.
async fn read_lines(
    state: &AppState,
    viewer: &Viewer,
    form: &Fields,
) -> Result<(Vec<LineValues>, Vec<(ProductId, Quantity)>), PageError> {
    let mut typed = Vec::new();
    let mut good = Vec::new();
    for index in 0..form.rows("product", 100) {
        let product = form.text(&format!("product_{index}")).to_owned();
        let quantity = form.text(&format!("quantity_{index}")).to_owned();
        if product.is_empty() && quantity.is_empty() {
            continue;
        }
        let mut line = LineValues {
            product,
            quantity,
            error: None,
        };
        let found =
            services::catalogue::product_by_code(state, &viewer.auth, &line.product).await?;
        match (found, parse_quantity(&line.quantity, false)) {
            (None, _) => {
                line.error = Some(format!(
                    "No product has the SKU or barcode “{}”.",
                    line.product
                ));
            }
            (Some(_), Err(message)) => line.error = Some(message),
            (Some(_), Ok(quantity)) if quantity == Quantity::ZERO => {
                line.error = Some("Enter how many, more than zero.".to_owned());
            }
            (Some(product), Ok(quantity)) => good.push((product.id, quantity)),
        }
        typed.push(line);
    }
    Ok((typed, good))
}

fn padded(mut lines: Vec<LineValues>) -> Vec<LineValues> {
    let target = (lines.len() + 2).max(FORM_LINES);
    lines.resize_with(target, LineValues::default);
    lines
}

pub(crate) async fn receive_page(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    let Some(branch) = branch_of(&state, &viewer, &query, "branch").await? else {
        return Ok(no_branch(&viewer));
    };
    Ok(viewer.page(
        Section::Inventory,
        ReceiveContent {
            csrf: viewer.csrf.clone(),
            branches: branch_choices(&state, &viewer, &branch.id.as_uuid()).await?,
            reference: String::new(),
            lines: padded(Vec::new()),
            errors: FieldErrors::new(),
        },
    ))
}

pub(crate) async fn receive(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    let branch = branch_of(&state, &viewer, &form, "branch").await?;
    let (lines, good) = read_lines(&state, &viewer, &form).await?;
    let mut errors = FieldErrors::new();
    if lines.iter().all(|line| line.error.is_none()) && good.is_empty() {
        errors.add_form("Enter at least one product and how many arrived.");
    }
    let reference = form.text("reference").to_owned();
    if let (Some(branch), true, true) = (
        &branch,
        errors.is_empty(),
        lines.iter().all(|line| line.error.is_none()),
    ) {
        let reason = Some(reference.clone()).filter(|text| !text.is_empty());
        for (product, quantity) in &good {
            stock::record_movement(
                &state,
                &viewer.auth,
                branch.id.as_uuid(),
                stock::MovementInput {
                    id: None,
                    product_id: *product,
                    kind: "receipt".to_owned(),
                    quantity: *quantity,
                    reason: reason.clone(),
                    occurred_at: None,
                },
            )
            .await?;
        }
        return Ok(viewer.redirect(
            &format!("{}?branch={}", paths::INVENTORY, branch.id.as_uuid()),
            Flash::success(format!(
                "Received {} line{} at {}.",
                good.len(),
                if good.len() == 1 { "" } else { "s" },
                branch.name
            )),
        ));
    }
    if branch.is_none() {
        errors.add("branch", "Choose the branch the goods arrived at.");
    }
    let selected = branch.map(|branch| branch.id.as_uuid()).unwrap_or_default();
    Ok(viewer.page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        Section::Inventory,
        ReceiveContent {
            csrf: viewer.csrf.clone(),
            branches: branch_choices(&state, &viewer, &selected).await?,
            reference,
            lines: padded(lines),
            errors,
        },
    ))
}

pub(crate) async fn adjust_page(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    let Some(branch) = branch_of(&state, &viewer, &query, "branch").await? else {
        return Ok(no_branch(&viewer));
    };
    Ok(viewer.page(
        Section::Inventory,
        AdjustContent {
            csrf: viewer.csrf.clone(),
            branches: branch_choices(&state, &viewer, &branch.id.as_uuid()).await?,
            product: query.text("product").to_owned(),
            quantity: String::new(),
            reason: String::new(),
            note: String::new(),
            errors: FieldErrors::new(),
        },
    ))
}

pub(crate) async fn adjust(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    let branch = branch_of(&state, &viewer, &form, "branch").await?;
    let mut errors = FieldErrors::new();
    let code = form.text("product");
    let product = services::catalogue::product_by_code(&state, &viewer.auth, code).await?;
    if product.is_none() {
        errors.add("product", "Enter the SKU or barcode of a product.");
    }
    let quantity = match parse_quantity(form.text("quantity"), true) {
        Ok(quantity) if quantity == Quantity::ZERO => {
            errors.add(
                "quantity",
                "Enter how many to add, or a minus to take away (-2).",
            );
            None
        }
        Ok(quantity) => Some(quantity),
        Err(message) => {
            errors.add("quantity", message);
            None
        }
    };
    let reason_code = form.text("reason");
    let reason_label = ADJUSTMENT_REASONS
        .iter()
        .find(|(value, _)| *value == reason_code)
        .map(|(_, label)| *label);
    if reason_label.is_none() {
        errors.add("reason", "Choose why the stock changes.");
    }
    if branch.is_none() {
        errors.add("branch", "Choose the branch.");
    }
    if let (Some(branch), Some(product), Some(quantity), Some(label), true) =
        (&branch, &product, quantity, reason_label, errors.is_empty())
    {
        let note = form.text("note");
        let reason = if note.is_empty() {
            label.to_owned()
        } else {
            format!("{label}: {note}")
        };
        let recorded = stock::record_movement(
            &state,
            &viewer.auth,
            branch.id.as_uuid(),
            stock::MovementInput {
                id: None,
                product_id: product.id,
                kind: "adjustment".to_owned(),
                quantity,
                reason: Some(reason),
                occurred_at: None,
            },
        )
        .await;
        match recorded {
            Ok((_, level)) => {
                return Ok(viewer.redirect(
                    &format!("{}?branch={}", paths::INVENTORY, branch.id.as_uuid()),
                    Flash::success(format!(
                        "{} adjusted: {} on hand at {}.",
                        product.name,
                        Qty(level.on_hand),
                        branch.name
                    )),
                ));
            }
            Err(error)
                if error.status().is_client_error() && error.status() != StatusCode::NOT_FOUND =>
            {
                errors.add(error.field().unwrap_or(""), sentence(error.message()));
            }
            Err(error) => return Err(error.into()),
        }
    }
    let selected = branch.map(|branch| branch.id.as_uuid()).unwrap_or_default();
    Ok(viewer.page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        Section::Inventory,
        AdjustContent {
            csrf: viewer.csrf.clone(),
            branches: branch_choices(&state, &viewer, &selected).await?,
            product: code.to_owned(),
            quantity: form.text("quantity").to_owned(),
            reason: reason_code.to_owned(),
            note: form.text("note").to_owned(),
            errors,
        },
    ))
}

async fn count_content(
    state: &AppState,
    viewer: &Viewer,
    branch: &Branch,
    query: &Fields,
    typed: Option<(&Fields, Vec<(Uuid, String)>)>,
    errors: FieldErrors,
) -> Result<CountContent, PageError> {
    let id = branch.id.as_uuid();
    let after = query
        .uuid("after")
        .map_err(|_| PageError::Invalid("That page link is not ours.".to_owned()))?
        .map(ProductId::from_uuid);
    let page = stock::branch_stock(state, &viewer.auth, id, None, after, ROWS_PER_PAGE).await?;
    let rows = page
        .rows
        .iter()
        .map(|(product, on_hand)| {
            let product_id = product.id.as_uuid();
            let (counted, error) = match &typed {
                Some((form, row_errors)) => {
                    let index = (0..form.rows("product", 1000)).find(|index| {
                        form.text(&format!("product_{index}")) == product_id.to_string()
                    });
                    (
                        index
                            .map(|index| form.text(&format!("counted_{index}")).to_owned())
                            .unwrap_or_default(),
                        row_errors
                            .iter()
                            .find(|(id, _)| *id == product_id)
                            .map(|(_, message)| message.clone()),
                    )
                }
                None => (String::new(), None),
            };
            CountRow {
                product_id,
                sku: product.sku.clone(),
                name: product.name.clone(),
                expected: Qty(*on_hand),
                counted,
                error,
            }
        })
        .collect();
    Ok(CountContent {
        csrf: viewer.csrf.clone(),
        branch_id: id,
        branch_name: branch.name.clone(),
        rows,
        errors,
        next_page_url: page.next_after.map(|after| {
            format!(
                "{}?branch={id}&after={}",
                paths::INVENTORY_COUNT,
                after.as_uuid()
            )
        }),
    })
}

pub(crate) async fn count_page(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    let Some(branch) = branch_of(&state, &viewer, &query, "branch").await? else {
        return Ok(no_branch(&viewer));
    };
    let content = count_content(&state, &viewer, &branch, &query, None, FieldErrors::new()).await?;
    Ok(viewer.page(Section::Inventory, content))
}

pub(crate) async fn count(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    let Some(branch) = branch_of(&state, &viewer, &form, "branch").await? else {
        return Err(PageError::NotFound);
    };
    let mut counts = Vec::new();
    let mut row_errors = Vec::new();
    for index in 0..form.rows("product", 1000) {
        let counted = form.text(&format!("counted_{index}"));
        if counted.is_empty() {
            continue;
        }
        let Ok(Some(product)) = form.uuid(&format!("product_{index}")) else {
            return Err(PageError::Invalid(
                "The count form was changed; reload it.".to_owned(),
            ));
        };
        match parse_quantity(counted, false) {
            Ok(quantity) => counts.push((product, quantity)),
            Err(message) => row_errors.push((product, message)),
        }
    }
    let mut errors = FieldErrors::new();
    if counts.is_empty() && row_errors.is_empty() {
        errors.add_form("Type what you counted for at least one product.");
    }
    if errors.is_empty() && row_errors.is_empty() {
        for (product, quantity) in &counts {
            stock::record_movement(
                &state,
                &viewer.auth,
                branch.id.as_uuid(),
                stock::MovementInput {
                    id: None,
                    product_id: ProductId::from_uuid(*product),
                    kind: "count".to_owned(),
                    quantity: *quantity,
                    reason: Some("Stock count".to_owned()),
                    occurred_at: None,
                },
            )
            .await?;
        }
        return Ok(viewer.redirect(
            &format!("{}?branch={}", paths::INVENTORY, branch.id.as_uuid()),
            Flash::success(format!(
                "Count saved for {} product{} at {}.",
                counts.len(),
                if counts.len() == 1 { "" } else { "s" },
                branch.name
            )),
        ));
    }
    if !row_errors.is_empty() {
        errors.add_form("Some counts could not be read: see the boxes in red.");
    }
    let content = count_content(
        &state,
        &viewer,
        &branch,
        &Fields::default(),
        Some((&form, row_errors)),
        errors,
    )
    .await?;
    Ok(viewer.page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        Section::Inventory,
        content,
    ))
}

async fn transfer_choices(
    state: &AppState,
    viewer: &Viewer,
    from: &str,
    to: &str,
) -> Result<(Vec<Choice>, Vec<Choice>), PageError> {
    Ok((
        super::admin::branch_choices(state, viewer, from).await?,
        super::admin::branch_choices(state, viewer, to).await?,
    ))
}

pub(crate) async fn transfer_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    let (from, to) = transfer_choices(&state, &viewer, "", "").await?;
    Ok(viewer.page(
        Section::Inventory,
        TransferContent {
            csrf: viewer.csrf.clone(),
            from,
            to,
            note: String::new(),
            lines: padded(Vec::new()),
            errors: FieldErrors::new(),
        },
    ))
}

pub(crate) async fn transfer(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStock)?;
    let mut errors = FieldErrors::new();
    let from = branch_of(&state, &viewer, &form, "from").await?;
    let to = branch_of(&state, &viewer, &form, "to").await?;
    if form.optional("from").is_none() {
        errors.add("from", "Choose where the goods leave from.");
    }
    if form.optional("to").is_none() {
        errors.add("to", "Choose where the goods go.");
    }
    let (lines, good) = read_lines(&state, &viewer, &form).await?;
    if lines.iter().all(|line| line.error.is_none()) && good.is_empty() {
        errors.add_form("Enter at least one product and how many move.");
    }
    if let (Some(from), Some(to), true, true) = (
        &from,
        &to,
        errors.is_empty(),
        lines.iter().all(|line| line.error.is_none()),
    ) {
        let moved = stock::transfer(
            &state,
            &viewer.auth,
            None,
            from.id.as_uuid(),
            to.id.as_uuid(),
            good.iter()
                .map(|(product_id, quantity)| TransferLine {
                    product_id: *product_id,
                    quantity: *quantity,
                })
                .collect(),
        )
        .await;
        match moved {
            Ok(_) => {
                return Ok(viewer.redirect(
                    &format!("{}?branch={}", paths::INVENTORY, from.id.as_uuid()),
                    Flash::success(format!(
                        "Moved {} line{} from {} to {}.",
                        good.len(),
                        if good.len() == 1 { "" } else { "s" },
                        from.name,
                        to.name
                    )),
                ));
            }
            Err(error)
                if error.status().is_client_error() && error.status() != StatusCode::NOT_FOUND =>
            {
                let field = match error.field() {
                    Some("to_branch_id") => "to",
                    Some("from_branch_id") => "from",
                    _ => "",
                };
                errors.add(field, sentence(error.message()));
            }
            Err(error) => return Err(error.into()),
        }
    }
    let (from_choices, to_choices) =
        transfer_choices(&state, &viewer, form.text("from"), form.text("to")).await?;
    Ok(viewer.page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        Section::Inventory,
        TransferContent {
            csrf: viewer.csrf.clone(),
            from: from_choices,
            to: to_choices,
            note: form.text("note").to_owned(),
            lines: padded(lines),
            errors,
        },
    ))
}

fn movement_kind(kind: StoreKind) -> MovementKind {
    match kind {
        StoreKind::Sale => MovementKind::Sale,
        StoreKind::Refund => MovementKind::Refund,
        StoreKind::Receipt => MovementKind::Receipt,
        StoreKind::Adjustment => MovementKind::Adjustment,
        StoreKind::Count => MovementKind::Count,
        StoreKind::TransferIn => MovementKind::TransferIn,
        StoreKind::TransferOut => MovementKind::TransferOut,
    }
}

/// Movements shown on one page of a product's history: the newest.
const HISTORY_SHOWN: usize = 200;

pub(crate) async fn movements(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewStock)?;
    let Some(branch) = branch_of(&state, &viewer, &query, "branch").await? else {
        return Err(PageError::NotFound);
    };
    let (branch, product, history) = stock::product_history(
        &state,
        &viewer.auth,
        branch.id.as_uuid(),
        ProductId::from_uuid(id),
    )
    .await?;
    let on_hand = history
        .first()
        .map_or(Quantity::ZERO, |(_, balance)| *balance);
    let rows = history
        .iter()
        .take(HISTORY_SHOWN)
        .map(|(movement, balance)| MovementRow {
            at: viewer.locale.time(movement.occurred_at.as_millis()),
            kind: movement_kind(movement.kind),
            quantity: Qty(movement.quantity),
            balance: Qty(*balance),
            reason: movement.reason.clone().unwrap_or_default(),
            source: String::new(),
        })
        .collect();
    Ok(viewer.page(
        Section::Inventory,
        MovementsContent {
            product_name: product.name,
            sku: product.sku,
            branch_name: branch.name,
            on_hand: Qty(on_hand),
            rows,
            next_page_url: None,
        },
    ))
}
