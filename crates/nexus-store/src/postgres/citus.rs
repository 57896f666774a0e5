//! Citus schema-based sharding: each tenant schema can live on a worker node, the control
//! schema on the coordinator. A tenant transaction touches its own schema only (see the module
//! above), which is what lets Citus route it to one node.

use nexus_domain::TenantId;
use sqlx::postgres::PgPool;

use crate::StoreResult;
use crate::sql::query;

/// Distributes the tenant's schema (`citus_schema_distribute`); `false` when Citus already
/// holds it as a distributed schema. Each statement is its own implicit transaction, which both
/// PgBouncer in transaction mode and Citus's schema move accept. Call only where the `citus`
/// extension exists: its catalog is named here.
pub(crate) async fn distribute(pool: &PgPool, tenant: TenantId) -> StoreResult<bool> {
    let schema = tenant.storage_name();
    let mut connection = pool.acquire().await?;
    let already: bool = query::<sqlx::Postgres>(
        "SELECT EXISTS (SELECT 1 FROM pg_dist_schema WHERE schemaid = to_regnamespace($1))",
    )
    .bind(schema.as_str())
    .scalar(&mut connection)
    .await?;
    if already {
        return Ok(false);
    }
    query::<sqlx::Postgres>("SELECT citus_schema_distribute(to_regnamespace($1))")
        .bind(schema.as_str())
        .execute(&mut connection)
        .await?;
    Ok(true)
}
