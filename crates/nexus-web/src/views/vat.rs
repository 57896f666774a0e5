//! The monthly VAT return as the owner files it: supplies by tax class and each levy, per
//! branch and in total, with its CSV.

use askama::Template;

use crate::format::Money;
use crate::forms::{Choice, FieldErrors};
use crate::fragment;
use crate::paths;

/// One line of the return: a branch, or the total.
#[derive(Clone, Debug)]
pub struct VatRow {
    pub name: String,
    pub standard_rated: Money,
    pub zero_rated: Money,
    pub exempt: Money,
    pub total_net: Money,
    /// Each levy, in the order of `VatContent::levies`.
    pub levies: Vec<Money>,
    pub tax: Money,
    pub returns_net: Money,
    pub returns_tax: Money,
}

/// `GET /sales/vat?month=&branch=`.
#[derive(Template)]
#[template(path = "sales/vat.html")]
pub struct VatContent {
    /// YYYY-MM, as the month field takes it.
    pub month: String,
    /// "November 2026, all branches".
    pub summary: String,
    pub branches: Vec<Choice>,
    pub errors: FieldErrors,
    /// "VAT 15%", "NHIL 2.5%", …: the levy columns.
    pub levies: Vec<String>,
    pub rows: Vec<VatRow>,
    pub total: VatRow,
    pub export: String,
}

impl VatContent {
    pub fn action(&self) -> &'static str {
        paths::VAT
    }
}

fragment!(VatContent, |_page| "VAT return");
