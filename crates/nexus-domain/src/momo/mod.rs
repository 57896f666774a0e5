//! Mobile money's rules: requests to pay while online ([`RequestState`]), and reconciliation: how a network's merchant statement is read (which
//! columns hold what, how its times and amounts are written) and how each mobile-money tender a
//! till took offline, unverified, is judged against the payments the statement lists. No I/O:
//! the service parses the CSV and stores what these functions decide.

mod request;
mod statement;

pub use request::{
    NetworkAnswer, RECHECK_MILLIS, REQUEST_EXPIRY_MILLIS, RequestState, due_for_check,
    failure_message, msisdn,
};
pub use statement::{Columns, Mapping, StatementError, StatementRow, TimeFormat};

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

/// The mobile-money networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Mtn,
    Telecel,
    AirtelTigo,
}

impl Network {
    pub const ALL: [Network; 3] = [Network::Mtn, Network::Telecel, Network::AirtelTigo];

    /// As a tender names it ([`crate::tender::MOMO_NETWORKS`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Mtn => "mtn",
            Network::Telecel => "telecel",
            Network::AirtelTigo => "airteltigo",
        }
    }

    pub fn parse(text: &str) -> Option<Network> {
        let text = text.trim();
        Network::ALL
            .into_iter()
            .find(|network| network.as_str().eq_ignore_ascii_case(text))
    }

    /// The name the shop owner knows it by.
    pub fn name(self) -> &'static str {
        match self {
            Network::Mtn => "MTN MoMo",
            Network::Telecel => "Telecel Cash",
            Network::AirtelTigo => "AirtelTigo Money",
        }
    }
}

/// How far a statement's time may be from the sale's and still be the same payment: a till's
/// clock drifts and the customer may pay minutes before or after.
pub const MATCH_WINDOW_MILLIS: i64 = 6 * 60 * 60 * 1000;

/// One tender that says it was paid by mobile money.
#[derive(Clone, Debug)]
pub struct Claim<K> {
    pub key: K,
    /// The transaction id the cashier typed from the SMS.
    pub reference: String,
    pub amount_minor: i64,
    pub at: UnixMillis,
}

/// What a statement says of one claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchState {
    Matched,
    AmountDiffers,
    NotFound,
    ClaimedTwice,
}

impl MatchState {
    pub const ALL: [MatchState; 4] = [
        MatchState::Matched,
        MatchState::AmountDiffers,
        MatchState::NotFound,
        MatchState::ClaimedTwice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MatchState::Matched => "matched",
            MatchState::AmountDiffers => "amount_differs",
            MatchState::NotFound => "not_found",
            MatchState::ClaimedTwice => "claimed_twice",
        }
    }

    pub fn parse(text: &str) -> Option<MatchState> {
        let text = text.trim();
        MatchState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            MatchState::Matched => "Matched",
            MatchState::AmountDiffers => "Amount differs",
            MatchState::NotFound => "Not in the statement",
            MatchState::ClaimedTwice => "Claimed twice",
        }
    }
}

/// The verdict on one claim, with the statement's payment of that id where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict<'r, K> {
    pub key: K,
    pub state: MatchState,
    pub row: Option<&'r StatementRow>,
}

/// Transaction ids as typed from an SMS, with stray spaces and in any case.
fn reference_key(text: &str) -> String {
    text.trim().to_lowercase()
}

/// The verdict on each claim the statement can judge, in the order of `claims`; a claim it
/// cannot judge is left out.
///
/// Two or more claims naming one transaction id are all `ClaimedTwice`: one payment cannot pay
/// two sales, and which is real is for a manager to decide. A claim whose id the statement
/// lists is `Matched` when the amounts are equal and the times at most `window_millis` apart,
/// `AmountDiffers` when only the amounts differ, and `NotFound` when the times are further
/// apart (the id is another payment's). A claim whose id is not listed is `NotFound` when its
/// time lies within the statement's span widened by the window on each side, and is otherwise
/// left out: the statement does not cover that time, and a later one will.
pub fn reconcile<'r, K: Clone>(
    claims: &[Claim<K>],
    rows: &'r [StatementRow],
    window_millis: i64,
) -> Vec<Verdict<'r, K>> {
    let window = window_millis.max(0).unsigned_abs();
    let mut claimed: HashMap<String, usize> = HashMap::new();
    for claim in claims {
        *claimed.entry(reference_key(&claim.reference)).or_default() += 1;
    }
    let mut listed: HashMap<String, Vec<&'r StatementRow>> = HashMap::new();
    for row in rows {
        listed
            .entry(reference_key(&row.transaction_id))
            .or_default()
            .push(row);
    }
    let earliest = rows.iter().map(|row| row.at.as_millis()).min();
    let latest = rows.iter().map(|row| row.at.as_millis()).max();
    let covered = |at: i64| match (earliest, latest) {
        (Some(earliest), Some(latest)) => {
            earliest.saturating_sub(window_millis) <= at
                && at <= latest.saturating_add(window_millis)
        }
        _ => false,
    };
    let mut verdicts = Vec::new();
    for claim in claims {
        let reference = reference_key(&claim.reference);
        let at = claim.at.as_millis();
        // A statement listing one id twice (an export overlapping another) still names one
        // payment; the nearest in time is the one this claim can be.
        let row = listed.get(&reference).and_then(|rows| {
            rows.iter()
                .copied()
                .min_by_key(|row| row.at.as_millis().abs_diff(at))
        });
        let state = if claimed.get(&reference).is_some_and(|count| *count > 1) {
            Some(MatchState::ClaimedTwice)
        } else {
            match row {
                Some(row) if row.at.as_millis().abs_diff(at) > window => Some(MatchState::NotFound),
                Some(row) if row.amount_minor == claim.amount_minor => Some(MatchState::Matched),
                Some(_) => Some(MatchState::AmountDiffers),
                None if covered(at) => Some(MatchState::NotFound),
                None => None,
            }
        };
        if let Some(state) = state {
            verdicts.push(Verdict {
                key: claim.key.clone(),
                state,
                row,
            });
        }
    }
    verdicts
}

#[cfg(test)]
mod tests;
