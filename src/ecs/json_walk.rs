//! Walking CloudTrail JSON as the pipeline leaves it: values its `remove-nulls` script deletes
//! (null, `""`, `"-"`, `"none"`, empty maps and lists) are invisible, lists are flattened.

use super::java_map::is_dropped;
use crate::engine::{Document, Value};
use serde_json::Value as Json;

/// The value at `keys` below `root`, walking objects only (an ingest `rename` of `a.b` does not
/// go through lists); `None` when missing or dropped by the pipeline.
pub(crate) fn get_path<'a>(root: &'a Json, keys: &[&str]) -> Option<&'a Json> {
    let mut cur = root;
    for k in keys {
        cur = cur.as_object()?.get(*k)?;
    }
    (!is_dropped(cur)).then_some(cur)
}

/// The string at `keys`, if it is a string the pipeline keeps.
pub(crate) fn get_str<'a>(root: &'a Json, keys: &[&str]) -> Option<&'a str> {
    get_path(root, keys)?.as_str()
}

/// Calls `visit` with `v` (a list: with each kept element, recursively). Objects are reported as
/// [`Value::Object`].
pub(crate) fn visit_json(v: &Json, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => visit(Value::Bool(*b)),
        Json::Number(n) => visit(Value::Number(n)),
        Json::String(s) => !is_dropped(v) && visit(Value::Str(s)),
        Json::Array(a) => a.iter().any(|x| visit_json(x, visit)),
        Json::Object(_) => !is_dropped(v) && visit(Value::Object),
    }
}

/// Calls `visit` for the values at the dotted `rest` below `v`, the way Elasticsearch's
/// `flattened` field type keys its leaves: lists are transparent and a key that itself contains
/// dots (`"x-amz.foo"`) is reached by the same dotted path as nested objects would be.
pub(crate) fn visit_path(v: &Json, rest: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
    match v {
        Json::Object(m) => {
            m.get(rest).is_some_and(|child| visit_json(child, visit))
                || splits(rest).any(|(head, tail)| {
                    m.get(head)
                        .is_some_and(|child| visit_path(child, tail, visit))
                })
        }
        Json::Array(a) => a.iter().any(|x| visit_path(x, rest, visit)),
        _ => false,
    }
}

/// The ways to split a dotted path into a key and the rest (`a.b.c` → (`a`, `b.c`),
/// (`a.b`, `c`)): hashed lookups of each candidate key instead of a scan of the object.
fn splits(path: &str) -> impl Iterator<Item = (&str, &str)> {
    path.match_indices('.')
        .map(move |(i, _)| (&path[..i], &path[i + 1..]))
}

/// Calls `visit(path, value)` for each kept leaf below `v`, `path` being `prefix` extended with
/// the keys walked (lists add nothing). `buf` is scratch space for the paths.
pub(crate) fn visit_leaves(
    v: &Json,
    buf: &mut String,
    visit: &mut dyn FnMut(&str, Value<'_>) -> bool,
) -> bool {
    match v {
        Json::Object(m) => m.iter().any(|(k, child)| {
            if is_dropped(child) {
                return false;
            }
            let len = buf.len();
            if !buf.is_empty() {
                buf.push('.');
            }
            buf.push_str(k);
            let hit = visit_leaves(child, buf, visit);
            buf.truncate(len);
            hit
        }),
        Json::Array(a) => a.iter().any(|x| visit_leaves(x, buf, visit)),
        leaf => visit_json(leaf, &mut |val| visit(buf, val)),
    }
}

/// Calls `visit` for each kept object at the dotted `rest` below `v` (lists flattened); an empty
/// `rest` means `v` itself.
pub(crate) fn visit_objects<'a>(
    v: &'a Json,
    rest: &str,
    visit: &mut dyn FnMut(&'a Json) -> bool,
) -> bool {
    if rest.is_empty() {
        return match v {
            Json::Object(_) => !is_dropped(v) && visit(v),
            Json::Array(a) => a.iter().any(|x| visit_objects(x, rest, visit)),
            _ => false,
        };
    }
    match v {
        Json::Object(m) => {
            m.get(rest)
                .is_some_and(|child| visit_objects(child, "", visit))
                || splits(rest).any(|(head, tail)| {
                    m.get(head)
                        .is_some_and(|child| visit_objects(child, tail, visit))
                })
        }
        Json::Array(a) => a.iter().any(|x| visit_objects(x, rest, visit)),
        _ => false,
    }
}

/// A [`Document`] over a piece of CloudTrail JSON as the pipeline keeps it (the objects inside
/// `aws.cloudtrail.flattened.*`, for KQL nested queries).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PrunedJson<'a>(pub(crate) &'a Json);

impl Document for PrunedJson<'_> {
    fn any_value(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        visit_path(self.0, path, visit)
    }

    fn any_leaf(&self, visit: &mut dyn FnMut(&str, Value<'_>) -> bool) -> bool {
        visit_leaves(self.0, &mut String::new(), visit)
    }

    fn any_object(&self, path: &str, visit: &mut dyn FnMut(&dyn Document) -> bool) -> bool {
        visit_objects(self.0, path, &mut |o| visit(&PrunedJson(o)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(v: &Json, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        visit_path(v, path, &mut |x| {
            out.push(format!("{x:?}"));
            false
        });
        out
    }

    #[test]
    fn dropped_values_are_invisible() {
        let v = json!({"a": "-", "b": ["", "x", null], "c": {"d": "none"}});
        assert!(values(&v, "a").is_empty());
        assert_eq!(values(&v, "b"), vec!["Str(\"x\")"]);
        assert!(values(&v, "c").is_empty());
        assert!(values(&v, "c.d").is_empty());
    }

    #[test]
    fn lists_of_objects_are_walked_element_by_element() {
        let v = json!({"items": [{"id": "a"}, {"id": "b"}, {"other": 1}]});
        assert_eq!(values(&v, "items.id"), vec!["Str(\"a\")", "Str(\"b\")"]);
    }

    #[test]
    fn dotted_keys_are_reached_by_dotted_paths() {
        let v = json!({"x.y": 1, "x": {"z": true}});
        assert_eq!(values(&v, "x.y").len(), 1);
        assert_eq!(values(&v, "x.z"), vec!["Bool(true)"]);
    }

    #[test]
    fn leaves_carry_their_paths() {
        let v = json!({"a": {"b": [1, {"c": "d"}]}, "e": ""});
        let mut seen = Vec::new();
        visit_leaves(&v, &mut String::new(), &mut |p, _| {
            seen.push(p.to_owned());
            false
        });
        assert_eq!(seen, vec!["a.b", "a.b.c"]);
    }
}
