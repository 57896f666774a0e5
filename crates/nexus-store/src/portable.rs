//! One tenant's data as a file that either backend reads: `nexus tenants export` writes it,
//! `nexus tenants import` and `nexus store copy` read it, so a shop that began on the embedded
//! SQLite store moves to PostgreSQL (and back) without losing a row.
//!
//! The file is JSON lines: a header (the format, the tenant's directory entry and logins, its
//! schema version, how many tables and rows follow), then for each table a line naming it and
//! its columns followed by one line per row (an array of values), and an end line counting what
//! came before, so that a file cut short is refused instead of half imported.
//!
//! Values carry their own kind, so the file does not depend on how a backend types a column: a
//! number, a string, true or false, null, `{"uuid": "…"}`, or `{"hex": "…"}` for bytes (SQLite
//! keeps a uuid as 16 bytes). The importing backend turns each value into its column's type: a
//! blob into a PostgreSQL uuid, an integer 0 or 1 into a boolean, and the reverse.
//!
//! Tables come in the order their references need (a table after those it refers to), and the
//! rows that refer to a row of their own table (a refund to its sale) after those that do not.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Write};

use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::migrate::{Migration, migrate_tenant_schema};
use crate::sql::{Backend, Conn, RowExt, query, rows_per_statement, values};
use crate::{StoreError, StoreResult};

/// The `format` of every export's header.
pub const FORMAT: &str = "nexus-tenant-export";
/// Raised when a reader of an older build could no longer read what is written.
pub const FORMAT_VERSION: u32 = 1;

/// The first line of an export.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExportHeader {
    pub format: String,
    pub format_version: u32,
    pub tenant: ExportedTenant,
    /// The emails that sign in to this tenant (the control directory's rows for it).
    pub logins: Vec<ExportedLogin>,
    /// The tenant schema version the rows are at; an import brings them to its own.
    pub schema_version: i32,
    pub tables: u64,
    pub rows: u64,
    pub exported_at: i64,
    /// `sqlite` or `postgres`: where the rows came from (for the reader; nothing depends on it).
    pub exported_from: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExportedTenant {
    pub id: Uuid,
    pub name: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExportedLogin {
    pub email: String,
    pub user_id: Uuid,
}

/// What an export holds, or what an import loaded.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExportCounts {
    pub tables: u64,
    pub rows: u64,
}

/// How far an import has come, after each batch of rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportProgress {
    pub rows_done: u64,
    pub rows_total: u64,
}

/// A tenant an import added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    pub tenant: nexus_domain::TenantId,
    pub name: String,
    pub counts: ExportCounts,
    /// The export's schema version when it was older than this build's (the import migrated
    /// the rows from it).
    pub migrated_from: Option<i32>,
}

#[derive(Serialize, Deserialize)]
struct TableLine {
    table: String,
    columns: Vec<String>,
    rows: u64,
}

#[derive(Serialize, Deserialize)]
struct EndLine {
    end: ExportCounts,
}

/// A column's type as this module converts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnType {
    Int4,
    Int8,
    Bool,
    Text,
    Uuid,
    Bytes,
}

/// One table of a tenant as the database describes it.
#[derive(Clone, Debug)]
pub(crate) struct TableShape {
    pub(crate) name: String,
    pub(crate) columns: Vec<(String, ColumnType)>,
    /// Columns that refer to this same table.
    self_references: Vec<String>,
    /// Other tables this one refers to.
    references: BTreeSet<String>,
}

/// How a backend describes the tables of the tenant its connection is bound to. Each query
/// gives `table_name`, `column_name` and a third column, in table and column order.
pub(crate) trait Catalogue: Backend {
    /// Every column of every table: `type_name` is the declared type.
    const COLUMNS_SQL: &'static str;
    /// Every foreign key (its first column): `referenced` is the table it refers to.
    const REFERENCES_SQL: &'static str;

    fn column_type(declared: &str) -> Option<ColumnType>;
}

impl Catalogue for sqlx::Postgres {
    const COLUMNS_SQL: &'static str = "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
         format_type(a.atttypid, a.atttypmod) AS type_name \
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
         WHERE c.relnamespace = current_schema()::text::regnamespace AND c.relkind IN ('r', 'p') \
         AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY c.relname, a.attnum";
    const REFERENCES_SQL: &'static str = "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
         r.relname::text AS referenced \
         FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid \
         JOIN pg_catalog.pg_class r ON r.oid = k.confrelid \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] \
         WHERE k.contype = 'f' AND k.connamespace = current_schema()::text::regnamespace \
         ORDER BY 1, 2";

    fn column_type(declared: &str) -> Option<ColumnType> {
        Some(match declared {
            "integer" => ColumnType::Int4,
            "bigint" => ColumnType::Int8,
            "boolean" => ColumnType::Bool,
            "text" => ColumnType::Text,
            "uuid" => ColumnType::Uuid,
            "bytea" => ColumnType::Bytes,
            _ => return None,
        })
    }
}

impl Catalogue for sqlx::Sqlite {
    const COLUMNS_SQL: &'static str = "SELECT m.name AS table_name, p.name AS column_name, lower(p.type) AS type_name \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY m.name, p.cid";
    const REFERENCES_SQL: &'static str = "SELECT m.name AS table_name, f.\"from\" AS column_name, f.\"table\" AS referenced \
         FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
         WHERE m.type = 'table' ORDER BY 1, 2";

    fn column_type(declared: &str) -> Option<ColumnType> {
        // SQLite keeps every integer in 64 bits and a boolean as an integer.
        Some(match declared {
            "integer" | "bigint" | "int" | "boolean" => ColumnType::Int8,
            "text" => ColumnType::Text,
            "blob" => ColumnType::Bytes,
            _ => return None,
        })
    }
}

/// The tenant's tables (without `schema_version`, which the store makes itself), each after
/// the tables it refers to.
pub(crate) async fn tenant_tables<B: Catalogue>(
    connection: &mut Conn<B>,
) -> StoreResult<Vec<TableShape>> {
    let mut tables: BTreeMap<String, TableShape> = BTreeMap::new();
    for row in query::<B>(B::COLUMNS_SQL).fetch_all(connection).await? {
        let table: String = row.field("table_name")?;
        if table == "schema_version" {
            continue;
        }
        let column: String = row.field("column_name")?;
        let declared: String = row.field("type_name")?;
        let kind = B::column_type(&declared).ok_or_else(|| {
            StoreError::Config(format!(
                "column {table}.{column} has type {declared}, which a tenant export cannot carry"
            ))
        })?;
        tables
            .entry(table.clone())
            .or_insert_with(|| TableShape {
                name: table,
                columns: Vec::new(),
                self_references: Vec::new(),
                references: BTreeSet::new(),
            })
            .columns
            .push((column, kind));
    }
    for row in query::<B>(B::REFERENCES_SQL).fetch_all(connection).await? {
        let table: String = row.field("table_name")?;
        let column: String = row.field("column_name")?;
        let referenced: String = row.field("referenced")?;
        if let Some(shape) = tables.get_mut(&table) {
            if referenced == table {
                shape.self_references.push(column);
            } else {
                shape.references.insert(referenced);
            }
        }
    }
    in_reference_order(tables)
}

/// Kahn's order, ties by name so that every export of one schema lists its tables alike.
fn in_reference_order(mut tables: BTreeMap<String, TableShape>) -> StoreResult<Vec<TableShape>> {
    let mut ordered = Vec::with_capacity(tables.len());
    let mut placed: BTreeSet<String> = BTreeSet::new();
    while !tables.is_empty() {
        let ready: Vec<String> = tables
            .values()
            .filter(|shape| {
                shape
                    .references
                    .iter()
                    .all(|table| placed.contains(table) || !tables.contains_key(table))
            })
            .map(|shape| shape.name.clone())
            .collect();
        if ready.is_empty() {
            let names: Vec<&str> = tables.keys().map(String::as_str).collect();
            return Err(StoreError::Config(format!(
                "the tables {} refer to each other in a circle, so no order loads them",
                names.join(", ")
            )));
        }
        for name in ready {
            if let Some(shape) = tables.remove(&name) {
                placed.insert(name);
                ordered.push(shape);
            }
        }
    }
    Ok(ordered)
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn write_line(out: &mut (dyn Write + Send), value: &impl Serialize) -> StoreResult<()> {
    serde_json::to_writer(&mut *out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|source| StoreError::Io {
            path: "the export file".to_owned(),
            source,
        })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn to_hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    text
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |byte: u8| {
        char::from(byte)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

fn read_value<B: Backend>(row: &B::Row, column: &str, kind: ColumnType) -> StoreResult<Json> {
    Ok(match kind {
        ColumnType::Int4 => row
            .field::<Option<i32>>(column)?
            .map_or(Json::Null, Json::from),
        ColumnType::Int8 => row
            .field::<Option<i64>>(column)?
            .map_or(Json::Null, Json::from),
        ColumnType::Bool => row
            .field::<Option<bool>>(column)?
            .map_or(Json::Null, Json::from),
        ColumnType::Text => row
            .field::<Option<String>>(column)?
            .map_or(Json::Null, Json::from),
        ColumnType::Uuid => row
            .field::<Option<Uuid>>(column)?
            .map_or(Json::Null, |id| serde_json::json!({ "uuid": id })),
        ColumnType::Bytes => row.field::<Option<Vec<u8>>>(column)?.map_or(
            Json::Null,
            |bytes| serde_json::json!({ "hex": to_hex(&bytes) }),
        ),
    })
}

/// Writes `header` (its counts filled in here) and every row of the tenant the connection is
/// bound to. The connection's transaction is the snapshot: counts and rows agree.
pub(crate) async fn write_export<B: Catalogue>(
    connection: &mut Conn<B>,
    mut header: ExportHeader,
    out: &mut (dyn Write + Send),
) -> StoreResult<ExportCounts> {
    let tables = tenant_tables::<B>(connection).await?;
    let mut sizes = Vec::with_capacity(tables.len());
    for table in &tables {
        let count: i64 = query::<B>(&format!("SELECT count(*) FROM {}", quoted(&table.name)))
            .scalar(connection)
            .await?;
        sizes.push(u64::try_from(count).unwrap_or(0));
    }
    let counts = ExportCounts {
        tables: u64::try_from(tables.len()).unwrap_or(u64::MAX),
        rows: sizes.iter().sum(),
    };
    header.tables = counts.tables;
    header.rows = counts.rows;
    write_line(out, &header)?;
    for (table, expected) in tables.iter().zip(sizes) {
        let names: Vec<String> = table.columns.iter().map(|(name, _)| name.clone()).collect();
        write_line(
            out,
            &TableLine {
                table: table.name.clone(),
                columns: names.clone(),
                rows: expected,
            },
        )?;
        let order = if table.self_references.is_empty() {
            String::new()
        } else {
            let keys: Vec<String> = table
                .self_references
                .iter()
                .map(|column| format!("({} IS NOT NULL)", quoted(column)))
                .collect();
            format!(" ORDER BY {}", keys.join(", "))
        };
        let select: Vec<String> = names.iter().map(|name| quoted(name)).collect();
        let sql = format!(
            "SELECT {} FROM {}{order}",
            select.join(", "),
            quoted(&table.name)
        );
        let mut written = 0_u64;
        let mut rows = query::<B>(&sql).fetch_many(connection);
        while let Some(row) = rows.next().await {
            let row = row?;
            let mut cells = Vec::with_capacity(table.columns.len());
            for (name, kind) in &table.columns {
                cells.push(read_value::<B>(&row, name, *kind)?);
            }
            write_line(out, &cells)?;
            written += 1;
        }
        if written != expected {
            return Err(StoreError::Config(format!(
                "table {} gave {written} rows after counting {expected}; the export is not consistent",
                table.name
            )));
        }
    }
    write_line(out, &EndLine { end: counts })?;
    out.flush().map_err(|source| StoreError::Io {
        path: "the export file".to_owned(),
        source,
    })?;
    Ok(counts)
}

fn refused(line: u64, message: impl std::fmt::Display) -> StoreError {
    StoreError::Refused(format!("line {line} of the export: {message}"))
}

/// Reads one line into `buffer`; `false` at the end of the file.
fn next_line(input: &mut (dyn BufRead + Send), buffer: &mut String) -> StoreResult<bool> {
    buffer.clear();
    let read = input.read_line(buffer).map_err(|source| StoreError::Io {
        path: "the export file".to_owned(),
        source,
    })?;
    Ok(read > 0)
}

/// The header of an export, checked: its format, and a schema version this build can load.
pub(crate) fn read_header(
    input: &mut (dyn BufRead + Send),
    newest_schema: i32,
) -> StoreResult<ExportHeader> {
    let mut line = String::new();
    if !next_line(input, &mut line)? {
        return Err(StoreError::Refused(
            "the file is empty: it is not a Nexus tenant export".to_owned(),
        ));
    }
    let header: ExportHeader = serde_json::from_str(line.trim_end()).map_err(|_| {
        StoreError::Refused(
            "the file does not begin like a Nexus tenant export (nexus tenants export writes one)"
                .to_owned(),
        )
    })?;
    if header.format != FORMAT {
        return Err(StoreError::Refused(format!(
            "the file is a {:?}, not a Nexus tenant export",
            header.format
        )));
    }
    if header.format_version > FORMAT_VERSION {
        return Err(StoreError::Refused(format!(
            "the export is in format version {}, newer than this build reads ({FORMAT_VERSION}); upgrade nexus",
            header.format_version
        )));
    }
    if header.schema_version > newest_schema {
        return Err(StoreError::Refused(format!(
            "the export is at schema version {}, newer than this build knows ({newest_schema}); upgrade nexus",
            header.schema_version
        )));
    }
    Ok(header)
}

/// One value ready to bind to its column.
enum Bound {
    Int4(Option<i32>),
    Int8(Option<i64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Uuid(Option<Uuid>),
    Bytes(Option<Vec<u8>>),
}

fn null_of(kind: ColumnType) -> Bound {
    match kind {
        ColumnType::Int4 => Bound::Int4(None),
        ColumnType::Int8 => Bound::Int8(None),
        ColumnType::Bool => Bound::Bool(None),
        ColumnType::Text => Bound::Text(None),
        ColumnType::Uuid => Bound::Uuid(None),
        ColumnType::Bytes => Bound::Bytes(None),
    }
}

/// `value` as a value of a `kind` column; `None` when it cannot be one.
fn bound(value: &Json, kind: ColumnType) -> Option<Bound> {
    let integer = match value {
        Json::Number(number) => number.as_i64(),
        Json::Bool(flag) => Some(i64::from(*flag)),
        _ => None,
    };
    let bytes = || -> Option<Vec<u8>> {
        let object = value.as_object()?;
        if let Some(text) = object.get("hex").and_then(Json::as_str) {
            return from_hex(text);
        }
        let text = object.get("uuid").and_then(Json::as_str)?;
        Uuid::parse_str(text).ok().map(|id| id.as_bytes().to_vec())
    };
    if value.is_null() {
        return Some(null_of(kind));
    }
    Some(match kind {
        ColumnType::Int4 => Bound::Int4(Some(i32::try_from(integer?).ok()?)),
        ColumnType::Int8 => Bound::Int8(Some(integer?)),
        ColumnType::Bool => Bound::Bool(Some(match integer? {
            0 => false,
            1 => true,
            _ => return None,
        })),
        ColumnType::Text => Bound::Text(Some(value.as_str()?.to_owned())),
        ColumnType::Uuid => Bound::Uuid(Some(Uuid::from_slice(&bytes()?).ok()?)),
        ColumnType::Bytes => Bound::Bytes(Some(bytes()?)),
    })
}

/// Rows of one table gathered for one statement.
struct Batch {
    table: String,
    columns: Vec<String>,
    kinds: Vec<ColumnType>,
    expected: u64,
    seen: u64,
    cells: Vec<Bound>,
}

impl Batch {
    fn rows(&self) -> usize {
        self.cells.len() / self.columns.len().max(1)
    }

    async fn flush<B: Backend>(&mut self, connection: &mut Conn<B>) -> StoreResult<u64> {
        let rows = self.rows();
        if rows == 0 {
            return Ok(0);
        }
        let placeholders = format!("({})", vec!["?"; self.columns.len()].join(", "));
        let names: Vec<String> = self.columns.iter().map(|name| quoted(name)).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            quoted(&self.table),
            names.join(", "),
            values(&placeholders, rows, 1)
        );
        let mut statement = query::<B>(&sql);
        for cell in self.cells.drain(..) {
            statement = match cell {
                Bound::Int4(value) => statement.bind(value),
                Bound::Int8(value) => statement.bind(value),
                Bound::Bool(value) => statement.bind(value),
                Bound::Text(value) => statement.bind(value),
                Bound::Uuid(value) => statement.bind(value),
                Bound::Bytes(value) => statement.bind(value),
            };
        }
        statement.execute(connection).await?;
        Ok(u64::try_from(rows).unwrap_or(u64::MAX))
    }

    fn check_complete(&self, line: u64) -> StoreResult<()> {
        if self.seen == self.expected {
            return Ok(());
        }
        Err(refused(
            line,
            format!(
                "table {} has {} rows where its line announced {}",
                self.table, self.seen, self.expected
            ),
        ))
    }
}

/// Loads every table that follows `header` into the tenant the connection is bound to (made at
/// the header's schema version, empty). Refuses a file that names a table or column this
/// schema lacks, gives a value its column cannot hold, or ends before its end line.
pub(crate) async fn load_rows<B: Catalogue>(
    connection: &mut Conn<B>,
    header: &ExportHeader,
    input: &mut (dyn BufRead + Send),
    progress: &mut (dyn FnMut(ImportProgress) + Send),
) -> StoreResult<ExportCounts> {
    let ordered = tenant_tables::<B>(connection).await?;
    // The migrations seed some tables (a counter's first row, default settings); the export
    // holds what those rows had become, so the seeds go first, referring tables before those
    // they refer to.
    for shape in ordered.iter().rev() {
        query::<B>(&format!("DELETE FROM {}", quoted(&shape.name)))
            .execute(connection)
            .await?;
    }
    let shapes: HashMap<String, TableShape> = ordered
        .into_iter()
        .map(|shape| (shape.name.clone(), shape))
        .collect();
    let mut loaded: BTreeSet<String> = BTreeSet::new();
    let mut counts = ExportCounts::default();
    let mut batch: Option<Batch> = None;
    let mut buffer = String::new();
    let mut line = 1_u64;
    loop {
        if !next_line(input, &mut buffer)? {
            return Err(StoreError::Refused(format!(
                "the export ends at line {line} before its end line: the file was cut short, and nothing was imported"
            )));
        }
        line += 1;
        let text = buffer.trim_end();
        if text.starts_with('[') {
            let Some(current) = batch.as_mut() else {
                return Err(refused(line, "a row before any table line"));
            };
            let cells: Vec<Json> = serde_json::from_str(text)
                .map_err(|error| refused(line, format!("not a row: {error}")))?;
            if cells.len() != current.columns.len() {
                return Err(refused(
                    line,
                    format!(
                        "a row of {} with {} values for {} columns",
                        current.table,
                        cells.len(),
                        current.columns.len()
                    ),
                ));
            }
            for ((cell, kind), column) in cells.iter().zip(&current.kinds).zip(&current.columns) {
                let value = bound(cell, *kind).ok_or_else(|| {
                    refused(
                        line,
                        format!("{cell} cannot go in {}.{column} ({kind:?})", current.table),
                    )
                })?;
                current.cells.push(value);
            }
            current.seen += 1;
            if current.rows() >= rows_per_statement(current.columns.len()).min(500) {
                counts.rows += current.flush::<B>(connection).await?;
                progress(ImportProgress {
                    rows_done: counts.rows,
                    rows_total: header.rows,
                });
            }
            continue;
        }
        let object: Json = serde_json::from_str(text)
            .map_err(|error| refused(line, format!("not a line of an export: {error}")))?;
        if let Some(finished) = batch.as_mut() {
            counts.rows += finished.flush::<B>(connection).await?;
            finished.check_complete(line)?;
            progress(ImportProgress {
                rows_done: counts.rows,
                rows_total: header.rows,
            });
        }
        if object.get("end").is_some() {
            let end: EndLine = serde_json::from_value(object)
                .map_err(|error| refused(line, format!("a damaged end line: {error}")))?;
            if end.end != counts || counts.tables != header.tables || counts.rows != header.rows {
                return Err(refused(
                    line,
                    format!(
                        "the end line counts {} tables and {} rows, the header {} and {}, and {} and {} were read",
                        end.end.tables,
                        end.end.rows,
                        header.tables,
                        header.rows,
                        counts.tables,
                        counts.rows
                    ),
                ));
            }
            if let Some(missing) = shapes.keys().find(|name| !loaded.contains(*name)) {
                return Err(StoreError::Refused(format!(
                    "the export has no table {missing}, which schema version {} has: it was not written by nexus tenants export",
                    header.schema_version
                )));
            }
            return Ok(counts);
        }
        let table: TableLine = serde_json::from_value(object)
            .map_err(|error| refused(line, format!("neither a table line nor the end: {error}")))?;
        let shape = shapes.get(&table.table).ok_or_else(|| {
            refused(
                line,
                format!(
                    "table {} is not in schema version {}",
                    table.table, header.schema_version
                ),
            )
        })?;
        if !loaded.insert(table.table.clone()) {
            return Err(refused(line, format!("table {} comes twice", table.table)));
        }
        let have: BTreeSet<&str> = shape
            .columns
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        let given: BTreeSet<&str> = table.columns.iter().map(String::as_str).collect();
        if have != given || given.len() != table.columns.len() {
            return Err(refused(
                line,
                format!(
                    "table {} has columns {:?} here and {:?} in the export",
                    table.table, have, table.columns
                ),
            ));
        }
        let kinds = table
            .columns
            .iter()
            .map(|name| {
                shape
                    .columns
                    .iter()
                    .find(|(column, _)| column == name)
                    .map_or(ColumnType::Text, |(_, kind)| *kind)
            })
            .collect();
        counts.tables += 1;
        batch = Some(Batch {
            table: table.table,
            columns: table.columns,
            kinds,
            expected: table.rows,
            seen: 0,
            cells: Vec::new(),
        });
    }
}

/// The header an export of `tenant` begins with; its counts are filled in as it is written.
pub(crate) fn header(
    tenant: ExportedTenant,
    logins: Vec<ExportedLogin>,
    schema_version: i32,
    now: nexus_domain::UnixMillis,
    backend: crate::BackendKind,
) -> ExportHeader {
    ExportHeader {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        tenant,
        logins,
        schema_version,
        tables: 0,
        rows: 0,
        exported_at: now.as_millis(),
        exported_from: backend.as_str().to_owned(),
    }
}

/// The tenant schema version the connection's tenant is at (its own record, not the
/// directory's, which may lag behind).
pub(crate) async fn own_schema_version<B: Backend>(connection: &mut Conn<B>) -> StoreResult<i32> {
    Ok(query::<B>("SELECT version FROM schema_version")
        .scalar(connection)
        .await?)
}

/// Fills the empty tenant the connection is bound to (its `schema_version` table made, at 0)
/// from an export: the schema as it was at the export's version, the rows, then the rest of
/// `migrations`, exactly as a tenant that had stayed would have been migrated.
pub(crate) async fn import_into<B: Catalogue>(
    connection: &mut Conn<B>,
    tenant: nexus_domain::TenantId,
    header: &ExportHeader,
    input: &mut (dyn BufRead + Send),
    progress: &mut (dyn FnMut(ImportProgress) + Send),
    migrations: &'static [Migration],
) -> StoreResult<(ExportCounts, Option<i32>)> {
    let upto = migrations
        .iter()
        .position(|migration| migration.version == header.schema_version)
        .ok_or_else(|| {
            StoreError::Refused(format!(
                "the export is at schema version {}, which this build cannot make",
                header.schema_version
            ))
        })?;
    migrate_tenant_schema::<B>(connection, tenant, &migrations[..=upto]).await?;
    let counts = load_rows::<B>(connection, header, input, progress).await?;
    let outcome = migrate_tenant_schema::<B>(connection, tenant, migrations).await?;
    let migrated_from = match outcome {
        crate::MigrationOutcome::Migrated { from, .. } => Some(from),
        crate::MigrationOutcome::AlreadyCurrent => None,
    };
    Ok((counts, migrated_from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_through_hex() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[test]
    fn values_take_their_column_type_or_are_refused() {
        let id = Uuid::now_v7();
        let as_hex = serde_json::json!({ "hex": to_hex(id.as_bytes()) });
        let as_uuid = serde_json::json!({ "uuid": id });
        for value in [&as_hex, &as_uuid] {
            assert!(
                matches!(bound(value, ColumnType::Uuid), Some(Bound::Uuid(Some(found))) if found == id)
            );
            assert!(
                matches!(bound(value, ColumnType::Bytes), Some(Bound::Bytes(Some(found))) if found == id.as_bytes())
            );
        }
        assert!(matches!(
            bound(&Json::from(1), ColumnType::Bool),
            Some(Bound::Bool(Some(true)))
        ));
        assert!(matches!(
            bound(&Json::from(true), ColumnType::Int8),
            Some(Bound::Int8(Some(1)))
        ));
        assert!(bound(&Json::from(2), ColumnType::Bool).is_none());
        assert!(bound(&Json::from(i64::MAX), ColumnType::Int4).is_none());
        assert!(bound(&Json::from("7"), ColumnType::Int8).is_none());
        assert!(bound(&serde_json::json!({ "hex": "00" }), ColumnType::Uuid).is_none());
        assert!(matches!(
            bound(&Json::Null, ColumnType::Text),
            Some(Bound::Text(None))
        ));
    }

    #[test]
    fn tables_follow_what_they_refer_to_and_circles_are_refused() {
        let shape = |name: &str, refers: &[&str]| {
            (
                name.to_owned(),
                TableShape {
                    name: name.to_owned(),
                    columns: Vec::new(),
                    self_references: Vec::new(),
                    references: refers.iter().map(|table| (*table).to_owned()).collect(),
                },
            )
        };
        let order: Vec<String> = in_reference_order(BTreeMap::from([
            shape("sale_lines", &["sales", "products"]),
            shape("sales", &["branches", "users"]),
            shape("users", &["branches"]),
            shape("branches", &[]),
            shape("products", &[]),
        ]))
        .expect("an order")
        .into_iter()
        .map(|shape| shape.name)
        .collect();
        assert_eq!(
            order,
            ["branches", "products", "users", "sales", "sale_lines"]
        );
        assert!(
            in_reference_order(BTreeMap::from([shape("a", &["b"]), shape("b", &["a"])])).is_err()
        );
    }
}
