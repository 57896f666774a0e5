//! Integration tests: the real server on 127.0.0.1:0, driven over HTTP, on SQLite always and on
//! PostgreSQL when NEXUS_TEST_DATABASE_URL is set.

mod auth;
mod catalogue;
mod connections;
mod contract;
mod customers;
mod errors;
mod hardening;
mod items;
mod ledger;
mod mail;
mod migrations;
mod purchasing;
mod reports;
mod sales;
mod staff_and_branches;
mod stations;
mod sync;
mod tenancy;
mod vat;
