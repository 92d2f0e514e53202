//! EQL single-event queries (`any where` / `<category> where`), lowered to the engine IR with
//! the semantics of Elasticsearch's EQL-to-query translation.
use crate::engine::Expr;

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
    let _ = query;
    todo!("eql helper")
}
