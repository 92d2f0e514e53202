//! Structural tests of the lowering: the IR each EQL construct becomes.
#![allow(clippy::unwrap_used, clippy::panic)]
use super::{parse, parse_with_category_field};
use crate::engine::{Expr, Literal, Matcher, RangeOp, WildcardToken};
use crate::query::{ErrorKind, QueryError};

/// A compact S-expression of the IR, so an expectation fits on one line.
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
        Expr::AnyField(m) => format!("*{}", matcher_str(m)),
        Expr::Nested { path, inner } => format!("{path}{{{}}}", show(inner)),
        Expr::FieldContainsField {
            path,
            needle_path,
            case_insensitive,
        } => format!(
            "{path} contains{} {needle_path}",
            if *case_insensitive { "~" } else { "" }
        ),
    }
}

fn matcher_str(m: &Matcher) -> String {
    match m {
        Matcher::Exists => " exists".into(),
        Matcher::Equals(Literal::Str(s)) => format!("=={s:?}"),
        Matcher::Equals(l) => format!("=={l:?}"),
        Matcher::EqualsIgnoreCase(s) => format!(":{s:?}"),
        Matcher::Wildcard(w) => {
            let parts: String = w
                .tokens
                .iter()
                .map(|t| match t {
                    WildcardToken::Text(s) => format!("{s:?}"),
                    WildcardToken::Any => "*".into(),
                    WildcardToken::One => "?".into(),
                })
                .collect();
            format!(
                " {}{parts}",
                if w.case_insensitive {
                    "like~ "
                } else {
                    "like "
                }
            )
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
        Matcher::Regex(r) => format!(
            " regex{} {:?}",
            if r.case_insensitive { "~" } else { "" },
            r.pattern
        ),
    }
}

fn give(query: &str, want: &str) {
    let got = parse(query).unwrap_or_else(|e| panic!("{query}: {e:?}"));
    assert_eq!(show(&got), want, "{query}");
}

#[test]
fn comparisons() {
    give(r#"any where f == "a""#, r#"f=="a""#);
    give(r#"any where f == "a*""#, r#"f=="a*""#);
    give(r#"any where f != "a""#, r#"(not f=="a")"#);
    give("any where f == null", "(not f exists)");
    give("any where f != null", "f exists");
    give(r#"any where "a" == f"#, r#"f=="a""#);
    give(
        "any where 5 < f and f <= 7.5",
        "(and f>Int(5) f<=Float(7.5))",
    );
    give("any where f == -3", "f==Int(-3)");
    give("any where f == true", "f==Bool(true)");
}

#[test]
fn category_and_boolean_structure() {
    give("iam where true", r#"event.category=="iam""#);
    give(
        r#""my-cat" where f == 1"#,
        r#"(and event.category=="my-cat" f==Int(1))"#,
    );
    give("any where false", "false");
    give(
        r#"any where a == "1" and (b == "2" or c == "3") and not d == "4""#,
        r#"(and a=="1" (or b=="2" c=="3") (not d=="4"))"#,
    );
    let e = parse_with_category_field("info where true", "event.type").unwrap();
    assert_eq!(show(&e), r#"event.type=="info""#);
}

#[test]
fn in_and_case_insensitive_operators() {
    give(r#"any where f in ("a", 1)"#, r#"(or f=="a" f==Int(1))"#);
    give(r#"any where f not in ("a")"#, r#"(not f=="a")"#);
    give(r#"any where f in~ ("AbC", "x")"#, r#"(or f:"abc" f:"x")"#);
    give(r#"any where f : "AbC""#, r#"f:"abc""#);
    give(r#"any where f : ("A", "B*")"#, r#"(or f:"a" f like~ "b"*)"#);
}

#[test]
fn like_patterns_and_their_optimisations() {
    give(r#"any where f : "A*b?""#, r#"f like~ "a"*"b"?"#);
    give(r#"any where f like "a\\b*""#, r#"f like "a\\b"*"#);
    give(r#"any where f : "*""#, "f exists");
    give(r#"any where f like "**""#, "f exists");
    give(r#"any where f like "ab""#, r#"f=="ab""#);
    give(r#"any where f like~ "AB""#, r#"f:"ab""#);
    give(
        r#"any where wildcard(f, "a?", "b")"#,
        r#"(or f like "a"? f=="b")"#,
    );
}

#[test]
fn string_functions_follow_the_elasticsearch_translators() {
    // stringContains/endsWith: `*s*` / `*s`, with `s` itself in Lucene wildcard syntax.
    give(
        r#"any where stringContains(f, "a*b?c")"#,
        r#"f like *"a"*"b"?"c"*"#,
    );
    give(
        r#"any where stringContains(f, "a\\*b")"#,
        r#"f like *"a*b"*"#,
    );
    // A trailing backslash escapes the closing star ("*x\" + "*").
    give(r#"any where stringContains(f, "x\\")"#, r#"f like *"x*""#);
    give(r#"any where stringContains~(f, "AB")"#, r#"f like~ *"ab"*"#);
    give(r#"any where endsWith~(f, "X?")"#, r#"f like~ *"x"?"#);
    // startsWith is a prefix query: nothing is a wildcard.
    give(r#"any where startsWith(f, "a*?")"#, r#"f like "a*?"*"#);
    give(r#"any where STARTSWITH(f, "a")"#, r#"f like "a"*"#);
    give("any where stringContains(f, g)", "f contains g");
    give(
        r#"any where cidrMatch(ip, "10.0.0.0/8", "::1")"#,
        "(or ip in 10.0.0.0/8 ip in ::1/128)",
    );
    give(r#"any where f regex~ "a.*""#, r#"f regex~ "a.*""#);
    // Match.makeSubstitute joins the patterns with `|` into one regexp.
    give(r#"any where f regex ("a", "b")"#, r#"f regex "a|b""#);
}

#[test]
fn unsupported_and_invalid_function_uses() {
    for q in [
        r#"any where cidrMatch~(ip, "1.2.3.4")"#,
        r#"any where length(f) == 3"#,
        r#"any where between(f, "a", "b") == "x""#,
        r#"any where stringContains("abc", f)"#,
        r#"any where f[0] == 1"#,
        r#"any where f"#,
        r#"any where f : 1"#,
    ] {
        assert!(
            matches!(
                parse(q),
                Err(QueryError {
                    kind: ErrorKind::Unsupported,
                    ..
                })
            ),
            "{q}: {:?}",
            parse(q)
        );
    }
    let err = parse(r#"any where cidrMatch(ip, "10.0.0.0/40")"#).unwrap_err();
    assert!(matches!(err, QueryError { kind: ErrorKind::Syntax, span, .. } if span == (24..37)));
    let err = parse(r#"any where stringContains(f)"#).unwrap_err();
    assert!(matches!(err, QueryError { kind: ErrorKind::Syntax, span, .. } if span == (10..27)));
    let err = parse(r#"any where f regex "(a""#).unwrap_err();
    assert!(matches!(err, QueryError { kind: ErrorKind::Syntax, span, .. } if span == (18..22)));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "any where {}f == 1{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(matches!(
        parse(&deep),
        Err(QueryError {
            kind: ErrorKind::Syntax,
            ..
        })
    ));
    let nots = format!("any where {}f == 1", "not ".repeat(10_000));
    assert!(matches!(
        parse(&nots),
        Err(QueryError {
            kind: ErrorKind::Syntax,
            ..
        })
    ));
    let signs = format!("any where f == {}1", "- ".repeat(10_000));
    assert!(matches!(
        parse(&signs),
        Err(QueryError {
            kind: ErrorKind::Syntax,
            ..
        })
    ));
    let groups = format!(
        r#"any where f regex "{}a{}""#,
        "(".repeat(5_000),
        ")".repeat(5_000)
    );
    assert!(matches!(
        parse(&groups),
        Err(QueryError {
            kind: ErrorKind::Syntax,
            ..
        })
    ));
    let stars = format!(r#"any where f regex "a{}""#, "*".repeat(5_000));
    assert!(matches!(
        parse(&stars),
        Err(QueryError {
            kind: ErrorKind::Syntax,
            ..
        })
    ));
    // Long flat alternations and conjunctions are fine.
    let alts = format!(r#"any where f regex "{}b""#, "a|".repeat(5_000));
    assert!(parse(&alts).is_ok());
    let ands = format!("any where f == 1{}", " and f == 1".repeat(5_000));
    assert!(parse(&ands).is_ok());
}

/// Random queries assembled from EQL fragments never panic, and every syntax error's span lies
/// on character boundaries inside the query.
#[test]
fn random_queries_never_panic_and_spans_stay_inside() {
    const FRAGMENTS: &[&str] = &[
        "any",
        "iam",
        "where",
        " ",
        "f",
        ".",
        "g",
        "`x y`",
        "==",
        "!=",
        ":",
        "<",
        ">=",
        "(",
        ")",
        ",",
        "\"s\"",
        "\"a*?\"",
        "\"\"\"r\\\"\"\"",
        "\"\\u{e9}\"",
        "é",
        "1",
        "2.5",
        "-",
        "+",
        "*",
        "and",
        "or",
        "not",
        "in",
        "in~",
        "like",
        "like~",
        "regex",
        "regex~",
        "\"[a-\"",
        "null",
        "true",
        "stringContains",
        "stringContains~",
        "startsWith",
        "cidrMatch",
        "\"10.0.0.0/8\"",
        "|",
        "head",
        "sequence",
        "[",
        "]",
        "?",
        "'",
        "/*",
        "*/",
        "//",
        "\n",
        "\\",
        "~",
        "=",
    ];
    let mut seed: u64 = 0x05ee_de01;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    for _ in 0..20_000 {
        let mut q = String::from(if next() % 4 == 0 { "" } else { "any where " });
        for _ in 0..next() % 14 {
            q.push_str(FRAGMENTS[next() % FRAGMENTS.len()]);
            if next() % 2 == 0 {
                q.push(' ');
            }
        }
        if let Err(QueryError {
            kind: ErrorKind::Syntax,
            span,
            ..
        }) = parse(&q)
        {
            assert!(
                span.start <= span.end
                    && span.end <= q.len()
                    && q.is_char_boundary(span.start)
                    && q.is_char_boundary(span.end),
                "{q:?}: {span:?}"
            );
        }
    }
}
