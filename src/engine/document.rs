//! The one-method-family lookup trait through which the engine sees events.

/// A value found at a field path. Borrowed from the document (computed values are cached by the
/// document so they can be borrowed too).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// A JSON number, with its textual form as it appears in the source.
    Number(&'a serde_json::Number),
    Str(&'a str),
    /// The path resolves to an object (only `Exists` looks at it).
    Object,
}

/// Read access to an event by dotted ECS field path.
pub trait Document {
    /// Calls `visit` for each value at `path`, lists flattened (a list of objects is walked element
    /// by element). Returns true as soon as `visit` returns true; false when no value satisfied it
    /// (including when the field is missing).
    fn any_value(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool;

    /// Calls `visit` for each leaf value of the whole document with its dotted path (for KQL free
    /// text). Same early-return contract as [`Document::any_value`].
    fn any_leaf(&self, visit: &mut dyn FnMut(&str, Value<'_>) -> bool) -> bool;

    /// Calls `visit` for each object at `path` (lists flattened), seen as a document of its own
    /// (for KQL nested queries). Same early-return contract.
    fn any_object(&self, path: &str, visit: &mut dyn FnMut(&dyn Document) -> bool) -> bool;
}

/// A [`Document`] over a nested JSON value (ECS documents as Elasticsearch stores them).
///
/// Keys are single path segments: a key that itself contains a dot is not split (the reference
/// evaluator, detection-rules `kql/evaluator.py` `get_terms`, does not split them either).
#[derive(Debug, Clone, Copy)]
pub struct JsonDocument<'a>(pub &'a serde_json::Value);

/// Splits `a.b.c` into `("a", Some("b.c"))` without allocating.
fn split_first(path: &str) -> (&str, Option<&str>) {
    match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    }
}

fn to_value(v: &serde_json::Value) -> Value<'_> {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n),
        serde_json::Value::String(s) => Value::Str(s),
        // Arrays are flattened by the walkers before they get here.
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => Value::Object,
    }
}

/// Calls `visit` on every non-array JSON value at `path` below `v` (lists flattened at every level).
fn walk<'v>(
    v: &'v serde_json::Value,
    path: Option<&str>,
    visit: &mut dyn FnMut(&'v serde_json::Value) -> bool,
) -> bool {
    match (v, path) {
        (serde_json::Value::Array(items), _) => items.iter().any(|item| walk(item, path, visit)),
        (_, None) => visit(v),
        (serde_json::Value::Object(map), Some(path)) => {
            let (head, rest) = split_first(path);
            map.get(head).is_some_and(|child| walk(child, rest, visit))
        }
        // A scalar where the path wants an object: nothing there.
        (_, Some(_)) => false,
    }
}

fn walk_leaves(
    v: &serde_json::Value,
    path: &mut String,
    visit: &mut dyn FnMut(&str, Value<'_>) -> bool,
) -> bool {
    match v {
        serde_json::Value::Array(items) => items.iter().any(|item| walk_leaves(item, path, visit)),
        serde_json::Value::Object(map) => map.iter().any(|(key, child)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let found = walk_leaves(child, path, visit);
            path.truncate(len);
            found
        }),
        scalar => visit(path, to_value(scalar)),
    }
}

impl Document for JsonDocument<'_> {
    fn any_value(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        walk(self.0, Some(path), &mut |v| visit(to_value(v)))
    }

    fn any_leaf(&self, visit: &mut dyn FnMut(&str, Value<'_>) -> bool) -> bool {
        let mut path = String::new();
        walk_leaves(self.0, &mut path, visit)
    }

    /// Scalars at `path` are visited too, as documents in which every field is missing: the
    /// reference evaluator (`check_nested`) runs the inner query on every term at the path, so
    /// `f:{ not g:x }` holds for a scalar `f`. Elasticsearch maps such fields as `nested` objects,
    /// where the case cannot arise.
    fn any_object(&self, path: &str, visit: &mut dyn FnMut(&dyn Document) -> bool) -> bool {
        walk(self.0, Some(path), &mut |v| {
            !v.is_null() && visit(&JsonDocument(v))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn strings(doc: &serde_json::Value, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        JsonDocument(doc).any_value(path, &mut |v| {
            out.push(format!("{v:?}"));
            false
        });
        out
    }

    #[test]
    fn walks_nested_objects_and_flattens_lists() {
        let doc = json!({"a": {"b": [{"c": "x"}, {"c": ["y", "z"]}, {"d": 1}]}});
        assert_eq!(
            strings(&doc, "a.b.c"),
            vec!["Str(\"x\")", "Str(\"y\")", "Str(\"z\")"]
        );
        assert!(strings(&doc, "a.b.e").is_empty());
        assert!(strings(&doc, "a.b.c.d").is_empty());
        assert_eq!(strings(&doc, "a.b").len(), 3);
    }

    #[test]
    fn dotted_keys_are_not_split() {
        let doc = json!({"a.b": "x"});
        assert!(strings(&doc, "a.b").is_empty());
    }

    #[test]
    fn stops_at_first_satisfying_value() {
        let doc = json!({"a": ["x", "y", "z"]});
        let mut seen = 0;
        let found = JsonDocument(&doc).any_value("a", &mut |v| {
            seen += 1;
            v == Value::Str("y")
        });
        assert!(found);
        assert_eq!(seen, 2);
    }

    #[test]
    fn leaves_carry_dotted_paths() {
        let doc = json!({"a": {"b": [1, {"c": true}]}, "d": null});
        let mut out = Vec::new();
        JsonDocument(&doc).any_leaf(&mut |path, v| {
            out.push(format!("{path}={v:?}"));
            false
        });
        assert_eq!(out.len(), 3);
        assert!(out.contains(&"a.b.c=Bool(true)".to_string()));
        assert!(out.contains(&"d=Null".to_string()));
    }

    #[test]
    fn objects_at_path_become_documents() {
        let doc = json!({"u": [{"n": "a"}, {"n": "b"}]});
        let mut names = Vec::new();
        JsonDocument(&doc).any_object("u", &mut |inner| {
            inner.any_value("n", &mut |v| {
                names.push(format!("{v:?}"));
                false
            });
            false
        });
        assert_eq!(names, vec!["Str(\"a\")", "Str(\"b\")"]);
    }
}
