//! API tests: each test starts the real server on a random loopback port with its
//! own database and talks HTTP to it. With `SIFT_TEST_DB=postgres` the same suite
//! runs on PostgreSQL (`SIFT_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), each test in its own schema.

mod helpers;

mod accounts;
mod books;
mod crash;
mod contacts;
mod fields;
mod imports;
mod segments;
