//! The evaluator: one function over the IR.
use super::{Document, Expr};

/// Whether `doc` satisfies `expr`.
pub fn matches(expr: &Expr, doc: &dyn Document) -> bool {
    let _ = (expr, doc);
    todo!("engine helper implements this")
}
