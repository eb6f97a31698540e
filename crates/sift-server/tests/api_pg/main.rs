//! The API test suite of `tests/api`, run on PostgreSQL: every module is the same
//! file, only the backend differs. Each test gets its own schema in the database at
//! `SIFT_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`). Without a
//! reachable PostgreSQL the binary says the tests were skipped and why.

/// The database this test binary runs the suite on.
pub const BACKEND: &str = "postgres";

#[path = "../api/helpers.rs"]
mod helpers;

#[path = "../api/accounts.rs"]
mod accounts;
#[path = "../api/bad_input.rs"]
mod bad_input;
#[path = "../api/books.rs"]
mod books;
#[path = "../api/contacts.rs"]
mod contacts;
#[path = "../api/crash.rs"]
mod crash;
#[path = "../api/demo.rs"]
mod demo;
#[path = "../api/fields.rs"]
mod fields;
#[path = "../api/imports.rs"]
mod imports;
#[path = "../api/isolation.rs"]
mod isolation;
#[path = "../api/segments.rs"]
mod segments;

mod replicas;
