//! The one place that states what the store needs of a database, so that every query is a plain
//! function written once for both backends: `async fn read_user<B: Backend>(…)`.
//!
//! sqlx expresses "this database can bind a `Uuid`" as a bound on `Uuid` (`Uuid: Encode<DB>`),
//! which a generic function would have to repeat in its `where` clause for every type it binds.
//! Here each such capability is a trait implemented *on the database* ([`Binds`], [`Reads`],
//! [`Runs`]), blanket-implemented wherever sqlx's own bounds hold; [`Backend`] lists them as
//! supertraits, and supertraits are implied. A query function says `B: Backend` and nothing
//! else.
//!
//! Statements go through [`query`], which also decides whether a statement may be prepared under
//! a name that outlives its transaction: never on PostgreSQL, where PgBouncer in transaction mode
//! hands each transaction a different server connection (a named statement is then "already
//! exists" on one and "does not exist" on the next). Unnamed statements live and die inside one
//! transaction, which is why every PostgreSQL query of the store runs inside one.

mod rows;

pub(crate) use rows::Rows;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};
use uuid::Uuid;

type SqlxQuery<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// The database can bind a `T` to a statement that lives for `'q`.
pub(crate) trait Binds<'q, T>: Database {
    fn bind_value(query: SqlxQuery<'q, Self>, value: T) -> SqlxQuery<'q, Self>;
}

impl<'q, DB: Database, T> Binds<'q, T> for DB
where
    T: 'q + Encode<'q, DB> + Type<DB>,
{
    fn bind_value(query: SqlxQuery<'q, Self>, value: T) -> SqlxQuery<'q, Self> {
        query.bind(value)
    }
}

/// The database can decode a `T` out of a column of its rows.
pub(crate) trait Reads<T>: Database {
    fn read(row: &Self::Row, column: &str) -> Result<T, sqlx::Error>;
    fn read_first(row: &Self::Row) -> Result<T, sqlx::Error>;
}

impl<DB: Database, T> Reads<T> for DB
where
    T: for<'r> Decode<'r, DB> + Type<DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    fn read(row: &Self::Row, column: &str) -> Result<T, sqlx::Error> {
        row.try_get(column)
    }

    fn read_first(row: &Self::Row) -> Result<T, sqlx::Error> {
        row.try_get(0_usize)
    }
}

/// The database's connections run statements.
pub(crate) trait Runs: Database {
    fn fetch_all<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: SqlxQuery<'q, Self>,
    ) -> BoxFuture<'c, Result<Vec<Self::Row>, sqlx::Error>>;

    fn fetch_optional<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: SqlxQuery<'q, Self>,
    ) -> BoxFuture<'c, Result<Option<Self::Row>, sqlx::Error>>;

    fn execute<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: SqlxQuery<'q, Self>,
    ) -> BoxFuture<'c, Result<Self::QueryResult, sqlx::Error>>;

    /// The rows one at a time as the database sends them, for results too large to hold.
    fn fetch_many<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: SqlxQuery<'q, Self>,
    ) -> BoxStream<'c, Result<Self::Row, sqlx::Error>>;

    /// Several statements as one simple query (migrations, bulk rebuilds): no parameters, so
    /// nothing is prepared.
    fn run_script<'c>(
        connection: &'c mut Self::Connection,
        sql: &'c str,
    ) -> BoxFuture<'c, Result<(), sqlx::Error>>;
}

impl<DB: Database> Runs for DB
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
{
    fn fetch_all<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: SqlxQuery<'q, Self>,
    ) -> BoxFuture<'c, Result<Vec<Self::Row>, sqlx::Error>> {
        connection.fetch_all(query)
    }

    fn fetch_optional<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: SqlxQuery<'q, Self>,
    ) -> BoxFuture<'c, Result<Option<Self::Row>, sqlx::Error>> {
        connection.fetch_optional(query)
    }

    fn execute<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: SqlxQuery<'q, Self>,
    ) -> BoxFuture<'c, Result<Self::QueryResult, sqlx::Error>> {
        connection.execute(query)
    }

    fn fetch_many<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: SqlxQuery<'q, Self>,
    ) -> BoxStream<'c, Result<Self::Row, sqlx::Error>> {
        connection.fetch(query)
    }

    fn run_script<'c>(
        connection: &'c mut Self::Connection,
        sql: &'c str,
    ) -> BoxFuture<'c, Result<(), sqlx::Error>> {
        Box::pin(async move {
            connection.execute(sql).await?;
            Ok(())
        })
    }
}

/// A storage backend: everything the store's queries need of a database, stated once.
pub(crate) trait Backend:
    Runs
    + sqlx::database::HasStatementCache
    + for<'q> Binds<'q, i64>
    + for<'q> Binds<'q, i32>
    + for<'q> Binds<'q, bool>
    + for<'q> Binds<'q, Uuid>
    + for<'q> Binds<'q, String>
    + for<'q> Binds<'q, &'q str>
    + for<'q> Binds<'q, &'q [u8]>
    + for<'q> Binds<'q, Option<i64>>
    + for<'q> Binds<'q, Option<i32>>
    + for<'q> Binds<'q, Option<Uuid>>
    + for<'q> Binds<'q, Option<String>>
    + for<'q> Binds<'q, Option<&'q str>>
    + for<'q> Binds<'q, Option<bool>>
    + for<'q> Binds<'q, Option<Vec<u8>>>
    + Reads<i64>
    + Reads<i32>
    + Reads<bool>
    + Reads<Uuid>
    + Reads<String>
    + Reads<Vec<u8>>
    + Reads<Option<i64>>
    + Reads<Option<i32>>
    + Reads<Option<Uuid>>
    + Reads<Option<String>>
    + Reads<Option<bool>>
    + Reads<Option<Vec<u8>>>
{
    /// Whether statements may be prepared under names that outlive a transaction (see the
    /// module comment).
    const PERSISTENT_STATEMENTS: bool;
    /// Appended to a `SELECT` that must hold its rows until commit. SQLite has no row locks: its
    /// tenant transactions begin `IMMEDIATE` and so hold the whole database's write lock.
    const LOCK_ROWS: &'static str;
    /// The prefix that names the control tables: a schema on PostgreSQL; SQLite keeps them in a
    /// database file of their own.
    const CONTROL: &'static str;

    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Inserts `rows` followed by `tail` in as few statements as the database takes them (see
    /// [`Rows`]); the rows that `RETURNING` gives, if any.
    fn insert_rows<'c>(
        connection: &'c mut Self::Connection,
        rows: &'c Rows,
        tail: &'c str,
    ) -> BoxFuture<'c, sqlx::Result<Vec<Self::Row>>>;
}

impl Backend for sqlx::Postgres {
    const PERSISTENT_STATEMENTS: bool = false;
    const LOCK_ROWS: &'static str = " FOR UPDATE";
    const CONTROL: &'static str = "nexus_control.";

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }

    fn insert_rows<'c>(
        connection: &'c mut Self::Connection,
        rows: &'c Rows,
        tail: &'c str,
    ) -> BoxFuture<'c, sqlx::Result<Vec<Self::Row>>> {
        rows::insert_unnest(connection, rows, tail)
    }
}

impl Backend for sqlx::Sqlite {
    // Each SQLite pool is one file on this machine; caching parsed statements is safe and saves
    // the parse on every call.
    const PERSISTENT_STATEMENTS: bool = true;
    const LOCK_ROWS: &'static str = "";
    const CONTROL: &'static str = "";

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }

    fn insert_rows<'c>(
        connection: &'c mut Self::Connection,
        rows: &'c Rows,
        tail: &'c str,
    ) -> BoxFuture<'c, sqlx::Result<Vec<Self::Row>>> {
        rows::insert_values(connection, rows, tail)
    }
}

/// The connection a query runs on (a transaction derefs to it).
pub(crate) type Conn<B> = <B as Database>::Connection;

/// One statement with its parameters, run on a connection.
pub(crate) struct Statement<'q, B: Backend> {
    inner: SqlxQuery<'q, B>,
}

/// A statement of `sql`, with `$1, $2, …` placeholders (both backends accept them).
pub(crate) fn query<B: Backend>(sql: &str) -> Statement<'_, B> {
    Statement {
        inner: sqlx::query(sql).persistent(B::PERSISTENT_STATEMENTS),
    }
}

impl<'q, B: Backend> Statement<'q, B> {
    pub(crate) fn bind<T>(self, value: T) -> Self
    where
        B: Binds<'q, T>,
    {
        Self {
            inner: B::bind_value(self.inner, value),
        }
    }

    pub(crate) async fn fetch_all(self, connection: &mut Conn<B>) -> sqlx::Result<Vec<B::Row>> {
        B::fetch_all(connection, self.inner).await
    }

    pub(crate) async fn fetch_optional(
        self,
        connection: &mut Conn<B>,
    ) -> sqlx::Result<Option<B::Row>> {
        B::fetch_optional(connection, self.inner).await
    }

    /// The rows one at a time, for results too large to hold at once.
    pub(crate) fn fetch_many<'c>(
        self,
        connection: &'c mut Conn<B>,
    ) -> BoxStream<'c, sqlx::Result<B::Row>>
    where
        'q: 'c,
    {
        B::fetch_many(connection, self.inner)
    }

    pub(crate) async fn fetch_one(self, connection: &mut Conn<B>) -> sqlx::Result<B::Row> {
        B::fetch_optional(connection, self.inner)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Runs the statement and returns how many rows it changed.
    pub(crate) async fn execute(self, connection: &mut Conn<B>) -> sqlx::Result<u64> {
        let result = B::execute(connection, self.inner).await?;
        Ok(B::rows_affected(&result))
    }

    /// The first column of the one row the statement returns.
    pub(crate) async fn scalar<T>(self, connection: &mut Conn<B>) -> sqlx::Result<T>
    where
        B: Reads<T>,
    {
        B::read_first(&self.fetch_one(connection).await?)
    }

    /// The first column of the row the statement returns, if it returns one.
    pub(crate) async fn scalar_optional<T>(
        self,
        connection: &mut Conn<B>,
    ) -> sqlx::Result<Option<T>>
    where
        B: Reads<T>,
    {
        self.fetch_optional(connection)
            .await?
            .map(|row| B::read_first(&row))
            .transpose()
    }

    /// The first column of every row.
    pub(crate) async fn scalars<T>(self, connection: &mut Conn<B>) -> sqlx::Result<Vec<T>>
    where
        B: Reads<T>,
    {
        self.fetch_all(connection)
            .await?
            .iter()
            .map(B::read_first)
            .collect()
    }
}

/// Reads a column by name: `row.field::<i64>("price_minor")`.
pub(crate) trait RowExt: sqlx::Row {
    fn field<T>(&self, column: &str) -> sqlx::Result<T>
    where
        Self::Database: Reads<T>,
    {
        <Self::Database as Reads<T>>::read(self, column)
    }
}

impl<R: sqlx::Row> RowExt for R {}

/// Runs a script of several statements (no parameters).
pub(crate) async fn run_script<B: Backend>(
    connection: &mut Conn<B>,
    sql: &str,
) -> sqlx::Result<()> {
    B::run_script(connection, sql).await
}

/// Rows per multi-row statement, so that no statement binds more than 30,000 values (SQLite
/// allows 32,766 per statement, PostgreSQL 65,535).
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (30_000 / columns).max(1)
}

/// `rows` copies of `row`, comma-separated, with each `?` in it replaced by the next `$N`
/// placeholder from `$first`: `values("(?, ?, 0)", 2, 1)` is `($1, $2, 0), ($3, $4, 0)`.
/// The text of `row` is ours, never a client's.
pub(crate) fn values(row: &str, rows: usize, first: usize) -> String {
    let mut sql = String::with_capacity(rows * (row.len() + 8));
    let mut next = first;
    for index in 0..rows {
        if index > 0 {
            sql.push_str(", ");
        }
        for character in row.chars() {
            if character == '?' {
                sql.push('$');
                sql.push_str(&next.to_string());
                next += 1;
            } else {
                sql.push(character);
            }
        }
    }
    sql
}

/// `$first, $first+1, …` for an `IN (…)` list of `count` values.
pub(crate) fn placeholders(count: usize, first: usize) -> String {
    values("?", count, first)
}

/// A `LIKE` pattern that finds `text` anywhere, case-insensitively (the column holds lowercase
/// text), with LIKE's wildcards escaped so that "50%" means the text "50%". Use with
/// `ESCAPE '\'`.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A column that holds a domain value as text ("cash", "standard", "GHS"…): parsed, or a decode
/// error naming what was wrong.
pub(crate) fn parse_column<T: std::str::FromStr>(text: &str, what: &str) -> sqlx::Result<T> {
    text.parse()
        .map_err(|_| sqlx::Error::Decode(format!("bad {what}: {text:?}").into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_values_number_their_placeholders_in_order() {
        assert_eq!(values("(?, ?, 0)", 2, 1), "($1, $2, 0), ($3, $4, 0)");
        assert_eq!(values("(?)", 1, 3), "($3)");
        assert_eq!(placeholders(3, 2), "$2, $3, $4");
        assert_eq!(values("(?)", 0, 1), "");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_Off\\"), "%50\\%\\_off\\\\%");
    }
}
