//! Sales, refunds and voids: the one code path for the JSON API, the dashboard and stations'
//! pushes, so it takes its clock and its actor as parameters and trusts nothing else.

use std::collections::HashMap;

use nexus_domain::ids::ProductId;
use nexus_domain::limits::{check_occurred_at, check_price, check_quantity};
use nexus_domain::pack::PackSold;
use nexus_domain::roles::Actor;
use nexus_domain::roles::may_return_sale;
use nexus_domain::tender::{Tender, TenderError, check_coverage};
use nexus_domain::values::optional_printable;
use nexus_domain::values::optional_reason;
use nexus_domain::{Clock, LineInput, Permission, PriceList, TenantId, UserId, compute_sale};
use nexus_domain::{Quantity, SaleId};
use nexus_store::{NewReturn, Sale, SaleKind, SaleLine, Store, TenderKind, UserRecord};
use uuid::Uuid;

use crate::state::AppState;
use nexus_sync::{NewSale, NewTender};

use crate::calendar;
use crate::error::{ApiError, ApiResult};
use crate::events::Topic;
use crate::services::accounts::{balances_before, check_credit_sale};

const MAX_LINES: usize = 500;
const MAX_TENDERS: usize = 10;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::validation(message)
}

fn parse_tender(request: &NewTender) -> Result<Tender, TenderError> {
    Tender::parse(
        &request.kind,
        request.amount_minor,
        request.network.as_deref(),
        request.phone.as_deref(),
        request.reference.as_deref(),
    )
}

/// Records a finished sale for `actor` at the time `clock` gives. Returns the sale as stored and
/// whether this call created it (`false`: the id was already recorded; the original is returned
/// unchanged, whatever this request said).
pub async fn record_sale(
    store: &dyn Store,
    clock: &dyn Clock,
    tenant: TenantId,
    actor_id: UserId,
    actor: &Actor<'_>,
    request: NewSale,
) -> ApiResult<(Sale, bool)> {
    let mut wanted: Vec<ProductId> = request.lines.iter().map(|line| line.product_id).collect();
    wanted.sort();
    wanted.dedup();
    // One read for all the sale needs: each transaction waits its turn behind an import's.
    let inputs = store.sale_inputs(tenant, request.id, &wanted).await?;
    if let Some(existing) = inputs.existing {
        // Only the same sale, at a branch the actor works at, is answered with the original: an
        // id that names anything else is a clash, and shows nothing of the other record.
        if existing.kind != SaleKind::Sale || !actor.can_see_branch(existing.branch_id) {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "conflict",
                "that id belongs to a refund or void",
            )
            .with_field("id"));
        }
        return Ok((existing, false));
    }
    let settings = inputs.settings;
    let products: HashMap<ProductId, nexus_store::Product> = inputs
        .products
        .into_iter()
        .map(|product| (product.id, product))
        .collect();
    let customer = match request.customer_id {
        None => None,
        Some(customer) => Some(store.get_customer(tenant, customer).await?.ok_or_else(|| {
            invalid(format!("customer {customer} does not exist")).with_field("customer_id")
        })?),
    };
    let priced = price_sale(
        &settings,
        &products,
        clock.now(),
        actor_id,
        actor,
        request,
        customer.as_ref().map(|customer| customer.price_list),
        Authority::Enforce,
    )?;
    let credit = nexus_domain::account::credit_of(&priced.sale.tenders);
    if credit > 0 {
        let owed = match &customer {
            Some(customer) => balances_before(store, tenant, &[customer.id])
                .await?
                .get(&customer.id)
                .copied()
                .unwrap_or(0),
            None => 0,
        };
        check_credit_sale(
            settings.currency,
            customer.as_ref(),
            owed,
            credit,
            Authority::Enforce,
        )?;
    }
    Ok(store
        .record_sale(tenant, &priced.sale, priced.local_day)
        .await?)
}

/// Records a finished sale rung up by the signed-in person, and tells the pages that show sales
/// and stock.
pub async fn sell(
    state: &AppState,
    auth: &crate::auth::Authenticated,
    request: NewSale,
) -> ApiResult<(Sale, bool)> {
    let recorded = record_sale(
        state.store.as_ref(),
        state.clock.as_ref(),
        auth.tenant,
        auth.user.id,
        &auth.actor(),
        request,
    )
    .await?;
    if recorded.1 {
        state.events.publish(auth.tenant, Topic::Sales).await;
        state.events.publish(auth.tenant, Topic::Stock).await;
    }
    Ok(recorded)
}

fn discount_refused(
    role: nexus_domain::Role,
    settings: &nexus_store::TenantSettings,
    amount_minor: i64,
) -> ApiError {
    invalid(format!(
        "a {role} may give at most {} % off ({} of {}); a manager or owner must ring up a larger discount",
        role.max_discount_basis_points() / 100,
        settings
            .currency
            .format_minor(role.max_discount_minor(amount_minor)),
        settings.currency.format_minor(amount_minor),
    ))
    .with_field("discount_minor")
}

/// The products among `ids` that exist, each read once, by id.
pub async fn products_named(
    store: &dyn Store,
    tenant: TenantId,
    mut wanted: Vec<ProductId>,
) -> nexus_store::StoreResult<HashMap<ProductId, nexus_store::Product>> {
    wanted.sort();
    wanted.dedup();
    Ok(store
        .products_by_ids(tenant, &wanted)
        .await?
        .into_iter()
        .map(|product| (product.id, product))
        .collect())
}

/// What happens to a price or discount beyond the rights of whoever rang the sale up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authority {
    /// Refused: a sale asked for now, through the API.
    Enforce,
    /// Kept and reported: a sale that already happened at a till (it arrived by sync).
    Flag,
}

/// Something a sale did beyond its staff member's rights, flagged for the owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// `price_override` or `discount_over_limit`.
    pub kind: &'static str,
    pub detail: String,
}

/// A line's catalogue price and the pack it is sold by: the product's own price, or its pack's.
/// A till that sold by a pack the catalogue has since changed or dropped is recorded as it sold
/// (its units, its price); asked through the API, the pack must be the catalogue's.
fn pack_of_line(
    product: &nexus_store::Product,
    sold: Option<&PackSold>,
    price: Option<i64>,
    list: PriceList,
    authority: Authority,
) -> ApiResult<(i64, Option<PackSold>)> {
    let Some(sold) = sold else {
        return Ok((
            list.price(product.price_minor, product.wholesale_price_minor),
            None,
        ));
    };
    if !(2..=nexus_domain::pack::MAX_PACK_UNITS).contains(&sold.units) {
        return Err(invalid(format!(
            "a pack holds 2 to {} units",
            nexus_domain::pack::MAX_PACK_UNITS
        ))
        .with_field("lines"));
    }
    let known = product
        .packs
        .iter()
        .find(|pack| pack.name.to_lowercase() == sold.name.trim().to_lowercase());
    match (known, authority) {
        (Some(pack), _) if pack.units == sold.units => Ok((
            list.price(pack.price_minor, pack.wholesale_price_minor),
            Some(pack.into()),
        )),
        (Some(pack), Authority::Enforce) => Err(invalid(format!(
            "the {} of {} holds {}, not {}",
            pack.name, product.sku, pack.units, sold.units
        ))
        .with_field("lines")),
        (None, Authority::Enforce) => Err(invalid(format!(
            "{} has no pack called {:?}",
            product.sku, sold.name
        ))
        .with_field("lines")),
        (_, Authority::Flag) => match price {
            Some(price) => Ok((price, Some(sold.clone()))),
            None => Err(invalid(format!(
                "the {} of {} is no longer in the catalogue; the line must say its price",
                sold.name, product.sku
            ))
            .with_field("lines")),
        },
    }
}

/// A sale as it will be stored, its local day, and what it did beyond its staff member's rights
/// (always empty under [`Authority::Enforce`]).
pub struct PricedSale {
    pub sale: Sale,
    pub local_day: i32,
    pub exceptions: Vec<Exception>,
}

/// Checks a sale request and prices it with the tenant's settings and the catalogue, in memory.
/// `products` holds at least the products the lines name; `customer_list` is the price list of
/// the sale's customer as the server knows them (`None`: a walk-in, or one not known here).
#[allow(clippy::too_many_arguments)]
pub fn price_sale(
    settings: &nexus_store::TenantSettings,
    products: &HashMap<ProductId, nexus_store::Product>,
    now: nexus_domain::UnixMillis,
    actor_id: UserId,
    actor: &Actor<'_>,
    request: NewSale,
    customer_list: Option<PriceList>,
    authority: Authority,
) -> ApiResult<PricedSale> {
    let mut exceptions = Vec::new();
    let list = request.price_list;
    // Wholesale is for the traders on the wholesale list; anyone else at wholesale is a price
    // of the seller's choosing, a right of its own.
    if list == PriceList::Wholesale
        && customer_list != Some(PriceList::Wholesale)
        && !actor.role.allows(Permission::SetPrice)
    {
        let detail = "sold at wholesale prices to a customer not on the wholesale list".to_owned();
        match authority {
            Authority::Enforce => {
                return Err(ApiError::forbidden(format!(
                    "a {} may sell at wholesale prices only to a customer on the wholesale list; \
                     permission {} is needed",
                    actor.role,
                    Permission::SetPrice.scope_name()
                ))
                .with_field("price_list"));
            }
            Authority::Flag => exceptions.push(Exception {
                kind: "wholesale_to_walk_in",
                detail,
            }),
        }
    }
    // A branch named in a body is a reference: unknown or not the actor's, it is a 422, the
    // same answer the store gives for a branch of another tenant.
    if !actor.can_see_branch(request.branch_id) {
        return Err(invalid(format!(
            "branch {} does not exist or is not yours",
            request.branch_id
        ))
        .with_field("branch_id"));
    }
    if request.lines.is_empty() || request.lines.len() > MAX_LINES {
        return Err(invalid(format!("a sale has 1 to {MAX_LINES} lines")).with_field("lines"));
    }
    if request.tenders.is_empty() || request.tenders.len() > MAX_TENDERS {
        return Err(invalid(format!("a sale has 1 to {MAX_TENDERS} tenders")).with_field("tenders"));
    }
    let occurred_at = check_occurred_at(request.occurred_at, now)?;
    let mut inputs = Vec::with_capacity(request.lines.len());
    let mut packs = Vec::with_capacity(request.lines.len());
    for line in &request.lines {
        let product = products.get(&line.product_id).ok_or_else(|| {
            invalid(format!("product {} does not exist", line.product_id)).with_field("lines")
        })?;
        if !line.quantity.is_positive() {
            return Err(invalid("every line quantity must be positive").with_field("lines"));
        }
        check_quantity(line.quantity, "lines")?;
        let (catalogue_price, pack) = pack_of_line(
            product,
            line.pack.as_ref(),
            line.unit_price_minor,
            list,
            authority,
        )?;
        if pack.is_some() {
            nexus_domain::pack::check_whole(line.quantity)
                .map_err(|error| invalid(error.to_string()).with_field("lines"))?;
            nexus_domain::pack::base_quantity(line.quantity, pack.as_ref())
                .filter(|moved| moved.milli() <= nexus_domain::limits::MAX_QUANTITY_MILLI)
                .ok_or_else(|| invalid("that many packs is too many").with_field("lines"))?;
        }
        if let Some(price) = line.unit_price_minor {
            check_price(price, "lines")?;
            // The catalogue sets prices; another price is a right of its own.
            if price != catalogue_price && !actor.role.allows(Permission::SetPrice) {
                let detail = format!(
                    "{}: sold at {}, catalogue price {}",
                    product.sku,
                    settings.currency.format_minor(price),
                    settings.currency.format_minor(catalogue_price)
                );
                match authority {
                    Authority::Enforce => {
                        return Err(ApiError::forbidden(format!(
                            "a {} may not sell at a price other than the catalogue's ({}); \
                             permission {} is needed",
                            actor.role,
                            detail,
                            Permission::SetPrice.scope_name()
                        ))
                        .with_field("lines"));
                    }
                    Authority::Flag => exceptions.push(Exception {
                        kind: "price_override",
                        detail,
                    }),
                }
            }
        }
        if let Some(discount) = line.discount_minor {
            check_price(discount, "lines")?;
        }
        packs.push(pack);
        inputs.push(LineInput {
            unit_price_minor: line.unit_price_minor.unwrap_or(catalogue_price),
            quantity: line.quantity,
            discount_minor: line.discount_minor.unwrap_or(0),
            tax_class: product.tax_class,
        });
    }
    let basket_discount = request.discount_minor.unwrap_or(0);
    let (computed, totals) = compute_sale(&settings.tax, &inputs, basket_discount)?;
    // Discounts within what the person ringing up may give (the till checks the same).
    let mut after_line_discounts = 0_i64;
    let mut over_limit = |amount_minor: i64| -> ApiResult<()> {
        match authority {
            Authority::Enforce => Err(discount_refused(actor.role, settings, amount_minor)),
            Authority::Flag => {
                exceptions.push(Exception {
                    kind: "discount_over_limit",
                    detail: discount_refused(actor.role, settings, amount_minor)
                        .message()
                        .to_owned(),
                });
                Ok(())
            }
        }
    };
    for (input, line) in inputs.iter().zip(&computed) {
        if !actor
            .role
            .may_discount(input.discount_minor, line.gross_minor)
        {
            over_limit(line.gross_minor)?;
        }
        after_line_discounts += line.gross_minor - input.discount_minor;
    }
    if !actor
        .role
        .may_discount(basket_discount, after_line_discounts)
    {
        over_limit(after_line_discounts)?;
    }
    let tenders = request
        .tenders
        .iter()
        .map(parse_tender)
        .collect::<Result<Vec<_>, _>>()?;
    let coverage = check_coverage(settings.currency, &tenders, totals.total_minor)?;
    let lines = request
        .lines
        .iter()
        .zip(inputs.iter().zip(computed).zip(packs))
        .enumerate()
        .map(|(index, (line, ((input, tax), pack)))| {
            let product = &products[&line.product_id];
            SaleLine {
                line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
                product_id: product.id,
                sku: product.sku.clone(),
                name: product.name.clone(),
                tax_class: input.tax_class,
                quantity: input.quantity,
                unit_price_minor: input.unit_price_minor,
                gross_minor: tax.gross_minor,
                discount_minor: tax.discount_minor,
                net_minor: tax.net_minor,
                tax_minor: tax.tax_minor,
                total_minor: tax.total_minor,
                levies: tax.levies,
                refers_to_line: None,
                pack,
                // The store costs the line from the product's cost history as it records it.
                unit_cost_minor: None,
                cost_minor: None,
            }
        })
        .collect();
    let offset = calendar::zone_offset_minutes(&settings.time_zone).unwrap_or(0);
    let sale = Sale {
        id: request.id,
        kind: SaleKind::Sale,
        refers_to: None,
        branch_id: request.branch_id,
        cashier_id: actor_id,
        device_id: request.device_id,
        receipt_number: optional_printable(
            request.receipt_number.as_deref(),
            "receipt_number",
            64,
        )?,
        // A station's sale op sets the shift after pricing, and the customer when it named them
        // beside the sale.
        shift_id: None,
        customer_id: request.customer_id,
        currency: settings.currency,
        price_mode: settings.tax.mode,
        price_list: list,
        gross_minor: totals.gross_minor,
        discount_minor: totals.discount_minor,
        net_minor: totals.net_minor,
        tax_minor: totals.tax_minor,
        total_minor: totals.total_minor,
        levies: totals.levies,
        tendered_minor: coverage.tendered_minor,
        change_minor: coverage.change_minor,
        reason: None,
        approved_by: None,
        occurred_at,
        recorded_at: now,
        lines,
        tenders,
    };
    Ok(PricedSale {
        sale,
        local_day: calendar::local_day(occurred_at.as_millis(), offset),
        exceptions,
    })
}

/// The sale `id`, if it exists and `actor` may see its branch.
pub async fn visible_sale(
    state: &AppState,
    tenant: TenantId,
    actor: &Actor<'_>,
    id: Uuid,
) -> ApiResult<Sale> {
    state
        .store
        .get_sale(tenant, SaleId::from_uuid(id))
        .await?
        .filter(|sale| actor.can_see_branch(sale.branch_id))
        .ok_or_else(|| ApiError::not_found("sale"))
}

/// Records a refund or void of `original` (already read, and visible to `user`) by `user`:
/// the one path for the API and for stations' refund ops. Returns the return as stored and
/// whether this call created it (`false`: its id was recorded before; the original answer).
pub async fn record_return(
    state: &AppState,
    tenant: TenantId,
    user: &UserRecord,
    original: &Sale,
    request: NewReturnParts,
) -> ApiResult<(Sale, bool)> {
    may_return_sale(user.role, user.id, original.cashier_id)
        .map_err(|refused| ApiError::forbidden(refused.to_string()))?;
    for (_, quantity) in &request.lines {
        check_quantity(*quantity, "lines")?;
    }
    let settings = state.store.settings(tenant).await?;
    let now = state.clock.now();
    // A return comes after its sale. A till whose clock says otherwise is wrong, and dating the
    // return before the sale would file the goods before a later count, where the ledger rule
    // ignores them: so it is dated no earlier than the sale, and never far in the future.
    let requested = check_occurred_at(request.occurred_at, now)?.as_millis();
    let occurred_at =
        nexus_domain::UnixMillis::from_millis(requested.max(original.occurred_at.as_millis()));
    let offset = calendar::zone_offset_minutes(&settings.time_zone).unwrap_or(0);
    let recorded = state
        .store
        .record_return(
            tenant,
            NewReturn {
                id: request.id,
                kind: request.kind,
                original: original.id,
                lines: request.lines,
                cashier: user.id,
                device_id: request.device_id,
                receipt_number: request.receipt_number,
                reason: request.reason,
                tender: request.tender,
                approved_by: request.approved_by,
                occurred_at,
                local_day: calendar::local_day(occurred_at.as_millis(), offset),
                recorded_at: now,
            },
        )
        .await?;
    if recorded.1 {
        state.events.publish(tenant, Topic::Sales).await;
        state.events.publish(tenant, Topic::Stock).await;
    }
    Ok(recorded)
}

/// A refund or void by the signed-in person of the sale `original`, if they may see it.
pub async fn return_sale(
    state: &AppState,
    auth: &crate::auth::Authenticated,
    original: Uuid,
    request: NewReturnParts,
) -> ApiResult<(Sale, bool)> {
    let original = visible_sale(state, auth.tenant, &auth.actor(), original).await?;
    record_return(state, auth.tenant, &auth.user, &original, request).await
}

/// A refund or void as the API and sync both describe it.
pub struct NewReturnParts {
    pub id: SaleId,
    pub kind: SaleKind,
    pub lines: Vec<(i32, Quantity)>,
    pub reason: Option<String>,
    pub tender: Option<TenderKind>,
    pub occurred_at: Option<i64>,
    /// The station and its receipt number, for a return that came by sync.
    pub device_id: Option<Uuid>,
    pub receipt_number: Option<String>,
    /// The manager who approved it with their PIN at the till.
    pub approved_by: Option<UserId>,
}

pub fn reason_text(reason: Option<&str>) -> ApiResult<Option<String>> {
    Ok(optional_reason(reason)?)
}
