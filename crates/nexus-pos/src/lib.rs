//! The shop station: a local SQLite database holding the station's replica (settings,
//! catalogue, staff, its branch's stock movements) and its outbox, the till that sells from it,
//! the cashier screen, and the client that syncs it.
//!
//! Every local write and its op commit in one SQLite transaction (WAL, `synchronous=FULL`), so a
//! crash at any instant loses nothing the station said it recorded. Ops carry a per-station,
//! gap-free `seq`; the server's answer moves them to acknowledged or quarantined (rejected, shown
//! to the user, never blocking the ops behind).
//!
//! One module a concern: [`Station`] is declared in `station`, and each concern adds its own
//! `impl Station` block: `database` (layout and migrations), `enrolment`, `outbox`, `client`
//! (push and pull), `replica` (applying pulled changes), `stock`, `catalogue` and [`till`].

pub mod backup;
mod catalogue;
mod client;
mod database;
mod enrolment;
mod error;
mod hashing;
mod momo;
mod outbox;
pub mod printer;
pub mod receipt;
mod replica;
mod search;
mod settings;
mod station;
mod stock;
pub mod till;
pub mod web;
mod worker;

pub use backup::{BackupSettings, Restored, restore};
pub use client::{PendingChanges, SyncReport};
pub use error::{StationError, StationResult};
pub use outbox::{Quarantined, StationStatus};
pub use settings::{SettingsChange, StationSettings};
pub use station::Station;
pub use till::{
    Cart, CartLine, Committed, Customer, Parked, Shift, SignedIn, TenderInput, TillProduct,
};
pub use worker::{Connectivity, SyncWorker, WorkerSettings, WorkerState, backoff};
