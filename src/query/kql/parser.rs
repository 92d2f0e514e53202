//! KQL tokens → syntax tree (still slices of the source, so later errors keep their spans).
//!
//! Grammar (detection-rules `kql.g`, Kibana's `kuery.peg`), lowest precedence first:
//! ```text
//! query      = or EOF
//! or         = and ("or" and)*
//! and        = not ("and" not)*
//! not        = "not" not | "(" or ")" | expression
//! expression = field ":" "{" or "}" | field ":" values | field RANGE atom | value
//! values     = "(" or_values ")" | "not" values | value
//! or_values  = and_values ("or" and_values)*      (and so on down to "not" and values)
//! value      = QUOTED | WORD (WORD)*               (several words only with a `*` wildcard)
//! ```
use super::lexer::{Kind, Token};
use super::QueryError;
use crate::engine::RangeOp;
use std::ops::Range;

/// A literal as written: quoted (text without the quotes) or unquoted (escapes still in).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Atom<'a> {
    pub quoted: bool,
    pub text: &'a str,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Query<'a> {
    Or(Vec<Query<'a>>),
    And(Vec<Query<'a>>),
    Not(Box<Query<'a>>),
    /// `field:values`
    Match {
        field: Atom<'a>,
        values: Values<'a>,
    },
    /// `field < value` and the like.
    Range {
        field: Atom<'a>,
        op: RangeOp,
        value: Atom<'a>,
    },
    /// `field:{ query }`
    Nested {
        field: Atom<'a>,
        query: Box<Query<'a>>,
    },
    /// A value without a field.
    FreeText(Atom<'a>),
}

/// The right-hand side of `field:`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values<'a> {
    Or(Vec<Values<'a>>),
    And(Vec<Values<'a>>),
    Not(Box<Values<'a>>),
    One(Atom<'a>),
}

pub(crate) fn parse<'a>(src: &'a str, tokens: &[Token<'a>]) -> Result<Query<'a>, QueryError> {
    if tokens.is_empty() {
        return Err(QueryError::kql("empty query", 0..src.len()));
    }
    let mut parser = Parser {
        src,
        tokens,
        pos: 0,
    };
    let query = parser.or()?;
    match parser.peek() {
        None => Ok(query),
        Some(t) if t.kind == Kind::RParen => Err(QueryError::kql("unmatched `)`", t.span.clone())),
        Some(t) if t.kind == Kind::RBrace => Err(QueryError::kql("unmatched `}`", t.span.clone())),
        Some(t) => Err(parser.expected_operator(t)),
    }
}

struct Parser<'a, 't> {
    src: &'a str,
    tokens: &'t [Token<'a>],
    pos: usize,
}

const KEYWORDS: [&str; 3] = ["or", "and", "not"];

fn is_keyword(t: &Token<'_>, kw: &str) -> bool {
    t.kind == Kind::Word && t.text == kw
}

fn is_any_keyword(t: &Token<'_>) -> bool {
    t.kind == Kind::Word && KEYWORDS.iter().any(|kw| t.text.eq_ignore_ascii_case(kw))
}

fn describe(t: &Token<'_>) -> String {
    match t.kind {
        Kind::Word if KEYWORDS.contains(&t.text) => format!("keyword `{}`", t.text),
        _ => format!("`{}`", t.text),
    }
}

impl<'a> Parser<'a, '_> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token<'a>> {
        self.tokens.get(self.pos + ahead)
    }

    fn eof(&self) -> Range<usize> {
        self.src.len()..self.src.len()
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        let hit = self.peek().is_some_and(|t| is_keyword(t, kw));
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// An error for a token where `or`, `and` or the end was expected.
    fn expected_operator(&self, t: &Token<'_>) -> QueryError {
        if is_any_keyword(t) {
            return QueryError::kql(
                format!(
                    "keywords are lowercase: use `{}`",
                    t.text.to_ascii_lowercase()
                ),
                t.span.clone(),
            );
        }
        QueryError::kql(
            format!(
                "expected `or`, `and` or the end of the query, found {}",
                describe(t)
            ),
            t.span.clone(),
        )
    }

    fn unexpected(&self, what: &str) -> QueryError {
        match self.peek() {
            Some(t) => QueryError::kql(
                format!("expected {what}, found {}", describe(t)),
                t.span.clone(),
            ),
            None => QueryError::kql(
                format!("expected {what}, found the end of the query"),
                self.eof(),
            ),
        }
    }

    /// Consumes the closing bracket of `open`, or fails pointing at both.
    fn close(&mut self, kind: Kind, open: &Token<'_>) -> Result<(), QueryError> {
        match self.peek() {
            Some(t) if t.kind == kind => {
                self.pos += 1;
                Ok(())
            }
            _ => {
                let closer = if kind == Kind::RParen { "`)`" } else { "`}`" };
                let what = format!("{closer} to close `{}` (or `or`/`and`)", open.text);
                Err(self.unexpected(&what).opened_at(open.span.clone()))
            }
        }
    }

    fn or(&mut self) -> Result<Query<'a>, QueryError> {
        let mut items = vec![self.and()?];
        while self.eat_keyword("or") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Query::Or(items)
        })
    }

    fn and(&mut self) -> Result<Query<'a>, QueryError> {
        let mut items = vec![self.not()?];
        while self.eat_keyword("and") {
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Query::And(items)
        })
    }

    fn not(&mut self) -> Result<Query<'a>, QueryError> {
        if self.eat_keyword("not") {
            return Ok(Query::Not(Box::new(self.not()?)));
        }
        match self.peek() {
            Some(open) if open.kind == Kind::LParen => {
                let open = open.clone();
                self.pos += 1;
                let inner = self.or()?;
                self.close(Kind::RParen, &open)?;
                Ok(inner)
            }
            _ => self.expression(),
        }
    }

    fn expression(&mut self) -> Result<Query<'a>, QueryError> {
        let Some(first) = self.peek() else {
            return Err(self.unexpected("a field or a value"));
        };
        if !matches!(first.kind, Kind::Word | Kind::Quoted) || KEYWORDS.contains(&first.text) {
            return Err(self.unexpected("a field or a value"));
        }
        match self.peek_at(1).map(|t| t.kind) {
            Some(Kind::Colon) => {
                let field = self.atom()?;
                self.pos += 1;
                match self.peek() {
                    Some(open) if open.kind == Kind::LBrace => {
                        let open = open.clone();
                        self.pos += 1;
                        let query = self.or()?;
                        self.close(Kind::RBrace, &open)?;
                        Ok(Query::Nested {
                            field,
                            query: Box::new(query),
                        })
                    }
                    _ => Ok(Query::Match {
                        field,
                        values: self.values()?,
                    }),
                }
            }
            Some(Kind::Range(op)) => {
                let field = self.atom()?;
                self.pos += 1;
                let value = self.atom()?;
                Ok(Query::Range { field, op, value })
            }
            _ => Ok(Query::FreeText(self.value()?)),
        }
    }

    /// One quoted string or one word (fields and range bounds).
    fn atom(&mut self) -> Result<Atom<'a>, QueryError> {
        match self.peek() {
            Some(t) if t.kind == Kind::Quoted => {
                let atom = Atom {
                    quoted: true,
                    text: &t.text[1..t.text.len() - 1],
                    span: t.span.clone(),
                };
                self.pos += 1;
                Ok(atom)
            }
            Some(t) if t.kind == Kind::Word && !KEYWORDS.contains(&t.text) => {
                let atom = Atom {
                    quoted: false,
                    text: t.text,
                    span: t.span.clone(),
                };
                self.pos += 1;
                Ok(atom)
            }
            _ => Err(self.unexpected("a value")),
        }
    }

    /// A value: an atom, or several words separated by whitespace when they form a wildcard
    /// (`*S3 Browser*`; detection-rules `kql.g` `WILDCARD_LITERAL`).
    fn value(&mut self) -> Result<Atom<'a>, QueryError> {
        let mut atom = self.atom()?;
        if atom.quoted {
            return Ok(atom);
        }
        while let Some(t) = self.peek() {
            let starts_field = self
                .peek_at(1)
                .is_some_and(|n| matches!(n.kind, Kind::Colon | Kind::Range(_)));
            if t.kind != Kind::Word || is_any_keyword(t) || starts_field {
                break;
            }
            atom.span.end = t.span.end;
            self.pos += 1;
        }
        atom.text = &self.src[atom.span.clone()];
        if atom.text.contains(char::is_whitespace) && !has_wildcard(atom.text) {
            return Err(QueryError::kql(
                "an unquoted value cannot contain spaces unless it is a wildcard: quote it",
                atom.span,
            ));
        }
        Ok(atom)
    }

    fn values(&mut self) -> Result<Values<'a>, QueryError> {
        match self.peek() {
            Some(open) if open.kind == Kind::LParen => {
                let open = open.clone();
                self.pos += 1;
                let inner = self.or_values()?;
                self.close(Kind::RParen, &open)?;
                Ok(inner)
            }
            Some(t) if is_keyword(t, "not") => {
                self.pos += 1;
                Ok(Values::Not(Box::new(self.values()?)))
            }
            _ => Ok(Values::One(self.value()?)),
        }
    }

    fn or_values(&mut self) -> Result<Values<'a>, QueryError> {
        let mut items = vec![self.and_values()?];
        while self.eat_keyword("or") {
            items.push(self.and_values()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Values::Or(items)
        })
    }

    fn and_values(&mut self) -> Result<Values<'a>, QueryError> {
        let mut items = vec![self.values()?];
        while self.eat_keyword("and") {
            items.push(self.values()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Values::And(items)
        })
    }
}

/// Whether an unquoted text has an unescaped `*`.
pub(crate) fn has_wildcard(text: &str) -> bool {
    let mut escaped = false;
    for c in text.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '*') => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]
    use crate::query::kql::parse;
    use std::ops::Range;

    /// `(query, span of the error, span of the unclosed opener, words the message must hold)`.
    type Case = (
        &'static str,
        Range<usize>,
        Option<Range<usize>>,
        &'static str,
    );

    #[test]
    fn errors_point_at_the_offending_text() {
        let cases: &[Case] = &[
            ("", 0..0, None, "empty query"),
            ("   ", 0..3, None, "empty query"),
            ("f:(a or b", 9..9, Some(2..3), "expected `)` to close `(`"),
            (
                "(f:a or g:b",
                11..11,
                Some(0..1),
                "expected `)` to close `(`",
            ),
            ("f:(a or b and g:c", 15..16, Some(2..3), "found `:`"),
            ("u:{a:b", 6..6, Some(2..3), "expected `}` to close `{`"),
            ("f:a)", 3..4, None, "unmatched `)`"),
            ("f:a}", 3..4, None, "unmatched `}`"),
            ("f:", 2..2, None, "expected a value, found the end"),
            ("f:()", 3..4, None, "expected a value, found `)`"),
            ("f:a or", 6..6, None, "expected a field or a value"),
            ("f:a and and g:b", 8..11, None, "found keyword `and`"),
            ("f:a OR g:b", 4..6, None, "keywords are lowercase: use `or`"),
            ("f:a g:b", 4..5, None, "expected `or`, `and` or the end"),
            ("f:S3 Browser", 2..12, None, "cannot contain spaces"),
            ("f:\"abc", 2..6, Some(2..3), "unterminated quoted string"),
            (r"f:a\qb", 3..5, None, "invalid escape"),
            ("f >= ", 5..5, None, "expected a value"),
            ("f:or", 2..4, None, "found keyword `or`"),
            (":x", 0..1, None, "expected a field or a value"),
            ("f:a:b", 3..4, None, "found `:`"),
        ];
        for (query, span, opened_at, words) in cases {
            let err = match parse(query) {
                Ok(expr) => panic!("{query:?} parsed as {expr:?}"),
                Err(err) => err,
            };
            assert_eq!(&err.span, span, "span for {query:?}: {}", err.message);
            assert_eq!(&err.opened_at, opened_at, "opened_at for {query:?}");
            assert!(
                err.message.contains(words),
                "message for {query:?}: {}",
                err.message
            );
        }
    }

    /// Arbitrary input never panics the parser, and every error span lies inside the query (on
    /// character boundaries) so rendering it is safe.
    #[test]
    fn arbitrary_input_gives_a_tree_or_a_well_formed_error() {
        let alphabet: Vec<char> = "ab.:*?()\\{}<>=\" \t\nornotand5é/-".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let doc =
            serde_json::json!({"a": ["é/5", 5, 5.5, true, null, {"b": "ab*"}], "b": {"a": "x\ny"}});
        for _ in 0..20_000 {
            let len = (next() % 16) as usize;
            let query: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let parsed = parse(&query);
            if let Ok(expr) = &parsed {
                // Evaluation of whatever parsed must not panic either.
                let _ = crate::engine::matches(expr, &crate::engine::JsonDocument(&doc));
            }
            if let Err(err) = parsed {
                for span in std::iter::once(&err.span).chain(err.opened_at.as_ref()) {
                    assert!(
                        span.start <= span.end && span.end <= query.len(),
                        "{query:?}: {span:?}"
                    );
                    assert!(query.is_char_boundary(span.start) && query.is_char_boundary(span.end));
                }
                assert!(err.render(&query).starts_with(&err.message));
            }
        }
    }
}
