//! A minimal CloudTrail → ECS mapping as plain nested JSON (read through `JsonDocument`), to
//! check that alerts depend only on the `Document` trait, not on the CloudTrail view. It follows
//! the key rows of docs/elastic-semantics.md §4; the `request_parameters` string is an
//! approximation (source key order, not Java HashMap order), which is all these tests need.
use serde_json::{json, Map, Value as Json};

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
pub fn ecs(record: &Json) -> Json {
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
    // Elasticsearch's date format prints milliseconds.
    let timestamp = r("/eventTime").and_then(|t| t.as_str().map(|t| t.replace('Z', ".000Z")));
    let mut doc = json!({
        "@timestamp": timestamp,
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
    prune(doc)
}

/// Drops nulls and empty objects, as the pipeline does.
fn prune(v: Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !v.is_null() && v.as_object().is_none_or(|o| !o.is_empty()))
                .collect::<Map<String, Json>>(),
        ),
        other => other,
    }
}
