//! Customer accounts in the dashboard: a customer's statement and the payment form, and who
//! owes what, on the same services as `/api/v1/customers/{id}/account`, `…/payments` and
//! `/api/v1/customers/debtors`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::Permission;
use nexus_domain::account::EntryKind;
use nexus_server::services::accounts::{self, PaymentInput};
use nexus_server::state::AppState;
use uuid::Uuid;

use super::context::{PageError, Viewer};
use super::input::{SignedPost, parse_amount};
use super::text::form_errors;
use crate::forms::FieldErrors;
use crate::views::accounts::{
    AccountContent, DebtorRow, DebtorsContent, PaymentValues, StatementRow,
};
use crate::{Flash, Section, paths};

/// The service's field names where the form's differ.
const PAYMENT_FIELDS: &[(&str, &str)] = &[("amount_minor", "amount")];

fn what(kind: EntryKind, paid_by: Option<nexus_domain::TenderKind>) -> String {
    match (kind, paid_by) {
        (EntryKind::Sale, _) => "Sale on account".to_owned(),
        (EntryKind::Refund, _) => "Refund to account".to_owned(),
        (EntryKind::Payment, Some(nexus_domain::TenderKind::Momo)) => {
            "Payment (mobile money)".to_owned()
        }
        (EntryKind::Payment, _) => "Payment (cash)".to_owned(),
    }
}

async fn account_page_with(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    status: StatusCode,
    values: PaymentValues,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let account = match accounts::account(state, &viewer.auth, id).await {
        Ok(account) => account,
        Err(error) if error.status() == StatusCode::NOT_FOUND => return Err(PageError::NotFound),
        Err(error) => return Err(error.into()),
    };
    let money = |minor| viewer.locale.money(minor);
    let statement = account
        .statement
        .iter()
        .rev()
        .map(|line| StatementRow {
            at: viewer.locale.time(line.entry.occurred_at.as_millis()),
            what: what(line.entry.kind, line.entry.payment_kind),
            receipt: line.entry.receipt_number.clone(),
            amount: money(line.entry.amount_minor),
            balance: money(line.balance_minor),
        })
        .collect();
    Ok(viewer.page_with(
        status,
        Section::Customers,
        AccountContent {
            csrf: viewer.csrf.clone(),
            id,
            name: account.name,
            owed: money(account.balance_minor),
            limit: account.credit_limit_minor.map(money),
            left: money(account.credit_left_minor),
            over_limit: (account.over_limit_minor > 0 && account.credit_limit_minor.is_some())
                .then(|| money(account.over_limit_minor)),
            statement,
            can_take_payment: viewer.may(Permission::Sell),
            values,
            errors,
            currency_code: viewer.settings.currency.code().to_owned(),
        },
    ))
}

/// A payment form with a fresh id, so that the page posted twice records it once.
fn fresh_values(state: &AppState) -> PaymentValues {
    PaymentValues {
        id: nexus_domain::ids::new_v7(state.clock.now()).to_string(),
        ..PaymentValues::default()
    }
}

pub(crate) async fn account_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewSales)?;
    let values = fresh_values(&state);
    account_page_with(
        &state,
        &viewer,
        id,
        StatusCode::OK,
        values,
        FieldErrors::new(),
    )
    .await
}

pub(crate) async fn take_payment(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::Sell)?;
    let values = PaymentValues {
        id: form.text("id").trim().to_owned(),
        amount: form.text("amount").trim().to_owned(),
        kind: form.text("kind").to_owned(),
        network: form.text("network").to_owned(),
        phone: form.text("phone").trim().to_owned(),
        reference: form.text("reference").trim().to_owned(),
    };
    let mut errors = FieldErrors::new();
    let amount = parse_amount(&values.amount, viewer.settings.currency)
        .map_err(|message| errors.add("amount", message))
        .ok();
    // A form without its id (a page from before, say) gets one now: it is still one payment.
    let payment_id = values
        .id
        .parse::<Uuid>()
        .unwrap_or_else(|_| nexus_domain::ids::new_v7(state.clock.now()));
    let Some(amount_minor) = amount else {
        return account_page_with(
            &state,
            &viewer,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            values,
            errors,
        )
        .await;
    };
    let momo = values.kind == "momo";
    let input = PaymentInput {
        id: payment_id,
        kind: if momo { "momo" } else { "cash" }.to_owned(),
        amount_minor,
        network: momo.then(|| values.network.clone()),
        phone: momo.then(|| values.phone.clone()),
        reference: momo.then(|| values.reference.clone()),
        branch_id: None,
        occurred_at: None,
    };
    match accounts::take_payment(&state, &viewer.auth, id, input).await {
        Ok(_) => Ok(viewer.redirect(
            &paths::customer_account(&id),
            Flash::success(format!(
                "{} recorded. Every till counts it from its next sync.",
                viewer.locale.money(amount_minor)
            )),
        )),
        Err(error) if error.status() == StatusCode::NOT_FOUND => Err(PageError::NotFound),
        Err(error) if error.status().is_client_error() => {
            account_page_with(
                &state,
                &viewer,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                values,
                form_errors(&error, PAYMENT_FIELDS),
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn debtors_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewSales)?;
    let debtors = accounts::debtors(&state, &viewer.auth).await?;
    let total: i64 = debtors.iter().map(|debtor| debtor.balance_minor).sum();
    let rows: Vec<DebtorRow> = debtors
        .into_iter()
        .map(|debtor| DebtorRow {
            id: debtor.customer_id,
            over_limit: debtor
                .credit_limit_minor
                .is_none_or(|limit| debtor.balance_minor > limit),
            owed: viewer.locale.money(debtor.balance_minor),
            limit: debtor
                .credit_limit_minor
                .map(|limit| viewer.locale.money(limit)),
            oldest: viewer.locale.time(debtor.oldest_unpaid_at.as_millis()),
            phone: debtor.phone.unwrap_or_default(),
            whatsapp: debtor.whatsapp_reminder,
            name: debtor.name,
        })
        .collect();
    let over_limit = rows.iter().filter(|row| row.over_limit).count();
    Ok(viewer.page(
        Section::Customers,
        DebtorsContent {
            rows,
            total: viewer.locale.money(total),
            over_limit,
        },
    ))
}
