//! Background jobs of one tenant: long work (a catalogue import) done in short transactions,
//! each of which also records how far the job has come, so that any server process can say.

use async_trait::async_trait;
use nexus_domain::{TenantId, UnixMillis, UserId};
use serde::Serialize;

use super::catalogue::upsert_products;
use super::{TenantAccess, with_tenant};
use crate::StoreResult;
use crate::retail::{ImportColumns, ImportCounts, NewProduct};
use crate::sql::{Backend, Conn, RowExt, parse_column, query};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }
}

impl std::str::FromStr for JobState {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "running" => Ok(JobState::Running),
            "succeeded" => Ok(JobState::Succeeded),
            "failed" => Ok(JobState::Failed),
            _ => Err(()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewJob {
    pub id: uuid::Uuid,
    pub kind: &'static str,
    pub rows_total: i64,
    /// Problems found before the work started (JSON), kept with the job.
    pub errors: serde_json::Value,
    pub created_by: UserId,
    pub now: UnixMillis,
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobRecord {
    pub id: uuid::Uuid,
    pub kind: String,
    pub state: JobState,
    pub rows_total: i64,
    pub rows_done: i64,
    pub outcome: Option<serde_json::Value>,
    pub errors: serde_json::Value,
    pub message: Option<String>,
    pub created_by: UserId,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    async fn create_job(&self, tenant: TenantId, job: NewJob) -> StoreResult<JobRecord>;
    async fn get_job(&self, tenant: TenantId, job: uuid::Uuid) -> StoreResult<Option<JobRecord>>;
    /// Imports one chunk of a catalogue import and counts it done, in one short transaction.
    async fn import_chunk(
        &self,
        tenant: TenantId,
        job: uuid::Uuid,
        rows: &[NewProduct],
        columns: ImportColumns,
        now: UnixMillis,
    ) -> StoreResult<ImportCounts>;
    /// Ends a job with its outcome, or with the message of what stopped it.
    async fn finish_job(
        &self,
        tenant: TenantId,
        job: uuid::Uuid,
        state: JobState,
        outcome: Option<serde_json::Value>,
        message: Option<String>,
        now: UnixMillis,
    ) -> StoreResult<()>;
}

const JOB_COLUMNS: &str = "id, kind, state, rows_total, rows_done, outcome, errors, message, \
                           created_by, created_at, updated_at";

fn json_column(text: &str) -> sqlx::Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

fn job_from_row<R: RowExt>(row: &R) -> sqlx::Result<JobRecord>
where
    R::Database: Backend,
{
    let state: String = row.field("state")?;
    Ok(JobRecord {
        id: row.field("id")?,
        kind: row.field("kind")?,
        state: parse_column(&state, "job state")?,
        rows_total: row.field("rows_total")?,
        rows_done: row.field("rows_done")?,
        outcome: row
            .field::<Option<String>>("outcome")?
            .map(|text| json_column(&text))
            .transpose()?,
        errors: json_column(&row.field::<String>("errors")?)?,
        message: row.field("message")?,
        created_by: UserId::from_uuid(row.field("created_by")?),
        created_at: UnixMillis::from_millis(row.field("created_at")?),
        updated_at: UnixMillis::from_millis(row.field("updated_at")?),
    })
}

async fn read_job<B: Backend>(
    connection: &mut Conn<B>,
    job: uuid::Uuid,
) -> StoreResult<Option<JobRecord>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
    let row = query::<B>(&sql)
        .bind(job)
        .fetch_optional(connection)
        .await?;
    Ok(row.as_ref().map(job_from_row).transpose()?)
}

#[async_trait]
impl<S: TenantAccess> JobStore for S {
    async fn create_job(&self, tenant: TenantId, job: NewJob) -> StoreResult<JobRecord> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "INSERT INTO jobs (id, kind, state, rows_total, rows_done, outcome, errors, message, \
                 created_by, created_at, updated_at) VALUES ($1, $2, 'running', $3, 0, NULL, $4, NULL, $5, $6, $6)",
            )
            .bind(job.id)
            .bind(job.kind)
            .bind(job.rows_total)
            .bind(job.errors.to_string())
            .bind(job.created_by.as_uuid())
            .bind(job.now.as_millis())
            .execute(connection)
            .await?;
            read_job::<S::Db>(connection, job.id)
                .await?
                .ok_or(crate::StoreError::Refused("job vanished".into()))
        })
        .await
    }

    async fn get_job(&self, tenant: TenantId, job: uuid::Uuid) -> StoreResult<Option<JobRecord>> {
        with_tenant(self, tenant, async |connection| {
            read_job::<S::Db>(connection, job).await
        })
        .await
    }

    async fn import_chunk(
        &self,
        tenant: TenantId,
        job: uuid::Uuid,
        rows: &[NewProduct],
        columns: ImportColumns,
        now: UnixMillis,
    ) -> StoreResult<ImportCounts> {
        with_tenant(self, tenant, async |connection| {
            let counts = upsert_products::<S::Db>(connection, rows, columns, now).await?;
            query::<S::Db>(
                "UPDATE jobs SET rows_done = rows_done + $2, updated_at = $3 WHERE id = $1",
            )
            .bind(job)
            .bind(i64::try_from(rows.len()).unwrap_or(i64::MAX))
            .bind(now.as_millis())
            .execute(connection)
            .await?;
            Ok(counts)
        })
        .await
    }

    async fn finish_job(
        &self,
        tenant: TenantId,
        job: uuid::Uuid,
        state: JobState,
        outcome: Option<serde_json::Value>,
        message: Option<String>,
        now: UnixMillis,
    ) -> StoreResult<()> {
        with_tenant(self, tenant, async |connection| {
            query::<S::Db>(
                "UPDATE jobs SET state = $2, outcome = $3, message = $4, updated_at = $5 WHERE id = $1",
            )
            .bind(job)
            .bind(state.as_str())
            .bind(outcome.map(|outcome| outcome.to_string()))
            .bind(message)
            .bind(now.as_millis())
            .execute(connection)
            .await?;
            Ok(())
        })
        .await
    }
}
