//! API tests: each test starts the real server on a random loopback port with its
//! own database (an SQLite file in a temp dir) and talks HTTP to it. The `api_pg`
//! test binary runs these same modules on PostgreSQL (`SIFT_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), each test in its own schema.

/// The database this test binary runs the suite on.
pub const BACKEND: &str = "sqlite";

mod helpers;

mod accounts;
mod bad_input;
mod books;
mod contacts;
mod crash;
mod demo;
mod fields;
mod imports;
mod isolation;
mod segments;
