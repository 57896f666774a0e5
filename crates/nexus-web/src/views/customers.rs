//! Customers: the list with its search and the add form, and a customer's own form (name,
//! phone, price list, credit limit).

use askama::Template;
use uuid::Uuid;

use crate::format::Money;
use crate::forms::{Choice, FieldErrors};
use crate::fragment;
use crate::paths;

#[derive(Clone, Debug)]
pub struct CustomerRow {
    pub id: Uuid,
    pub name: String,
    pub phone: String,
    pub wholesale: bool,
    /// `None`: no credit.
    pub credit_limit: Option<Money>,
    /// What they owe on account.
    pub owed: Money,
}

impl CustomerRow {
    pub fn edit_url(&self) -> String {
        paths::customer(&self.id)
    }
    pub fn account_url(&self) -> String {
        paths::customer_account(&self.id)
    }
}

/// What the customer forms keep between tries; the limit in major units.
#[derive(Clone, Debug, Default)]
pub struct CustomerValues {
    pub name: String,
    pub phone: String,
    /// "retail" or "wholesale".
    pub price_list: String,
    pub credit_limit: String,
}

impl CustomerValues {
    pub fn price_lists(&self) -> Vec<Choice> {
        [
            ("retail", "Retail prices"),
            ("wholesale", "Wholesale prices"),
        ]
        .into_iter()
        .map(|(value, label)| {
            Choice::new(value, label).selected_if(
                value == self.price_list || (self.price_list.is_empty() && value == "retail"),
            )
        })
        .collect()
    }
}

/// `GET /customers?q=`; posts to `/customers`. Fields: name, phone, price_list, credit_limit.
#[derive(Template)]
#[template(path = "customers/list.html")]
pub struct CustomersContent {
    pub csrf: String,
    pub query: String,
    pub rows: Vec<CustomerRow>,
    /// Owners and managers: the add form and the edit links.
    pub can_manage: bool,
    pub values: CustomerValues,
    pub errors: FieldErrors,
    /// "GHS", beside the credit limit.
    pub currency_code: String,
}

impl CustomersContent {
    pub fn action(&self) -> &'static str {
        paths::CUSTOMERS
    }
    pub fn debtors(&self) -> &'static str {
        paths::DEBTORS
    }
}

fragment!(CustomersContent, |_page| "Customers");

/// `GET /customers/{id}`; posts to `/customers/{id}`. Fields as the add form's.
#[derive(Template)]
#[template(path = "customers/edit.html")]
pub struct CustomerFormContent {
    pub csrf: String,
    pub id: Uuid,
    pub values: CustomerValues,
    pub errors: FieldErrors,
    pub currency_code: String,
}

impl CustomerFormContent {
    pub fn action(&self) -> String {
        paths::customer(&self.id)
    }
    pub fn back(&self) -> &'static str {
        paths::CUSTOMERS
    }
}

fragment!(CustomerFormContent, |page| format!(
    "Edit {}",
    page.values.name
));
