//! EQL single-event queries (`any where` / `<category> where`), lowered to the engine IR with
//! the semantics of Elasticsearch's EQL-to-query translation (elastic-semantics.md §3), not those
//! of the Python `eql` package's evaluator.
//!
//! One module per stage: `lexer` (tokens with byte spans) → `parser` (syntax tree with spans,
//! `ast`) → `lower` (engine [`Expr`]). Errors are [`QueryError`]s of
//! [`Language::Eql`](super::Language::Eql): syntax errors, and valid queries that are not
//! single-event ([`ErrorKind::Unsupported`](super::ErrorKind::Unsupported)).
//!
//! ```
//! use trailwatch::engine::{matches, JsonDocument};
//! let rule = trailwatch::query::eql::parse(
//!     r#"any where event.action == "ModifyDBSnapshotAttribute"
//!        and stringContains(aws.cloudtrail.request_parameters, "valuesToAdd=[*]")"#,
//! )?;
//! let doc = serde_json::json!({
//!     "event": {"action": "ModifyDBSnapshotAttribute"},
//!     "aws": {"cloudtrail": {"request_parameters": "{attributeName=restore, valuesToAdd=[193672423079]}"}}
//! });
//! // Elasticsearch does not escape the substring: `*` inside it is a wildcard.
//! assert!(matches(&rule, &JsonDocument(&doc)));
//! # Ok::<(), trailwatch::query::QueryError>(())
//! ```
use crate::engine::Expr;

use super::QueryError;

mod ast;
mod lexer;
mod lower;
mod parser;
#[cfg(test)]
mod tests;

/// The field `<category> where` tests by default: the `event_category_field` of Elasticsearch's
/// EQL search API.
pub const DEFAULT_EVENT_CATEGORY_FIELD: &str = "event.category";

/// Parses a single-event EQL query and lowers it to the engine IR; `<category> where` tests
/// [`DEFAULT_EVENT_CATEGORY_FIELD`].
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    parse_with_category_field(query, DEFAULT_EVENT_CATEGORY_FIELD)
}

/// Like [`parse`], with `<category> where` testing `event_category_field`. Pass a rule's
/// `event_category_override` here: the detection engine sends it as the EQL search's
/// `event_category_field`, and Elastic's AWS `info where` rules set it to `event.type` (the
/// CloudTrail pipeline sets `event.type: ["info"]` but no `event.category` for most events).
pub fn parse_with_category_field(
    query: &str,
    event_category_field: &str,
) -> Result<Expr, QueryError> {
    let ast = parser::parse_query(query)?;
    lower::lower(&ast, query, event_category_field)
}
