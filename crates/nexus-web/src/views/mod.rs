//! The view models, one module per page family. Each `…Content` is a [`crate::Fragment`];
//! the handler wraps it in a [`crate::Page`] (or calls [`crate::respond`]).

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod billing;
pub mod categories;
pub mod common;
pub mod customers;
pub mod errors;
pub mod inventory;
pub mod items;
pub mod momo;
pub mod orders;
pub mod overview;
pub mod products;
pub mod receipts;
pub mod sales;
pub mod setup;
pub mod staff;
pub mod vat;
