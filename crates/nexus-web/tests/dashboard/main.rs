//! The dashboard over real HTTP: the real server on 127.0.0.1:0 with the dashboard mounted, a
//! cookie-keeping client that fills in forms as a browser would, on SQLite always and on
//! PostgreSQL when NEXUS_TEST_DATABASE_URL is set.

mod accounts;
mod billing;
mod catalogue;
mod client;
mod first_run;
mod forms;
mod live;
mod momo;
mod operations;
mod roles;
mod sessions;
mod shop;

/// Every page path of the role matrix, for tests that visit them all.
pub fn roles_matrix_paths() -> Vec<String> {
    roles::MATRIX
        .iter()
        .map(|(path, _)| (*path).to_owned())
        .collect()
}
