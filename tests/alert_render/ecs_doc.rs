//! A minimal CloudTrail → ECS mapping and a nested-JSON `Document` over it, so the alert tests
//! do not depend on the real (lazy) CloudTrail view. It follows the key rows of
//! docs/elastic-semantics.md §4; the `request_parameters` string is an approximation (sorted
//! keys, not Java HashMap order), which is all these tests need.
use serde_json::{json, Map, Value as Json};
use trailwatch::engine::{Document, Value};

/// A `Document` over a nested ECS JSON object. Dotted keys in objects are honoured, lists
/// flattened, as Elasticsearch reads `_source`.
pub struct NestedDoc(pub Json);

fn leaf(v: &Json) -> Value<'_> {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n),
        Json::String(s) => Value::Str(s),
        Json::Array(_) | Json::Object(_) => Value::Object,
    }
}

/// Visits every value at `segments` below `v`; `Err(true)` stops early.
fn walk<'a>(v: &'a Json, segments: &[&str], visit: &mut dyn FnMut(&'a Json) -> bool) -> bool {
    match v {
        Json::Array(items) => items.iter().any(|i| walk(i, segments, visit)),
        _ if segments.is_empty() => visit(v),
        Json::Object(map) => (1..=segments.len()).any(|n| {
            map.get(&segments[..n].join("."))
                .is_some_and(|child| walk(child, &segments[n..], visit))
        }),
        _ => false,
    }
}

fn leaves(prefix: &str, v: &Json, visit: &mut dyn FnMut(&str, Value<'_>) -> bool) -> bool {
    match v {
        Json::Object(map) => map.iter().any(|(k, child)| {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            leaves(&path, child, visit)
        }),
        Json::Array(items) => items.iter().any(|i| leaves(prefix, i, visit)),
        other => visit(prefix, leaf(other)),
    }
}

impl Document for NestedDoc {
    fn any_value(&self, path: &str, visit: &mut dyn FnMut(Value<'_>) -> bool) -> bool {
        let segments: Vec<&str> = path.split('.').collect();
        walk(&self.0, &segments, &mut |v| visit(leaf(v)))
    }

    fn any_leaf(&self, visit: &mut dyn FnMut(&str, Value<'_>) -> bool) -> bool {
        leaves("", &self.0, visit)
    }

    fn any_object(&self, path: &str, visit: &mut dyn FnMut(&dyn Document) -> bool) -> bool {
        let segments: Vec<&str> = path.split('.').collect();
        walk(&self.0, &segments, &mut |v| {
            v.is_object() && visit(&NestedDoc(v.clone()))
        })
    }
}

/// `{k=v, k2=[a, b]}` without quotes, like Java's `Map.toString` (key order simplified).
fn java_string(v: &Json) -> String {
    match v {
        Json::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", java_string(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Json::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(java_string).collect::<Vec<_>>().join(", ")
            )
        }
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The ECS document Elastic's pipeline would make of a CloudTrail record (the fields alerts use).
pub fn ecs(record: &Json) -> NestedDoc {
    let r = |p: &str| record.pointer(p).filter(|v| !v.is_null()).cloned();
    let failed = r("/errorCode").is_some() || r("/errorMessage").is_some();
    let identity_type = r("/userIdentity/type");
    let user_name = match identity_type.as_ref().and_then(Json::as_str) {
        Some("AssumedRole" | "FederatedUser") => {
            r("/userIdentity/sessionContext/sessionIssuer/userName")
        }
        _ => r("/userIdentity/userName"),
    };
    let source = r("/sourceIPAddress");
    let is_ip = source
        .as_ref()
        .and_then(Json::as_str)
        .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok());
    let mut doc = json!({
        "@timestamp": r("/eventTime"),
        "event": {"kind": "event", "module": "aws", "dataset": "aws.cloudtrail",
            "provider": r("/eventSource"), "action": r("/eventName"), "id": r("/eventID"),
            "outcome": if failed { "failure" } else { "success" }},
        "cloud": {"provider": "aws", "region": r("/awsRegion"),
            "account": {"id": r("/userIdentity/accountId").or_else(|| r("/recipientAccountId"))}},
        "source": {"address": source, "ip": if is_ip { source.clone() } else { None }},
        "user_agent": {"original": r("/userAgent")},
        "user": {"name": user_name, "id": r("/userIdentity/principalId")},
        "aws": {"cloudtrail": {
            "user_identity": {"type": identity_type, "arn": r("/userIdentity/arn"),
                "access_key_id": r("/userIdentity/accessKeyId"), "invoked_by": r("/userIdentity/invokedBy"),
                "session_context": {"session_issuer": {
                    "type": r("/userIdentity/sessionContext/sessionIssuer/type"),
                    "arn": r("/userIdentity/sessionContext/sessionIssuer/arn")}}},
            "recipient_account_id": r("/recipientAccountId"),
            "error_code": r("/errorCode"), "error_message": r("/errorMessage"),
            "resources": r("/resources"),
        }},
    });
    if let Some(params) = r("/requestParameters").filter(Json::is_object) {
        let ct = &mut doc["aws"]["cloudtrail"];
        ct["request_parameters"] = Json::String(java_string(&params));
        ct["flattened"] = json!({ "request_parameters": params });
    }
    NestedDoc(prune(doc))
}

/// Drops nulls and empty objects, as the pipeline does.
fn prune(v: Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !v.is_null() && v.as_object().map_or(true, |o| !o.is_empty()))
                .collect::<Map<String, Json>>(),
        ),
        other => other,
    }
}
