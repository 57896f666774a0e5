//! Request to pay, while the till is online: the till names the payer's number and the amount
//! under a reference it chose; the service asks the network to collect and says where the
//! request stands until it is paid or failed. The till completes the sale only on paid.
//!
//! Nothing here is ever charged twice: the reference is the network's idempotency key, a
//! request the till sends again is the one already kept, and a request whose answer was lost is
//! looked up, then sent again under the same reference only if the network never had it. A
//! callback is only a prompt to look: it is not signed, so what it says is not believed.

use axum::http::StatusCode;
use nexus_domain::momo::{self, Network, NetworkAnswer, RequestState};
use nexus_domain::{Permission, TenantId, UnixMillis};
use nexus_store::{MomoAccount, MomoRequestRecord, RequestUpdate};
use nexus_sync::momo::{RequestStatus, RequestToPay};
use serde::Serialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::momo::{CollectError, PayRequest};
use crate::state::AppState;

/// Where a request stands, for the till.
fn status_of(record: &MomoRequestRecord) -> RequestStatus {
    RequestStatus {
        id: record.id,
        updated_at: record.updated_at,
        network: record.network.as_str().to_owned(),
        phone: record.phone.clone(),
        amount_minor: record.amount_minor,
        state: record.state.as_str().to_owned(),
        reason: record.reason.clone(),
        message: record.reason.as_deref().map(momo::failure_message),
        transaction_id: record.transaction_id.clone(),
    }
}

/// A shop's account on one network, as shown back: the secrets only as whether they are set.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub network: String,
    pub api_user: String,
    pub target_environment: String,
    pub currency_code: Option<String>,
    pub api_key_set: bool,
    pub subscription_key_set: bool,
    pub updated_at: UnixMillis,
}

/// The account as the owner enters it.
#[derive(Clone)]
pub struct AccountInput {
    pub api_user: String,
    pub api_key: String,
    pub subscription_key: String,
    pub target_environment: String,
    pub currency_code: Option<String>,
}

impl std::fmt::Debug for AccountInput {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AccountInput")
            .field("api_user", &self.api_user)
            .field("api_key", &"[redacted]")
            .field("subscription_key", &"[redacted]")
            .field("target_environment", &self.target_environment)
            .field("currency_code", &self.currency_code)
            .finish()
    }
}

fn network_of(text: &str) -> ApiResult<Network> {
    Network::parse(text).ok_or_else(|| {
        ApiError::validation("network must be mtn, telecel or airteltigo").with_field("network")
    })
}

/// The shop's accounts, secrets left out.
pub async fn accounts(state: &AppState, auth: &Authenticated) -> ApiResult<Vec<AccountView>> {
    auth.require(Permission::ManageSettings)?;
    let accounts = state.store.momo_accounts(auth.tenant).await?;
    Ok(accounts
        .iter()
        .map(|account| AccountView {
            network: account.network.as_str().to_owned(),
            api_user: account.api_user.clone(),
            target_environment: account.target_environment.clone(),
            currency_code: account.currency_code.clone(),
            api_key_set: !account.api_key.is_empty(),
            subscription_key_set: !account.subscription_key.is_empty(),
            updated_at: account.updated_at,
        })
        .collect())
}

/// Saves the shop's account on a network. A key left empty keeps the one saved, so that the
/// form never has to show a secret to change the rest.
pub async fn set_account(
    state: &AppState,
    auth: &Authenticated,
    network: &str,
    input: AccountInput,
) -> ApiResult<()> {
    auth.require(Permission::ManageSettings)?;
    let network = network_of(network)?;
    if state.momo.network(network).is_none() {
        return Err(ApiError::validation(format!(
            "request to pay is not available on {} yet: its payments are taken with the \
             transaction id from the SMS and reconciled from its statement",
            network.name()
        ))
        .with_field("network"));
    }
    let saved = state.store.momo_account(auth.tenant, network).await?;
    let keep = |given: String, saved: Option<&str>| {
        let given = given.trim().to_owned();
        if given.is_empty() {
            saved.unwrap_or_default().to_owned()
        } else {
            given
        }
    };
    let account = MomoAccount {
        network,
        api_user: input.api_user.trim().to_owned(),
        api_key: keep(input.api_key, saved.as_ref().map(|a| a.api_key.as_str())),
        subscription_key: keep(
            input.subscription_key,
            saved.as_ref().map(|a| a.subscription_key.as_str()),
        ),
        target_environment: input.target_environment.trim().to_owned(),
        currency_code: input
            .currency_code
            .map(|code| code.trim().to_ascii_uppercase())
            .filter(|code| !code.is_empty()),
        updated_at: state.clock.now(),
    };
    for (field, value, what) in [
        ("api_user", &account.api_user, "the API user"),
        ("api_key", &account.api_key, "the API key"),
        (
            "subscription_key",
            &account.subscription_key,
            "the subscription key",
        ),
        (
            "target_environment",
            &account.target_environment,
            "the target environment (sandbox, or the one the network gave, e.g. mtnghana)",
        ),
    ] {
        if value.is_empty() || value.len() > 200 || value.chars().any(char::is_control) {
            return Err(ApiError::validation(format!("enter {what}")).with_field(field));
        }
    }
    if let Some(code) = &account.currency_code
        && (code.len() != 3 || !code.bytes().all(|byte| byte.is_ascii_uppercase()))
    {
        return Err(ApiError::validation(
            "the currency must be a three-letter code such as GHS or EUR",
        )
        .with_field("currency_code"));
    }
    state
        .store
        .set_momo_account(auth.tenant, &account, auth.user.id)
        .await?;
    Ok(())
}

/// Starts a request to pay (or, for a reference already used, answers where that request
/// stands: a till that lost the answer sends the same request again).
pub async fn request_to_pay(
    state: &AppState,
    tenant: TenantId,
    station: Option<uuid::Uuid>,
    input: RequestToPay,
) -> ApiResult<RequestStatus> {
    let network = network_of(&input.network)?;
    let phone = momo::msisdn(&input.phone).ok_or_else(|| {
        ApiError::validation("enter the payer's mobile-money number (for example 024 412 3456)")
            .with_field("phone")
    })?;
    if input.amount_minor <= 0 || input.amount_minor > nexus_domain::limits::MAX_SALE_TOTAL_MINOR {
        return Err(ApiError::validation(format!(
            "the amount must be from 1 to {} in minor units",
            nexus_domain::limits::MAX_SALE_TOTAL_MINOR
        ))
        .with_field("amount_minor"));
    }
    if input.id.get_version_num() != 4 {
        return Err(
            ApiError::validation("the request's id must be a random (version 4) UUID")
                .with_field("id"),
        );
    }
    let account = account_for(state, tenant, network).await?;
    let now = state.clock.now();
    let currency = match &account.currency_code {
        Some(code) => code.clone(),
        None => state
            .store
            .settings(tenant)
            .await?
            .currency
            .code()
            .to_owned(),
    };
    let fresh = MomoRequestRecord {
        id: input.id,
        network,
        phone,
        amount_minor: input.amount_minor,
        currency_code: currency,
        station_id: station,
        state: RequestState::Sending,
        reason: None,
        transaction_id: None,
        sale_id: None,
        created_at: now,
        checked_at: now,
        updated_at: now,
    };
    let (kept, created) = state.store.open_momo_request(tenant, &fresh).await?;
    state.momo.note_open(tenant);
    if !created
        && (kept.network != fresh.network
            || kept.phone != fresh.phone
            || kept.amount_minor != fresh.amount_minor)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "request_id_taken",
            "this request's id was used for another payment; start the payment again",
        )
        .with_field("id"));
    }
    let kept = if created {
        send(state, tenant, &account, &kept).await?
    } else if kept.state == RequestState::Sending {
        // Sent before, its answer lost: looked up before anything is sent again.
        check(state, tenant, &kept).await?
    } else {
        kept
    };
    Ok(status_of(&kept))
}

/// Where a request stands; the network is asked again when the last answer is a couple of
/// seconds old and not final.
pub async fn request_status(
    state: &AppState,
    tenant: TenantId,
    id: uuid::Uuid,
) -> ApiResult<RequestStatus> {
    let record = state
        .store
        .momo_request(tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("request to pay"))?;
    let now = state.clock.now().as_millis();
    let record = if momo::due_for_check(record.state, record.checked_at.as_millis(), now) {
        check(state, tenant, &record).await?
    } else {
        record
    };
    Ok(status_of(&record))
}

/// A network's callback for a request: looked up with the network before anything changes.
pub async fn callback(
    state: &AppState,
    tenant: TenantId,
    network: &str,
    id: uuid::Uuid,
) -> ApiResult<()> {
    let network = network_of(network)?;
    let Some(record) = state.store.momo_request(tenant, id).await? else {
        return Err(ApiError::not_found("request to pay"));
    };
    // Unsigned, so anyone with the address could send it: it never makes the service ask the
    // network more often than a waiting till does.
    let now = state.clock.now().as_millis();
    if record.network != network
        || !momo::due_for_check(record.state, record.checked_at.as_millis(), now)
    {
        return Ok(());
    }
    check(state, tenant, &record).await?;
    Ok(())
}

/// A paid request whose sale has not reached the service this long after it was paid: the
/// till stopped waiting (or never completed the sale), so the money is in the shop's wallet
/// with no sale. A till that sells offline after the payment syncs well within this.
pub const UNCLAIMED_AFTER_MILLIS: i64 = 30 * 60 * 1000;

/// Paid requests with no sale, for the owner to ring up or refund.
pub async fn unclaimed(state: &AppState, auth: &Authenticated) -> ApiResult<Vec<RequestStatus>> {
    auth.require(Permission::ReconcileMomo)?;
    let before = state.clock.now().as_millis() - UNCLAIMED_AFTER_MILLIS;
    let requests = state
        .store
        .unclaimed_momo_requests(auth.tenant, UnixMillis::from_millis(before))
        .await?;
    Ok(requests.iter().map(status_of).collect())
}

/// Follows up, every `period`, the requests of the organisations that have some open, so that
/// one a till stopped waiting for still ends paid or failed (MTN's callback comes once, if at
/// all).
pub async fn check_open_every(state: AppState, period: std::time::Duration) {
    // Requests left open when the service last stopped are followed up too.
    match state.store.list_tenants().await {
        Ok(tenants) => {
            for tenant in tenants {
                match state.store.open_momo_requests(tenant.id, 1).await {
                    Ok(open) if !open.is_empty() => state.momo.note_open(tenant.id),
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(tenant = %tenant.id, %error, "could not read open requests to pay");
                    }
                }
            }
        }
        Err(error) => tracing::warn!(%error, "could not list the organisations to follow up"),
    }
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        for tenant in state.momo.open_tenants() {
            if let Err(error) = check_open_requests(&state, tenant).await {
                tracing::warn!(%tenant, error = %error.message(), "could not follow up requests to pay");
            }
        }
    }
}

/// Asks the network about every request of the tenant still open, oldest check first.
pub async fn check_open_requests(state: &AppState, tenant: TenantId) -> ApiResult<usize> {
    let now = state.clock.now().as_millis();
    let looked = std::time::Instant::now();
    let open = state.store.open_momo_requests(tenant, 50).await?;
    if open.is_empty() {
        state.momo.all_final(tenant, looked);
    }
    let mut checked = 0;
    for record in open
        .iter()
        .filter(|record| momo::due_for_check(record.state, record.checked_at.as_millis(), now))
    {
        // One request that cannot be checked must not hold up the others behind it.
        match check(state, tenant, record).await {
            Ok(_) => checked += 1,
            Err(error) => {
                tracing::warn!(request = %record.id, error = %error.message(), "could not follow up a request to pay");
            }
        }
    }
    Ok(checked)
}

async fn account_for(
    state: &AppState,
    tenant: TenantId,
    network: Network,
) -> ApiResult<MomoAccount> {
    let unavailable = || {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "momo_not_configured",
            format!(
                "request to pay is not set up for {}: the owner enters the shop's account in \
                 the settings. Take the payment with the transaction id from the customer's SMS \
                 instead.",
                network.name()
            ),
        )
        .with_field("network")
    };
    if state.momo.network(network).is_none() {
        return Err(unavailable());
    }
    let account = state
        .store
        .momo_account(tenant, network)
        .await?
        .ok_or_else(unavailable)?;
    Ok(account)
}

fn callback_url(state: &AppState, tenant: TenantId, record: &MomoRequestRecord) -> String {
    format!(
        "{}/api/v1/momo/callbacks/{}/{}/{}",
        state.public_url,
        record.network.as_str(),
        tenant.as_uuid().simple(),
        record.id
    )
}

/// Sends the request under its reference, and stores what came of it.
async fn send(
    state: &AppState,
    tenant: TenantId,
    account: &MomoAccount,
    record: &MomoRequestRecord,
) -> ApiResult<MomoRequestRecord> {
    let Some(network) = state.momo.network(record.network) else {
        return Ok(record.clone());
    };
    let currency = nexus_domain::Currency::ALL
        .into_iter()
        .find(|currency| currency.code() == record.currency_code);
    // A currency the shop does not trade in (the sandbox's EUR) is written with two decimals.
    let amount = match currency {
        Some(currency) => currency.format_minor(record.amount_minor),
        None => nexus_domain::Currency::Ghs.format_minor(record.amount_minor),
    };
    let external_id = record.id.simple().to_string();
    let callback = callback_url(state, tenant, record);
    let request = PayRequest {
        reference: record.id,
        amount,
        currency: &record.currency_code,
        msisdn: &record.phone,
        external_id: &external_id,
        payer_message: "Payment at the shop",
        payee_note: "Nexus till",
        callback_url: Some(&callback),
    };
    let now = state.clock.now();
    let update = match network.request_to_pay(account, &request).await {
        Ok(()) => RequestUpdate {
            state: RequestState::Pending,
            reason: None,
            transaction_id: None,
            at: now,
        },
        Err(CollectError::Refused { code, detail, .. }) => {
            tracing::warn!(%code, %detail, request = %record.id, "the network refused a request to pay");
            RequestUpdate {
                state: RequestState::Failed,
                reason: Some(code),
                transaction_id: None,
                at: now,
            }
        }
        Err(error @ CollectError::Unanswered { .. }) => {
            // Not known whether it arrived: it stays sending, and is looked up before anything
            // is sent again.
            tracing::warn!(%error, request = %record.id, "a request to pay went unanswered");
            RequestUpdate {
                state: RequestState::Sending,
                reason: None,
                transaction_id: None,
                at: now,
            }
        }
    };
    stored(state, tenant, record, &update).await
}

/// Asks the network where the request stands, and stores it.
async fn check(
    state: &AppState,
    tenant: TenantId,
    record: &MomoRequestRecord,
) -> ApiResult<MomoRequestRecord> {
    let account = account_for(state, tenant, record.network).await?;
    let Some(network) = state.momo.network(record.network) else {
        return Ok(record.clone());
    };
    let now = state.clock.now();
    let update = match network.status(&account, record.id).await {
        // Never reached the network, and the till has long stopped waiting: sent now it would
        // prompt a phone for a sale that is over.
        Ok(NetworkAnswer::Unknown)
            if record.state == RequestState::Sending
                && now.as_millis() - record.created_at.as_millis()
                    > momo::REQUEST_EXPIRY_MILLIS =>
        {
            RequestUpdate {
                state: RequestState::Failed,
                reason: Some("GIVEN_UP".to_owned()),
                transaction_id: None,
                at: now,
            }
        }
        Ok(NetworkAnswer::Unknown) if record.state == RequestState::Sending => {
            return send(state, tenant, &account, record).await;
        }
        // Acknowledged once, yet unknown now: keep waiting rather than charge again.
        Ok(NetworkAnswer::Unknown | NetworkAnswer::Pending) => RequestUpdate {
            state: RequestState::Pending,
            reason: None,
            transaction_id: None,
            at: now,
        },
        Ok(NetworkAnswer::Paid { transaction_id }) => RequestUpdate {
            state: RequestState::Paid,
            reason: None,
            transaction_id: Some(transaction_id),
            at: now,
        },
        Ok(NetworkAnswer::Failed { reason }) => RequestUpdate {
            state: RequestState::Failed,
            reason: Some(reason),
            transaction_id: None,
            at: now,
        },
        Err(error) => {
            tracing::warn!(%error, request = %record.id, "could not ask the network about a request to pay");
            RequestUpdate {
                state: record.state,
                reason: None,
                transaction_id: None,
                at: now,
            }
        }
    };
    stored(state, tenant, record, &update).await
}

async fn stored(
    state: &AppState,
    tenant: TenantId,
    record: &MomoRequestRecord,
    update: &RequestUpdate,
) -> ApiResult<MomoRequestRecord> {
    let kept = state
        .store
        .update_momo_request(tenant, record.id, update)
        .await?
        .unwrap_or_else(|| record.clone());
    if kept.state != record.state {
        tracing::info!(request = %kept.id, state = kept.state.as_str(), "request to pay moved");
    }
    Ok(kept)
}
