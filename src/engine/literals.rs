//! Texts a document must contain for an expression to be true, for a raw-byte prefilter.
//!
//! [`required_texts`] answers: which strings must occur, one of them at least, inside the value
//! of some field for `expr` to match? The caller says which fields are *verbatim*: every string
//! value the document shows at such a path is a substring of a JSON string of the raw input (for
//! the CloudTrail view, `user_agent.original` is `userAgent` as it is). When the raw input
//! contains no backslash, a JSON string's bytes are its value, so a raw input containing none of
//! the texts cannot match — the prefilter's soundness argument (`src/engine/dispatch.rs`).
//!
//! A text is a necessary condition only: the evaluator still decides, so a rule is never asked
//! to match less. Anything not provably required gives `None` (no prefilter for that rule).
use super::number::{parse_py_float, parse_py_int};
use super::{Expr, Literal, Matcher, WildcardToken};

/// The texts of which at least one occurs verbatim in a value at a `verbatim` path of every
/// document `expr` matches, sorted and deduplicated; `None` when no such set is known.
/// `Some` of an empty list means `expr` can never be true.
///
/// - `Or`: the union of its branches' sets (`None` if a branch has none);
/// - `And`: the most selective conjunct's set (the one whose shortest text is longest);
/// - `Not`, nested queries, free text, ranges, CIDRs, regular expressions: `None`;
/// - a case-sensitive string [`Matcher::Equals`] on a verbatim path: the literal, unless the
///   literal could also equal a number or boolean (KQL typing, `matcher.rs`: `"5"` matches `5`,
///   `"1"` matches `true`), whose raw text is not the literal;
/// - a case-sensitive [`Matcher::Wildcard`] (EQL `stringContains`, `like`, `:` with `*`, KQL
///   wildcards) on a verbatim path: its longest literal piece, unless that piece could be part of
///   a number's string form (a number in a keyword field matches by its Python-style form, which
///   is not its raw text; a boolean's form `true`/`false` is its raw text);
/// - case-insensitive matchers: `None` (Unicode case folding maps non-ASCII text, e.g. `K` KELVIN
///   SIGN to `k`, so no set of byte strings is cheap and safe).
///
/// Texts holding `"`, `\`, control characters or U+FFFD are never returned: in raw JSON the first
/// three are always escaped, and U+FFFD may stand for bytes the input did not hold.
pub fn required_texts(expr: &Expr, verbatim: &dyn Fn(&str) -> bool) -> Option<Vec<String>> {
    let mut texts = texts(expr, verbatim)?;
    texts.sort();
    texts.dedup();
    Some(texts)
}

fn texts(expr: &Expr, verbatim: &dyn Fn(&str) -> bool) -> Option<Vec<String>> {
    match expr {
        Expr::False => Some(Vec::new()),
        Expr::Or(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(texts(item, verbatim)?);
            }
            Some(all)
        }
        Expr::And(items) => items
            .iter()
            .filter_map(|item| texts(item, verbatim))
            .max_by_key(|set| selectivity(set)),
        Expr::Field { path, matcher } if verbatim(path) => matcher_text(matcher).map(|t| vec![t]),
        Expr::True
        | Expr::Not(_)
        | Expr::Field { .. }
        | Expr::AnyField(_)
        | Expr::Nested { .. }
        | Expr::FieldContainsField { .. } => None,
    }
}

/// Orders candidate sets: an empty set (never true) first, then the longer shortest text up to
/// 8 bytes (rarer in records), then fewer texts (each is one search through the record: one
/// `AWSService` beats eleven `*.amazonaws.com` service names), then the longer shortest text.
fn selectivity(set: &[String]) -> (usize, std::cmp::Reverse<usize>, usize) {
    let shortest = set.iter().map(String::len).min().unwrap_or(usize::MAX);
    (shortest.min(8), std::cmp::Reverse(set.len()), shortest)
}

fn matcher_text(matcher: &Matcher) -> Option<String> {
    match matcher {
        Matcher::Equals(Literal::Str(s)) => {
            let typed = parse_py_int(s).is_some() || parse_py_float(s).is_some();
            (searchable(s) && !typed).then(|| s.clone())
        }
        Matcher::Wildcard(w) if !w.case_insensitive => w
            .tokens
            .iter()
            .filter_map(|t| match t {
                WildcardToken::Text(s) if searchable(s) && !number_piece(s) => Some(s),
                _ => None,
            })
            .max_by_key(|s| s.len())
            .cloned(),
        _ => None,
    }
}

/// Whether `s` can be searched for in raw JSON as it is (see [`required_texts`]).
fn searchable(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c == '"' || c == '\\' || c < ' ' || c == '\u{FFFD}')
}

/// Whether `s` could be part of the string form of a JSON number (`write_json_number`: digits,
/// sign, point, exponent; `inf`/`nan` for completeness).
fn number_piece(s: &str) -> bool {
    s.chars().all(|c| "0123456789+-.eEinfa".contains(c))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    const VERBATIM: [&str; 3] = ["user_agent.original", "user.name", "event.provider"];

    fn texts_of_eql(query: &str) -> Option<Vec<String>> {
        let expr = crate::query::eql::parse(query).unwrap();
        required_texts(&expr, &|p| VERBATIM.contains(&p))
    }

    fn texts_of_kql(query: &str) -> Option<Vec<String>> {
        let expr = crate::query::kql::parse(query).unwrap();
        required_texts(&expr, &|p| VERBATIM.contains(&p))
    }

    fn some(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn eql_queries_to_texts() {
        let cases: &[(&str, Option<Vec<String>>)] = &[
            (
                r#"any where data_stream.dataset == "aws.cloudtrail" and event.outcome == "success"
                   and (stringContains(user_agent.original, "distrib#kali")
                        or stringContains(user_agent.original, "TruffleHog"))"#,
                some(&["TruffleHog", "distrib#kali"]),
            ),
            // Derived or constant fields give nothing.
            (r#"any where event.outcome == "success""#, None),
            (
                r#"any where user_agent.original == "Boto3/1.0""#,
                some(&["Boto3/1.0"]),
            ),
            // `:` and `~` are case-insensitive: nothing.
            (r#"any where user_agent.original : "boto3""#, None),
            (
                r#"any where stringContains~(user_agent.original, "kali")"#,
                None,
            ),
            (r#"any where user_agent.original like~ "*kali*""#, None),
            // like: the longest literal piece.
            (
                r#"any where user_agent.original like "ab*kali-linux?x""#,
                some(&["kali-linux"]),
            ),
            (
                r#"any where startsWith(user.name, "BedrockAPIKey-")"#,
                some(&["BedrockAPIKey-"]),
            ),
            (r#"any where endsWith(user.name, "-svc")"#, some(&["-svc"])),
            // An escaped stringContains needle keeps the literal character.
            (
                r#"any where stringContains(user_agent.original, "a\\*b")"#,
                some(&["a*b"]),
            ),
            // One branch without a text spoils the disjunction.
            (
                r#"any where stringContains(user_agent.original, "kali") or event.outcome == "failure""#,
                None,
            ),
            // A conjunction takes its most selective conjunct.
            (
                r#"any where user.name == "IAMUser" and user_agent.original like "BedrockAPIKey-*""#,
                some(&["BedrockAPIKey-"]),
            ),
            (
                r#"any where user.name == "alice" and user_agent.original in ("a1", "b2", "c")"#,
                some(&["alice"]),
            ),
            (
                r#"any where not stringContains(user_agent.original, "kali")"#,
                None,
            ),
            (r#"any where user_agent.original != "kali""#, None),
            (r#"any where user_agent.original regex "kali.*""#, None),
            (
                r#"any where stringContains(user_agent.original, user.name)"#,
                None,
            ),
        ];
        for (query, want) in cases {
            assert_eq!(&texts_of_eql(query), want, "{query}");
        }
    }

    #[test]
    fn kql_queries_to_texts() {
        let cases: &[(&str, Option<Vec<String>>)] = &[
            (
                "event.dataset:aws.cloudtrail and user.name:BedrockAPIKey-* \
                 and not event.provider:bedrock.amazonaws.com",
                some(&["BedrockAPIKey-"]),
            ),
            (
                "user_agent.original:(*kali* or \"Boto3\")",
                some(&["Boto3", "kali"]),
            ),
            // Literals a number or boolean could equal, and pieces of a number's form.
            ("user.name:5", None),
            ("user.name:\"1\"", None),
            ("user.name:\"1e5\"", None),
            ("user.name:\"inf\"", None),
            ("user.name:*1.5e*", None),
            ("user.name:*1.5x*", some(&["1.5x"])),
            // Characters raw JSON always escapes.
            ("user.name:\"a\\\"b\"", None),
            ("user.name:*", None),
            ("kali", None),
            ("user.name:{ first:x }", None),
        ];
        for (query, want) in cases {
            assert_eq!(&texts_of_kql(query), want, "{query}");
        }
    }

    #[test]
    fn unsearchable_texts_and_constants() {
        let field = |s: &str| Expr::Field {
            path: "user.name".into(),
            matcher: Matcher::Equals(Literal::Str(s.into())),
        };
        let verbatim = |p: &str| p == "user.name";
        for bad in ["", "a\\b", "tab\there", "bad\u{FFFD}"] {
            assert_eq!(required_texts(&field(bad), &verbatim), None, "{bad:?}");
        }
        assert_eq!(required_texts(&field("ok"), &verbatim), some(&["ok"]));
        assert_eq!(required_texts(&field("ok"), &|_| false), None);
        assert_eq!(required_texts(&Expr::False, &verbatim), some(&[]));
        assert_eq!(required_texts(&Expr::True, &verbatim), None);
        // A never-true conjunct makes the conjunction never true.
        let never = Expr::And(vec![field("abc"), Expr::False]);
        assert_eq!(required_texts(&never, &verbatim), some(&[]));
        let either = Expr::Or(vec![field("b"), field("a"), field("b")]);
        assert_eq!(required_texts(&either, &verbatim), some(&["a", "b"]));
    }
}
