//! sift-core: the pure domain of sift. No I/O, no async.
//!
//! Layout
//! - [`model`]: contacts, data fields, address books, segments and the v2 enums
//!   (statuses, opt-in types ...) with their exact wire spelling.
//! - [`record`]: [`record::ContactRecord`], what a segment rule can read of one contact,
//!   and [`record::FieldValue`], a typed data-field value.
//! - [`rules`]: the rule language (AST, parsing, validation, limits) and the plain
//!   row-by-row reference evaluator that tests use as an oracle for the engine.
//! - [`error`]: stable v2 error codes and the error type every layer speaks.
//! - [`time`]: parsing of the date formats v2 clients send.

pub mod error;
pub mod model;
pub mod record;
pub mod rules;
pub mod time;
pub mod wire;

pub use error::{ErrorCode, SiftError};
