//! Receipts: the search and its keyset pages, and one receipt with its refunds and voids,
//! refunded or voided from here by the till's own rules.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::ids::SaleId;
use nexus_domain::roles::may_return_sale;
use nexus_domain::tax::PriceMode;
use nexus_domain::{Permission, Quantity, Role};
use nexus_server::services::receipts::{ReceiptSearch, receipt, search};
use nexus_server::services::sales::{NewReturnParts, return_sale};
use nexus_server::state::AppState;
use nexus_store::{Sale, SaleKind, TenderKind};
use uuid::Uuid;

use super::context::{PageError, Viewer, percent_encode, sentence};
use super::input::{Fields, SignedPost, parse_amount, parse_quantity};
use super::text::{paid_by, tender};
use crate::format::Qty;
use crate::forms::{Choice, FieldErrors};
use crate::views::common::Tender;
use crate::views::receipts::{
    LevyLine, ReceiptContent, ReceiptLine, ReceiptRow, ReceiptSearch as SearchValues,
    ReceiptStatus, ReceiptsContent, RefundRecord, TenderLine, VoidRecord,
};
use crate::{Flash, Section, paths};

/// The search as typed, and what the service is asked; bad fields become messages.
fn read_search(viewer: &Viewer, query: &Fields) -> (ReceiptSearch, FieldErrors) {
    let mut errors = FieldErrors::new();
    let mut uuid = |name: &str| match query.uuid(name) {
        Ok(found) => found,
        Err(message) => {
            errors.add(name, message);
            None
        }
    };
    let branch = uuid("branch");
    let cashier = uuid("cashier");
    let mut amount = |name: &str| {
        query
            .optional(name)
            .and_then(|text| match parse_amount(text, viewer.settings.currency) {
                Ok(minor) => Some(minor),
                Err(message) => {
                    errors.add(name, message);
                    None
                }
            })
    };
    let min_minor = amount("min");
    let max_minor = amount("max");
    let tender = query.optional("tender").map(str::to_owned);
    if tender
        .as_deref()
        .is_some_and(|value| Tender::parse(value).is_none())
    {
        errors.add("tender", "Choose one of the ways of paying in the list.");
    }
    let date = |name: &str, errors: &mut FieldErrors| {
        let text = query.optional(name)?;
        if nexus_server::calendar::parse_date(text).is_none() {
            errors.add(name, "Enter a date such as 2026-12-01.");
            return None;
        }
        Some(text.to_owned())
    };
    let from = date("from", &mut errors);
    let to = date("to", &mut errors);
    (
        ReceiptSearch {
            number: query.optional("number").map(str::to_owned),
            from,
            to,
            branch,
            cashier,
            tender: tender.filter(|value| Tender::parse(value).is_some()),
            min_minor,
            max_minor,
            before: query.optional("before").map(str::to_owned),
        },
        errors,
    )
}

pub(crate) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewSales)?;
    let (wanted, mut errors) = read_search(&viewer, &query);
    let page = match search(&state, &viewer.auth, &wanted).await {
        Ok(page) => page,
        Err(error) if error.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            errors.add(error.field().unwrap_or(""), sentence(error.message()));
            nexus_server::services::receipts::ReceiptPage {
                rows: Vec::new(),
                next: None,
            }
        }
        Err(error) => return Err(error.into()),
    };
    let locale = viewer.locale;
    let rows = page
        .rows
        .iter()
        .map(|row| ReceiptRow {
            id: row.id.as_uuid(),
            number: row
                .receipt_number
                .clone()
                .unwrap_or_else(|| "(no number)".to_owned()),
            at: locale.time(row.occurred_at.as_millis()),
            branch: row.branch_name.clone(),
            cashier: row.cashier_name.clone(),
            total: locale.money(row.total_minor),
            paid_by: paid_by(&row.tenders),
            status: if row.voided {
                ReceiptStatus::Voided
            } else if row.refunded_minor >= row.total_minor && row.total_minor > 0 {
                ReceiptStatus::Refunded
            } else if row.refunded_minor > 0 {
                ReceiptStatus::PartlyRefunded
            } else {
                ReceiptStatus::Completed
            },
        })
        .collect();
    // The next page keeps every filter as typed.
    let kept: Vec<String> = [
        "number", "from", "to", "branch", "cashier", "tender", "min", "max",
    ]
    .iter()
    .filter_map(|name| {
        query
            .optional(name)
            .map(|value| format!("{name}={}", percent_encode(value)))
    })
    .collect();
    let next_page_url = page.next.map(|before| {
        let mut parts = kept.clone();
        parts.push(format!("before={}", percent_encode(&before)));
        format!("{}?{}", paths::RECEIPTS, parts.join("&"))
    });
    let values = search_values(&state, &viewer, &query).await?;
    Ok(viewer.page(
        Section::Receipts,
        ReceiptsContent {
            search: values,
            errors,
            rows,
            next_page_url,
        },
    ))
}

async fn search_values(
    state: &AppState,
    viewer: &Viewer,
    query: &Fields,
) -> Result<SearchValues, PageError> {
    let branch = query.text("branch");
    let mut branches = vec![Choice::new("", "Any branch").selected_if(branch.is_empty())];
    branches.extend(super::admin::branch_choices(state, viewer, branch).await?);
    let cashier = query.text("cashier");
    let mut cashiers = vec![Choice::new("", "Anyone").selected_if(cashier.is_empty())];
    if viewer.role() != Role::Cashier {
        for member in nexus_server::services::staff::staff(state, &viewer.auth).await? {
            let id = member.id.as_uuid().to_string();
            let picked = id == cashier;
            cashiers.push(Choice::new(id, member.name).selected_if(picked));
        }
    }
    let mut tenders = vec![Choice::new("", "Any way").selected_if(query.text("tender").is_empty())];
    tenders.extend(Tender::choices(Tender::parse(query.text("tender"))));
    Ok(SearchValues {
        number: query.text("number").to_owned(),
        from: query.text("from").to_owned(),
        to: query.text("to").to_owned(),
        min: query.text("min").to_owned(),
        max: query.text("max").to_owned(),
        branches,
        cashiers,
        tenders,
    })
}

/// How much of each line (by line number) the returns gave back, as a positive quantity.
fn returned_per_line(returns: &[Sale]) -> Vec<(i32, Quantity)> {
    let mut returned: Vec<(i32, Quantity)> = Vec::new();
    for line in returns.iter().flat_map(|sale| &sale.lines) {
        let Some(original) = line.refers_to_line else {
            continue;
        };
        let quantity = line.quantity.checked_neg().unwrap_or(Quantity::ZERO);
        match returned.iter_mut().find(|(number, _)| *number == original) {
            Some(entry) => entry.1 = entry.1.checked_add(quantity).unwrap_or(entry.1),
            None => returned.push((original, quantity)),
        }
    }
    returned
}

/// The receipt page; `refund` and `void` hold what a form sent back with its mistakes.
async fn receipt_content(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    refund: Option<(&Fields, FieldErrors)>,
    void: Option<(&Fields, FieldErrors)>,
) -> Result<ReceiptContent, PageError> {
    let (sale, returns) = receipt(state, &viewer.auth, id).await?;
    // The customer as they are known now; one the service never learned of is left out.
    let customer = match sale.customer_id {
        None => None,
        Some(customer) => {
            nexus_server::services::customers::find_customer(state, &viewer.auth, customer)
                .await?
                .map(|customer| match customer.phone {
                    Some(phone) => format!("{} ({phone})", customer.name),
                    None => customer.name,
                })
        }
    };
    let locale = viewer.locale;
    let names = nexus_server::services::staff::staff(state, &viewer.auth).await?;
    let name_of = |user| {
        names
            .iter()
            .find(|member| member.id == user)
            .map_or_else(|| "Someone".to_owned(), |member| member.name.clone())
    };
    // A return a manager approved at the till says who did.
    let by_whom = |cashier, approver: Option<nexus_domain::UserId>| match approver {
        Some(approver) => format!("{} (approved by {})", name_of(cashier), name_of(approver)),
        None => name_of(cashier),
    };
    let branch =
        nexus_server::services::branches::branch(state, &viewer.auth, sale.branch_id.as_uuid())
            .await
            .map(|branch| branch.name)
            .unwrap_or_default();
    let till = match sale.device_id {
        Some(device) => nexus_server::services::stations::stations(state, &viewer.auth)
            .await
            .ok()
            .and_then(|stations| stations.into_iter().find(|s| s.id == device))
            .map_or_else(|| "A till".to_owned(), |station| station.name),
        None => "The dashboard".to_owned(),
    };
    let returned = returned_per_line(&returns);
    let voided = returns.iter().find(|sale| sale.kind == SaleKind::Void);
    let refunds: Vec<&Sale> = returns
        .iter()
        .filter(|sale| sale.kind == SaleKind::Refund)
        .collect();
    let refunded_minor: i64 = refunds.iter().map(|refund| -refund.total_minor).sum();
    let status = if voided.is_some() {
        ReceiptStatus::Voided
    } else if refunded_minor >= sale.total_minor && sale.total_minor > 0 {
        ReceiptStatus::Refunded
    } else if refunded_minor > 0 {
        ReceiptStatus::PartlyRefunded
    } else {
        ReceiptStatus::Completed
    };
    let open = matches!(
        status,
        ReceiptStatus::Completed | ReceiptStatus::PartlyRefunded
    );
    let allowed = may_return_sale(viewer.role(), viewer.auth.user.id, sale.cashier_id).is_ok();
    let refund_form = refund.as_ref().map(|(form, _)| *form);
    let lines = sale
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let back = returned
                .iter()
                .find(|(number, _)| *number == line.line_no)
                .map_or(Quantity::ZERO, |(_, quantity)| *quantity);
            let refundable = line
                .quantity
                .checked_sub(back)
                .filter(|left| !left.is_negative())
                .unwrap_or(Quantity::ZERO);
            ReceiptLine {
                name: line.name.clone(),
                sku: line.sku.clone(),
                quantity: Qty(line.quantity),
                pack: line.pack.as_ref().map(pack_text),
                unit_price: locale.money(line.unit_price_minor),
                discount: locale.money(line.discount_minor),
                total: locale.money(line.total_minor),
                refundable: Qty(if voided.is_some() {
                    Quantity::ZERO
                } else {
                    refundable
                }),
                refund_value: refund_form
                    .map(|form| form.text(&format!("qty_{index}")).to_owned())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let levy_names = &viewer.settings.tax.levies;
    let levies = sale
        .levies
        .iter()
        .map(|(code, amount)| LevyLine {
            name: levy_names
                .iter()
                .find(|levy| levy.code == *code)
                .map_or_else(
                    || code.clone(),
                    |levy| {
                        format!(
                            "{} {}%",
                            levy.name,
                            nexus_domain::tax::format_rate_percent(levy.rate_basis_points)
                        )
                    },
                ),
            amount: locale.money(*amount),
        })
        .collect();
    let tenders = sale
        .tenders
        .iter()
        .map(|paid| TenderLine {
            label: tender(paid.kind, paid.network.as_deref())
                .label()
                .to_owned(),
            amount: locale.money(paid.amount_minor),
            reference: match (&paid.phone, &paid.reference) {
                (Some(phone), Some(reference)) => Some(format!("{phone}, {reference}")),
                (Some(only), None) | (None, Some(only)) => Some(only.clone()),
                (None, None) => None,
            },
            unverified: paid.kind == TenderKind::Momo && !paid.verified,
        })
        .collect();
    let tax_note = if sale.tax_minor == 0 {
        String::new()
    } else {
        match sale.price_mode {
            PriceMode::Inclusive => "Prices include VAT and levies.".to_owned(),
            PriceMode::Exclusive => "VAT and levies added to prices.".to_owned(),
        }
    };
    let (refund_errors, void_errors) = (
        refund.map(|(_, errors)| errors).unwrap_or_default(),
        void.as_ref()
            .map(|(_, errors)| errors.clone())
            .unwrap_or_default(),
    );
    Ok(ReceiptContent {
        csrf: viewer.csrf.clone(),
        id,
        number: sale
            .receipt_number
            .clone()
            .unwrap_or_else(|| "(no number)".to_owned()),
        at: locale.time(sale.occurred_at.as_millis()),
        branch,
        till,
        cashier: name_of(sale.cashier_id),
        status,
        customer,
        wholesale: sale.price_list == nexus_domain::PriceList::Wholesale,
        lines,
        subtotal: locale.money(sale.gross_minor),
        discount: locale.money(sale.discount_minor),
        levies,
        tax_total: locale.money(sale.tax_minor),
        total: locale.money(sale.total_minor),
        tax_note,
        tenders,
        change: locale.money(sale.change_minor),
        refunds: refunds
            .iter()
            .map(|refund| RefundRecord {
                at: locale.time(refund.occurred_at.as_millis()),
                by: by_whom(refund.cashier_id, refund.approved_by),
                amount: locale.money(-refund.total_minor),
                lines: refund
                    .lines
                    .iter()
                    .map(|line| {
                        let quantity = Qty(line.quantity.checked_neg().unwrap_or(line.quantity));
                        match &line.pack {
                            Some(pack) => {
                                format!("{quantity} {} × {}", pack_text(pack), line.name)
                            }
                            None => format!("{quantity} × {}", line.name),
                        }
                    })
                    .collect(),
                reason: refund.reason.clone().unwrap_or_default(),
            })
            .collect(),
        void: voided.map(|void| VoidRecord {
            at: locale.time(void.occurred_at.as_millis()),
            by: by_whom(void.cashier_id, void.approved_by),
            reason: void.reason.clone().unwrap_or_default(),
        }),
        can_refund: open && allowed,
        // As at the till and in the API: a void cancels whatever is not refunded yet.
        can_void: open && allowed,
        refund_errors,
        void_errors,
        refund_reason: refund_form
            .map(|form| form.text("reason").to_owned())
            .unwrap_or_default(),
        void_reason: void
            .map(|(form, _)| form.text("reason").to_owned())
            .unwrap_or_default(),
    })
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewSales)?;
    let content = receipt_content(&state, &viewer, id, None, None).await?;
    Ok(viewer.page(Section::Receipts, content))
}

pub(crate) async fn refund(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::Refund)?;
    let (sale, _) = receipt(&state, &viewer.auth, id).await?;
    let mut errors = FieldErrors::new();
    let mut lines = Vec::new();
    for (index, line) in sale.lines.iter().enumerate() {
        let field = format!("qty_{index}");
        let Some(text) = form.optional(&field) else {
            continue;
        };
        match parse_quantity(text, false) {
            Ok(quantity) if quantity == Quantity::ZERO => {}
            Ok(quantity) => lines.push((line.line_no, quantity)),
            Err(message) => errors.add(field, message),
        }
    }
    let reason = form.text("reason").to_owned();
    if reason.is_empty() {
        errors.add("reason", "Say why, e.g. damaged packet.");
    }
    if lines.is_empty() && errors.is_empty() {
        errors.add_form("Enter how many of an item to refund.");
    }
    if errors.is_empty() {
        let now = state.clock.now();
        let parts = NewReturnParts {
            id: SaleId::generate(now),
            kind: SaleKind::Refund,
            lines,
            reason: Some(reason),
            tender: None,
            occurred_at: None,
            device_id: None,
            receipt_number: None,
            approved_by: None,
        };
        match return_sale(&state, &viewer.auth, id, parts).await {
            Ok((refund, _)) => {
                return Ok(viewer.redirect(
                    &paths::receipt(&id),
                    Flash::success(format!(
                        "Refunded {}. Give the customer their money back.",
                        viewer.locale.money(-refund.total_minor)
                    )),
                ));
            }
            Err(error)
                if error.status().is_client_error() && error.status() != StatusCode::NOT_FOUND =>
            {
                errors.add_form(sentence(error.message()));
            }
            Err(error) => return Err(error.into()),
        }
    }
    let content = receipt_content(&state, &viewer, id, Some((&form, errors)), None).await?;
    Ok(viewer.page_with(StatusCode::UNPROCESSABLE_ENTITY, Section::Receipts, content))
}

pub(crate) async fn void(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::Refund)?;
    let reason = form.text("reason").to_owned();
    let mut errors = FieldErrors::new();
    if reason.is_empty() {
        errors.add("reason", "Say why the sale is voided.");
    } else {
        let parts = NewReturnParts {
            id: SaleId::generate(state.clock.now()),
            kind: SaleKind::Void,
            lines: Vec::new(),
            reason: Some(reason),
            tender: None,
            occurred_at: None,
            device_id: None,
            receipt_number: None,
            approved_by: None,
        };
        match return_sale(&state, &viewer.auth, id, parts).await {
            Ok(_) => {
                return Ok(viewer.redirect(
                    &paths::receipt(&id),
                    Flash::success("The sale is voided and its stock is back on the shelf."),
                ));
            }
            Err(error)
                if error.status().is_client_error() && error.status() != StatusCode::NOT_FOUND =>
            {
                errors.add_form(sentence(error.message()));
            }
            Err(error) => return Err(error.into()),
        }
    }
    let content = receipt_content(&state, &viewer, id, None, Some((&form, errors))).await?;
    Ok(viewer.page_with(StatusCode::UNPROCESSABLE_ENTITY, Section::Receipts, content))
}

/// "carton (24)": what a line sold by the pack says after its number of packs.
fn pack_text(pack: &nexus_store::PackSold) -> String {
    format!("{} ({})", pack.name, pack.units)
}
