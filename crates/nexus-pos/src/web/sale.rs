//! The sale screen: scanning or typing products into the cart, quantities and discounts.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use nexus_domain::Quantity;
use nexus_domain::quantity::{QUANTITY_CONFIRM_ABOVE_UNITS, QuantityDoubt, quantity_to_confirm};
use serde::Deserialize;

use super::extract::{TillForm, TillPath};
use super::{
    BannerView, PageResult, ScreenState, amount_mistake, is_htmx, message_of, money, page,
    quantity_mistake, to_sign_in,
};
use crate::till::{Cart, TillSettings};
use crate::{Station, StationError};

pub(super) struct SuggestionView {
    sku: String,
    name: String,
    price: String,
}

pub(super) struct LineView {
    index: usize,
    name: String,
    sku: String,
    quantity: String,
    price: String,
    amount: String,
    discount: String,
}

/// A quantity the cashier is asked about before it goes in the cart: the question, and the
/// form that puts it in when they say yes.
pub(super) struct QuantityCheck {
    question: String,
    action: String,
    field: &'static str,
    value: String,
    quantity: String,
}

pub(super) struct CartView {
    message: Option<String>,
    confirm_quantity: Option<QuantityCheck>,
    suggestions: Vec<SuggestionView>,
    customer: Option<String>,
    lines: Vec<LineView>,
    discount: String,
    levies: Vec<(String, String)>,
    total: String,
}

#[derive(Template)]
#[template(path = "cart.html")]
pub(super) struct CartTemplate {
    view: CartView,
}

#[derive(Template)]
#[template(path = "sale.html")]
pub(super) struct SaleTemplate {
    banner: BannerView,
    view: CartView,
    /// The stock page is offered to those who may receive and count.
    manages_stock: bool,
    /// The till's settings are offered to those who may change them.
    manages_till: bool,
}

pub(super) fn cart_view(
    settings: &TillSettings,
    cart: &Cart,
    message: Option<String>,
    suggestions: Vec<SuggestionView>,
) -> CartView {
    let currency = settings.currency;
    // An empty cart is a sale not begun yet, not a mistake: it is not priced, so that the
    // pricing rule "a sale needs at least one line" never shows as an error on a fresh screen.
    let priced = (!cart.lines.is_empty()).then(|| Station::price(settings, cart));
    let (lines, totals) = match &priced {
        Some(Ok(priced)) => (priced.lines.clone(), Some(priced.totals.clone())),
        _ => (Vec::new(), None),
    };
    let pricing_error = match &priced {
        Some(Err(error)) => Some(message_of(error)),
        _ => None,
    };
    CartView {
        message: message.or(pricing_error),
        confirm_quantity: None,
        suggestions,
        // A trader on the wholesale list: the cart's prices are theirs, and the cashier sees why.
        customer: cart
            .customer
            .as_ref()
            .map(|customer| match customer.price_list {
                nexus_domain::PriceList::Wholesale => {
                    format!("{} (wholesale prices)", customer.name)
                }
                nexus_domain::PriceList::Retail => customer.name.clone(),
            }),
        lines: cart
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| LineView {
                index,
                name: line.product.shown_name(),
                sku: line.product.sku.clone(),
                quantity: line.quantity.to_string(),
                price: currency.format_minor(cart.unit_price(line)),
                amount: lines
                    .get(index)
                    .map(|tax| currency.format_minor(tax.total_minor))
                    .unwrap_or_default(),
                discount: if line.discount_minor == 0 {
                    String::new()
                } else {
                    format!("-{}", currency.format_minor(line.discount_minor))
                },
            })
            .collect(),
        discount: totals
            .as_ref()
            .filter(|totals| totals.discount_minor != 0)
            .map(|totals| format!("-{}", currency.format_minor(totals.discount_minor)))
            .unwrap_or_default(),
        levies: totals
            .as_ref()
            .map(|totals| {
                totals
                    .levies
                    .iter()
                    .map(|(code, amount)| {
                        let name = settings
                            .tax
                            .levies
                            .iter()
                            .find(|levy| &levy.code == code)
                            .map_or_else(|| code.clone(), |levy| levy.name.clone());
                        (format!("incl. {name}"), currency.format_minor(*amount))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        total: money(currency, totals.map_or(0, |totals| totals.total_minor)),
    }
}

/// The cart as a fragment (for htmx) or the whole sale page.
pub(super) async fn cart_response(
    screen: &ScreenState,
    headers: &HeaderMap,
    message: Option<String>,
    suggestions: Vec<SuggestionView>,
) -> PageResult {
    cart_page(screen, headers, message, suggestions, None).await
}

async fn cart_page(
    screen: &ScreenState,
    headers: &HeaderMap,
    message: Option<String>,
    suggestions: Vec<SuggestionView>,
    confirm_quantity: Option<QuantityCheck>,
) -> PageResult {
    let Some((cashier, cart)) = screen.with_session(headers, |session| {
        (session.cashier.clone(), session.cart.clone())
    }) else {
        return Ok(to_sign_in());
    };
    let settings = screen.station.till_settings().await?;
    let mut view = cart_view(&settings, &cart, message, suggestions);
    view.confirm_quantity = confirm_quantity;
    if is_htmx(headers) {
        return page(&CartTemplate { view });
    }
    page(&SaleTemplate {
        banner: screen.banner(Some(&cashier)).await?,
        view,
        manages_stock: cashier.role.allows(nexus_domain::Permission::ManageStock),
        manages_till: crate::settings::may_change_station_settings(&cashier),
    })
}

#[derive(Deserialize)]
pub(super) struct ScanForm {
    #[serde(default)]
    code: String,
    /// Set by the confirmation of a quantity the till asked about.
    #[serde(default)]
    confirmed: bool,
}

/// The question to ask before `quantity` of `product` goes in the cart, if any: above 9,999,
/// or above what the branch has on hand (`nexus_domain::quantity::quantity_to_confirm`).
async fn quantity_question(
    screen: &ScreenState,
    product: &crate::TillProduct,
    quantity: Quantity,
) -> Result<Option<String>, StationError> {
    let on_hand = screen.station.on_hand_of(product.id).await?;
    // Stock is counted in base units: two cartons of 24 are 48 against what is on hand.
    Ok(
        match quantity_to_confirm(product.base_quantity(quantity), on_hand) {
            None => None,
            Some(QuantityDoubt::Large) => Some(format!(
                "Sell {quantity} of {}? That is more than {QUANTITY_CONFIRM_ABOVE_UNITS}: check the quantity before you go on.",
                product.name
            )),
            Some(QuantityDoubt::AboveOnHand(on_hand)) => Some(format!(
                "Sell {quantity} of {}? The shop has {on_hand} on hand by its stock count: check the quantity (it can still be sold).",
                product.name
            )),
        },
    )
}

/// A scan or a typed SKU adds the product; anything else searches names and offers matches.
pub(super) async fn scan(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<ScanForm>,
) -> PageResult {
    let Some(mut cart) = screen.cart(&headers) else {
        return Ok(to_sign_in());
    };
    let code = form.code.trim();
    if code.is_empty() {
        return cart_response(&screen, &headers, None, Vec::new()).await;
    }
    // "3*RICE" or "3 x RICE" rings up three at once, as tills do. Only a count typed so is
    // asked about: a scan of one is the goods themselves at the counter.
    let (counted, code) = match code.split_once(['*', 'x', 'X']) {
        Some((count, rest)) if count.trim().parse::<Quantity>().is_ok() => {
            (count.trim().parse::<Quantity>().ok(), rest.trim())
        }
        _ => (None, code),
    };
    let quantity = counted.unwrap_or(Quantity::ONE);
    let mut message = None;
    let mut suggestions = Vec::new();
    match screen.station.find_product(code).await? {
        Some(product) => {
            if counted.is_some() && !form.confirmed {
                let in_cart = cart
                    .lines
                    .iter()
                    .find(|line| line.product.id == product.id)
                    .map_or(Quantity::ZERO, |line| line.quantity);
                let after = in_cart.checked_add(quantity).unwrap_or(quantity);
                if let Some(question) = quantity_question(&screen, &product, after).await? {
                    let check = QuantityCheck {
                        question,
                        action: "/scan".to_owned(),
                        field: "code",
                        value: format!("{quantity}*{}", product.sku),
                        quantity: quantity.to_string(),
                    };
                    return cart_page(&screen, &headers, None, Vec::new(), Some(check)).await;
                }
            }
            if let Err(error) = cart.add(product, quantity) {
                message = Some(message_of(&error));
            }
        }
        None => {
            let settings = screen.station.till_settings().await?;
            let found = screen.station.search_products(code, 8).await?;
            match found.as_slice() {
                [only] => {
                    if let Err(error) = cart.add(only.clone(), quantity) {
                        message = Some(message_of(&error));
                    }
                }
                [] => message = Some(format!("nothing matches {code:?}")),
                several => {
                    suggestions = several
                        .iter()
                        .map(|product| SuggestionView {
                            sku: product.sku.clone(),
                            name: product.name.clone(),
                            price: money(settings.currency, product.price_minor),
                        })
                        .collect();
                }
            }
        }
    }
    screen.with_session(&headers, |session| session.cart = cart);
    cart_response(&screen, &headers, message, suggestions).await
}

#[derive(Deserialize)]
pub(super) struct QuantityForm {
    #[serde(default)]
    quantity: String,
    /// Set by the confirmation of a quantity the till asked about.
    #[serde(default)]
    confirmed: bool,
}

pub(super) async fn set_quantity(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(index): TillPath<usize>,
    TillForm(form): TillForm<QuantityForm>,
) -> PageResult {
    let parsed = form.quantity.trim().parse::<Quantity>();
    if let Ok(quantity) = parsed
        && quantity.is_positive()
        && !form.confirmed
    {
        let Some(cart) = screen.cart(&headers) else {
            return Ok(to_sign_in());
        };
        if let Some(line) = cart.lines.get(index)
            && let Some(question) = quantity_question(&screen, &line.product, quantity).await?
        {
            let check = QuantityCheck {
                question,
                action: format!("/cart/{index}/quantity"),
                field: "quantity",
                value: quantity.to_string(),
                quantity: quantity.to_string(),
            };
            return cart_page(&screen, &headers, None, Vec::new(), Some(check)).await;
        }
    }
    let outcome = match parsed {
        Ok(quantity) => screen.with_session(&headers, |session| {
            session.cart.set_quantity(index, quantity)
        }),
        Err(_) => Some(Err(StationError::Invalid(quantity_mistake(&form.quantity)))),
    };
    cart_after(&screen, &headers, outcome).await
}

pub(super) async fn cart_after(
    screen: &ScreenState,
    headers: &HeaderMap,
    outcome: Option<Result<(), StationError>>,
) -> PageResult {
    match outcome {
        None => Ok(to_sign_in()),
        Some(Ok(())) => cart_response(screen, headers, None, Vec::new()).await,
        Some(Err(error)) => {
            cart_response(screen, headers, Some(message_of(&error)), Vec::new()).await
        }
    }
}

#[derive(Deserialize)]
pub(super) struct AmountForm {
    #[serde(default)]
    amount: String,
}

pub(super) async fn line_discount(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(index): TillPath<usize>,
    TillForm(form): TillForm<AmountForm>,
) -> PageResult {
    let settings = screen.station.till_settings().await?;
    let outcome = match settings.currency.parse_major(&form.amount) {
        Ok(minor) => screen.with_session(&headers, |session| {
            let role = session.cashier.role;
            session
                .cart
                .set_line_discount(role, settings.currency, index, minor)
        }),
        Err(_) => Some(Err(StationError::Invalid(amount_mistake(
            "the discount",
            settings.currency,
            &form.amount,
        )))),
    };
    cart_after(&screen, &headers, outcome).await
}

pub(super) async fn basket_discount(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillForm(form): TillForm<AmountForm>,
) -> PageResult {
    let settings = screen.station.till_settings().await?;
    let outcome = match settings.currency.parse_major(&form.amount) {
        Ok(minor) => screen.with_session(&headers, |session| {
            let role = session.cashier.role;
            session.cart.set_discount(role, settings.currency, minor)
        }),
        Err(_) => Some(Err(StationError::Invalid(amount_mistake(
            "the basket discount",
            settings.currency,
            &form.amount,
        )))),
    };
    cart_after(&screen, &headers, outcome).await
}

pub(super) async fn remove_line(
    State(screen): State<ScreenState>,
    headers: HeaderMap,
    TillPath(index): TillPath<usize>,
) -> PageResult {
    let outcome = screen.with_session(&headers, |session| session.cart.remove(index).map(|_| ()));
    cart_after(&screen, &headers, outcome).await
}
