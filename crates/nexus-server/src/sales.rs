//! Recording a sale: the one code path, called by the API today and by sync later, so it takes
//! its clock and its actor as parameters and trusts nothing else.

use std::collections::HashMap;

use nexus_domain::ids::ProductId;
use nexus_domain::limits::{check_occurred_at, check_price, check_quantity};
use nexus_domain::roles::Actor;
use nexus_domain::tender::{Tender, TenderError, check_coverage};
use nexus_domain::values::optional_printable;
use nexus_domain::{Clock, LineInput, TenantId, UserId, compute_sale};
use nexus_store::{Sale, SaleKind, SaleLine, Store};
use nexus_sync::{NewSale, NewTender};

use crate::calendar;
use crate::error::{ApiError, ApiResult};

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
    if let Some(existing) = store.get_sale(tenant, request.id).await? {
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
    let settings = store.settings(tenant).await?;
    let products = products_named(
        store,
        tenant,
        request.lines.iter().map(|line| line.product_id).collect(),
    )
    .await?;
    let (sale, local_day) =
        price_sale(&settings, &products, clock.now(), actor_id, actor, request)?;
    Ok(store.record_sale(tenant, &sale, local_day).await?)
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

/// Checks a sale request and prices it with the tenant's settings and the catalogue, in memory:
/// the sale as it will be stored, and its local day. `products` holds at least the products the
/// lines name.
pub fn price_sale(
    settings: &nexus_store::TenantSettings,
    products: &HashMap<ProductId, nexus_store::Product>,
    now: nexus_domain::UnixMillis,
    actor_id: UserId,
    actor: &Actor<'_>,
    request: NewSale,
) -> ApiResult<(Sale, i32)> {
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
    for line in &request.lines {
        let product = products.get(&line.product_id).ok_or_else(|| {
            invalid(format!("product {} does not exist", line.product_id)).with_field("lines")
        })?;
        if !line.quantity.is_positive() {
            return Err(invalid("every line quantity must be positive").with_field("lines"));
        }
        check_quantity(line.quantity, "lines")?;
        if let Some(price) = line.unit_price_minor {
            check_price(price, "lines")?;
        }
        if let Some(discount) = line.discount_minor {
            check_price(discount, "lines")?;
        }
        inputs.push(LineInput {
            unit_price_minor: line.unit_price_minor.unwrap_or(product.price_minor),
            quantity: line.quantity,
            discount_minor: line.discount_minor.unwrap_or(0),
            tax_class: product.tax_class,
        });
    }
    let basket_discount = request.discount_minor.unwrap_or(0);
    let (computed, totals) = compute_sale(&settings.tax, &inputs, basket_discount)?;
    // Discounts within what the person ringing up may give (the till checks the same).
    let mut after_line_discounts = 0_i64;
    for (input, line) in inputs.iter().zip(&computed) {
        if !actor
            .role
            .may_discount(input.discount_minor, line.gross_minor)
        {
            return Err(discount_refused(actor.role, settings, line.gross_minor));
        }
        after_line_discounts += line.gross_minor - input.discount_minor;
    }
    if !actor
        .role
        .may_discount(basket_discount, after_line_discounts)
    {
        return Err(discount_refused(actor.role, settings, after_line_discounts));
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
        .zip(inputs.iter().zip(computed))
        .enumerate()
        .map(|(index, (line, (input, tax)))| {
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
        // The API's sale request has neither; a station's sale op sets them after pricing.
        shift_id: None,
        customer_id: None,
        currency: settings.currency,
        price_mode: settings.tax.mode,
        gross_minor: totals.gross_minor,
        discount_minor: totals.discount_minor,
        net_minor: totals.net_minor,
        tax_minor: totals.tax_minor,
        total_minor: totals.total_minor,
        levies: totals.levies,
        tendered_minor: coverage.tendered_minor,
        change_minor: coverage.change_minor,
        reason: None,
        occurred_at,
        recorded_at: now,
        lines,
        tenders,
    };
    Ok((sale, calendar::local_day(occurred_at.as_millis(), offset)))
}
