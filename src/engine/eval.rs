//! The evaluator: one function over the IR.
use super::matcher::matches_value;
use super::{Document, Expr};

/// Whether `doc` satisfies `expr`.
///
/// Field tests are existential over the values at the path (lists flattened), so a missing field
/// satisfies no test and `Not` of a test holds for it, like Elasticsearch's `must_not`.
pub fn matches(expr: &Expr, doc: &dyn Document) -> bool {
    match expr {
        Expr::True => true,
        Expr::False => false,
        Expr::And(items) => items.iter().all(|e| matches(e, doc)),
        Expr::Or(items) => items.iter().any(|e| matches(e, doc)),
        Expr::Not(inner) => !matches(inner, doc),
        Expr::Field { path, matcher } => doc.any_value(path, &mut |v| matches_value(matcher, v)),
        Expr::AnyField(matcher) => doc.any_leaf(&mut |_, v| matches_value(matcher, v)),
        Expr::Nested { path, inner } => doc.any_object(path, &mut |obj| matches(inner, obj)),
        Expr::FieldContainsField {
            path,
            needle_path,
            case_insensitive,
        } => super::eql_ext::field_contains_field(doc, path, needle_path, *case_insensitive),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::engine::{JsonDocument, Literal, Matcher};
    use serde_json::json;

    fn field(path: &str, matcher: Matcher) -> Expr {
        Expr::Field {
            path: path.into(),
            matcher,
        }
    }

    fn eq(path: &str, s: &str) -> Expr {
        field(path, Matcher::Equals(Literal::Str(s.into())))
    }

    #[test]
    fn missing_field_fails_the_test_and_passes_its_negation() {
        let doc = json!({"a": "x"});
        let doc = JsonDocument(&doc);
        assert!(!matches(&eq("b", "x"), &doc));
        assert!(matches(&Expr::Not(Box::new(eq("b", "x"))), &doc));
        assert!(!matches(&field("b", Matcher::Exists), &doc));
    }

    #[test]
    fn exists_is_false_for_null_and_empty_list_true_for_empty_string() {
        for (doc, want) in [
            (json!({"a": null}), false),
            (json!({"a": []}), false),
            (json!({"a": [null]}), false),
            (json!({"a": ""}), true),
            (json!({"a": {"b": 1}}), true),
        ] {
            assert_eq!(
                matches(&field("a", Matcher::Exists), &JsonDocument(&doc)),
                want,
                "{doc}"
            );
        }
    }

    #[test]
    fn any_value_of_a_list_satisfies_the_test() {
        let doc = json!({"a": [{"b": "x"}, {"b": ["y", "z"]}]});
        assert!(matches(&eq("a.b", "z"), &JsonDocument(&doc)));
        assert!(!matches(&eq("a.b", "w"), &JsonDocument(&doc)));
    }

    #[test]
    fn nested_queries_need_one_object_satisfying_all() {
        let doc = json!({"u": [{"n": "a", "d": "x"}, {"n": "b", "d": "y"}]});
        let inner = |n: &str, d: &str| Expr::Nested {
            path: "u".into(),
            inner: Box::new(Expr::And(vec![eq("n", n), eq("d", d)])),
        };
        assert!(matches(&inner("a", "x"), &JsonDocument(&doc)));
        assert!(!matches(&inner("a", "y"), &JsonDocument(&doc)));
    }

    #[test]
    fn free_text_searches_every_leaf() {
        let doc = json!({"a": {"b": ["x", 5]}, "c": true});
        let any = |lit| Expr::AnyField(Matcher::Equals(lit));
        assert!(matches(&any(Literal::Int(5)), &JsonDocument(&doc)));
        assert!(matches(&any(Literal::Str("x".into())), &JsonDocument(&doc)));
        assert!(!matches(
            &any(Literal::Str("y".into())),
            &JsonDocument(&doc)
        ));
    }
}
