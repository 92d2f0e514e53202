//! The syntax tree of a single-event EQL query, every node with its byte span.
use super::lexer::Span;

/// `<category> where <condition>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `None` for `any`.
    pub category: Option<(String, Span)>,
    pub condition: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Not(Box<Node>),
    /// Two or more operands (a chain of `and` is kept flat).
    And(Vec<Node>),
    Or(Vec<Node>),
    /// `left <op> right` with `==`, `!=`, `<`, `<=`, `>`, `>=`.
    Compare {
        op: CompareOp,
        left: Box<Node>,
        right: Box<Node>,
    },
    /// `value [not] in (...)` / `value [not] in~ (...)`.
    In {
        value: Box<Node>,
        list: Vec<Node>,
        negated: bool,
        case_insensitive: bool,
    },
    /// `value : c`, `value like c`, `value regex~ (c1, c2)`, ...
    Pattern {
        op: PatternOp,
        value: Box<Node>,
        patterns: Vec<Node>,
    },
    Call {
        name: String,
        case_insensitive: bool,
        args: Vec<Node>,
    },
    Field(String),
    /// `?field`: an optional field (Elasticsearch's OptionalUnresolvedAttribute).
    OptionalField(String),
    /// `a[0]`: an array index in a field path.
    IndexedField(String),
    /// Arithmetic (`+ - * / %`, unary minus); parsed so the error can name it.
    Arithmetic(&'static str),
    Literal(Literal),
}

/// Constants are the engine's literals: lowering hands them over unchanged.
pub use crate::engine::Literal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// The operator with its operands swapped (`1 < f` is `f > 1`).
    pub fn flipped(self) -> Self {
        match self {
            Self::Lt => Self::Gt,
            Self::Le => Self::Ge,
            Self::Gt => Self::Lt,
            Self::Ge => Self::Le,
            same => same,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternOp {
    /// `:`: case-insensitive equality, wildcard when the value has `*` or `?`.
    Seq,
    Like {
        case_insensitive: bool,
    },
    Regex {
        case_insensitive: bool,
    },
}
