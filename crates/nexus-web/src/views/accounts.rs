//! Customer accounts: one customer's statement with the payment form, and the list of who owes
//! what, oldest debt first.

use askama::Template;
use uuid::Uuid;

use crate::format::{Money, ShopTime};
use crate::forms::{Choice, FieldErrors};
use crate::fragment;
use crate::paths;

/// One line of a statement.
#[derive(Clone, Debug)]
pub struct StatementRow {
    pub at: ShopTime,
    /// "Sale on account", "Refund to account", "Payment (cash)", …
    pub what: String,
    pub receipt: Option<String>,
    pub amount: Money,
    pub balance: Money,
}

/// What the payment form keeps between tries; the amount in major units.
#[derive(Clone, Debug, Default)]
pub struct PaymentValues {
    /// Made when the form is shown: posting it twice records the payment once.
    pub id: String,
    pub amount: String,
    /// "cash" or "momo".
    pub kind: String,
    pub network: String,
    pub phone: String,
    pub reference: String,
}

impl PaymentValues {
    pub fn kinds(&self) -> Vec<Choice> {
        [("cash", "Cash"), ("momo", "Mobile money")]
            .into_iter()
            .map(|(value, label)| {
                Choice::new(value, label)
                    .selected_if(value == self.kind || (self.kind.is_empty() && value == "cash"))
            })
            .collect()
    }

    pub fn networks(&self) -> Vec<Choice> {
        [
            ("mtn", "MTN MoMo"),
            ("telecel", "Telecel Cash"),
            ("airteltigo", "AirtelTigo Money"),
        ]
        .into_iter()
        .map(|(value, label)| Choice::new(value, label).selected_if(value == self.network))
        .collect()
    }
}

/// `GET /customers/{id}/account`; the payment form posts to `/customers/{id}/payments`.
/// Fields: id, amount, kind, network, phone, reference.
#[derive(Template)]
#[template(path = "customers/account.html")]
pub struct AccountContent {
    pub csrf: String,
    pub id: Uuid,
    pub name: String,
    pub owed: Money,
    pub limit: Option<Money>,
    pub left: Money,
    /// Owed beyond the limit: tills that sold on credit offline can take an account there.
    pub over_limit: Option<Money>,
    /// Newest first.
    pub statement: Vec<StatementRow>,
    /// Those who may take a payment: the form.
    pub can_take_payment: bool,
    pub values: PaymentValues,
    pub errors: FieldErrors,
    pub currency_code: String,
}

impl AccountContent {
    pub fn action(&self) -> String {
        paths::customer_payments(&self.id)
    }
    pub fn back(&self) -> &'static str {
        paths::CUSTOMERS
    }
}

fragment!(AccountContent, |page| format!("{}'s account", page.name));

/// One customer who owes the shop.
#[derive(Clone, Debug)]
pub struct DebtorRow {
    pub id: Uuid,
    pub name: String,
    pub phone: String,
    pub owed: Money,
    pub limit: Option<Money>,
    pub over_limit: bool,
    pub oldest: ShopTime,
    pub whatsapp: Option<String>,
}

impl DebtorRow {
    pub fn account_url(&self) -> String {
        paths::customer_account(&self.id)
    }
}

/// `GET /customers/debtors`: who owes what, oldest debt first.
#[derive(Template)]
#[template(path = "customers/debtors.html")]
pub struct DebtorsContent {
    pub rows: Vec<DebtorRow>,
    pub total: Money,
    /// How many owe more than their limit.
    pub over_limit: usize,
}

fragment!(DebtorsContent, |_page| "Who owes what");
