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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use crate::engine::{Expr, Literal, Matcher, RangeOp, WildcardToken};

    /// A compact S-expression of the IR, so expectations fit on one line.
    fn show(e: &Expr) -> String {
        let list = |op: &str, items: &[Expr]| {
            let inner: Vec<String> = items.iter().map(show).collect();
            format!("({op} {})", inner.join(" "))
        };
        match e {
            Expr::True => "true".into(),
            Expr::False => "false".into(),
            Expr::And(items) => list("and", items),
            Expr::Or(items) => list("or", items),
            Expr::Not(inner) => format!("(not {})", show(inner)),
            Expr::Field { path, matcher } => format!("{path}{}", matcher_str(matcher)),
            Expr::AnyField(matcher) => format!("*{}", matcher_str(matcher)),
            Expr::Nested { path, inner } => format!("{path}{{{}}}", show(inner)),
            // EQL-only node (engine/eql_ext.rs); KQL never produces it.
            Expr::FieldContainsField {
                path, needle_path, ..
            } => format!("{path} contains {needle_path}"),
        }
    }

    fn matcher_str(m: &Matcher) -> String {
        match m {
            Matcher::Exists => " exists".into(),
            Matcher::Equals(Literal::Str(s)) => format!("={s:?}"),
            Matcher::Equals(Literal::Int(i)) => format!("={i}"),
            Matcher::Equals(Literal::Float(f)) => format!("={f:?}"),
            Matcher::Equals(Literal::Bool(b)) => format!("={b}"),
            Matcher::Equals(Literal::Null) => "=null".into(),
            Matcher::EqualsIgnoreCase(s) => format!("~{s:?}"),
            Matcher::Wildcard(w) => {
                let parts: Vec<String> = w
                    .tokens
                    .iter()
                    .map(|t| match t {
                        WildcardToken::Text(s) => format!("{s:?}"),
                        WildcardToken::Any => "*".into(),
                        WildcardToken::One => "?".into(),
                    })
                    .collect();
                format!(" like {}", parts.join(""))
            }
            Matcher::Range { op, bound } => {
                let op = match op {
                    RangeOp::Lt => "<",
                    RangeOp::Le => "<=",
                    RangeOp::Gt => ">",
                    RangeOp::Ge => ">=",
                };
                format!("{op}{bound:?}")
            }
            Matcher::Cidr(c) => format!(" in {}/{}", c.addr, c.prefix_len),
            // EQL-only matcher (engine/eql_ext.rs); KQL never produces it.
            Matcher::Regex(r) => format!(" regex {:?}", r.pattern),
        }
    }

    fn give(query: &str, want: &str) {
        match crate::query::kql::parse(query) {
            Ok(expr) => assert_eq!(show(&expr), want, "query: {query}"),
            Err(e) => panic!("query {query:?} failed:\n{}", e.render(query)),
        }
    }

    #[test]
    fn precedence_is_or_then_and_then_not() {
        give("a:1 or b:2 and c:3", "(or a=1 (and b=2 c=3))");
        give("(a:1 or b:2) and c:3", "(and (or a=1 b=2) c=3)");
        give("not a:1 and b:2", "(and (not a=1) b=2)");
        give("not not a:x", "(not (not a=\"x\"))");
        give("a:x and\n  b:y", "(and a=\"x\" b=\"y\")");
    }

    #[test]
    fn value_lists_distribute_over_the_field() {
        give(
            "f:(a or b and not c)",
            "(or f=\"a\" (and f=\"b\" (not f=\"c\")))",
        );
        give("f:(not a)", "(not f=\"a\")");
        give("f: not a", "(not f=\"a\")");
        give("f:((a or b) and c)", "(and (or f=\"a\" f=\"b\") f=\"c\")");
    }

    #[test]
    fn unquoted_literals_are_typed() {
        give("f:true", "f=true");
        give("f:false", "f=false");
        give("f:null", "f=null");
        give("f:5432", "f=5432");
        give("f:-1", "f=-1");
        give("f:1.5", "f=1.5");
        give("f:1e3", "f=1000.0");
        give("f:\"5432\"", "f=\"5432\"");
        give("f:\"true\"", "f=\"true\"");
        give("f:True", "f=\"True\"");
        give("f:99999999999999999999", "f=\"99999999999999999999\"");
        give("f:1.2.3", "f=\"1.2.3\"");
    }

    #[test]
    fn wildcards_exists_and_escapes() {
        give("f:*", "f exists");
        give("f:**", "f exists");
        give("f:Create*", "f like \"Create\"*");
        give("f:*a*b?*", "f like *\"a\"*\"b?\"*");
        give("f:\"Create*\"", "f=\"Create*\"");
        give(r"f:a\*b", "f=\"a*b\"");
        give(r"f:a\**", "f like \"a*\"*");
        give(
            r"f:arn\:aws\:sts\:\:*\:assumed-role/*",
            "f like \"arn:aws:sts::\"*\":assumed-role/\"*",
        );
        give(r"f:\(x\)\{\}\<\>\\\and\or", "f=\"(x){}<>\\\\andor\"");
        give(r#"f:\"x\""#, "f=\"\\\"x\\\"\"");
        give(r"f:a\tb", "f=\"a\\tb\"");
        give(
            r#"f:"a \"q\" \\ \t\n\r \x *""#,
            "f=\"a \\\"q\\\" \\\\ \\t\\n\\r \\\\x *\"",
        );
    }

    #[test]
    fn wildcards_may_span_spaces() {
        give("f:*S3 Browser*", "f like *\"S3 Browser\"*");
        give(
            "f:(*S3 Browser* or x) and g:y",
            "(and (or f like *\"S3 Browser\"* f=\"x\") g=\"y\")",
        );
        give("f:S3 B* and g:y", "(and f like \"S3 B\"* g=\"y\")");
    }

    #[test]
    fn ranges_nested_free_text_and_cidr() {
        give("f >= 400", "f>=Int(400)");
        give("f<\"b\"", "f<Str(\"b\")");
        give("f <= 1.5 and g > x", "(and f<=Float(1.5) g>Str(\"x\"))");
        give(
            "u:{name:alice and domain:corp}",
            "u{(and name=\"alice\" domain=\"corp\")}",
        );
        give("u:{a:{b:c}}", "u{a{b=\"c\"}}");
        give("alice", "*=\"alice\"");
        give("\"a b\" and f:x", "(and *=\"a b\" f=\"x\")");
        give("*", "* exists");
        give("ip:10.0.0.0/8", "(or ip in 10.0.0.0/8 ip=\"10.0.0.0/8\")");
        give(
            "ip:\"2001:db8::/32\"",
            "(or ip in 2001:db8::/32 ip=\"2001:db8::/32\")",
        );
        give("ip:10.0.0.0/33", "ip=\"10.0.0.0/33\"");
        give("\"event.action\":x", "event.action=\"x\"");
    }
}
