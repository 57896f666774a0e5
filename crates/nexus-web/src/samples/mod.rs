//! Every page rendered with realistic data from a Ghanaian shop ("Ama Provisions", GHS, two
//! branches in Accra), for an owner and for a manager. The tests check these pages, and the
//! lead runs axe-core over them in a real browser.
//!
//! One product is named `<script>alert(1)</script>` on purpose: it must show as text.

use askama::Template;
use nexus_domain::{Currency, Quantity, Role};
use uuid::Uuid;

use crate::format::{Money, Qty, ShopLocale};
use crate::layout::{Flash, Layout, Section, SignedInUser};
use crate::{Fragment, Page};

mod billing;
mod data;
mod momo;
mod pages;
mod people;
mod reports;
mod stock;

/// The hostile product name every list and receipt in the samples contains.
pub const HOSTILE_NAME: &str = "<script>alert(1)</script>";
/// The CSRF token of the samples' session.
pub const SAMPLE_CSRF: &str = "sample-csrf-token-5f2c9a";

/// 2026-12-01T14:05Z, a Tuesday afternoon in Accra.
const NOW: i64 = 1_796_133_900_000;

/// The context the sample pages are built in.
pub(crate) struct Sample {
    pub role: Role,
    pub locale: ShopLocale,
}

impl Sample {
    fn new(role: Role) -> Self {
        Self {
            role,
            locale: ShopLocale::new(Currency::Ghs, "Africa/Accra", NOW),
        }
    }

    pub fn csrf(&self) -> String {
        SAMPLE_CSRF.to_owned()
    }

    pub fn is_owner(&self) -> bool {
        self.role == Role::Owner
    }

    pub fn ghs(&self, minor: i64) -> Money {
        self.locale.money(minor)
    }

    pub fn qty(&self, milli: i64) -> Qty {
        Qty(Quantity::from_milli(milli))
    }

    /// `minutes` before now.
    pub fn ago_minutes(&self, minutes: i64) -> i64 {
        NOW - minutes * 60_000
    }

    pub fn id(&self, n: u128) -> Uuid {
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
    }

    pub fn layout(&self, section: Section) -> Layout {
        let user = match self.role {
            Role::Owner => SignedInUser {
                name: "Ama Owusu".to_owned(),
                role: Role::Owner,
            },
            Role::Manager => SignedInUser {
                name: "Kofi Boateng".to_owned(),
                role: Role::Manager,
            },
            Role::Cashier => SignedInUser {
                name: "Efua Mensah".to_owned(),
                role: Role::Cashier,
            },
        };
        let mut layout = Layout::signed_in("Ama Provisions", user, section, self.csrf());
        layout.setup_steps_left = if self.is_owner() { 2 } else { 0 };
        layout
    }
}

/// Collects rendered pages under a prefix ("owner/", "public/").
pub(crate) struct Out {
    prefix: String,
    pages: Vec<(String, String)>,
}

impl Out {
    pub fn page<C: Fragment>(&mut self, name: &str, layout: Layout, content: C) {
        let name = format!("{}{name}", self.prefix);
        let html = Page::new(layout, content)
            .render()
            .unwrap_or_else(|error| panic!("{name} does not render: {error}"));
        self.pages.push((name, html));
    }

    pub fn fragment<T: Template>(&mut self, name: &str, fragment: T) {
        let name = format!("{}{name}", self.prefix);
        let html = fragment
            .render()
            .unwrap_or_else(|error| panic!("{name} does not render: {error}"));
        self.pages.push((name, html));
    }
}

/// Every page, full HTML, named "public/sign-in", "owner/overview", "manager/receipt"…
pub fn render_samples() -> Vec<(String, String)> {
    let mut out = Out {
        prefix: "public/".to_owned(),
        pages: Vec::new(),
    };
    pages::public_pages(&Sample::new(Role::Owner), &mut out);
    for role in [Role::Owner, Role::Manager] {
        out.prefix = format!("{role}/");
        pages::signed_in_pages(&Sample::new(role), &mut out);
    }
    out.pages
}

/// The fragments that are fetched alone (live regions, the import status, a chart, a page's
/// content as htmx asks for it), named like the pages. Live fragments have no `<h1>`.
pub fn render_fragment_samples() -> Vec<(String, String)> {
    let mut out = Out {
        prefix: "fragment/".to_owned(),
        pages: Vec::new(),
    };
    pages::fragments(&Sample::new(Role::Owner), &mut out);
    out.pages
}

/// A flash message for the samples that show one.
pub(crate) fn saved() -> Flash {
    Flash::success("Saved.")
}
