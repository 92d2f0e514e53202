//! KQL (Kibana Query Language): lexer, parser with spans, lowering to the engine IR.
//!
//! One module per stage: [`lexer`] (tokens are slices of the query) → [`parser`] (syntax tree)
//! → [`lower`] (engine [`Expr`]). Semantics are those of Elastic's reference KQL implementation
//! (detection-rules `lib/kql`), see `docs/elastic-semantics.md` §2.
use crate::engine::Expr;

mod error;
mod lexer;
mod lower;
mod parser;

pub use error::ParseError;

/// Parses a KQL query and lowers it to the engine IR.
///
/// ```
/// use trailwatch::engine::{matches, JsonDocument};
/// let expr = trailwatch::kql::parse("event.action:(Create* or DeleteDBCluster) and not event.outcome:failure").unwrap();
/// let doc = serde_json::json!({"event": {"action": "CreateDBCluster", "outcome": "success"}});
/// assert!(matches(&expr, &JsonDocument(&doc)));
/// ```
pub fn parse(query: &str) -> Result<Expr, ParseError> {
    let tokens = lexer::tokenize(query)?;
    let tree = parser::parse(query, &tokens)?;
    Ok(lower::lower(&tree))
}
