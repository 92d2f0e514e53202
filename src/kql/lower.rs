//! Syntax tree → engine IR: unescaping, typing of unquoted literals, wildcards, CIDR blocks.
use super::parser::{has_wildcard, Atom, Query, Values};
use crate::engine::number::{parse_py_float, parse_py_int};
use crate::engine::{Cidr, Expr, Literal, Matcher, Wildcard, WildcardToken};
use std::net::IpAddr;

pub(crate) fn lower(query: &Query<'_>) -> Expr {
    match query {
        Query::Or(items) => Expr::Or(items.iter().map(lower).collect()),
        Query::And(items) => Expr::And(items.iter().map(lower).collect()),
        Query::Not(inner) => Expr::Not(Box::new(lower(inner))),
        Query::Match { field, values } => lower_values(&Target::Field(unescape(field)), values),
        Query::Range { field, op, value } => Expr::Field {
            path: unescape(field),
            matcher: Matcher::Range {
                op: *op,
                bound: literal(value),
            },
        },
        Query::Nested { field, query } => Expr::Nested {
            path: unescape(field),
            inner: Box::new(lower(query)),
        },
        Query::FreeText(atom) => lower_atom(&Target::AnyField, atom),
    }
}

/// What a value is tested against: one field, or every leaf (free text).
enum Target {
    Field(String),
    AnyField,
}

impl Target {
    fn test(&self, matcher: Matcher) -> Expr {
        match self {
            Target::Field(path) => Expr::Field {
                path: path.clone(),
                matcher,
            },
            Target::AnyField => Expr::AnyField(matcher),
        }
    }
}

/// `f:(a or b)` is `f:a or f:b`, `f:(a and b)` is `f:a and f:b`, `f:(not a)` is `not f:a`: each
/// value is tested over all the field's values on its own (reference evaluator `_walk_and_values`).
fn lower_values(target: &Target, values: &Values<'_>) -> Expr {
    match values {
        Values::Or(items) => Expr::Or(items.iter().map(|v| lower_values(target, v)).collect()),
        Values::And(items) => Expr::And(items.iter().map(|v| lower_values(target, v)).collect()),
        Values::Not(inner) => Expr::Not(Box::new(lower_values(target, inner))),
        Values::One(atom) => lower_atom(target, atom),
    }
}

fn lower_atom(target: &Target, atom: &Atom<'_>) -> Expr {
    if !atom.quoted && has_wildcard(atom.text) {
        let tokens = wildcard_tokens(atom.text);
        if tokens.iter().all(|t| *t == WildcardToken::Any) {
            return target.test(Matcher::Exists);
        }
        return target.test(Matcher::Wildcard(Wildcard {
            tokens,
            case_insensitive: false,
        }));
    }
    let lit = literal(atom);
    if let Literal::Str(s) = &lit {
        if let Some(cidr) = parse_cidr(s) {
            // The reference compares an IP value with the block and any other value with the
            // literal text (`FilterGenerator.equals`).
            return Expr::Or(vec![
                target.test(Matcher::Cidr(cidr)),
                target.test(Matcher::Equals(lit)),
            ]);
        }
    }
    target.test(Matcher::Equals(lit))
}

/// The typed literal of an atom: quoted strings are strings; unquoted `true`, `false`, `null` and
/// numbers (Python `int()` then `float()` of the text as written) are typed
/// (`convert_unquoted_literal`).
fn literal(atom: &Atom<'_>) -> Literal {
    if atom.quoted {
        return Literal::Str(unescape(atom));
    }
    match atom.text {
        "true" => return Literal::Bool(true),
        "false" => return Literal::Bool(false),
        "null" => return Literal::Null,
        _ => {}
    }
    if let Some(i) = parse_py_int(atom.text) {
        // An integer beyond i64 keeps its text: as a string literal it still compares with
        // numbers through `int()` and with strings by that same text.
        return i64::try_from(i).map_or_else(|_| Literal::Str(atom.text.to_string()), Literal::Int);
    }
    if let Some(f) = parse_py_float(atom.text) {
        return Literal::Float(f);
    }
    Literal::Str(unescape(atom))
}

/// The text of an atom with its escapes resolved.
fn unescape(atom: &Atom<'_>) -> String {
    let mut out = String::with_capacity(atom.text.len());
    let mut chars = atom.text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // `\not` is `\n` + "ot", as in Kibana's grammar (escaped whitespace is tried first).
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            // Quoted strings only know `\" \\ \t \n \r`; any other backslash stays as written.
            Some(other) if atom.quoted && other != '"' && other != '\\' => {
                out.push('\\');
                out.push(other);
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Splits an unquoted wildcard into text and `*`; `\*` is a literal star and `?` is literal
/// (Kibana escapes `?` before building the wildcard query).
fn wildcard_tokens(raw: &str) -> Vec<WildcardToken> {
    let mut tokens = Vec::new();
    let mut piece = String::new();
    let mut rest = raw;
    while let Some(star) = find_unescaped_star(rest) {
        piece.push_str(&unescape(&Atom {
            quoted: false,
            text: &rest[..star],
            span: 0..0,
        }));
        if !piece.is_empty() {
            tokens.push(WildcardToken::Text(std::mem::take(&mut piece)));
        }
        if tokens.last() != Some(&WildcardToken::Any) {
            tokens.push(WildcardToken::Any);
        }
        rest = &rest[star + 1..];
    }
    piece.push_str(&unescape(&Atom {
        quoted: false,
        text: rest,
        span: 0..0,
    }));
    if !piece.is_empty() {
        tokens.push(WildcardToken::Text(piece));
    }
    tokens
}

fn find_unescaped_star(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '*') => return Some(i),
            _ => {}
        }
    }
    None
}

/// A CIDR block as Python's `ipaddress.ip_network(text, strict=False)` reads it (what
/// `eql.utils.is_cidr_pattern` accepts): an address, `/`, a decimal prefix length.
fn parse_cidr(text: &str) -> Option<Cidr> {
    let (addr, prefix) = text.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > 3 {
        return None;
    }
    let prefix_len: u8 = prefix.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix_len <= max).then_some(Cidr { addr, prefix_len })
}
