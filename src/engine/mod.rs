//! The predicate IR shared by KQL and EQL, the [`Document`] lookup trait the evaluator reads
//! events through, and the evaluator itself.
//!
//! Both query languages lower to [`Expr`]; matching, indexing (required literals, provider/action
//! dispatch) and explaining are written once, here.

pub mod dispatch;
mod document;
mod eql_ext;
mod eval;
mod index;
mod literals;
mod matcher;
pub(crate) mod number;
mod wildcard;

pub use dispatch::{Dispatch, Raw};
pub use document::{Document, JsonDocument, Value};
pub use eql_ext::{Regexp, RegexpError};
pub use eval::matches;
pub use index::{required_equalities, requires_value};
pub use literals::required_texts;
pub use matcher::IGNORE_ABOVE;

/// A compiled predicate over a [`Document`].
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Always true (e.g. the EQL condition `true`, or an empty conjunction).
    True,
    /// Always false.
    False,
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// Elasticsearch `must_not`: a document missing the field satisfies `Not(field matches x)`.
    Not(Box<Expr>),
    /// True when ANY value at the dotted `path` (lists flattened) satisfies `matcher`.
    Field {
        path: String,
        matcher: Matcher,
    },
    /// KQL free text (a value without a field): true when any leaf value of the document matches.
    AnyField(Matcher),
    /// KQL nested query `path:{ inner }`: true when one object at `path` satisfies `inner`
    /// (field paths in `inner` are relative to that object).
    Nested {
        path: String,
        inner: Box<Expr>,
    },
    /// EQL `stringContains(path, needle_path)` with a field as the substring: true when some value
    /// of `path` contains some value of `needle_path` as plain text (Elasticsearch runs this as a
    /// script, not a wildcard query; see `eql_ext::field_contains_field`).
    FieldContainsField {
        path: String,
        needle_path: String,
        case_insensitive: bool,
    },
}

/// How one value is tested.
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    /// The field exists with a non-null value (KQL `f:*`, EQL `f != null`).
    Exists,
    /// Typed equality with a literal (KQL typing rules: a number literal also matches a numeric
    /// string, a string literal matches a number by its string form, `true` matches boolean true).
    Equals(Literal),
    /// Case-insensitive string equality (EQL `:`, `in~`); the needle is stored lowercased.
    EqualsIgnoreCase(String),
    /// Anchored wildcard match; `*` matches any run (newlines too), `?` one character when
    /// `question_is_wildcard` (EQL) and literally otherwise (KQL).
    Wildcard(Wildcard),
    /// Numeric or lexicographic range.
    Range { op: RangeOp, bound: Literal },
    /// An IP string inside a CIDR block.
    Cidr(Cidr),
    /// Anchored Lucene regular expression (EQL `regex`, `regex~`); see `eql_ext`.
    Regex(Regexp),
}

/// A literal value from a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// A wildcard pattern split into literal pieces and wildcards.
#[derive(Debug, Clone, PartialEq)]
pub struct Wildcard {
    pub tokens: Vec<WildcardToken>,
    pub case_insensitive: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WildcardToken {
    /// Literal text (lowercased when the pattern is case-insensitive).
    Text(String),
    /// `*`: any run of characters, including none and including newlines.
    Any,
    /// `?`: exactly one character.
    One,
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: std::net::IpAddr,
    pub prefix_len: u8,
}
