//! Literal constraints an expression puts on a field, for indexing rules by field value.
use super::{Expr, Literal, Matcher};

/// The exact string values the field at `path` must equal for `expr` to be true, or `None` when
/// `expr` does not constrain that field to a finite set.
///
/// Only sound constraints are extracted: case-sensitive [`Matcher::Equals`] with a string literal
/// on exactly `path`, combined through `And` (intersection of the constrained conjuncts) and `Or`
/// (union, only when every branch is constrained). Anything under `Not`, nested queries, free
/// text, wildcards and case-insensitive tests give `None`. A document whose value at `path` is
/// none of the returned strings cannot match `expr` (a numeric value matches a string literal
/// only by its string form, see `matcher.rs`, so index by the value's string form). `Some` of an
/// empty list means `expr` can never be true.
pub fn required_equalities(expr: &Expr, path: &str) -> Option<Vec<String>> {
    let mut values = constraint(expr, path)?;
    values.sort();
    values.dedup();
    Some(values)
}

fn constraint(expr: &Expr, path: &str) -> Option<Vec<String>> {
    match expr {
        Expr::Field {
            path: p,
            matcher: Matcher::Equals(Literal::Str(s)),
        } if p == path => Some(vec![s.clone()]),
        Expr::False => Some(Vec::new()),
        Expr::Or(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(constraint(item, path)?);
            }
            Some(all)
        }
        Expr::And(items) => {
            let mut acc: Option<Vec<String>> = None;
            for set in items.iter().filter_map(|item| constraint(item, path)) {
                acc = Some(match acc {
                    None => set,
                    Some(prev) => prev.into_iter().filter(|v| set.contains(v)).collect(),
                });
            }
            acc
        }
        _ => None,
    }
}

/// Whether every document `expr` matches has a value at some path `absent` accepts. When those
/// paths are known to be missing from every document (an enrichment whose database is not
/// configured), such an expression can never be true.
///
/// A field clause needs a value at its path (Elasticsearch matches no term, wildcard, range or
/// `exists` query on a missing field), except an equality with `null` (EQL `f == null`); `And`
/// needs what any conjunct needs, `Or` what every branch needs; `Not` and everything else need
/// nothing.
pub fn requires_value(expr: &Expr, absent: &dyn Fn(&str) -> bool) -> bool {
    match expr {
        Expr::Field { path, matcher } => {
            absent(path) && !matches!(matcher, Matcher::Equals(Literal::Null))
        }
        Expr::And(items) => items.iter().any(|e| requires_value(e, absent)),
        Expr::Or(items) => !items.is_empty() && items.iter().all(|e| requires_value(e, absent)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::engine::Wildcard;

    fn eq(path: &str, s: &str) -> Expr {
        Expr::Field {
            path: path.into(),
            matcher: Matcher::Equals(Literal::Str(s.into())),
        }
    }

    fn strs(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn extracts_from_conjuncts_and_disjunctions() {
        let a = "event.action";
        let expr = Expr::And(vec![
            eq("event.provider", "rds.amazonaws.com"),
            Expr::Or(vec![eq(a, "B"), eq(a, "A"), eq(a, "A")]),
        ]);
        assert_eq!(required_equalities(&expr, a), strs(&["A", "B"]));
        assert_eq!(
            required_equalities(&expr, "event.provider"),
            strs(&["rds.amazonaws.com"])
        );
        assert_eq!(required_equalities(&expr, "event.outcome"), None);
    }

    #[test]
    fn intersects_constrained_conjuncts() {
        let a = "f";
        let expr = Expr::And(vec![
            Expr::Or(vec![eq(a, "x"), eq(a, "y")]),
            Expr::Or(vec![eq(a, "y"), eq(a, "z")]),
        ]);
        assert_eq!(required_equalities(&expr, a), strs(&["y"]));
        let never = Expr::And(vec![eq(a, "x"), eq(a, "y")]);
        assert_eq!(required_equalities(&never, a), strs(&[]));
    }

    #[test]
    fn works_on_lowered_kql() {
        let expr = crate::query::kql::parse(
            "event.dataset:aws.cloudtrail and event.provider:rds.amazonaws.com \
             and event.action:(CreateDBCluster or CreateGlobalCluster) and not event.outcome:failure",
        )
        .unwrap();
        assert_eq!(
            required_equalities(&expr, "event.action"),
            strs(&["CreateDBCluster", "CreateGlobalCluster"])
        );
        assert_eq!(required_equalities(&expr, "event.outcome"), None);
        let wild = crate::query::kql::parse("event.action:(Create* or DeleteDBCluster)").unwrap();
        assert_eq!(required_equalities(&wild, "event.action"), None);
    }

    #[test]
    fn unconstrained_shapes_give_none() {
        let a = "f";
        let wildcard = Expr::Field {
            path: a.into(),
            matcher: Matcher::Wildcard(Wildcard {
                tokens: vec![],
                case_insensitive: false,
            }),
        };
        let cases = [
            Expr::Not(Box::new(eq(a, "x"))),
            Expr::Or(vec![eq(a, "x"), eq("g", "y")]),
            Expr::Or(vec![eq(a, "x"), wildcard]),
            Expr::Field {
                path: a.into(),
                matcher: Matcher::EqualsIgnoreCase("x".into()),
            },
            Expr::Field {
                path: a.into(),
                matcher: Matcher::Equals(Literal::Int(5)),
            },
            Expr::Nested {
                path: "n".into(),
                inner: Box::new(eq(a, "x")),
            },
            Expr::AnyField(Matcher::Equals(Literal::Str("x".into()))),
            Expr::True,
            Expr::And(vec![]),
        ];
        for expr in cases {
            assert_eq!(required_equalities(&expr, a), None, "{expr:?}");
        }
    }

    #[test]
    fn a_clause_on_an_absent_field_makes_the_conjunction_impossible() {
        let absent = |p: &str| p.starts_with("source.as.");
        let asn = eq("source.as.organization.name", "VPN");
        let action = eq("event.action", "ListBuckets");
        assert!(requires_value(&asn, &absent));
        assert!(requires_value(
            &Expr::And(vec![action.clone(), asn.clone()]),
            &absent
        ));
        assert!(!requires_value(
            &Expr::Or(vec![action.clone(), asn.clone()]),
            &absent
        ));
        assert!(requires_value(
            &Expr::Or(vec![asn.clone(), asn.clone()]),
            &absent
        ));
        assert!(!requires_value(&Expr::Not(Box::new(asn)), &absent));
        assert!(!requires_value(&action, &absent));
        let is_null = Expr::Field {
            path: "source.as.number".into(),
            matcher: Matcher::Equals(Literal::Null),
        };
        assert!(!requires_value(&is_null, &absent));
    }
}
