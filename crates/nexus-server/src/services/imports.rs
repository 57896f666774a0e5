//! Catalogue imports from CSV, as background jobs: the file is read and checked in the
//! request, then written in short transactions (a chunk of rows each, with the job's progress),
//! so that no sale waits behind a long import and any server process can report how far it is.

use std::collections::HashMap;

use nexus_domain::{Currency, ProductId, Quantity, TaxClass, UnixMillis};
use nexus_store::{ImportColumns, ImportCounts, JobRecord, JobState, NewJob, NewProduct};
use serde::Serialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::events::Topic;
use crate::services::catalogue::{
    check_price, check_reorder_level, looks_like_formula, parse_barcode, parse_name, parse_sku,
};
use crate::state::AppState;

/// Rows in one CSV import; a larger catalogue is imported in parts.
pub const IMPORT_MAX_ROWS: usize = 50_000;
/// Body size for a CSV import, above the API's usual limit.
pub const IMPORT_MAX_BYTES: usize = 16 * 1024 * 1024;
/// Rows written per transaction, so that each takes a few tens of milliseconds and a sale never
/// waits long behind one. SQLite writes one transaction at a time per shop, PostgreSQL several.
fn rows_per_chunk(backend: nexus_store::BackendKind) -> usize {
    match backend {
        nexus_store::BackendKind::Sqlite => 250,
        nexus_store::BackendKind::Postgres => 1000,
    }
}
/// A running job whose progress is older than this was stopped (its process ended).
const STALLED_AFTER_MILLIS: i64 = 2 * 60 * 1000;
pub const JOB_KIND: &str = "product_import";

#[derive(Clone, Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// 1-based line of the file (the header is line 1).
    pub line: u64,
    pub reason: String,
    /// The line's SKU as written ("" when it has none), so the owner finds the row.
    #[serde(default)]
    pub sku: String,
    /// The column at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

impl RowError {
    fn of_line(line: u64, reason: String) -> Self {
        Self {
            line,
            reason,
            sku: String::new(),
            column: None,
        }
    }
}

/// How the rows of an import are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportMode {
    /// Any bad row and nothing is imported.
    AllOrNothing,
    /// The good rows are imported and the bad ones reported.
    ValidRows,
}

impl ImportMode {
    pub fn parse(text: Option<&str>) -> ApiResult<Self> {
        match text {
            None | Some("all_or_nothing") => Ok(Self::AllOrNothing),
            Some("valid_rows") => Ok(Self::ValidRows),
            Some(other) => Err(ApiError::validation(format!(
                "mode {other:?}: expected all_or_nothing or valid_rows"
            ))
            .with_field("mode")),
        }
    }
}

/// Reads the file as UTF-8 (a BOM is fine), or says how to save it.
pub fn decode_csv(body: &[u8]) -> ApiResult<&str> {
    if body.starts_with(&[0xff, 0xfe]) || body.starts_with(&[0xfe, 0xff]) {
        return Err(ApiError::validation(
            "the file is UTF-16; save it as \"CSV UTF-8\" and try again",
        ));
    }
    let body = body.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(body);
    std::str::from_utf8(body).map_err(|error| {
        ApiError::validation(format!(
            "the file is not UTF-8 (first bad byte at offset {}); save it as \"CSV UTF-8\" and try again",
            error.valid_up_to()
        ))
    })
}

pub const COLUMNS: [&str; 6] = [
    "sku",
    "name",
    "price",
    "barcode",
    "tax_class",
    "reorder_level",
];

/// Checks every row; returns the good ones and a reason for each bad one.
/// The good rows (with their line), the bad ones, and which optional columns the file has.
pub type ParsedImport = (Vec<(u64, NewProduct)>, Vec<RowError>, ImportColumns);

pub fn parse_import(
    text: &str,
    currency: Currency,
    now: nexus_domain::UnixMillis,
) -> ApiResult<ParsedImport> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|error| ApiError::validation(format!("cannot read the header line: {error}")))?
        .clone();
    let mut positions = [None; 6];
    for (index, header) in headers.iter().enumerate() {
        let name = header.trim().to_lowercase();
        match COLUMNS.iter().position(|column| *column == name) {
            Some(column) if positions[column].is_none() => positions[column] = Some(index),
            Some(_) => {
                return Err(ApiError::validation(format!(
                    "column {name:?} appears twice in the header"
                )));
            }
            None => {
                return Err(ApiError::validation(format!(
                    "unknown column {name:?}; the columns are {}",
                    COLUMNS.join(", ")
                )));
            }
        }
    }
    for required in 0..3 {
        if positions[required].is_none() {
            return Err(ApiError::validation(format!(
                "the header must name the columns sku, name and price (missing {})",
                COLUMNS[required]
            )));
        }
    }
    let mut good = Vec::new();
    let mut errors = Vec::new();
    let mut seen_skus = std::collections::HashMap::new();
    let mut seen_barcodes = std::collections::HashMap::new();
    for (index, record) in reader.records().enumerate() {
        if index >= IMPORT_MAX_ROWS {
            return Err(ApiError::validation(format!(
                "the file has more than {IMPORT_MAX_ROWS} rows; import it in parts"
            )));
        }
        let line = record
            .as_ref()
            .ok()
            .and_then(|record| record.position())
            .map_or(index as u64 + 2, |position| position.line());
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                errors.push(RowError::of_line(line, format!("unreadable row: {error}")));
                continue;
            }
        };
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.len() > headers.len() {
            errors.push(RowError::of_line(
                line,
                format!(
                    "{} cells but the header names {}",
                    record.len(),
                    headers.len()
                ),
            ));
            continue;
        }
        let cell = |column: usize| {
            positions[column]
                .and_then(|position| record.get(position))
                .unwrap_or("")
                .trim()
        };
        let parsed = (|| -> Result<NewProduct, (&'static str, String)> {
            let sku = parse_sku(cell(0)).map_err(|reason| ("sku", reason))?;
            // A name typed in the API may start with "@"; one arriving from a spreadsheet that
            // starts like a formula is more likely an injection than a product.
            if looks_like_formula(cell(1)) {
                return Err(("name", "name looks like a spreadsheet formula".to_owned()));
            }
            let name = parse_name(cell(1)).map_err(|reason| ("name", reason))?;
            let price_text = cell(2);
            if looks_like_formula(price_text) {
                return Err(("price", "price looks like a spreadsheet formula".to_owned()));
            }
            let price_minor = currency.parse_major(price_text).map_err(|_| {
                (
                    "price",
                    format!("price {price_text:?} is not an amount in {currency} (like 12.50)"),
                )
            })?;
            let price_minor = check_price(price_minor).map_err(|reason| ("price", reason))?;
            let barcode = parse_barcode(cell(3)).map_err(|reason| ("barcode", reason))?;
            let tax_class = match cell(4) {
                "" => TaxClass::Standard,
                text => text.parse().map_err(|_| {
                    (
                        "tax_class",
                        format!("tax_class {text:?}: expected standard, exempt or zero_rated"),
                    )
                })?,
            };
            let reorder_level = match cell(5) {
                "" => None,
                text => Some(
                    Quantity::parse(text)
                        .map_err(|_| format!("reorder_level {text:?} is not a quantity"))
                        .and_then(check_reorder_level)
                        .map_err(|reason| ("reorder_level", reason))?,
                ),
            };
            Ok(NewProduct {
                id: ProductId::generate(now),
                sku,
                barcode,
                name,
                price_minor,
                tax_class,
                reorder_level,
                // The import's columns are those of the export; categories and costs are set
                // on the product.
                category_id: None,
                cost_minor: None,
                packs: Vec::new(),
                wholesale_price_minor: None,
                now,
            })
        })();
        match parsed {
            Err((column, reason)) => errors.push(RowError {
                line,
                reason,
                sku: cell(0).to_owned(),
                column: Some(column.to_owned()),
            }),
            Ok(product) => {
                if let Some(first) = seen_skus.insert(product.sku.clone(), line) {
                    errors.push(RowError {
                        line,
                        reason: format!("sku {} already appears on line {first}", product.sku),
                        sku: product.sku.clone(),
                        column: Some("sku".to_owned()),
                    });
                    continue;
                }
                let repeated_barcode = product
                    .barcode
                    .as_ref()
                    .and_then(|barcode| seen_barcodes.insert(barcode.clone(), line));
                if let (Some(barcode), Some(first)) = (&product.barcode, repeated_barcode) {
                    errors.push(RowError {
                        line,
                        reason: format!("barcode {barcode} already appears on line {first}"),
                        sku: product.sku.clone(),
                        column: Some("barcode".to_owned()),
                    });
                    continue;
                }
                good.push((line, product));
            }
        }
    }
    let columns = ImportColumns {
        barcode: positions[3].is_some(),
        tax_class: positions[4].is_some(),
        reorder_level: positions[5].is_some(),
    };
    Ok((good, errors, columns))
}

/// A job as the API and the dashboard show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ImportJob {
    pub id: uuid::Uuid,
    /// running, succeeded or failed.
    pub state: String,
    /// Good rows to write.
    pub rows_total: i64,
    /// Rows written so far.
    pub rows_done: i64,
    pub created: usize,
    pub updated: usize,
    /// Every bad line, with why.
    pub errors: Vec<RowError>,
    /// For people: what happened, or what stopped it.
    pub message: Option<String>,
}

fn job_view(record: JobRecord, now: UnixMillis) -> ImportJob {
    let counts: ImportCounts = record
        .outcome
        .as_ref()
        .and_then(|outcome| serde_json::from_value(outcome.clone()).ok())
        .unwrap_or_default();
    let errors: Vec<RowError> = serde_json::from_value(record.errors).unwrap_or_default();
    let stalled = record.state == JobState::Running
        && now.as_millis() - record.updated_at.as_millis() > STALLED_AFTER_MILLIS;
    let (state, message) = if stalled {
        (
            "failed".to_owned(),
            Some(format!(
                "the import stopped after {} of {} rows (the service restarted); import the file again to finish",
                record.rows_done, record.rows_total
            )),
        )
    } else {
        (record.state.as_str().to_owned(), record.message)
    };
    ImportJob {
        id: record.id,
        state,
        rows_total: record.rows_total,
        rows_done: record.rows_done,
        created: counts.created,
        updated: counts.updated,
        errors,
        message,
    }
}

/// Reads and checks the file, then starts writing its good rows in the background. The file's
/// bad lines are found here, before anything is written; in all-or-nothing mode any bad line
/// stops the import before it starts.
pub async fn start_import(
    state: &AppState,
    auth: &Authenticated,
    body: &[u8],
    mode: ImportMode,
) -> ApiResult<ImportJob> {
    let text = decode_csv(body)?;
    let settings = state.store.settings(auth.tenant).await?;
    let now = state.clock.now();
    let (mut good, mut errors, columns) = parse_import(text, settings.currency, now)?;
    // A barcode held by another product is a row error too, found before anything is written,
    // so that it is reported with its line rather than failing the whole import.
    let barcodes: Vec<String> = good
        .iter()
        .filter_map(|(_, product)| product.barcode.clone())
        .collect();
    // A pack's barcode (a carton's, say) is never a product's own, not even the same product's.
    let owners: HashMap<String, (String, Option<String>)> = state
        .store
        .barcode_owners(auth.tenant, &barcodes)
        .await?
        .into_iter()
        .map(|(barcode, sku, pack)| (barcode, (sku, pack)))
        .collect();
    good.retain(|(line, product)| {
        let taken = product
            .barcode
            .as_ref()
            .and_then(|barcode| owners.get(barcode).map(|owner| (barcode, owner)));
        let reason = match taken {
            Some((barcode, (owner, Some(pack)))) => {
                format!("barcode {barcode} is the {pack} of product {owner}")
            }
            Some((barcode, (owner, None))) if *owner != product.sku => {
                format!("barcode {barcode} already belongs to product {owner}")
            }
            _ => return true,
        };
        errors.push(RowError {
            line: *line,
            reason,
            sku: product.sku.clone(),
            column: Some("barcode".to_owned()),
        });
        false
    });
    errors.sort_by_key(|error| error.line);
    let refused = !errors.is_empty() && mode == ImportMode::AllOrNothing;
    let rows: Vec<NewProduct> = if refused {
        Vec::new()
    } else {
        good.into_iter().map(|(_, product)| product).collect()
    };
    let job = state
        .store
        .create_job(
            auth.tenant,
            NewJob {
                id: uuid::Uuid::now_v7(),
                kind: JOB_KIND,
                rows_total: i64::try_from(rows.len()).unwrap_or(i64::MAX),
                errors: serde_json::to_value(&errors)
                    .map_err(|error| ApiError::internal(error.to_string()))?,
                created_by: auth.user.id,
                now,
            },
        )
        .await?;
    if refused {
        let message = format!(
            "nothing was imported: {} line(s) need correcting (or import with mode valid_rows to skip them)",
            errors.len()
        );
        finish(state, auth, job.id, Err(message), ImportCounts::default()).await;
    } else {
        let (state, tenant, user) = (state.clone(), auth.clone(), job.id);
        tokio::spawn(async move { write_rows(&state, &tenant, user, rows, columns).await });
    }
    import_job(state, auth, job.id).await
}

/// Writes the rows chunk by chunk, each chunk and the job's progress in one transaction.
async fn write_rows(
    state: &AppState,
    auth: &Authenticated,
    job: uuid::Uuid,
    rows: Vec<NewProduct>,
    columns: ImportColumns,
) {
    let mut counts = ImportCounts::default();
    for chunk in rows.chunks(rows_per_chunk(state.store.backend())) {
        match state
            .store
            .import_chunk(auth.tenant, job, chunk, columns, state.clock.now())
            .await
        {
            Ok(written) => {
                counts.created += written.created;
                counts.updated += written.updated;
            }
            Err(error) => {
                let message = match &error {
                    nexus_store::StoreError::Conflict { field } => format!(
                        "stopped: a {field} in the file was taken by another product meanwhile; \
                         {} rows were imported, import the file again to finish",
                        counts.created + counts.updated
                    ),
                    _ => {
                        tracing::error!(%error, %job, "a catalogue import failed");
                        format!(
                            "stopped by an error of the service after {} rows; it has been logged, import the file again to finish",
                            counts.created + counts.updated
                        )
                    }
                };
                finish(state, auth, job, Err(message), counts).await;
                return;
            }
        }
        // Chunks of one import do not queue ahead of everyone else's work.
        tokio::task::yield_now().await;
    }
    finish(state, auth, job, Ok(()), counts).await;
    state.events.publish(auth.tenant, Topic::Catalogue).await;
}

async fn finish(
    state: &AppState,
    auth: &Authenticated,
    job: uuid::Uuid,
    outcome: Result<(), String>,
    counts: ImportCounts,
) {
    let (job_state, message) = match outcome {
        Ok(()) => (
            JobState::Succeeded,
            Some(format!(
                "{} product(s) created, {} updated",
                counts.created, counts.updated
            )),
        ),
        Err(message) => (JobState::Failed, Some(message)),
    };
    let finished = state
        .store
        .finish_job(
            auth.tenant,
            job,
            job_state,
            serde_json::to_value(counts).ok(),
            message,
            state.clock.now(),
        )
        .await;
    if let Err(error) = finished {
        tracing::error!(%error, %job, "could not record the end of an import");
    }
}

/// An import job of this tenant.
pub async fn import_job(
    state: &AppState,
    auth: &Authenticated,
    job: uuid::Uuid,
) -> ApiResult<ImportJob> {
    let record = state
        .store
        .get_job(auth.tenant, job)
        .await?
        .filter(|record| record.kind == JOB_KIND)
        .ok_or_else(|| ApiError::not_found("job"))?;
    Ok(job_view(record, state.clock.now()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::catalogue::spreadsheet_safe;

    fn now() -> nexus_domain::UnixMillis {
        nexus_domain::UnixMillis::from_millis(1_767_225_600_000)
    }

    #[test]
    fn csv_rows_are_checked_one_by_one_with_line_numbers() {
        let text = "sku,name,price,barcode\nA1,Rice 5kg,120.00,600100\n,No sku,1.00,\nB2,=HYPERLINK(\"x\"),1.00,\nC3,Oil,12.345,\nA1,Dup,1.00,\nD4,\"Milk, tin\",8.5,600100\n";
        let (good, errors, _) = parse_import(text, Currency::Ghs, now()).expect("readable");
        assert_eq!(
            good.len(),
            1,
            "{:?}",
            errors.iter().map(|error| &error.reason).collect::<Vec<_>>()
        );
        let lines: Vec<u64> = errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7]);
        assert!(errors[1].reason.contains("formula"));
        assert!(errors[2].reason.contains("12.345"));
        assert!(errors[3].reason.contains("line 2"));
        assert!(errors[4].reason.contains("barcode"));
    }

    #[test]
    fn bad_files_are_refused_with_a_way_out() {
        assert!(decode_csv(&[0xff, 0xfe, b'a', 0]).is_err());
        assert!(
            decode_csv(b"sku,name,price\nA,Caf\xe9,1.00\n").is_err(),
            "Windows-1252 is not UTF-8"
        );
        assert_eq!(decode_csv(b"\xef\xbb\xbfsku").ok(), Some("sku"));
        assert!(
            parse_import("name,price\nX,1\n", Currency::Ghs, now()).is_err(),
            "sku column missing"
        );
        assert!(
            parse_import("sku,name,price,colour\n", Currency::Ghs, now()).is_err(),
            "unknown column"
        );
    }

    #[test]
    fn export_cells_cannot_run_as_formulas() {
        assert_eq!(spreadsheet_safe("=1+1"), "'=1+1");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("Rice"), "Rice");
    }
}
