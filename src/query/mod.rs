//! The two query languages of Elastic's rules, each lowered to the engine IR: [`kql`] (Kibana
//! Query Language, `language = "kuery"`) and [`eql`] (single-event EQL). Both report a query
//! they cannot compile with one error type, [`QueryError`] (language, message, byte span,
//! optional help), rendered with carets under the span by [`QueryError::render`]. [`indexed`]
//! reads a user's JSON document as Elasticsearch indexes it (dotted keys are object paths).
//!
//! ```
//! use trailwatch::query::{eql, kql};
//! let query = "any where event.action = \"StopLogging\"";
//! let err = eql::parse(query).unwrap_err();
//! assert_eq!(
//!     err.render(query),
//!     "`=` is not a comparison, use `==`\n\
//!      1 | any where event.action = \"StopLogging\"\n  |                        ^\n\
//!      help: `==` compares exactly; `:` compares case-insensitively"
//! );
//! assert!(kql::parse("event.action:StopLogging").is_ok());
//! ```
use crate::engine::Expr;

pub mod eql;
mod error;
pub mod indexed;
pub mod kql;
#[cfg(test)]
mod tests;

pub use error::{ErrorKind, Language, QueryError};

/// Compiles `query` in `language`; an EQL `<category> where` tests `event_category_field`
/// (see [`eql::parse_with_category_field`]).
pub fn parse(
    language: Language,
    query: &str,
    event_category_field: &str,
) -> Result<Expr, QueryError> {
    match language {
        Language::Kuery => kql::parse(query),
        Language::Eql => eql::parse_with_category_field(query, event_category_field),
    }
}
