//! The stock ledger's vocabulary: what moved goods in or out of a branch.

use serde::{Deserialize, Serialize};

use crate::Quantity;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MovementKind {
    Receipt,
    Adjustment,
    Count,
    Sale,
    Refund,
    TransferIn,
    TransferOut,
}

impl MovementKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            MovementKind::Receipt => "receipt",
            MovementKind::Adjustment => "adjustment",
            MovementKind::Count => "count",
            MovementKind::Sale => "sale",
            MovementKind::Refund => "refund",
            MovementKind::TransferIn => "transfer_in",
            MovementKind::TransferOut => "transfer_out",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            MovementKind::Receipt,
            MovementKind::Adjustment,
            MovementKind::Count,
            MovementKind::Sale,
            MovementKind::Refund,
            MovementKind::TransferIn,
            MovementKind::TransferOut,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }

    /// On-hand after a movement of `quantity` of this kind, walking the ledger in order: a
    /// count says what is there (so what moved before it no longer matters), anything else
    /// adds its signed quantity.
    pub fn balance_after(self, balance: Quantity, quantity: Quantity) -> Quantity {
        match self {
            MovementKind::Count => quantity,
            _ => balance.checked_add(quantity).unwrap_or(balance),
        }
    }
}
