//! Stock at the shop, for managers and owners: receiving a delivery, counting what is on the
//! shelf, and sending goods to another branch. Each is an op in the station's outbox, recorded
//! offline and synced like a sale; the page says what is on hand after it.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use nexus_domain::{Permission, Quantity};
use serde::Deserialize;
use uuid::Uuid;

use super::extract::TillForm;
use super::{BannerView, PageResult, ScreenState, page, quantity_mistake, to_sign_in};
use crate::till::{SignedIn, TillProduct};
use crate::{StationError, StationResult};

/// Lines on the transfer form: a van load of a few products; more go as a second transfer.
const TRANSFER_LINES: usize = 5;

#[derive(Template)]
#[template(path = "stock.html")]
pub(super) struct StockTemplate {
    banner: BannerView,
    /// Only managers and owners work with stock; anyone else is told so.
    allowed: bool,
    error: Option<String>,
    done: Option<String>,
    /// (id, name) of the branches goods can be sent to.
    branches: Vec<(String, String)>,
    transfer_lines: Vec<usize>,
    /// The branch's open purchase orders, to receive against.
    orders: Vec<OrderView>,
}

pub(super) struct OrderView {
    id: Uuid,
    supplier: String,
    /// (line number, product, ordered, received so far)
    lines: Vec<(i32, String, String, String)>,
}

async fn stock_response(
    screen: &ScreenState,
    who: &SignedIn,
    error: Option<String>,
    done: Option<String>,
) -> PageResult {
    let branches = screen
        .station
        .other_branches()
        .await?
        .into_iter()
        .map(|branch| (branch.id.to_string(), branch.name))
        .collect();
    let mut orders = Vec::new();
    for order in screen.station.open_orders().await? {
        let mut lines = Vec::with_capacity(order.lines.len());
        for line in &order.lines {
            let name = screen
                .station
                .product_name(line.product_id.as_uuid())
                .await?
                .unwrap_or_else(|| line.product_id.to_string());
            lines.push((
                line.line_no,
                name,
                line.quantity.to_string(),
                line.received.to_string(),
            ));
        }
        orders.push(OrderView {
            id: order.id,
            supplier: order.supplier_name,
            lines,
        });
    }
    page(&StockTemplate {
        banner: screen.banner(Some(who)).await?,
        allowed: who.role.allows(Permission::ManageStock),
        error,
        done,
        branches,
        transfer_lines: (1..=TRANSFER_LINES).collect(),
        orders,
    })
}

pub(super) async fn stock_page(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
) -> PageResult {
    let Some(who) = screen.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    stock_response(&screen, &who, None, None).await
}

/// What a stock form says: its outcome for the manager, or a mistake to show on the page.
type Outcome = Result<String, String>;

/// The product a manager means by `code`: a SKU or barcode, or a name only one product has.
async fn product_for(
    screen: &ScreenState,
    code: &str,
) -> StationResult<Result<TillProduct, String>> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(Err("scan the product or type its SKU or name".to_owned()));
    }
    if let Some(product) = screen.station.find_product(code).await? {
        return Ok(Ok(product));
    }
    let found = screen.station.search_products(code, 4).await?;
    Ok(match found.as_slice() {
        [] => Err(format!("no product matches {code:?}")),
        [only] => Ok(only.clone()),
        several => Err(format!(
            "{code:?} matches several products ({}…): type the SKU or scan the barcode",
            several
                .iter()
                .map(|product| product.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    })
}

fn quantity_of(text: &str, may_be_zero: bool) -> Result<Quantity, String> {
    let quantity: Quantity = text.trim().parse().map_err(|_| quantity_mistake(text))?;
    if quantity.is_negative() || (!may_be_zero && !quantity.is_positive()) {
        return Err(if may_be_zero {
            "a count cannot be below zero".to_owned()
        } else {
            "the quantity must be more than zero".to_owned()
        });
    }
    Ok(quantity)
}

/// The product and quantity of one line of a stock form, or what is wrong with them.
async fn stock_line(
    screen: &ScreenState,
    code: &str,
    quantity: &str,
    may_be_zero: bool,
) -> StationResult<Result<(TillProduct, Quantity), String>> {
    Ok(match product_for(screen, code).await? {
        Ok(product) => quantity_of(quantity, may_be_zero).map(|quantity| (product, quantity)),
        Err(mistake) => Err(mistake),
    })
}

/// Runs a stock form for a manager: signed out goes to sign-in; a mistake or the outcome is
/// shown on the stock page.
async fn stock_action(
    screen: &ScreenState,
    headers: &HeaderMap,
    action: impl AsyncFnOnce(&SignedIn) -> StationResult<Outcome>,
) -> PageResult {
    let Some(who) = screen.cashier(headers) else {
        return Ok(to_sign_in());
    };
    if !who.role.allows(Permission::ManageStock) {
        return stock_response(screen, &who, None, None).await;
    }
    match action(&who).await {
        Ok(Ok(done)) => {
            screen.wake.notify_one();
            stock_response(screen, &who, None, Some(done)).await
        }
        Ok(Err(mistake)) | Err(StationError::Invalid(mistake)) => {
            stock_response(screen, &who, Some(mistake), None).await
        }
        Err(error) => Err(error.into()),
    }
}

/// Goods that arrived against an open order: `quantity_N` per line number N, blanks skipped.
pub(super) async fn receive_order(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    super::extract::TillPath(order_id): super::extract::TillPath<Uuid>,
    TillForm(form): TillForm<std::collections::BTreeMap<String, String>>,
) -> PageResult {
    stock_action(&screen, &headers, async |who| {
        let Some(order) = screen
            .station
            .open_orders()
            .await?
            .into_iter()
            .find(|order| order.id == order_id)
        else {
            return Ok(Err(
                "that order is not open at this branch (as of the last sync)".to_owned(),
            ));
        };
        let mut lines = Vec::new();
        for line in &order.lines {
            let typed = form
                .get(&format!("quantity_{}", line.line_no))
                .map(|text| text.trim())
                .unwrap_or("");
            if typed.is_empty() {
                continue;
            }
            match typed.parse::<Quantity>() {
                Ok(quantity) if quantity.is_positive() => {
                    lines.push((line.product_id.as_uuid(), quantity));
                }
                _ => return Ok(Err(quantity_mistake(typed))),
            }
        }
        if lines.is_empty() {
            return Ok(Err("type how many of each product arrived".to_owned()));
        }
        screen
            .station
            .receive_order(screen.clock.as_ref(), who.id, order_id, &lines)
            .await?;
        Ok(Ok(format!(
            "Received against the order from {}: the shop's stock counts it now, and the \
             order shows it after the next sync.",
            order.supplier_name
        )))
    })
    .await
}

/// "27 on hand now", or nothing for a product the branch keeps no count of.
async fn on_hand_now(screen: &ScreenState, product: Uuid) -> StationResult<String> {
    Ok(match screen.station.on_hand_of(product).await? {
        Some(on_hand) => format!("{on_hand} on hand now"),
        None => "no count of it yet".to_owned(),
    })
}

#[derive(Deserialize)]
pub(super) struct MovementForm {
    #[serde(default)]
    product: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn receive(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<MovementForm>,
) -> PageResult {
    stock_action(&screen, &headers, async |who| {
        let (product, quantity) =
            match stock_line(&screen, &form.product, &form.quantity, false).await? {
                Ok(line) => line,
                Err(mistake) => return Ok(Err(mistake)),
            };
        let note = Some(form.note.trim()).filter(|note| !note.is_empty());
        screen
            .station
            .record_movement(
                screen.clock.as_ref(),
                who.id,
                product.id,
                "receipt",
                quantity,
                note,
            )
            .await?;
        Ok(Ok(format!(
            "Received {quantity} × {}: {}.",
            product.name,
            on_hand_now(&screen, product.id).await?
        )))
    })
    .await
}

pub(super) async fn count(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<MovementForm>,
) -> PageResult {
    stock_action(&screen, &headers, async |who| {
        let (product, counted) =
            match stock_line(&screen, &form.product, &form.quantity, true).await? {
                Ok(line) => line,
                Err(mistake) => return Ok(Err(mistake)),
            };
        let before = screen.station.on_hand_of(product.id).await?;
        screen
            .station
            .record_movement(
                screen.clock.as_ref(),
                who.id,
                product.id,
                "count",
                counted,
                None,
            )
            .await?;
        Ok(Ok(match before {
            Some(before) => format!(
                "Counted {counted} × {} (the stock said {before}).",
                product.name
            ),
            None => format!("Counted {counted} × {}.", product.name),
        }))
    })
    .await
}

pub(super) async fn transfer(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<std::collections::BTreeMap<String, String>>,
) -> PageResult {
    stock_action(&screen, &headers, async |who| {
        let field = |name: String| form.get(&name).map_or("", String::as_str).trim();
        let to = field("to".to_owned());
        let Some(branch) = screen
            .station
            .other_branches()
            .await?
            .into_iter()
            .find(|branch| branch.id.to_string() == to)
        else {
            return Ok(Err("choose the branch the goods go to".to_owned()));
        };
        let mut lines = Vec::new();
        let mut names = Vec::new();
        for line in 1..=TRANSFER_LINES {
            let (code, quantity) = (
                field(format!("product_{line}")),
                field(format!("quantity_{line}")),
            );
            if code.is_empty() && quantity.is_empty() {
                continue;
            }
            let (product, quantity) = match stock_line(&screen, code, quantity, false).await? {
                Ok(line) => line,
                Err(mistake) => return Ok(Err(format!("line {line}: {mistake}"))),
            };
            names.push(format!("{quantity} × {}", product.name));
            lines.push((product.id, quantity));
        }
        if lines.is_empty() {
            return Ok(Err("add at least one product to send".to_owned()));
        }
        screen
            .station
            .record_transfer(screen.clock.as_ref(), who.id, branch.id.as_uuid(), &lines)
            .await?;
        Ok(Ok(format!(
            "Sent to {}: {}. It reaches their stock when this till syncs.",
            branch.name,
            names.join(", ")
        )))
    })
    .await
}
