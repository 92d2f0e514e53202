//! Reading alert fields out of any [`Document`], and the canonical bytes of a record.
use serde_json::{Map, Value as Json};

use super::text::truncate_chars;
use crate::engine::{Document, Value};

/// All values at `path` as JSON: one value, a list when the document has several (lists are
/// flattened by the Document contract), `None` when missing or null. Objects are rebuilt from
/// their leaves (dotted leaf paths become nested keys).
pub fn read(doc: &dyn Document, path: &str) -> Option<Json> {
    let mut values = Vec::new();
    let mut has_object = false;
    doc.any_value(path, &mut |v| {
        match v {
            Value::Null => {}
            Value::Bool(b) => values.push(Json::Bool(b)),
            Value::Number(n) => values.push(Json::Number(n.clone())),
            Value::Str(s) => values.push(Json::String(s.to_string())),
            Value::Object => has_object = true,
        }
        false
    });
    if has_object {
        doc.any_object(path, &mut |sub| {
            let obj = object_from_leaves(sub);
            if !obj.is_empty() {
                values.push(Json::Object(obj));
            }
            false
        });
    }
    match values.len() {
        0 => None,
        1 => values.pop(),
        _ => Some(Json::Array(values)),
    }
}

/// The first value at `path` as text (numbers and booleans in their JSON form).
pub fn read_string(doc: &dyn Document, path: &str) -> Option<String> {
    let mut out = None;
    doc.any_value(path, &mut |v| {
        out = match v {
            Value::Str(s) => Some(s.to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null | Value::Object => None,
        };
        out.is_some()
    });
    out
}

fn object_from_leaves(doc: &dyn Document) -> Map<String, Json> {
    let mut root = Map::new();
    doc.any_leaf(&mut |path, v| {
        let leaf = match v {
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => Json::Number(n.clone()),
            Value::Str(s) => Json::String(s.to_string()),
            Value::Null | Value::Object => return false,
        };
        insert_dotted(&mut root, path, leaf);
        false
    });
    root
}

/// Inserts `leaf` at a dotted path; a second value at the same path turns it into a list.
fn insert_dotted(root: &mut Map<String, Json>, path: &str, leaf: Json) {
    let mut parts = path.split('.').peekable();
    let mut node = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            match node.get_mut(part) {
                Some(Json::Array(items)) => items.push(leaf),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Json::Array(vec![first, leaf]);
                }
                None => {
                    node.insert(part.to_string(), leaf);
                }
            }
            return;
        }
        let entry = node
            .entry(part.to_string())
            .or_insert_with(|| Json::Object(Map::new()));
        if !entry.is_object() {
            // A scalar and an object at the same path (not valid ECS): keep the scalar under "".
            let scalar = entry.take();
            let mut m = Map::new();
            m.insert(String::new(), scalar);
            *entry = Json::Object(m);
        }
        match entry {
            Json::Object(m) => node = m,
            _ => return,
        }
    }
}

/// JSON with object keys sorted at every level and no whitespace: the same record always gives
/// the same bytes, whatever the key order it was read with.
pub fn canonical_json(value: &Json) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Json, out: &mut String) {
    match value {
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String((*k).clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(*k) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A displayed key (its dotted path) is cut to this many characters: keys are attacker text
/// like values, which the renderers cut too.
pub const MAX_KEY_CHARS: usize = 200;

/// Flattens a JSON object to `dotted.key: value` pairs for display: nested objects join keys with
/// dots, list elements that are objects get `[i]`, lists of scalars are joined with ", ".
/// Keys are at most [`MAX_KEY_CHARS`] characters (cut with `…`).
pub fn flatten_for_display(map: &Map<String, Json>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in map {
        flatten_into(k.clone(), v, &mut out);
    }
    out
}

fn flatten_into(prefix: String, value: &Json, out: &mut Vec<(String, String)>) {
    // Cut at every level, so a deep path of long keys costs its length once, not once per level.
    let prefix = if prefix.len() > MAX_KEY_CHARS {
        truncate_chars(&prefix, MAX_KEY_CHARS)
    } else {
        prefix
    };
    match value {
        Json::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten_into(format!("{prefix}.{k}"), v, out);
            }
        }
        Json::Array(items) if items.iter().any(|v| v.is_object() || v.is_array()) => {
            for (i, v) in items.iter().enumerate() {
                flatten_into(format!("{prefix}[{i}]"), v, out);
            }
        }
        Json::Array(items) => {
            let joined: Vec<String> = items.iter().map(scalar_text).collect();
            out.push((prefix, joined.join(", ")));
        }
        other => out.push((prefix, scalar_text(other))),
    }
}

/// A scalar as display text: strings without quotes.
pub fn scalar_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a: Json = serde_json::from_str(r#"{"b":1,"a":{"d":[1,{"z":0,"y":"é"}],"c":null}}"#)
            .unwrap_or_default();
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":null,"d":[1,{"y":"é","z":0}]},"b":1}"#
        );
    }

    #[test]
    fn insert_dotted_builds_nested_objects_and_lists() {
        let mut m = Map::new();
        insert_dotted(&mut m, "a.b", json!(1));
        insert_dotted(&mut m, "a.b", json!(2));
        insert_dotted(&mut m, "c", json!("x"));
        assert_eq!(Json::Object(m), json!({"a": {"b": [1, 2]}, "c": "x"}));
    }

    #[test]
    fn flatten_for_display_dots_nested_keys() {
        let v = json!({"a": {"b": 1, "c": ["x", "y"]}, "l": [{"k": true}], "s": "t"});
        let Json::Object(m) = v else { unreachable!() };
        let got = flatten_for_display(&m);
        let want = [
            ("a.b", "1"),
            ("a.c", "x, y"),
            ("l[0].k", "true"),
            ("s", "t"),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn request_parameter_keys_are_length_capped() {
        let long = "k".repeat(5_000);
        let v = json!({ &long: { &long: "v" }, "short": 1 });
        let Json::Object(m) = v else { unreachable!() };
        let got = flatten_for_display(&m);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.chars().count(), MAX_KEY_CHARS);
        assert!(got[0].0.ends_with('…') && got[0].1 == "v", "{got:?}");
        assert_eq!(got[1], ("short".to_string(), "1".to_string()));
    }
}
