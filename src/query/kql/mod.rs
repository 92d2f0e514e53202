//! KQL (Kibana Query Language): lexer, parser with spans, lowering to the engine IR.
//!
//! One module per stage: [`lexer`] (tokens are slices of the query) → [`parser`] (syntax tree)
//! → [`lower`] (engine [`Expr`]). Semantics are those of Elastic's reference KQL implementation
//! (detection-rules `lib/kql`), see `docs/elastic-semantics.md` §2.
//! Errors are [`QueryError`]s of [`Language::Kuery`](super::Language::Kuery).
use crate::engine::Expr;

mod lexer;
mod lower;
mod parser;

use super::QueryError;

/// Parses a KQL query and lowers it to the engine IR.
///
/// ```
/// use trailwatch::engine::{matches, JsonDocument};
/// let expr = trailwatch::query::kql::parse("event.action:(Create* or DeleteDBCluster) and not event.outcome:failure").unwrap();
/// let doc = serde_json::json!({"event": {"action": "CreateDBCluster", "outcome": "success"}});
/// assert!(matches(&expr, &JsonDocument(&doc)));
/// ```
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    let tokens = lexer::tokenize(query)?;
    let tree = parser::parse(query, &tokens)?;
    Ok(lower::lower(&tree))
}
