//! KQL (Kibana Query Language): lexer, parser with spans, lowering to the engine IR.
use crate::engine::Expr;

/// A KQL syntax error, pointing at the offending span of the query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    /// Byte range in the query text.
    pub span: std::ops::Range<usize>,
}

/// Parses a KQL query and lowers it to the engine IR.
pub fn parse(query: &str) -> Result<Expr, ParseError> {
    let _ = query;
    todo!("kql helper")
}
