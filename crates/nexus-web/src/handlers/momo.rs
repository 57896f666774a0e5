//! The mobile-money page: a statement upload (and, on a network's first, the layout to
//! confirm), the exceptions a manager signs off, the statements so far and what each cashier
//! took. What a statement decides is in `nexus_server::services::momo`; this reads it and words
//! it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::Permission;
use nexus_domain::momo::{Mapping, MatchState, Network, TimeFormat};
use nexus_server::error::ApiError;
use nexus_server::services::momo::{self, Preview};
use nexus_server::services::momo_requests::{self, AccountInput};
use nexus_server::state::AppState;

use super::context::{PageError, Viewer, sentence};
use super::input::{SignedPost, Upload};
use crate::forms::{Choice, FieldErrors};
use crate::layout::Flash;
use crate::views::momo::{
    AccountForm, ExceptionRow, LayoutContent, MomoContent, PreviewLine, StatementLine, TakingsLine,
    UnclaimedRow,
};
use crate::{Section, paths};

/// The shifts listed on the page; older ones are in the reports.
const TAKINGS_SHOWN: usize = 30;

fn network_choices(selected: Option<Network>) -> Vec<Choice> {
    Network::ALL
        .into_iter()
        .map(|network| {
            Choice::new(network.as_str(), network.name()).selected_if(Some(network) == selected)
        })
        .collect()
}

fn state_label(state: MatchState) -> &'static str {
    match state {
        MatchState::Matched => "Matched",
        MatchState::AmountDiffers => "The statement has another amount",
        MatchState::NotFound => "Not in the statement",
        MatchState::ClaimedTwice => "The same transaction id on two sales",
    }
}

async fn page_content(
    state: &AppState,
    viewer: &Viewer,
    network: Option<Network>,
    errors: FieldErrors,
) -> Result<MomoContent, PageError> {
    let locale = &viewer.locale;
    let reconciliation = momo::reconciliation(state, &viewer.auth).await?;
    let exceptions = momo::exceptions(state, &viewer.auth).await?;
    let staff = state
        .store
        .list_users(viewer.auth.tenant)
        .await
        .map_err(ApiError::from)?;
    let mut takings = Vec::new();
    for line in reconciliation.takings.iter().take(TAKINGS_SHOWN) {
        let shift = match line.shift_id {
            Some(id) => state
                .store
                .get_shift(viewer.auth.tenant, id)
                .await
                .map_err(ApiError::from)?
                .map_or_else(
                    || "A shift".to_owned(),
                    |shift| format!("Opened {}", locale.time(shift.opened_at.as_millis())),
                ),
            None => "No shift (online sales)".to_owned(),
        };
        let cashier = staff
            .iter()
            .find(|member| member.id.as_uuid() == line.cashier_id)
            .map_or_else(|| "Someone".to_owned(), |member| member.name.clone());
        takings.push(TakingsLine {
            shift,
            cashier,
            sales: line.sales,
            cash: locale.money(line.cash_minor),
            verified: locale.money(line.momo_verified_minor),
            unverified: locale.money(line.momo_unverified_minor),
        });
    }
    let account = if viewer.may(Permission::ManageSettings) {
        let saved = momo_requests::accounts(state, &viewer.auth)
            .await?
            .into_iter()
            .find(|account| account.network == Network::Mtn.as_str());
        Some(
            saved.map_or_else(AccountForm::default, |account| AccountForm {
                api_user: account.api_user,
                target_environment: account.target_environment,
                currency_code: account.currency_code.unwrap_or_default(),
                keys_saved: account.api_key_set && account.subscription_key_set,
                saved_at: Some(locale.time(account.updated_at.as_millis())),
            }),
        )
    } else {
        None
    };
    let unclaimed = momo_requests::unclaimed(state, &viewer.auth)
        .await?
        .into_iter()
        .map(|request| UnclaimedRow {
            paid: locale.time(request.updated_at.as_millis()),
            network: Network::parse(&request.network).map_or("Mobile money", Network::name),
            phone: request.phone,
            amount: locale.money(request.amount_minor),
            transaction_id: request.transaction_id.unwrap_or_default(),
        })
        .collect();
    Ok(MomoContent {
        account,
        unclaimed,
        csrf: viewer.csrf.clone(),
        networks: network_choices(network),
        errors,
        exceptions: exceptions
            .iter()
            .map(|verdict| ExceptionRow {
                at: locale.time(verdict.occurred_at.as_millis()),
                receipt: verdict
                    .receipt_number
                    .clone()
                    .unwrap_or_else(|| "—".to_owned()),
                network: verdict.network.name(),
                reference: verdict.reference.clone(),
                amount: locale.money(verdict.amount_minor),
                listed: verdict.statement_amount_minor.map_or_else(
                    || "Not listed".to_owned(),
                    |minor| locale.money(minor).to_string(),
                ),
                state: state_label(verdict.state),
                sign_off_url: paths::momo_sign_off(&verdict.sale_id, verdict.position),
                note_id: format!("note-{}-{}", verdict.sale_id.simple(), verdict.position),
            })
            .collect(),
        statements: reconciliation
            .statements
            .iter()
            .map(|statement| StatementLine {
                uploaded: locale.time(statement.uploaded_at.as_millis()),
                network: statement.network.name(),
                payments: statement.payments,
                matched: statement.matched,
                amount_differs: statement.amount_differs,
                not_found: statement.not_found,
                claimed_twice: statement.claimed_twice,
            })
            .collect(),
        takings,
    })
}

/// `GET /mobile-money`.
pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ReconcileMomo)?;
    let content = page_content(&state, &viewer, None, FieldErrors::new()).await?;
    Ok(viewer.page(Section::MobileMoney, content))
}

/// The page again, with why the statement was not taken.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    network: Option<Network>,
    field: Option<&'static str>,
    message: &str,
) -> Result<Response, PageError> {
    let mut errors = FieldErrors::new();
    match field {
        Some(field) => errors.add(field, sentence(message)),
        None => errors.add_form(sentence(message)),
    }
    let content = page_content(state, viewer, network, errors).await?;
    Ok(viewer.page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        Section::MobileMoney,
        content,
    ))
}

/// Checks the statement, or, on a network's first, asks for its layout; then back to the page
/// saying what it found.
async fn take(
    state: &AppState,
    viewer: &Viewer,
    network: Network,
    body: &[u8],
) -> Result<Response, PageError> {
    match momo::upload(state, &viewer.auth, network, body).await {
        Ok(answer) if answer.duplicate => Ok(viewer.redirect(
            paths::MOBILE_MONEY,
            Flash::info(format!(
                "This statement was uploaded before, on {}: nothing changed.",
                viewer.locale.time(answer.statement.uploaded_at.as_millis())
            )),
        )),
        Ok(answer) => {
            let statement = &answer.statement;
            let exceptions =
                statement.amount_differs + statement.not_found + statement.claimed_twice;
            Ok(viewer.redirect(
                paths::MOBILE_MONEY,
                Flash::success(format!(
                    "{} statement checked: {} payments listed, {} sales matched, {} to look into.",
                    network.name(),
                    statement.payments,
                    statement.matched,
                    exceptions
                )),
            ))
        }
        Err(error) if error.code() == "mapping_needed" => {
            let preview = momo::preview(state, &viewer.auth, network, body).await?;
            let text = String::from_utf8_lossy(body).into_owned();
            Ok(viewer.page(
                Section::MobileMoney,
                layout_content(viewer, network, text, &preview, FieldErrors::new()),
            ))
        }
        Err(error) if error.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            refused(state, viewer, Some(network), Some("file"), error.message()).await
        }
        Err(error) => Err(error.into()),
    }
}

fn column_choices(columns: &[String], selected: Option<&str>) -> Vec<Choice> {
    columns
        .iter()
        .filter(|name| !name.trim().is_empty())
        .map(|name| {
            Choice::new(name.as_str(), name.as_str()).selected_if(
                selected.is_some_and(|chosen| chosen.trim().eq_ignore_ascii_case(name.trim())),
            )
        })
        .collect()
}

fn layout_content(
    viewer: &Viewer,
    network: Network,
    statement: String,
    preview: &Preview,
    errors: FieldErrors,
) -> LayoutContent {
    let mapping = preview.mapping.as_ref();
    let locale = &viewer.locale;
    LayoutContent {
        csrf: viewer.csrf.clone(),
        network: network.as_str(),
        network_name: network.name(),
        statement,
        transaction_id: column_choices(
            &preview.columns,
            mapping.map(|m| m.transaction_id.as_str()),
        ),
        time: column_choices(&preview.columns, mapping.map(|m| m.time.as_str())),
        amount: column_choices(&preview.columns, mapping.map(|m| m.amount.as_str())),
        payer: column_choices(&preview.columns, mapping.and_then(|m| m.payer.as_deref())),
        status: column_choices(&preview.columns, mapping.and_then(|m| m.status.as_deref())),
        time_format: TimeFormat::ALL
            .into_iter()
            .map(|format| {
                Choice::new(format.as_str(), format.as_str())
                    .selected_if(mapping.is_some_and(|m| m.time_format == format))
            })
            .collect(),
        rows: preview
            .rows
            .iter()
            .map(|row| PreviewLine {
                transaction_id: row.transaction_id.clone(),
                at: locale.time(row.at.as_millis()),
                amount: locale.money(row.amount_minor),
                payer: row.payer.clone().unwrap_or_default(),
            })
            .collect(),
        problem: preview.problem.clone(),
        errors,
    }
}

/// `POST /mobile-money/statements` (multipart: network, file).
pub(crate) async fn upload(
    State(state): State<AppState>,
    upload: Upload,
) -> Result<Response, PageError> {
    let viewer = &upload.viewer;
    viewer.require(Permission::ReconcileMomo)?;
    let Some(network) = Network::parse(upload.fields.text("network")) else {
        return refused(&state, viewer, None, Some("network"), "Choose the network.").await;
    };
    let Some((_, body)) = &upload.file else {
        return refused(
            &state,
            viewer,
            Some(network),
            Some("file"),
            "Choose the statement file the network's portal exported.",
        )
        .await;
    };
    take(&state, viewer, network, body).await
}

/// `POST /mobile-money/layout`: saves the network's layout, then checks the statement carried
/// along with it.
pub(crate) async fn save_layout(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ReconcileMomo)?;
    let Some(network) = Network::parse(form.text("network")) else {
        return Err(PageError::Invalid(
            "That network is not one this page offers.".to_owned(),
        ));
    };
    let statement = form.text("statement").to_owned();
    let mapping = Mapping {
        transaction_id: form.text("transaction_id").to_owned(),
        time: form.text("time").to_owned(),
        amount: form.text("amount").to_owned(),
        payer: form.optional("payer").map(str::to_owned),
        status: form.optional("status").map(str::to_owned),
        time_format: TimeFormat::parse(form.text("time_format"))
            .unwrap_or(TimeFormat::YearMonthDay),
    };
    if let Err(error) = momo::set_mapping(&state, &viewer.auth, network, &mapping).await {
        if error.status() != StatusCode::UNPROCESSABLE_ENTITY {
            return Err(error.into());
        }
        let preview = momo::preview(&state, &viewer.auth, network, statement.as_bytes()).await?;
        let errors = FieldErrors::new().with("transaction_id", sentence(error.message()));
        let content = layout_content(&viewer, network, statement, &preview, errors);
        return Ok(viewer.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Section::MobileMoney,
            content,
        ));
    }
    take(&state, &viewer, network, statement.as_bytes()).await
}

/// `POST /mobile-money/account`: saves the shop's MTN MoMo account for requests to pay.
pub(crate) async fn save_account(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageSettings)?;
    let input = AccountInput {
        api_user: form.text("api_user").to_owned(),
        api_key: form.text("api_key").to_owned(),
        subscription_key: form.text("subscription_key").to_owned(),
        target_environment: form.text("target_environment").to_owned(),
        currency_code: form.optional("currency_code").map(str::to_owned),
    };
    match momo_requests::set_account(&state, &viewer.auth, Network::Mtn.as_str(), input).await {
        Ok(()) => Ok(viewer.redirect(
            paths::MOBILE_MONEY,
            Flash::success(
                "MTN MoMo account saved: tills that are online can now ask customers' phones.",
            ),
        )),
        Err(error) if error.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            refused(&state, &viewer, None, error.field(), error.message()).await
        }
        Err(error) => Err(error.into()),
    }
}

/// `POST /mobile-money/exceptions/{sale}/{position}/sign-off` (note).
pub(crate) async fn sign_off(
    State(state): State<AppState>,
    Path((sale, position)): Path<(uuid::Uuid, i32)>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ReconcileMomo)?;
    match momo::sign_off(&state, &viewer.auth, sale, position, form.text("note")).await {
        Ok(_) => Ok(viewer.redirect(
            paths::MOBILE_MONEY,
            Flash::success("Signed off. It stays in the reconciliation with your note."),
        )),
        Err(error) if error.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            refused(&state, &viewer, None, None, error.message()).await
        }
        Err(error) => Err(error.into()),
    }
}
