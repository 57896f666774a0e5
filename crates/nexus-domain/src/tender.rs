//! How a customer pays: the kinds of tender, what each must carry, and whether the tenders of a
//! sale cover its total. The till checks a payment with these as it is taken; the service checks
//! the same sale with them again when it arrives.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::limits::MAX_SALE_TOTAL_MINOR;
use crate::money::Currency;
use crate::values::optional_printable;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TenderKind {
    Cash,
    Momo,
    Card,
    /// On the account of the sale's customer (see [`crate::account`]).
    Credit,
}

impl TenderKind {
    pub const ALL: [TenderKind; 4] = [
        TenderKind::Cash,
        TenderKind::Momo,
        TenderKind::Card,
        TenderKind::Credit,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TenderKind::Cash => "cash",
            TenderKind::Momo => "momo",
            TenderKind::Card => "card",
            TenderKind::Credit => "credit",
        }
    }
}

impl FromStr for TenderKind {
    type Err = TenderError;

    fn from_str(text: &str) -> Result<Self, TenderError> {
        TenderKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| TenderError::UnknownKind(text.to_owned()))
    }
}

/// The mobile money networks of Ghana a payment may name.
pub const MOMO_NETWORKS: [&str; 3] = ["mtn", "telecel", "airteltigo"];
/// The longest transaction id or terminal reference kept.
pub const MAX_REFERENCE_CHARS: usize = 64;

/// A payment as recorded: checked, and with what its kind needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tender {
    pub kind: TenderKind,
    pub amount_minor: i64,
    /// Mobile money network (mtn, telecel, airteltigo).
    pub network: Option<String>,
    pub phone: Option<String>,
    /// Mobile money transaction id or card terminal reference.
    pub reference: Option<String>,
    /// Mobile money taken offline is unverified until checked with the provider.
    pub verified: bool,
}

/// Why a payment, or the payments of a sale, cannot be taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TenderError {
    #[error("every tender amount must be from 1 to {MAX_SALE_TOTAL_MINOR}")]
    Amount,
    #[error("unknown tender kind {0:?}: expected cash, momo, card or credit")]
    UnknownKind(String),
    #[error("mobile money needs a network: mtn, telecel or airteltigo")]
    Network,
    #[error("mobile money needs the payer's phone number (9 to 15 digits)")]
    Phone,
    #[error("mobile money needs the transaction id from the SMS")]
    NoTransactionId,
    #[error("a card payment needs the terminal's reference")]
    NoCardReference,
    #[error("reference must be at most {MAX_REFERENCE_CHARS} printable characters")]
    Reference,
    #[error("mobile money, card and credit tenders exceed the total; only cash gives change")]
    NonCashOverTotal,
    #[error(
        "the tenders ({}) do not cover the total ({})",
        currency.format_minor(*tendered_minor),
        currency.format_minor(*total_minor)
    )]
    NotCovered {
        currency: Currency,
        tendered_minor: i64,
        total_minor: i64,
    },
}

impl TenderError {
    /// The input field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            TenderError::Reference => "reference",
            _ => "tenders",
        }
    }
}

impl Tender {
    /// Checks a payment as entered or sent: the amount from 1 to [`MAX_SALE_TOTAL_MINOR`]; mobile
    /// money with a known network, the payer's number and the SMS's transaction id (recorded
    /// unverified: nothing has asked the network yet); a card with the terminal's reference.
    /// Cash keeps no network, phone or reference, whatever came with it.
    pub fn parse(
        kind: &str,
        amount_minor: i64,
        network: Option<&str>,
        phone: Option<&str>,
        reference: Option<&str>,
    ) -> Result<Tender, TenderError> {
        if amount_minor <= 0 || amount_minor > MAX_SALE_TOTAL_MINOR {
            return Err(TenderError::Amount);
        }
        let reference = optional_printable(reference, "reference", MAX_REFERENCE_CHARS)
            .map_err(|_| TenderError::Reference)?;
        let cash = Tender {
            kind: TenderKind::Cash,
            amount_minor,
            network: None,
            phone: None,
            reference: None,
            verified: true,
        };
        match kind.parse::<TenderKind>()? {
            TenderKind::Cash => Ok(cash),
            TenderKind::Momo => {
                let network = network.map(|network| network.trim().to_lowercase());
                let network = network
                    .filter(|network| MOMO_NETWORKS.contains(&network.as_str()))
                    .ok_or(TenderError::Network)?;
                let phone = phone.map(str::trim).unwrap_or("");
                let digits = phone.strip_prefix('+').unwrap_or(phone);
                if !(9..=15).contains(&digits.len())
                    || !digits.bytes().all(|byte| byte.is_ascii_digit())
                {
                    return Err(TenderError::Phone);
                }
                Ok(Tender {
                    kind: TenderKind::Momo,
                    network: Some(network),
                    phone: Some(phone.to_owned()),
                    reference: Some(reference.ok_or(TenderError::NoTransactionId)?),
                    verified: false,
                    ..cash
                })
            }
            TenderKind::Card => Ok(Tender {
                kind: TenderKind::Card,
                reference: Some(reference.ok_or(TenderError::NoCardReference)?),
                ..cash
            }),
            TenderKind::Credit => Ok(Tender {
                kind: TenderKind::Credit,
                ..cash
            }),
        }
    }
}

/// What the tenders of a sale come to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coverage {
    pub tendered_minor: i64,
    /// Given back in cash: what was tendered beyond the total.
    pub change_minor: i64,
}

/// Whether `tenders` pay `total_minor`: together at least the total, and only cash beyond it
/// (change comes out of the drawer, never back onto a card or a wallet).
pub fn check_coverage(
    currency: Currency,
    tenders: &[Tender],
    total_minor: i64,
) -> Result<Coverage, TenderError> {
    let tendered_minor: i64 = tenders.iter().map(|tender| tender.amount_minor).sum();
    let not_cash: i64 = tenders
        .iter()
        .filter(|tender| tender.kind != TenderKind::Cash)
        .map(|tender| tender.amount_minor)
        .sum();
    if not_cash > total_minor {
        return Err(TenderError::NonCashOverTotal);
    }
    if tendered_minor < total_minor {
        return Err(TenderError::NotCovered {
            currency,
            tendered_minor,
            total_minor,
        });
    }
    Ok(Coverage {
        tendered_minor,
        change_minor: tendered_minor - total_minor,
    })
}

/// A tender above this many times what is still due is more likely a slip of the keys (an
/// amount typed onto one already there, a missing decimal point) than a payment.
pub const MISTYPED_TENDER_MULTIPLE: i64 = 10;

/// Whether `amount_minor` offered against `due_minor` still due should be confirmed by the
/// cashier before it is taken.
pub fn tender_looks_mistyped(amount_minor: i64, due_minor: i64) -> bool {
    due_minor > 0 && amount_minor > due_minor.saturating_mul(MISTYPED_TENDER_MULTIPLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cash(amount_minor: i64) -> Tender {
        Tender::parse("cash", amount_minor, None, None, None).expect("cash")
    }

    #[test]
    fn each_kind_carries_what_it_needs() {
        let momo = Tender::parse(
            "momo",
            500,
            Some(" MTN"),
            Some(" 0241234567 "),
            Some(" T1 "),
        )
        .expect("momo");
        assert_eq!(
            (momo.network.as_deref(), momo.phone.as_deref()),
            (Some("mtn"), Some("0241234567"))
        );
        assert_eq!(
            (momo.reference.as_deref(), momo.verified),
            (Some("T1"), false)
        );
        let card = Tender::parse("card", 500, None, None, Some("AUTH 42")).expect("card");
        assert_eq!(card.reference.as_deref(), Some("AUTH 42"));
        let cash = Tender::parse("cash", 500, Some("mtn"), None, Some("x")).expect("cash");
        assert_eq!(
            (cash.network, cash.reference, cash.verified),
            (None, None, true)
        );
    }

    #[test]
    fn refusals_say_what_is_missing() {
        let refused = |kind, amount, network, phone, reference| {
            Tender::parse(kind, amount, network, phone, reference).expect_err("refused")
        };
        assert_eq!(refused("cash", 0, None, None, None), TenderError::Amount);
        assert_eq!(
            refused("cash", MAX_SALE_TOTAL_MINOR + 1, None, None, None),
            TenderError::Amount
        );
        assert_eq!(
            refused("bitcoin", 5, None, None, None),
            TenderError::UnknownKind("bitcoin".into())
        );
        let phone = Some("0241234567");
        assert_eq!(
            refused("momo", 5, Some("vodafone"), phone, Some("T")),
            TenderError::Network
        );
        assert_eq!(
            refused("momo", 5, Some("mtn"), Some("12"), Some("T")),
            TenderError::Phone
        );
        assert_eq!(
            refused("momo", 5, Some("mtn"), phone, Some(" ")),
            TenderError::NoTransactionId
        );
        assert_eq!(
            refused("card", 5, None, None, None),
            TenderError::NoCardReference
        );
        let long = "x".repeat(MAX_REFERENCE_CHARS + 1);
        let too_long = refused("card", 5, None, None, Some(long.as_str()));
        assert_eq!(
            (too_long.field(), TenderError::Amount.field()),
            ("reference", "tenders")
        );
    }

    #[test]
    fn only_cash_gives_change() {
        let card = Tender::parse("card", 1300, None, None, Some("R")).expect("card");
        assert_eq!(
            check_coverage(Currency::Ghs, &[card], 1200),
            Err(TenderError::NonCashOverTotal)
        );
        let paid = check_coverage(Currency::Ghs, &[cash(1000), cash(500)], 1200).expect("paid");
        assert_eq!((paid.tendered_minor, paid.change_minor), (1500, 300));
        let short = check_coverage(Currency::Ghs, &[cash(1199)], 1200).expect_err("short");
        assert_eq!(
            short.to_string(),
            "the tenders (11.99) do not cover the total (12.00)"
        );
    }

    #[test]
    fn a_tender_ten_times_what_is_due_is_asked_about() {
        assert!(
            !tender_looks_mistyped(65_000, 6_500),
            "exactly ten times is accepted"
        );
        assert!(tender_looks_mistyped(506_500, 6_500), "50 typed onto 65.00");
        assert!(
            !tender_looks_mistyped(10_000, 6_500),
            "a 100 note for 65.00"
        );
        assert!(
            !tender_looks_mistyped(500, 0),
            "nothing due: nothing to compare"
        );
    }
}
