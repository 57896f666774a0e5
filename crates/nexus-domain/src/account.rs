//! Customer accounts: what a customer owes the shop, kept as a ledger. Every sale on credit,
//! refund to the account and payment on account is an entry with its own id; the balance is
//! the sum of the entries, so the server and every till that holds the same entries agree on
//! it whatever order they arrived in, and an entry that arrives twice (a retried push, a
//! repeated payment) is the same entry and counts once.

use serde::{Deserialize, Serialize};

use crate::money::Currency;
use crate::tender::{Tender, TenderKind};
use crate::time::UnixMillis;

/// What an account entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EntryKind {
    /// Goods taken on credit: the customer owes more.
    Sale,
    /// Goods brought back from a sale on credit: the customer owes less.
    Refund,
    /// Money paid on the account.
    Payment,
}

impl EntryKind {
    pub const ALL: [EntryKind; 3] = [EntryKind::Sale, EntryKind::Refund, EntryKind::Payment];

    pub const fn as_str(self) -> &'static str {
        match self {
            EntryKind::Sale => "sale",
            EntryKind::Refund => "refund",
            EntryKind::Payment => "payment",
        }
    }

    pub fn parse(text: &str) -> Option<EntryKind> {
        EntryKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// One entry of an account. `amount_minor` is what it adds to what the customer owes: positive
/// for a sale on credit, negative for a refund to the account or a payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entry {
    /// The sale's, refund's or payment's own id.
    pub id: uuid::Uuid,
    pub kind: EntryKind,
    pub amount_minor: i64,
    pub occurred_at: UnixMillis,
}

/// What a sale or refund puts on the customer's account: the sum of its credit tenders (a
/// refund's tenders are negative, so a refund to the account takes off what it gives back).
pub fn credit_of(tenders: &[Tender]) -> i64 {
    tenders
        .iter()
        .filter(|tender| tender.kind == TenderKind::Credit)
        .map(|tender| tender.amount_minor)
        .sum()
}

/// What the customer owes: every entry counted once by its id.
pub fn balance(entries: &[Entry]) -> i64 {
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    entries
        .iter()
        .filter(|entry| seen.insert(entry.id))
        .map(|entry| entry.amount_minor)
        .sum()
}

/// The entries in the order a statement lists them: by when they happened, then by id, so that
/// every replica prints the same statement whatever order the entries reached it in.
pub fn in_statement_order(entries: &mut Vec<Entry>) {
    entries.sort_by_key(|entry| (entry.occurred_at, entry.id));
    entries.dedup_by_key(|entry| entry.id);
}

/// One line of a statement: the entry and what the customer owed after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementLine {
    #[serde(flatten)]
    pub entry: Entry,
    pub balance_minor: i64,
}

/// The statement of an account: every entry once, in statement order, with the running balance.
pub fn statement(mut entries: Vec<Entry>) -> Vec<StatementLine> {
    in_statement_order(&mut entries);
    let mut running = 0_i64;
    entries
        .into_iter()
        .map(|entry| {
            running += entry.amount_minor;
            StatementLine {
                entry,
                balance_minor: running,
            }
        })
        .collect()
}

/// When the oldest debt still unpaid was run up: payments and refunds pay off the oldest sales
/// first. `None` when nothing is owed.
pub fn oldest_unpaid(entries: &[Entry]) -> Option<UnixMillis> {
    let mut entries = entries.to_vec();
    in_statement_order(&mut entries);
    let paid: i64 = -entries
        .iter()
        .filter(|entry| entry.amount_minor < 0)
        .map(|entry| entry.amount_minor)
        .sum::<i64>();
    let mut left_to_cover = paid;
    for entry in entries.iter().filter(|entry| entry.amount_minor > 0) {
        if entry.amount_minor > left_to_cover {
            return Some(entry.occurred_at);
        }
        left_to_cover -= entry.amount_minor;
    }
    None
}

/// How much more a customer may take on credit: their limit less what they owe, never below
/// zero. A customer without a limit gets no credit.
pub fn credit_left(limit_minor: Option<i64>, balance_minor: i64) -> i64 {
    limit_minor.map_or(0, |limit| (limit - balance_minor).max(0))
}

/// Why a sale cannot go on a customer's account.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreditError {
    #[error("a sale on credit needs its customer: attach them first")]
    NoCustomer,
    #[error("{name} has no credit with the shop: the owner sets a credit limit in the dashboard")]
    NoLimit { name: String },
    #[error(
        "{name} may take {} more on credit (owes {} of a {} limit)",
        currency.format_minor(*left_minor),
        currency.format_minor(*owed_minor),
        currency.format_minor(*limit_minor)
    )]
    OverLimit {
        name: String,
        currency: Currency,
        left_minor: i64,
        owed_minor: i64,
        limit_minor: i64,
    },
}

/// Whether `amount_minor` more may go on the account of `name`, who owes `balance_minor` and
/// may owe up to `limit_minor`.
pub fn check_credit(
    name: &str,
    currency: Currency,
    limit_minor: Option<i64>,
    balance_minor: i64,
    amount_minor: i64,
) -> Result<(), CreditError> {
    let Some(limit) = limit_minor else {
        return Err(CreditError::NoLimit {
            name: name.to_owned(),
        });
    };
    if balance_minor + amount_minor > limit {
        return Err(CreditError::OverLimit {
            name: name.to_owned(),
            currency,
            left_minor: credit_left(limit_minor, balance_minor),
            owed_minor: balance_minor,
            limit_minor: limit,
        });
    }
    Ok(())
}

/// How a payment on account is made: cash or mobile money, checked as a sale's tender is (mobile
/// money with its network, the payer's number and the transaction id, unverified).
pub fn parse_payment(
    kind: &str,
    amount_minor: i64,
    network: Option<&str>,
    phone: Option<&str>,
    reference: Option<&str>,
) -> Result<Tender, crate::tender::TenderError> {
    match kind {
        "cash" | "momo" => Tender::parse(kind, amount_minor, network, phone, reference),
        other => Err(crate::tender::TenderError::UnknownKind(format!(
            "{other} (a payment on account is cash or momo)"
        ))),
    }
}

/// How the money of a refund or void goes back: onto the account when the sale was put on it,
/// wholly or in part (goods not paid for are not paid back in cash; a refund beyond what was on
/// credit leaves the customer in credit with the shop), otherwise as asked.
pub fn refund_tender(sold_on_credit: bool, asked: TenderKind) -> TenderKind {
    if sold_on_credit {
        TenderKind::Credit
    } else {
        asked
    }
}

/// The reminder a shop sends a customer who owes it, for a WhatsApp link.
pub fn reminder_text(shop: &str, name: &str, currency: Currency, owed_minor: i64) -> String {
    format!(
        "Hello {name}, this is {shop}. Your account with us stands at {currency} {}. \
         Thank you for paying when you next pass by.",
        currency.format_minor(owed_minor)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u128, kind: EntryKind, amount_minor: i64, at: i64) -> Entry {
        Entry {
            id: uuid::Uuid::from_u128(n),
            kind,
            amount_minor,
            occurred_at: UnixMillis::from_millis(at),
        }
    }

    #[test]
    fn the_balance_counts_each_entry_once_in_any_order() {
        let entries = vec![
            entry(1, EntryKind::Sale, 5_000, 10),
            entry(2, EntryKind::Payment, -2_000, 20),
            entry(3, EntryKind::Sale, 1_500, 15),
            entry(2, EntryKind::Payment, -2_000, 20),
        ];
        assert_eq!(balance(&entries), 4_500);
        let mut reversed = entries.clone();
        reversed.reverse();
        assert_eq!(statement(reversed), statement(entries.clone()));
        let lines = statement(entries);
        let running: Vec<i64> = lines.iter().map(|line| line.balance_minor).collect();
        assert_eq!(running, vec![5_000, 6_500, 4_500]);
    }

    #[test]
    fn payments_pay_off_the_oldest_debt_first() {
        let mut entries = vec![
            entry(1, EntryKind::Sale, 5_000, 10),
            entry(2, EntryKind::Sale, 3_000, 30),
        ];
        assert_eq!(oldest_unpaid(&entries), Some(UnixMillis::from_millis(10)));
        entries.push(entry(3, EntryKind::Payment, -5_000, 40));
        assert_eq!(oldest_unpaid(&entries), Some(UnixMillis::from_millis(30)));
        entries.push(entry(4, EntryKind::Refund, -3_000, 50));
        assert_eq!(oldest_unpaid(&entries), None);
    }

    #[test]
    fn the_limit_says_what_is_left() {
        assert_eq!(credit_left(Some(10_000), 2_500), 7_500);
        assert_eq!(credit_left(Some(10_000), 12_000), 0);
        assert_eq!(credit_left(None, 0), 0);
        assert!(check_credit("Ama", Currency::Ghs, Some(10_000), 2_500, 7_500).is_ok());
        let refused = check_credit("Ama", Currency::Ghs, Some(10_000), 2_500, 7_501)
            .expect_err("over the limit");
        assert_eq!(
            refused.to_string(),
            "Ama may take 75.00 more on credit (owes 25.00 of a 100.00 limit)"
        );
        assert!(matches!(
            check_credit("Kofi", Currency::Ghs, None, 0, 1),
            Err(CreditError::NoLimit { .. })
        ));
    }

    #[test]
    fn a_payment_is_cash_or_mobile_money() {
        assert!(parse_payment("cash", 500, None, None, None).is_ok());
        let momo =
            parse_payment("momo", 500, Some("mtn"), Some("0241234567"), Some("T9")).expect("momo");
        assert!(!momo.verified);
        assert!(parse_payment("card", 500, None, None, Some("R")).is_err());
        assert!(parse_payment("credit", 500, None, None, None).is_err());
    }

    #[test]
    fn credit_tenders_are_what_goes_on_the_account() {
        let tenders = [
            Tender::parse("cash", 1_000, None, None, None).expect("cash"),
            Tender::parse("credit", 4_000, None, None, None).expect("credit"),
        ];
        assert_eq!(credit_of(&tenders), 4_000);
    }
}
