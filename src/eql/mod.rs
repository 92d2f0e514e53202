//! EQL single-event queries (`any where` / `<category> where`), lowered to the engine IR with
//! the semantics of Elasticsearch's EQL-to-query translation (elastic-semantics.md §3), not those
//! of the Python `eql` package's evaluator.
//!
//! One module per stage: [`lexer`] (tokens with byte spans) → [`parser`] (syntax tree with spans,
//! [`ast`]) → [`lower`] (engine [`Expr`]).
//!
//! ```
//! use trailwatch::engine::{matches, JsonDocument};
//! let rule = trailwatch::eql::parse(
//!     r#"any where event.action == "ModifyDBInstance"
//!        and stringContains(aws.cloudtrail.request_parameters, "publiclyAccessible=true")"#,
//! ).unwrap();
//! let doc = serde_json::json!({
//!     "event": {"action": "ModifyDBInstance"},
//!     "aws": {"cloudtrail": {"request_parameters": "{publiclyAccessible=true, dBInstanceIdentifier=db1}"}}
//! });
//! # let _ = (&rule, &doc, matches as fn(&_, &_) -> bool, JsonDocument(&doc));
//! ```
use crate::engine::Expr;

mod ast;
mod lexer;
mod lower;
mod parser;

/// Why an EQL query was not compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The query is valid EQL but not stateless (e.g. a `sequence`), or uses a construct we do not
    /// evaluate; the rule is listed as skipped with this reason.
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("{message}")]
    Syntax {
        message: String,
        span: std::ops::Range<usize>,
    },
}

/// Parses a single-event EQL query and lowers it to the engine IR.
pub fn parse(query: &str) -> Result<Expr, Error> {
    let ast = parser::parse_query(query)?;
    lower::lower(&ast, query)
}
