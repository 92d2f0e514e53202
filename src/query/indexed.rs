//! A JSON document as Elasticsearch indexes it, for queries on documents a user wrote
//! (`trailwatch match`): keys with dots are object paths, so `{"event.action": "X"}`,
//! `{"event": {"action": "X"}}` and mixes of both are the same document.
//!
//! Elasticsearch's document parser expands a dotted field name into objects before mapping
//! (`{"a.b": 1}` is `{"a": {"b": 1}}`); values reaching one field from several places are all
//! indexed (`{"a.b": 1, "a": {"b": 2}}` gives `a.b` the values 1 and 2); a field that is both a
//! value and an object (`{"a": 1, "a.b": 2}`) is rejected with a mapping error, as is a field
//! name with an empty part (`"a..b"`, `".a"`, `"a."`). Arrays of objects need nothing here: the
//! engine's [`JsonDocument`](crate::engine::JsonDocument) already flattens them.
//!
//! The conformance data (Elastic's KQL vectors, the pipeline's documents) has no dotted keys and
//! the reference evaluator does not split them, which is why this is a separate step rather than
//! part of `JsonDocument`.
use serde_json::{Map, Value};

/// Why Elasticsearch would refuse to index the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("field `{0}` is both a value and an object (Elasticsearch rejects the document)")]
    ValueAndObject(String),
    #[error("field name {0:?} has an empty part (Elasticsearch rejects the document)")]
    EmptyName(String),
}

/// The document with every dotted key expanded into objects and merged with the objects already
/// there, at every depth (inside arrays too).
pub fn expand_dotted_keys(doc: Value) -> Result<Value, IndexError> {
    expand(doc, "")
}

fn expand(value: Value, at: &str) -> Result<Value, IndexError> {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, child) in map {
                let path = join(at, &key);
                if key.split('.').any(str::is_empty) {
                    return Err(IndexError::EmptyName(path));
                }
                let child = expand(child, &path)?;
                // `a.b.c: v` is `a: {b: {c: v}}`.
                let mut parts = key.rsplit('.');
                let last = parts.next().unwrap_or_default();
                let mut nested = child;
                let mut head = last;
                for part in parts {
                    nested = Value::Object(Map::from_iter([(head.to_owned(), nested)]));
                    head = part;
                }
                let slot = out.remove(head);
                let merged = match slot {
                    Some(old) => merge(old, nested, &join(at, head))?,
                    None => nested,
                };
                out.insert(head.to_owned(), merged);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .into_iter()
            .map(|item| expand(item, at))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        scalar => Ok(scalar),
    }
}

/// Two sets of values for the field `path`: objects merge key by key, anything else is
/// gathered into one array (the engine reads an array as the field's values).
fn merge(old: Value, new: Value, path: &str) -> Result<Value, IndexError> {
    match (old, new) {
        (Value::Object(mut into), Value::Object(from)) => {
            for (key, value) in from {
                let merged = match into.remove(&key) {
                    Some(existing) => merge(existing, value, &join(path, &key))?,
                    None => value,
                };
                into.insert(key, merged);
            }
            Ok(Value::Object(into))
        }
        (old, new) => {
            let mut items = Vec::new();
            flatten(old, &mut items);
            flatten(new, &mut items);
            let objects = items.iter().any(Value::is_object);
            let values = items.iter().any(|v| !v.is_object() && !v.is_null());
            if objects && values {
                return Err(IndexError::ValueAndObject(path.to_owned()));
            }
            Ok(Value::Array(items))
        }
    }
}

fn flatten(value: Value, into: &mut Vec<Value>) {
    match value {
        Value::Array(items) => items.into_iter().for_each(|item| flatten(item, into)),
        other => into.push(other),
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::engine::{matches, JsonDocument};
    use crate::query::kql;
    use serde_json::json;

    fn hits(query: &str, doc: Value) -> bool {
        let doc = expand_dotted_keys(doc).unwrap();
        matches(&kql::parse(query).unwrap(), &JsonDocument(&doc))
    }

    #[test]
    fn dotted_and_nested_forms_are_the_same_document() {
        let forms = [
            json!({"event.action": "X", "event.provider": "p"}),
            json!({"event": {"action": "X", "provider": "p"}}),
            json!({"event.provider": "p", "event": {"action": "X"}}),
            json!({"event": {"action": "X"}, "event.provider": "p"}),
        ];
        let expected = json!({"event": {"action": "X", "provider": "p"}});
        for form in forms {
            let expanded = expand_dotted_keys(form.clone()).unwrap();
            assert_eq!(
                expanded["event"]["action"], expected["event"]["action"],
                "{form}"
            );
            assert_eq!(
                expanded["event"]["provider"], expected["event"]["provider"],
                "{form}"
            );
            assert!(
                hits("event.action:X and event.provider:p", form.clone()),
                "{form}"
            );
            assert!(
                !hits("event.action:Y", form),
                "the values are kept, not made up"
            );
        }
    }

    #[test]
    fn deep_and_partial_dots_expand_at_every_level() {
        let doc = json!({"aws.cloudtrail": {"user_identity.arn": "a", "flattened": {"x.y": 1}}});
        assert!(hits("aws.cloudtrail.user_identity.arn:a", doc.clone()));
        assert!(hits("aws.cloudtrail.flattened.x.y:1", doc));
    }

    #[test]
    fn a_field_reached_twice_has_both_values() {
        let doc = json!({"a.b": 1, "a": {"b": 2}});
        assert_eq!(
            expand_dotted_keys(doc.clone()).unwrap(),
            json!({"a": {"b": [1, 2]}})
        );
        assert!(hits("a.b:1", doc.clone()) && hits("a.b:2", doc));
    }

    #[test]
    fn arrays_of_objects_are_expanded_and_flattened() {
        let doc = json!({"related": [{"user.name": "alice"}, {"user": {"name": "bob"}}]});
        assert!(hits("related.user.name:alice", doc.clone()));
        assert!(hits("related.user.name:bob", doc.clone()));
        assert!(!hits("related.user.name:carol", doc));
        // An object beside an array of objects at the same field joins the array.
        let doc = json!({"a": [{"x": 1}], "a.b": 2});
        assert!(hits("a.x:1 and a.b:2", doc));
    }

    #[test]
    fn what_elasticsearch_rejects_is_an_error() {
        assert_eq!(
            expand_dotted_keys(json!({"a": 1, "a.b": 2})),
            Err(IndexError::ValueAndObject("a".into()))
        );
        assert_eq!(
            expand_dotted_keys(json!({"x": {"a.b": {"c": 1}, "a": {"b": "v"}}})),
            Err(IndexError::ValueAndObject("x.a.b".into()))
        );
        for key in ["a..b", ".a", "a.", ""] {
            assert_eq!(
                expand_dotted_keys(json!({ key: 1 })),
                Err(IndexError::EmptyName(key.into())),
                "{key:?}"
            );
        }
    }

    #[test]
    fn documents_without_dots_are_unchanged() {
        let doc = json!({"event": {"action": ["A", "B"], "n": null}, "x": [1, [2, 3]]});
        assert_eq!(expand_dotted_keys(doc.clone()).unwrap(), doc);
    }
}
