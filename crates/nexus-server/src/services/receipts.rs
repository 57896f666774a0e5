//! Receipts as the back office finds them: searched, paged newest first, and one with its
//! refunds and voids. What a cashier sees is their own; managers their branches'.

use nexus_domain::ids::SaleId;
use nexus_domain::{Permission, Role, UnixMillis, UserId};
use nexus_store::{ReceiptQuery, ReceiptSummary, Sale, TenderKind};
use uuid::Uuid;

use super::branch_scope;
use crate::auth::Authenticated;
use crate::calendar;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Receipts on one page of the list.
pub const RECEIPTS_PER_PAGE: u32 = 50;

/// The search as typed: every field optional.
#[derive(Clone, Debug, Default)]
pub struct ReceiptSearch {
    pub number: Option<String>,
    /// Local days, YYYY-MM-DD, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub branch: Option<Uuid>,
    pub cashier: Option<Uuid>,
    /// "cash", "card", or "momo" with a network ("momo:mtn").
    pub tender: Option<String>,
    /// Amounts in minor units.
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
    /// The `next` of the page before: "<occurred_at>.<sale id>".
    pub before: Option<String>,
}

pub struct ReceiptPage {
    pub rows: Vec<ReceiptSummary>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<String>,
}

fn parse_before(text: &str) -> ApiResult<(UnixMillis, SaleId)> {
    let refused = || {
        ApiError::validation("before must be the next link of an earlier page").with_field("before")
    };
    let (at, id) = text.split_once('.').ok_or_else(refused)?;
    let at: i64 = at.parse().map_err(|_| refused())?;
    let id: Uuid = id.parse().map_err(|_| refused())?;
    Ok((UnixMillis::from_millis(at), SaleId::from_uuid(id)))
}

fn parse_tender(text: &str) -> ApiResult<(TenderKind, Option<String>)> {
    let (kind, network) = match text.split_once(':') {
        Some((kind, network)) => (kind, Some(network.to_owned())),
        None => (text, None),
    };
    let kind = TenderKind::ALL
        .into_iter()
        .find(|known| known.as_str() == kind)
        .ok_or_else(|| {
            ApiError::validation("tender must be cash, card, momo or credit").with_field("tender")
        })?;
    Ok((kind, network))
}

/// The start of local day `day` in a zone `offset` minutes east of UTC.
fn day_start(day: i32, offset_minutes: i64) -> UnixMillis {
    UnixMillis::from_millis(i64::from(day) * 86_400_000 - offset_minutes * 60_000)
}

/// One page of receipts matching `search`, newest first.
pub async fn search(
    state: &AppState,
    auth: &Authenticated,
    search: &ReceiptSearch,
) -> ApiResult<ReceiptPage> {
    auth.require(Permission::ViewSales)?;
    let settings = state.store.settings(auth.tenant).await?;
    let offset = calendar::zone_offset_minutes(&settings.time_zone).unwrap_or(0);
    let day = |text: &Option<String>, field: &'static str| -> ApiResult<Option<i32>> {
        text.as_deref()
            .map(|text| {
                calendar::parse_date(text).ok_or_else(|| {
                    ApiError::validation(format!("{field} must be a date like 2026-01-31"))
                        .with_field(field)
                })
            })
            .transpose()
    };
    let from = day(&search.from, "from")?;
    let to = day(&search.to, "to")?;
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(ApiError::validation("to must be on or after from").with_field("to"));
    }
    if let (Some(min), Some(max)) = (search.min_minor, search.max_minor)
        && max < min
    {
        return Err(
            ApiError::validation("the largest amount must be at least the smallest")
                .with_field("max"),
        );
    }
    // A cashier looks up their own sales only.
    let cashier = match auth.user.role {
        Role::Cashier => Some(auth.user.id),
        _ => search.cashier.map(UserId::from_uuid),
    };
    let wanted = ReceiptQuery {
        branches: branch_scope(auth, search.branch)?,
        cashier,
        receipt_number: search
            .number
            .as_deref()
            .map(str::trim)
            .filter(|number| !number.is_empty())
            .map(str::to_uppercase),
        from: from.map(|day| day_start(day, offset)),
        until: to.map(|day| day_start(day + 1, offset)),
        tender: search.tender.as_deref().map(parse_tender).transpose()?,
        min_total_minor: search.min_minor,
        max_total_minor: search.max_minor,
        before: search.before.as_deref().map(parse_before).transpose()?,
        limit: RECEIPTS_PER_PAGE,
    };
    let rows = state.store.search_receipts(auth.tenant, &wanted).await?;
    let next = (rows.len() == RECEIPTS_PER_PAGE as usize)
        .then(|| rows.last())
        .flatten()
        .map(|last| format!("{}.{}", last.occurred_at.as_millis(), last.id.as_uuid()));
    Ok(ReceiptPage { rows, next })
}

/// A sale with its refunds and voids, if the person may see it (a cashier: their own).
pub async fn receipt(
    state: &AppState,
    auth: &Authenticated,
    id: Uuid,
) -> ApiResult<(Sale, Vec<Sale>)> {
    auth.require(Permission::ViewSales)?;
    let sale = super::sales::visible_sale(state, auth.tenant, &auth.actor(), id).await?;
    if auth.user.role == Role::Cashier && sale.cashier_id != auth.user.id {
        return Err(ApiError::not_found("sale"));
    }
    let returns = state.store.sale_returns(auth.tenant, sale.id).await?;
    Ok((sale, returns))
}
