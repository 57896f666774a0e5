//! One tenant's data: the queries of each area, written once for both backends as plain
//! functions over [`Backend`], and the store traits implemented on them for every store that
//! can open a tenant transaction ([`TenantAccess`]).

pub(crate) mod accounts;
pub(crate) mod branches;
pub(crate) mod catalogue;
pub(crate) mod categories;
pub(crate) mod changes;
pub(crate) mod customers;
pub(crate) mod dashboard;
pub(crate) mod exceptions;
pub(crate) mod jobs;
pub(crate) mod momo;
pub(crate) mod momo_requests;
pub(crate) mod purchasing;
pub(crate) mod receipts;
pub(crate) mod reports;
pub(crate) mod returns;
pub(crate) mod sales;
pub(crate) mod settings;
pub(crate) mod shifts;
pub(crate) mod staff;
pub(crate) mod stations;
pub(crate) mod stock;

use std::future::Future;

use nexus_domain::TenantId;

use crate::StoreResult;
use crate::sql::{Backend, Conn};

/// A store that can open a transaction bound to one tenant's schema or file. The tenant
/// traits are implemented once, on every such store.
pub(crate) trait TenantAccess: Send + Sync + 'static {
    type Db: Backend;

    fn begin_tenant(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = StoreResult<sqlx::Transaction<'static, Self::Db>>> + Send;
}

/// Runs `work` in one transaction bound to `tenant`: committed when it returns `Ok`, rolled
/// back when it returns an error (or is dropped half-way).
pub(crate) async fn with_tenant<S: TenantAccess, T>(
    store: &S,
    tenant: TenantId,
    work: impl AsyncFnOnce(&mut Conn<S::Db>) -> StoreResult<T>,
) -> StoreResult<T> {
    let mut transaction = store.begin_tenant(tenant).await?;
    let value = work(&mut *transaction).await?;
    transaction.commit().await?;
    Ok(value)
}
