//! Customer accounts: sales on credit checked against the customer's limit, payments on
//! account, the statement, and the list of who owes what.

use std::collections::HashMap;

use nexus_domain::account::{self, CreditError, StatementLine};
use nexus_domain::{Currency, TenantId, UnixMillis};
use nexus_store::{AccountEntryRow, CustomerRecord, NewAccountPayment, Store};
use serde::Serialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::events::Topic;
use crate::services::sales::{Authority, Exception};
use crate::state::AppState;

/// Whether a sale putting `credit_minor` on the account of `customer`, who owes `owed_minor`,
/// may stand. A sale asked for through the API is refused beyond the limit (422, saying what is
/// left); a till's sale already happened, so it is kept and the breach is flagged for the owner.
/// A customer the service does not know (their own op not here yet) is not judged.
pub fn check_credit_sale(
    currency: Currency,
    customer: Option<&CustomerRecord>,
    owed_minor: i64,
    credit_minor: i64,
    authority: Authority,
) -> ApiResult<Option<Exception>> {
    if credit_minor <= 0 {
        return Ok(None);
    }
    let Some(customer) = customer else {
        return match authority {
            Authority::Enforce => {
                Err(ApiError::validation(CreditError::NoCustomer.to_string())
                    .with_field("customer_id"))
            }
            Authority::Flag => Ok(None),
        };
    };
    match account::check_credit(
        &customer.name,
        currency,
        customer.credit_limit_minor,
        owed_minor,
        credit_minor,
    ) {
        Ok(()) => Ok(None),
        Err(refused) => match authority {
            Authority::Enforce => {
                Err(ApiError::validation(refused.to_string()).with_field("tenders"))
            }
            Authority::Flag => Ok(Some(Exception {
                kind: "credit_over_limit",
                detail: format!(
                    "{} now owes {} (limit {})",
                    customer.name,
                    currency.format_minor(owed_minor + credit_minor),
                    customer
                        .credit_limit_minor
                        .map_or("none".to_owned(), |limit| currency.format_minor(limit))
                ),
            })),
        },
    }
}

/// What the customers of a batch of credit sales owe before it, read once.
pub async fn balances_before(
    store: &dyn Store,
    tenant: TenantId,
    customers: &[uuid::Uuid],
) -> nexus_store::StoreResult<HashMap<uuid::Uuid, i64>> {
    if customers.is_empty() {
        return Ok(HashMap::new());
    }
    store.account_balances(tenant, customers).await
}

/// What each of `customers` owes (those who owe nothing are left out).
pub async fn owed_by(
    state: &AppState,
    auth: &Authenticated,
    customers: &[uuid::Uuid],
) -> ApiResult<HashMap<uuid::Uuid, i64>> {
    Ok(balances_before(state.store.as_ref(), auth.tenant, customers).await?)
}

/// A payment on account as sent.
pub struct PaymentInput {
    pub id: uuid::Uuid,
    pub kind: String,
    pub amount_minor: i64,
    pub network: Option<String>,
    pub phone: Option<String>,
    pub reference: Option<String>,
    pub branch_id: Option<nexus_domain::BranchId>,
    pub occurred_at: Option<i64>,
}

/// Records a payment on account, once per id. Returns the entry and whether this call wrote it.
pub async fn take_payment(
    state: &AppState,
    auth: &Authenticated,
    customer_id: uuid::Uuid,
    input: PaymentInput,
) -> ApiResult<(AccountEntryRow, bool)> {
    let customer = crate::services::customers::customer(state, auth, customer_id).await?;
    let tender = account::parse_payment(
        &input.kind,
        input.amount_minor,
        input.network.as_deref(),
        input.phone.as_deref(),
        input.reference.as_deref(),
    )
    .map_err(|refused| {
        ApiError::validation(refused.to_string()).with_field(match refused {
            nexus_domain::TenderError::Amount => "amount_minor",
            nexus_domain::TenderError::UnknownKind(_) => "kind",
            nexus_domain::TenderError::Network => "network",
            nexus_domain::TenderError::Phone => "phone",
            _ => "reference",
        })
    })?;
    if let Some(branch) = input.branch_id
        && !auth.actor().can_see_branch(branch)
    {
        return Err(ApiError::validation(format!(
            "branch {branch} does not exist or is not yours"
        ))
        .with_field("branch_id"));
    }
    let now = state.clock.now();
    let occurred_at = match input.occurred_at {
        None => now,
        Some(at) if at > 0 && at <= now.as_millis() + nexus_sync::MAX_CLOCK_DRIFT_MILLIS => {
            UnixMillis::from_millis(at)
        }
        Some(_) => {
            return Err(ApiError::validation(
                "occurred_at is not a time this payment could have been made",
            )
            .with_field("occurred_at"));
        }
    };
    let payment = NewAccountPayment {
        id: input.id,
        customer_id: customer.id,
        tender,
        occurred_at,
        recorded_at: now,
        recorded_by: auth.user.id,
        branch_id: input.branch_id,
        station_id: None,
        shift_id: None,
        receipt_number: None,
    };
    let recorded = state
        .store
        .record_account_payment(auth.tenant, payment)
        .await?;
    if recorded.1 {
        state.events.publish(auth.tenant, Topic::Sales).await;
    }
    Ok(recorded)
}

/// A customer's account: what they owe, their limit, what they may still take, and every entry
/// with the running balance.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub customer_id: uuid::Uuid,
    pub name: String,
    pub balance_minor: i64,
    pub credit_limit_minor: Option<i64>,
    pub credit_left_minor: i64,
    /// Owed beyond the limit (two tills selling on credit offline can take it there).
    pub over_limit_minor: i64,
    pub statement: Vec<StatementEntry>,
}

/// One line of a statement.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StatementEntry {
    #[serde(flatten)]
    pub entry: AccountEntryRow,
    /// What the customer owed after this entry.
    pub balance_minor: i64,
}

pub async fn account(
    state: &AppState,
    auth: &Authenticated,
    customer_id: uuid::Uuid,
) -> ApiResult<Account> {
    let customer = crate::services::customers::customer(state, auth, customer_id).await?;
    let mut entries = state
        .store
        .account_entries(auth.tenant, &[customer.id])
        .await?
        .remove(&customer.id)
        .unwrap_or_default();
    let lines: Vec<StatementLine> =
        account::statement(entries.iter().map(AccountEntryRow::entry).collect());
    let balance = lines.last().map_or(0, |line| line.balance_minor);
    let mut by_id: HashMap<uuid::Uuid, AccountEntryRow> =
        entries.drain(..).map(|entry| (entry.id, entry)).collect();
    let statement = lines
        .into_iter()
        .filter_map(|line| {
            by_id.remove(&line.entry.id).map(|entry| StatementEntry {
                entry,
                balance_minor: line.balance_minor,
            })
        })
        .collect();
    Ok(Account {
        customer_id: customer.id,
        name: customer.name,
        balance_minor: balance,
        credit_limit_minor: customer.credit_limit_minor,
        credit_left_minor: account::credit_left(customer.credit_limit_minor, balance),
        over_limit_minor: customer
            .credit_limit_minor
            .map_or(balance.max(0), |limit| (balance - limit).max(0)),
        statement,
    })
}

/// One customer who owes the shop.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Debtor {
    pub customer_id: uuid::Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub balance_minor: i64,
    pub credit_limit_minor: Option<i64>,
    /// When the oldest debt still unpaid was run up.
    pub oldest_unpaid_at: UnixMillis,
    /// A WhatsApp link with a polite reminder, when their number can be written in full.
    pub whatsapp_reminder: Option<String>,
}

/// Who owes what, oldest debt first.
pub async fn debtors(state: &AppState, auth: &Authenticated) -> ApiResult<Vec<Debtor>> {
    let tenant = auth.tenant;
    let owing = state.store.owing_customers(tenant).await?;
    if owing.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = owing.iter().map(|(id, _)| *id).collect();
    let customers: HashMap<uuid::Uuid, CustomerRecord> = state
        .store
        .customers_by_ids(tenant, &ids)
        .await?
        .into_iter()
        .map(|customer| (customer.id, customer))
        .collect();
    let entries = state.store.account_entries(tenant, &ids).await?;
    let settings = state.store.settings(tenant).await?;
    let shop = state.store.shop_details(tenant).await?;
    let shop_name = shop.trading_name.unwrap_or_else(|| "the shop".to_owned());
    let calling = nexus_domain::phone::calling_code(settings.currency);
    let mut debtors: Vec<Debtor> = owing
        .into_iter()
        .map(|(id, balance)| {
            let customer = customers.get(&id);
            let name = customer.map_or_else(
                || "A customer not yet synced".to_owned(),
                |customer| customer.name.clone(),
            );
            let phone = customer.and_then(|customer| customer.phone.clone());
            let own: Vec<_> = entries
                .get(&id)
                .map(|rows| rows.iter().map(AccountEntryRow::entry).collect())
                .unwrap_or_default();
            let whatsapp_reminder = phone
                .as_deref()
                .and_then(|phone| nexus_domain::phone::international_number(phone, calling).ok())
                .map(|number| {
                    let text =
                        account::reminder_text(&shop_name, &name, settings.currency, balance);
                    nexus_domain::phone::whatsapp_link(&number, &text)
                });
            Debtor {
                customer_id: id,
                oldest_unpaid_at: account::oldest_unpaid(&own)
                    .unwrap_or(UnixMillis::from_millis(0)),
                name,
                phone,
                balance_minor: balance,
                credit_limit_minor: customer.and_then(|customer| customer.credit_limit_minor),
                whatsapp_reminder,
            }
        })
        .collect();
    debtors.sort_by_key(|debtor| (debtor.oldest_unpaid_at, debtor.customer_id));
    Ok(debtors)
}
