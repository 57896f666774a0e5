//! Mobile money's reconciliation rules: how a network's merchant statement is read (which
//! columns hold what, how its times and amounts are written) and how each mobile-money tender a
//! till took offline is judged against the payments it lists. No I/O: the service parses the
//! CSV and stores what these functions decide.

mod statement;

pub use statement::{Columns, Mapping, StatementError, StatementRow, TimeFormat};

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

/// The mobile-money networks of Ghana.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Mtn,
    Telecel,
    AirtelTigo,
}

impl Network {
    pub const ALL: [Network; 3] = [Network::Mtn, Network::Telecel, Network::AirtelTigo];

    /// As a tender names it (`crate::tender::MOMO_NETWORKS`).
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

    /// For people.
    pub fn name(self) -> &'static str {
        match self {
            Network::Mtn => "MTN MoMo",
            Network::Telecel => "Telecel Cash",
            Network::AirtelTigo => "AirtelTigo Money",
        }
    }
}

/// How far a statement's time may be from the sale's and still be the same payment: a till's
/// clock drifts, and a customer may pay a while before or after the sale is rung up.
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
        MatchState::ALL
            .into_iter()
            .find(|state| state.as_str() == text.trim())
    }
}

/// The verdict on one claim, with the statement's payment of that id where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict<'r, K> {
    pub key: K,
    pub state: MatchState,
    pub row: Option<&'r StatementRow>,
}

/// How transaction ids compare: as typed from an SMS, with stray spaces and any case.
pub fn same_reference(text: &str) -> String {
    text.trim().to_lowercase()
}

/// The verdict on each claim the statement can judge, in the order of `claims`.
///
/// Two claims naming one transaction id are both `ClaimedTwice`: one payment cannot pay two
/// sales, and which is real is for a manager to decide. A claim whose id the statement lists is
/// `Matched` when the amount is the same and the times are within `window_millis`,
/// `AmountDiffers` when only the amount differs, and `NotFound` when the time is elsewhere (the
/// id belongs to another payment). A claim whose id is not listed is `NotFound` only when its
/// time falls within what the statement covers, widened by the window; otherwise it is left
/// out, for a later statement to judge.
pub fn reconcile<'r, K: Clone>(
    claims: &[Claim<K>],
    rows: &'r [StatementRow],
    window_millis: i64,
) -> Vec<Verdict<'r, K>> {
    let mut claimed: HashMap<String, usize> = HashMap::new();
    for claim in claims {
        *claimed.entry(same_reference(&claim.reference)).or_default() += 1;
    }
    let mut listed: HashMap<String, &StatementRow> = HashMap::new();
    for row in rows {
        listed
            .entry(same_reference(&row.transaction_id))
            .or_insert(row);
    }
    let first = rows.iter().map(|row| row.at.as_millis()).min();
    let last = rows.iter().map(|row| row.at.as_millis()).max();
    let covered = |at: UnixMillis| match (first, last) {
        (Some(first), Some(last)) => {
            let at = at.as_millis();
            at >= first.saturating_sub(window_millis) && at <= last.saturating_add(window_millis)
        }
        _ => false,
    };
    let mut verdicts = Vec::new();
    for claim in claims {
        let reference = same_reference(&claim.reference);
        let row = listed.get(&reference).copied();
        let state = if claimed.get(&reference).copied().unwrap_or(0) > 1 {
            Some(MatchState::ClaimedTwice)
        } else {
            match row {
                Some(row) if (row.at.as_millis() - claim.at.as_millis()).abs() > window_millis => {
                    Some(MatchState::NotFound)
                }
                Some(row) if row.amount_minor == claim.amount_minor => Some(MatchState::Matched),
                Some(_) => Some(MatchState::AmountDiffers),
                None if covered(claim.at) => Some(MatchState::NotFound),
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
