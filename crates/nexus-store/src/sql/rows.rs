//! Many rows of one table written at once, the way each backend writes them fastest.
//!
//! A push of 500 sales writes thousands of rows. As one multi-row `VALUES` list each row costs
//! its own parameters: 24 a sale, 18 a line, and PostgreSQL parses and plans a statement of
//! thousands of placeholders afresh each time (statements are never named there, see the
//! module above). On PostgreSQL the rows go instead as one array per column,
//! `INSERT … SELECT * FROM UNNEST($1::uuid[], $2::int8[], …)`: a statement of a few
//! parameters whatever the number of rows. SQLite has no arrays; it takes multi-row `VALUES`
//! in chunks under its limit on parameters, which costs it little since it runs in-process.

use futures_util::future::BoxFuture;
use sqlx::{PgConnection, SqliteConnection};
use uuid::Uuid;

use super::{rows_per_statement, values};

/// One value of a row, with its type even when it is NULL, so that an all-NULL column still
/// has an array type.
#[derive(Clone, Debug)]
pub(crate) enum Cell {
    Uuid(Option<Uuid>),
    BigInt(Option<i64>),
    Int(Option<i32>),
    Text(Option<String>),
    Bool(Option<bool>),
}

macro_rules! cell_from {
    ($variant:ident, $type:ty) => {
        impl From<$type> for Cell {
            fn from(value: $type) -> Self {
                Cell::$variant(Some(value.into()))
            }
        }
        impl From<Option<$type>> for Cell {
            fn from(value: Option<$type>) -> Self {
                Cell::$variant(value.map(Into::into))
            }
        }
    };
}

cell_from!(Uuid, Uuid);
cell_from!(BigInt, i64);
cell_from!(Int, i32);
cell_from!(Text, String);
cell_from!(Text, &str);
cell_from!(Bool, bool);

/// Rows for one table, kept row by row in the order given.
pub(crate) struct Rows {
    table: &'static str,
    columns: &'static [&'static str],
    cells: Vec<Cell>,
}

impl Rows {
    /// Rows of `table` with `columns`, named as in SQL.
    pub(crate) fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Self {
            table,
            columns,
            cells: Vec::new(),
        }
    }

    /// Adds a row: one cell per column, in column order.
    pub(crate) fn push<const N: usize>(&mut self, row: [Cell; N]) {
        debug_assert_eq!(N, self.columns.len(), "a row of {}", self.table);
        self.cells.extend(row);
    }

    pub(crate) fn len(&self) -> usize {
        self.cells.len() / self.columns.len().max(1)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    fn check_shape(&self) -> sqlx::Result<()> {
        if self.columns.is_empty() || !self.cells.len().is_multiple_of(self.columns.len()) {
            return Err(sqlx::Error::Encode(
                format!(
                    "rows of {} do not fit its {} columns",
                    self.table,
                    self.columns.len()
                )
                .into(),
            ));
        }
        Ok(())
    }

    /// Inserts the rows; `tail` follows them in the statement (`ON CONFLICT …`,
    /// `RETURNING …`). Returns the rows that `RETURNING` gives, from every statement.
    pub(crate) async fn insert<B: super::Backend>(
        &self,
        connection: &mut super::Conn<B>,
        tail: &str,
    ) -> sqlx::Result<Vec<B::Row>> {
        if self.is_empty() {
            return Ok(Vec::new());
        }
        self.check_shape()?;
        B::insert_rows(connection, self, tail).await
    }

    /// Inserts the rows with `tail` ending in `RETURNING` one uuid column; returns those ids.
    pub(crate) async fn insert_returning_ids<B: super::Backend>(
        &self,
        connection: &mut super::Conn<B>,
        tail: &str,
    ) -> sqlx::Result<Vec<Uuid>> {
        self.insert::<B>(connection, tail)
            .await?
            .iter()
            .map(B::read_first)
            .collect()
    }
}

/// One column of [`Rows`] as the array PostgreSQL binds.
enum Array {
    Uuid(Vec<Option<Uuid>>),
    BigInt(Vec<Option<i64>>),
    Int(Vec<Option<i32>>),
    Text(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
}

impl Array {
    fn sql_type(&self) -> &'static str {
        match self {
            Array::Uuid(_) => "uuid[]",
            Array::BigInt(_) => "int8[]",
            Array::Int(_) => "int4[]",
            Array::Text(_) => "text[]",
            Array::Bool(_) => "bool[]",
        }
    }
}

/// The columns of `rows` as arrays, each typed by its first cell; a column whose cells
/// disagree on their type is an error in the caller.
fn arrays(rows: &Rows) -> sqlx::Result<Vec<Array>> {
    let width = rows.columns.len();
    let count = rows.len();
    let mut arrays: Vec<Array> = rows.cells[..width]
        .iter()
        .map(|cell| match cell {
            Cell::Uuid(_) => Array::Uuid(Vec::with_capacity(count)),
            Cell::BigInt(_) => Array::BigInt(Vec::with_capacity(count)),
            Cell::Int(_) => Array::Int(Vec::with_capacity(count)),
            Cell::Text(_) => Array::Text(Vec::with_capacity(count)),
            Cell::Bool(_) => Array::Bool(Vec::with_capacity(count)),
        })
        .collect();
    for (index, cell) in rows.cells.iter().enumerate() {
        let column = index % width;
        match (&mut arrays[column], cell) {
            (Array::Uuid(values), Cell::Uuid(value)) => values.push(*value),
            (Array::BigInt(values), Cell::BigInt(value)) => values.push(*value),
            (Array::Int(values), Cell::Int(value)) => values.push(*value),
            (Array::Text(values), Cell::Text(value)) => values.push(value.clone()),
            (Array::Bool(values), Cell::Bool(value)) => values.push(*value),
            _ => {
                return Err(sqlx::Error::Encode(
                    format!("column {}.{} mixes types", rows.table, rows.columns[column]).into(),
                ));
            }
        }
    }
    Ok(arrays)
}

pub(super) fn insert_unnest<'c>(
    connection: &'c mut PgConnection,
    rows: &'c Rows,
    tail: &'c str,
) -> BoxFuture<'c, sqlx::Result<Vec<sqlx::postgres::PgRow>>> {
    Box::pin(async move {
        let arrays = arrays(rows)?;
        let unnest: Vec<String> = arrays
            .iter()
            .enumerate()
            .map(|(index, array)| format!("${}::{}", index + 1, array.sql_type()))
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({}) {tail}",
            rows.table,
            rows.columns.join(", "),
            unnest.join(", ")
        );
        let mut statement = sqlx::query(&sql).persistent(false);
        for array in arrays {
            statement = match array {
                Array::Uuid(values) => statement.bind(values),
                Array::BigInt(values) => statement.bind(values),
                Array::Int(values) => statement.bind(values),
                Array::Text(values) => statement.bind(values),
                Array::Bool(values) => statement.bind(values),
            };
        }
        sqlx::Executor::fetch_all(connection, statement).await
    })
}

pub(super) fn insert_values<'c>(
    connection: &'c mut SqliteConnection,
    rows: &'c Rows,
    tail: &'c str,
) -> BoxFuture<'c, sqlx::Result<Vec<sqlx::sqlite::SqliteRow>>> {
    Box::pin(async move {
        let width = rows.columns.len();
        let row = format!("({})", vec!["?"; width].join(", "));
        let mut returned = Vec::new();
        for chunk in rows.cells.chunks(rows_per_statement(width) * width) {
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {} {tail}",
                rows.table,
                rows.columns.join(", "),
                values(&row, chunk.len() / width, 1)
            );
            let mut statement = sqlx::query(&sql);
            for cell in chunk {
                statement = match cell.clone() {
                    Cell::Uuid(value) => statement.bind(value),
                    Cell::BigInt(value) => statement.bind(value),
                    Cell::Int(value) => statement.bind(value),
                    Cell::Text(value) => statement.bind(value),
                    Cell::Bool(value) => statement.bind(value),
                };
            }
            returned.extend(sqlx::Executor::fetch_all(&mut *connection, statement).await?);
        }
        Ok(returned)
    })
}

#[cfg(test)]
mod tests {
    use sqlx::Connection as _;

    use super::*;

    #[test]
    fn columns_are_typed_by_their_first_row_even_when_null() {
        let mut rows = Rows::new("t", &["a", "b"]);
        rows.push([Cell::Uuid(None), 7_i32.into()]);
        rows.push([Uuid::nil().into(), Option::<i32>::None.into()]);
        let arrays = arrays(&rows).expect("arrays");
        let types: Vec<_> = arrays.iter().map(Array::sql_type).collect();
        assert_eq!(types, ["uuid[]", "int4[]"]);
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn a_column_of_mixed_types_is_refused_not_bound() {
        let mut rows = Rows::new("t", &["a", "b"]);
        rows.push([1_i64.into(), "x".into()]);
        rows.push([Cell::Text(None), "y".into()]);
        let error = arrays(&rows).err().expect("mixed types").to_string();
        assert!(error.contains("t.a mixes types"), "{error}");
    }

    /// More rows than one SQLite statement may bind, a duplicate among them and NULLs: every
    /// row lands once and `RETURNING` answers from every statement.
    async fn many_rows_land_once<B: super::super::Backend>(connection: &mut B::Connection)
    where
        B::Connection: Send,
    {
        let mut rows = Rows::new("rows_test", &["id", "n", "label"]);
        let ids: Vec<Uuid> = (1..=20_000_u128).map(Uuid::from_u128).collect();
        for (n, id) in (0_i64..).zip(&ids) {
            let label = (n % 2 == 0).then(|| format!("row {n}"));
            rows.push([(*id).into(), n.into(), label.into()]);
        }
        rows.push([ids[0].into(), 0_i64.into(), Cell::Text(None)]);
        let returned = rows
            .insert_returning_ids::<B>(connection, "ON CONFLICT (id) DO NOTHING RETURNING id")
            .await
            .expect("insert");
        assert_eq!(returned.len(), ids.len());
        let stored: i64 = super::super::query::<B>(
            "SELECT COUNT(*) FROM rows_test WHERE label IS NULL AND n % 2 = 1",
        )
        .scalar(connection)
        .await
        .expect("count");
        assert_eq!(stored, 10_000);
    }

    #[tokio::test]
    async fn many_rows_land_once_on_sqlite() {
        let mut connection = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        sqlx::Executor::execute(
            &mut connection,
            "CREATE TABLE rows_test (id blob PRIMARY KEY, n bigint NOT NULL, label text)",
        )
        .await
        .expect("table");
        many_rows_land_once::<sqlx::Sqlite>(&mut connection).await;
    }

    #[tokio::test]
    async fn many_rows_land_once_on_postgres() {
        let Ok(url) = std::env::var("NEXUS_TEST_DATABASE_URL") else {
            return;
        };
        let mut connection = sqlx::PgConnection::connect(&url).await.expect("postgres");
        sqlx::Executor::execute(
            &mut connection,
            "CREATE TEMPORARY TABLE rows_test (id uuid PRIMARY KEY, n bigint NOT NULL, label text)",
        )
        .await
        .expect("table");
        many_rows_land_once::<sqlx::Postgres>(&mut connection).await;
    }
}
