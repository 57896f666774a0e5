//! Reconciling the mobile money taken offline: the owner uploads a network's merchant
//! statement (CSV), read with the column layout chosen for that network, and each unverified
//! mobile-money tender is judged against every payment the network's statements listed
//! (matched, amount differs, not in the statement, claimed twice). A match verifies the
//! tender; the rest wait on the exceptions list for a manager to sign off with a note.

use std::collections::HashSet;

use axum::http::StatusCode;
use nexus_domain::momo::{
    self, Claim, MATCH_WINDOW_MILLIS, Mapping, MatchState, Network, StatementError, StatementRow,
};
use nexus_domain::{Permission, TenantId};
use nexus_store::{StatementRecord, Takings, VerdictFilter, VerdictRecord};
use serde::Serialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The largest statement taken in one upload; a portal's export of a month is far smaller.
pub const STATEMENT_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Rows the confirmation screen shows of a first upload.
const PREVIEW_ROWS: usize = 5;

/// A statement file as read: its header and records, each record with its file line.
struct Sheet {
    header: Vec<String>,
    records: Vec<(usize, Vec<String>)>,
}

fn read_sheet(body: &[u8]) -> ApiResult<Sheet> {
    let text = std::str::from_utf8(body).map_err(|_| {
        ApiError::validation("the statement is not a text (CSV) file in UTF-8").with_field("body")
    })?;
    // Some portals start their exports with a byte-order mark.
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut lines = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| {
            ApiError::validation(format!("line {}: not CSV: {error}", index + 1)).with_field("body")
        })?;
        let line = record
            .position()
            .and_then(|position| usize::try_from(position.line()).ok())
            .unwrap_or(index + 1);
        lines.push((line, record.iter().map(str::to_owned).collect::<Vec<_>>()));
    }
    let mut lines = lines.into_iter();
    let header = lines
        .next()
        .map(|(_, header)| header)
        .filter(|header| header.iter().any(|cell| !cell.trim().is_empty()))
        .ok_or_else(|| statement_error(&StatementError::Empty))?;
    Ok(Sheet {
        header,
        records: lines.collect(),
    })
}

fn statement_error(error: &StatementError) -> ApiError {
    let code = match error {
        StatementError::ColumnsMissing { .. } => "columns_changed",
        _ => "bad_statement",
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, error.to_string()).with_field("body")
}

/// The shop's currency and UTC offset, which a statement's amounts and times are read in.
async fn shop_terms(
    state: &AppState,
    tenant: TenantId,
) -> ApiResult<(nexus_domain::Currency, i64)> {
    let settings = state.store.settings(tenant).await?;
    let offset = nexus_domain::calendar::zone_offset_minutes(&settings.time_zone).unwrap_or(0);
    Ok((settings.currency, offset))
}

/// The payments a sheet lists, read with the mapping.
fn payments_of(
    sheet: &Sheet,
    mapping: &Mapping,
    currency: nexus_domain::Currency,
    offset: i64,
) -> ApiResult<Vec<StatementRow>> {
    let columns = mapping
        .locate(&sheet.header)
        .map_err(|error| statement_error(&error))?;
    let mut payments = Vec::new();
    for (line, record) in &sheet.records {
        if let Some(row) = columns
            .row(record, *line, currency, offset)
            .map_err(|error| statement_error(&error))?
        {
            payments.push(row);
        }
    }
    Ok(payments)
}

/// What the confirmation screen of an upload shows: the columns found, the layout that would
/// be used (the saved one, else a guess), and the first rows read with it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub network: String,
    pub columns: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub mapping: Option<Mapping>,
    /// Whether `mapping` is the one saved for the network (otherwise a guess to confirm).
    pub saved: bool,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<StatementRow>,
    /// Why the rows could not be read with that layout, if they could not.
    pub problem: Option<String>,
}

pub async fn preview(
    state: &AppState,
    auth: &Authenticated,
    network: Network,
    body: &[u8],
) -> ApiResult<Preview> {
    auth.require(Permission::ReconcileMomo)?;
    let sheet = read_sheet(body)?;
    let saved = state.store.momo_mapping(auth.tenant, network).await?;
    let is_saved = saved.is_some();
    let mapping = saved.or_else(|| guess(&sheet));
    let (currency, offset) = shop_terms(state, auth.tenant).await?;
    let (rows, problem) = match &mapping {
        Some(mapping) => {
            let first = Sheet {
                header: sheet.header.clone(),
                records: sheet.records.iter().take(PREVIEW_ROWS).cloned().collect(),
            };
            match payments_of(&first, mapping, currency, offset) {
                Ok(rows) => (rows, None),
                Err(error) => (Vec::new(), Some(error.message().to_owned())),
            }
        }
        None => (
            Vec::new(),
            Some(
                "Which columns hold the transaction id, the time and the amount could not be \
                 told: choose them."
                    .to_owned(),
            ),
        ),
    };
    Ok(Preview {
        network: network.as_str().to_owned(),
        columns: sheet.header,
        mapping,
        saved: is_saved,
        rows,
        problem,
    })
}

/// A guess at the layout: the columns from the header, then the time format from the first
/// cells of the time column so found.
fn guess(sheet: &Sheet) -> Option<Mapping> {
    let first = Mapping::guess(&sheet.header, &[])?;
    let position = sheet
        .header
        .iter()
        .position(|name| name.trim().eq_ignore_ascii_case(first.time.trim()))?;
    let samples: Vec<&str> = sheet
        .records
        .iter()
        .take(PREVIEW_ROWS)
        .filter_map(|(_, record)| record.get(position).map(String::as_str))
        .collect();
    Mapping::guess(&sheet.header, &samples)
}

/// Saves the network's statement layout, after checking it.
pub async fn set_mapping(
    state: &AppState,
    auth: &Authenticated,
    network: Network,
    mapping: &Mapping,
) -> ApiResult<()> {
    auth.require(Permission::ReconcileMomo)?;
    mapping
        .check()
        .map_err(|error| ApiError::validation(error.to_string()).with_field("mapping"))?;
    state
        .store
        .set_momo_mapping(
            auth.tenant,
            network,
            mapping,
            auth.user.id,
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// What an upload found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadAnswer {
    /// True when this very file was uploaded before: nothing changed.
    pub duplicate: bool,
    pub statement: StatementRecord,
    /// The tenders judged by this upload, oldest sale first.
    pub verdicts: Vec<VerdictRecord>,
}

/// Takes a statement: once per file content, with the network's saved layout.
pub async fn upload(
    state: &AppState,
    auth: &Authenticated,
    network: Network,
    body: &[u8],
) -> ApiResult<UploadAnswer> {
    auth.require(Permission::ReconcileMomo)?;
    let content_hash = content_hash(body);
    if let Some(statement) = state
        .store
        .momo_statement_by_hash(auth.tenant, &content_hash)
        .await?
    {
        return Ok(UploadAnswer {
            duplicate: true,
            statement,
            verdicts: Vec::new(),
        });
    }
    let sheet = read_sheet(body)?;
    let Some(mapping) = state.store.momo_mapping(auth.tenant, network).await? else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "mapping_needed",
            format!(
                "This is the first {} statement: choose which columns hold the transaction id, \
                 the time and the amount, then upload it again. Columns found: {}.",
                network.name(),
                sheet.header.join(", ")
            ),
        )
        .with_field("mapping"));
    };
    let (currency, offset) = shop_terms(state, auth.tenant).await?;
    let fresh = payments_of(&sheet, &mapping, currency, offset)?;
    let now = state.clock.now();

    // Judged against every payment the network's statements listed, so a sale of the last
    // days of one statement matches in the next.
    let mut seen: HashSet<String> = HashSet::new();
    let mut payments = Vec::new();
    for payment in state
        .store
        .momo_payments(auth.tenant, network)
        .await?
        .into_iter()
        .chain(fresh.iter().cloned())
    {
        if seen.insert(payment.transaction_id.trim().to_lowercase()) {
            payments.push(payment);
        }
    }
    let held = state.store.momo_claims(auth.tenant, network).await?;
    let claims: Vec<Claim<usize>> = held
        .iter()
        .enumerate()
        .map(|(index, claim)| Claim {
            key: index,
            reference: claim.reference.clone(),
            amount_minor: claim.amount_minor,
            at: claim.occurred_at,
        })
        .collect();
    let statement_id = uuid::Uuid::now_v7();
    let mut verdicts = Vec::new();
    for verdict in momo::reconcile(&claims, &payments, MATCH_WINDOW_MILLIS) {
        let claim = &held[verdict.key];
        // A tender verified or signed off stays as it is; one judged the same again is not news.
        if claim.verified || claim.signed_off || claim.verdict == Some(verdict.state) {
            continue;
        }
        verdicts.push(VerdictRecord {
            sale_id: claim.sale_id,
            position: claim.position,
            network,
            reference: claim.reference.clone(),
            amount_minor: claim.amount_minor,
            occurred_at: claim.occurred_at,
            state: verdict.state,
            statement_id,
            statement_amount_minor: verdict.row.map(|row| row.amount_minor),
            decided_at: now,
            signed_off_by: None,
            signed_off_at: None,
            note: None,
            receipt_number: None,
            cashier_id: None,
            branch_id: None,
            shift_id: None,
        });
    }
    let tally = |state: MatchState| {
        u32::try_from(
            verdicts
                .iter()
                .filter(|verdict| verdict.state == state)
                .count(),
        )
        .unwrap_or(u32::MAX)
    };
    let statement = StatementRecord {
        id: statement_id,
        network,
        content_hash,
        uploaded_at: now,
        uploaded_by: auth.user.id,
        payments: u32::try_from(fresh.len()).unwrap_or(u32::MAX),
        first_at: fresh.iter().map(|row| row.at).min(),
        last_at: fresh.iter().map(|row| row.at).max(),
        matched: tally(MatchState::Matched),
        amount_differs: tally(MatchState::AmountDiffers),
        not_found: tally(MatchState::NotFound),
        claimed_twice: tally(MatchState::ClaimedTwice),
    };
    let written = state
        .store
        .record_momo_statement(auth.tenant, &statement, &fresh, &verdicts)
        .await?;
    if !written {
        // The same file, uploaded at the same moment by someone else.
        if let Some(statement) = state
            .store
            .momo_statement_by_hash(auth.tenant, &statement.content_hash)
            .await?
        {
            return Ok(UploadAnswer {
                duplicate: true,
                statement,
                verdicts: Vec::new(),
            });
        }
    }
    let decided: HashSet<(uuid::Uuid, i32)> = verdicts
        .iter()
        .map(|verdict| (verdict.sale_id, verdict.position))
        .collect();
    let verdicts = state
        .store
        .momo_verdicts(auth.tenant, VerdictFilter::All)
        .await?
        .into_iter()
        .filter(|verdict| decided.contains(&(verdict.sale_id, verdict.position)))
        .collect();
    Ok(UploadAnswer {
        duplicate: false,
        statement,
        verdicts,
    })
}

/// What makes two uploads the same statement: the text, whatever line endings or blank lines
/// at its ends the browser or the portal gave it.
fn content_hash(body: &[u8]) -> String {
    let normalised = std::str::from_utf8(body).map(|text| {
        text.trim_start_matches('\u{feff}')
            .trim()
            .replace("\r\n", "\n")
    });
    let bytes = match &normalised {
        Ok(text) => text.as_bytes(),
        Err(_) => body,
    };
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The reconciliation so far: every statement, newest first, every verdict, and what each
/// cashier took per shift with the mobile money verified and not yet verified apart.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    pub statements: Vec<StatementRecord>,
    pub verdicts: Vec<VerdictRecord>,
    pub takings: Vec<Takings>,
}

pub async fn reconciliation(state: &AppState, auth: &Authenticated) -> ApiResult<Reconciliation> {
    auth.require(Permission::ReconcileMomo)?;
    Ok(Reconciliation {
        statements: state.store.momo_statements(auth.tenant).await?,
        verdicts: state
            .store
            .momo_verdicts(auth.tenant, VerdictFilter::All)
            .await?,
        takings: state.store.momo_takings(auth.tenant).await?,
    })
}

pub async fn exceptions(state: &AppState, auth: &Authenticated) -> ApiResult<Vec<VerdictRecord>> {
    auth.require(Permission::ReconcileMomo)?;
    Ok(state
        .store
        .momo_verdicts(auth.tenant, VerdictFilter::Exceptions)
        .await?)
}

/// The longest sign-off note kept.
pub const MAX_NOTE_CHARS: usize = 500;

/// A manager's word on an exception: looked at, and why it is accepted or what was done.
pub async fn sign_off(
    state: &AppState,
    auth: &Authenticated,
    sale: uuid::Uuid,
    position: i32,
    note: &str,
) -> ApiResult<VerdictRecord> {
    auth.require(Permission::ReconcileMomo)?;
    let note = note.trim();
    if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::validation(format!(
            "a sign-off needs a note of 1 to {MAX_NOTE_CHARS} characters: what was checked"
        ))
        .with_field("note"));
    }
    state
        .store
        .sign_off_momo(
            auth.tenant,
            sale,
            position,
            auth.user.id,
            state.clock.now(),
            note,
        )
        .await?
        .ok_or_else(|| ApiError::not_found("open mobile-money exception"))
}
